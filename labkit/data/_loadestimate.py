"""Antes de una carga larga: cuánto disco, memoria y tiempo costará, y cómo aligerarla.

:func:`labkit.image_folder` decodifica unas pocas imágenes de muestra, estima el resto y, si la
carga va a ser larga o grande, lo dice en español con la salida (``max_per_class``, un
``image_size`` menor). Si no cabe en el disco, se detiene antes de empezar.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..base._errors import LabkitError
from ._imagecache import POOL_FROM
from ._imagecachestore import cache_dir
from ._imagedecode import Skip, read_image

__all__ = ["LoadEstimate", "load_estimate", "announce_load"]

_ANNOUNCE_SECONDS = 30.0
_ANNOUNCE_BYTES = 1 << 30

@dataclass(frozen=True)
class LoadEstimate:
    """Lo que costará decodificar una carpeta: disco, memoria y tiempo."""

    images: int
    disk_bytes: int
    seconds: float
    workers: int


def load_estimate(paths: Sequence[Path], image_size: int, max_pixels: int,
                  workers: int) -> LoadEstimate:
    """Estima disco y tiempo decodificando unas pocas imágenes de muestra en este proceso.

    Args:
        paths: los archivos por decodificar.
        image_size: lado de las imágenes guardadas.
        max_pixels: límite de píxeles por imagen.
        workers: procesos que se usarán.

    Returns:
        Un :class:`LoadEstimate`.
    """
    sample = [paths[int(i)] for i in np.linspace(0, len(paths) - 1, min(4, len(paths)))]
    start = time.perf_counter()
    for path in sample:
        try:
            read_image(path, image_size, max_pixels)
        except Skip:
            pass
    per_image = (time.perf_counter() - start) / max(1, len(sample))
    parallel = workers if len(paths) >= POOL_FROM else 1
    return LoadEstimate(len(paths), len(paths) * 3 * image_size * image_size,
                        len(paths) * per_image / parallel, parallel)


def announce_load(estimate: LoadEstimate, image_size: int, smaller: tuple[int, int] | None
                  ) -> None:
    """Antes de una carga larga, dice en español cuánto costará y cómo hacerla más ligera.

    Si no cabe en el disco (hacen falta dos veces su tamaño mientras se escribe), se detiene.

    Args:
        estimate: la estimación (:func:`load_estimate`).
        image_size: lado pedido.
        smaller: ``(max_per_class, imágenes)`` de una carga más pequeña que sugerir, o ``None``.
    """
    try:
        free = shutil.disk_usage(cache_dir()).free
    except OSError:  # la carpeta no existe ni se puede crear: la carga seguirá en memoria
        free = None
    way_out = _way_out(image_size, smaller)
    if free is not None and 2 * estimate.disk_bytes > free:
        raise LabkitError(
            f"No hay sitio en disco para la caché: {_count_text(estimate.images)} imágenes a {image_size} px "
            f"ocupan {_size_text(estimate.disk_bytes)} (y el doble mientras se escriben); quedan "
            f"{_size_text(free)} libres en '{cache_dir()}'. {way_out}")
    if estimate.seconds < _ANNOUNCE_SECONDS and estimate.disk_bytes < _ANNOUNCE_BYTES:
        return
    print(f"Voy a preparar {_count_text(estimate.images)} imágenes a {image_size}×{image_size} px: unos "
          f"{_time_text(estimate.seconds)} con {estimate.workers} proceso(s) y "
          f"{_size_text(estimate.disk_bytes)} en disco ('{cache_dir()}'). La memoria no crece "
          "con el número de imágenes: quedan en disco y se leen por lotes. Solo la primera vez: "
          f"las siguientes cargas de esta carpeta leen la caché. {way_out}")


def _way_out(image_size: int, smaller: tuple[int, int] | None) -> str:
    half = max(8, min(128, image_size // 2))
    parts = [f"image_size={half} ({(image_size / half) ** 2:.0f} veces menos disco)"]
    if smaller is not None:
        parts.insert(0, f"max_per_class={smaller[0]} ({_count_text(smaller[1])} imágenes)")
    return "Para ir más rápido o ocupar menos, prueba " + " o ".join(parts) + "."


def _size_text(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.1f} GiB".replace(".", ",")
    return f"{max(1, math.ceil(n / 2**20))} MiB"


def _count_text(n: int) -> str:
    """``20 000``: separador de miles con espacio."""
    return f"{n:,}".replace(",", " ")


def _time_text(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{seconds / 60:.0f} min"
