"""Pruebas de labkit.teacher: la versión del alumno no tiene soluciones y sigue ejecutándose."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from helpers import disk_full_on_fsync
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labkit.__main__ import main
from labkit.base import LabkitError
from labkit.teacher import (
    execute_notebook,
    read_notebook,
    strip_solutions,
    write_notebooks,
    write_student_versions,
)

REPO_ROOT = Path(__file__).resolve().parent.parent

MODE_CELL = """respuesta = None
### BEGIN SOLUTION
respuesta = "extracción de características"
### END SOLUTION
labkit.checks.check_mode_choice(respuesta, n_images=50)"""

TWO_BLOCKS_CELL = """def doble(x):
    ### BEGIN SOLUTION
    return 2 * x  # SECRETO_1
    ### END SOLUTION

valor = ...
### BEGIN SOLUTION
valor = doble(5e-7)  # SECRETO_2
### END SOLUTION
labkit.checks.check_value(valor, 1e-6)"""

MARKDOWN_CELL = """**Pregunta:** ¿por qué?

=== BEGIN SOLUTION
Porque hay pocas imágenes (SECRETO_3).
=== END SOLUTION

Fin de la pregunta."""

NBGRADER = {"grade": False, "solution": True, "locked": False, "grade_id": "modo",
            "schema_version": 3}


def _exercise_notebook() -> nbformat.NotebookNode:
    """Un cuaderno pequeño con soluciones en código (sangradas y varias por celda) y Markdown."""
    mode = new_code_cell(MODE_CELL, execution_count=3, metadata={"nbgrader": dict(NBGRADER)})
    mode.outputs = [new_output("stream", name="stdout", text="✅ Correcto. SECRETO_OUT\n")]
    nb = new_notebook(cells=[
        new_code_cell("import labkit.checks"),
        new_markdown_cell(MARKDOWN_CELL),
        mode,
        new_code_cell(TWO_BLOCKS_CELL, execution_count=4),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["widgets"] = {"state": {"SECRETO_W": 1}}
    return nb


def _write(path: Path, nb: nbformat.NotebookNode) -> Path:
    """Escribe un cuaderno y devuelve su ruta."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_notebooks({path: nb})
    return path


def _texts(nb: nbformat.NotebookNode) -> str:
    """Todo el texto del cuaderno: fuentes y salidas."""
    return nbformat.writes(nb)


# --- strip_solutions ------------------------------------------------------------------------------

def test_strip_removes_solutions_and_markers() -> None:
    student = strip_solutions(_exercise_notebook())
    text = _texts(student)
    for secret in ("SECRETO_1", "SECRETO_2", "SECRETO_3", "SECRETO_OUT", "SECRETO_W",
                   "extracción de características", "SOLUTION"):
        assert secret not in text


def test_strip_keeps_indentation_and_surrounding_code() -> None:
    cells = strip_solutions(_exercise_notebook()).cells
    assert cells[2].source == ("respuesta = None\n# TU RESPUESTA AQUÍ\n"
                               "labkit.checks.check_mode_choice(respuesta, n_images=50)")
    assert "def doble(x):\n    pass  # TU RESPUESTA AQUÍ\n" in cells[3].source
    assert "valor = ...\n# TU RESPUESTA AQUÍ\nlabkit.checks.check_value" in cells[3].source
    assert cells[1].source == ("**Pregunta:** ¿por qué?\n\n_Escribe aquí tu respuesta._\n\n"
                               "Fin de la pregunta.")


def test_strip_clears_outputs_keeps_metadata_and_is_pure() -> None:
    original = _exercise_notebook()
    student = strip_solutions(original)
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert student.cells[2].metadata["nbgrader"] == NBGRADER
    assert student.metadata["kernelspec"]["name"] == "python3"
    assert original.cells[2].outputs and "SECRETO_1" in original.cells[3].source


def test_solution_cell_without_markers_is_replaced_whole() -> None:
    cell = new_code_cell("x = 42  # SECRETO", metadata={"nbgrader": dict(NBGRADER)})
    student = strip_solutions(new_notebook(cells=[cell, new_code_cell("y = 1")]))
    assert student.cells[0].source == "# TU RESPUESTA AQUÍ"
    assert student.cells[1].source == "y = 1"


@pytest.mark.parametrize("source, problem", [
    ("a = None\n### BEGIN SOLUTION\na = 1\n", "sin su «END SOLUTION»"),
    ("a = 1\n### END SOLUTION\n", "sin su «BEGIN SOLUTION»"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "dentro de otro"),
    ("a = None\n# begin solution\na = 1\n# end solution\n", "no es un marcador válido"),
])
def test_bad_markers_name_the_cell(source: str, problem: str) -> None:
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell(source)])
    with pytest.raises(LabkitError, match=problem) as info:
        strip_solutions(nb, name="03_ejercicio.ipynb")
    assert "«03_ejercicio.ipynb», celda 1" in str(info.value)


# --- write_student_versions -----------------------------------------------------------------------

@pytest.fixture
def course(tmp_path: Path) -> Path:
    """Una carpeta de cuadernos con ruido alrededor: otro archivo, subcarpeta y checkpoints."""
    src = tmp_path / "notebooks"
    _write(src / "01_a.ipynb", _exercise_notebook())
    _write(src / "02_b.ipynb", new_notebook(cells=[new_code_cell("z = 2")]))
    _write(src / ".ipynb_checkpoints" / "01_a-checkpoint.ipynb", _exercise_notebook())
    _write(src / "sub" / "03_c.ipynb", _exercise_notebook())
    (src / "notas.txt").write_text("no copiar", encoding="utf-8")
    return src


def test_write_student_versions(course: Path, tmp_path: Path) -> None:
    dest = tmp_path / "salida" / "alumnos"
    paths = write_student_versions(course, dest)
    assert paths == [dest / "01_a.ipynb", dest / "02_b.ipynb"]
    assert sorted(p.name for p in dest.iterdir()) == [".labkit_alumnos.json", "01_a.ipynb",
                                                     "02_b.ipynb"]
    student = read_notebook(dest / "01_a.ipynb")
    assert "SECRETO" not in _texts(student) and "# TU RESPUESTA AQUÍ" in _texts(student)
    assert "SECRETO_1" in (course / "01_a.ipynb").read_text(encoding="utf-8")


def test_rewrite_overwrites_unchanged_student_version(course: Path, tmp_path: Path) -> None:
    dest = tmp_path / "alumnos"
    write_student_versions(course, dest)
    nb = read_notebook(course / "02_b.ipynb")
    nb.cells[0].source = "z = 3"
    _write(course / "02_b.ipynb", nb)
    write_student_versions(str(course), str(dest))
    assert read_notebook(dest / "02_b.ipynb").cells[0].source == "z = 3"


def test_rewrite_never_overwrites_a_students_work(course: Path, tmp_path: Path) -> None:
    dest = tmp_path / "alumnos"
    write_student_versions(course, dest)
    (dest / "02_b.ipynb").write_text("trabajo del alumno", encoding="utf-8")
    before = (dest / "01_a.ipynb").read_bytes()
    with pytest.raises(LabkitError, match="cambió desde que se escribió"):
        write_student_versions(str(course), str(dest))
    assert (dest / "02_b.ipynb").read_text(encoding="utf-8") == "trabajo del alumno"
    assert (dest / "01_a.ipynb").read_bytes() == before


@pytest.mark.parametrize("dest_name", ["notebooks", "notebooks/../notebooks", "notebooks/."])
def test_refuses_same_folder(course: Path, tmp_path: Path, dest_name: str) -> None:
    before = (course / "01_a.ipynb").read_bytes()
    with pytest.raises(LabkitError, match="misma carpeta"):
        write_student_versions(course, tmp_path / dest_name)
    assert (course / "01_a.ipynb").read_bytes() == before


def test_refuses_same_folder_through_symlink(course: Path, tmp_path: Path) -> None:
    (tmp_path / "enlace").symlink_to(course, target_is_directory=True)
    with pytest.raises(LabkitError, match="misma carpeta"):
        write_student_versions(course, tmp_path / "enlace")


def test_refuses_missing_or_empty_source(tmp_path: Path) -> None:
    with pytest.raises(LabkitError, match="No existe la carpeta"):
        write_student_versions(tmp_path / "nada", tmp_path / "alumnos")
    (tmp_path / "vacia").mkdir()
    (tmp_path / "vacia" / "leeme.md").write_text("hola", encoding="utf-8")
    with pytest.raises(LabkitError, match="no hay cuadernos"):
        write_student_versions(tmp_path / "vacia", tmp_path / "alumnos")
    assert not (tmp_path / "alumnos").exists()


def test_refuses_file_as_source_or_dest(course: Path, tmp_path: Path) -> None:
    with pytest.raises(LabkitError, match="no es una carpeta"):
        write_student_versions(course / "01_a.ipynb", tmp_path / "alumnos")
    (tmp_path / "archivo").write_text("x", encoding="utf-8")
    with pytest.raises(LabkitError, match="no es una carpeta"):
        write_student_versions(course, tmp_path / "archivo")


def test_unbalanced_marker_writes_nothing(course: Path, tmp_path: Path) -> None:
    bad = new_notebook(cells=[new_markdown_cell("hola"), new_code_cell("### BEGIN SOLUTION\nx=1")])
    _write(course / "09_roto.ipynb", bad)
    with pytest.raises(LabkitError, match=r"«09_roto.ipynb», celda 1"):
        write_student_versions(course, tmp_path / "alumnos")
    assert not (tmp_path / "alumnos").exists()


def test_invalid_notebook_is_a_spanish_error(course: Path, tmp_path: Path) -> None:
    (course / "05_malo.ipynb").write_text("{no es json", encoding="utf-8")
    with pytest.raises(LabkitError, match="no es un cuaderno válido"):
        write_student_versions(course, tmp_path / "alumnos")


def test_a_full_disk_writes_no_notebook_and_leaves_no_temp_files(
        course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """El disco se llena al escribir el segundo cuaderno: el primero tampoco cambia."""
    dest = tmp_path / "alumnos"
    write_student_versions(course, dest)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    for name in ("01_a.ipynb", "02_b.ipynb"):
        nb = read_notebook(course / name)
        nb.cells.append(new_code_cell("nuevo = 1"))
        _write(course / name, nb)
    disk_full_on_fsync(monkeypatch, 2)
    with pytest.raises(LabkitError, match="No cabe el cuaderno"):
        write_student_versions(course, dest)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    monkeypatch.undo()
    write_student_versions(course, dest)  # después, sin el fallo, se escriben los dos
    assert all("nuevo = 1" in (dest / n).read_text(encoding="utf-8") for n in before if n[0] != ".")


def test_cli(course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "alumnos"
    assert main(["ejercicios", "--sin-soluciones", str(course), str(dest)]) == 0
    assert capsys.readouterr().out.split() == [str(dest / "01_a.ipynb"), str(dest / "02_b.ipynb")]
    assert main(["ejercicios", "--sin-soluciones", str(course), str(course)]) == 1
    assert "misma carpeta" in capsys.readouterr().err


# --- Ejecución real con un kernel -----------------------------------------------------------------

def _run(nb: nbformat.NotebookNode, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Ejecuta el cuaderno con el kernel ``python3`` y devuelve el texto de sus salidas."""
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    execute_notebook(nb, cwd=cwd, timeout=120)
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") + out.get("data", {}).get("text/plain", ""))
    return "\n".join(texts)


@pytest.mark.slow
def test_student_version_executes_and_says_unanswered(course: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (path,) = [p for p in write_student_versions(course, tmp_path / "al") if p.name == "01_a.ipynb"]
    output = _run(read_notebook(path), tmp_path, monkeypatch)
    assert output.count("Ejercicio sin responder") == 2
    assert "Traceback" not in output and "✅" not in output


@pytest.mark.slow
def test_solution_version_executes_and_passes(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    output = _run(_exercise_notebook(), tmp_path, monkeypatch)
    assert output.count("✅ Correcto.") == 2
    assert "sin responder" not in output and "CheckResult" not in output


# --- Predecir antes de medir (labkit.checks) ----------------------------------------------------

PREDICT_CELL = """prediccion = None
### BEGIN SOLUTION
prediccion = "a"
### END SOLUTION
labkit.checks.check_prediction_made(prediccion, arm="ajuste fino", reference="extracción")"""

# Un empate también con la t emparejada por semillas (diferencias +1, −2 y +4 puntos): antes lo era
# solo porque se sumaban dos binomiales independientes de n_test.
CONCLUDE_CELL = """medicion = None
conclusion = None
### BEGIN SOLUTION
medicion = {"ajuste fino": [0.80, 0.78, 0.82], "extracción": [0.79, 0.80, 0.78]}
conclusion = "empate"
### END SOLUTION
labkit.checks.check_measured_conclusion(prediccion, medicion, conclusion, arm="ajuste fino",
                                        reference="extracción", n_test=581)"""


def _practice_notebook() -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_code_cell("import labkit.checks"), new_code_cell(PREDICT_CELL),
                             new_code_cell(CONCLUDE_CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def test_student_version_of_a_prediction_keeps_the_measurement_to_do() -> None:
    student = strip_solutions(_practice_notebook())
    assert "prediccion = None\n# TU RESPUESTA AQUÍ" in student.cells[1].source
    assert '"empate"' not in student.cells[2].source
    assert "check_measured_conclusion(prediccion, medicion" in student.cells[2].source


@pytest.mark.slow
def test_prediction_exercises_run_for_student_and_teacher(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    student = _run(strip_solutions(_practice_notebook()), tmp_path, monkeypatch)
    assert student.count("Ejercicio sin responder") == 2 and "Traceback" not in student
    teacher = _run(_practice_notebook(), tmp_path, monkeypatch)
    assert "Predicción anotada" in teacher and "✅ Correcto. Tu conclusión («empate»)" in teacher
    assert "no se distingue" in teacher   # la predicción fallida se comenta, no suspende


PRACTICE_NOTEBOOKS = ["04_extraccion_vs_ajuste_fino", "06_tamano_de_datos", "08_aplicaciones",
                      "10_proyecto_final"]


@pytest.mark.parametrize("name", PRACTICE_NOTEBOOKS)
def test_course_predicts_before_it_measures(name: str) -> None:
    """En cada cuaderno, la predicción se anota en una celda anterior a la conclusión medida."""
    nb = read_notebook(REPO_ROOT / "notebooks" / f"{name}.ipynb")
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    predicted = [i for i, s in enumerate(sources) if "check_prediction_made(" in s
                 and "grading.require" not in s]
    concluded = [i for i, s in enumerate(sources) if "check_measured_conclusion(" in s
                 and "grading.require" not in s]
    assert predicted and concluded and max(predicted) < min(concluded)
