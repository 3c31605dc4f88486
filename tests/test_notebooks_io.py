"""labkit.teacher: listar en el orden del curso, leer con errores en español, escribir todo o nada."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import nbformat
import pytest
from helpers import disk_full_on_fsync
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labkit.__main__ import main
from labkit.base import LabkitError
from labkit.teacher import (
    NotebookChangedError,
    execute_notebook,
    list_notebooks,
    mark_notebooks,
    read_notebook,
    validate,
    write_notebooks,
    write_student_versions,
)
from labkit.teacher._course import BADGES_START
from labkit.teacher._notebooks import file_sha256, notebook_text


def _nb(*sources: str) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell(s) for s in sources])


def _broken() -> nbformat.NotebookNode:
    """Un cuaderno que no cumple el esquema (una celda de código sin ``source``)."""
    nb = _nb("x = 1")
    del nb.cells[0]["source"]
    return nb


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- listar ----------------------------------------------------------------------------------------

def test_list_follows_the_course_order_and_skips_what_is_not_a_course_notebook(tmp_path):
    for name in ("10_proyecto.ipynb", "2_modelos.ipynb", "00_guia.ipynb", "anexo.ipynb",
                 ".oculto.ipynb", "00_guia-checkpoint.ipynb", "notas.txt"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "01_dentro.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "carpeta.ipynb").mkdir()
    names = [p.name for p in list_notebooks(tmp_path)]
    assert names == ["00_guia.ipynb", "2_modelos.ipynb", "10_proyecto.ipynb", "anexo.ipynb"]
    assert list_notebooks(tmp_path / "anexo.ipynb", allow_file=True) == [tmp_path / "anexo.ipynb"]


def test_list_errors_are_spanish(tmp_path):
    with pytest.raises(LabkitError, match="No existe la carpeta"):
        list_notebooks(tmp_path / "nada")
    (tmp_path / "a.ipynb").write_text("{}", encoding="utf-8")
    with pytest.raises(LabkitError, match="no es una carpeta"):
        list_notebooks(tmp_path / "a.ipynb")
    (tmp_path / "vacia").mkdir()
    with pytest.raises(LabkitError, match="no hay cuadernos"):
        list_notebooks(tmp_path / "vacia")


def test_every_tool_lists_with_the_same_rule(tmp_path):
    """Checkpoints y ocultos rotos al lado: ninguna orden los lee (si los leyera, fallaría)."""
    course = tmp_path / "notebooks"
    course.mkdir()
    nb = new_notebook(cells=[new_markdown_cell(f"{BADGES_START}\nviejo\n<!-- /insignias -->"),
                             new_code_cell("r = None\n### BEGIN SOLUTION\nr = 1\n"
                                           "### END SOLUTION\nlabkit.checks.check_value(r, 1)")])
    write_notebooks({course / "01_a.ipynb": nb})
    for junk in (".oculto.ipynb", "01_a-checkpoint.ipynb"):
        (course / junk).write_text("{roto", encoding="utf-8")
    assert mark_notebooks(course) == [course / "01_a.ipynb"]
    assert main(["insignias", str(course)]) == 0
    assert write_student_versions(course, tmp_path / "alumnos") == [tmp_path / "alumnos" /
                                                                    "01_a.ipynb"]


# --- leer y validar --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("{no es json", r"«roto\.ipynb» no es un cuaderno válido: no es JSON"),
    (json.dumps({"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []}),
     r"«roto\.ipynb».*versión de formato.*se espera la 4"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                 "cells": [{"cell_type": "code"}]}), r"«roto\.ipynb» no es un cuaderno válido"),
    ("[]", r"«roto\.ipynb» no es un cuaderno válido"),
])
def test_a_corrupt_notebook_is_a_spanish_error_naming_the_file(tmp_path, text, message):
    path = tmp_path / "roto.ipynb"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LabkitError, match=message):
        read_notebook(path)


def test_a_missing_notebook_and_an_invalid_one_in_memory(tmp_path):
    with pytest.raises(LabkitError, match="No se pudo leer el cuaderno"):
        read_notebook(tmp_path / "no_esta.ipynb")
    with pytest.raises(LabkitError, match="«x.ipynb» no es un cuaderno válido"):
        validate(_broken(), "x.ipynb")
    validate(_nb("x = 1"), "bien.ipynb")


# --- escribir: todo o nada, atómico ----------------------------------------------------------------

def test_one_invalid_notebook_in_a_set_writes_nothing(tmp_path):
    write_notebooks({tmp_path / "01.ipynb": _nb("viejo = 1")})
    before = _files(tmp_path)
    with pytest.raises(LabkitError, match="«02.ipynb» no es un cuaderno válido"):
        write_notebooks({tmp_path / "01.ipynb": _nb("nuevo = 1"), tmp_path / "02.ipynb": _broken(),
                         tmp_path / "03.ipynb": _nb("z = 3")})
    assert _files(tmp_path) == before


def test_a_write_that_fails_half_way_changes_no_notebook(tmp_path, monkeypatch):
    """El disco se llena con el segundo temporal: el primero no se renombra y no queda basura."""
    paths = [tmp_path / "01.ipynb", tmp_path / "02.ipynb"]
    write_notebooks({p: _nb("viejo = 1") for p in paths})
    before = _files(tmp_path)
    disk_full_on_fsync(monkeypatch, 2)
    with pytest.raises(LabkitError, match="No cabe el cuaderno"):
        write_notebooks({p: _nb("nuevo = 2") for p in paths})
    assert _files(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01.ipynb", "02.ipynb"]


def test_written_notebooks_read_back_equal_and_are_readable_by_everyone(tmp_path):
    nb = _nb("print('hola')", "y = 2")
    (path,) = write_notebooks({tmp_path / "sub" / "a.ipynb": nb})
    assert path.read_text(encoding="utf-8") == notebook_text(nb)
    assert notebook_text(nb).endswith("\n") and read_notebook(path) == nb
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_notebook_that_changed_on_disk_is_not_replaced(tmp_path):
    path, other = tmp_path / "01.ipynb", tmp_path / "02.ipynb"
    write_notebooks({path: _nb("x = 1")})
    seen = file_sha256(path)
    path.write_text(path.read_text(encoding="utf-8").replace("x = 1", "x = 2"), encoding="utf-8")
    before = _files(tmp_path)
    with pytest.raises(NotebookChangedError, match="01.ipynb.*cambió en el disco"):
        write_notebooks({other: _nb("y"), path: _nb("x = 3")}, expected={path: seen})
    with pytest.raises(NotebookChangedError):  # None: no debía existir
        write_notebooks({path: _nb("x = 3")}, expected={path: None})
    assert _files(tmp_path) == before
    assert write_notebooks({path: _nb("x = 3")}, expected={path: file_sha256(path)}) == [path]


def test_a_link_or_a_folder_is_never_replaced(tmp_path):
    real = tmp_path / "real.ipynb"
    write_notebooks({real: _nb("x = 1")})
    (tmp_path / "enlace.ipynb").symlink_to(real)
    (tmp_path / "carpeta.ipynb").mkdir()
    for target in ("enlace.ipynb", "carpeta.ipynb"):
        with pytest.raises(LabkitError, match="no es un cuaderno normal"):
            write_notebooks({tmp_path / target: _nb("x = 2")})
    assert "x = 1" in real.read_text(encoding="utf-8")


# --- ejecutar --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_execute_runs_in_the_given_folder_and_names_the_failing_cell(tmp_path):
    (tmp_path / "dato.txt").write_text("42", encoding="utf-8")
    nb = _nb("print(open('dato.txt').read())")
    assert execute_notebook(nb, cwd=tmp_path, timeout=60) is nb
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    with pytest.raises(LabkitError, match=r"«t\.ipynb» falló en la celda 1 .*ValueError: mal"):
        execute_notebook(_nb("x = 1", "raise ValueError('mal')"), timeout=60, name="t.ipynb")
    with pytest.raises(LabkitError, match="núcleo «no_existe»"):
        execute_notebook(_nb("x = 1"), kernel_name="no_existe")
