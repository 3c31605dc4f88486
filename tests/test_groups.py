"""Pruebas de labkit.models: cada parámetro en un solo grupo, orden tallo → cabeza, split_at."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from labkit.base import LabkitError
from labkit.models import MODELS, create_model, layer_groups, split_at, unfreeze
from labkit.models._groups import model_family

ALL_MODELS = list(MODELS)
SIZE = 32


@pytest.fixture()
def models(catalog_models) -> dict[str, nn.Module]:
    """Los modelos del catálogo de la sesión (conftest), todos descongelados."""
    for model in catalog_models.values():
        unfreeze(model)
    return catalog_models


@pytest.mark.parametrize("name", ALL_MODELS)
def test_every_parameter_in_exactly_one_group(models, name):
    model = models[name]
    groups = layer_groups(model)
    grouped = [(pname, p) for g in groups for pname, p in g.params]
    named = list(model.named_parameters())
    assert len(grouped) == len(named)
    assert sorted(n for n, _ in grouped) == sorted(n for n, _ in named)
    assert {id(p) for _, p in grouped} == {id(p) for _, p in named}
    assert len({id(p) for _, p in grouped}) == len(grouped)
    assert sum(g.num_params for g in groups) == sum(p.numel() for p in model.parameters())
    assert all(g.params for g in groups)  # ningún grupo vacío
    assert len({g.name for g in groups}) == len(groups)


def _first_call_order(model: nn.Module) -> list[nn.Module]:
    """Módulos con parámetros propios en el orden en que el ``forward`` los usa por primera vez."""
    order: list[nn.Module] = []
    hooks = [m.register_forward_pre_hook(lambda mod, _: order.append(mod) if mod not in order
                                         else None)
             for m in model.modules() if any(True for _ in m.parameters(recurse=False))]
    try:
        with torch.no_grad():
            model.eval()(torch.randn(1, 3, SIZE, SIZE))
    finally:
        for h in hooks:
            h.remove()
    return order


@pytest.mark.parametrize("name", ALL_MODELS)
def test_groups_follow_the_forward_order(models, name):
    model = models[name]
    groups = layer_groups(model)
    group_of = {id(p): i for i, g in enumerate(groups) for _, p in g.params}
    seen = [group_of[id(next(m.parameters(recurse=False)))] for m in _first_call_order(model)]
    assert seen == sorted(seen), "los grupos deben ir en el orden del forward"
    assert seen[0] == 0 and seen[-1] == len(groups) - 1


@pytest.mark.parametrize("name", ALL_MODELS)
def test_last_group_holds_the_final_linear(models, name):
    model = models[name]
    head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    last = layer_groups(model)[-1]
    assert {id(p) for _, p in last.params} == {id(head.weight), id(head.bias)}
    first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert id(first_conv.weight) in {id(p) for _, p in layer_groups(model)[0].params}


@pytest.mark.parametrize("name", ALL_MODELS)
def test_split_at_composes_back_to_the_model(models, name):
    model = models[name].eval()
    x = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        expected = model(x)
        for depth in range(len(layer_groups(model))):
            prefix, tail = split_at(model, depth)
            features = prefix(x)
            torch.testing.assert_close(tail(features), expected, rtol=1e-5, atol=1e-5)
            if depth == len(layer_groups(model)) - 1:
                assert features.ndim == 2  # la cabeza recibe un vector por imagen
    assert not model.training


@pytest.mark.parametrize("name", ALL_MODELS)
def test_split_at_out_of_range(models, name):
    n = len(layer_groups(models[name]))
    for depth in (-1, n):
        with pytest.raises(LabkitError, match="fuera de rango"):
            split_at(models[name], depth)


def test_split_at_shares_modules(models):
    model = models["resnet18"]
    prefix, tail = split_at(model, 2)
    assert prefix[0] is model.conv1
    assert any(piece is model.fc for piece in tail)


def test_resnet50_groups():
    model = create_model("resnet50", num_classes=2, pretrained=False)
    groups = layer_groups(model)
    assert [g.name for g in groups] == ["conv1", "layer1", "layer2", "layer3", "layer4", "fc"]
    assert {n for n, _ in groups[0].params} == {"conv1.weight", "bn1.weight", "bn1.bias"}
    assert [n for n, _ in groups[-1].params] == ["fc.weight", "fc.bias"]


def test_group_names_per_family(models):
    names = {n: [g.name for g in layer_groups(m)] for n, m in models.items()}
    assert names["vgg16"][-2:] == ["fc6_fc7", "fc8"]
    assert names["efficientnet_lite0"][0] == "stem" and names["efficientnet_lite0"][-1] == "classifier"
    assert names["cnn_pequena"] == ["bloque1", "bloque2", "bloque3", "bloque4", "classifier"]


def test_unknown_model_type_is_a_spanish_error():
    with pytest.raises(LabkitError, match="No sé dividir en grupos de capas un modelo de tipo "
                                          "Sequential"):
        layer_groups(nn.Sequential(nn.Linear(2, 2)))


def test_family_from_class_without_labkit_info():
    import torchvision

    model = torchvision.models.resnet18(weights=None)
    assert model_family(model) == "resnet"
    assert [g.name for g in layer_groups(model)][-1] == "fc"


def test_unexpected_architecture_is_detected():
    model = create_model("cnn_pequena", pretrained=False)
    model.extra = nn.Linear(2, 2)  # un parámetro que no cae en ningún grupo
    with pytest.raises(LabkitError, match="cae en 0 grupos"):
        layer_groups(model)


@pytest.mark.parametrize("depth", [1.5, "2", None, True])
def test_split_at_bad_depth_is_a_spanish_error(models, depth):
    with pytest.raises(LabkitError, match="depth"):
        split_at(models["cnn_pequena"], depth)


def test_split_at_accepts_numpy_integers(models):
    prefix, tail = split_at(models["cnn_pequena"], np.int64(2))
    assert len(prefix) >= 2 and len(tail) >= 1


def test_every_family_has_one_spec():
    """Cada familia del catálogo tiene su ficha, y cada ficha reconoce sus propios modelos."""
    from labkit.models._families import FAMILIES

    assert {spec.family for spec in MODELS.values()} == set(FAMILIES)
    for name, spec in MODELS.items():
        model = create_model(name, num_classes=3, pretrained=False) if name != "vgg16" else None
        if model is None:
            continue
        del model.labkit_info  # solo por su clase
        assert [f.name for f in FAMILIES.values() if f.matches(model)] == [spec.family]
