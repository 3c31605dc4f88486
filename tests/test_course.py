"""El curso como un todo: cada cuaderno abre igual, funciona en Colab y Binder, y sus ejercicios
se pueden repartir sin soluciones."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from labkit.teacher import badges_markdown, list_notebooks, read_notebook, repo_url, strip_solutions
from labkit.teacher._course import BADGES_START, setup_cell_source

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = list_notebooks(ROOT / "notebooks")
EXPECTED = ["00_guia", "01_que_hace", "02_modelos_y_capas", "03_como_funciona",
            "04_extraccion_vs_ajuste_fino", "05_tasas_de_aprendizaje", "06_tamano_de_datos",
            "07_errores_comunes", "08_aplicaciones", "09_playground", "10_proyecto_final",
            "11_apendice_modelos"]


# Un cuaderno en un camino: `04` o `04_extraccion_vs_ajuste_fino`; un camino: cuadernos unidos por →.
_NB_REF = r"`(\d\d)(?:_\w+)?`"
_PATH = re.compile(rf"{_NB_REF}(?:\s*→\s*{_NB_REF})+")
# Lo que cada cuaderno dice necesitar, en su primera celda (hasta la línea en blanco o la marca siguiente).
_PREREQ = re.compile(r"\*\*(?:Necesitas|Antes|Conviene haber hecho|Lo que necesitas saber):\*\*"
                     r"(.*?)(?=\n\s*\n|\n\*\*|\Z)", re.DOTALL)


def _read(path: Path) -> nbformat.NotebookNode:
    return read_notebook(path)


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


def learning_paths(text: str) -> list[list[str]]:
    """Los caminos de un texto: cada cadena `01` → `02` → … como lista de números de cuaderno."""
    return [re.findall(_NB_REF, m.group(0)) for m in _PATH.finditer(text)]


def prerequisites(path: Path) -> set[str]:
    """Los cuadernos que un cuaderno dice necesitar en su primera celda («Antes:», «Necesitas:»…)."""
    first = _read(path).cells[0].source
    return {ref for block in _PREREQ.findall(first) for ref in re.findall(_NB_REF, block)}


def missing_prerequisites(path: list[str], needs: dict[str, set[str]]) -> list[str]:
    """Qué cuaderno del camino llega sin alguno de sus requisitos antes que él."""
    return [f"{nb} necesita {', '.join(sorted(needs.get(nb, set()) - set(path[:i])))}"
            for i, nb in enumerate(path) if needs.get(nb, set()) - set(path[:i])]


def _course_paths() -> list[tuple[str, list[str]]]:
    guide = "\n".join(c.source for c in _read(ROOT / "notebooks" / "00_guia.ipynb").cells
                      if c.cell_type == "markdown")
    readme = (ROOT / "README.md").read_text()
    return ([("00_guia", p) for p in learning_paths(guide)]
            + [("README.md", p) for p in learning_paths(readme)])


def test_prerequisites_are_read_from_each_notebook():
    needs = {p.stem[:2]: prerequisites(p) for p in NOTEBOOKS}
    assert needs["03"] == {"01", "02"} and needs["08"] == {"04", "05", "07"}
    assert needs["01"] == set() and needs["11"] == {"02"}


def test_the_path_check_catches_a_skipped_prerequisite():
    needs = {p.stem[:2]: prerequisites(p) for p in NOTEBOOKS}
    assert missing_prerequisites(["01", "02", "03", "04", "05", "08"], needs) == ["08 necesita 07"]
    assert missing_prerequisites(["04", "05", "06", "07"], needs)


def test_every_learning_path_includes_its_prerequisites():
    needs = {p.stem[:2]: prerequisites(p) for p in NOTEBOOKS}
    paths = _course_paths()
    assert sum(where == "00_guia" for where, _ in paths) >= 3, "la guía tiene tres caminos"
    assert sum(where == "README.md" for where, _ in paths) >= 3, "el README tiene tres caminos"
    bad = [f"{where}: {' → '.join(p)}: {'; '.join(missing_prerequisites(p, needs))}"
           for where, p in paths if missing_prerequisites(p, needs)]
    assert not bad, "caminos que se saltan un requisito:\n" + "\n".join(bad)
