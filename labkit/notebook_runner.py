"""Ejecutar los cuadernos del curso y guardarlos con sus salidas (``make notebooks``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .errors import LabkitError
from .fileio import atomic_write, read_notebook
from .validate import check_int, check_path

__all__ = ["course_notebooks", "execute_notebook", "execute_notebooks"]


def course_notebooks(folder: str | os.PathLike = "notebooks") -> list[Path]:
    """Los cuadernos ``*.ipynb`` de la carpeta, en orden (o el cuaderno dado, si es un archivo).

    Args:
        folder: carpeta de los cuadernos, o la ruta de un solo cuaderno.

    Returns:
        Las rutas, ordenadas por nombre.
    """
    root = check_path("folder", folder)
    if root.is_file() and root.suffix == ".ipynb":
        return [root]
    if not root.is_dir():
        raise LabkitError(f"No existe la carpeta de cuadernos {root} (ni es un cuaderno .ipynb).")
    paths = sorted(p for p in root.glob("*.ipynb") if not p.name.startswith(".") and p.is_file())
    if not paths:
        raise LabkitError(f"No hay cuadernos (.ipynb) en {root}.")
    return paths


def _failed_cell(nb: object, err: Exception) -> str:
    """Describe la celda que falló: su índice, su primera línea y el error, en pocas líneas."""
    index = next((i for i, c in enumerate(nb.cells) if any(
        o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    ename = getattr(err, "ename", type(err).__name__)
    evalue = str(getattr(err, "evalue", "") or "").strip()[:300]
    if index is None:
        return f"({ename}: {evalue})"
    first = next((ln.strip() for ln in nb.cells[index].source.splitlines() if ln.strip()), "")
    return f"en la celda {index} (índice desde 0; empieza por «{first[:60]}»): {ename}: {evalue}"


def execute_notebook(path: str | os.PathLike, timeout: int = 900) -> float:
    """Ejecuta un cuaderno de principio a fin y lo guarda en su sitio, de forma atómica.

    Si una celda falla, el cuaderno no se guarda (queda como estaba) y se lanza un
    ``LabkitError`` que nombra el cuaderno y la celda.

    Args:
        path: ruta del cuaderno.
        timeout: segundos máximos por celda.

    Returns:
        Los segundos que tardó.
    """
    import nbformat
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = check_path("path", path)
    timeout = check_int("timeout", timeout, minimum=1)
    nb = read_notebook(path)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except NoSuchKernel as err:
        raise LabkitError("No está instalado el núcleo «python3» de Jupyter: instálalo con "
                          "«python -m ipykernel install --user».") from err
    except CellTimeoutError as err:
        raise LabkitError(f"«{path.name}»: una celda pasó de {timeout} s sin terminar; no se "
                          "guardó el cuaderno.") from err
    except DeadKernelError as err:
        raise LabkitError(f"«{path.name}»: el núcleo de Python se cerró de golpe (¿falta de "
                          "memoria?); no se guardó el cuaderno.") from err
    except CellExecutionError as err:
        raise LabkitError(f"«{path.name}» falló {_failed_cell(nb, err)}. No se guardó el "
                          "cuaderno.") from err
    elapsed = time.perf_counter() - start
    with atomic_write(path, "w") as fh:
        nbformat.write(nb, fh)
    return elapsed


def execute_notebooks(folder: str | os.PathLike = "notebooks") -> dict[str, float]:
    """Ejecuta todos los cuadernos de la carpeta (o uno solo) y dice cuánto tardó cada uno.

    Args:
        folder: carpeta de los cuadernos, o la ruta de un cuaderno.

    Returns:
        Segundos por cuaderno.
    """
    paths = course_notebooks(folder)
    for path in paths:  # todos legibles antes de ejecutar ninguno
        read_notebook(path)
    times = {}
    for path in paths:
        times[path.name] = execute_notebook(path)
        print(f"{path.name}: {times[path.name]:.0f} s", flush=True)
    return times
