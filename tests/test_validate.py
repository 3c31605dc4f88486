"""Pruebas de la capa común de comprobación de argumentos (labkit.base)."""

import math
from pathlib import Path

import numpy as np
import pytest

from labkit.base import (
    LabkitError,
    check_bool,
    check_choice,
    check_float,
    check_fraction,
    check_int,
    check_path,
    check_seed,
    check_str,
)


def test_check_int_accepts_python_and_numpy_integers():
    assert check_int("n", 3) == 3
    assert check_int("n", np.int64(5), minimum=1) == 5
    assert type(check_int("n", np.int32(2))) is int


@pytest.mark.parametrize("bad", [2.5, "3", None, True, np.bool_(True), [1], 3.0])
def test_check_int_rejects_non_integers_naming_the_argument(bad):
    with pytest.raises(LabkitError, match=r"^n: llegó .* se espera un número entero"):
        check_int("n", bad)


def test_check_int_bounds():
    with pytest.raises(LabkitError, match="mayor o igual que 1"):
        check_int("epochs", 0, minimum=1)
    with pytest.raises(LabkitError, match="entre 0 y 5"):
        check_int("depth", 6, minimum=0, maximum=5)


@pytest.mark.parametrize("bad", [math.nan, math.inf, "0.1", None, True, 0.0])
def test_check_float_rejects(bad):
    with pytest.raises(LabkitError, match="lr: llegó"):
        check_float("lr", bad, minimum=0, strict=True)


def test_check_float_accepts_ints_and_numpy():
    assert check_float("lr", 1, minimum=0, strict=True) == 1.0
    assert check_float("lr", np.float32(0.5)) == 0.5


def test_check_fraction():
    assert check_fraction("val_fraction", 0.2) == pytest.approx(0.2)
    for bad in (1.0, -0.1, "0.1"):
        with pytest.raises(LabkitError, match="fracción"):
            check_fraction("val_fraction", bad)
    with pytest.raises(LabkitError):
        check_fraction("f", 0.0, allow_zero=False)


def test_check_bool_rejects_strings():
    assert check_bool("pretrained", np.bool_(False)) is False
    with pytest.raises(LabkitError, match="True o False"):
        check_bool("pretrained", "no")


def test_check_choice_is_type_strict():
    assert check_choice("mode", "adam", ["adam", "sgd"]) == "adam"
    with pytest.raises(LabkitError, match="'adam', 'sgd'"):
        check_choice("mode", ["adam"], ["adam", "sgd"])
    with pytest.raises(LabkitError):
        check_choice("flag", 1, [True, False])


def test_check_str_and_path():
    assert check_str("name", "resnet18") == "resnet18"
    with pytest.raises(LabkitError):
        check_str("name", "  ")
    assert check_path("p", "a/b") == Path("a/b")
    for bad in (b"a", None, "", "a\x00b", 3):
        with pytest.raises(LabkitError, match="ruta"):
            check_path("p", bad)


def test_check_seed():
    assert check_seed(np.uint8(7)) == 7
    for bad in (-1, 1.5, 2**64):
        with pytest.raises(LabkitError, match="seed: llegó"):
            check_seed(bad)
