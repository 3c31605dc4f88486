"""El historial de un entrenamiento y los avisos (callbacks) que lo siguen mientras corre.

``labkit.fit`` llama a los métodos de cada :class:`Callback` en estos momentos:
``on_train_begin`` → (por época: ``on_batch_end`` tras cada lote → ``on_epoch_end``) →
``on_train_end``. Un callback puede pedir que pare poniendo ``state.stop = True``.
La barra de progreso (tqdm) y el panel de widgets de ``labkit.widgets`` son callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["History", "TrainState", "Callback"]


@dataclass
class History:
    """Lo que pasó en cada época de un entrenamiento.

    Attributes:
        train_loss, train_acc, val_loss, val_acc: una entrada por época (exactitud de 0 a 1).
        epoch_seconds: segundos de cada época.
        lr: tasa de la cabeza en cada época.
        phase: fase de cada época ("cabeza", "ajuste fino" o "").
        best_epoch: época (desde 1) con menor pérdida de validación; sus pesos son los finales
            cuando hay parada temprana.
        stopped_early: si paró antes por no mejorar la validación.
        interrupted: si se interrumpió a mano (KeyboardInterrupt).
        cached: si se entrenó sobre características guardadas en caché.
        setup_seconds: segundos previos a la primera época (p. ej. calcular la caché).
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    phase: list[str] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    interrupted: bool = False
    cached: bool = False
    setup_seconds: float = 0.0

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

    def extend(self, other: History) -> History:
        """Añade las épocas de otro historial (la segunda fase de ``fine_tune``)."""
        offset = self.epochs
        for name in ("train_loss", "train_acc", "val_loss", "val_acc", "epoch_seconds", "lr",
                     "phase"):
            getattr(self, name).extend(getattr(other, name))
        if other.best_epoch is not None:
            self.best_epoch = offset + other.best_epoch
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
        history: el historial hasta ahora.
        phase: fase en curso ("cabeza", "ajuste fino" o "").
        stop: un callback lo pone a ``True`` para parar al final del lote.
        message: aviso para mostrar (p. ej. por qué paró).
    """

    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
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
