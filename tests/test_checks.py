"""Pruebas de labkit.checks: veredictos claros, sin excepciones, con modelos diminutos."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from labkit import checks
from labkit.checks import (
    OVERFITTING_OPTIONS,
    CheckResult,
    check_accuracy_at_least,
    check_freeze,
    check_lr_ratio,
    check_mode_choice,
    check_overfitting_answer,
    check_param_groups,
    check_value,
)

UNANSWERED = [None, ...]


@dataclass
class FakeGroup:
    """Imita a ``labkit.models.LayerGroup``: nombre y pares ``(nombre, parámetro)``."""

    name: str
    params: list[tuple[str, nn.Parameter]]


def _model() -> nn.Sequential:
    """Un modelo diminuto de tres «grupos»: stem, body, head."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 3), nn.Linear(3, 1))


def _groups(model: nn.Sequential) -> list[FakeGroup]:
    """Los grupos del modelo diminuto."""
    return [FakeGroup(name, list(module.named_parameters()))
            for name, module in zip(["stem", "body", "head"], model, strict=True)]


def _freeze(model: nn.Sequential, *indices: int) -> nn.Sequential:
    """Congela las capas ``indices`` del modelo."""
    for i in indices:
        model[i].requires_grad_(False)
    return model


def _pgroups(model: nn.Sequential, lrs: list[float]) -> list[dict]:
    """Grupos de parámetros para el optimizador, uno por capa."""
    return [{"params": list(m.parameters()), "lr": lr} for m, lr in zip(model, lrs, strict=True)]


# --- CheckResult y presentación -------------------------------------------------------------------

def test_result_is_shown_once_and_repr_is_short(capsys: pytest.CaptureFixture[str]) -> None:
    result = check_value(2.0, 2.0)
    assert capsys.readouterr().out.count("✅ Correcto.") == 1
    assert result.passed is True and result.message.startswith("✅")
    assert repr(result) == "<CheckResult: correcto>"
    assert result._ipython_display_() is None
    result.show()
    assert "✅" in capsys.readouterr().out


def test_in_ipython_it_displays_text_and_html(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw: shown.append((obj, raw)))
    result = check_value(1.0, 2.0)
    (bundle, raw), = shown
    assert raw and bundle["text/plain"] == result.message
    assert "#c62828" in bundle["text/html"] and "<br>" in bundle["text/html"]


# --- check_freeze ---------------------------------------------------------------------------------

def test_freeze_correct() -> None:
    model = _freeze(_model(), 0, 1)
    result = check_freeze(model, 2, groups=_groups(model))
    assert result.passed is True
    assert "stem, body" in result.message and "1 grupo," in result.message


@pytest.mark.parametrize("answer", UNANSWERED)
def test_freeze_unanswered(answer: object) -> None:
    result = check_freeze(answer, 2, groups=[])
    assert result.passed is None and "Ejercicio sin responder" in result.message
    assert "💡" in result.message


def test_freeze_nothing_frozen_is_unanswered() -> None:
    model = _model()
    result = check_freeze(model, 2, groups=_groups(model))
    assert result.passed is None
    assert "Ejercicio sin responder: todavía no hay ningún parámetro congelado" in result.message


def test_freeze_attribute_trap() -> None:
    model = _model()
    model.requires_grad = False  # error típico: no congela nada
    result = check_freeze(model, 2, groups=_groups(model))
    assert result.passed is False
    assert "nada congelado" in result.message and "solo crea un atributo" in result.message
    assert "«stem» debería estar congelado" in result.message


def test_freeze_one_group_short() -> None:
    model = _freeze(_model(), 0)
    result = check_freeze(model, 2, groups=_groups(model))
    assert "Congelaste 1 grupo y había que congelar 2 grupos" in result.message
    assert "«body» debería estar congelado (tiene 2 de 2" in result.message
    assert "stem" not in result.message.split("\n", 1)[1]


def test_freeze_too_much_and_everything() -> None:
    model = _freeze(_model(), 0, 1)
    result = check_freeze(model, 1, groups=_groups(model))
    assert "«body» debería ser entrenable" in result.message
    result = check_freeze(_freeze(model, 2), 1, groups=_groups(model))
    assert "también la cabeza" in result.message


def test_freeze_partial_group() -> None:
    model = _model()
    model[0].weight.requires_grad_(False)
    result = check_freeze(model, 1, groups=_groups(model))
    assert "«stem» debería estar congelado (tiene 1 de 2" in result.message


def test_freeze_bad_depth_is_not_a_crash() -> None:
    model = _model()
    result = check_freeze(model, 7, groups=_groups(model))
    assert result.passed is None and "No se pudo comprobar" in result.message


def test_freeze_object_that_raises_gives_a_verdict() -> None:
    class Exploding:
        name = "stem"

        @property
        def params(self) -> list:
            raise RuntimeError("se rompió")

    result = check_freeze(_model(), 1, groups=[Exploding()])
    assert result.passed is False
    assert "RuntimeError: se rompió" in result.message and "💡" in result.message


def test_freeze_without_groups_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "labkit.models._groups", None)
    result = check_freeze(_model(), 1)
    assert result.passed is None and "labkit.models._groups" in result.message


def test_freeze_with_real_layer_groups() -> None:
    groups_module = pytest.importorskip("labkit.models._groups")
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.resnet18(weights=None, num_classes=2)
    groups = groups_module.layer_groups(model)
    for group in groups[:3]:
        for _, p in group.params:
            p.requires_grad_(False)
    assert check_freeze(model, 3).passed is True
    result = check_freeze(model, 4)
    assert f"«{groups[3].name}» debería estar congelado" in result.message


# --- check_param_groups ---------------------------------------------------------------------------

def test_param_groups_correct_list_and_optimizer() -> None:
    model = _model()
    groups = _pgroups(model, [1e-6, 1e-5, 1e-4])
    assert check_param_groups(groups, 1e-4, 10, n_groups=3).passed is True
    assert check_param_groups(torch.optim.SGD(groups), 1e-4, 10).passed is True


@pytest.mark.parametrize("answer", UNANSWERED)
def test_param_groups_unanswered(answer: object) -> None:
    assert check_param_groups(answer, 1e-4, 10).passed is None


@pytest.mark.parametrize("lrs, expected", [
    ([1e-4, 1e-4, 1e-4], "misma tasa"),
    ([1e-4, 1e-5, 1e-6], "al revés"),
    ([1e-2, 1e-3, 1e-4], "Multiplicaste por 10"),
    ([1e-6, 2e-5, 1e-4], "El grupo 1 (contando desde 0"),
    ([1e-5, 1e-5, 1e-4], "El grupo 0"),
])
def test_param_groups_common_mistakes(lrs: list[float], expected: str) -> None:
    result = check_param_groups(_pgroups(_model(), lrs), 1e-4, 10)
    assert result.passed is False and expected in result.message


def test_param_groups_names_expected_lr_of_first_wrong_group() -> None:
    result = check_param_groups(_pgroups(_model(), [1e-6, 2e-5, 1e-4]), 1e-4, 10)
    assert "lr=2e-05: debería tener 1e-05" in result.message


def test_param_groups_structure_problems() -> None:
    model = _model()
    good = _pgroups(model, [1e-6, 1e-5, 1e-4])
    cases = [
        ([], "vacía"),
        (good[:2], "Hay 2 grupos y se esperaban 3"),
        ([{"params": [], "lr": 1e-6}, *good[1:]], "El grupo 0 está vacío"),
        ([{"params": model[0].parameters(), "lr": 1e-6}, *good[1:]], "list(...)"),
        ([good[0], {"params": good[0]["params"], "lr": 1e-5}, good[2]], "grupos 0 y 1"),
        ([good[0], {"params": good[1]["params"]}, good[2]], "le falta «lr»"),
        ([good[0], good[1], ["no", "dict"]], "debe ser un diccionario"),
        ([good[0], good[1], {"params": ["x"], "lr": 1e-4}], "no es un parámetro"),
        (good[2], "lista de diccionarios"),
    ]
    for groups, expected in cases:
        result = check_param_groups(groups, 1e-4, 10, n_groups=3)
        assert result.passed is False and expected in result.message, (expected, result.message)


def test_param_groups_notes_frozen_params() -> None:
    model = _freeze(_model(), 0)
    result = check_param_groups(_pgroups(model, [1e-6, 1e-5, 1e-4]), 1e-4, 10)
    assert result.passed is True and "congelados" in result.message


def test_param_groups_object_that_raises_gives_a_verdict() -> None:
    class BrokenOptimizer:
        @property
        def param_groups(self) -> list:
            raise KeyError("momentum")

    result = check_param_groups(BrokenOptimizer(), 1e-4, 10)
    assert result.passed is False and "KeyError" in result.message


# --- Opción múltiple ------------------------------------------------------------------------------

@pytest.mark.parametrize("answer", ["a", "A)", "Extracción de características",
                                    "extraccion", "Feature extraction", "a) extracción",
                                    "la a", "  EXTRACCIÓN DE CARACTERÍSTICAS. "])
def test_mode_few_images_feature_extraction(answer: str) -> None:
    result = check_mode_choice(answer, n_images=50)
    assert result.passed is True and "prudente" in result.message
    assert "sobreajustaría" not in result.message   # el curso mide que el ajuste fino puede ganar


@pytest.mark.parametrize("answer", ["c", "depende", "Depende: mide en validación", "c) depende"])
def test_mode_depends_is_right_at_every_size(answer: str) -> None:
    for n in (50, 300, 2000, 20_000):
        result = check_mode_choice(answer, n_images=n)
        assert result.passed is True and "intervalo" in result.message


@pytest.mark.parametrize("answer", ["b", "ajuste fino", "Fine-tuning", "finetuning"])
def test_mode_few_images_fine_tuning_is_wrong(answer: str) -> None:
    result = check_mode_choice(answer)
    assert result.passed is False
    assert "«ajuste fino» no es la mejor opción" in result.message and "💡" in result.message


def test_mode_middle_range_accepts_all_and_says_measure() -> None:
    for answer in ("a", "b"):
        result = check_mode_choice(answer, n_images=300)
        assert result.passed is True and "depende: mide en validación" in result.message


def test_mode_many_images_fine_tuning() -> None:
    assert check_mode_choice("b", n_images=10_000).passed is True
    result = check_mode_choice("a", n_images=5000)
    assert result.passed is False and "desaprovecha" in result.message
    assert check_mode_choice("a", n_images=2000).passed is True
    assert check_mode_choice("b", n_images=2000).passed is True


@pytest.mark.parametrize("answer", UNANSWERED)
def test_mode_unanswered(answer: object) -> None:
    result = check_mode_choice(answer)
    assert result.passed is None and "Ejercicio sin responder" in result.message
    assert "a) extracción de características" in result.message
    assert "c) depende: mide en validación" in result.message


@pytest.mark.parametrize("answer", ["d", "transfer", 42, "a ajuste fino", ""])
def test_mode_unrecognized(answer: object) -> None:
    result = check_mode_choice(answer)
    assert result.passed is False and "No reconozco" in result.message


def test_mode_bad_n_images_is_not_a_crash() -> None:
    assert check_mode_choice("a", n_images=0).passed is None


@pytest.mark.parametrize("answer", ["b", "B)", "sobreajuste", "Overfitting", "early stopping",
                                    OVERFITTING_OPTIONS["b"], "b) " + OVERFITTING_OPTIONS["b"]])
def test_overfitting_correct(answer: str) -> None:
    result = check_overfitting_answer(answer)
    assert result.passed is True and "generalizar" in result.message


@pytest.mark.parametrize("answer, expected", [
    ("a", "empeoraría"), ("c) la tasa de aprendizaje es demasiado baja", "baja bien"),
    ("D", "desde el principio"),
])
def test_overfitting_wrong_options(answer: str, expected: str) -> None:
    result = check_overfitting_answer(answer)
    assert result.passed is False and expected in result.message and "💡" in result.message


@pytest.mark.parametrize("answer", UNANSWERED)
def test_overfitting_unanswered(answer: object) -> None:
    assert "sin responder" in check_overfitting_answer(answer).message


def test_show_options(capsys: pytest.CaptureFixture[str]) -> None:
    checks.show_options(OVERFITTING_OPTIONS)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[1].startswith("b) sobreajuste")


# --- Números --------------------------------------------------------------------------------------

@pytest.mark.parametrize("answer", [1e-6, 1e-4 / 100, "1e-6", torch.tensor(1e-6)])
def test_value_correct(answer: object) -> None:
    assert check_value(answer, 1e-6).passed is True


@pytest.mark.parametrize("answer, expected", [
    (1e-5, "demasiado grande"), (1e-7, "demasiado pequeña"), ("diez", "debe ser un número"),
    (float("nan"), "NaN"), (True, "debe ser un número"), ([1, 2], "debe ser un número"),
])
def test_value_wrong(answer: object, expected: str) -> None:
    result = check_value(answer, 1e-6, hint="divide dos veces.")
    assert result.passed is False and expected in result.message
    assert "💡 Pista: divide dos veces." in result.message and "1e-06" not in result.message


@pytest.mark.parametrize("answer", UNANSWERED)
def test_value_unanswered(answer: object) -> None:
    assert check_value(answer, 3.0).passed is None


def test_value_zero_and_tolerance() -> None:
    assert check_value(0.0, 0).passed is True
    assert check_value(1.05, 1.0, tol=0.1).passed is True
    assert check_value(1.05, 1.0).passed is False


def test_value_object_that_raises_gives_a_verdict() -> None:
    class Weird:
        def __float__(self) -> float:
            raise ZeroDivisionError("división por cero")

    result = check_value(Weird(), 1.0)
    assert result.passed is False and "ZeroDivisionError: división por cero" in result.message


def test_lr_ratio() -> None:
    assert check_lr_ratio(1e-6).passed is True
    assert check_lr_ratio([1e-6, 1e-5, 1e-4]).passed is True
    assert check_lr_ratio(1e-3, head_lr=1e-1, ratio=10, n_groups=3).passed is True


@pytest.mark.parametrize("answer, expected", [
    (1e-5, "una sola vez"), (1e-7, "una vez de más"), (1e-2, "Multiplicaste"),
    (1e-4, "tasa de la cabeza"), (3e-6, "demasiado grande"),
    ([1e-4, 1e-5, 1e-6], "al revés"), ([1e-6, 1e-4], "2 tasas y hay 3"),
    ([1e-6, 2e-5, 1e-4], "El grupo 1"),
])
def test_lr_ratio_mistakes(answer: object, expected: str) -> None:
    result = check_lr_ratio(answer)
    assert result.passed is False and expected in result.message


@pytest.mark.parametrize("answer", UNANSWERED)
def test_lr_ratio_unanswered(answer: object) -> None:
    assert check_lr_ratio(answer).passed is None


@pytest.mark.parametrize("acc, threshold, told", [
    (0.83, 80, "como fracción"), (83, 0.8, "como porcentaje"), (torch.tensor(0.9), 0.9, "fracción"),
])
def test_accuracy_enough(acc: object, threshold: float, told: str) -> None:
    result = check_accuracy_at_least(acc, threshold)
    assert result.passed is True and told in result.message


def test_accuracy_not_enough_and_invalid() -> None:
    result = check_accuracy_at_least(0.72, 0.8)
    assert result.passed is False and "72.0 %" in result.message and "8.0 puntos" in result.message
    for bad in (150, -0.1, "mucha"):
        assert "no parece una exactitud" in check_accuracy_at_least(bad, 0.8).message
    assert check_accuracy_at_least(0.9, 300).passed is None


@pytest.mark.parametrize("answer", UNANSWERED)
def test_accuracy_unanswered(answer: object) -> None:
    assert "sin responder" in check_accuracy_at_least(answer, 0.8).message


def test_check_result_is_frozen() -> None:
    result = CheckResult(True, "✅")
    with pytest.raises(AttributeError):
        result.passed = False  # type: ignore[misc]


def test_freeze_depth_zero_means_all_trainable() -> None:
    model = _model()
    result = check_freeze(model, 0, groups=_groups(model))
    assert result.passed is True and "Congelados: ninguno" in result.message


# --- Predecir, medir y concluir (labkit.checks._practice, reexportado en labkit.checks) ------

ARMS = {"arm": "ajuste fino", "reference": "extracción", "n_test": 581}
WINS = {"ajuste fino": [0.86, 0.88, 0.87], "extracción": [0.78, 0.79, 0.77]}
TIE = {"ajuste fino": [0.80, 0.84, 0.78], "extracción": [0.78, 0.79, 0.80]}


def test_practice_checkers_are_reexported_by_checks() -> None:
    from labkit.checks import _practice as practice
    assert checks.check_measured_conclusion is practice.check_measured_conclusion
    assert "check_depth_choice" in checks.__all__


@pytest.mark.parametrize("prediction", ["a", "gana el ajuste fino", "ajuste fino", "empate",
                                        "c", "la extracción gana"])
def test_prediction_is_only_recorded(prediction: str) -> None:
    result = checks.check_prediction_made(prediction, arm="ajuste fino", reference="extracción")
    assert result.passed is True and "Predicción anotada" in result.message


def test_prediction_unanswered_and_unrecognized() -> None:
    assert checks.check_prediction_made(None, "ajuste fino", "extracción").passed is None
    assert checks.check_prediction_made("quizá", "ajuste fino", "extracción").passed is False


def test_conclusion_against_the_measurement_is_wrong() -> None:
    result = checks.check_measured_conclusion("a", TIE, "gana el ajuste fino", **ARMS)
    assert result.passed is False
    assert "no es lo que dice tu medición («empate»)" in result.message
    assert "Escribiste tu predicción" in result.message


@pytest.mark.parametrize("conclusion", ["empate", "b", "b) empate", "no se puede decidir"])
def test_a_tie_measurement_accepts_tie(conclusion: str) -> None:
    result = checks.check_measured_conclusion("a", TIE, conclusion, **ARMS)
    assert result.passed is True and "empata" in result.message
    assert "el intervalo incluye el 0" in result.message
    assert "3 semillas emparejadas" in result.message  # el ruido, explicado
    assert "aciertos por imagen" in result.message  # y cómo contar también la prueba


def test_per_image_measurement_is_compared_paired_over_seeds_and_images() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    easy = rng.random(300) < 0.8  # las mismas imágenes fáciles para los dos brazos
    base = {s: easy & (rng.random(300) < 0.97) for s in range(4)}
    better = {s: v | (~easy & (np.arange(300) % 4 == 0)) for s, v in base.items()}
    measured = {"ajuste fino": better, "extracción": base}
    result = checks.check_measured_conclusion("a", measured, "a", **{**ARMS, "n_test": 300})
    assert result.passed is True and "gana a «extracción»" in result.message
    assert "imágenes de prueba" in result.message and "emparejada" in result.message
    other_test = {**measured, "extracción": {s: v[:200] for s, v in base.items()}}
    result = checks.check_measured_conclusion("a", other_test, "a", **{**ARMS, "n_test": 300})
    assert result.passed is False and "misma prueba" in result.message
    bad_metric = checks.check_measured_conclusion("a", measured, "a", **ARMS, metric="f1")
    assert bad_metric.passed is None and "No se pudo comprobar" in bad_metric.message


def test_a_wrong_prediction_does_not_fail_the_exercise() -> None:
    result = checks.check_measured_conclusion("c", WINS, "a", **ARMS)
    assert result.passed is True and "salió lo contrario" in result.message
    result = checks.check_measured_conclusion("empate", WINS, "gana el ajuste fino", **ARMS)
    assert result.passed is True and "Predijiste un empate" in result.message


def test_a_win_measurement_rejects_tie_and_the_other_arm() -> None:
    assert checks.check_measured_conclusion("a", WINS, "empate", **ARMS).passed is False
    assert checks.check_measured_conclusion("a", WINS, "gana la extracción", **ARMS).passed is False
    assert checks.check_measured_conclusion(None, WINS, "ajuste fino", **ARMS).passed is True


def test_conclusion_needs_a_real_measurement() -> None:
    assert checks.check_measured_conclusion("a", None, "empate", **ARMS).passed is None
    one_seed = {"ajuste fino": [0.8], "extracción": [0.7]}
    result = checks.check_measured_conclusion("a", one_seed, "a", **ARMS)
    assert result.passed is False and "al menos 2 semillas" in result.message
    result = checks.check_measured_conclusion("a", {"ajuste fino": [0.8, 0.9]}, "a", **ARMS)
    assert result.passed is False and "Falta el brazo «extracción»" in result.message
    percent = {"ajuste fino": [80, 82], "extracción": [78, 79]}
    assert checks.check_measured_conclusion("a", percent, "a", **ARMS).passed is False
    assert checks.check_measured_conclusion("a", TIE, None, **ARMS).passed is None


@pytest.mark.parametrize("bad", [{"n_test": 0}, {"n_test": "581"}, {"arm": "extracción"},
                                 {"reference": None}, {"min_seeds": 0}])
def test_teacher_side_errors_cannot_be_checked(bad: dict) -> None:
    result = checks.check_measured_conclusion("a", TIE, "empate", **{**ARMS, **bad})
    assert result.passed is None and "No se pudo comprobar" in result.message


def test_depth_choice_best_by_validation_and_test_once() -> None:
    validation = {9: 0.80, 8: [0.82, 0.80], 7: 0.84}
    result = checks.check_depth_choice(7, validation, {7: 0.78}, n_val=233)
    assert result.passed is True and "una sola vez" in result.message and "ruido" in result.message
    result = checks.check_depth_choice(8, validation, {8: 0.80})
    assert result.passed is False and "la mejor de tu barrido es 7" in result.message
    result = checks.check_depth_choice(7, validation, {7: 0.78, 9: 0.77})
    assert result.passed is False and "Miraste la prueba en 2" in result.message
    result = checks.check_depth_choice(7, validation, {9: 0.77})
    assert result.passed is False
    assert checks.check_depth_choice(7, validation, None).passed is None
    assert checks.check_depth_choice(None, validation, None).passed is None
    assert checks.check_depth_choice(7, {7: 0.8}, {7: 0.8}).passed is False
    assert checks.check_depth_choice(7, validation, {7: 0.8}, n_val=0).passed is None


def _size_rows(means: dict[int, float]) -> list[dict]:
    full = max(means)  # las semillas de los tamaños menores varían ±1.5 puntos frente a él
    return [{"method": "extraccion", "n_train": n, "seed": s,
             "test_acc": m + 0.005 * s + (0 if n == full else (0.015, -0.015, 0.0)[s])}
            for n, m in means.items() for s in range(3)]


def test_data_needed_reads_the_curve_by_interval() -> None:
    rows = _size_rows({10: 0.70, 100: 0.80, 500: 0.84, 1000: 0.85})
    assert checks.check_data_needed(500, rows, n_test=600).passed is True
    result = checks.check_data_needed(100, rows, n_test=600)
    assert result.passed is False and "todavía se pierde" in result.message
    assert checks.check_data_needed(1000, rows, n_test=600).passed is False
    # n_test ya no ensancha la diferencia emparejada (antes, con 150 imágenes, 100 «empataba»)
    assert checks.check_data_needed(500, rows, n_test=150).passed is True
    assert checks.check_data_needed(None, rows, n_test=600).passed is None


def test_data_needed_when_only_the_full_set_holds() -> None:
    rows = _size_rows({10: 0.50, 100: 0.60, 1000: 0.85})   # todos los menores pierden
    result = checks.check_data_needed(1000, rows, n_test=600)
    assert result.passed is True and "hace falta el conjunto entero" in result.message
    assert "no se distingue de la de 1000" not in result.message
    assert checks.check_data_needed(100, rows, n_test=600).passed is False


@pytest.mark.parametrize("rows,n_test", [([], 600), (None, 600), ([{"x": 1}], 600),
                                         (_size_rows({10: 0.7, 20: 0.8}), 0)])
def test_data_needed_teacher_errors(rows: object, n_test: int) -> None:
    result = checks.check_data_needed(100, rows, n_test=n_test)
    assert result.passed is None and "No se pudo comprobar" in result.message
