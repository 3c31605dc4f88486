"""Decodificar una imagen del alumno: abrir, validar, enderezar, pasar a RGB, reescalar y recortar.

No importa ``torch`` (ni el resto de ``labkit``) a propósito: estas funciones corren también en los
procesos auxiliares que decodifican una carpeta en paralelo (:mod:`labkit.data`), y así
arrancan rápido y ocupan poco. Cada imagen se escribe directamente en su fila del archivo de la
caché (:func:`decode_into`), sin pasar por el proceso principal.
"""

from __future__ import annotations

import os
import stat
import threading
import time
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["IMAGE_EXTENSIONS", "UNSUPPORTED_EXTENSIONS", "DECODE_POLICY", "Skip", "read_image",
           "decode_into", "decode_array", "DecodeTask", "DecodeResult", "watch_parent",
           "resize_center_crop", "to_uint8", "exif_upright", "to_rgb"]

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
)
UNSUPPORTED_EXTENSIONS = frozenset(
    {".heic", ".heif", ".avif", ".svg", ".raw", ".cr2", ".nef", ".arw", ".dng", ".psd"}
)
DECODE_POLICY = "exif+rgb-blanco+lado-corto-bilineal+recorte-central+draft2x/v1"
"""Cómo se prepara cada imagen; forma parte de la clave de la caché (si cambia, se rehace)."""


class Skip(Exception):
    """Un archivo que no se puede usar; el mensaje es el motivo, en español."""


def read_image(path: Path, image_size: int, max_pixels: int
               ) -> tuple[np.ndarray, str, tuple[int, int]]:
    """Abre, valida y prepara una imagen: ``(arreglo uint8 [S, S, 3], modo original, tamaño)``."""
    try:
        with warnings.catch_warnings(), _open_regular(path) as fh:
            # El tamaño se comprueba abajo con max_pixels, antes de decodificar nada.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(fh) as img:
                size = _oriented_size(img)
                _check_pixels(size, max_pixels)
                img.draft(None, (2 * image_size, 2 * image_size))  # JPEG: decodifica reducido
                img.load()  # aquí salta la detección de archivos truncados
                mode = img.mode
                rgb = to_rgb(exif_upright(img))
                return np.array(resize_center_crop(rgb, image_size)), mode, size
    except Image.DecompressionBombError:
        raise Skip("imagen demasiado grande: declara más píxeles de los que PIL acepta abrir "
                   "(posible «bomba de descompresión»)") from None
    except UnidentifiedImageError:
        raise Skip(_unreadable_reason(path)) from None
    except PermissionError:
        raise Skip("sin permiso de lectura") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
        raise Skip("imagen dañada o incompleta") from None


NOT_REGULAR = "no es un archivo normal (tubería, dispositivo o socket): no se lee"


def _open_regular(path: Path) -> object:
    """Abre un archivo solo si es un archivo normal; una tubería (FIFO) o un dispositivo con
    nombre de imagen no se abre para leer (esperaría para siempre): :class:`Skip`.

    Se abre sin bloquear y se comprueba el descriptor abierto (``fstat``), no el nombre: así no
    importa si el archivo cambia entre la exploración de la carpeta y la lectura.
    """
    nonblock = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, os.O_RDONLY | nonblock | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Skip(NOT_REGULAR)
        if nonblock:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Rechaza imágenes con más de ``max_pixels`` píxeles antes de decodificarlas."""
    pixels = size[0] * size[1]
    if pixels > max_pixels:
        raise Skip(f"imagen demasiado grande: {size[0]}×{size[1]} = {_thousands(pixels)} "
                   f"píxeles; el máximo es {_thousands(max_pixels)} (max_pixels)")


def _thousands(n: int) -> str:
    """Un entero con espacios como separador de miles (``40 000 000``)."""
    return f"{n:,}".replace(",", " ")


def _unreadable_reason(path: Path) -> str:
    """Motivo para un archivo que PIL no reconoce, según su extensión."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "no se puede leer como imagen (¿dañada o con la extensión equivocada?)"
    if suffix in UNSUPPORTED_EXTENSIONS:
        return f"formato {suffix} no compatible: conviértela a JPG o PNG"
    return "no es una imagen"


def _oriented_size(img: Image.Image) -> tuple[int, int]:
    """Ancho y alto tal como se ve la imagen (teniendo en cuenta la orientación EXIF)."""
    width, height = img.size
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # EXIF ilegible: se usa el tamaño tal cual
        orientation = 1
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def exif_upright(img: Image.Image) -> Image.Image:
    """Endereza una foto según su orientación EXIF; si el EXIF está roto, la deja como está.

    Args:
        img: la imagen abierta con PIL.

    Returns:
        La imagen enderezada (o la misma).
    """
    try:
        return ImageOps.exif_transpose(img)
    except Exception:
        return img


# ---------------------------------------------------------------------------------- conversión
def to_rgb(img: Image.Image) -> Image.Image:
    """Convierte cualquier modo de PIL a RGB (transparencia sobre blanco, 16 bits escalados).

    Args:
        img: la imagen abierta con PIL.

    Returns:
        La imagen en RGB (la misma si ya lo estaba).
    """
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(to_uint8(np.asarray(img))).convert("RGB")
    has_alpha = img.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Lleva un arreglo de más de 8 bits a ``uint8`` escalando su rango, sin saturar.

    Los enteros de 16 bits se dividen por 257 (65535 → 255); los reales entre 0 y 1 se
    multiplican por 255; cualquier otro rango se estira de su mínimo a su máximo.
    """
    values = array.astype(np.float64)
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if array.dtype.kind in "iu" and lo >= 0 and (array.dtype.itemsize == 2 or 255 < hi <= 65535):
        values = values / 257.0
    elif array.dtype.kind == "f" and lo >= 0 and hi <= 1:
        values = values * 255.0
    elif not (lo >= 0 and hi <= 255):
        values = (values - lo) * (255.0 / (hi - lo)) if hi > lo else values * 0
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def resize_center_crop(img: Image.Image, size: int) -> Image.Image:
    """Lado corto a ``size`` (bilineal con antialias) y recorte central ``size × size``.

    Reproduce ``Resize(size)`` + ``CenterCrop(size)`` de torchvision sobre imágenes PIL.
    """
    width, height = img.size
    if width <= height:
        new_w, new_h = size, int(size * height / width)
    else:
        new_w, new_h = int(size * width / height), size
    if (new_w, new_h) != (width, height):
        img = img.resize((new_w, new_h), Image.Resampling.BILINEAR)
    left = int(round((new_w - size) / 2.0))
    top = int(round((new_h - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


# ---------------------------------------------------------------------------------- a la caché
class DecodeTask(NamedTuple):
    """Una imagen por decodificar y dónde escribirla.

    Attributes:
        index: posición del archivo en la lista de candidatos.
        path: ruta del archivo.
        image_size: lado de la imagen guardada.
        max_pixels: límite de píxeles (protección contra «bombas de descompresión»).
        target: archivo de la caché donde se escribe la fila.
        offset: byte donde empieza la fila (``uint8 [3, S, S]``, canales primero).
    """

    index: int
    path: str
    image_size: int
    max_pixels: int
    target: str
    offset: int


class DecodeResult(NamedTuple):
    """Lo que queda de decodificar una imagen: su modo y tamaño originales, o el motivo del
    fallo."""

    index: int
    mode: str | None
    size: tuple[int, int] | None
    reason: str | None


def decode_into(task: DecodeTask) -> DecodeResult:
    """Decodifica una imagen y escribe su fila en el archivo de la caché.

    Args:
        task: la imagen y el lugar de su fila.

    Returns:
        Un :class:`DecodeResult`; si la imagen no sirve, ``reason`` dice por qué y no se escribe.
    """
    try:
        array, mode, size = read_image(Path(task.path), task.image_size, task.max_pixels)
    except Skip as why:
        return DecodeResult(task.index, None, None, str(why))
    chw = np.ascontiguousarray(array.transpose(2, 0, 1))
    if not task.target:
        raise ValueError("decode_into necesita un archivo de destino (usa decode_array)")
    with open(task.target, "r+b") as fh:
        fh.seek(task.offset)
        fh.write(chw.data)
    return DecodeResult(task.index, mode, size, None)


def decode_array(task: DecodeTask) -> tuple[DecodeResult, np.ndarray | None]:
    """Como :func:`decode_into`, pero devuelve la fila (``uint8 [3, S, S]``) en vez de escribirla.

    Para cargar sin caché en disco (carpeta de datos sin permiso de escritura).

    Args:
        task: la imagen (``target`` y ``offset`` no se usan para escribir).

    Returns:
        ``(resultado, fila)``; la fila es ``None`` si la imagen no sirve.
    """
    try:
        array, mode, size = read_image(Path(task.path), task.image_size, task.max_pixels)
    except Skip as why:
        return DecodeResult(task.index, None, None, str(why)), None
    return (DecodeResult(task.index, mode, size, None),
            np.ascontiguousarray(array.transpose(2, 0, 1)))


def watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Inicializador de los procesos auxiliares: terminan solos si muere el proceso principal.

    Si el kernel muere (o se reinicia) a media carga, los auxiliares no se quedan esperando para
    siempre: un hilo comprueba cada ``interval`` segundos que su padre sigue siendo el mismo.

    Args:
        parent_pid: el proceso que creó el grupo.
        interval: cada cuántos segundos se comprueba.
    """
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="labkit-watch-parent", daemon=True).start()
