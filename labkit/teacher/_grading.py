"""Corrección con nbgrader: los metadatos de las celdas de ejercicio y la comprobación que puntúa.

Cada ejercicio del curso es una celda con la solución entre ``### BEGIN SOLUTION`` y
``### END SOLUTION`` seguida de su comprobación (``labkit.checks...``), que muestra un veredicto y
nunca lanza excepciones. nbgrader, en cambio, puntúa una celda «de pruebas» bloqueada: da los
puntos si la celda termina sin error. :func:`mark_notebook` prepara cada ejercicio para nbgrader:

- la celda del ejercicio pasa a ser «respuesta autocorregida» (``solution``), y
- justo detrás se añade (o se actualiza) una celda bloqueada de pruebas (``grade``, 1 punto) que
  repite la comprobación con :func:`labkit.checks.require`: fuera de nbgrader no hace nada; al
  corregir (``NBGRADER_EXECUTION``) repite la comprobación sin mostrarla y lanza ``AssertionError``
  con el veredicto si la respuesta no es correcta.

Dos excepciones:

- Una **pregunta escrita** (celda Markdown con ``=== BEGIN SOLUTION``; dentro, la respuesta de
  referencia para el profesor) es una «respuesta corregida a mano» de nbgrader (``grade_id``
  ``pregunta_N``, 1 punto o los que diga un ``<!-- puntos: N -->`` en la celda). La versión del
  alumno (:mod:`labkit.teacher`) cambia la referencia por ``_Escribe aquí tu respuesta._``.
- Una **predicción** (``labkit.checks.check_prediction_made``) es una respuesta sin celda de
  pruebas ni puntos: no hay predicción mala, y el punto llega con la medición y su lectura
  (``check_measured_conclusion(..., reading=lectura)``).

Todo es idempotente y se recalcula desde las celdas de ejercicio: ``python -m labkit nbgrader
notebooks/`` es la fuente de verdad tras editar un cuaderno.
"""

from __future__ import annotations

import ast
import copy
import os
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from ..base._errors import LabkitError
from ._notebooks import list_notebooks, read_notebook, write_notebooks

__all__ = ["TEST_HEADER", "mark_notebook", "mark_notebooks"]

TEST_HEADER = ("# Corrección automática con nbgrader (no cambies esta celda). Fuera de nbgrader\n"
               "# no hace nada; al corregir, repite la comprobación de arriba y da el punto.")
_BEGIN = re.compile(r"^[ \t]*(?:#+|=+)[ \t]*BEGIN SOLUTION\b")
_END = re.compile(r"^[ \t]*(?:#+|=+)[ \t]*END SOLUTION\b")
_TEST_ID = re.compile(r"^ejercicio_\d+_prueba$")
_POINTS = re.compile(r"<!--\s*puntos:\s*(\d+)\s*-->")
_UNGRADED = ("check_prediction_made(",)  # sin puntos: no hay respuesta mala


def _is_exercise(cell: NotebookNode) -> bool:
    """Una celda con un bloque de solución (código o Markdown)."""
    return any(_BEGIN.match(line) for line in cell.source.splitlines())


def _is_generated_test(cell: NotebookNode) -> bool:
    """Una celda de pruebas escrita por este módulo (se reconoce por su ``grade_id``)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(_TEST_ID.match(str(meta.get("grade_id", ""))))


def _check_code(cell: NotebookNode, where: str) -> str:
    """El código de comprobación de un ejercicio: lo que sigue al último ``END SOLUTION``.

    Args:
        cell: la celda del ejercicio.
        where: cómo nombrar la celda en los mensajes de error.

    Returns:
        Ese código, sin líneas en blanco al principio ni al final.
    """
    lines = cell.source.splitlines()
    ends = [i for i, line in enumerate(lines) if _END.match(line)]
    if not ends:
        raise LabkitError(f"{where}: hay un «BEGIN SOLUTION» sin su «### END SOLUTION».")
    tail = "\n".join(lines[ends[-1] + 1:]).strip("\n")
    if "labkit.checks." not in tail:
        raise LabkitError(f"{where}: tras «### END SOLUTION» debe ir la comprobación "
                          "(labkit.checks...), que es lo que nbgrader puntúa.")
    return tail


def _test_source(tail: str, where: str) -> str:
    """El código de la celda de pruebas: la comprobación envuelta en :func:`labkit.checks.require`.

    Args:
        tail: el código de comprobación del ejercicio.
        where: cómo nombrar la celda en los mensajes de error.

    Returns:
        El texto de la celda.
    """
    try:
        body = ast.parse(tail).body
    except SyntaxError as err:
        raise LabkitError(f"{where}: la comprobación no es Python válido ({err.msg}).") from err
    if len(body) == 1 and isinstance(body[0], ast.Expr):
        prefix = "labkit.checks.require(lambda: "  # las líneas de continuación, alineadas
        lines = tail.splitlines()
        wrapped = "\n".join([lines[0]] + [" " * len(prefix) + ln for ln in lines[1:]])
        return f"{TEST_HEADER}\n{prefix}{wrapped})"
    if not isinstance(body[-1], ast.Expr):
        raise LabkitError(f"{where}: la comprobación debe terminar con la llamada a labkit.checks.")
    lines = tail.splitlines()
    first, end = body[-1].lineno - 1, body[-1].end_lineno
    lines[first] = "return " + lines[first]
    lines[first + 1:end] = [" " * len("return ") + ln for ln in lines[first + 1:end]]
    code = "\n".join("    " + ln if ln.strip() else "" for ln in lines)
    return f"{TEST_HEADER}\ndef _comprobacion():\n{code}\n\n\nlabkit.checks.require(_comprobacion)"


def _written_points(cell: NotebookNode, where: str) -> int:
    """Los puntos de una pregunta escrita: 1, o los de ``<!-- puntos: N -->`` (de 1 a 10)."""
    found = _POINTS.findall(cell.source)
    if not found:
        return 1
    points = int(found[-1])
    if not 1 <= points <= 10:
        raise LabkitError(f"{where}: «<!-- puntos: {points} -->» debe estar entre 1 y 10.")
    return points


def _nbgrader(kind: str, grade_id: str, points: int = 1) -> dict:
    """Los metadatos de nbgrader de una celda (esquema 3).

    Args:
        kind: ``"answer"`` (respuesta autocorregida), ``"test"`` (pruebas, 1 punto, bloqueada) o
            ``"written"`` (respuesta escrita, corregida a mano).
        grade_id: el identificador de la celda, único en el cuaderno.
        points: los puntos de una celda que puntúa.

    Returns:
        El diccionario para ``cell.metadata["nbgrader"]``.
    """
    meta = {"grade": kind != "answer", "grade_id": grade_id, "locked": kind == "test",
            "schema_version": 3, "solution": kind != "test", "task": False}
    if meta["grade"]:
        meta["points"] = points
    return meta


def _test_cell(old: NotebookNode | None, source: str, grade_id: str) -> NotebookNode:
    """La celda de pruebas de un ejercicio, reutilizando la anterior si ya estaba igual.

    Args:
        old: la celda de pruebas que ya seguía al ejercicio, o None.
        source: el texto que debe tener.
        grade_id: su identificador.

    Returns:
        La celda (la misma ``old`` si no cambia nada, para conservar su id y su ejecución).
    """
    meta = _nbgrader("test", grade_id)
    if old is not None and old.source == source:
        old.metadata["nbgrader"] = meta
        return old
    cell = nbformat.v4.new_code_cell(source)
    if old is not None and "id" in old:
        cell.id = old.id
    cell.metadata["nbgrader"] = meta
    return cell


def mark_notebook(nb: NotebookNode, name: str | None = None) -> NotebookNode:
    """Prepara un cuaderno para nbgrader (ver el docstring del módulo). No modifica ``nb``.

    Args:
        nb: el cuaderno (nbformat 4).
        name: el nombre del cuaderno, para los mensajes de error.

    Returns:
        Una copia con los metadatos de nbgrader y las celdas de pruebas al día.

    Raises:
        LabkitError: si un ejercicio no tiene su ``END SOLUTION`` o su comprobación detrás.
    """
    out = copy.deepcopy(nb)
    cells, number, written = [], 0, 0
    source_cells = list(out.cells)
    for index, cell in enumerate(source_cells):
        if _is_generated_test(cell):
            continue  # se rehace detrás de su ejercicio (o desaparece si ya no lo hay)
        cells.append(cell)
        if not _is_exercise(cell):
            continue
        where = f"«{name or 'cuaderno'}», celda {index}"
        if cell.cell_type != "code":
            written += 1
            cell.metadata["nbgrader"] = _nbgrader("written", f"pregunta_{written}",
                                                  _written_points(cell, where))
            continue
        number += 1
        grade_id = f"ejercicio_{number}"
        check = _check_code(cell, where)
        if any(f"labkit.checks.{u}" in check for u in _UNGRADED):
            cell.metadata["nbgrader"] = _nbgrader("answer", grade_id)
            continue  # sin celda de pruebas: la predicción no puntúa sola
        cell.metadata["nbgrader"] = _nbgrader("answer", grade_id)
        nxt = source_cells[index + 1] if index + 1 < len(source_cells) else None
        old = nxt if nxt is not None and _is_generated_test(nxt) else None
        source = _test_source(check, where)
        cells.append(_test_cell(old, source, f"{grade_id}_prueba"))
    out.cells = cells
    return out


def mark_notebooks(folder: str | os.PathLike = "notebooks") -> list[Path]:
    """Aplica :func:`mark_notebook` a los cuadernos de una carpeta (``python -m labkit nbgrader``).

    Prepara primero todos y solo entonces escribe, todos o ninguno, los que cambian: si uno
    tiene un ejercicio mal formado, no se escribe ninguno.

    Args:
        folder: la carpeta de los cuadernos.

    Returns:
        Las rutas de los cuadernos que cambiaron (vacío si ya estaban al día).
    """
    changed = {}
    for path in list_notebooks(folder):
        nb = read_notebook(path)
        marked = mark_notebook(nb, path.name)
        if marked != nb:
            changed[path] = marked
    return write_notebooks(changed)


if __name__ == "__main__":  # la orden antigua: que no termine en silencio sin hacer nada
    raise SystemExit("Error: esta orden ahora es «python -m labkit nbgrader [CARPETA]».")
