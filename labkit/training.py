"""El motor de entrenamiento: ``fit`` y la receta en dos fases, ``fine_tune``.

``fit`` entrena lo que no está congelado, con tasas discriminativas por grupo
(:func:`labkit.optim.param_groups`), un calendario de la tasa (:mod:`labkit.schedules`), aumento
de datos (:mod:`labkit.augment`), parada temprana y callbacks (:mod:`labkit.callbacks`). Si los
primeros grupos están congelados y no hay aumento, calcula una vez su salida y entrena solo la
cola (:mod:`labkit.features`): los mismos números, mucho más rápido. ``fine_tune`` es la receta
de fastai: primero la cabeza, luego ajuste fino. La evaluación está en :mod:`labkit.evaluation`
(``evaluate``, ``predict``, ``confusion_matrix``, también accesibles desde aquí); el bucle por
dentro, en :mod:`labkit.loop`; las comprobaciones de argumentos, en :mod:`labkit.trainargs`.

Ejemplo::

    modelo = labkit.create_model("efficientnet_lite0", num_classes=2)
    historial = labkit.fine_tune(modelo, datos)          # datos: un DataSplits
    labkit.evaluate(modelo, datos.test)                  # {"loss": ..., "accuracy": ...}
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .augment import resolve_augment
from .callbacks import Callback, History, TqdmCallback, TrainState
from .config import default_device
from .data import ImageSet
from .errors import LabkitError
from .evaluation import class_weight_tensor, confusion_matrix, evaluate, predict
from .features import (
    MAX_AUTO_CACHE_BYTES,
    FeatureCache,
    FeatureSet,
    _amp_dtype,
    extract_features,
)
from .freezing import frozen_depth
from .groups import split_at
from .imagecache import image_cache_key
from .loop import BestTracker, Loop, Run, supervise, too_small_advice
from .optim import param_groups
from .schedules import DEFAULT_WARMUP, check_schedule, make_scheduler
from .speed import place
from .trainargs import (
    OPTIMIZERS,
    attach_classes,
    check_checkpoint,
    check_classes,
    check_counts,
    check_device,
    check_feature_sets,
    check_model,
    check_options,
    check_rates,
    check_sets,
)
from .validate import check_bool, check_seed, describe

__all__ = ["fit", "evaluate", "predict", "confusion_matrix", "TqdmCallback",
           "OPTIMIZERS", "FitSettings", "AugmentCacheWarning"]

Data = ImageSet | FeatureSet


class AugmentCacheWarning(UserWarning):
    """Aviso: el aumento de datos apaga la caché de características (cada paso, modelo entero)."""


@dataclass
class FitSettings:
    """Las opciones de una llamada a :func:`fit` (ver allí su significado)."""

    epochs: int = 10
    lr: float = 1e-3
    ratio: float = 1.0
    tiers: int = 3
    batch_size: int = 32
    optimizer: str = "adam"
    weight_decay: float = 0.0
    augment: object = False
    schedule: str | None = "constante"
    warmup: float = DEFAULT_WARMUP
    patience: int | None = None
    min_delta: float = 0.0
    monitor: str = "val_loss"
    restore_best: bool = True
    callbacks: Sequence[Callback] = ()
    progress: bool = True
    seed: int = 0
    device: torch.device | str | None = None
    cache: str | bool | FeatureCache = "auto"
    phase: str = ""
    checkpoint: str | os.PathLike | None = None
    update_bn: bool | None = None
    class_weights: object = None

    def check(self) -> FitSettings:
        """Comprueba todas las opciones; devuelve una copia con los valores normalizados."""
        lr, ratio = check_rates(self.lr, self.ratio)
        check_counts(self.epochs, self.batch_size, self.tiers)
        check_options(self.optimizer, self.weight_decay, self.patience, self.min_delta,
                      self.cache, self.monitor)
        schedule, warmup = check_schedule(self.schedule, self.warmup)
        for name in ("restore_best", "progress"):
            check_bool(name, getattr(self, name))
        if self.update_bn is not None:
            check_bool("update_bn", self.update_bn)
        resolve_augment(self.augment)
        return dataclasses.replace(
            self, lr=lr, ratio=ratio, schedule=schedule, warmup=warmup,
            callbacks=_check_callbacks(self.callbacks),
            seed=check_seed(self.seed), device=check_device(self.device),
            checkpoint=check_checkpoint(self.checkpoint))


def _check_callbacks(callbacks: object) -> list[Callback]:
    """Una lista de callbacks; uno solo (sin lista) también vale."""
    if isinstance(callbacks, Callback):
        return [callbacks]
    items = None
    if not isinstance(callbacks, (str, bytes, dict)):
        try:
            items = list(callbacks)
        except TypeError:
            items = None
    if items is None or not all(isinstance(c, Callback) for c in items):
        bad = describe(callbacks) if items is None else next(
            describe(c) for c in items if not isinstance(c, Callback))
        raise LabkitError(f"callbacks: llegó {bad}; se espera una lista de objetos "
                          "labkit.Callback, p. ej. callbacks=[progreso] (o uno solo).")
    return items


# ---------------------------------------------------------------- preparación


@dataclass
class _Inputs:
    """Lo que recorre el bucle: el módulo a ejecutar y sus entradas."""

    forward: nn.Module
    x_train: torch.Tensor
    x_val: torch.Tensor
    raw: bool
    cached: bool


def _cache_depth(model: nn.Module, train: ImageSet, val: ImageSet, cache: object,
                 augment: bool) -> int:
    """Cuántos grupos se pueden calcular una sola vez (0 = ninguno, sin caché)."""
    depth = frozen_depth(model)
    if depth == 0 or augment or cache is False:
        return 0
    if cache == "auto":
        one = extract_features(model, train.images[:1], depth)
        if one.numel() * one.element_size() * (len(train) + len(val)) > MAX_AUTO_CACHE_BYTES:
            return 0
    return depth


def _plan_inputs(model: nn.Module, train: Data, val: Data, cache: object, augment: bool,
                 device: torch.device) -> _Inputs:
    """Elige el camino: características (cola) o imágenes (modelo entero)."""
    if isinstance(train, FeatureSet):
        tail = split_at(model, train.depth)[1]
        return _Inputs(tail, train.features, val.features, raw=False, cached=True)
    depth = _cache_depth(model, train, val, cache, augment)
    if depth == 0:
        return _Inputs(model, train.images, val.images, raw=True, cached=False)
    if cache == "auto" and all(image_cache_key(d) is not None for d in (train, val)):
        cache = FeatureCache(disk=True)  # particiones intactas de image_folder: a disco
    if isinstance(cache, FeatureCache):
        feats = [cache.get(model, d, depth, None, device) for d in (train, val)]
    else:
        feats = [extract_features(model, d, depth, None, device) for d in (train, val)]
    return _Inputs(split_at(model, depth)[1], feats[0], feats[1], raw=False, cached=True)


def _make_optimizer(model: nn.Module, s: FitSettings) -> torch.optim.Optimizer:
    """El optimizador, con un grupo por grupo de capas entrenable (se crea en cada ``fit``)."""
    groups = param_groups(model, s.lr, s.ratio, s.tiers)
    if s.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=s.lr, momentum=0.9, weight_decay=s.weight_decay)
    cls = torch.optim.AdamW if s.optimizer == "adamw" else torch.optim.Adam
    return cls(groups, lr=s.lr, weight_decay=s.weight_decay)


def _grad_scaler(device: torch.device) -> object | None:
    """``GradScaler`` solo para float16 en CUDA (bfloat16 no lo necesita)."""
    if _amp_dtype(device) != torch.float16:
        return None
    if hasattr(torch.amp, "GradScaler"):  # torch ≥ 2.3
        return torch.amp.GradScaler("cuda")
    return torch.cuda.amp.GradScaler()


def _warn_augment_cache(model: nn.Module, train: Data, s: FitSettings) -> None:
    """Avisa de que el aumento apaga la caché cuando, sin él, se habría usado."""
    if isinstance(train, ImageSet) and s.cache is not False and frozen_depth(model) > 0:
        warnings.warn(
            f"augment={s.augment!r} apaga la caché de características: la salida de los "
            f"{frozen_depth(model)} grupos congelados cambia en cada época, así que cada paso "
            "recorre el modelo entero (mucho más lento; ver benchmarks/bench_training.py). "
            "Con augment=False se calcula una vez.", AugmentCacheWarning, stacklevel=5)


def _check_data(model: nn.Module, train: Data, val: Data, s: FitSettings) -> None:
    check_sets(train, val)
    check_model(model, train)
    check_classes(model, train)
    check_feature_sets(model, train, val, resolve_augment(s.augment) is not None)
    class_weight_tensor(s.class_weights, train)  # falla antes de la primera época


def _prepare(model: nn.Module, train: Data, val: Data, s: FitSettings, best: BestTracker,
             history: History) -> Run:
    """Lleva el modelo al dispositivo, elige el camino (caché o no) y arma la ejecución."""
    start = time.perf_counter()
    aug = resolve_augment(s.augment)
    if aug is not None:
        _warn_augment_cache(model, train, s)
    dev = s.device if s.device is not None else default_device()
    model.to(dev)
    inputs = _plan_inputs(model, train, val, s.cache, aug is not None, dev)
    place(model, dev, train=True)  # después de extraer, que usa channels-last
    loop = Loop(model, inputs.forward, dev, inputs.raw, aug, _grad_scaler(dev), s.update_bn,
                class_weight_tensor(s.class_weights, train))
    opt = _make_optimizer(model, s)
    steps = s.epochs * len(range(0, len(train), s.batch_size))
    history.cached = history.cached or inputs.cached
    history.setup_seconds += time.perf_counter() - start
    best.waited = 0
    cbs = [*s.callbacks, TqdmCallback()] if s.progress else list(s.callbacks)
    return Run(loop, opt, make_scheduler(opt, s.schedule, steps, s.warmup), inputs.x_train,
               train.labels, inputs.x_val, val.labels, s.batch_size, s.seed,
               TrainState(epochs=s.epochs, history=history, phase=s.phase), best, s.patience,
               s.restore_best, cbs, train.num_classes)


def _run_fit(model: nn.Module, train: Data, val: Data, s: FitSettings,
             best: BestTracker | None = None, history: History | None = None) -> History:
    """``fit`` con opciones ya comprobadas; ``best``/``history`` se comparten entre fases."""
    if best is None:
        best = BestTracker(s.monitor, s.min_delta, s.checkpoint, list(train.classes))
    try:
        run = _prepare(model, train, val, s, best, history if history is not None else History())
    except (LabkitError, KeyboardInterrupt):
        raise
    except Exception as err:  # p. ej. sin memoria al calcular la caché
        model.eval()
        advice = too_small_advice(err, train.images if isinstance(train, ImageSet)
                                  else train.features, model)
        raise LabkitError(f"El entrenamiento falló al prepararse (mover el modelo al "
                          f"dispositivo o calcular la caché de características): "
                          f"{type(err).__name__}: {err}." + (advice or (
                              " Si falta memoria, baja batch_size, el tamaño de las imágenes o "
                              "usa cache=False."))) from err
    return supervise(run)


# ---------------------------------------------------------------- fit


def fit(model: nn.Module, train: Data, val: Data, *, epochs: int = 10, lr: float = 1e-3,
        ratio: float = 1.0, tiers: int = 3, batch_size: int = 32, optimizer: str = "adam",
        weight_decay: float = 0.0, augment: object = False, schedule: str | None = "constante",
        warmup: float = DEFAULT_WARMUP, patience: int | None = None, min_delta: float = 0.0,
        monitor: str = "val_loss", restore_best: bool = True,
        callbacks: Sequence[Callback] = (), progress: bool = True, seed: int = 0,
        device: torch.device | str | None = None, cache: str | bool | FeatureCache = "auto",
        phase: str = "", checkpoint: str | os.PathLike | None = None,
        update_bn: bool | None = None,
        class_weights: str | Sequence[float] | None = None) -> History:
    """Entrena lo que no está congelado y devuelve el historial por época.

    El optimizador se crea en cada llamada con la congelación actual (solo parámetros
    entrenables, tasas discriminativas de :func:`labkit.optim.param_groups`). Los grupos
    congelados quedan en modo evaluación (:func:`labkit.train_mode`). Con la misma semilla en
    CPU, los números se repiten exactos; en CUDA usa precisión mixta. Todos los argumentos se
    comprueban antes de la primera época (también que la carpeta del checkpoint se pueda
    escribir y que el dispositivo exista).

    Caché: si los primeros ``k = frozen_depth(model)`` grupos están congelados y no hay aumento,
    su salida se calcula una vez y solo se entrena la cola (``history.cached``); da los mismos
    números que sin caché. ``cache``: ``"auto"`` (si cabe en 1 GiB), ``True``, ``False`` o una
    :class:`labkit.FeatureCache`. Con ``"auto"`` y particiones intactas de
    :func:`labkit.image_folder`, las características se guardan también en disco: otra sesión
    del kernel no las vuelve a calcular. ``train``/``val`` también pueden ser
    :class:`labkit.FeatureSet`.

    **El aumento de datos apaga la caché**: con ``augment`` cada paso recorre el modelo entero
    (se avisa con un :class:`AugmentCacheWarning`). Con la cabeza sola, entrenar con caché es
    decenas de veces más rápido (``benchmarks/bench_training.py``).

    Mejor época: se vigila ``monitor`` (``"val_loss"`` o ``"val_acc"``) y se guarda en CPU una
    copia de los pesos de la mejor época. Con ``restore_best=True`` (por defecto) el modelo
    termina con esos pesos; con ``False``, con los de la última época. ``patience`` (aparte)
    para tras ``patience`` épocas sin mejorar más de ``min_delta``. ``history.weights_epoch``
    dice de qué época son los pesos finales.

    Fallos: Ctrl+C para limpiamente (``history.interrupted``) y deja los pesos de la mejor
    época. Si la pérdida deja de ser finita o explota (más de
    :data:`labkit.loop.EXPLOSION_FACTOR` veces la inicial), en entrenamiento o validación, o si
    falla un callback, el checkpoint o la memoria, se restaura la mejor época, se cierra la
    barra y se lanza un :class:`labkit.LabkitError` en español que dice qué falló.

    Args:
        model: un modelo del catálogo, con cabeza de tantas salidas como clases.
        train: datos de entrenamiento (``ImageSet`` o ``FeatureSet``).
        val: datos de validación (del mismo tipo y con las mismas clases).
        epochs: épocas como máximo.
        lr: tasa de aprendizaje de la cabeza (la máxima si hay calendario).
        ratio: razón entre tasas de niveles vecinos (1 = la misma en todo el modelo; ver
            :func:`labkit.optim.group_lrs`).
        tiers: niveles de tasas entre la entrada y la cabeza.
        batch_size: tamaño del lote.
        optimizer: ``"adam"``, ``"adamw"`` (decaimiento de pesos desacoplado) o ``"sgd"``.
        weight_decay: decaimiento de pesos (con ``"adamw"``, p. ej. 0.01).
        augment: ``False``, ``True`` (preset ``"fotos"``: recorte, volteo, giro pequeño y
            brillo), ``"sin_volteo"`` (dígitos, texto), ``"suave"`` o un :class:`labkit.Augment`.
        schedule: calendario de la tasa: ``"constante"``, ``"coseno"`` (con calentamiento) o
            ``"one_cycle"`` (:mod:`labkit.schedules`).
        warmup: fracción de pasos de subida del calendario.
        patience: épocas sin mejorar antes de parar (``None`` = no parar antes).
        min_delta: mejora mínima de la métrica vigilada que cuenta como mejora.
        monitor: ``"val_loss"`` o ``"val_acc"``.
        restore_best: terminar con los pesos de la mejor época.
        callbacks: objetos :class:`labkit.callbacks.Callback` que siguen el entrenamiento (una
            lista, o uno solo).
        progress: mostrar una barra de progreso (:class:`TqdmCallback`).
        seed: semilla del orden de los lotes, del aumento y del dropout (entero ≥ 0).
        device: dispositivo; ``None`` = :func:`labkit.default_device` (CUDA → MPS → CPU).
        cache: ver arriba.
        phase: nombre de la fase que se apunta en el historial.
        checkpoint: si se da una ruta, guarda ahí (de forma atómica) la mejor época. Debe ser
            un archivo nuevo: uno que ya existe (un modelo exportado, un cuaderno, el
            checkpoint de otra ejecución) no se reemplaza nunca; el que escribe esta ejecución
            se actualiza en cada mejora (y si otro lo cambia mientras tanto, se para con error).
        update_bn: si las BatchNorm que se entrenan reestiman sus estadísticas (``None``: no en
            modelos preentrenados, sí desde cero; ver :func:`labkit.train_mode`).
        class_weights: pesos por clase en la entropía cruzada de entrenamiento, para datos
            desbalanceados: ``None`` (todas igual), ``"balanced"`` (``n / (clases · n_clase)``,
            como scikit-learn) o una secuencia con un peso positivo por clase. La pérdida de
            validación (y la parada temprana) sigue sin pesos.

    Clases: si el modelo ya sabe sus clases (``create_model(..., num_classes=datos)``, un
    ``fit`` anterior o :func:`labkit.load_model`), ``train`` debe tener las mismas y en el mismo
    orden (si no, un error dice cómo seguir); si no las sabe, toma las de ``train``.

    Returns:
        El :class:`labkit.callbacks.History` del entrenamiento.
    """
    s = FitSettings(epochs, lr, ratio, tiers, batch_size, optimizer, weight_decay, augment,
                    schedule, warmup, patience, min_delta, monitor, restore_best, callbacks,
                    progress, seed, device, cache, phase, checkpoint, update_bn,
                    class_weights).check()
    _check_data(model, train, val, s)
    attach_classes(model, train)
    return _run_fit(model, train, val, s)


def __getattr__(name: str) -> object:
    """``labkit.training.fine_tune`` sigue funcionando (vive en :mod:`labkit.recipe`)."""
    if name == "fine_tune":
        from .recipe import fine_tune

        return fine_tune
    raise AttributeError(f"module 'labkit.training' has no attribute {name!r}")
