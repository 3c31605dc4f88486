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

Nada se pierde: :func:`write_student_versions` se niega a pisar un cuaderno con soluciones o uno
que cambió desde la última vez que lo escribió (el trabajo de un alumno), y a usar como origen una
carpeta sin soluciones (¿ORIGEN y DESTINO invertidos?). Lo que escribió lo anota, con la suma
sha256 de cada cuaderno, en ``.labkit_alumnos.json`` dentro del destino.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from ..base._errors import LabkitError
from ..base._fileio import atomic_write
from ..base._validate import check_path
from ._notebooks import file_sha256, list_notebooks, notebook_text, read_notebook, write_notebooks

__all__ = [
    "CODE_PLACEHOLDER",
    "MARKDOWN_PLACEHOLDER",
    "MANIFEST_NAME",
    "has_solutions",
    "strip_solutions",
    "write_student_versions",
]

CODE_PLACEHOLDER = "# TU RESPUESTA AQUÍ"
MARKDOWN_PLACEHOLDER = "_Escribe aquí tu respuesta._"

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)(?:#+|=+)[ \t]*BEGIN SOLUTION\b.*$")
_END = re.compile(r"^[ \t]*(?:#+|=+)[ \t]*END SOLUTION\b.*$")
_ANY_MARKER = re.compile(r"(BEGIN|END)\s+SOLUTION", re.IGNORECASE)
MANIFEST_NAME = ".labkit_alumnos.json"
# Lo único que se conserva de los metadatos: cualquier otra cosa podría guardar una solución.
_KEEP_CELL_METADATA = ("nbgrader", "tags", "editable", "deletable", "slideshow", "jupyter",
                       "collapsed", "scrolled")
_KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info", "celltoolbar", "nbgrader")
_ATTACHMENT_REF = re.compile(r"attachment:([^)\s\"'>]+)")


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
    grader = cell.get("metadata", {}).get("nbgrader", {})
    return isinstance(grader, dict) and grader.get("solution", False) is True


def _strip_cell(cell: NotebookNode, where: str) -> None:
    """Quita las soluciones de una celda, sus salidas y lo que podría guardarlas (la modifica).

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
    cell.metadata = nbformat.from_dict(
        {k: v for k, v in cell.metadata.items() if k in _KEEP_CELL_METADATA})
    if "attachments" in cell:  # solo los adjuntos que el texto que queda sigue usando
        used = set(_ATTACHMENT_REF.findall(cell.source))
        cell.attachments = nbformat.from_dict(
            {k: v for k, v in cell.attachments.items() if k in used})
        if not cell.attachments:
            del cell["attachments"]


def _solution_lines(nb: NotebookNode) -> set[str]:
    """Las líneas (sin espacios alrededor, de 6 caracteres o más) de las soluciones del cuaderno."""
    lines: set[str] = set()
    for cell in nb.cells:
        inside = _is_solution_cell(cell) and not any(
            _BEGIN.match(ln) for ln in cell.source.splitlines())
        for line in cell.source.splitlines():
            if _BEGIN.match(line) or _END.match(line):
                inside = bool(_BEGIN.match(line))
            elif inside and len(line.strip()) >= 6:
                lines.add(line.strip())
    return lines


def _strings(value: object) -> list[str]:
    """Todos los textos (valores, no claves) de una estructura JSON anidada."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _strings(v)]
    return []


def _check_no_leak(teacher: NotebookNode, student: NotebookNode, name: str | None) -> None:
    """Falla si una línea de una solución sigue en los metadatos, salidas o adjuntos del alumno.

    Las fuentes ya están limpias por construcción; se ignoran las líneas que también aparecen
    fuera de las soluciones (``respuesta = None``, por ejemplo).
    """
    public = {ln.strip() for c in student.cells for ln in c.source.splitlines()}
    secret = _solution_lines(teacher) - public
    if not secret:
        return
    extras = [student.metadata] + [{k: v for k, v in c.items() if k != "source"}
                                   for c in student.cells]
    for text in (t for part in extras for t in _strings(part)):
        leaked = next((line for line in secret if line in text), None)
        if leaked is not None:
            raise LabkitError(f"«{name or 'cuaderno'}»: una línea de la solución («{leaked[:60]}») "
                              "seguiría visible en los metadatos del cuaderno del alumno. "
                              "Quítala de los metadatos del original.")


def strip_solutions(nb: NotebookNode, name: str | None = None) -> NotebookNode:
    """Hace la versión del alumno de un cuaderno: sin soluciones ni salidas.

    No modifica ``nb``. Borra también las salidas, los números de ejecución, los metadatos que no
    sean de nbgrader o de presentación, los adjuntos que ya no se usan y el estado guardado de los
    widgets, porque podrían dejar ver las soluciones. Conserva los metadatos de nbgrader.

    Args:
        nb: el cuaderno (``nbformat``, versión 4).
        name: el nombre del cuaderno, para los mensajes de error.

    Returns:
        Una copia del cuaderno sin soluciones.

    Raises:
        LabkitError: si un marcador no tiene pareja o está mal escrito, o si una línea de una
            solución seguiría a la vista.
    """
    student = nbformat.from_dict(copy.deepcopy(nb))
    for index, cell in enumerate(student.cells):
        _strip_cell(cell, _describe_cell(index, cell, name))
    student.metadata = nbformat.from_dict(
        {k: v for k, v in student.metadata.items() if k in _KEEP_NOTEBOOK_METADATA})
    _check_no_leak(nb, student, name)
    return student


def has_solutions(nb: NotebookNode) -> bool:
    """Dice si el cuaderno tiene alguna solución (marcadores o celdas de solución de nbgrader).

    Args:
        nb: el cuaderno.

    Returns:
        ``True`` si hay al menos un bloque ``BEGIN SOLUTION`` o una celda de solución.
    """
    return any(_is_solution_cell(c) or any(_BEGIN.match(ln) for ln in c.source.splitlines())
               for c in nb.cells)


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


def _read_manifest(dest: Path) -> dict[str, str]:
    """Lo que se escribió la última vez en ``dest``: nombre → sha256 (vacío si no hay registro)."""
    try:
        data = json.loads((dest / MANIFEST_NAME).read_text(encoding="utf-8"))
        notebooks = data["cuadernos"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(notebooks, dict):
        return {}
    return {str(k): v for k, v in notebooks.items() if isinstance(v, str)}


def _check_overwrite(path: Path, written: dict[str, str]) -> None:
    """Se niega a pisar un cuaderno que no escribió esta orden tal cual está.

    Args:
        path: el cuaderno de destino.
        written: nombre → sha256 de lo que se escribió la última vez.
    """
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_file():
        raise LabkitError(f"«{path}» existe y no es un cuaderno normal (¿un enlace o una "
                          "carpeta?): no lo toco. Elige otra carpeta de destino.")
    if written.get(path.name) == file_sha256(path):
        return  # es exactamente lo que se escribió la última vez
    try:
        holds_solutions = has_solutions(read_notebook(path))
    except LabkitError:
        holds_solutions = False
    if holds_solutions:
        raise LabkitError(
            f"«{path}» tiene soluciones: es un cuaderno del profesor y se perderían. No se escribió "
            "nada. ¿Invertiste ORIGEN y DESTINO? La orden es: ejercicios --sin-soluciones "
            "<carpeta con soluciones> <carpeta de alumnos>.")
    raise LabkitError(
        f"«{path}» cambió desde que se escribió la versión del alumno (o no la escribió esta "
        "orden): puede ser el trabajo de un alumno y se perdería. No se escribió nada. Muévelo o "
        "bórralo tú si de verdad quieres reemplazarlo, o elige otra carpeta de destino.")


def _check_source_has_solutions(originals: list[tuple[str, NotebookNode]], src: Path) -> None:
    """Se niega a usar como origen una carpeta sin ninguna solución (¿versión del alumno?)."""
    if not any(has_solutions(nb) for _, nb in originals):
        raise LabkitError(
            f"Ningún cuaderno de «{src}» tiene soluciones (bloques «### BEGIN SOLUTION»): "
            "¿invertiste ORIGEN y DESTINO? El origen es la carpeta con las soluciones y el "
            "destino, la de los alumnos. No se escribió nada.")


def _write_manifest(dest: Path, written: dict[str, str],
                    students: dict[Path, NotebookNode]) -> None:
    """Anota en ``dest`` la suma sha256 de cada cuaderno que ya está escrito tal cual.

    Args:
        dest: la carpeta de destino.
        written: nombre → sha256 de lo que se escribió la última vez.
        students: ruta → la versión del alumno que se quería escribir.
    """
    now = {}
    for path, nb in students.items():
        sha = hashlib.sha256(notebook_text(nb).encode("utf-8")).hexdigest()
        if file_sha256(path) == sha:
            now[path.name] = sha
    if not now:
        return
    notebooks = {**written, **now}
    with atomic_write(dest / MANIFEST_NAME, "w") as handle:
        json.dump({"escrito_por": "python -m labkit ejercicios --sin-soluciones",
                   "cuadernos": notebooks}, handle, ensure_ascii=False, indent=1, sort_keys=True)


def write_student_versions(source: str | Path, dest: str | Path) -> list[Path]:
    """Escribe en ``dest`` la versión del alumno de cada cuaderno de ``source``.

    Solo toma los ``*.ipynb`` de la carpeta (no las subcarpetas ni ``.ipynb_checkpoints``) y no
    copia nada más. Lee, comprueba y quita las soluciones de todos los cuadernos y solo entonces
    escribe: si algo falla, no se escribe ninguno. Nunca pisa un cuaderno con soluciones ni uno
    que cambió desde que lo escribió (el trabajo de un alumno).

    Args:
        source: la carpeta con los cuadernos originales (con soluciones).
        dest: la carpeta de destino (se crea si no existe); no puede ser la de origen.

    Returns:
        Las rutas de los cuadernos escritos, en el orden del curso.

    Raises:
        LabkitError: si el origen no existe, no tiene cuadernos o ninguno tiene soluciones, si el
            destino es el origen, si un cuaderno del destino tiene soluciones o cambió, o si un
            cuaderno tiene un marcador sin pareja.
    """
    src, dst = check_path("source", source), check_path("dest", dest)
    notebooks = list_notebooks(src)
    _check_destination(src, dst)
    originals = [(p.name, read_notebook(p)) for p in notebooks]
    _check_source_has_solutions(originals, src)
    students = {dst / name: strip_solutions(nb, name=name) for name, nb in originals}
    written = _read_manifest(dst) if dst.is_dir() else {}
    for path in students:
        _check_overwrite(path, written)
    try:
        return write_notebooks(students, expected={p: file_sha256(p) for p in students})
    finally:  # lo escrito queda anotado aunque falle a mitad, para poder reescribirlo luego
        _write_manifest(dst, written, students)
