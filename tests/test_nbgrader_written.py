"""nbgrader de verdad con una tarea mínima: las preguntas escritas se corrigen a mano.

Una tarea de dos celdas marcada con :func:`labkit.teacher.mark_notebook` (una pregunta escrita
de 2 puntos y una predicción, que no puntúa): ``generate_assignment`` quita la respuesta de
referencia y ``autograde`` deja la pregunta pendiente de corrección manual. Sin red.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labkit.teacher import mark_notebook, read_notebook, write_notebooks

pytest.importorskip("nbgrader")
pytestmark = pytest.mark.slow

REFERENCE = "Referencia: la prueba se mira una sola vez, al final."
CONFIG = '''c = get_config()
c.CourseDirectory.course_id = "laboratorio"
c.ClearSolutions.code_stub = {"python": "# TU RESPUESTA AQUÍ"}
c.ClearSolutions.text_stub = "_Escribe aquí tu respuesta._"
'''


def _nbgrader(course: Path, *args: str) -> None:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, OMP_NUM_THREADS="1", PATH=path)
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"nbgrader {args[0]} falló:\n{result.stdout}\n{result.stderr}"


def _task() -> nbformat.NotebookNode:
    nb = new_notebook(cells=[
        new_code_cell("import labkit.checks"),
        new_code_cell('prediccion = None\n### BEGIN SOLUTION\nprediccion = "a"\n'
                      '### END SOLUTION\nlabkit.checks.check_prediction_made(prediccion, '
                      'arm="ajuste fino", reference="extracción")'),
        new_markdown_cell("**Pregunta 1.** ¿Por qué se elige con validación? <!-- puntos: 2 -->"
                          f"\n\n=== BEGIN SOLUTION\n{REFERENCE}\n=== END SOLUTION"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return mark_notebook(nb, "tarea.ipynb")


def test_written_question_is_stripped_and_graded_by_hand(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    (tmp_path / "nbgrader_config.py").write_text(CONFIG)
    (tmp_path / "source" / "ps1").mkdir(parents=True)
    write_notebooks({tmp_path / "source" / "ps1" / "tarea.ipynb": _task()})
    _nbgrader(tmp_path, "generate_assignment", "ps1", "--force")
    released = read_notebook(tmp_path / "release" / "ps1" / "tarea.ipynb")
    question = released.cells[2]
    assert REFERENCE not in question.source and "_Escribe aquí tu respuesta._" in question.source
    assert "¿Por qué se elige con validación?" in question.source
    question.source = question.source.replace("_Escribe aquí tu respuesta._", "Para no hacer trampa.")
    folder = tmp_path / "submitted" / "alumna" / "ps1"
    folder.mkdir(parents=True)
    write_notebooks({folder / "tarea.ipynb": released})
    _nbgrader(tmp_path, "autograde", "ps1", "--student=alumna", "--force")
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        grade = gb.find_grade("pregunta_1", "tarea", "ps1", "alumna")
        assert grade.needs_manual_grade and grade.max_score == 2
        notebook = gb.find_submission_notebook("tarea", "ps1", "alumna")
        assert notebook.max_score == 2   # la predicción no suma puntos
