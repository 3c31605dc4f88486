"""Configuración explícita del curso: carpetas, semilla y dispositivo.

No hay más estado global que este: las funciones reciben lo que necesitan como argumentos y
solo leen de aquí los valores por defecto.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

__all__ = ["data_dir", "seed_everything", "default_device", "REPO_ROOT"]

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Carpeta de datos y cachés del curso (``$LABKIT_DATA`` o ``data/`` junto al repositorio).

    Returns:
        La carpeta, creada si no existía.
    """
    env = os.environ.get("LABKIT_DATA")
    if env:
        path = Path(env)
    elif (REPO_ROOT / "pyproject.toml").exists():
        path = REPO_ROOT / "data"
    else:  # instalado como paquete (Colab): caché del usuario
        path = Path.home() / ".cache" / "labkit"
    path.mkdir(parents=True, exist_ok=True)
    return path


def seed_everything(seed: int = 0) -> None:
    """Fija las semillas de ``random``, NumPy y PyTorch para que los resultados se repitan.

    Args:
        seed: la semilla.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def default_device() -> torch.device:
    """Elige el dispositivo: CUDA si hay GPU NVIDIA, luego MPS (Apple), si no la CPU.

    Returns:
        El ``torch.device`` elegido.
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
