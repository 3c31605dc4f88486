"""Un entrenamiento del playground: modelo con cabeza nueva, ajuste y evaluación en prueba.

:func:`train_once` es lo que hace el botón «Entrenar» de :class:`labkit.widgets.Playground`
con los ajustes de sus controles: extracción de características (con las características
guardadas entre entrenamientos) o la receta del ajuste fino en dos fases.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch
from torch import nn

from ..base._config import default_device, seed_everything
from ..data._data import DataSplits, ImageSet
from ..models._freezing import freeze_to, head_depth
from ..models._models import MODELS, create_model
from ..training._best import BestTracker
from ..training._callbacks import Callback, History
from ..training._evaluation import confusion_matrix, predict
from ..training._features import FeatureCache, FeatureSet
from ..training._loop import Metrics
from ..training._recipe import FINE_TUNE_DEFAULTS, Phase, phase_settings, run_phases
from ..training._settings import FitSettings
from ..training._training import fit
from ._playresult import MODE_FINE_TUNE, PlaygroundResult, _check_trained, _describe

__all__ = ["train_once"]


def _is_scratch(name: str) -> bool:
    """Modelos sin pesos preentrenados: se entrenan desde cero."""
    return MODELS[name].source == "labkit"


def train_once(data: DataSplits, s: dict, *, run: int, seed: int,
               device: torch.device | str | None, lr: float, batch_size: int,
               cache: FeatureCache, callbacks: Sequence[Callback] = (),
               metrics: Metrics | None = None) -> PlaygroundResult:
    """Crea el modelo con cabeza nueva, entrena, evalúa en prueba y arma el resultado.

    Args:
        data: particiones con ``train``, ``val`` y ``test``.
        s: los ajustes del playground (``model_name``, ``mode``, ``depth``, ``n_train``,
            ``epochs``, ``ratio``).
        run: el número de este entrenamiento (1, 2, …).
        seed: semilla de la cabeza nueva y de la muestra de entrenamiento.
        device: dispositivo; ``None`` = :func:`labkit.default_device`.
        lr: tasa de aprendizaje de la cabeza.
        batch_size: tamaño del lote.
        cache: características guardadas entre entrenamientos.
        callbacks: callbacks para ``labkit.fit`` (el progreso en vivo, entre ellos).
        metrics: métricas de validación (:data:`labkit.training.Metrics`).

    Returns:
        El :class:`PlaygroundResult`.
    """
    start = time.perf_counter()
    seed_everything(seed)
    num_classes = data.train.num_classes
    model = create_model(s["model_name"], num_classes=num_classes,
                         pretrained=not _is_scratch(s["model_name"]))
    model.to(torch.device(device) if device is not None else default_device())
    freeze_to(model, s["depth"])
    train, val, test = _inputs(model, data, s["depth"], s["n_train"], seed, cache)
    base = FitSettings.build(batch_size=batch_size, callbacks=list(callbacks), progress=False,
                             seed=seed, device=device, metrics=metrics)
    if s["mode"] == MODE_FINE_TUNE and not _is_scratch(s["model_name"]):
        history = _fine_tune(model, data, s, base, (train, val), lr, seed, cache)
    else:
        history = fit(model, train, val, epochs=s["epochs"], lr=lr, ratio=s["ratio"],
                      **{k: getattr(base, k) for k in ("batch_size", "callbacks",
                                                       "progress", "seed", "device",
                                                       "metrics")})
    _check_trained(history)
    preds, probs = predict(model, test)
    labels = data.test.labels
    return PlaygroundResult(
        **s, history=history, test_accuracy=float((preds == labels).float().mean()),
        confusion=confusion_matrix(labels, preds, num_classes),
        classes=list(data.test.classes), test_name=data.test.name or "prueba",
        seconds=time.perf_counter() - start, run=run, model=model, preds=preds,
        probs=probs, interrupted=history.interrupted, weights_epoch=history.weights_epoch)

def _what(s: dict) -> str:
    """La línea que describe unos ajustes; el ajuste fino dice también la fase de cabeza."""
    what = _describe(**s)
    if s["mode"] == MODE_FINE_TUNE and not _is_scratch(s["model_name"]):
        n = FINE_TUNE_DEFAULTS["head_epochs"]
        what += f" · antes, {n} {'época' if n == 1 else 'épocas'} de cabeza (la receta)"
    return what

def _fine_tune(model: nn.Module, data: DataSplits, s: dict, base: FitSettings,
               tuned: tuple[ImageSet | FeatureSet, ImageSet | FeatureSet], lr: float, seed: int,
               cache: FeatureCache) -> History:
    """La receta del curso (:func:`labkit.training.run_phases`, la de ``labkit.fine_tune``):
    la cabeza nueva y después ``epochs`` épocas de ajuste fino con ``depth`` grupos
    congelados, sin aumento (se reutilizan las características)."""
    train, val = tuned
    top = head_depth(model)
    heads = _inputs(model, data, top, s["n_train"], seed, cache)
    head, tune = phase_settings(base, epochs=s["epochs"], ratio=s["ratio"],
                                head_lr=lr, augment=False)
    phases = [Phase(heads[0], heads[1], head, top), Phase(train, val, tune, s["depth"])]
    return run_phases(model, phases, BestTracker(classes=list(train.classes)))

def _inputs(model: nn.Module, data: DataSplits, depth: int, n: int, seed: int,
            cache: FeatureCache) -> tuple[ImageSet | FeatureSet, ...]:
    """Entrenamiento, validación y prueba: características guardadas si hay capas
    congeladas (se reutilizan entre entrenamientos), si no las imágenes."""
    if depth == 0:
        return data.train.take(n, seed), data.val, data.test
    sets = [FeatureSet.extract(model, d, depth, cache=cache)
            for d in (data.train, data.val, data.test)]
    return sets[0].take(n, seed), sets[1], sets[2]
