"""nbgrader de verdad: generate_assignment con los cuadernos del curso y autograde con una tarea mínima.

Un curso de nbgrader en una carpeta temporal (la configuración es la del README, sección para
docentes). ``generate_assignment`` se hace con todos los cuadernos del curso (no ejecuta nada: es
rápido) y se comprueba que ninguna solución llega a la versión publicada. ``autograde`` ejecuta el
cuaderno entero, así que no usa el curso (nbval ya lo ejecuta una vez): usa una tarea mínima hecha
para la prueba con las mismas herramientas de docente (``python -m labkit nbgrader``): tres
ejercicios autocorregidos (la comprobación de una línea y la de varias, que pasa a ser una función)
y una respuesta escrita que se corrige a mano. Una alumna responde bien uno, mal otro y deja otro
sin hacer; otra lo responde todo bien; se comprueban las notas celda a celda. Sin red.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from labkit.teacher import list_notebooks, read_notebook, write_notebooks

pytest.importorskip("nbgrader")
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
COURSE = list_notebooks(REPO / "notebooks")
STUB = "# TU RESPUESTA AQUÍ"
TEXT_STUB = "_Escribe aquí tu respuesta._"
CONFIG = f'''c = get_config()
c.CourseDirectory.course_id = "laboratorio"
c.ClearSolutions.code_stub = {{"python": "{STUB}"}}
c.ClearSolutions.text_stub = "{TEXT_STUB}"
c.Execute.timeout = 600
'''
MINI = "mini"  # la tarea mínima (un cuaderno, segundos por alumna)
MINI_SOURCE = [
    ("code", "import labkit"),
    ("code", "respuesta = None\n### BEGIN SOLUTION\nrespuesta = 6 * 7\n### END SOLUTION\n"
             "labkit.checks.check_value(respuesta, 42, tol=0)"),
    ("code", "doble = None\n### BEGIN SOLUTION\ndoble = 2 * 21\n### END SOLUTION\n"
             "esperado = 40 + 2\nlabkit.checks.check_value(doble, esperado, tol=0)"),
    ("code", "mitad = None\n### BEGIN SOLUTION\nmitad = 42 // 2\n### END SOLUTION\n"
             "labkit.checks.check_value(mitad, 21, tol=0)"),
    ("markdown", "¿Por qué?\n\n=== BEGIN SOLUTION\nPorque 6 × 7 = 42.\n=== END SOLUTION"),
]
# Respuestas de cada alumna: grade_id -> código (None = lo deja sin hacer).
ANSWERS = {
    "alumna": {"ejercicio_1": "respuesta = 42",       # bien
               "ejercicio_2": "doble = 41",           # mal (comprobación de varias líneas)
               "ejercicio_3": None,                   # sin hacer
               "pregunta_1": "Porque sí."},          # escrita: la corrige el docente
    "alumno": {"ejercicio_1": "respuesta = 6 * 7", "ejercicio_2": "doble = 42",
               "ejercicio_3": "mitad = 21", "pregunta_1": None},
}
EXPECTED = {"alumna": {"ejercicio_1_prueba": 1.0, "ejercicio_2_prueba": 0.0,
                       "ejercicio_3_prueba": 0.0},
            "alumno": {"ejercicio_1_prueba": 1.0, "ejercicio_2_prueba": 1.0,
                       "ejercicio_3_prueba": 1.0}}


def _path_with_venv() -> str:
    """nbgrader llama a ``alembic`` por su nombre: el bin del entorno debe estar en el PATH."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def _nbgrader(course: Path, *args: str) -> str:
    env = dict(os.environ, OMP_NUM_THREADS="1", PATH=_path_with_venv())
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"nbgrader {args[0]} falló:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def _solution_lines(nb) -> list[str]:
    lines = []
    for cell in nb.cells:
        block = re.findall(r"BEGIN SOLUTION\n(.*?)\n[ \t]*(?:#+|=+) END SOLUTION", cell.source, re.S)
        lines += [ln.strip() for b in block for ln in b.splitlines() if ln.strip()]
    return lines


def _mini_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(src) if kind == "code" else
                nbformat.v4.new_markdown_cell(src) for kind, src in MINI_SOURCE]
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """El curso de nbgrader: ps1 (los cuadernos del curso) y la tarea mínima, ya publicados."""
    from labkit.__main__ import main

    root = tmp_path_factory.mktemp("curso")
    (root / "nbgrader_config.py").write_text(CONFIG)
    (root / "source" / "ps1").mkdir(parents=True)
    for path in COURSE:
        shutil.copy(path, root / "source" / "ps1" / path.name)
    mini = root / "source" / MINI
    mini.mkdir()
    write_notebooks({mini / f"{MINI}.ipynb": _mini_notebook()})
    assert main(["nbgrader", str(mini)]) == 0  # los metadatos de nbgrader, con la herramienta del docente
    _nbgrader(root, "generate_assignment", "ps1", "--force")
    _nbgrader(root, "generate_assignment", MINI, "--force")
    return root


def test_the_mini_assignment_is_marked_like_the_course(course):
    nb = read_notebook(course / "source" / MINI / f"{MINI}.ipynb")
    meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    answers = [m["grade_id"] for m in meta if m.get("solution") and not m.get("grade")]
    tests = [m["grade_id"] for m in meta if m.get("locked") and m.get("grade")]
    written = [m["grade_id"] for m in meta if m.get("solution") and m.get("grade")]
    assert answers == ["ejercicio_1", "ejercicio_2", "ejercicio_3"]
    assert tests == [f"{a}_prueba" for a in answers] and written == ["pregunta_1"]
    assert "def _comprobacion():" in nb.cells[4].source  # la comprobación de varias líneas


@pytest.mark.parametrize("path", [*COURSE, None], ids=[p.stem for p in COURSE] + [MINI])
def test_released_version_has_no_solution(course, path):
    assignment = "ps1" if path is not None else MINI
    path = path or course / "source" / MINI / f"{MINI}.ipynb"
    released = read_notebook(course / "release" / assignment / path.name)
    text = "\n".join(c.source for c in released.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    shown = set(text.split("\n"))
    leaked = [ln for ln in _solution_lines(read_notebook(path))
              if ln in shown and not ln.startswith("#")]
    assert not leaked, f"la versión publicada deja ver la solución: {leaked}"
    assert STUB in text
    assert all(not c.get("outputs") for c in released.cells if c.cell_type == "code")
    locked = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("locked")]
    assert locked and all(c.metadata.get("editable") is False for c in locked)


def _submit(course: Path, student: str, answers: dict) -> None:
    nb = read_notebook(course / "release" / MINI / f"{MINI}.ipynb")
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers.get(grade_id):
            stub = STUB if cell.cell_type == "code" else TEXT_STUB
            assert stub in cell.source
            cell.source = cell.source.replace(stub, answers[grade_id])
    folder = course / "submitted" / student / MINI
    folder.mkdir(parents=True, exist_ok=True)
    write_notebooks({folder / f"{MINI}.ipynb": nb})


def test_autograde_gives_the_expected_points(course, monkeypatch):
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", _path_with_venv())
    for student, answers in ANSWERS.items():
        _submit(course, student, answers)
    _nbgrader(course, "autograde", MINI, "--force")
    scores, manual = {}, {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student, expected in EXPECTED.items():
            scores[student] = {gid: gb.find_grade(gid, MINI, MINI, student).score
                               for gid in expected}
            written = gb.find_grade("pregunta_1", MINI, MINI, student)
            manual[student] = (written.needs_manual_grade, written.max_score)
        blank = gb.find_grade("pregunta_1", MINI, MINI, "alumno").score
    assert scores == EXPECTED
    # la respuesta escrita queda para el docente; sin escribir (el texto de la plantilla), un 0
    assert manual == {"alumna": (True, 1.0), "alumno": (False, 1.0)} and blank == 0
    graded = read_notebook(course / "autograded" / "alumna" / MINI / f"{MINI}.ipynb")
    errors = "\n".join(o.get("evalue", "") for c in graded.cells for o in c.get("outputs", [])
                       if o.get("output_type") == "error")
    assert "Ejercicio sin responder" in errors  # el veredicto en español llega al docente
