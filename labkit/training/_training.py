"""El motor de entrenamiento: ``fit`` y la receta en dos fases, ``fine_tune``.

``fit`` entrena lo que no está congelado, con tasas discriminativas por grupo
(:func:`labkit.training.param_groups`), un calendario de la tasa (:mod:`labkit.training`), aumento
de datos (:mod:`labkit.data`), parada temprana y callbacks (:mod:`labkit.training`). Si los
primeros grupos están congelados y no hay aumento, calcula una vez su salida y entrena solo la
cola (:mod:`labkit.training`): los mismos números, mucho más rápido. ``fine_tune`` es la receta
de fastai: primero la cabeza, luego ajuste fino. La evaluación está en :mod:`labkit.training`
(``evaluate``, ``predict``, ``confusion_matrix``, también accesibles desde aquí); el bucle por
dentro, en :mod:`labkit.training`; las comprobaciones de argumentos, en :mod:`labkit.training`.

Ejemplo::

    modelo = labkit.create_model("efficientnet_lite0", num_classes=2)
    historial = labkit.fine_tune(modelo, datos)          # datos: un DataSplits
    labkit.evaluate(modelo, datos.test)                  # {"loss": ..., "accuracy": ...}
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from ..base._config import default_device
from ..base._errors import LabkitError
from ..base._speed import place
from ..data._augment import resolve_augment
from ..data._data import ImageSet
from ..data._imagecache import image_cache_key
from ..models._freezing import frozen_depth
from ..models._groups import split_at
from ._best import BestTracker
from ._callbacks import History, TqdmCallback, TrainState
from ._evaluation import class_weight_tensor
from ._extraction import _amp_dtype, extract_features
from ._features import MAX_AUTO_CACHE_BYTES, FeatureCache, FeatureSet
from ._loop import Loop, Run, loss_and_accuracy, supervise, too_small_advice
from ._optim import param_groups
from ._schedules import make_scheduler
from ._settings import DataOptions, FitSettings, Optimization, Output, Stopping
from ._trainargs import (
    attach_classes,
    check_classes,
    check_feature_sets,
    check_model,
    check_sets,
)

__all__ = ["fit", "run_fit", "AugmentCacheWarning"]

Data = ImageSet | FeatureSet


class AugmentCacheWarning(UserWarning):
    """Aviso: el aumento de datos apaga la caché de características (cada paso, modelo entero)."""


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
               s.restore_best, cbs, train.num_classes, s.metrics or loss_and_accuracy)


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


def run_fit(model: nn.Module, train: Data, val: Data, settings: FitSettings,
            best: BestTracker | None = None, history: History | None = None) -> History:
    """Entrena con unos ajustes ya construidos: la pieza que comparten las fases de
    :func:`labkit.fine_tune` y los experimentos de :mod:`labkit.experiments`.

    Comprueba los datos frente al modelo (como :func:`fit`, antes de la primera época) y corre el
    bucle. A diferencia de :func:`fit`, no pone al modelo los nombres de clase de ``train``.

    Args:
        model: el modelo (se entrena en su sitio).
        train: datos de entrenamiento (``ImageSet`` o ``FeatureSet``).
        val: datos de validación, del mismo tipo.
        settings: los ajustes (:meth:`FitSettings.build`).
        best: el seguimiento de la mejor época, compartido entre fases (``None`` = uno nuevo).
        history: el historial al que se suman las épocas (``None`` = uno nuevo).

    Returns:
        El historial.
    """
    _check_data(model, train, val, settings)
    return _run_fit(model, train, val, settings, best, history)


# ---------------------------------------------------------------- fit


def fit(model: nn.Module, train: Data, val: Data, *, optimization: Optimization | None = None,
        stopping: Stopping | None = None, data_options: DataOptions | None = None,
        output: Output | None = None, **options: object) -> History:
    """Entrena lo que no está congelado y devuelve el historial por época.

    Las opciones van por nombre, sueltas (``fit(m, tr, va, epochs=5, lr=1e-3, seed=0)``, lo de
    siempre) o en sus cuatro grupos de :mod:`labkit.training` (``optimization=``,
    ``stopping=``, ``data_options=``, ``output=``); una misma opción no puede llegar de las dos
    formas. El bucle está en :mod:`labkit.training`, en un solo archivo.

    El optimizador se crea en cada llamada con la congelación actual (solo parámetros
    entrenables, tasas discriminativas de :func:`labkit.training.param_groups`). Los grupos
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
    copia de los pesos de la mejor época (la regla, una sola: :func:`labkit.training.improves`).
    Con ``restore_best=True`` (por defecto) el modelo termina con esos pesos; con ``False``,
    con los de la última época. ``patience`` (aparte) para tras ``patience`` épocas sin mejorar
    más de ``min_delta``. ``history.weights_epoch`` dice de qué época son los pesos finales.

    Fallos: Ctrl+C para limpiamente (``history.interrupted``) y deja los pesos de la mejor
    época. Si la pérdida deja de ser finita o explota (más de
    :data:`labkit.training.EXPLOSION_FACTOR` veces la inicial), en entrenamiento o validación, o si
    falla un callback, el checkpoint o la memoria, se restaura la mejor época, se cierra la
    barra y se lanza un :class:`labkit.LabkitError` en español que dice qué falló.

    Args:
        model: un modelo del catálogo, con cabeza de tantas salidas como clases.
        train: datos de entrenamiento (``ImageSet`` o ``FeatureSet``).
        val: datos de validación (del mismo tipo y con las mismas clases).
        optimization: un :class:`labkit.training.Optimization` (o sus opciones sueltas):

            - ``epochs`` (10): épocas como máximo.
            - ``lr`` (1e-3): tasa de aprendizaje de la cabeza (la máxima si hay calendario).
            - ``ratio`` (1): razón entre tasas de niveles vecinos (1 = la misma en todo el
              modelo; ver :func:`labkit.training.group_lrs`).
            - ``tiers`` (3): niveles de tasas entre la entrada y la cabeza.
            - ``batch_size`` (32): tamaño del lote.
            - ``optimizer`` (``"adam"``): ``"adam"``, ``"adamw"`` (decaimiento de pesos
              desacoplado) o ``"sgd"``.
            - ``weight_decay`` (0): decaimiento de pesos (con ``"adamw"``, p. ej. 0.01).
            - ``schedule`` (``"constante"``): calendario de la tasa: ``"constante"``,
              ``"coseno"`` (con calentamiento) o ``"one_cycle"`` (:mod:`labkit.training`).
            - ``warmup``: fracción de pasos de subida del calendario.
            - ``class_weights`` (``None``): pesos por clase en la entropía cruzada de
              entrenamiento, para datos desbalanceados: ``None`` (todas igual),
              ``"balanced"`` (``n / (clases · n_clase)``, como scikit-learn) o una secuencia
              con un peso positivo por clase. La pérdida de validación sigue sin pesos.
            - ``update_bn`` (``None``): si las BatchNorm que se entrenan reestiman sus
              estadísticas (``None``: no en modelos preentrenados, sí desde cero; ver
              :func:`labkit.train_mode`).
        stopping: un :class:`labkit.training.Stopping` (o sus opciones sueltas):

            - ``monitor`` (``"val_loss"``): ``"val_loss"`` o ``"val_acc"``.
            - ``patience`` (``None``): épocas sin mejorar antes de parar (``None`` = no parar).
            - ``min_delta`` (0): mejora mínima de la métrica vigilada que cuenta como mejora.
            - ``restore_best`` (``True``): terminar con los pesos de la mejor época.
            - ``metrics`` (``None``): las métricas de validación, una función
              ``(salidas, etiquetas) → (pérdida, exactitud)`` (:data:`labkit.training.Metrics`);
              ``None`` = entropía cruzada y exactitud.
        data_options: un :class:`labkit.training.DataOptions` (o sus opciones sueltas):

            - ``augment`` (``False``): ``True`` (preset ``"fotos"``: recorte, volteo, giro
              pequeño y brillo), ``"sin_volteo"`` (dígitos, texto), ``"suave"`` o un
              :class:`labkit.Augment`.
            - ``cache`` (``"auto"``): ver arriba.
            - ``seed`` (0): semilla del orden de los lotes, del aumento y del dropout.
            - ``device`` (``None``): dispositivo; ``None`` = :func:`labkit.default_device`
              (CUDA → MPS → CPU).
        output: un :class:`labkit.training.Output` (o sus opciones sueltas):

            - ``progress`` (``True``): mostrar una barra de progreso (:class:`TqdmCallback`).
            - ``callbacks`` (``()``): objetos :class:`labkit.training.Callback` que siguen el
              entrenamiento (una lista, o uno solo).
            - ``phase`` (``""``): nombre de la fase que se apunta en el historial.
            - ``checkpoint`` (``None``): si se da una ruta, guarda ahí (de forma atómica) la
              mejor época. Debe ser un archivo nuevo: uno que ya existe (un modelo exportado,
              un cuaderno, el checkpoint de otra ejecución) no se reemplaza nunca; el que
              escribe esta ejecución se actualiza en cada mejora (y si otro lo cambia mientras
              tanto, se para con error).
        **options: cualquiera de las opciones de arriba, suelta (``epochs=5, lr=1e-3``).

    Clases: si el modelo ya sabe sus clases (``create_model(..., num_classes=datos)``, un
    ``fit`` anterior o :func:`labkit.load_model`), ``train`` debe tener las mismas y en el mismo
    orden (si no, un error dice cómo seguir); si no las sabe, toma las de ``train``.

    Returns:
        El :class:`labkit.training.History` del entrenamiento.
    """
    s = FitSettings.build(optimization=optimization, stopping=stopping,
                          data_options=data_options, output=output, **options)
    _check_data(model, train, val, s)
    attach_classes(model, train)
    return _run_fit(model, train, val, s)

