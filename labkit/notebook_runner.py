"""Ejecutar los cuadernos del curso y guardarlos con sus salidas (``make notebooks``).

El cuaderno se guarda en su sitio solo si no cambió en el disco mientras se ejecutaba (fecha,
tamaño y SHA-256 como al leerlo): si alguien lo guardó desde Jupyter a la vez, su versión se
queda y la copia ejecutada se escribe al lado con otro nombre (``nombre.ejecutado.ipynb``,
``nombre.ejecutado-2.ipynb``…), sin pisar nada. Ctrl+C para limpiamente (``KeyboardInterrupt``,
que ``python -m labkit`` muestra como «Interrumpido») aunque el núcleo muera a la vez.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import LabkitError
from .fileio import atomic_write, read_notebook
from .validate import check_int, check_path
from .writers import exclusive_write

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


def _stamp(path: Path) -> tuple[int, int, str] | None:
    """Fecha (ns), tamaño y SHA-256 del archivo (``None`` si ya no está): si cambia, alguien lo
    guardó."""
    try:
        st = path.stat()
        return st.st_mtime_ns, st.st_size, hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _save_beside(path: Path, text: str) -> Path:
    """Escribe ``text`` junto a ``path`` con un nombre nuevo (nunca reemplaza nada)."""
    for n in range(1, 1000):
        suffix = ".ejecutado" if n == 1 else f".ejecutado-{n}"
        target = path.with_name(f"{path.stem}{suffix}{path.suffix}")
        if target.exists():
            continue
        try:
            with exclusive_write(target, "la copia ejecutada") as fh:
                fh.write(text.encode("utf-8"))
        except LabkitError:
            if target.exists():
                continue  # otro lo creó a la vez: el siguiente nombre
            raise
        return target
    raise LabkitError(f"No encuentro un nombre libre junto a «{path}» para la copia ejecutada.")


@contextlib.contextmanager
def _interruptible() -> Iterator[list[bool]]:
    """Apunta si llegó Ctrl+C: nbclient puede tapar el ``KeyboardInterrupt`` con otro error.

    Yields:
        Una lista con un solo booleano: ``True`` si se pulsó Ctrl+C.
    """
    pressed = [False]
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return

    def handler(signum: int, frame: object) -> None:
        pressed[0] = True
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def execute_notebook(path: str | os.PathLike, timeout: int = 900) -> float:
    """Ejecuta un cuaderno de principio a fin y lo guarda en su sitio, de forma atómica.

    Si una celda falla, el cuaderno no se guarda (queda como estaba) y se lanza un
    ``LabkitError`` que nombra el cuaderno y la celda. Si el cuaderno cambió en el disco
    mientras se ejecutaba, no se sobrescribe: la copia ejecutada va al lado con otro nombre y
    un ``LabkitError`` dice dónde. Ctrl+C lanza ``KeyboardInterrupt`` sin guardar nada.

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
    before = _stamp(path)
    nb = read_notebook(path)
    start = time.perf_counter()
    try:
        with _interruptible() as pressed:
            _run_client(NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                       resources={"metadata": {"path": str(path.parent)}}),
                        pressed)
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
    text = nbformat.writes(nb)
    if not text.endswith("\n"):
        text += "\n"
    if _stamp(path) != before:
        copy = _save_beside(path, text)
        raise LabkitError(f"«{path.name}» cambió en el disco mientras se ejecutaba (¿lo "
                          "guardaste desde Jupyter?): no lo sobrescribo, para no perder tus "
                          f"cambios. La copia ejecutada está en «{copy}».")
    with atomic_write(path, "w") as fh:
        fh.write(text)
    return elapsed


def _run_client(client: object, pressed: list[bool]) -> None:
    """Ejecuta el cliente; si hubo Ctrl+C, cualquier error que salga es ``KeyboardInterrupt``."""
    try:
        client.execute()
    except BaseException:
        # nbclient atiende Ctrl+C por su cuenta (cierra el núcleo y deja esta marca) y luego
        # falla con otro error (AssertionError, DeadKernelError…): se traduce aquí.
        by_nbclient = getattr(client, "_async_cleanup_kernel_future", None) is not None
        if pressed[0] or by_nbclient:
            raise KeyboardInterrupt from None
        raise


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
