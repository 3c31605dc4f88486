"""Datos diminutos compartidos por las pruebas del motor de entrenamiento."""

from __future__ import annotations

import torch

from labkit.data import ImageSet

#: Opciones de ``fit`` para pruebas rápidas.
FAST = {"progress": False, "device": "cpu", "batch_size": 16}


def make_set(n: int, k: int = 3, size: int = 16, seed: int = 0) -> ImageSet:
    """Un problema separable: cada clase enciende un canal."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % k
    images = torch.randint(0, 80, (n, 3, size, size), generator=gen)
    for c in range(k):
        images[labels == c, c % 3] += 140
    return ImageSet(images.clamp(0, 255).to(torch.uint8), labels, [f"clase{c}" for c in range(k)])
