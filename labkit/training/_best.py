"""La mejor época: una sola regla de «esta época es mejor» y quien la sigue durante ``fit``.

La regla (:func:`improves` sobre :func:`score`) la usan el bucle (:class:`BestTracker`), la
parada temprana, :class:`labkit.experiments.BestWeights` y :func:`labkit.experiments.stop_epoch`:
una época es mejor si su puntuación baja **estrictamente** más de ``min_delta`` respecto a la
mejor hasta ahora (con empate, se queda la primera). La puntuación es la pérdida de validación,
o menos la exactitud con ``monitor="val_acc"``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from ..base._errors import LabkitError
from ..base._writers import file_stamp
from ..models._checkpoints import write_checkpoint

__all__ = ["MONITORS", "score", "improves", "BestTracker"]

MONITORS = ("val_loss", "val_acc")
"""Qué vigila la parada temprana y la elección de la mejor época."""


def score(monitor: str, val_loss: float, val_acc: float) -> float:
    """La puntuación de una época según ``monitor``: cuanto más baja, mejor.

    Args:
        monitor: ``"val_loss"`` (la pérdida) o ``"val_acc"`` (menos la exactitud).
        val_loss: pérdida de validación de la época.
        val_acc: exactitud de validación de la época (de 0 a 1).

    Returns:
        La puntuación que compara :func:`improves`.
    """
    return val_loss if monitor == "val_loss" else -val_acc


def improves(value: float, best: float, min_delta: float = 0.0) -> bool:
    """La regla única: ¿la puntuación ``value`` mejora ``best`` en más de ``min_delta``?

    Args:
        value: puntuación de la época (de :func:`score`).
        best: la mejor puntuación hasta ahora (``math.inf`` si no hay ninguna).
        min_delta: mejora mínima que cuenta (0 = cualquier mejora estricta).

    Returns:
        ``True`` si la época es mejor.
    """
    return value < best - min_delta


@dataclass
class BestTracker:
    """La mejor época según ``monitor``, una copia de sus pesos y (si se pide) su checkpoint.

    Uno solo sigue las dos fases de ``fine_tune``: la mejor época, los pesos restaurados y el
    checkpoint son los de toda la ejecución. Las épocas se cuentan desde 1 sobre todas las fases.
    """

    monitor: str = "val_loss"
    min_delta: float = 0.0
    checkpoint: str | os.PathLike | None = None
    classes: list[str] = field(default_factory=list)
    score: float = math.inf
    epoch: int | None = None
    weights: dict | None = None
    waited: int = 0
    stamp: tuple | None = None

    def update(self, model: nn.Module, epoch: int, val_loss: float, val_acc: float) -> bool:
        """Apunta la época si mejora (:func:`improves`); si no, suma una sin mejorar."""
        value = score(self.monitor, val_loss, val_acc)
        if not improves(value, self.score, self.min_delta):
            self.waited += 1
            return False
        self.score, self.epoch, self.waited = value, epoch, 0
        self.weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        if self.checkpoint is not None:
            self._save(model, {"classes": self.classes, "epoch": epoch, "val_loss": val_loss,
                               "val_acc": val_acc})
        return True

    def _save(self, model: nn.Module, meta: dict) -> None:
        """Crea el checkpoint (solo si no existe) o reemplaza el que escribimos en esta ejecución.

        Si el archivo ya no es el que escribimos (otro proceso o alguien lo cambió), no se toca.
        """
        path = Path(self.checkpoint)
        current = file_stamp(path)
        if current is not None and current != self.stamp:
            raise LabkitError(f"El checkpoint '{path}' cambió en el disco desde que lo escribió "
                              "este entrenamiento (¿otro proceso o un export con ese nombre?): "
                              "no lo reemplazo. Usa otro nombre de checkpoint.")
        try:
            write_checkpoint(model, path, meta, exclusive=current is None)
        except LabkitError as err:
            raise LabkitError(f"El entrenamiento no pudo guardar el checkpoint de la época "
                              f"{meta['epoch']}: {err}") from err
        self.stamp = file_stamp(path)

    def restore(self, model: nn.Module) -> int | None:
        """Vuelve a los pesos de la mejor época, si hay; devuelve esa época."""
        if self.weights is not None:
            model.load_state_dict(self.weights)
        return self.epoch
