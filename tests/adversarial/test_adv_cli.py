"""La línea de órdenes y el escritor de la versión del alumno ante usos equivocados u hostiles.

Nada se pierde (ni las soluciones del profesor ni el trabajo de un alumno), ninguna solución se
cuela en la versión del alumno y ningún cuaderno mal formado produce una traza en inglés.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labkit.__main__ import main
from labkit.base import LabkitError
from labkit.teacher import strip_solutions, write_student_versions
from labkit.teacher._course import BADGES_END, BADGES_START
from labkit.teacher._exercises import MANIFEST_NAME

SOLVED = "respuesta = None\n### BEGIN SOLUTION\nrespuesta = 'SECRETO_42'\n### END SOLUTION\nprint(respuesta)"


def _course(folder: Path, n: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        nb = new_notebook(cells=[
            new_markdown_cell(f"{BADGES_START}\nviejas\n{BADGES_END}\n# Cuaderno {i}"),
            new_code_cell(SOLVED, execution_count=1, outputs=[nbformat.v4.new_output(
                "stream", name="stdout", text="SECRETO_42\n")]),
        ])
        nbformat.write(nb, folder / f"0{i}_c.ipynb")
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.err


# ------------------------------------------------------------------------- ejercicios
def test_swapped_arguments_never_overwrite_the_course(tmp_path, capsys):
    course = _course(tmp_path / "notebooks")
    alumnos = tmp_path / "alumnos"
    assert _cli(capsys, "ejercicios", "--sin-soluciones", str(course), str(alumnos))[0] == 0
    before = _snapshot(course)
    code, err = _cli(capsys, "ejercicios", "--sin-soluciones", str(alumnos), str(course))
    assert code == 1 and "invertiste ORIGEN y DESTINO" in err
    assert _snapshot(course) == before


def test_student_folder_inside_the_course_as_source_is_refused(tmp_path, capsys):
    course = _course(tmp_path / "notebooks")
    assert _cli(capsys, "ejercicios", "--sin-soluciones", str(course), str(course / "alumnos"))[0] == 0
    before = _snapshot(course)
    code, err = _cli(capsys, "ejercicios", "--sin-soluciones", str(course / "alumnos"), str(course))
    assert code == 1 and "invertiste" in err
    assert _snapshot(course) == before


def test_a_destination_with_solutions_is_never_overwritten(tmp_path, capsys):
    course = _course(tmp_path / "notebooks")
    other = _course(tmp_path / "otro_curso")  # con soluciones, sin registro de labkit
    before = _snapshot(other)
    code, err = _cli(capsys, "ejercicios", "--sin-soluciones", str(course), str(other))
    assert code == 1 and "tiene soluciones" in err
    assert _snapshot(other) == before


def test_a_students_work_is_never_overwritten(tmp_path):
    course = _course(tmp_path / "notebooks")
    alumnos = tmp_path / "alumnos"
    write_student_versions(course, alumnos)
    nb = nbformat.read(alumnos / "01_c.ipynb", as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("# TU RESPUESTA AQUÍ", "respuesta = 'mía'")
    nbformat.write(nb, alumnos / "01_c.ipynb")
    before = _snapshot(alumnos)
    with pytest.raises(LabkitError, match="trabajo de un alumno"):
        write_student_versions(course, alumnos)
    assert _snapshot(alumnos) == before


@pytest.mark.parametrize("manifest", ["{roto", "[]", '{"cuadernos": 3}', '{"cuadernos": {"00_c.ipynb": 1}}'])
def test_a_broken_manifest_only_makes_it_more_careful(tmp_path, manifest):
    course = _course(tmp_path / "notebooks")
    alumnos = tmp_path / "alumnos"
    write_student_versions(course, alumnos)
    (alumnos / MANIFEST_NAME).write_text(manifest, encoding="utf-8")
    with pytest.raises(LabkitError, match="cambió desde que se escribió"):
        write_student_versions(course, alumnos)


def test_an_unknown_notebook_in_the_destination_is_kept(tmp_path):
    course = _course(tmp_path / "notebooks")
    alumnos = tmp_path / "alumnos"
    alumnos.mkdir()
    (alumnos / "00_c.ipynb").write_text("el alumno lo escribió a mano", encoding="utf-8")
    with pytest.raises(LabkitError, match="cambió desde que se escribió"):
        write_student_versions(course, alumnos)
    assert (alumnos / "00_c.ipynb").read_text(encoding="utf-8") == "el alumno lo escribió a mano"
    assert sorted(p.name for p in alumnos.iterdir()) == ["00_c.ipynb"]


def test_a_symlink_in_the_destination_is_not_followed(tmp_path):
    course = _course(tmp_path / "notebooks")
    alumnos = tmp_path / "alumnos"
    alumnos.mkdir()
    (alumnos / "00_c.ipynb").symlink_to(course / "00_c.ipynb")
    before = _snapshot(course)
    with pytest.raises(LabkitError, match="enlace"):
        write_student_versions(course, alumnos)
    assert _snapshot(course) == before


@pytest.mark.parametrize("source, dest", [(None, "x"), ("x", 3), ("", "x"), ("a\x00b", "x")])
def test_bad_paths_are_spanish_errors(source, dest):
    with pytest.raises(LabkitError, match="ruta"):
        write_student_versions(source, dest)


# ------------------------------------------------------------------------- nada se cuela
def _leaky_notebook() -> nbformat.NotebookNode:
    code = new_code_cell(SOLVED, metadata={"nbgrader": {"solution": True, "grade_id": "a"},
                                           "solucion_guardada": "respuesta = 'SECRETO_42'",
                                           "tags": ["ejercicio"]})
    md = new_markdown_cell("Pregunta\n=== BEGIN SOLUTION\n![](attachment:sol.png) SECRETO_MD\n"
                           "=== END SOLUTION\n![](attachment:enunciado.png)")
    md["attachments"] = {"sol.png": {"image/png": "U0VDUkVUTw=="},
                         "enunciado.png": {"image/png": "RU5VTkNJQURP"}}
    whole = new_markdown_cell("SECRETO_CELDA_ENTERA", metadata={"nbgrader": {"solution": True}})
    whole["attachments"] = {"x.png": {"image/png": "U0VDUkVUTw=="}}
    raw = nbformat.v4.new_raw_cell("### BEGIN SOLUTION\nSECRETO_RAW\n### END SOLUTION")
    nb = new_notebook(cells=[code, md, whole, raw])
    nb.metadata.update({"kernelspec": {"name": "python3", "display_name": "Python 3"},
                        "widgets": {"estado": "SECRETO_W"}, "apuntes": "SECRETO_META",
                        "language_info": {"name": "python"}})
    return nb


def test_no_solution_survives_anywhere_in_the_student_notebook():
    student = strip_solutions(_leaky_notebook(), "fuga.ipynb")
    text = nbformat.writes(student)
    assert "SECRETO" not in text and "U0VDUkVUTw==" not in text
    assert student.cells[1].attachments == {"enunciado.png": {"image/png": "RU5VTkNJQURP"}}
    assert "attachments" not in student.cells[2]
    assert student.cells[0].metadata == {"nbgrader": {"solution": True, "grade_id": "a"},
                                         "tags": ["ejercicio"]}
    assert set(student.metadata) == {"kernelspec", "language_info"}
    nbformat.validate(student)


def test_a_solution_hidden_in_kept_metadata_is_refused():
    nb = new_notebook(cells=[new_code_cell(SOLVED, metadata={"tags": ["respuesta = 'SECRETO_42'"]})])
    with pytest.raises(LabkitError, match="seguiría visible"):
        strip_solutions(nb, "fuga.ipynb")


# ------------------------------------------------------------------------- cuadernos mal formados
MALFORMED = {
    "vacio": "{}",
    "lista": "[]",
    "celdas_texto": json.dumps({"cells": "x", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
    "celda_sin_source": json.dumps({"cells": [{"cell_type": "code", "metadata": {}}],
                                    "metadata": {}, "nbformat": 4, "nbformat_minor": 4}),
    "source_numero": json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": 3}],
                                 "metadata": {}, "nbformat": 4, "nbformat_minor": 4}),
    "tipo_raro": json.dumps({"cells": [{"cell_type": "video", "metadata": {}, "source": ""}],
                             "metadata": {}, "nbformat": 4, "nbformat_minor": 4}),
    "version_99": json.dumps({"cells": [], "metadata": {}, "nbformat": 99, "nbformat_minor": 0}),
    "binario": "\udcff",
}


def _write_malformed(folder: Path, kind: str) -> None:
    data = MALFORMED[kind]
    path = folder / "09_roto.ipynb"
    if kind == "binario":
        path.write_bytes(b"\xff\xfe\x00garbage")
    else:
        path.write_text(data, encoding="utf-8")


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_ejercicios_on_a_malformed_notebook_is_a_spanish_error(tmp_path, capsys, kind):
    course = _course(tmp_path / "notebooks")
    _write_malformed(course, kind)
    code, err = _cli(capsys, "ejercicios", "--sin-soluciones", str(course), str(tmp_path / "al"))
    assert code == 1 and "no es un cuaderno válido" in err and "Traceback" not in err
    assert not (tmp_path / "al").exists()


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_insignias_validates_everything_before_writing(tmp_path, capsys, kind):
    course = _course(tmp_path / "notebooks")
    _write_malformed(course, kind)
    before = _snapshot(course)
    code, err = _cli(capsys, "insignias", str(course))
    assert code == 1 and "09_roto.ipynb" in err
    assert _snapshot(course) == before  # ninguno reescrito a medias


@pytest.mark.parametrize("kind", ["vacio", "celda_sin_source", "binario"])
def test_ejecutar_validates_every_notebook_before_running_any(tmp_path, capsys, kind):
    course = _course(tmp_path / "notebooks")
    _write_malformed(course, kind)
    before = _snapshot(course)
    code, err = _cli(capsys, "ejecutar", str(course))
    assert code == 1 and "09_roto.ipynb" in err and "no es un cuaderno válido" in err
    assert _snapshot(course) == before


def test_insignias_rewrites_when_all_are_valid(tmp_path, capsys):
    course = _course(tmp_path / "notebooks")
    code, _ = _cli(capsys, "insignias", str(course))
    assert code == 0
    assert "colab" in nbformat.read(course / "00_c.ipynb", as_version=4).cells[0].source


@pytest.mark.parametrize("args", [["ejercicios", "a", "b"], ["nada"], [], ["ejecutar", "a", "b"]])
def test_bad_command_lines_are_spanish(capsys, args):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert "la orden no es válida" in capsys.readouterr().err


def test_ejecutar_on_a_missing_folder(tmp_path, capsys):
    code, err = _cli(capsys, "ejecutar", str(tmp_path / "no_existe"))
    assert code == 1 and "No existe la carpeta" in err


def test_ejecutar_with_a_failing_cell_names_notebook_and_cell(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    folder = tmp_path / "nb"
    folder.mkdir()
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("1 / 0  # falla aquí")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "01_falla.ipynb")
    before = (folder / "01_falla.ipynb").read_bytes()
    code, err = _cli(capsys, "ejecutar", str(folder / "01_falla.ipynb"))
    assert code == 1
    assert "«01_falla.ipynb» falló en la celda 1" in err and "ZeroDivisionError" in err
    assert "Traceback" not in err
    assert (folder / "01_falla.ipynb").read_bytes() == before
