"""Configuración común de las pruebas."""

from __future__ import annotations

import pytest
import torch
from torch import nn


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """Un hilo de PyTorch: en máquinas de 2 núcleos (CI, Binder) con otros procesos activos,
    dos hilos OpenMP se estorban y los modelos diminutos de las pruebas van hasta 50 veces más
    lentos. Los cuadernos (nbval) corren en su propio kernel y no se ven afectados."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def catalog_models() -> dict[str, nn.Module]:
    """Cada modelo del catálogo (pesos aleatorios, 3 clases), creado una sola vez por sesión.

    Lo comparten ``test_freezing.py`` y ``test_groups.py`` (antes cada uno creaba los ocho). Se
    reciben a través de su fixture ``models``, que los descongela antes de cada prueba.
    """
    from labkit.models import MODELS, create_model

    torch.manual_seed(0)
    return {name: create_model(name, num_classes=3, pretrained=False) for name in MODELS}
