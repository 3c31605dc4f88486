"""Datos diminutos y fallos simulados compartidos por las pruebas."""

from __future__ import annotations

import errno
import os

import pytest
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


def disk_full_on_fsync(monkeypatch: pytest.MonkeyPatch, nth: int) -> None:
    """Simula un disco lleno: la llamada número ``nth`` a ``os.fsync`` falla con ``ENOSPC``."""
    calls = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == nth:
            raise OSError(errno.ENOSPC, "No queda espacio en el dispositivo")

    monkeypatch.setattr(os, "fsync", fsync)
