"""Los cuadernos ``.ipynb`` en un solo sitio: listar, leer, validar, escribir y ejecutar.

Lo usan la línea de órdenes (``python -m labkit ejecutar | ejercicios | insignias | nbgrader``),
la versión del alumno (:mod:`labkit.teacher`), los metadatos de nbgrader (:mod:`labkit.teacher`),
las insignias (:mod:`labkit.teacher`), las pruebas y los bancos de pruebas. Las reglas:

- **Listar** (:func:`list_notebooks`): los ``*.ipynb`` de la carpeta (no sus subcarpetas, ni los
  ocultos, ni las copias ``-checkpoint`` de Jupyter), en el orden del curso: por el número del
  principio del nombre (``2_b`` antes que ``10_a``) y después por el nombre; los que no empiezan
  por un número, al final.
- **Leer** (:func:`read_notebook`) y **validar** (:func:`validate`): un JSON roto, una versión de
  formato desconocida o un cuaderno que no cumple el esquema de nbformat son un ``LabkitError``
  en español que nombra el archivo.
- **Escribir** (:func:`write_notebooks`): todo o nada. Se validan todos antes de escribir ninguno;
  cada uno va a un temporal de su carpeta, forzado a disco, y solo cuando están todos se renombran
  (``os.replace``). Nunca reemplaza un enlace o una carpeta, ni un archivo que cambió desde que se
  leyó (si se le dice cómo estaba).
- **Ejecutar** (:func:`execute_notebook`): la única llamada a nbclient. :func:`run_notebooks` es
  ``python -m labkit ejecutar``: ejecuta y guarda en su sitio; si alguien guardó el cuaderno
  mientras tanto, la copia ejecutada va al lado (``nombre.ejecutado.ipynb``…) sin pisar nada.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..base._errors import LabkitError
from ..base._fileio import atomic_write
from ..base._validate import check_int, check_path
from ..base._writers import exclusive_write, write_error

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["NotebookChangedError", "list_notebooks", "read_notebook", "validate", "notebook_text",
           "file_sha256", "write_notebooks", "execute_notebook", "run_notebook", "run_notebooks"]

_NUMBER = re.compile(r"^\d+")


class NotebookChangedError(LabkitError):
    """Un cuaderno del disco ya no es el que se leyó: no se reemplaza (``path`` lo nombra)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"«{path}» cambió en el disco desde que se leyó: no lo sobrescribo, para "
                         "no perder esos cambios. No se escribió ningún cuaderno.")
        self.path = path


def _course_key(path: Path) -> tuple[int, int, str]:
    """Clave del orden del curso: número inicial del nombre (si lo hay) y luego el nombre."""
    number = _NUMBER.match(path.name)
    return (0, int(number.group()), path.name) if number else (1, 0, path.name)


def list_notebooks(folder: str | os.PathLike = "notebooks", allow_file: bool = False) -> list[Path]:
    """Los cuadernos de una carpeta, en el orden del curso (ver el docstring del módulo).

    Args:
        folder: la carpeta de los cuadernos.
        allow_file: si es ``True``, ``folder`` puede ser un solo cuaderno (se devuelve solo él).

    Returns:
        Las rutas de los ``*.ipynb``.

    Raises:
        LabkitError: si la carpeta no existe, no es una carpeta o no tiene cuadernos.
    """
    root = check_path("folder", folder)
    if allow_file and root.is_file() and root.suffix == ".ipynb":
        return [root]
    also = " (ni es un cuaderno .ipynb)" if allow_file else ""
    if not root.exists():
        raise LabkitError(f"No existe la carpeta de cuadernos «{root}»{also}.")
    if not root.is_dir():
        raise LabkitError(f"«{root}» no es una carpeta{also}: indica la carpeta de cuadernos.")
    found = [p for p in root.iterdir() if p.suffix == ".ipynb" and p.is_file()
             and not p.name.startswith(".") and not p.name.endswith("-checkpoint.ipynb")]
    if not found:
        raise LabkitError(f"En «{root}» no hay cuadernos (*.ipynb): ¿es la carpeta correcta?")
    return sorted(found, key=_course_key)


def _detail(err: BaseException) -> str:
    """La primera línea de un error (o su tipo), corta, para los mensajes."""
    text = str(err).strip()
    return text.splitlines()[0][:200] if text else type(err).__name__


def validate(nb: NotebookNode, name: str | None = None) -> None:
    """Comprueba un cuaderno con el esquema de nbformat (versión 4).

    Args:
        nb: el cuaderno.
        name: su nombre, para el mensaje de error.

    Raises:
        LabkitError: si no cumple el esquema (dice qué falla).
    """
    import nbformat

    try:
        nbformat.validate(nb)
    except (nbformat.ValidationError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise LabkitError(f"«{name or 'cuaderno'}» no es un cuaderno válido: {_detail(err)}") from err


def read_notebook(path: str | os.PathLike) -> NotebookNode:
    """Lee y valida un cuaderno; cualquier defecto es un ``LabkitError`` en español.

    Args:
        path: la ruta del cuaderno.

    Returns:
        El cuaderno en la versión 4 de nbformat.

    Raises:
        LabkitError: si no se puede leer, no es JSON, su versión de formato no es conocida o no
            cumple el esquema.
    """
    import nbformat
    from nbformat.reader import NotJSONError

    path = check_path("path", path)
    try:
        nb = nbformat.read(path, as_version=4)
    except OSError as err:
        raise LabkitError(f"No se pudo leer el cuaderno «{path}»: {err.strerror or err}.") from err
    except (NotJSONError, UnicodeDecodeError) as err:
        raise LabkitError(f"«{path.name}» no es un cuaderno válido: no es JSON (¿se cortó al "
                          "guardarlo?). Recupéralo de git o de .ipynb_checkpoints.") from err
    except nbformat.NBFormatError as err:
        raise LabkitError(f"«{path.name}» no es un cuaderno válido: su versión de formato "
                          f"(nbformat) no se conoce ({_detail(err)}); se espera la 4.") from err
    except (ValueError, KeyError, TypeError, AttributeError, IndexError,
            nbformat.ValidationError) as err:
        raise LabkitError(f"«{path.name}» no es un cuaderno válido: {_detail(err)}") from err
    validate(nb, path.name)
    return nb


def notebook_text(nb: NotebookNode) -> str:
    """El texto con que se guarda un cuaderno (como ``nbformat.write``: termina en salto de línea).

    Args:
        nb: el cuaderno.

    Returns:
        El JSON del cuaderno.
    """
    import nbformat

    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def file_sha256(path: str | os.PathLike) -> str | None:
    """La suma SHA-256 del contenido de un archivo, o ``None`` si no existe.

    Args:
        path: el archivo.

    Returns:
        La suma en hexadecimal, o ``None``.
    """
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def write_notebooks(notebooks: Mapping[str | os.PathLike, NotebookNode],
                    expected: Mapping[str | os.PathLike, str | None] | None = None) -> list[Path]:
    """Escribe varios cuadernos, todos o ninguno (ver el docstring del módulo).

    Args:
        notebooks: ruta → cuaderno.
        expected: ruta → la suma SHA-256 (:func:`file_sha256`) que debe tener aún el archivo, o
            ``None`` si no debe existir. Si alguno no coincide, no se escribe ninguno.

    Returns:
        Las rutas escritas, en el orden dado.

    Raises:
        NotebookChangedError: si un archivo de ``expected`` cambió.
        LabkitError: si un cuaderno no es válido o un destino es un enlace o una carpeta (no
            cambia ningún archivo), o si no se pudo escribir (sin permiso, disco lleno…: falla
            al escribir los temporales, antes de renombrar ninguno, y no cambia ningún archivo).
    """
    texts: dict[Path, str] = {}
    for raw, nb in notebooks.items():
        path = check_path("path", raw)
        if os.path.lexists(path) and (path.is_symlink() or not path.is_file()):
            raise LabkitError(f"«{path}» existe y no es un cuaderno normal (¿un enlace o una "
                              "carpeta?): no lo reemplazo. No se escribió ningún cuaderno.")
        validate(nb, path.name)
        texts[path] = notebook_text(nb)
    for raw, sha in (expected or {}).items():
        if file_sha256(raw) != sha:
            raise NotebookChangedError(Path(raw))
    path = next(iter(texts), Path("."))
    try:
        with contextlib.ExitStack() as stack:  # si algo falla, se borran todos los temporales
            for path, text in texts.items():
                handle = stack.enter_context(atomic_write(path, "w"))
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())  # el disco lleno salta aquí, antes de renombrar nada
    except OSError as err:
        raise write_error(path, err, "el cuaderno") from err
    return list(texts)


def _failed_cell(nb: NotebookNode, err: Exception) -> str:
    """Describe la celda que falló: su índice, su primera línea y el error, en pocas líneas."""
    index = next((i for i, c in enumerate(nb.cells) if any(
        o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    ename = getattr(err, "ename", type(err).__name__)
    evalue = str(getattr(err, "evalue", "") or "").strip()[:300]
    if index is None:
        return f"({ename}: {evalue})"
    first = next((ln.strip() for ln in nb.cells[index].source.splitlines() if ln.strip()), "")
    return f"en la celda {index} (índice desde 0; empieza por «{first[:60]}»): {ename}: {evalue}"


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


def execute_notebook(nb: NotebookNode, cwd: str | os.PathLike | None = None, timeout: int = 900,
                     kernel_name: str = "python3", name: str | None = None) -> NotebookNode:
    """Ejecuta un cuaderno en memoria, de principio a fin, con un núcleo de Jupyter.

    Args:
        nb: el cuaderno (se rellena con sus salidas, en su sitio).
        cwd: la carpeta de trabajo del núcleo (por defecto, la actual).
        timeout: segundos máximos por celda.
        kernel_name: el núcleo de Jupyter.
        name: el nombre del cuaderno, para los mensajes.

    Returns:
        El mismo ``nb``, ya ejecutado.

    Raises:
        LabkitError: si falta el núcleo, una celda falla o pasa de ``timeout``, o el núcleo muere
            (el mensaje nombra el cuaderno y la celda).
        KeyboardInterrupt: si se pulsó Ctrl+C (aunque el núcleo muera a la vez).
    """
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    timeout = check_int("timeout", timeout, minimum=1)
    label = f"«{name}»" if name else "El cuaderno"
    resources = {"metadata": {"path": str(cwd)}} if cwd is not None else {}
    try:
        with _interruptible() as pressed:
            _run_client(NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                                       resources=resources), pressed)
    except NoSuchKernel as err:
        raise LabkitError(f"No está instalado el núcleo «{kernel_name}» de Jupyter: instálalo con "
                          "«python -m ipykernel install --user».") from err
    except CellTimeoutError as err:
        raise LabkitError(f"{label}: una celda pasó de {timeout} s sin terminar.") from err
    except DeadKernelError as err:
        raise LabkitError(f"{label}: el núcleo de Python se cerró de golpe (¿falta de "
                          "memoria?).") from err
    except CellExecutionError as err:
        raise LabkitError(f"{label} falló {_failed_cell(nb, err)}.") from err
    return nb


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


def run_notebook(path: str | os.PathLike, timeout: int = 900) -> float:
    """Ejecuta un cuaderno del disco y lo guarda en su sitio con sus salidas, de forma atómica.

    Si una celda falla, el cuaderno queda como estaba. Si cambió en el disco mientras se
    ejecutaba, no se sobrescribe: la copia ejecutada va al lado con otro nombre y un
    ``LabkitError`` dice dónde. Ctrl+C lanza ``KeyboardInterrupt`` sin guardar nada.

    Args:
        path: ruta del cuaderno.
        timeout: segundos máximos por celda.

    Returns:
        Los segundos que tardó.
    """
    path = check_path("path", path)
    before = file_sha256(path)
    nb = read_notebook(path)
    start = time.perf_counter()
    try:
        execute_notebook(nb, cwd=path.parent, timeout=timeout, name=path.name)
    except LabkitError as err:
        raise LabkitError(f"{err} No se guardó el cuaderno.") from err
    elapsed = time.perf_counter() - start
    try:
        write_notebooks({path: nb}, expected={path: before})
    except NotebookChangedError:
        copy = _save_beside(path, notebook_text(nb))
        raise LabkitError(f"«{path.name}» cambió en el disco mientras se ejecutaba (¿lo "
                          "guardaste desde Jupyter?): no lo sobrescribo, para no perder tus "
                          f"cambios. La copia ejecutada está en «{copy}».") from None
    return elapsed


def run_notebooks(folder: str | os.PathLike = "notebooks") -> dict[str, float]:
    """``python -m labkit ejecutar``: ejecuta los cuadernos de la carpeta (o uno) y los guarda.

    Lee y valida todos antes de ejecutar ninguno; imprime los segundos de cada uno.

    Args:
        folder: carpeta de los cuadernos, o la ruta de un cuaderno.

    Returns:
        Segundos por cuaderno.
    """
    paths = list_notebooks(folder, allow_file=True)
    for path in paths:  # todos legibles antes de ejecutar ninguno
        read_notebook(path)
    times = {}
    for path in paths:
        times[path.name] = run_notebook(path)
        print(f"{path.name}: {times[path.name]:.0f} s", flush=True)
    return times
