"""Escritura atómica: un archivo aparece completo o no aparece.

Los cuadernos se escriben (todos o ninguno) con :func:`labkit.teacher.write_notebooks`.

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
from typing import IO

__all__ = ["atomic_write"]


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
