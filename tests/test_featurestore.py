"""Características en disco (FeatureCache(disk=True)): un kernel nuevo no vuelve a extraerlas."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import FAST
from PIL import Image

from labkit import create_model, freeze_to, layer_groups
from labkit.data import image_folder
from labkit.training import FeatureCache, FeatureSet, fit
from labkit.training import _features as features


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "labkit_data"))
    return tmp_path / "labkit_data"


@pytest.fixture
def splits(tmp_path):
    for c, name in enumerate(("rojo", "verde")):
        (tmp_path / "fotos" / name).mkdir(parents=True)
        for i in range(12):
            arr = np.random.default_rng(10 * c + i).integers(0, 90, (20, 20, 3), dtype=np.uint8)
            arr[..., c] += 150
            Image.fromarray(arr).save(tmp_path / "fotos" / name / f"{i}.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return image_folder(tmp_path / "fotos", image_size=16)


def frozen_model(seed: int = 0):
    torch.manual_seed(seed)
    model = create_model("cnn_pequena", num_classes=2, pretrained=False)
    freeze_to(model, len(layer_groups(model)) - 1)
    return model


def stored(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "cache_caracteristicas").glob("*"))


def count_extractions(monkeypatch) -> list[int]:
    calls = []
    real = features.extract_features

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(features, "extract_features", counting)
    return calls


def test_features_are_saved_once_and_read_by_a_new_cache(splits, own_data_dir, monkeypatch):
    calls = count_extractions(monkeypatch)
    first = FeatureSet.extract(frozen_model(), splits.train, disk=True)
    assert len(calls) == 1 and [p.suffix for p in stored(own_data_dir)] == [".npz"]
    cache = FeatureCache(disk=True)  # como en un kernel nuevo: memoria vacía
    again = FeatureSet.extract(frozen_model(), splits.train, cache=cache)  # mismos pesos
    assert len(calls) == 1 and cache.disk_hits == 1 and cache.misses == 0
    assert torch.equal(first.features, again.features)
    assert "en disco=1" in repr(cache)


def test_other_weights_or_subsets_are_not_taken_from_disk(splits, own_data_dir, monkeypatch):
    calls = count_extractions(monkeypatch)
    FeatureSet.extract(frozen_model(0), splits.train, disk=True)
    other = FeatureSet.extract(frozen_model(1), splits.train, disk=True)
    assert len(calls) == 2 and len(stored(own_data_dir)) == 2
    reference = features.extract_features(frozen_model(1), splits.train, other.depth)
    assert torch.equal(other.features, reference)
    FeatureSet.extract(frozen_model(0), splits.train.take(4), disk=True)
    assert len(stored(own_data_dir)) == 2  # un recorte no tiene identidad estable: solo memoria


def test_without_disk_nothing_is_written(splits, own_data_dir):
    FeatureSet.extract(frozen_model(), splits.train)
    FeatureSet.extract(frozen_model(), splits.train, cache=FeatureCache())
    assert not stored(own_data_dir)


def test_corrupt_file_is_extracted_again(splits, own_data_dir, monkeypatch):
    first = FeatureSet.extract(frozen_model(), splits.val, disk=True)
    (path,) = stored(own_data_dir)
    path.write_bytes(b"\x93NUMPY basura")
    calls = count_extractions(monkeypatch)
    again = FeatureSet.extract(frozen_model(), splits.val, disk=True)
    assert len(calls) == 1 and torch.equal(first.features, again.features)
    assert np.load(path, allow_pickle=False)["features"].shape[0] == len(splits.val)


def test_fit_in_a_restarted_kernel_does_not_extract_again(splits, monkeypatch):
    h1 = fit(frozen_model(), splits.train, splits.val, epochs=2, seed=3,
             cache=FeatureCache(disk=True), **FAST)
    calls = count_extractions(monkeypatch)
    cache = FeatureCache(disk=True)
    h2 = fit(frozen_model(), splits.train, splits.val, epochs=2, seed=3, cache=cache, **FAST)
    assert h1.cached and h2.cached and cache.disk_hits == 2 and cache.misses == 0
    assert h1.val_loss == pytest.approx(h2.val_loss, abs=1e-6)
    assert not calls


def test_disk_must_be_a_bool(splits):
    from labkit.base import LabkitError
    with pytest.raises(LabkitError, match="disk"):
        FeatureCache(disk="sí")
    with pytest.raises(LabkitError, match="disk"):
        FeatureSet.extract(frozen_model(), splits.train, disk=1)


def test_fit_auto_cache_keeps_image_folder_features_on_disk(splits, own_data_dir, monkeypatch):
    h1 = fit(frozen_model(), splits.train, splits.val, epochs=2, seed=3, **FAST)
    stored = sorted(p.name for p in own_data_dir.rglob("*.npz"))
    assert h1.cached and len(stored) == 2  # entrenamiento y validación, en disco
    calls = count_extractions(monkeypatch)  # un kernel nuevo: FeatureCache.get no extrae
    h2 = fit(frozen_model(), splits.train, splits.val, epochs=2, seed=3, **FAST)
    assert h2.cached and not calls
    assert h1.val_loss == pytest.approx(h2.val_loss, abs=1e-6)


def test_fit_auto_cache_stays_in_memory_for_a_subset(splits, own_data_dir):
    fit(frozen_model(), splits.train.take(6, seed=0), splits.val, epochs=1, seed=3, **FAST)
    assert not list(own_data_dir.rglob("*.npz"))
