"""La búsqueda de la tasa de aprendizaje: una curva con sentido, una sugerencia razonable."""

import pytest
import torch
from helpers import make_set

from labkit import LabkitError, create_model, freeze, lr_find
from labkit.training._lr_finder import valley


def tiny_model(k: int = 3):
    torch.manual_seed(0)
    return create_model("cnn_pequena", num_classes=k, pretrained=False)


def test_lr_find_on_a_tiny_model_suggests_a_sensible_rate():
    data = make_set(96)
    model = tiny_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = lr_find(model, data, num_iter=60, batch_size=16, device="cpu")
    # Adam en un problema separable: la buena tasa está entre 1e-4 y 1e-1, no en los extremos
    assert 1e-4 <= result.suggestion <= 1e-1, result
    assert 1e-5 <= result.minimum <= 1.0 and 1e-5 <= result.steepest <= 1.0, result
    assert min(result.losses) < 0.8 * result.losses[0]  # la pérdida llegó a bajar
    assert result.lrs == sorted(result.lrs) and len(result.lrs) == len(result.losses)
    assert result.lrs[-1] < 10.0  # paró antes del final, al dispararse la pérdida
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # intacto
    fig = result.figure()
    assert fig.axes[0].get_xscale() == "log"
    assert "sugerida" in repr(result)


def test_lr_find_respects_freezing_and_uses_the_cache():
    data = make_set(64)
    model = tiny_model()
    freeze(model)
    result = lr_find(model, data, num_iter=30, batch_size=16, device="cpu")
    assert 1e-7 <= result.suggestion <= 10


def test_lr_find_bad_arguments_are_spanish_errors():
    data = make_set(32)
    with pytest.raises(LabkitError, match="end_lr"):
        lr_find(tiny_model(), data, start_lr=1e-2, end_lr=1e-3)
    with pytest.raises(LabkitError, match="num_iter"):
        lr_find(tiny_model(), data, num_iter=2)
    with pytest.raises(LabkitError, match="DataSplits"):
        lr_find(tiny_model(), "datos")


def test_valley_points_into_the_longest_descent():
    losses = [2.0, 2.0, 1.9, 1.6, 1.2, 0.9, 0.7, 0.6, 0.65, 1.5, 4.0]
    i = valley(losses)
    assert 2 <= i <= 6
