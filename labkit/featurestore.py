"""Características en disco: lo que sale del prefijo congelado, guardado para otro kernel.

La clave junta la huella de los pesos del prefijo (:func:`labkit.features.prefix_fingerprint`), la
profundidad, el dispositivo y la clave de las imágenes en la caché de imágenes
(:func:`labkit.imagecache.image_cache_key`): solo se guardan características de particiones
intactas de :func:`labkit.image_folder`, que tienen una identidad estable entre kernels. Cada
archivo es un ``.npy`` escrito de forma atómica y se lee sin ``pickle``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from .config import data_dir
from .fileio import atomic_write

__all__ = ["feature_path", "load_features", "save_features", "STORE_VERSION"]

STORE_VERSION = 1


def feature_path(fingerprint: tuple, depth: int, image_key: str, device: torch.device) -> Path:
    """Dónde se guardan (o se guardarían) unas características.

    Args:
        fingerprint: huella del prefijo.
        depth: grupos del prefijo.
        image_key: clave de las imágenes (:func:`labkit.imagecache.image_cache_key`).
        device: dispositivo del cálculo (en CUDA se usa precisión mixta: otros números).

    Returns:
        La ruta del ``.npy`` bajo ``labkit.data_dir() / "cache_caracteristicas"``.
    """
    head = [STORE_VERSION, repr(fingerprint), int(depth), image_key, device.type,
            torch.__version__]
    digest = hashlib.sha256(json.dumps(head).encode()).hexdigest()[:32]
    return data_dir() / "cache_caracteristicas" / f"{digest}.npy"


def load_features(path: Path, rows: int) -> torch.Tensor | None:
    """Lee unas características guardadas; ``None`` si no están o no son válidas.

    Args:
        path: el archivo.
        rows: cuántas filas deben tener (una por imagen).

    Returns:
        Un tensor ``float32`` en CPU, o ``None``.
    """
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if array.dtype != np.float32 or array.ndim < 2 or len(array) != rows:
        return None
    return torch.from_numpy(array)


def save_features(path: Path, features: torch.Tensor) -> None:
    """Guarda unas características de forma atómica (aparecen completas o no aparecen).

    Args:
        path: el archivo de destino.
        features: tensor ``float32`` ``[N, ...]`` (en cualquier dispositivo).
    """
    with atomic_write(path) as fh:
        np.save(fh, features.detach().float().cpu().numpy(), allow_pickle=False)
