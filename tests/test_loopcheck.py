"""labkit.checks.check_training_loop: el ejercicio «escribe el bucle de diez líneas» (cuaderno 03)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import labkit
from labkit.checks import check_training_loop


def _setup(seed: int = 0):
    torch.manual_seed(seed)
    model = labkit.create_model("cnn_pequena", num_classes=2, pretrained=False)
    labkit.freeze(model)                              # todo congelado menos la cabeza
    x = torch.randn(24, 3, 16, 16)
    y = (x[:, 0].mean((1, 2)) > 0).long()             # una clase que se puede aprender
    x[:, 1] += 2 * y[:, None, None]
    return model, x, y


def _loop(mode):
    def train(model, x, y, epochs=15):
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
        for _ in range(epochs):
            mode(model)
            for batch in torch.randperm(len(y)).split(8):
                loss = F.cross_entropy(model(x[batch]), y[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
    return train


def test_the_solution_passes():
    result = check_training_loop(_loop(labkit.train_mode), *_setup())
    assert result.passed is True and "la pérdida pasó de" in result.message
    assert " %" in result.message


def test_model_train_moves_frozen_batchnorm_and_is_wrong():
    result = check_training_loop(_loop(lambda m: m.train()), *_setup())
    assert result.passed is False and "labkit.train_mode" in result.message


def test_a_loop_that_never_steps_is_wrong():
    def lazy(model, x, y):
        labkit.train_mode(model)
        F.cross_entropy(model(x), y).backward()
    result = check_training_loop(lazy, *_setup())
    assert result.passed is False and "step" in result.message


def test_unfreezing_is_caught():
    def greedy(model, x, y):
        labkit.unfreeze(model)
        _loop(labkit.train_mode)(model, x, y)
    result = check_training_loop(greedy, *_setup())
    assert result.passed is False and "grupos congelados" in result.message


def test_unanswered_error_and_not_a_function():
    assert check_training_loop(None, *_setup()).passed is None

    def broken(model, x, y):
        raise ValueError("uy")
    result = check_training_loop(broken, *_setup())
    assert result.passed is False and "ValueError: uy" in result.message
    assert check_training_loop(3, *_setup()).passed is False


@pytest.mark.parametrize("spoil", ["nothing_frozen", "labels", "not_a_model"])
def test_a_broken_teacher_side_is_not_the_students_fault(spoil):
    model, x, y = _setup()
    if spoil == "nothing_frozen":
        labkit.unfreeze(model)
    elif spoil == "labels":
        y = y[:5]
    else:
        model = "modelo"
    result = labkit.checks.check_training_loop(_loop(labkit.train_mode), model, x, y)
    assert result.passed is None and "No se pudo comprobar" in result.message
