"""nbgrader de verdad sobre los cuadernos del curso: generate_assignment y autograde.

Un curso de nbgrader en una carpeta temporal (la configuración es la del README, sección para
docentes). ``generate_assignment`` se hace con los diez cuadernos (no ejecuta nada: es rápido) y
se comprueba que ninguna solución llega a la versión publicada. ``autograde`` ejecuta el cuaderno
entero, así que se hace con los dos más baratos (00_guia, un ejercicio, y 09_playground, tres, unos
10 s cada uno): una alumna responde bien en unos ejercicios, mal en otro y deja otro sin hacer, y
se comprueban las notas celda a celda. Sin red.
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

pytest.importorskip("nbgrader")
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
COURSE = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STUB = "# TU RESPUESTA AQUÍ"
CONFIG = f'''c = get_config()
c.CourseDirectory.course_id = "laboratorio"
c.ClearSolutions.code_stub = {{"python": "{STUB}"}}
c.ClearSolutions.text_stub = "_Escribe aquí tu respuesta._"
c.Execute.timeout = 600
'''
# Respuestas de la alumna: grade_id -> código (None = lo deja sin hacer).
ANSWERS = {
    "00_guia": {"ejercicio_1": 'respuesta = 6'},
    "09_playground": {
        "ejercicio_1": 'entrenables = 12345',  # mal
        "ejercicio_2": ('k = resultado.classes.index("grieta")\n'
                        'deteccion = float(resultado.confusion[k, k] / '
                        'resultado.confusion[k].sum())'),  # bien (lee su matriz)
        "ejercicio_3": None,  # sin hacer
    },
}
EXPECTED = {"00_guia": {"ejercicio_1_prueba": 1.0},
            "09_playground": {"ejercicio_1_prueba": 0.0, "ejercicio_2_prueba": 1.0,
                              "ejercicio_3_prueba": 0.0}}


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


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("curso")
    (root / "nbgrader_config.py").write_text(CONFIG)
    (root / "source" / "ps1").mkdir(parents=True)
    for path in COURSE:
        shutil.copy(path, root / "source" / "ps1" / path.name)
    _nbgrader(root, "generate_assignment", "ps1", "--force")
    return root


@pytest.mark.parametrize("path", COURSE, ids=[p.stem for p in COURSE])
def test_released_version_has_no_solution(course, path):
    released = nbformat.read(course / "release" / "ps1" / path.name, as_version=4)
    text = "\n".join(c.source for c in released.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    shown = set(text.split("\n"))
    leaked = [ln for ln in _solution_lines(nbformat.read(path, as_version=4))
              if ln in shown and not ln.startswith("#")]
    assert not leaked, f"la versión publicada deja ver la solución: {leaked}"
    assert STUB in text
    assert all(not c.get("outputs") for c in released.cells if c.cell_type == "code")
    locked = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("locked")]
    assert locked and all(c.metadata.get("editable") is False for c in locked)


def _submit(course: Path, student: str, name: str, answers: dict) -> None:
    nb = nbformat.read(course / "release" / "ps1" / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers.get(grade_id):
            assert STUB in cell.source
            cell.source = cell.source.replace(STUB, answers[grade_id])
    folder = course / "submitted" / student / "ps1"
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


def test_autograde_gives_the_expected_points(course, monkeypatch):
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", _path_with_venv())
    for name, answers in ANSWERS.items():
        _submit(course, "alumna", name, answers)
    _nbgrader(course, "autograde", "ps1", "--student=alumna", "--force")
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for name, expected in EXPECTED.items():
            scores[name] = {gid: gb.find_grade(gid, name, "ps1", "alumna").score
                            for gid in expected}
    assert scores == EXPECTED
    graded = nbformat.read(course / "autograded" / "alumna" / "ps1" / "09_playground.ipynb", 4)
    errors = "\n".join(o.get("evalue", "") for c in graded.cells for o in c.get("outputs", [])
                       if o.get("output_type") == "error")
    assert "Ejercicio sin responder" in errors  # el veredicto en español llega al docente
