"""Características en disco: lo que sale del prefijo congelado, guardado para otro kernel.

La clave junta la huella de los pesos del prefijo (:func:`labkit.training.prefix_fingerprint`), la
profundidad, el dispositivo y la clave de las imágenes en la caché de imágenes
(:func:`labkit.data.image_cache_key`): solo se guardan características de particiones
intactas de :func:`labkit.image_folder`, que tienen una identidad estable entre kernels. Cada
archivo es un ``.npz`` sin comprimir escrito de forma atómica, con las características y su
SHA-256; se lee sin ``pickle`` y se comprueba: uno dañado se descarta con un aviso y se vuelven a
calcular. La caché es opcional: si no se puede escribir, se avisa una vez y ``fit`` sigue.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import torch

from ..base import _cachefiles as cachefiles
from ..base._config import data_dir

__all__ = ["feature_path", "load_features", "save_features", "STORE_VERSION"]

STORE_VERSION = 2
_WARNED: set[str] = set()  # carpetas de las que ya se avisó en este proceso


def feature_path(fingerprint: tuple, depth: int, image_key: str, device: torch.device) -> Path:
    """Dónde se guardan (o se guardarían) unas características.

    Args:
        fingerprint: huella del prefijo.
        depth: grupos del prefijo.
        image_key: clave de las imágenes (:func:`labkit.data.image_cache_key`).
        device: dispositivo del cálculo (en CUDA se usa precisión mixta: otros números).

    Returns:
        La ruta del ``.npz`` bajo ``labkit.data_dir() / "cache_caracteristicas"``.
    """
    head = [STORE_VERSION, repr(fingerprint), int(depth), image_key, device.type,
            torch.__version__]
    digest = hashlib.sha256(json.dumps(head).encode()).hexdigest()[:32]
    return data_dir(create=False) / "cache_caracteristicas" / f"{digest}.npz"


def load_features(path: Path, rows: int) -> torch.Tensor | None:
    """Lee unas características guardadas; ``None`` si no están o no son válidas.

    Args:
        path: el archivo.
        rows: cuántas filas deben tener (una por imagen).

    Returns:
        Un tensor ``float32`` en CPU, o ``None``.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            array, digest = npz["features"], str(npz["sha256"])
    except Exception as err:  # zipfile da BadZipFile, NotImplementedError, struct.error…: rehacer
        return _damaged(path, f"no se puede leer: {type(err).__name__}")
    if (array.dtype != np.float32 or array.ndim < 2 or len(array) != rows
            or cachefiles.digest_bytes(np.ascontiguousarray(array).data) != digest):
        return _damaged(path, "no coincide con lo que se guardó")
    return torch.from_numpy(array)


def _damaged(path: Path, reason: str) -> None:
    warnings.warn(f"Las características guardadas en '{path}' están dañadas ({reason}): las "
                  "vuelvo a calcular.", UserWarning, stacklevel=4)
    return None


def save_features(path: Path, features: torch.Tensor) -> None:
    """Guarda unas características de forma atómica (aparecen completas o no aparecen).

    Args:
        path: el archivo de destino.
        features: tensor ``float32`` ``[N, ...]`` (en cualquier dispositivo).
    """
    array = np.ascontiguousarray(features.detach().float().cpu().numpy())
    try:
        cachefiles.remove_leftovers(path.parent)
        with cachefiles.cache_write(path) as fh:
            np.savez(fh, features=array, sha256=np.array(cachefiles.digest_bytes(array.data)))
    except OSError as err:
        folder = str(path.parent)
        if folder not in _WARNED:
            _WARNED.add(folder)
            warnings.warn(cachefiles.write_problem(
                "la caché de características", path.parent, err,
                "sigo sin guardarlas (el entrenamiento no cambia; otro kernel las recalculará)"),
                UserWarning, stacklevel=4)
