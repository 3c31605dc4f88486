"""El bucle de entrenamiento por dentro: lotes, pasos, validación, mejor época y final limpio.

Es el único bucle de labkit: lo usan ``labkit.fit``, las dos fases de ``labkit.fine_tune``
(:func:`labkit.training.run_phases`), los barridos, el playground y ``labkit.lr_find`` (un callback
que sube la tasa lote a lote). Quien entrena prepara un :class:`Run` (el estado de una
ejecución) y llama a :func:`supervise`, que corre las épocas y, pase lo que pase (fin normal, parada
temprana, Ctrl+C, divergencia, un callback que falla, falta de memoria), deja el modelo en
evaluación, con los mejores pesos restaurados cuando toca y la barra de progreso cerrada. Los fallos
que no son de labkit se vuelven a lanzar como :class:`~labkit.base.LabkitError` en español, diciendo
qué falló.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..base._errors import LabkitError
from ..base._speed import layout, uses_channels_last
from ..data._augment import Augment, apply_augment
from ..data._data import normalize
from ..models._freezing import eval_mode, train_mode
from ..models._models import model_info
from ._best import BestTracker
from ._callbacks import Callback, History, TrainState
from ._extraction import _autocast, extraction_batch_size

__all__ = [
    "EXPLOSION_FACTOR", "Metrics", "Loop", "Run", "supervise", "all_logits", "loss_and_accuracy",
    "batch_slices", "too_small_advice",
]

EXPLOSION_FACTOR = 50.0
"""La pérdida «explota» si pasa de este factor por ``max(pérdida inicial, ln(clases))``."""


def batch_slices(n: int, batch_size: int) -> list[slice]:
    """Cortes de lote; un último lote de una sola imagen se une al anterior (BatchNorm)."""
    slices = [slice(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
    if len(slices) > 1 and slices[-1].stop - slices[-1].start == 1:
        slices[-2:] = [slice(slices[-2].start, n)]
    return slices


@dataclass
class Loop:
    """El modelo en su dispositivo y cómo preparar un lote y dar un paso de entrenamiento."""

    model: nn.Module
    forward: nn.Module
    device: torch.device
    raw: bool
    augment: Augment | None = None
    scaler: object | None = None
    update_bn: bool | None = None
    class_weight: torch.Tensor | None = None
    mean: tuple = field(init=False)
    std: tuple = field(init=False)
    channels_last: bool = field(init=False)

    def __post_init__(self) -> None:
        info = model_info(self.model)
        self.mean, self.std = info.mean, info.std
        self.channels_last = uses_channels_last(self.model)  # lotes en el orden de los pesos

    def inputs(self, x: torch.Tensor, gen: torch.Generator | None, train: bool) -> torch.Tensor:
        """Lleva un lote al dispositivo; con imágenes ``uint8``, aumenta (si toca) y normaliza."""
        x = x.to(self.device, non_blocking=True)
        if self.raw and x.dtype == torch.uint8:
            if train and self.augment is not None:
                x = apply_augment(x.float().div_(255.0), self.augment, gen)
                x = x.mul_(255.0)  # normalize espera la escala 0–255 en float
            x = normalize(x, self.mean, self.std)
        return layout(x, self.channels_last)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Salidas del modelo (o de su cola) en ``float32``."""
        with _autocast(self.device):
            return self.forward(x).float()

    def step(self, opt: torch.optim.Optimizer, x: torch.Tensor,
             y: torch.Tensor) -> tuple[float, int]:
        """Un paso de descenso; devuelve la pérdida del lote y los aciertos."""
        logits = self.logits(x)
        weight = None if self.class_weight is None else self.class_weight.to(logits.device)
        loss = F.cross_entropy(logits, y, weight=weight)
        value = loss.item()
        if not math.isfinite(value):
            return value, 0
        opt.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(opt)
            self.scaler.update()
        else:
            loss.backward()
            opt.step()
        return value, int((logits.argmax(1) == y).sum())


def loss_and_accuracy(logits: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Entropía cruzada media y exactitud de unas salidas frente a sus etiquetas."""
    y = y.to(logits.device)
    return float(F.cross_entropy(logits, y)), float((logits.argmax(1) == y).float().mean())


Metrics = Callable[[torch.Tensor, torch.Tensor], tuple[float, float]]
"""Las métricas de validación: ``(salidas, etiquetas) → (pérdida, exactitud)``. La costura para
medir otra cosa (o, en las pruebas, dictar la pérdida de cada época) sin tocar el bucle:
``labkit.fit(..., metrics=mis_metricas)``; por defecto, :func:`loss_and_accuracy`."""


@dataclass
class Run:
    """Todo lo que necesita una ejecución de ``fit`` (una fase de ``fine_tune``, un ``lr_find``).

    ``x_val=None`` entrena sin validar (``lr_find``); ``explosion_factor=None`` no comprueba
    si la pérdida explota (``lr_find`` la lleva hasta ahí a propósito); ``reseed=False`` no fija
    la semilla global de torch (el dropout sigue el estado que traiga, como en ``lr_find``).
    """

    loop: Loop
    opt: torch.optim.Optimizer
    scheduler: object | None
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor | None
    y_val: torch.Tensor | None
    batch_size: int
    seed: int
    state: TrainState
    best: BestTracker
    patience: int | None = None
    restore_best: bool = True
    callbacks: list[Callback] = field(default_factory=list)
    num_classes: int = 2
    metrics: Metrics = loss_and_accuracy
    explosion_factor: float | None = EXPLOSION_FACTOR
    reseed: bool = True
    stage: str = "la preparación"
    reference_loss: float | None = None
    last_lr: float | None = None


def notify(run: Run, event: str) -> None:
    """Llama a ``event`` en cada callback, apuntando cuál corre (por si falla)."""
    for cb in run.callbacks:
        run.stage = f"el callback {type(cb).__name__}.{event}"
        getattr(cb, event)(run.state)


def _limit(run: Run) -> float:
    """La pérdida a partir de la cual se considera que el entrenamiento explotó."""
    base = max(run.reference_loss or 0.0, math.log(max(run.num_classes, 2)))
    return run.explosion_factor * base


def _check_divergence(run: Run, value: float, where: str) -> None:
    """Lanza un error en español si la pérdida no es finita o explotó."""
    if run.explosion_factor is None:
        return
    if run.reference_loss is None and math.isfinite(value):
        run.reference_loss = value
    if math.isfinite(value) and value <= _limit(run):
        return
    lr = run.opt.param_groups[-1]["lr"]
    what = ("dejó de ser un número finito" if not math.isfinite(value)
            else f"explotó: {value:.4g}, más de {run.explosion_factor:g} veces la inicial")
    restored = (f" Se restauraron los pesos de la mejor época ({run.best.epoch})."
                if run.best.epoch is not None else "")
    raise LabkitError(f"La pérdida {where} {what} ({value:.4g}) en la época {run.state.epoch}, "
                      f"lote {run.state.batch}, con tasa de aprendizaje {lr:g} en la cabeza: el "
                      f"entrenamiento divergió. Baja la tasa (p. ej. lr={lr / 10:g}) y vuelve a "
                      "crear el modelo con labkit.create_model (sus pesos pueden estar dañados); "
                      f"revisa también que las imágenes estén bien normalizadas.{restored}")


def _train_epoch(run: Run, gen: torch.Generator) -> tuple[float, float] | None:
    """Una época de entrenamiento; ``None`` si un callback pidió parar a mitad."""
    loop, state = run.loop, run.state
    train_mode(loop.model, loop.update_bn)
    order = torch.randperm(len(run.y_train), generator=gen)
    slices = batch_slices(len(run.y_train), run.batch_size)
    state.batches = len(slices)
    loss_sum, correct = 0.0, 0
    for b, sl in enumerate(slices, 1):
        idx = order[sl]
        state.batch = b
        run.stage = "el paso de entrenamiento"
        x = loop.inputs(run.x_train[idx], gen, True)
        value, hits = loop.step(run.opt, x, run.y_train[idx].to(loop.device))
        state.batch_loss = value
        _check_divergence(run, value, "de entrenamiento")
        run.last_lr = run.opt.param_groups[-1]["lr"]
        if run.scheduler is not None:
            run.scheduler.step()
        loss_sum += value * len(idx)
        correct += hits
        notify(run, "on_batch_end")
        if state.stop:
            return None
    return loss_sum / len(run.y_train), correct / len(run.y_train)


def all_logits(loop: Loop, x: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
    """Las salidas para todo ``x``, en evaluación y sin gradientes.

    Sin ``batch_size``, las imágenes van en lotes de :func:`extraction_batch_size` (rápidos en
    CPU) y las características, de 256 en 256.
    """
    if batch_size is None:
        image_like = loop.raw and x.ndim == 4
        batch_size = (extraction_batch_size(tuple(x.shape[2:]), loop.device) if image_like
                      else 256)
    out = []
    with eval_mode(loop.model), torch.no_grad():
        for sl in batch_slices(len(x), batch_size):
            out.append(loop.logits(loop.inputs(x[sl], None, False)))
    return torch.cat(out)


def _validate(run: Run) -> tuple[float, float]:
    """Pérdida y exactitud de validación, con las métricas de ``run`` (la costura)."""
    run.stage = "la validación"
    out = run.metrics(all_logits(run.loop, run.x_val), run.y_val)
    try:
        loss, acc = (float(v) for v in out)
    except (TypeError, ValueError) as err:
        raise LabkitError(f"Las métricas de validación devolvieron {out!r}; deben devolver "
                          "(pérdida, exactitud), dos números.") from err
    return loss, acc


def _end_epoch(run: Run, stats: tuple[float, float], start: float) -> None:
    """Valida, apunta la época, sigue la mejor (con la regla de :mod:`labkit.training`) y decide
    si la paciencia se acabó."""
    state = run.state
    val_stats = _validate(run)
    _record(run, stats, val_stats, time.perf_counter() - start)
    _check_divergence(run, val_stats[0], "de validación")
    run.stage = "guardar el checkpoint" if run.best.checkpoint else "la validación"
    run.best.update(run.loop.model, state.history.epochs, *val_stats)
    state.history.best_epoch = run.best.epoch
    if run.patience is not None and run.best.waited >= run.patience:
        state.history.stopped_early = True
        state.message = (f"Parada temprana en la época {state.epoch}: {run.patience} épocas sin "
                         f"mejorar la validación; mejor época: {run.best.epoch}.")


def _record(run: Run, stats: tuple[float, float], val: tuple[float, float],
            seconds: float) -> None:
    h = run.state.history
    h.train_loss.append(stats[0])
    h.train_acc.append(stats[1])
    h.val_loss.append(val[0])
    h.val_acc.append(val[1])
    h.epoch_seconds.append(seconds)
    h.lr.append(run.last_lr if run.last_lr is not None else run.opt.param_groups[-1]["lr"])
    h.phase.append(run.state.phase)


def _run_epochs(run: Run) -> None:
    """El bucle de épocas: entrenar, validar, apuntar, avisar y decidir si parar."""
    gen = torch.Generator().manual_seed(run.seed)
    if run.reseed:
        torch.manual_seed(run.seed)
    state = run.state
    for epoch in range(1, state.epochs + 1):
        state.epoch = epoch
        start = time.perf_counter()
        stats = _train_epoch(run, gen)
        if stats is None:
            state.message = state.message or f"Parado a petición en la época {epoch}."
            return
        if run.x_val is not None:
            _end_epoch(run, stats, start)
        notify(run, "on_epoch_end")
        if state.stop or state.history.stopped_early:
            return


_TOO_SMALL = ("output size is too small", "greater than actual input size",
              "kernel size can't be greater")


def too_small_advice(err: BaseException, x: torch.Tensor, model: nn.Module) -> str:
    """Consejo para «la imagen se queda en menos de un píxel dentro del modelo» (o ``""``).

    Las capas de reducción (``MaxPool``, convoluciones con paso) dividen el lado: con imágenes
    demasiado pequeñas la salida de alguna queda vacía. El arreglo es usar imágenes **más
    grandes**, no más pequeñas.
    """
    if not isinstance(err, RuntimeError) or not any(t in str(err).lower() for t in _TOO_SMALL):
        return ""
    side = f" ({x.shape[-2]}×{x.shape[-1]} px)" if x.ndim == 4 else ""
    name = getattr(getattr(model, "labkit_info", None), "name", "este modelo")
    return (f" Las imágenes{side} son demasiado pequeñas para {name}: sus capas de reducción las "
            "dejan en menos de un píxel. Usa imágenes más grandes (p. ej. image_size=32 o más "
            "en labkit.image_folder).")


def _failure(run: Run, err: BaseException) -> LabkitError:
    """El error en español que sustituye a uno que no es de labkit."""
    where = f"época {run.state.epoch}, lote {run.state.batch}"
    if isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError":
        advice = " Falta memoria: baja batch_size o el tamaño de las imágenes."
    else:
        advice = too_small_advice(err, run.x_train, run.loop.model)
    kept = (f" El modelo quedó con los pesos de la época {run.best.epoch}."
            if run.best.epoch is not None else "")
    return LabkitError(f"El entrenamiento falló en {run.stage} ({where}): "
                       f"{type(err).__name__}: {err}.{advice}{kept}")


def supervise(run: Run) -> History:
    """Corre las épocas y se ocupa del final en todos los casos.

    Ctrl+C devuelve el historial con ``interrupted`` y los mejores pesos. Cualquier otro fallo
    se vuelve a lanzar (como ``LabkitError`` en español si no lo era) tras limpiar: barra
    cerrada, modelo en evaluación y, si hubo alguna época, los mejores pesos restaurados.

    Returns:
        El historial.
    """
    state, failure = run.state, None
    try:
        notify(run, "on_train_begin")
        _run_epochs(run)
    except KeyboardInterrupt:
        state.history.interrupted = True
        state.message = f"Interrumpido a mano en la época {state.epoch}."
    except LabkitError as err:
        state.message, failure = str(err), err
    except Exception as err:  # se vuelve a lanzar en español tras limpiar
        failure = _failure(run, err)
        failure.__cause__ = err
        state.message = str(failure)
    finally:
        _finish(run, failure is not None)
    if failure is not None:
        failure.history = state.history
        raise failure
    return state.history


def _finish(run: Run, failed: bool) -> None:
    """Restaura pesos, deja el modelo en evaluación y avisa a los callbacks (sin fallar)."""
    h = run.state.history
    if run.restore_best or failed or h.interrupted:
        h.weights_epoch = run.best.restore(run.loop.model)
    else:
        h.weights_epoch = h.epochs or None
    run.loop.model.eval()
    for cb in run.callbacks:
        try:
            cb.on_train_end(run.state)
        except Exception:  # noqa: BLE001 — un callback roto no debe tapar el final
            pass
