"""Buscar la tasa de aprendizaje: la prueba de rango de Smith (``lr_find`` de fastai).

Sobre una **copia** del modelo (el tuyo no cambia), se entrena unos ``num_iter`` lotes subiendo
la tasa de forma exponencial desde ``start_lr`` hasta ``end_lr`` y se apunta la pérdida
(suavizada). Al principio la tasa es tan pequeña que no pasa nada; luego la pérdida baja; al
final la tasa es demasiado grande y la pérdida se dispara. Una buena tasa está en la bajada,
antes del mínimo: :func:`lr_find` la sugiere con el criterio «valle» de fastai (la bajada más
larga) y dibuja la curva.

Ejemplo::

    labkit.freeze(modelo)
    busqueda = labkit.lr_find(modelo, datos.train)
    busqueda.figure()               # la curva, con la tasa sugerida marcada
    labkit.fit(modelo, datos.train, datos.val, lr=busqueda.suggestion)
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch
from torch import nn

from ..base._config import default_device
from ..base._errors import LabkitError
from ..base._speed import place
from ..base._validate import check_float, check_int
from ..data._data import DataSplits, ImageSet
from ._best import BestTracker
from ._callbacks import Callback, TrainState
from ._features import FeatureSet
from ._loop import Loop, Run, batch_slices, supervise
from ._optim import param_groups
from ._settings import FitSettings
from ._trainargs import check_model, check_rates
from ._training import _make_optimizer, _plan_inputs

__all__ = ["lr_find", "LRFindResult", "RangeTest", "valley"]


@dataclass
class LRFindResult:
    """El resultado de :func:`lr_find`.

    Attributes:
        lrs: tasa de la cabeza en cada paso.
        losses: pérdida suavizada en cada paso.
        suggestion: la tasa sugerida (criterio «valle» de fastai).
        minimum: la tasa de la pérdida mínima dividida entre 10 (la regla clásica).
        steepest: la tasa donde la pérdida baja más deprisa.
    """

    lrs: list[float]
    losses: list[float]
    suggestion: float
    minimum: float
    steepest: float
    raw_losses: list[float] = field(default_factory=list, repr=False)

    def __repr__(self) -> str:
        return (f"LRFindResult(sugerida={self.suggestion:.2e}, mínimo/10={self.minimum:.2e}, "
                f"máxima pendiente={self.steepest:.2e}, {len(self.lrs)} pasos)")

    def figure(self) -> object:
        """La curva pérdida–tasa (eje x logarítmico) con la tasa sugerida marcada.

        Returns:
            Una ``Figure`` de matplotlib.
        """
        from ..base._figures import format_lr, new_figure

        fig = new_figure((6.0, 3.6))
        ax = fig.subplots()
        ax.plot(self.lrs, self.losses, color="#1f77b4")
        ax.set_xscale("log")
        ax.axvline(self.suggestion, color="#d62728", ls="--",
                   label=f"sugerida: {format_lr(self.suggestion)}")
        ax.set_xlabel("tasa de aprendizaje (cabeza)")
        ax.set_ylabel("pérdida (suavizada)")
        ax.set_title("Búsqueda de la tasa de aprendizaje")
        ax.legend(frameon=False)
        return fig


def valley(losses: list[float]) -> int:
    """El índice sugerido por el criterio «valle» de fastai.

    Busca la subsecuencia decreciente más larga de la curva y toma un punto a la mitad de su
    primer tercio largo: en plena bajada, lejos del mínimo (donde ya empieza a divergir).

    Args:
        losses: pérdidas suavizadas.

    Returns:
        El índice del punto sugerido.
    """
    n = len(losses)
    run = [1] * n
    start, end = 0, 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and run[i] < run[j] + 1:
                run[i] = run[j] + 1
        if run[end] < run[i]:
            end, start = i, i - run[i]
    third = (end - start) / 3
    return min(max(start + int(third) + int(third / 2), 0), n - 1)


def _inputs(model: nn.Module, data: ImageSet | FeatureSet, cache: object,
            device: torch.device) -> tuple[nn.Module, torch.Tensor, bool]:
    """El módulo y las entradas (características en caché si hay capas congeladas)."""
    plan = _plan_inputs(model, data, data.subset([0]) if isinstance(data, ImageSet) else data,
                        cache, False, device)
    return plan.forward, plan.x_train, plan.raw


def _schedule(start_lr: float, end_lr: float, num_iter: int) -> list[float]:
    return [start_lr * (end_lr / start_lr) ** (i / max(num_iter - 1, 1)) for i in range(num_iter)]


def _check(start_lr: object, end_lr: object, num_iter: object, stop_factor: object) -> None:
    start = check_float("start_lr", start_lr, minimum=0, strict=True)
    check_float("end_lr", end_lr, minimum=start, strict=True,
                expected=f"un número finito mayor que start_lr ({start:g})")
    check_int("num_iter", num_iter, minimum=10, maximum=10_000)
    check_float("stop_factor", stop_factor, minimum=1, strict=True)


class RangeTest(Callback):
    """La prueba de rango como callback del bucle único (:mod:`labkit.training`).

    Antes de cada lote pone la tasa de la cabeza del paso (``lrs``; los demás grupos, en la
    misma proporción que les dio :func:`labkit.training.param_groups`), apunta la pérdida de cada
    lote y pide parar cuando se acaban las tasas o la pérdida suavizada pasa de
    ``stop_factor`` veces su mínimo (o deja de ser finita).

    Args:
        opt: el optimizador que usa el bucle.
        lrs: la tasa de la cabeza en cada paso.
        stop_factor: factor sobre la mínima pérdida suavizada a partir del cual se para.
    """

    def __init__(self, opt: torch.optim.Optimizer, lrs: list[float], stop_factor: float) -> None:
        self.opt, self.lrs, self.stop_factor = opt, lrs, stop_factor
        self.scales = [g["lr"] / opt.param_groups[-1]["lr"] for g in opt.param_groups]
        self.losses: list[float] = []
        self._avg, self._best = 0.0, math.inf

    def _set_lr(self, lr: float) -> None:
        for group, scale in zip(self.opt.param_groups, self.scales):
            group["lr"] = lr * scale

    def on_train_begin(self, state: TrainState) -> None:
        self._set_lr(self.lrs[0])

    def on_batch_end(self, state: TrainState) -> None:
        value = state.batch_loss
        self.losses.append(value)
        self._avg = 0.98 * self._avg + 0.02 * value
        smooth = self._avg / (1 - 0.98 ** len(self.losses))
        self._best = min(self._best, smooth)
        done = len(self.losses) == len(self.lrs)
        if done or not math.isfinite(value) or smooth > self.stop_factor * self._best:
            state.stop = True
        else:
            self._set_lr(self.lrs[len(self.losses)])


def _smooth(raw: list[float]) -> list[float]:
    out, avg = [], 0.0
    for i, value in enumerate(raw):
        avg = 0.98 * avg + 0.02 * (value if math.isfinite(value) else 1e6)
        out.append(avg / (1 - 0.98 ** (i + 1)))
    return out


def _result(lrs: list[float], raw: list[float]) -> LRFindResult:
    """Sugerencias a partir de la curva (sin los últimos puntos, donde ya diverge)."""
    losses = _smooth(raw)
    keep = max(len(losses) - 5, 3) if len(losses) > 8 else len(losses)
    lr, loss = lrs[:keep], losses[:keep]
    if len(loss) < 3:
        raise LabkitError("La búsqueda de la tasa paró enseguida: la pérdida se disparó desde el "
                          "principio. Prueba un start_lr menor.")
    skip = min(len(loss) // 10, 10)  # los primeros puntos: ruido del suavizado
    slopes = [(loss[i + 1] - loss[i]) / (math.log(lr[i + 1]) - math.log(lr[i]))
              for i in range(skip, len(loss) - 1)]
    steep = skip + min(range(len(slopes)), key=slopes.__getitem__)
    low = min(range(len(loss)), key=loss.__getitem__)
    return LRFindResult(lr, loss, lr[valley(loss)], lr[low] / 10, lr[steep], raw[:keep])


def lr_find(model: nn.Module, data: DataSplits | ImageSet | FeatureSet, *,
            start_lr: float = 1e-7, end_lr: float = 10.0, num_iter: int = 100,
            ratio: float = 1.0, tiers: int = 3, batch_size: int = 32,
            optimizer: str = "adam", weight_decay: float = 0.0, seed: int = 0,
            device: torch.device | str | None = None, cache: object = "auto",
            stop_factor: float = 4.0) -> LRFindResult:
    """Prueba de rango de la tasa de aprendizaje sobre una copia del modelo.

    Entrena la copia ``num_iter`` lotes (dando las vueltas al entrenamiento que hagan falta) con
    la tasa de la cabeza subiendo de ``start_lr`` a ``end_lr`` de forma exponencial, con la
    congelación y la razón entre tasas que se usarán después (si hay capas congeladas y caché,
    su salida se calcula una vez). Para cuando la pérdida suavizada pasa de ``stop_factor``
    veces su mínimo. Tu modelo no cambia.

    Args:
        model: un modelo del catálogo, ya congelado como se vaya a entrenar.
        data: un ``DataSplits`` (se usa ``train``), un ``ImageSet`` o un ``FeatureSet``.
        start_lr: tasa inicial de la cabeza.
        end_lr: tasa final de la cabeza.
        num_iter: pasos (lotes) como máximo.
        ratio: razón entre tasas de niveles vecinos (ver :func:`labkit.training.group_lrs`).
        tiers: niveles de tasas.
        batch_size: tamaño del lote.
        optimizer: ``"adam"``, ``"adamw"`` o ``"sgd"``.
        weight_decay: decaimiento de pesos.
        seed: semilla del orden de los lotes.
        device: dispositivo; ``None`` = el por defecto.
        cache: como en :func:`labkit.fit`.
        stop_factor: parar cuando la pérdida suavizada pasa de este factor por su mínimo.

    Returns:
        Un :class:`LRFindResult` con la curva, la tasa sugerida y ``figure()``.
    """
    train = data.train if isinstance(data, DataSplits) else data
    if not isinstance(train, (ImageSet, FeatureSet)) or len(train) == 0:
        raise LabkitError("lr_find necesita un DataSplits, un ImageSet o un FeatureSet no vacío.")
    _check(start_lr, end_lr, num_iter, stop_factor)
    check_rates(start_lr, ratio, "start_lr")  # antes de build, para que el error diga start_lr
    s = FitSettings.build(lr=start_lr, ratio=ratio, tiers=tiers, batch_size=batch_size,
                          optimizer=optimizer, weight_decay=weight_decay, seed=seed,
                          device=device, cache=cache, progress=False)
    check_model(model, train)
    work = copy.deepcopy(model)
    dev = s.device if s.device is not None else default_device()
    work.to(dev)
    forward, x, raw = _inputs(work, train, s.cache, dev)
    place(work, dev, train=True)  # después de extraer, que usa channels-last
    param_groups(work, 1.0, s.ratio, s.tiers)  # comprueba que hay algo entrenable
    lrs = _schedule(float(start_lr), float(end_lr), int(num_iter))
    opt = _make_optimizer(work, s)
    test = RangeTest(opt, lrs, float(stop_factor))
    epochs = math.ceil(len(lrs) / len(batch_slices(len(train), s.batch_size)))
    run = Run(Loop(work, forward, dev, raw), opt, None, x, train.labels, None, None,
              s.batch_size, s.seed, TrainState(epochs=epochs), BestTracker(),
              restore_best=False, callbacks=[test], num_classes=train.num_classes,
              explosion_factor=None, reseed=False)
    supervise(run)  # sin validación: solo pasos, hasta que la prueba pide parar
    return _result(lrs[:len(test.losses)], test.losses)



