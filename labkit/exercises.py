"""Versión del alumno de los cuadernos: quita las soluciones de los ejercicios.

Las celdas de ejercicio llevan la solución entre los marcadores de nbgrader::

    respuesta = None
    ### BEGIN SOLUTION
    respuesta = "extracción de características"
    ### END SOLUTION
    labkit.checks.check_mode_choice(respuesta)

En la versión del alumno el bloque se cambia por ``# TU RESPUESTA AQUÍ`` (con la misma sangría;
dentro de un bloque sangrado, ``pass  # TU RESPUESTA AQUÍ``, para que el cuerpo no quede vacío).
La celda sigue ejecutándose sin error y la comprobación dice «sin responder». En Markdown, los
bloques ``=== BEGIN SOLUTION`` / ``=== END SOLUTION`` se cambian por ``_Escribe aquí tu
respuesta._``. Como en nbgrader, una celda marcada ``metadata.nbgrader.solution`` sin marcadores se
cambia entera. Los metadatos de nbgrader se conservan para poder usar los cuadernos con nbgrader.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .errors import LabkitError
from .fileio import atomic_write

__all__ = [
    "CODE_PLACEHOLDER",
    "MARKDOWN_PLACEHOLDER",
    "strip_solutions",
    "write_student_versions",
]

CODE_PLACEHOLDER = "# TU RESPUESTA AQUÍ"
MARKDOWN_PLACEHOLDER = "_Escribe aquí tu respuesta._"

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)(?:#+|=+)[ \t]*BEGIN SOLUTION\b.*$")
_END = re.compile(r"^[ \t]*(?:#+|=+)[ \t]*END SOLUTION\b.*$")
_ANY_MARKER = re.compile(r"(BEGIN|END)\s+SOLUTION", re.IGNORECASE)


def _placeholder(cell_type: str, indent: str) -> str:
    """Texto que ocupa el lugar de un bloque de solución.

    Args:
        cell_type: ``"code"``, ``"markdown"`` o ``"raw"``.
        indent: la sangría del marcador ``BEGIN SOLUTION``.

    Returns:
        La línea de reemplazo, sin salto de línea.
    """
    if cell_type != "code":
        return indent + MARKDOWN_PLACEHOLDER
    if indent:  # un comentario solo dejaría vacío el cuerpo de un def/if/for
        return f"{indent}pass  {CODE_PLACEHOLDER}"
    return CODE_PLACEHOLDER


def _line_ending(line: str) -> str:
    """Devuelve el salto de línea con que termina ``line`` (``""`` si no tiene)."""
    return line[len(line.rstrip("\r\n")):]


def _strip_source(source: str, cell_type: str, where: str) -> str:
    """Cambia cada bloque ``BEGIN SOLUTION`` … ``END SOLUTION`` por su marcador de respuesta.

    Args:
        source: el texto de la celda.
        cell_type: el tipo de celda.
        where: cómo nombrar la celda en los mensajes de error.

    Returns:
        El texto sin soluciones.
    """
    out: list[str] = []
    indent: str | None = None  # None: fuera de un bloque de solución
    for line in source.splitlines(keepends=True):
        begin, end = _BEGIN.match(line.rstrip("\r\n")), _END.match(line.rstrip("\r\n"))
        if begin:
            if indent is not None:
                raise LabkitError(f"{where}: hay un «BEGIN SOLUTION» dentro de otro; "
                                  "cierra el primero con «### END SOLUTION».")
            indent = begin.group("indent")
        elif end:
            if indent is None:
                raise LabkitError(f"{where}: hay un «END SOLUTION» sin su «BEGIN SOLUTION».")
            out.append(_placeholder(cell_type, indent) + _line_ending(line))
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise LabkitError(f"{where}: hay un «BEGIN SOLUTION» sin su «END SOLUTION».")
    return "".join(out)


def _check_no_marker_left(text: str, where: str) -> None:
    """Falla si queda algo parecido a un marcador (mal escrito): podría dejar ver la solución.

    Args:
        text: el texto ya sin soluciones.
        where: cómo nombrar la celda en el mensaje.
    """
    match = _ANY_MARKER.search(text)
    if match:
        raise LabkitError(
            f"{where}: «{match.group(0)}» no es un marcador válido. Escríbelo solo en su línea, "
            "como «### BEGIN SOLUTION» / «### END SOLUTION» (o «===» en Markdown)."
        )


def _describe_cell(index: int, cell: NotebookNode, name: str | None) -> str:
    """Nombra una celda para los mensajes: cuaderno, índice y primera línea.

    Args:
        index: el índice de la celda (desde 0).
        cell: la celda.
        name: el nombre del cuaderno, si se conoce.

    Returns:
        Un texto como ``«03.ipynb», celda 4 («respuesta = None»)``.
    """
    first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
    prefix = f"«{name}», celda" if name else "Celda"
    return f"{prefix} {index} (índice desde 0; empieza por «{first[:60]}»)"


def _is_solution_cell(cell: NotebookNode) -> bool:
    """Dice si nbgrader marca la celda como solución (``metadata.nbgrader.solution``)."""
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution", False))


def _strip_cell(cell: NotebookNode, where: str) -> None:
    """Quita las soluciones de una celda y, si es de código, sus salidas (la modifica).

    Args:
        cell: la celda (se modifica en su sitio).
        where: cómo nombrar la celda en los mensajes de error.
    """
    has_markers = any(_BEGIN.match(ln) or _END.match(ln) for ln in cell.source.splitlines())
    if _is_solution_cell(cell) and not has_markers:
        cell.source = _placeholder(cell.cell_type, "")
    else:
        cell.source = _strip_source(cell.source, cell.cell_type, where)
    _check_no_marker_left(cell.source, where)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)


def strip_solutions(nb: NotebookNode, name: str | None = None) -> NotebookNode:
    """Hace la versión del alumno de un cuaderno: sin soluciones ni salidas.

    No modifica ``nb``. Borra también las salidas, los números de ejecución y el estado guardado
    de los widgets, porque podrían dejar ver las soluciones. Conserva los metadatos de nbgrader.

    Args:
        nb: el cuaderno (``nbformat``, versión 4).
        name: el nombre del cuaderno, para los mensajes de error.

    Returns:
        Una copia del cuaderno sin soluciones.

    Raises:
        LabkitError: si un marcador no tiene pareja o está mal escrito.
    """
    student = nbformat.from_dict(copy.deepcopy(nb))
    for index, cell in enumerate(student.cells):
        _strip_cell(cell, _describe_cell(index, cell, name))
    student.metadata.pop("widgets", None)
    return student


def _find_notebooks(source: Path) -> list[Path]:
    """Lista los cuadernos de una carpeta (sin subcarpetas ni copias de control).

    Args:
        source: la carpeta de origen.

    Returns:
        Las rutas de los ``*.ipynb``, ordenadas por nombre.
    """
    if not source.exists():
        raise LabkitError(f"La carpeta de origen «{source}» no existe.")
    if not source.is_dir():
        raise LabkitError(f"El origen «{source}» no es una carpeta: indica la carpeta de cuadernos.")
    found = sorted(p for p in source.glob("*.ipynb") if p.is_file()
                   and not p.name.startswith(".") and not p.name.endswith("-checkpoint.ipynb"))
    if not found:
        raise LabkitError(f"En «{source}» no hay cuadernos (*.ipynb): ¿es la carpeta correcta?")
    return found


def _check_destination(source: Path, dest: Path) -> None:
    """Comprueba que escribir en ``dest`` no pisa los cuadernos originales.

    Args:
        source: la carpeta de origen.
        dest: la carpeta de destino (puede no existir aún).
    """
    if dest.exists() and not dest.is_dir():
        raise LabkitError(f"El destino «{dest}» existe y no es una carpeta.")
    if dest.resolve() == source.resolve() or (dest.exists() and os.path.samefile(dest, source)):
        raise LabkitError(
            f"El destino «{dest}» es la misma carpeta que el origen: se borrarían las soluciones "
            "originales. Elige otra carpeta, por ejemplo «alumnos/»."
        )


def _read_notebook(path: Path) -> NotebookNode:
    """Lee un cuaderno y convierte los errores de formato en un mensaje en español.

    Args:
        path: la ruta del cuaderno.

    Returns:
        El cuaderno en la versión 4 de nbformat.
    """
    try:
        return nbformat.read(path, as_version=4)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise LabkitError(f"«{path.name}» no es un cuaderno válido: {err}") from err


def _write_atomic(nb: NotebookNode, path: Path) -> Path:
    """Escribe el cuaderno en un temporal de la misma carpeta y lo mueve con ``os.replace``.

    Args:
        nb: el cuaderno.
        path: la ruta final.

    Returns:
        La ruta final.
    """
    with atomic_write(path, "w") as handle:
        nbformat.write(nb, handle)
    return path


def write_student_versions(source: str | Path, dest: str | Path) -> list[Path]:
    """Escribe en ``dest`` la versión del alumno de cada cuaderno de ``source``.

    Solo toma los ``*.ipynb`` de la carpeta (no las subcarpetas ni ``.ipynb_checkpoints``) y no
    copia nada más. Quita primero las soluciones de todos los cuadernos y solo entonces escribe:
    si uno tiene un marcador sin pareja, no se escribe ninguno.

    Args:
        source: la carpeta con los cuadernos originales.
        dest: la carpeta de destino (se crea si no existe); no puede ser la de origen.

    Returns:
        Las rutas de los cuadernos escritos, ordenadas por nombre.

    Raises:
        LabkitError: si el origen no existe o no tiene cuadernos, si el destino es el origen, o
            si un cuaderno tiene un marcador sin pareja.
    """
    src, dst = Path(source), Path(dest)
    notebooks = _find_notebooks(src)
    _check_destination(src, dst)
    students = [(p.name, strip_solutions(_read_notebook(p), name=p.name)) for p in notebooks]
    dst.mkdir(parents=True, exist_ok=True)
    return [_write_atomic(nb, dst / name) for name, nb in students]
