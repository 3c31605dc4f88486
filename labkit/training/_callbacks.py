"""El historial de un entrenamiento y los avisos (callbacks) que lo siguen mientras corre.

``labkit.fit`` llama a los métodos de cada :class:`Callback` en estos momentos:
``on_train_begin`` → (por época: ``on_batch_end`` tras cada lote → ``on_epoch_end``) →
``on_train_end``. Un callback puede pedir que pare poniendo ``state.stop = True``.
La barra de progreso (:class:`TqdmCallback`) y el panel de widgets de ``labkit.widgets`` son
callbacks.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ..base._fmt import pct

__all__ = ["History", "TrainState", "Callback", "TqdmCallback"]


@dataclass
class History:
    """Lo que pasó en cada época de un entrenamiento.

    Attributes:
        train_loss, train_acc, val_loss, val_acc: una entrada por época (exactitud de 0 a 1).
        epoch_seconds: segundos de cada época.
        lr: tasa de la cabeza en cada época.
        phase: fase de cada época ("cabeza", "ajuste fino" o "").
        best_epoch: mejor época (desde 1, contando todas las fases) según la métrica vigilada
            (``monitor`` de ``fit``: pérdida o exactitud de validación).
        weights_epoch: época cuyos pesos tiene el modelo al terminar (``best_epoch`` si se
            restauraron los mejores, la última completada si no; ``None`` si no hubo ninguna).
        stopped_early: si paró antes por no mejorar la validación.
        interrupted: si se interrumpió a mano (KeyboardInterrupt).
        cached: si se entrenó sobre características guardadas en caché.
        setup_seconds: segundos previos a la primera época (p. ej. calcular la caché).
        notes: avisos en español de la ejecución (p. ej. que la mejor época es de la fase de
            cabeza y el ajuste fino no cambió los pesos; ver :attr:`best_phase`).
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    phase: list[str] = field(default_factory=list)
    best_epoch: int | None = None
    weights_epoch: int | None = None
    stopped_early: bool = False
    interrupted: bool = False
    cached: bool = False
    setup_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def best_phase(self) -> str | None:
        """La fase de la mejor época («cabeza», «ajuste fino», «»), o ``None`` si no hay."""
        if self.best_epoch is None or not 0 < self.best_epoch <= len(self.phase):
            return None
        return self.phase[self.best_epoch - 1]

    @property
    def epochs(self) -> int:
        """Épocas completadas."""
        return len(self.train_loss)

    @property
    def seconds(self) -> float:
        """Tiempo total: preparación más todas las épocas."""
        return self.setup_seconds + sum(self.epoch_seconds)

    def rows(self) -> list[dict]:
        """Una fila por época (para una tabla)."""
        return [{"época": i + 1, "fase": self.phase[i], "pérdida_train": self.train_loss[i],
                 "exactitud_train": self.train_acc[i], "pérdida_val": self.val_loss[i],
                 "exactitud_val": self.val_acc[i], "segundos": self.epoch_seconds[i]}
                for i in range(self.epochs)]

    def __repr__(self) -> str:
        """Un resumen legible (lo que guarda el cuaderno si una celda acaba en ``fit(...)``)."""
        if not self.epochs:
            return "Historial vacío (ninguna época completada)"
        n = self.epochs
        text = (f"Historial: {n} {'época' if n == 1 else 'épocas'} en {self.seconds:.1f} s; "
                f"última: pérdida {self.train_loss[-1]:.3f}/{self.val_loss[-1]:.3f}, exactitud "
                f"{pct(self.train_acc[-1])}/{pct(self.val_acc[-1])} (entrenamiento/validación)")
        if self.best_epoch is not None:
            text += f"; mejor época en validación: {self.best_epoch}"
        if self.weights_epoch is not None and self.weights_epoch != n:
            text += f"; el modelo tiene los pesos de la época {self.weights_epoch}"
        return text + ("; parada temprana" if self.stopped_early else "")

    def extend(self, other: History) -> History:
        """Añade las épocas de otro historial (la segunda fase de ``fine_tune``)."""
        offset = self.epochs
        for name in ("train_loss", "train_acc", "val_loss", "val_acc", "epoch_seconds", "lr",
                     "phase"):
            getattr(self, name).extend(getattr(other, name))
        if other.best_epoch is not None:
            self.best_epoch = offset + other.best_epoch
        if other.weights_epoch is not None:
            self.weights_epoch = offset + other.weights_epoch
        self.stopped_early = other.stopped_early
        self.interrupted = self.interrupted or other.interrupted
        self.setup_seconds += other.setup_seconds
        return self


@dataclass
class TrainState:
    """El estado que ven los callbacks.

    Attributes:
        epoch: época en curso, desde 1.
        epochs: épocas previstas.
        batch: lote en curso dentro de la época, desde 1.
        batches: lotes por época.
        batch_loss: pérdida del último lote de entrenamiento (la lee ``lr_find``).
        history: el historial hasta ahora.
        phase: fase en curso ("cabeza", "ajuste fino" o "").
        stop: un callback lo pone a ``True`` para parar al final del lote.
        message: aviso para mostrar (p. ej. por qué paró).
    """

    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    batch_loss: float = math.nan
    history: History = field(default_factory=History)
    phase: str = ""
    stop: bool = False
    message: str = ""


class Callback:
    """Base de los callbacks: sobrescribe los métodos que necesites."""

    def on_train_begin(self, state: TrainState) -> None:
        """Antes de la primera época."""

    def on_batch_end(self, state: TrainState) -> None:
        """Tras cada lote de entrenamiento."""

    def on_epoch_end(self, state: TrainState) -> None:
        """Tras cada época (el historial ya tiene sus números)."""

    def on_train_end(self, state: TrainState) -> None:
        """Al terminar, también si paró antes o se interrumpió."""


class TqdmCallback(Callback):
    """Una barra de progreso (``tqdm.auto``) con una marca por época y las métricas al lado.

    Funciona en Jupyter (widget) y en una terminal o un registro (texto). Para no llenar la
    salida, durante la época solo refresca el número de lote cada ``mininterval`` segundos.

    Args:
        mininterval: segundos mínimos entre refrescos.
        file: dónde escribir (por defecto, la salida de errores, como tqdm).
    """

    def __init__(self, mininterval: float = 1.0, file: object | None = None) -> None:
        self.mininterval = mininterval
        self.file = file
        self.bar = None
        self._last = 0.0

    def on_train_begin(self, state: TrainState) -> None:
        from ..base._progress import progress_bar

        self.bar = progress_bar(total=state.epochs, desc=state.phase or "entrenamiento",
                                leave=True, mininterval=self.mininterval, file=self.file,
                                dynamic_ncols=True,
                                bar_format="{desc}: {n_fmt}/{total_fmt} épocas |{bar}| "
                                           "[{elapsed}<{remaining}{postfix}]")
        self._last = time.perf_counter()

    def on_batch_end(self, state: TrainState) -> None:
        now = time.perf_counter()
        if self.bar is not None and now - self._last >= self.mininterval:
            self._last = now
            self.bar.set_postfix_str(f"época {state.epoch}, lote {state.batch}/{state.batches}")

    def on_epoch_end(self, state: TrainState) -> None:
        h = state.history
        if self.bar is None or not h.epochs:
            return
        self.bar.set_postfix_str(
            f"pérdida {h.train_loss[-1]:.3f}/{h.val_loss[-1]:.3f}, "
            f"exactitud {pct(h.train_acc[-1])}/{pct(h.val_acc[-1])} (entrenamiento/validación)",
            refresh=False)
        self.bar.update(1)

    def on_train_end(self, state: TrainState) -> None:
        if self.bar is None:
            return
        if state.message:
            self.bar.set_postfix_str(state.message, refresh=False)
        self.bar.close()
        self.bar = None

