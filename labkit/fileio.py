"""Escritura atómica (un archivo aparece completo o no aparece) y lectura segura de cuadernos.

Se escribe en un temporal de la misma carpeta, se fuerza a disco y se renombra con
``os.replace`` (atómico en el mismo sistema de archivos). Si algo falla a mitad, el archivo
anterior sigue intacto y no queda basura.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .errors import LabkitError

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["atomic_write", "read_notebook"]


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Abre un temporal junto a ``path`` y, al salir sin error, lo renombra a ``path``.

    Args:
        path: archivo de destino (su carpeta se crea si no existe).
        mode: ``"wb"`` para bytes o ``"w"`` para texto (UTF-8, fin de línea ``\\n``).

    Yields:
        El archivo temporal abierto.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    text = {} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}
    try:
        with os.fdopen(fd, mode, **text) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp crea 0600; el resultado debe leerse como un archivo normal
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_notebook(path: str | os.PathLike) -> NotebookNode:
    """Lee y valida un cuaderno; cualquier defecto de formato es un ``LabkitError`` en español.

    Un archivo JSON válido puede no ser un cuaderno (celdas sin ``source``, tipos raros…):
    se valida con el esquema de nbformat antes de devolverlo, para que nadie falle después.

    Args:
        path: la ruta del cuaderno.

    Returns:
        El cuaderno en la versión 4 de nbformat.
    """
    import nbformat

    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except OSError as err:
        raise LabkitError(f"No se pudo leer el cuaderno «{path}»: {err.strerror or err}.") from err
    except (ValueError, KeyError, TypeError, AttributeError, IndexError,
            nbformat.ValidationError) as err:
        detail = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise LabkitError(f"«{path.name}» no es un cuaderno válido: {detail}") from err
    return nb
