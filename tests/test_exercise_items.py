"""Ejercicios que se pueden fallar: predicción con medición y lectura, lecturas de matrices y
umbrales, listones por encima de la ejecución por defecto y preguntas escritas corregidas a mano.

Todo se corrige con la medición del propio alumno: una respuesta que contradice **su** medición
falla; una que la respeta no puede fallar por lo que diga la guía.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import labkit.checks
from labkit.checks._practice import verdict_options
from labkit.experiments import compare
from labkit.teacher import mark_notebook, read_notebook, strip_solutions
from labkit.teacher._exercises import MARKDOWN_PLACEHOLDER

ROOT = Path(__file__).resolve().parent.parent
MINE = ["02_modelos_y_capas", "04_extraccion_vs_ajuste_fino", "06_tamano_de_datos",
        "07_errores_comunes", "09_playground", "10_proyecto_final"]
# Preguntas escritas: también en los cuadernos que no son de MINE.
WRITTEN = MINE + ["00_guia", "01_que_hace", "03_como_funciona", "05_tasas_de_aprendizaje",
                  "08_aplicaciones"]

ARMS = {"arm": "ajuste fino", "reference": "extracción"}
TIE = {"ajuste fino": [0.80, 0.78, 0.82], "extracción": [0.79, 0.80, 0.78]}  # empate, +1.0
WIN = {"ajuste fino": [0.90, 0.91, 0.92], "extracción": [0.80, 0.81, 0.80]}  # gana, +10.7


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(labkit.checks._verdicts, "_display", lambda result: None)


def _conclude(prediction, measurement, conclusion, reading):
    return labkit.checks.check_measured_conclusion(prediction, measurement, conclusion,
                                                   n_test=581, reading=reading, **ARMS)


def _reading_for(measurement: dict) -> str:
    d = compare(measurement, reference="extracción", n_test=581).difference("ajuste fino")
    return f"El ajuste fino queda a {100 * d.diff:+.1f} puntos de la extracción en mi medición."


# --- Una predicción solo puntúa con la medición y su lectura ----------------------------------

def test_prediction_alone_earns_nothing_in_nbgrader():
    cell = new_code_cell('prediccion = None\n### BEGIN SOLUTION\nprediccion = "a"\n'
                         '### END SOLUTION\nlabkit.checks.check_prediction_made(prediccion, '
                         'arm="ajuste fino", reference="extracción")')
    marked = mark_notebook(new_notebook(cells=[cell]))
    assert len(marked.cells) == 1, "una predicción no lleva celda de pruebas"
    meta = marked.cells[0].metadata["nbgrader"]
    assert meta["solution"] and not meta["grade"] and "points" not in meta


@pytest.mark.parametrize("prediction, measurement, conclusion, reading, state", [
    (None, None, None, None, None),              # todo en blanco: pendiente
    ("a", None, "empate", "x", None),            # predicción sin medición: nada
    (None, TIE, "empate", None, None),           # medición sin predicción: pendiente
    ("a", TIE, "empate", None, None),            # sin lectura: pendiente, no punto
    ("a", TIE, "empate", "empate", False),       # lectura sin cifras de la medición
    ("a", TIE, "empate", "el ajuste fino gana por +7.3 puntos", False),  # cifra inventada
    ("zzz", TIE, "empate", "ok", False),         # predicción que no se entiende
    ("a", TIE, "a", "gana el ajuste fino por un punto", False),  # contra su propia medición
])
def test_measured_conclusion_needs_prediction_measurement_and_reading(
        prediction, measurement, conclusion, reading, state):
    result = _conclude(prediction, measurement, conclusion, reading)
    assert result.passed is state, result.message
    if state is None:
        assert result.message.startswith("✏️ Ejercicio sin responder")


@pytest.mark.parametrize("measurement, right", [(TIE, "b"), (WIN, "a")])
def test_the_right_reading_of_the_learners_own_measurement_passes(measurement, right):
    for prediction in "abc":   # la predicción nunca decide el punto
        result = _conclude(prediction, measurement, right, _reading_for(measurement))
        assert result.passed is True, result.message


@pytest.mark.parametrize("measurement", [TIE, WIN])
def test_every_conclusion_choice_has_a_failing_answer(measurement):
    reading = _reading_for(measurement)
    outcomes = {c: _conclude("a", measurement, c, reading).passed
                for c in verdict_options(**ARMS)}
    assert sum(outcomes.values()) == 1 and list(outcomes.values()).count(False) == 2


def test_old_calls_without_reading_keep_working():
    result = labkit.checks.check_measured_conclusion(None, TIE, "empate", n_test=581, **ARMS)
    assert result.passed is True


def test_measured_conclusion_names_where_it_was_measured():
    gen = torch.Generator().manual_seed(0)
    hits = {arm: {s: torch.rand(200, generator=gen) < 0.8 for s in range(3)}
            for arm in ARMS.values()}                         # aciertos por imagen: emparejada
    on_test = labkit.checks.check_measured_conclusion(None, hits, "empate", n_test=200, **ARMS)
    on_val = labkit.checks.check_measured_conclusion(None, hits, "empate", n_test=200,
                                                     split="validación", **ARMS)
    assert on_test.passed is True and on_val.passed is True
    assert "de prueba" in on_test.message and "de prueba" not in on_val.message
    assert "200 imágenes de validación" in on_val.message
    bad = labkit.checks.check_measured_conclusion(None, hits, "empate", n_test=200,
                                                  split="test", **ARMS)
    assert bad.passed is None and "split='test'" in bad.message


# --- La clase cara en la matriz de confusión ----------------------------------------------------

MATRIX = torch.tensor([[40, 10], [5, 45]])   # filas: real; «maligno» es la fila 0: 40/50
CLASSES = ["maligno", "benigno"]


@pytest.mark.parametrize("answer, state, why", [
    (None, None, "sin responder"),
    (0.8, True, "detectó"),
    (80, True, "detectó"),                   # en %, también
    (40 / 45, False, "columna"),             # la precisión, no el acierto
    (0.85, False, "exactitud global"),
    (0.5, False, "no es el acierto"),
])
def test_class_recall_is_read_from_the_learners_matrix(answer, state, why):
    result = labkit.checks.check_class_recall(answer, MATRIX, CLASSES, "maligno")
    assert result.passed is state and why in result.message


def test_class_recall_blank_with_a_placeholder_matrix_is_pending():
    result = labkit.checks.check_class_recall(None, object(), CLASSES, "maligno")
    assert result.passed is None and result.message.startswith("✏️")


# --- El umbral, elegido en validación ------------------------------------------------------------

SCORES = [0.95, 0.9, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1]
LABELS = [1, 1, 0, 1, 1, 0, 0, 0]   # positivos: 0.95, 0.9, 0.6, 0.4


@pytest.mark.parametrize("threshold, state", [
    (None, None), (0.4, True), (0.35, True),   # entre 0.3 y 0.4: mismas decisiones
    (0.5, False),                              # detecta 3 de 4: menos del 100 %
    (0.25, False),                             # llega, pero con una falsa alarma de más
    (1.5, False),
])
def test_threshold_choice(threshold, state):
    result = labkit.checks.check_threshold_choice(threshold, SCORES, LABELS, positive=1,
                                                  min_recall=1.0)
    assert result.passed is state, result.message


def test_threshold_choice_every_candidate_fails_but_the_band():
    verdicts = {t: labkit.checks.check_threshold_choice(t, SCORES, LABELS, 1, 0.75).passed
                for t in SCORES}
    assert [t for t, ok in verdicts.items() if ok] == [0.6]


# --- Un listón por encima de la ejecución por defecto, medido por el alumno ---------------------

def _run(acc: float, **setup) -> SimpleNamespace:
    base = {"model_name": "m", "mode": "Extracción", "depth": 9, "n_train": 100, "epochs": 5,
            "ratio": 10.0}
    return SimpleNamespace(test_accuracy=acc, **{**base, **setup})


@pytest.mark.parametrize("new, state", [
    (None, None),
    (_run(0.96, epochs=15), True),      # 8 errores frente a 17: la mitad es 8
    (_run(0.945, epochs=15), False),    # mejora, pero no llega al listón
    (_run(0.99), False),                # la misma configuración: hay que cambiar algo
])
def test_fewer_errors_than_the_learners_default_run(new, state):
    result = labkit.checks.check_fewer_errors(new, _run(0.915), n_test=200)
    assert result.passed is state, result.message


def test_the_default_run_itself_never_passes():
    default = _run(0.915)
    assert labkit.checks.check_fewer_errors(default, default, n_test=200).passed is False


# --- Preguntas escritas: a mano en nbgrader, sin referencia en la versión del alumno -------------

QUESTION = ("**Pregunta 1.** ¿Por qué se elige en validación?\n\n"
            "=== BEGIN SOLUTION\nReferencia: porque la prueba solo se mira una vez.\n"
            "=== END SOLUTION\n<!-- puntos: 2 -->")


def _written_nb() -> nbformat.NotebookNode:
    return new_notebook(cells=[new_markdown_cell("# Título"), new_markdown_cell(QUESTION),
                               new_markdown_cell(QUESTION.replace("puntos: 2", "puntos: 1"))])


def test_nbgrader_grades_written_questions_by_hand():
    marked = mark_notebook(_written_nb())
    assert len(marked.cells) == 3   # sin celdas de pruebas
    metas = [c.metadata["nbgrader"] for c in marked.cells[1:]]
    assert [m["grade_id"] for m in metas] == ["pregunta_1", "pregunta_2"]
    assert [m["points"] for m in metas] == [2, 1]
    assert all(m["grade"] and m["solution"] and not m["locked"] for m in metas)
    assert "nbgrader" not in marked.cells[0].metadata


def test_written_points_out_of_range_are_refused():
    nb = new_notebook(cells=[new_markdown_cell(QUESTION.replace("2 -->", "99 -->"))])
    with pytest.raises(labkit.base.LabkitError, match="entre 1 y 10"):
        mark_notebook(nb, "x.ipynb")


def test_reference_answer_is_absent_from_the_student_version():
    student = strip_solutions(mark_notebook(_written_nb()))
    text = "\n".join(c.source for c in student.cells)
    assert "Referencia" not in text and "BEGIN SOLUTION" not in text
    assert MARKDOWN_PLACEHOLDER in student.cells[1].source
    assert "¿Por qué se elige en validación?" in student.cells[1].source
    assert student.cells[1].metadata["nbgrader"]["grade_id"] == "pregunta_1"


# --- Los cuadernos del curso ---------------------------------------------------------------------

def _nb(name: str) -> nbformat.NotebookNode:
    return read_notebook(ROOT / "notebooks" / f"{name}.ipynb")


def _written(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "markdown" and "BEGIN SOLUTION" in c.source]


@pytest.mark.parametrize("name", WRITTEN)
def test_each_notebook_has_three_to_five_written_questions_graded_by_hand(name):
    nb = _nb(name)
    questions = _written(nb)
    assert 3 <= len(questions) <= 5
    for cell in questions:
        meta = cell.metadata["nbgrader"]
        assert meta["grade"] and meta["solution"] and not meta["locked"] and meta["points"] >= 1
    student = "\n".join(c.source for c in strip_solutions(nb, name).cells)
    for cell in questions:
        reference = cell.source.split("BEGIN SOLUTION", 1)[1].split("END SOLUTION", 1)[0]
        for line in (ln.strip() for ln in reference.splitlines()):
            if len(line) > 20:
                assert line not in student, f"{name}: la referencia se ve («{line[:40]}»)"


_NO_POINTS_FOR_ALL = re.compile(r"check_mode_choice\(|check_accuracy_at_least\(|"
                                r"check_mode_measurement\(")


@pytest.mark.parametrize("name", MINE)
def test_no_graded_item_that_every_answer_passes(name):
    """Ni la regla práctica (todas valen entre 100 y 5000 imágenes) ni listones fijos que la
    ejecución por defecto ya supera; cada predicción puntúa solo con su medición y su lectura."""
    sources = [c.source for c in _nb(name).cells if c.cell_type == "code"]
    assert not any(_NO_POINTS_FOR_ALL.search(s) for s in sources)
    if any("check_prediction_made(" in s for s in sources):
        assert any("check_measured_conclusion(" in s and "reading=" in s for s in sources)


def test_extraction_or_fine_tuning_is_asked_at_most_twice_in_these_notebooks():
    asked = sum(1 for name in MINE for c in _nb(name).cells if c.cell_type == "code"
                and "BEGIN SOLUTION" in c.source and "check_prediction_made(" in c.source
                and 'arm="ajuste fino"' in c.source)
    assert asked <= 2
