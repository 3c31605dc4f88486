"""Los peores errores: las imágenes de prueba con la pérdida más alta, con sus fotos.

Como ``plot_top_losses`` de fastai: ordenar las imágenes por su pérdida (entropía cruzada, ``-log``
de la probabilidad de la clase verdadera) enseña de un vistazo en qué se equivoca el modelo con
más confianza. A veces es el modelo; a veces, la etiqueta o la resolución (a 96 px, una célula
solar con una grieta fina puede no tener grieta visible).

Uso::

    peores = labkit.experiments.top_losses(modelo, datos.test, k=9)
    labkit.experiments.plot_top_losses(peores, datos.test)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ..base._errors import LabkitError
from ..base._validate import check_int
from ..data._data import ImageSet, to_numpy_image
from ..training._evaluation import predict

if TYPE_CHECKING:  # matplotlib se carga al dibujar, no con import labkit
    from matplotlib.figure import Figure

__all__ = ["TopLoss", "top_losses", "plot_top_losses"]


@dataclass(frozen=True)
class TopLoss:
    """Una imagen de prueba y cómo se equivocó el modelo con ella.

    Attributes:
        index: su posición en el conjunto.
        true: clase verdadera (nombre).
        predicted: clase predicha (nombre).
        probability: probabilidad de la clase predicha.
        true_probability: probabilidad que el modelo dio a la clase verdadera.
        loss: su pérdida, ``-log(true_probability)``.
    """

    index: int
    true: str
    predicted: str
    probability: float
    true_probability: float
    loss: float

    @property
    def correct(self) -> bool:
        """``True`` si el modelo acertó (con ``k`` grande, entran también aciertos dudosos)."""
        return self.true == self.predicted


def top_losses(model: nn.Module, data: ImageSet, k: int = 9, batch_size: int | None = None,
               device: torch.device | str | None = None) -> list[TopLoss]:
    """Las ``k`` imágenes con la pérdida más alta, de la peor a la menos mala.

    Args:
        model: un modelo del catálogo, con las clases de ``data``.
        data: el conjunto (normalmente, el de prueba).
        k: cuántas imágenes (si hay menos, todas).
        batch_size: tamaño del lote (``None`` = automático).
        device: dispositivo; ``None`` = el del modelo.

    Returns:
        Una lista de :class:`TopLoss` ordenada por pérdida decreciente.
    """
    if not isinstance(data, ImageSet):
        raise LabkitError(f"top_losses necesita un ImageSet (p. ej. datos.test); llegó "
                          f"{type(data).__name__}.")
    k = check_int("k", k, minimum=1)
    if len(data) == 0:
        raise LabkitError("El conjunto está vacío: no hay errores que mostrar.")
    predicted, probs = predict(model, data, batch_size=batch_size, device=device)
    if probs.shape[1] != data.num_classes:
        raise LabkitError(f"El modelo tiene {probs.shape[1]} salidas y el conjunto "
                          f"{data.num_classes} clases: entrena la cabeza con estas clases.")
    labels = data.labels.cpu()
    true_p = probs[torch.arange(len(labels)), labels].double()
    losses = -torch.log(true_p.clamp_min(1e-12))
    order = torch.argsort(losses, descending=True, stable=True)[:k].tolist()
    return [TopLoss(i, data.classes[int(labels[i])], data.classes[int(predicted[i])],
                    float(probs[i, predicted[i]]), float(true_p[i]), float(losses[i]))
            for i in order]


def plot_top_losses(losses: list[TopLoss], data: ImageSet, ncols: int = 3) -> Figure:
    """Dibuja las imágenes de :func:`top_losses` con lo que predijo el modelo y lo que eran.

    Args:
        losses: el resultado de :func:`top_losses`.
        data: el mismo conjunto que se le pasó.
        ncols: imágenes por fila.

    Returns:
        La figura; cada título dice «predicha (probabilidad) / real · pérdida».
    """
    from ..base._figures import new_figure

    if not isinstance(data, ImageSet):
        raise LabkitError(f"plot_top_losses necesita el ImageSet de top_losses; llegó "
                          f"{type(data).__name__}.")
    if not losses or not all(isinstance(t, TopLoss) for t in losses):
        raise LabkitError("plot_top_losses necesita la lista que devuelve top_losses (no vacía).")
    if any(t.index >= len(data) for t in losses):
        raise LabkitError("Algunos índices no caben en este conjunto: pasa el mismo conjunto que "
                          "usaste en top_losses.")
    ncols = check_int("ncols", ncols, minimum=1)
    cols = min(ncols, len(losses))
    rows = math.ceil(len(losses) / cols)
    fig = new_figure((2.7 * cols, 3.0 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, item in zip(axes, losses):
        ax.imshow(to_numpy_image(data.images[item.index]))
        color = "#2e7d32" if item.correct else "#c62828"
        ax.set_title(f"predice {item.predicted} ({item.probability:.0%})\nreal: {item.true} · "
                     f"pérdida {item.loss:.2f}", fontsize=9, color=color)
    fig.suptitle("Los peores errores: predicción (probabilidad) / real · pérdida", fontsize=11)
    return fig
