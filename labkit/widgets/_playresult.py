"""Lo que deja un entrenamiento del playground: el resultado y su descripción en una línea.

Separado de :mod:`labkit.widgets` (la interfaz) para que cada módulo tenga un solo asunto.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ..base._errors import LabkitError
from ..base._fmt import count, pct
from ..training._callbacks import History

__all__ = ["PlaygroundResult", "MODE_EXTRACTION", "MODE_FINE_TUNE"]

MODE_EXTRACTION = "Extracción de características"
MODE_FINE_TUNE = "Ajuste fino"


@dataclass
class PlaygroundResult:
    """Lo que dejó el último entrenamiento del :class:`Playground`.

    Attributes:
        model_name: modelo del catálogo.
        mode: :data:`MODE_EXTRACTION` o :data:`MODE_FINE_TUNE`.
        depth: grupos congelados.
        n_train: imágenes de entrenamiento usadas.
        epochs: épocas pedidas.
        ratio: razón entre tasas usada.
        history: el historial por época.
        test_accuracy: exactitud en prueba (0 a 1).
        confusion: matriz de confusión en prueba (fila = clase real).
        classes: nombres de las clases.
        test_name: nombre del conjunto de prueba.
        seconds: segundos de todo el entrenamiento y la evaluación.
        run: número de entrenamiento en este playground (desde 1).
        model: el modelo entrenado.
        preds: clase predicha para cada imagen de prueba.
        probs: probabilidades de cada clase para cada imagen de prueba.
        interrupted: si el entrenamiento se interrumpió (Ctrl+C) antes de terminar.
        weights_epoch: época cuyos pesos se evaluaron.
    """

    model_name: str
    mode: str
    depth: int
    n_train: int
    epochs: int
    ratio: float
    history: History
    test_accuracy: float
    confusion: torch.Tensor
    classes: list[str]
    test_name: str
    seconds: float
    run: int
    model: nn.Module = field(repr=False)
    preds: torch.Tensor = field(repr=False)
    probs: torch.Tensor = field(repr=False)
    interrupted: bool = False
    weights_epoch: int | None = None

    @property
    def n_test(self) -> int:
        """Imágenes de prueba."""
        return int(self.confusion.sum())

    def accuracy_text(self) -> str:
        """``Exactitud en prueba: 87.5 % (200 imágenes de superficies/test)``.

        Si se interrumpió, lo dice y nombra la época cuyos pesos se evaluaron.
        """
        text = (f"Exactitud en prueba: {pct(self.test_accuracy)} "
                f"({self.n_test} imágenes de {self.test_name})")
        if self.interrupted:
            text += (f" — entrenamiento interrumpido: {self.history.epochs} de "
                     f"{count(self.epochs, 'época', 'épocas')}, pesos de la época "
                     f"{self.weights_epoch}")
        return text


def _check_trained(history: History) -> None:
    """Sin ninguna época completa no hay resultado que enseñar (ni un «0.0 %» engañoso)."""
    if history.interrupted and history.weights_epoch is None:
        raise LabkitError("Entrenamiento interrumpido antes de terminar la primera época: no hay "
                          "un modelo entrenado que evaluar. Vuelve a pulsar «Entrenar».")


def _describe(model_name: str, mode: str, depth: int, n_train: int, epochs: int,
              ratio: float) -> str:
    """«modelo · modo · grupos congelados · imágenes · épocas · razón» en una línea."""
    frozen = ("todas las capas entrenan" if depth == 0
              else count(depth, "grupo congelado", "grupos congelados"))
    ratio_text = f" · razón {ratio:.3g}" if mode == MODE_FINE_TUNE and ratio != 1 else ""
    return (f"{model_name} · {mode.lower()} · {frozen} · {n_train} imágenes · "
            f"{count(epochs, 'época', 'épocas')}{ratio_text}")
