"""Pruebas de labkit.models: metadatos comprobados al guardar y al cargar (sin red)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labkit.base import LabkitError
from labkit.models import (
    create_model,
    load_checkpoint,
    model_info,
    read_checkpoint,
    save_checkpoint,
)
from labkit.models._checkpointmeta import checksum


def _model(k: int = 4, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_model("cnn_pequena", num_classes=k, pretrained=False)


def test_classes_must_match_the_head_on_save(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "m.pt", classes=list("abcd"))
    before = path.read_bytes()
    with pytest.raises(LabkitError, match="1 nombres de clase.*4 salidas"):
        save_checkpoint(_model(seed=1), path, classes=["a"])
    with pytest.raises(LabkitError, match="lista de nombres"):
        save_checkpoint(_model(seed=1), path, classes="abcd")
    assert path.read_bytes() == before  # el checkpoint anterior sigue intacto
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_nan_weights_refused_on_save_keeping_the_old_file(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "m.pt")
    before = path.read_bytes()
    broken = _model(seed=1)
    with torch.no_grad():
        broken.features[0][0].weight.fill_(float("nan"))
    with pytest.raises(LabkitError, match="NaN o infinitos"):
        save_checkpoint(broken, path)
    assert path.read_bytes() == before


def test_nan_weights_refused_on_load(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "m.pt")
    data = torch.load(path, weights_only=True)
    data["state_dict"]["classifier.1.bias"][1] = float("-inf")
    data["checksum"] = checksum(data)  # guardado así (p. ej. por un entrenamiento que divergió)
    torch.save(data, path)
    target = _model(seed=3)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    for model_or_name in (target, "cnn_pequena"):
        with pytest.raises(LabkitError, match="NaN o infinitos"):
            load_checkpoint(model_or_name, path)
    assert all(torch.equal(v, target.state_dict()[k]) for k, v in before.items())


def test_classes_count_checked_on_load(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "m.pt")
    data = torch.load(path, weights_only=True)
    data["classes"] = ["a"]
    torch.save(data, path)
    with pytest.raises(LabkitError, match="1 nombres de clase.*4 salidas"):
        read_checkpoint(path)
    with pytest.raises(LabkitError, match="1 nombres de clase"):
        load_checkpoint(_model(), path)


def test_preprocessing_travels_with_the_checkpoint(tmp_path):
    model = _model()
    info = model_info(model)
    info.input_size, info.resize_size, info.mean = 48, 56, (0.4, 0.5, 0.6)
    path = save_checkpoint(model, tmp_path / "m.pt", classes=list("abcd"))
    loaded = model_info(load_checkpoint("cnn_pequena", path))
    assert (loaded.input_size, loaded.resize_size, loaded.mean) == (48, 56, (0.4, 0.5, 0.6))
    assert loaded.categories == list("abcd") and loaded.family == "small_cnn"


def test_version_one_checkpoints_still_load(tmp_path):
    model = _model()
    old = {"format": "labkit-checkpoint", "version": 1, "model_name": "cnn_pequena",
           "num_classes": 4, "classes": [], "state_dict": model.state_dict(), "meta": {}}
    torch.save(old, tmp_path / "viejo.pt")
    loaded = load_checkpoint("cnn_pequena", tmp_path / "viejo.pt")
    assert model_info(loaded).input_size == 128  # el preprocesado por defecto de la familia
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), loaded(x))


def test_single_output_head_roundtrip(tmp_path):
    from labkit.models import replace_head

    model = replace_head(_model(), 1)
    loaded = load_checkpoint("cnn_pequena", save_checkpoint(model, tmp_path / "uno.pt"))
    assert model_info(loaded).num_classes == 1


@pytest.mark.parametrize("path", [None, 3, b"m.pt", ""])
def test_bad_paths_are_spanish_errors(path):
    with pytest.raises(LabkitError, match="path"):
        save_checkpoint(_model(), path)
    with pytest.raises(LabkitError, match="path"):
        read_checkpoint(path)


def test_numpy_class_count_model_saves(tmp_path):
    model = create_model("cnn_pequena", num_classes=np.int64(3), pretrained=False)
    assert read_checkpoint(save_checkpoint(model, tmp_path / "m.pt"))["num_classes"] == 3
