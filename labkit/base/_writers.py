"""Escribir sin pisar: creación exclusiva, sello de lo escrito y errores de escritura en español.

:func:`labkit.base.atomic_write` reemplaza el destino de golpe (nunca queda a medias), pero
reemplaza lo que haya. Aquí está lo que hace falta cuando nadie más debe escribir ese archivo:

- :func:`exclusive_write`: el archivo se crea completo **solo si no existía**. Se escribe un
  temporal y se enlaza con ``os.link`` (que falla si el destino ya existe, sin ventana entre
  comprobar y escribir): de dos procesos que exportan a la misma ruta nueva, gana uno y el otro
  recibe un error en español. En sistemas de archivos sin enlaces duros se reserva el nombre con
  ``O_CREAT | O_EXCL`` y se reemplaza con ``os.replace``.
- :func:`file_stamp`: un sello (inodo, tamaño, fecha en ns) para saber después si el archivo
  sigue siendo el que escribimos nosotros.
- :func:`write_error`: un ``OSError`` de escritura (sin permiso, una carpeta que es un archivo,
  disco lleno…) como :class:`labkit.LabkitError` que dice la causa y cómo arreglarlo.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ._errors import LabkitError
from ._validate import check_path

__all__ = ["exclusive_write", "file_stamp", "write_error", "existing_file_error",
           "check_local_path", "looks_like_checkpoint"]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")  # dos letras o más: «C://» no es una URL

FileStamp = tuple[int, int, int, int]


def file_stamp(path: str | os.PathLike) -> FileStamp | None:
    """El sello de un archivo: ``(dispositivo, inodo, tamaño, fecha en ns)``, o ``None`` si falta.

    Args:
        path: el archivo.

    Returns:
        El sello, o ``None`` si no existe (o no se puede leer).
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def check_local_path(name: str, value: object, action: str) -> Path:
    """Una ruta local; una dirección web (``https://…``) es un error que dice cómo descargarla.

    ``pathlib`` convertiría ``https://sitio/a.jpg`` en ``https:/sitio/a.jpg`` y el mensaje
    diría que «no existe»: aquí se nombra tal cual y se explica qué hacer.

    Args:
        name: el argumento (para el mensaje).
        value: lo que llegó.
        action: qué se quería hacer, p. ej. ``"abrir una imagen de"``.

    Returns:
        La ruta como ``Path``.
    """
    if isinstance(value, str) and _URL.match(value.strip()):
        raise LabkitError(
            f"{name}={value!r} es una dirección de internet: labkit no puede {action} una URL. "
            "Descarga antes el archivo, p. ej. con\n"
            f"    import urllib.request; urllib.request.urlretrieve({value!r}, 'archivo')\n"
            "(o guárdalo desde el navegador), y pasa la ruta del archivo descargado.")
    return check_path(name, value)


def looks_like_checkpoint(path: Path) -> bool:
    """Si un archivo que existe empieza como los de ``torch.save`` (un zip): no es un cuaderno,
    una foto ni un texto que se pueda pisar sin querer."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _file_in_path(path: Path) -> Path | None:
    """El primer antecesor de ``path`` que existe y es un archivo (no una carpeta), si hay."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def write_error(path: str | os.PathLike, err: OSError, what: str = "el archivo") -> LabkitError:
    """Traduce un error del sistema al escribir ``path`` a un error en español con su arreglo.

    Args:
        path: el archivo que se quería escribir.
        err: el error del sistema.
        what: qué se escribía (para el mensaje), p. ej. ``"el modelo"``.

    Returns:
        El :class:`LabkitError` (para lanzarlo con ``raise ... from err``).
    """
    path = Path(path)
    blocker = _file_in_path(path)
    if blocker is not None or isinstance(err, NotADirectoryError):
        where = blocker if blocker is not None else path.parent
        return LabkitError(f"No puedo guardar {what} en '{path}': '{where}' es un archivo, no "
                           "una carpeta. Elige otra ruta (o cambia el nombre de ese archivo).")
    if isinstance(err, FileExistsError):
        return existing_file_error(path, what)
    if isinstance(err, PermissionError) or err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return LabkitError(f"No tengo permiso para escribir {what} en la carpeta '{path.parent}' "
                           f"({err.strerror or err}). Elige una carpeta tuya con permiso de "
                           "escritura (p. ej. la del cuaderno) o cambia los permisos de esa.")
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return LabkitError(f"No cabe {what} en '{path.parent}': el disco (o tu cuota) está "
                           "lleno. Libera espacio o elige otra carpeta.")
    return LabkitError(f"No se pudo escribir {what} en '{path}' ({err.strerror or err}). "
                       "Elige otra ruta.")


def existing_file_error(path: str | os.PathLike, what: str = "el archivo",
                        fix: str = "") -> LabkitError:
    """El error de «ya existe y no lo reemplazo», con el arreglo.

    Args:
        path: el archivo que ya existe.
        what: qué se quería escribir.
        fix: arreglo extra (p. ej. ``"o usa overwrite=True"``).

    Returns:
        El :class:`LabkitError`.
    """
    extra = f" {fix}" if fix else ""
    return LabkitError(f"Ya existe '{path}' y no lo reemplazo (no guardo {what} encima de otro "
                       f"archivo). Elige otro nombre o bórralo tú si ya no lo quieres.{extra}")


def _publish(tmp: str, path: Path) -> None:
    """Pone el temporal en ``path`` solo si ``path`` no existe (``FileExistsError`` si existe)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                             errno.EMLINK, errno.ENOSYS):
            raise
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))  # reserva
        os.replace(tmp, path)
    else:
        os.unlink(tmp)


@contextmanager
def exclusive_write(path: str | os.PathLike, what: str = "el archivo",
                    fix: str = "") -> Iterator[IO[bytes]]:
    """Abre un temporal junto a ``path`` y, al salir sin error, lo publica **si ``path`` no
    existe**.

    Args:
        path: archivo de destino (su carpeta se crea si no existe).
        what: qué se escribe (para los mensajes de error).
        fix: arreglo extra para el error de «ya existe».

    Yields:
        El archivo temporal abierto en binario.

    Raises:
        LabkitError: el destino ya existe (aunque lo haya creado otro proceso mientras se
            escribía), la carpeta no se puede escribir o una parte de la ruta es un archivo. No
            queda ningún temporal.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise write_error(path, err, what) from err
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        _publish(tmp, path)
    except FileExistsError as err:
        raise existing_file_error(path, what, fix) from err
    except OSError as err:
        raise write_error(path, err, what) from err
    finally:
        Path(tmp).unlink(missing_ok=True)
