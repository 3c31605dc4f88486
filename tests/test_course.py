"""El curso como un todo: cada cuaderno abre igual, funciona en Colab y Binder, y sus ejercicios
se pueden repartir sin soluciones."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from labkit.course import BADGES_START, badges_markdown, repo_url, setup_cell_source
from labkit.exercises import strip_solutions

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXPECTED = ["00_guia", "01_que_hace", "02_modelos_y_capas", "03_como_funciona",
            "04_extraccion_vs_ajuste_fino", "05_tasas_de_aprendizaje", "06_tamano_de_datos",
            "07_errores_comunes", "08_aplicaciones", "09_playground", "10_proyecto_final"]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _ids(paths):
    return [p.stem for p in paths]


def test_course_has_every_notebook_of_the_map():
    present = {p.stem for p in NOTEBOOKS}
    missing = [name for name in EXPECTED if name not in present]
    assert not missing, f"faltan cuadernos del mapa del curso: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_opens_with_badges_objectives_and_setup(path):
    nb = _read(path)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    first, second = nb.cells[0], nb.cells[1]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert badges_markdown(path.name) in first.source, "insignias ausentes o desactualizadas"
    assert "Objetivos" in first.source and "Tiempo estimado" in first.source
    assert second.cell_type == "code" and second.source == setup_cell_source()


def test_setup_cell_installs_labkit_only_when_missing_and_upgrades_nothing():
    source = setup_cell_source()
    assert "except ImportError:" in source and repo_url() in source
    assert not re.search(r"-U\b|--upgrade|--force-reinstall", source)
    assert "torch" not in source.split("%pip", 1)[1].split("\n")[0].replace("ni", "")


def test_readme_badges_point_to_the_configured_repository():
    readme = (ROOT / "README.md").read_text()
    gh = repo_url().removeprefix("https://github.com/")
    assert f"colab.research.google.com/github/{gh}/" in readme
    assert f"mybinder.org/v2/gh/{gh}/" in readme


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_ends_with_checked_exercises(path):
    nb = _read(path)
    solutions = [c for c in nb.cells if c.cell_type == "code" and "### BEGIN SOLUTION" in c.source]
    assert solutions, "cada cuaderno termina con ejercicios"
    for cell in solutions:
        assert "labkit.checks." in cell.source, "cada ejercicio se comprueba con labkit.checks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_saved_solutions_pass_their_checks(path):
    """Las salidas guardadas (make notebooks) muestran que cada solución pasa su comprobación."""
    for cell in _read(path).cells:
        if cell.cell_type != "code" or "### BEGIN SOLUTION" not in cell.source:
            continue
        text = " ".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                        for o in cell.get("outputs", []))
        assert "✅" in text, f"la solución de esta celda no pasa su comprobación:\n{cell.source}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_student_version_hides_every_solution(path):
    nb = _read(path)
    student = strip_solutions(nb, path.name)
    hidden = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
            block = cell.source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
            hidden += [ln.strip() for ln in block.splitlines() if ln.strip()]
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    for line in hidden:
        assert line not in text.split("\n") or line.startswith("#"), f"se ve la solución: {line}"
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_light_and_saved_without_errors(path):
    assert path.stat().st_size < 3_000_000, "cuaderno de más de 3 MB"
    for cell in _read(path).cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"salida de error guardada en {path.name}"


def test_badges_marker_is_used_everywhere():
    assert all(BADGES_START in _read(p).cells[0].source for p in NOTEBOOKS)
