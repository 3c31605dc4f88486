"""Calendarios de la tasa y aumento de datos: formas y límites."""

import pytest
import torch

from labkit import LabkitError
from labkit.data import AUGMENT_PRESETS, Augment, apply_augment, resolve_augment
from labkit.training._schedules import check_schedule, lr_factor


@pytest.mark.parametrize("name", ["coseno", "one_cycle"])
def test_schedules_rise_to_one_then_fall_to_almost_zero(name):
    total = 100
    f = [lr_factor(name, s, total, warmup=0.25) for s in range(total)]
    peak = f.index(max(f))
    assert max(f) == pytest.approx(1.0, abs=0.02) and 20 <= peak <= 30
    assert all(a <= b + 1e-12 for a, b in zip(f[:peak], f[1:peak + 1]))
    assert all(a >= b - 1e-12 for a, b in zip(f[peak:], f[peak + 1:]))
    assert f[-1] < 0.01 and f[0] < 0.2


def test_constant_schedule_and_bad_names():
    assert lr_factor("constante", 5, 10) == 1.0
    with pytest.raises(LabkitError, match="schedule"):
        check_schedule("triangular", 0.1)
    with pytest.raises(LabkitError, match="warmup"):
        check_schedule("coseno", 1.5)


def test_augment_presets_and_no_flip():
    x = torch.rand(6, 3, 16, 16)
    x[:, :, :, :8] = 0.0  # la mitad izquierda oscura
    gen = torch.Generator().manual_seed(0)
    no_flip = Augment(crop=1.0, flip=False, rotation=0.0, brightness=0.0)
    assert torch.allclose(apply_augment(x, no_flip, gen), x, atol=1e-5)
    flips = Augment(crop=1.0, flip=True, rotation=0.0, brightness=0.0)
    out = apply_augment(x, flips, torch.Generator().manual_seed(1))
    flipped = [bool(torch.allclose(o, xi.flip(2), atol=1e-5)) for o, xi in zip(out, x)]
    assert any(flipped) and not all(flipped)
    assert resolve_augment(True) is AUGMENT_PRESETS["fotos"]
    assert resolve_augment("sin_volteo").flip is False and resolve_augment(False) is None
    with pytest.raises(LabkitError):
        Augment(crop=0.0)
    with pytest.raises(LabkitError, match="augment"):
        resolve_augment("fuerte")


def test_brightness_changes_the_mean_and_stays_in_range():
    x = torch.full((64, 3, 8, 8), 0.5)
    out = apply_augment(x, Augment(crop=1.0, flip=False, rotation=0.0, brightness=0.3),
                        torch.Generator().manual_seed(0))
    means = out.mean(dim=(1, 2, 3))
    assert means.min() < 0.45 and means.max() > 0.55 and out.min() >= 0 and out.max() <= 1
