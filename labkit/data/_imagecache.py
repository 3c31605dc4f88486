"""Caché en disco de las imágenes de una carpeta: se decodifica una vez, en paralelo, y se mapea.

:func:`labkit.image_folder` guarda cada carpeta ya decodificada (``uint8 [N, 3, S, S]``, con las
particiones una tras otra) en un archivo bajo ``labkit.data_dir() / "cache_imagenes"`` y la abre
con ``numpy.memmap``: las imágenes no viven en la memoria del proceso, el sistema lee del disco
solo los lotes que se usan y un kernel nuevo no vuelve a decodificar nada.

* **Clave**: la lista de archivos con su tamaño y fecha de modificación, la clase y la partición
  de cada uno, ``image_size``, ``max_pixels``, la división (semilla y fracciones) y la forma de
  preparar cada imagen (:data:`labkit.data.DECODE_POLICY`). Si algo cambia en la carpeta,
  la clave cambia y la caché se rehace.
* **Atómica**: los procesos auxiliares escriben en un temporal; al final se reordena en otro
  temporal, se fuerza a disco, se renombra con ``os.replace`` y **el último paso** es escribir el
  manifiesto (``<clave>.json``). Sin manifiesto válido nada se lee: una carga interrumpida (kernel
  muerto) nunca se usa y la siguiente carga la rehace desde cero.
* **Memoria acotada**: nadie reúne el conjunto en memoria; cada proceso escribe su fila en el
  archivo y el proceso principal solo guarda metadatos.
* **Comprobada al leer**: el manifiesto guarda un SHA-256 de los píxeles tal como se escribieron
  y otro de sí mismo. Al abrir una caché se comprueban los dos (≈ 0,7 GB/s: 0,14 s para 2 000
  imágenes de 128 px, unos 4 s para 20 000 de 224 px; una vez por proceso mientras el archivo
  no cambie): una caché truncada,
  con bytes cambiados o con el manifiesto tocado no se sirve nunca; se avisa y se rehace.
* **Sin permiso de escritura** (``LABKIT_DATA`` de solo lectura, o que no es una carpeta): se
  decodifica a memoria con un aviso que dice cómo arreglarlo; solo un disco lleno es un error.
* **Compartida**: varios kernels (o contenedores con el mismo volumen) pueden usar la misma
  carpeta: todo entra con ``os.replace``, los temporales llevan su dueño
  (:mod:`labkit.base`) y el borrado de cachés viejas tolera archivos que desaparecen.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import sys
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import PIL
import torch

from ..base import _cachefiles as cachefiles
from ..base._cachefiles import HOST_TAG, digest_file, no_space
from ..base._errors import LabkitError
from ..base._fileio import atomic_write
from ..base._progress import progress_bar
from . import _imagecachestore as store
from ._imagecachestore import CACHE_VERSION, CacheRef, _paths, cache_dir
from ._imagedecode import (
    DECODE_POLICY,
    DecodeResult,
    DecodeTask,
    decode_array,
    decode_into,
    watch_parent,
)

__all__ = [
    "CacheUnavailable", "cache_key", "decode_files", "decode_to_memory", "finalize",
    "image_cache_key", "clear_image_cache", "default_workers", "POOL_FROM",
]

_WHAT = "la caché de imágenes"
POOL_FROM = 64           # con menos archivos se decodifica en el propio proceso
_COPY_ROWS = 64          # filas por bloque al reordenar (unos 10 MB a 224 px)


class CacheUnavailable(Exception):
    """No se puede escribir la caché; el mensaje (en español) dice dónde y cómo arreglarlo."""


def _unavailable(err: BaseException, consequence: str) -> CacheUnavailable:
    return CacheUnavailable(cachefiles.write_problem(_WHAT, cache_dir(), err, consequence))


def default_workers() -> int:
    """Procesos para decodificar: tantos como núcleos puede usar este proceso."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def cache_key(files: Sequence[tuple], settings: dict) -> str:
    """La clave de una caché: un resumen SHA-256 de los archivos y de los ajustes.

    Args:
        files: una tupla por archivo (ruta relativa, clase, partición, tamaño, fecha…).
        settings: ajustes que cambian el resultado (``image_size``, semilla, fracciones…).

    Returns:
        La clave, 32 caracteres hexadecimales.
    """
    head = {"version": CACHE_VERSION, "policy": DECODE_POLICY, "pil": PIL.__version__,
            **settings}
    digest = hashlib.sha256(json.dumps(head, sort_keys=True).encode())
    for item in files:
        digest.update(json.dumps(list(item)).encode() + b"\n")
    return digest.hexdigest()[:32]


# ---------------------------------------------------------------------------------- decodificar
def _pool_context() -> multiprocessing.context.BaseContext:
    """``fork`` en Linux (los procesos nacen al instante); ``spawn`` en macOS y Windows."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _staging_path(key: str, suffix: str) -> Path:
    return cachefiles.owned_temp(cache_dir(), key, suffix)


def decode_files(paths: Sequence[Path], positions: Sequence[int], image_size: int,
                 max_pixels: int, key: str, workers: int, progress: bool
                 ) -> tuple[Path, list[DecodeResult]]:
    """Decodifica los archivos en un temporal ``uint8 [len(paths), 3, S, S]``, fila a fila.

    Con varios procesos, cada uno escribe sus filas en el archivo: la memoria del proceso
    principal no crece con el número de imágenes. Si algo falla o se interrumpe, el temporal se
    borra.

    Args:
        paths: los archivos.
        positions: la fila del temporal de cada archivo (``paths[i]`` va a ``positions[i]``):
            si todas las imágenes se pueden leer, el temporal ya queda en su orden final.
        image_size: lado de las imágenes guardadas.
        max_pixels: límite de píxeles por imagen.
        key: clave de la caché (da nombre al temporal).
        workers: procesos; con 1 (o pocos archivos) se decodifica en este proceso.
        progress: muestra una barra de progreso con el tiempo restante.

    Returns:
        ``(temporal, resultados)``; un resultado por archivo, en el orden de ``paths``.

    Raises:
        CacheUnavailable: si no se puede crear el temporal (carpeta sin permiso, de solo
            lectura, o que no es una carpeta); antes de decodificar nada.
    """
    cachefiles.remove_leftovers(cache_dir())
    staging = _staging_path(key, "staging")
    row = 3 * image_size * image_size
    try:
        with open(staging, "wb") as fh:
            fh.truncate(len(paths) * row)
    except OSError as err:
        with contextlib.suppress(OSError):
            staging.unlink(missing_ok=True)
        if no_space(err):
            raise _disk_error(err) from err
        raise _unavailable(err, "sigo sin caché, con las imágenes en memoria") from err
    try:
        tasks = [DecodeTask(i, str(p), image_size, max_pixels, str(staging), int(pos) * row)
                 for i, (p, pos) in enumerate(zip(paths, positions, strict=True))]
        bar = progress_bar(total=len(tasks), desc="Cargando imágenes", unit="img",
                           disable=not progress)
        with bar:
            results = _run_tasks(tasks, workers, bar, decode_into)
    except BaseException as err:
        staging.unlink(missing_ok=True)
        if isinstance(err, OSError):
            if no_space(err):
                raise _disk_error(err) from err
            raise _unavailable(err, "sigo sin caché, con las imágenes en memoria") from err
        raise
    return staging, results


def decode_to_memory(paths: Sequence[Path], positions: Sequence[int], image_size: int,
                     max_pixels: int, workers: int, progress: bool
                     ) -> tuple[np.ndarray, list[DecodeResult]]:
    """Como :func:`decode_files`, pero a un arreglo en memoria (cuando no hay caché en disco).

    Returns:
        ``(uint8 [len(paths), 3, S, S], resultados)``; la fila de ``paths[i]`` es
        ``positions[i]``.
    """
    out = np.zeros((len(paths), 3, image_size, image_size), dtype=np.uint8)
    tasks = [DecodeTask(i, str(p), image_size, max_pixels, "", int(pos))
             for i, (p, pos) in enumerate(zip(paths, positions, strict=True))]
    bar = progress_bar(total=len(tasks), desc="Cargando imágenes", unit="img",
                       disable=not progress)
    with bar:
        pairs = _run_tasks(tasks, workers, bar, decode_array)
    for task, (_, array) in zip(tasks, pairs, strict=True):
        if array is not None:
            out[task.offset] = array
    return out, [result for result, _ in pairs]


def _run_tasks(tasks: list[DecodeTask], workers: int, bar: object, fn: object) -> list:
    """Corre ``fn`` sobre las tareas en este proceso o en un grupo de procesos, con la barra."""
    if workers <= 1 or len(tasks) < POOL_FROM:
        results = []
        for task in tasks:
            results.append(fn(task))
            bar.update(1)
        return results
    chunk = max(1, min(32, len(tasks) // (workers * 16)))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(),
                               initializer=watch_parent, initargs=(os.getpid(),))
    try:
        with warnings.catch_warnings():  # Python ≥ 3.12 avisa de fork con hilos; aquí no se usa torch
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            results = []
            for result in pool.map(fn, tasks, chunksize=chunk):
                results.append(result)
                bar.update(1)
        return results
    except BrokenProcessPool:
        raise LabkitError(
            "Un proceso auxiliar que decodificaba imágenes terminó de golpe (¿falta de memoria, o "
            "una imagen que hace fallar a PIL?). Vuelve a cargar con workers=1 para decodificar "
            "en este proceso y ver qué archivo falla.") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _disk_error(err: OSError) -> LabkitError:
    return LabkitError(f"No pude escribir la caché de imágenes en '{cache_dir()}': {err}. "
                       "Libera espacio en disco, o carga menos imágenes (max_per_class=...) o más "
                       "pequeñas (image_size=...).")


# ---------------------------------------------------------------------------------- terminar
def finalize(staging: Path, rows: np.ndarray, key: str, manifest: dict) -> torch.Tensor:
    """Deja la caché lista: filas en el orden final, a disco, renombrada y con su manifiesto.

    Args:
        staging: el temporal de :func:`decode_files`.
        rows: qué fila del temporal va en cada posición final (particiones una tras otra).
        key: la clave de la caché.
        manifest: lo que hay que recordar (particiones, etiquetas, informe…); se le añaden la
            versión, la clave y el número de filas.

    Returns:
        Las imágenes, ``uint8 [len(rows), 3, S, S]``, mapeadas desde el disco; si la carpeta no
        deja escribir, en memoria (con un aviso que dice cómo arreglarlo).
    """
    data, meta = _paths(key)
    size = int(manifest["image_size"])
    ready = None
    try:
        ready = _reorder(staging, rows, 3 * size * size, key)
        full = {**manifest, "version": CACHE_VERSION, "key": key, "rows": len(rows),
                "host": HOST_TAG, "data_sha256": digest_file(ready)}
        full["manifest_sha256"] = store.manifest_digest(full)
        os.replace(ready, data)
        with atomic_write(meta, "w") as fh:  # el manifiesto, lo último
            json.dump(full, fh)
    except OSError as err:
        if no_space(err):
            raise _disk_error(err) from err
        warnings.warn(str(_unavailable(err, "sigo sin caché, con las imágenes en memoria")),
                      UserWarning, stacklevel=3)
        if ready is not None and ready.exists():  # ya en el orden final
            return _in_memory(ready, None, size)
        return _in_memory(staging, rows, size)
    finally:
        for path in {staging, ready} - {None}:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
    store.evict(cache_dir(), manifest.get("root", ""))
    array = np.memmap(data, dtype=np.uint8, mode="c", shape=(len(rows), 3, size, size))
    with contextlib.suppress(OSError):
        store.VERIFIED[key] = store.identity(data, full)
    return torch.from_numpy(array)


def _in_memory(path: Path, rows: np.ndarray | None, size: int) -> torch.Tensor:
    """Las filas de un temporal que no se pudo colocar, leídas a memoria en el orden final."""
    pixels = np.fromfile(path, dtype=np.uint8).reshape(-1, 3, size, size)
    return torch.from_numpy(np.ascontiguousarray(pixels if rows is None else pixels[rows]))


def _reorder(staging: Path, rows: np.ndarray, row: int, key: str) -> Path:
    """Copia las filas pedidas, en orden, a otro temporal (por bloques) y lo fuerza a disco.

    Si el temporal ya está en ese orden (lo normal: ninguna imagen omitida), no se copia nada.
    """
    n_staged = staging.stat().st_size // row
    if np.array_equal(rows, np.arange(n_staged)):
        _fsync(staging)
        return staging
    target = _staging_path(key, "tmp")
    buffer = bytearray(_COPY_ROWS * row)
    try:
        with open(staging, "rb") as src, open(target, "wb") as dst:
            for start in range(0, len(rows), _COPY_ROWS):
                block = rows[start:start + _COPY_ROWS]
                view = memoryview(buffer)
                for j, r in enumerate(block):
                    src.seek(int(r) * row)
                    src.readinto(view[j * row:(j + 1) * row])
                dst.write(view[:len(block) * row])
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def clear_image_cache() -> int:
    """Borra todas las cachés de imágenes de ``labkit.data_dir()`` (se rehacen al cargar).

    Solo borra archivos de labkit (``*.u8``, ``*.json`` y sus temporales que nadie escribe). Si
    la carpeta no deja borrar, avisa una vez (sin error) y devuelve lo que sí liberó.

    Returns:
        Los bytes liberados.
    """
    return store.clear_folder(cache_dir())


def image_cache_key(images: object) -> str | None:
    """Clave estable de un ``ImageSet`` que es una partición intacta de una caché de imágenes.

    Sirve para guardar en disco lo calculado a partir de esas imágenes (p. ej. características).

    Args:
        images: un ``ImageSet`` (u otra cosa: entonces ``None``).

    Returns:
        ``"clave:inicio:fin"``, o ``None`` si no viene de la caché o si se modificó o recortó.
    """
    info = getattr(images, "info", None)
    ref = info.get("image_cache") if isinstance(info, dict) else None
    tensor = getattr(images, "images", None)
    if not isinstance(ref, CacheRef) or not isinstance(tensor, torch.Tensor):
        return None
    return f"{ref.key}:{ref.start}:{ref.stop}" if ref.matches(tensor) else None
