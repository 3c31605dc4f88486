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

from ._errors import LabkitError
from ._validate import check_seed

__all__ = ["data_dir", "seed_everything", "default_device", "REPO_ROOT"]

REPO_ROOT = Path(__file__).resolve().parents[2]


def data_dir(create: bool = True) -> Path:
    """Carpeta de datos y cachés del curso (``$LABKIT_DATA`` o ``data/`` junto al repositorio).

    Args:
        create: crearla si no existe (y dar un error en español si no se puede); con ``False``
            solo se calcula la ruta (para las cachés, que siguen sin disco si no se puede).

    Returns:
        La carpeta, creada si no existía.
    """
    env = os.environ.get("LABKIT_DATA")
    if env:
        path = Path(env).expanduser()
    elif (REPO_ROOT / "pyproject.toml").exists():
        path = REPO_ROOT / "data"
    else:  # instalado como paquete (Colab): caché del usuario
        path = Path.home() / ".cache" / "labkit"
    origin = "LABKIT_DATA" if env else "la carpeta de datos"
    if not create:
        return path
    if path.exists() and not path.is_dir():
        raise LabkitError(f"{origin} apunta a «{path}», que es un archivo y no una carpeta. "
                          "Cambia LABKIT_DATA a una carpeta (o bórrala para usar la de siempre).")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LabkitError(f"No se pudo crear {origin} «{path}» ({err.strerror or err}). Elige "
                          "otra con la variable de entorno LABKIT_DATA.") from err
    return path


def seed_everything(seed: int = 0) -> None:
    """Fija las semillas de ``random``, NumPy y PyTorch para que los resultados se repitan.

    Args:
        seed: la semilla.
    """
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # NumPy solo admite semillas de 32 bits
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
