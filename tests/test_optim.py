"""Tasas discriminativas: valores de group_lrs y grupos del optimizador."""

import math

import pytest
import torch

from labkit import LabkitError, create_model, freeze_to, layer_groups
from labkit.training import group_lrs, param_groups


def test_guide_example_three_groups_ratio_ten():
    assert group_lrs(3, 1e-4, ratio=10) == pytest.approx([1e-6, 1e-5, 1e-4], rel=1e-12)


def test_ratio_one_gives_the_same_rate_everywhere():
    assert group_lrs(7, 3e-4, ratio=1) == pytest.approx([3e-4] * 7)


def test_rates_grow_geometrically_towards_the_head():
    lrs = group_lrs(10, 1e-3, ratio=10, tiers=3)
    assert lrs[-1] == pytest.approx(1e-3)
    assert lrs[0] == pytest.approx(1e-5)
    assert all(a < b for a, b in zip(lrs, lrs[1:], strict=False))
    steps = [b / a for a, b in zip(lrs, lrs[1:], strict=False)]
    assert steps == pytest.approx([steps[0]] * len(steps))


def test_tiers_set_the_spread():
    assert group_lrs(5, 1.0, ratio=10, tiers=2)[0] == pytest.approx(0.1)
    assert group_lrs(5, 1.0, ratio=10, tiers=4)[0] == pytest.approx(1e-3)


def test_single_group_gets_the_head_rate():
    assert group_lrs(1, 1e-3, ratio=100) == [1e-3]


@pytest.mark.parametrize("lr", [0, -1e-3, math.nan, math.inf, "1e-3"])
def test_bad_learning_rate_is_a_spanish_error(lr):
    with pytest.raises(LabkitError, match="tasa de aprendizaje"):
        group_lrs(3, lr, ratio=10)


@pytest.mark.parametrize("ratio", [0.5, 0, math.nan])
def test_bad_ratio_is_a_spanish_error(ratio):
    with pytest.raises(LabkitError, match="razón"):
        group_lrs(3, 1e-3, ratio=ratio)


def test_param_groups_hold_only_trainable_params_with_positional_rates():
    model = create_model("cnn_pequena", num_classes=3, pretrained=False)
    groups = layer_groups(model)
    freeze_to(model, 2)
    out = param_groups(model, 1e-3, ratio=10)
    expected = group_lrs(len(groups), 1e-3, ratio=10)
    assert [g["name"] for g in out] == [g.name for g in groups[2:]]
    assert [g["lr"] for g in out] == pytest.approx(expected[2:])
    ids = {id(p) for g in out for p in g["params"]}
    assert all(p.requires_grad for g in out for p in g["params"])
    frozen = [p for g in groups[:2] for _, p in g.params]
    assert not any(id(p) in ids for p in frozen)
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(ids) == len(trainable)


def test_param_groups_feed_a_torch_optimizer():
    model = create_model("cnn_pequena", num_classes=2, pretrained=False)
    opt = torch.optim.SGD(param_groups(model, 1e-2, ratio=10), lr=1e-2, momentum=0.9)
    assert opt.param_groups[-1]["lr"] == pytest.approx(1e-2)
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_param_groups_with_everything_frozen_is_a_spanish_error():
    model = create_model("cnn_pequena", num_classes=2, pretrained=False)
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(LabkitError, match="congelados"):
        param_groups(model, 1e-3)


# ---------------------------------------------------------------- una sola definición de ratio


@pytest.mark.parametrize("tiers", [0, -1, 1.5, True])
def test_tiers_must_be_a_positive_integer(tiers):
    with pytest.raises(LabkitError, match="tiers"):
        group_lrs(5, 1e-3, ratio=10, tiers=tiers)
    model = create_model("cnn_pequena", num_classes=2, pretrained=False)
    with pytest.raises(LabkitError, match="tiers"):
        param_groups(model, 1e-3, ratio=10, tiers=tiers)


def _catalog_model(name):
    from labkit.models import MODELS

    with torch.device("meta"):  # sin memoria ni pesos: solo cuenta la estructura
        return create_model(name, num_classes=3, pretrained=False) if name in MODELS else None


@pytest.mark.parametrize("name", sorted(__import__("labkit.models").models.MODELS))
@pytest.mark.parametrize("ratio", [1, 3, 10])
def test_check_param_groups_accepts_what_param_groups_builds_on_every_model(name, ratio):
    from labkit.checks import check_param_groups

    model = _catalog_model(name)
    groups = param_groups(model, 1e-4, ratio)
    assert check_param_groups(groups, 1e-4, ratio).passed is True
    n = len(layer_groups(model))
    freeze_to(model, n // 2)  # con congelados, el optimizador recibe solo los últimos grupos
    tail = param_groups(model, 1e-4, ratio)
    assert check_param_groups(tail, 1e-4, ratio, model_groups=n).passed is True
    assert [g["lr"] for g in tail] == pytest.approx(group_lrs(n, 1e-4, ratio)[n // 2:])
