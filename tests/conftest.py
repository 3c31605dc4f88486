"""Configuración común de las pruebas."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """Un hilo de PyTorch: en máquinas de 2 núcleos (CI, Binder) con otros procesos activos,
    dos hilos OpenMP se estorban y los modelos diminutos de las pruebas van hasta 50 veces más
    lentos. Los cuadernos (nbval) corren en su propio kernel y no se ven afectados."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
