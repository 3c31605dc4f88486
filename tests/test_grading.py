"""Metadatos de nbgrader en los ejercicios (labkit.teacher): al día en cada cuaderno e idempotentes."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from labkit.__main__ import main
from labkit.base import LabkitError
from labkit.checks import CheckResult, require
from labkit.teacher import (
    list_notebooks,
    mark_notebook,
    mark_notebooks,
    read_notebook,
    write_notebooks,
)
from labkit.teacher._grading import TEST_HEADER

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = list_notebooks(ROOT / "notebooks")
EXERCISE = ('respuesta = None\n### BEGIN SOLUTION\nrespuesta = "a"\n### END SOLUTION\n'
            'labkit.checks.check_mode_choice(respuesta, n_images=50)')


def _nb(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def _meta(cell) -> dict:
    return dict(cell.metadata.get("nbgrader", {}))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_course_notebook_carries_up_to_date_nbgrader_metadata(path):
    nb = read_notebook(path)
    assert mark_notebook(nb, path.name) == nb, (
        f"{path.name}: los metadatos de nbgrader no están al día; ejecuta "
        "«python -m labkit nbgrader notebooks/»")
    cells = nb.cells
    answers = [i for i, c in enumerate(cells) if "### BEGIN SOLUTION" in c.source]
    assert answers
    predictions = [i for i in answers if "check_prediction_made(" in cells[i].source]
    written = [c for c in cells if c.cell_type == "markdown" and "=== BEGIN SOLUTION" in c.source]
    for i in answers:
        assert _meta(cells[i])["solution"] is True and _meta(cells[i])["grade"] is False
        if i in predictions:   # sin puntos: el punto llega con la medición y su lectura
            assert not _is_test(cells[i + 1])
            continue
        test = _meta(cells[i + 1])
        assert test["grade"] and test["locked"] and not test["solution"] and test["points"] == 1
        assert cells[i + 1].source.startswith(TEST_HEADER)
    for cell in written:   # preguntas escritas: a mano
        assert _meta(cell)["grade"] and _meta(cell)["solution"] and not _meta(cell)["locked"]
    ids = [_meta(c)["grade_id"] for c in cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)) == 2 * len(answers) - len(predictions) + len(written)


def _is_test(cell) -> bool:
    return str(_meta(cell).get("grade_id", "")).endswith("_prueba")


def test_marking_is_idempotent_and_keeps_the_test_cell():
    once = mark_notebook(_nb("x = 1", EXERCISE, "y = 2"))
    assert [c.source.split("\n")[0] for c in once.cells][:2] == ["x = 1", "respuesta = None"]
    assert once.cells[2].source.endswith(
        "labkit.checks.require(lambda: labkit.checks.check_mode_choice(respuesta, n_images=50))")
    once.cells[2].execution_count = 7
    twice = mark_notebook(once)
    assert twice == once and twice.cells[2].execution_count == 7


def test_the_test_cell_follows_a_changed_check_and_orphans_go():
    nb = mark_notebook(_nb(EXERCISE, "z = 3"))
    nb.cells[0].source = nb.cells[0].source.replace("n_images=50", "n_images=10_000")
    old_id = nb.cells[1].id
    again = mark_notebook(nb)
    assert "n_images=10_000" in again.cells[1].source and again.cells[1].id == old_id
    nb.cells.pop(0)  # el ejercicio desaparece: su celda de pruebas también
    assert [c.source for c in mark_notebook(nb).cells] == ["z = 3"]


def test_multi_statement_check_becomes_a_function():
    source = ("n = None\n### BEGIN SOLUTION\nn = 2\n### END SOLUTION\nesperado = 1 + 1\n"
              "labkit.checks.check_value(n, esperado,\n                          tol=0)")
    test = mark_notebook(_nb(source)).cells[1].source
    assert "def _comprobacion():\n    esperado = 1 + 1\n    return labkit.checks" in test
    assert "\n" + " " * (26 + 4 + 7) + "tol=0)" in test  # alineada tras «return »
    compile(test, "celda", "exec")


def test_written_answers_are_graded_by_hand():
    nb = _nb("x = 1")
    nb.cells.append(nbformat.v4.new_markdown_cell("=== BEGIN SOLUTION\nPorque sí.\n=== END SOLUTION"))
    meta = _meta(mark_notebook(nb).cells[1])
    assert meta["solution"] and meta["grade"] and meta["points"] == 1 and len(nb.cells) == 2


@pytest.mark.parametrize("source, match", [
    ('r = None\n### BEGIN SOLUTION\nr = 1\n### END SOLUTION\nprint(r)', "comprobación"),
    ('r = None\n### BEGIN SOLUTION\nr = 1\n', "END SOLUTION"),
])
def test_malformed_exercises_are_refused_in_spanish(source, match):
    with pytest.raises(LabkitError, match=match):
        mark_notebook(_nb(source), "x.ipynb")


def test_mark_notebooks_writes_nothing_if_one_notebook_is_wrong(tmp_path):
    write_notebooks({tmp_path / "a.ipynb": _nb(EXERCISE)})
    write_notebooks({tmp_path / "b.ipynb": _nb('r = 0\n### BEGIN SOLUTION\nr = 1\n')})
    before = (tmp_path / "a.ipynb").read_text()
    with pytest.raises(LabkitError):
        mark_notebooks(tmp_path)
    assert (tmp_path / "a.ipynb").read_text() == before
    (tmp_path / "b.ipynb").unlink()
    assert mark_notebooks(tmp_path) == [tmp_path / "a.ipynb"]
    assert mark_notebooks(tmp_path) == []
    assert main(["nbgrader", str(tmp_path / "no_existe")]) == 1


def test_require_does_nothing_outside_nbgrader(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    calls = []
    require(lambda: calls.append(1))
    assert calls == []


@pytest.mark.parametrize("passed", [False, None])
def test_require_fails_a_wrong_or_missing_answer_when_grading(monkeypatch, passed):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="mal"):
        require(lambda: CheckResult(passed, "❌ mal"))
    require(lambda: CheckResult(True, "✅ bien"))
