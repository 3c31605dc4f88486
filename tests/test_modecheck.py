"""labkit.checks.check_mode_measurement: «predice y mide» en el playground (cuaderno 09)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import labkit

check = labkit.checks.check_mode_measurement


def test_a_clear_win_says_whether_the_prediction_matched():
    runs = {"extracción de características": [0.95, 0.94, 0.96], "ajuste fino": [0.70, 0.72, 0.71]}
    right = check("a", runs)
    assert right.passed is True and "coincide con lo que mediste" in right.message
    wrong_guess = check("ajuste fino", {"extraccion": runs["extracción de características"],
                                        "ajuste fino": runs["ajuste fino"]})
    assert wrong_guess.passed is True and "no coincide con lo que mediste" in wrong_guess.message
    assert "95.0 %" in right.message


def test_one_run_per_mode_gives_no_verdict():
    # Antes una ejecución por modo decidía con el error de la prueba solo; ahora es «n = 1».
    result = check("a", {"extracción de características": 0.95, "ajuste fino": 0.70})
    assert result.passed is True and "n = 1" in result.message
    assert "ni se confirma ni se descarta" in result.message and "coincide" not in result.message


def test_a_tie_neither_confirms_nor_refutes():
    result = check("b", {"a": 0.90, "b": 0.91}, n_test=200)
    assert result.passed is True and "ni se confirma ni se descarta" in result.message


def test_playground_results_are_checked_for_mode_and_images():
    ok = {"extracción de características": SimpleNamespace(test_accuracy=0.9, n_train=60,
                                                           mode="Extracción de características"),
          "ajuste fino": SimpleNamespace(test_accuracy=0.8, n_train=60, mode="Ajuste fino")}
    assert check("a", ok).passed is True
    swapped = {"a": ok["ajuste fino"], "b": ok["extracción de características"]}
    assert check("a", swapped).passed is False
    few = dict(ok, **{"ajuste fino": SimpleNamespace(test_accuracy=0.8, n_train=40,
                                                     mode="Ajuste fino")})
    result = check("a", few)
    assert result.passed is False and "40 imágenes" in result.message


@pytest.mark.parametrize("prediction, measured", [
    ("c", {"a": 0.9, "b": 0.8}), ("a", {"a": 0.9}), ("a", {"a": 0.9, "b": 1.7}),
    ("a", [0.9, 0.8]), ("a", {"a": 0.9, "otra cosa": 0.8}),
])
def test_bad_answers_are_wrong_with_a_hint(prediction, measured):
    result = check(prediction, measured)
    assert result.passed is False and "Pista" in result.message


def test_unanswered_and_teacher_errors():
    assert check(None, None).passed is None
    assert check("a", None).passed is None
    result = check("a", {"a": 0.9, "b": 0.8}, n_test=0)
    assert result.passed is None and "No se pudo comprobar" in result.message
