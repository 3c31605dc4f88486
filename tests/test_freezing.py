"""Pruebas de labkit.models: requires_grad por grupo y BatchNorm congelado de verdad."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from labkit.base import LabkitError
from labkit.models import (
    MODELS,
    create_model,
    freeze_to,
    frozen_depth,
    layer_groups,
    train_mode,
    unfreeze,
)

ALL_MODELS = list(MODELS)
BN_MODELS = [n for n in ALL_MODELS if n != "vgg16"]  # VGG-16 no tiene BatchNorm
SIZE = 32


@pytest.fixture()
def models(catalog_models) -> dict[str, nn.Module]:
    """Los modelos del catálogo de la sesión (conftest), todos descongelados."""
    for model in catalog_models.values():
        unfreeze(model)
    return catalog_models


def _grad_flags(model: nn.Module) -> list[set[bool]]:
    return [{p.requires_grad for _, p in g.params} for g in layer_groups(model)]


@pytest.mark.parametrize("name", ALL_MODELS)
def test_freeze_to_every_depth(models, name):
    model = models[name]
    n = len(layer_groups(model))
    for depth in range(n):
        assert freeze_to(model, depth) is model
        flags = _grad_flags(model)
        assert flags == [{False}] * depth + [{True}] * (n - depth), f"depth={depth}"
        assert frozen_depth(model) == depth
        groups = layer_groups(model)
        assert [g.frozen for g in groups] == [i < depth for i in range(n)]
        assert sum(g.num_trainable for g in groups) == sum(
            p.numel() for p in model.parameters() if p.requires_grad)
    unfreeze(model)
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("name", ALL_MODELS)
def test_depth_zero_and_head_only(models, name):
    model = models[name]
    freeze_to(model, 0)
    assert all(p.requires_grad for p in model.parameters())
    groups = layer_groups(model)
    freeze_to(model, len(groups) - 1)
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert trainable == {id(p) for _, p in groups[-1].params}
    head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    assert trainable == {id(head.weight), id(head.bias)}
    unfreeze(model)


@pytest.mark.parametrize("bad", [-1, 6, 99, 1.5, "2", None, True])
def test_bad_depth_is_a_spanish_error(models, bad):
    model = models["resnet18"]  # 6 grupos: 0..5
    with pytest.raises(LabkitError, match="Profundidad de congelado .* fuera de rango") as info:
        freeze_to(model, bad)
    assert "conv1 … fc" in str(info.value) and "de 0 (entrenar todo) a 5" in str(info.value)
    assert all(p.requires_grad for p in model.parameters())  # no tocó nada


def test_frozen_depth_counts_only_leading_groups(models):
    model = models["resnet18"]
    unfreeze(model)
    for _, p in layer_groups(model)[1].params:  # congela solo layer1: no es un prefijo
        p.requires_grad_(False)
    assert frozen_depth(model) == 0
    unfreeze(model)


# ----------------------------------------------------------------------------------- BatchNorm
def _bn_state(group) -> dict[str, torch.Tensor]:
    """Estadísticas de BatchNorm de un grupo (running_mean/var, num_batches_tracked)."""
    state = {}
    for k, piece in enumerate(group.pieces):
        for name, buf in piece.named_buffers():
            state[f"{k}.{name}"] = buf.clone()
    return state


def _params(group) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in group.params}


def _has_bn(group) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm)
               for piece in group.pieces for m in piece.modules())


def _train_steps(model: nn.Module, steps: int = 2) -> None:
    """Pasos reales de SGD (momento + decaimiento de pesos) sobre los parámetros entrenables."""
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1,
                          momentum=0.9, weight_decay=1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        x = torch.randn(4, 3, SIZE, SIZE, generator=gen) * 2 + 0.5
        y = torch.randint(0, 3, (4,), generator=gen)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("name", BN_MODELS)
def test_train_mode_keeps_frozen_groups_bit_identical(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=3, pretrained=False)
    groups = layer_groups(model)
    depth = len(groups) // 2
    freeze_to(model, depth)
    frozen_before = [(_bn_state(g), _params(g)) for g in groups[:depth]]
    trainable_bn = next(g for g in groups[depth:] if _has_bn(g))
    trainable_before = _bn_state(trainable_bn)
    assert any(_has_bn(g) for g in groups[:depth])
    train_mode(model)
    assert model.training
    own = set(model.modules())  # (los trozos de un Sequential son contenedores nuevos)
    for g in groups[:depth]:
        assert all(not m.training for piece in g.pieces for m in piece.modules() if m in own)
    assert all(m.training for piece in trainable_bn.pieces for m in piece.modules() if m in own)
    _train_steps(model)
    for g, (bn, params) in zip(groups[:depth], frozen_before):
        assert all(torch.equal(v, _bn_state(g)[k]) for k, v in bn.items()), g.name
        assert all(torch.equal(v, p.detach()) for (_, p), v in zip(g.params, params.values()))
    after = _bn_state(trainable_bn)
    assert any(not torch.equal(v, after[k]) for k, v in trainable_before.items())


def test_the_trap_plain_train_moves_frozen_batchnorm():
    """Con ``model.train()`` a secas, BatchNorm de los grupos congelados SÍ cambia."""
    torch.manual_seed(0)
    model = create_model("resnet18", num_classes=3, pretrained=False)
    freeze_to(model, 3)
    stem = layer_groups(model)[0]
    before = _bn_state(stem)
    params_before = _params(stem)
    model.train()
    _train_steps(model, steps=1)
    after = _bn_state(stem)
    assert not torch.equal(before["1.running_mean"], after["1.running_mean"])
    assert int(after["1.num_batches_tracked"]) == int(before["1.num_batches_tracked"]) + 1
    # Los pesos no se mueven (no están en el optimizador), pero las estadísticas sí.
    assert all(torch.equal(v, p.detach()) for (_, p), v in zip(stem.params,
                                                               params_before.values()))


def test_train_mode_after_unfreeze_trains_everything():
    model = create_model("cnn_pequena", num_classes=3, pretrained=False)
    freeze_to(model, 2)
    train_mode(model)
    assert not model.features[0].training
    unfreeze(model)
    train_mode(model)
    assert all(m.training for m in model.modules())


def test_pretrained_models_keep_every_batchnorm_statistic_fixed_while_fine_tuning():
    """Con pesos preentrenados, reestimar BN con lotes pequeños de otro dominio desplaza las
    características que la cabeza ya aprendió: train_mode deja todas las BN en evaluación."""
    from torch.nn.modules.batchnorm import _BatchNorm

    from labkit.models._freezing import keeps_bn_stats

    pretrained = create_model("efficientnet_lite0", num_classes=3)
    scratch = create_model("efficientnet_lite0", num_classes=3, pretrained=False)
    for model in (pretrained, scratch):
        freeze_to(model, len(layer_groups(model)) - 3)
    assert keeps_bn_stats(pretrained) and not keeps_bn_stats(scratch)
    train_mode(pretrained)
    assert not any(m.training for m in pretrained.modules() if isinstance(m, _BatchNorm))
    assert pretrained.classifier.training  # el resto sí entrena
    train_mode(scratch)
    assert scratch.blocks[6][0].bn1.training and not scratch.blocks[0][0].bn1.training
    train_mode(pretrained, update_bn=True)
    assert pretrained.blocks[6][0].bn1.training
