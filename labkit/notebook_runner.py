"""Ejecutar los cuadernos del curso y guardarlos con sus salidas (``make notebooks``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .errors import LabkitError
from .fileio import atomic_write

__all__ = ["course_notebooks", "execute_notebook", "execute_notebooks"]


def course_notebooks(folder: str | os.PathLike = "notebooks") -> list[Path]:
    """Los cuadernos ``NN_*.ipynb`` de la carpeta, en orden.

    Args:
        folder: carpeta de los cuadernos.

    Returns:
        Las rutas, ordenadas por nombre.
    """
    root = Path(folder)
    if not root.is_dir():
        raise LabkitError(f"No existe la carpeta de cuadernos {root}.")
    paths = sorted(p for p in root.glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        raise LabkitError(f"No hay cuadernos (.ipynb) en {root}.")
    return paths


def execute_notebook(path: str | os.PathLike, timeout: int = 900) -> float:
    """Ejecuta un cuaderno de principio a fin y lo guarda en su sitio, de forma atómica.

    Args:
        path: ruta del cuaderno.
        timeout: segundos máximos por celda.

    Returns:
        Los segundos que tardó.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    with atomic_write(path, "w") as fh:
        nbformat.write(nb, fh)
    return elapsed


def execute_notebooks(folder: str | os.PathLike = "notebooks") -> dict[str, float]:
    """Ejecuta todos los cuadernos de la carpeta y dice cuánto tardó cada uno.

    Args:
        folder: carpeta de los cuadernos.

    Returns:
        Segundos por cuaderno.
    """
    times = {}
    for path in course_notebooks(folder):
        times[path.name] = execute_notebook(path)
        print(f"{path.name}: {times[path.name]:.0f} s", flush=True)
    return times
