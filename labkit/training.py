"""El motor de entrenamiento: ``fit``, la receta en dos fases, evaluación y predicción.

``fit`` entrena lo que no está congelado, con tasas discriminativas por grupo
(:func:`labkit.optim.param_groups`), parada temprana sobre la pérdida de validación y callbacks
(:mod:`labkit.callbacks`). Si los primeros grupos están congelados y no hay aumento de datos,
calcula una vez su salida y entrena solo la cola (:mod:`labkit.features`): los mismos números,
mucho más rápido. ``fine_tune`` es la receta de fastai: primero la cabeza, luego ajuste fino.

Ejemplo::

    modelo = labkit.create_model("efficientnet_lite0", num_classes=4)
    historial = labkit.fine_tune(modelo, datos.train, datos.val, head_epochs=3, epochs=5)
    labkit.evaluate(modelo, datos.test)        # {"loss": ..., "accuracy": ...}
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .callbacks import Callback, History, TrainState
from .checkpoints import save_checkpoint
from .config import default_device
from .data import ImageSet, augment_batch, normalize
from .errors import LabkitError
from .features import (
    MAX_AUTO_CACHE_BYTES,
    FeatureCache,
    FeatureSet,
    _amp_dtype,
    _autocast,
    _eval_mode,
    _resolve_device,
    extract_features,
    extraction_batch_size,
    prefix_fingerprint,
)
from .freezing import freeze_to, frozen_depth, train_mode
from .groups import layer_groups, split_at
from .models import model_info
from .optim import param_groups

__all__ = ["fit", "fine_tune", "evaluate", "predict", "confusion_matrix", "TqdmCallback",
           "OPTIMIZERS", "class_metrics", "class_weight_tensor"]

OPTIMIZERS = ("adam", "adamw", "sgd")
"""Optimizadores que acepta ``fit`` (``"sgd"`` lleva momento 0.9)."""

Data = ImageSet | FeatureSet


# ---------------------------------------------------------------- barra de progreso


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
        from tqdm.auto import tqdm

        self.bar = tqdm(total=state.epochs, desc=state.phase or "entrenamiento", leave=True,
                        mininterval=self.mininterval, file=self.file, dynamic_ncols=True,
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
            f"exactitud {h.train_acc[-1]:.1%}/{h.val_acc[-1]:.1%} (train/val)", refresh=False)
        self.bar.update(1)

    def on_train_end(self, state: TrainState) -> None:
        if self.bar is None:
            return
        if state.message:
            self.bar.set_postfix_str(state.message, refresh=False)
        self.bar.close()
        self.bar = None


# ---------------------------------------------------------------- comprobaciones


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_rates(lr: float, ratio: float, name: str = "lr") -> None:
    """La tasa positiva y finita; la razón entre tasas, 1 o más."""
    if not _is_finite(lr) or lr <= 0:
        raise LabkitError(f"{name}={lr!r}: la tasa de aprendizaje debe ser un número positivo y "
                          "finito (típico: 1e-3 para la cabeza, 1e-4 o menos para ajuste fino).")
    if not _is_finite(ratio) or ratio < 1:
        raise LabkitError(f"ratio={ratio!r}: la razón entre tasas debe ser 1 o más (1 = la misma "
                          "tasa en todas las capas; 10 es lo habitual en ajuste fino).")


def _check_counts(epochs: int, batch_size: int, tiers: int) -> None:
    """Épocas, tamaño del lote y niveles de tasas: enteros positivos."""
    if not _is_int(epochs) or epochs <= 0:
        raise LabkitError(f"epochs={epochs!r}: el número de épocas debe ser un entero positivo "
                          "(p. ej. 10).")
    if not _is_int(batch_size) or batch_size <= 0:
        raise LabkitError(f"batch_size={batch_size!r}: el tamaño del lote debe ser un entero "
                          "positivo (p. ej. 32).")
    if not _is_int(tiers) or tiers < 1:
        raise LabkitError(f"tiers={tiers!r}: los niveles de tasas deben ser un entero ≥ 1 "
                          "(3: primeras capas, medias, cabeza).")


def _check_options(optimizer: str, weight_decay: float, patience: int | None,
                   min_delta: float, cache: object) -> None:
    """Optimizador, decaimiento de pesos, paciencia, mejora mínima y caché."""
    if optimizer not in OPTIMIZERS:
        raise LabkitError(f"optimizer={optimizer!r}: usa uno de {', '.join(OPTIMIZERS)}.")
    if not _is_finite(weight_decay) or weight_decay < 0:
        raise LabkitError(f"weight_decay={weight_decay!r}: debe ser 0 o un número positivo.")
    if patience is not None and (not _is_int(patience) or patience < 1):
        raise LabkitError(f"patience={patience!r}: la paciencia (épocas sin mejorar antes de "
                          "parar) debe ser un entero ≥ 1, o None para no parar antes.")
    if not _is_finite(min_delta) or min_delta < 0:
        raise LabkitError(f"min_delta={min_delta!r}: la mejora mínima debe ser 0 o positiva.")
    if not (cache in ("auto", True, False) or isinstance(cache, FeatureCache)):
        raise LabkitError(f"cache={cache!r}: usa 'auto', True, False o una labkit.FeatureCache.")


def _check_sets(train: Data, val: Data) -> None:
    """Los dos conjuntos: del tipo correcto, no vacíos, con las mismas clases y todas en val."""
    for label, data in (("entrenamiento", train), ("validación", val)):
        if not isinstance(data, (ImageSet, FeatureSet)):
            raise LabkitError(f"El conjunto de {label} debe ser un ImageSet (o un FeatureSet); "
                              f"llegó {type(data).__name__}.")
        if len(data) == 0:
            raise LabkitError(f"El conjunto de {label} está vacío: no hay con qué entrenar ni "
                              "medir. Revisa la carpeta o el tamaño pedido.")
    if type(train) is not type(val):
        raise LabkitError("Entrenamiento y validación deben ser del mismo tipo: los dos ImageSet "
                          "o los dos FeatureSet.")
    if list(train.classes) != list(val.classes):
        raise LabkitError(f"Las clases de entrenamiento {list(train.classes)} y de validación "
                          f"{list(val.classes)} no coinciden (ni en nombre ni en orden).")
    val_counts = val.class_counts()
    missing = [c for c, n in train.class_counts().items() if n > 0 and val_counts[c] == 0]
    if missing:
        raise LabkitError(f"La validación no tiene ninguna imagen de la clase "
                          f"{', '.join(repr(c) for c in missing)} (que sí está en "
                          "entrenamiento): así no se puede medir. Usa una validación mayor o "
                          "estratificada.")


def _check_labels(data: Data) -> None:
    """Las etiquetas deben estar en ``range(num_classes)``."""
    labels = data.labels
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= data.num_classes):
        raise LabkitError(f"Hay etiquetas fuera de rango (de {int(labels.min())} a "
                          f"{int(labels.max())}) para {data.num_classes} clases.")


def _check_model(model: nn.Module, data: Data, need_trainable: bool = True) -> None:
    """La cabeza tiene tantas salidas como clases y (si se entrena) algo entrenable."""
    info = model_info(model)
    if int(info.num_classes) != data.num_classes:
        raise LabkitError(
            f"La cabeza del modelo tiene {info.num_classes} salidas y los datos tienen "
            f"{data.num_classes} clases. Crea el modelo con labkit.create_model('{info.name}', "
            f"num_classes={data.num_classes}) o usa labkit.replace_head(modelo, "
            f"{data.num_classes}).")
    if need_trainable and not any(p.requires_grad for p in model.parameters()):
        raise LabkitError("No hay nada que entrenar: todos los grupos están congelados. Usa "
                          "labkit.freeze_to(modelo, profundidad) con una profundidad menor que "
                          f"{len(layer_groups(model))}.")


def _check_feature_sets(model: nn.Module, train: Data, val: Data, augment: bool = False) -> None:
    """Con ``FeatureSet``: sin aumento, prefijo congelado y calculado con los pesos actuales."""
    if not isinstance(train, FeatureSet):
        return
    if augment:
        raise LabkitError("El aumento de datos necesita las imágenes: con características ya "
                          "calculadas (FeatureSet) no se puede. Pasa ImageSet o augment=False.")
    if train.depth != val.depth:
        raise LabkitError(f"Las características de entrenamiento (profundidad {train.depth}) y "
                          f"de validación ({val.depth}) salen de prefijos distintos.")
    if frozen_depth(model) < train.depth:
        raise LabkitError(f"Las características salen de los primeros {train.depth} grupos, "
                          f"pero el modelo solo tiene {frozen_depth(model)} congelados: usa "
                          f"labkit.freeze_to(modelo, {train.depth}) (o más).")
    _check_fingerprint(model, train, val)


def _check_fingerprint(model: nn.Module, *sets: FeatureSet) -> None:
    """Las características deben venir de los pesos actuales del prefijo del modelo."""
    current = prefix_fingerprint(model, sets[0].depth)
    if any(s.fingerprint != current for s in sets):
        raise LabkitError("Estas características se calcularon con otros pesos (otro modelo o "
                          "un prefijo que cambió después): vuelve a calcularlas con "
                          "labkit.FeatureSet.extract(modelo, datos).")


# ---------------------------------------------------------------- el bucle


@dataclass
class _Inputs:
    """Lo que recorre el bucle: el módulo a ejecutar y sus entradas."""

    forward: nn.Module
    x_train: torch.Tensor
    x_val: torch.Tensor
    raw: bool
    cached: bool


@dataclass
class _Loop:
    """El modelo en su dispositivo y cómo preparar un lote y dar un paso de entrenamiento."""

    model: nn.Module
    forward: nn.Module
    device: torch.device
    raw: bool
    augment: bool = False
    scaler: object | None = None
    update_bn: bool | None = None
    class_weight: torch.Tensor | None = None
    mean: tuple = field(init=False)
    std: tuple = field(init=False)

    def __post_init__(self) -> None:
        info = model_info(self.model)
        self.mean, self.std = info.mean, info.std

    def inputs(self, x: torch.Tensor, gen: torch.Generator | None, train: bool) -> torch.Tensor:
        """Lleva un lote al dispositivo; con imágenes, normaliza y (si toca) aumenta."""
        x = x.to(self.device, non_blocking=True)
        if self.raw and x.dtype == torch.uint8:
            x = normalize(x, self.mean, self.std)
        if self.raw and train and self.augment:
            x = augment_batch(x, gen)
        return x

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Salidas del modelo (o de su cola) en ``float32``."""
        with _autocast(self.device):
            return self.forward(x).float()

    def step(self, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
             state: TrainState) -> tuple[float, int]:
        """Un paso de descenso; falla en español si la pérdida no es finita."""
        logits = self.logits(x)
        weight = None if self.class_weight is None else self.class_weight.to(logits.device)
        loss = F.cross_entropy(logits, y, weight=weight)
        value = loss.item()
        if not math.isfinite(value):
            raise LabkitError(_divergence_message(value, state, opt.param_groups[-1]["lr"]))
        opt.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(opt)
            self.scaler.update()
        else:
            loss.backward()
            opt.step()
        return value, int((logits.argmax(1) == y).sum())


def _divergence_message(value: float, state: TrainState, lr: float) -> str:
    return (f"La pérdida dejó de ser un número finito ({value}) en la época {state.epoch}, lote "
            f"{state.batch}, con tasa de aprendizaje {lr:g} en la cabeza: el entrenamiento "
            f"divergió. Prueba una tasa menor (p. ej. lr={lr / 10:g}) y revisa que las imágenes "
            "estén bien normalizadas.")


@dataclass
class _Best:
    """La mejor época según la pérdida de validación (y una copia de sus pesos si hace falta)."""

    keep_weights: bool
    min_delta: float = 0.0
    checkpoint: str | os.PathLike | None = None
    classes: list[str] = field(default_factory=list)
    loss: float = math.inf
    epoch: int | None = None
    weights: dict | None = None
    waited: int = 0

    def update(self, model: nn.Module, epoch: int, val_loss: float) -> None:
        """Apunta la época si mejora en más de ``min_delta``; si no, suma una sin mejorar."""
        if not val_loss < self.loss - self.min_delta:
            self.waited += 1
            return
        self.loss, self.epoch, self.waited = val_loss, epoch, 0
        if self.keep_weights:
            self.weights = {k: v.detach().to("cpu", copy=True)
                            for k, v in model.state_dict().items()}
        if self.checkpoint is not None:
            save_checkpoint(model, self.checkpoint, classes=self.classes, epoch=epoch,
                            val_loss=val_loss)

    def restore(self, model: nn.Module) -> None:
        """Vuelve a los pesos de la mejor época, si se guardaron (también tras media época)."""
        if self.weights is not None:
            model.load_state_dict(self.weights)


def _batch_slices(n: int, batch_size: int) -> list[slice]:
    """Cortes de lote; un último lote de una sola imagen se une al anterior (BatchNorm)."""
    slices = [slice(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
    if len(slices) > 1 and slices[-1].stop - slices[-1].start == 1:
        slices[-2:] = [slice(slices[-2].start, n)]
    return slices


def _notify(callbacks: Sequence[Callback], event: str, state: TrainState) -> None:
    for cb in callbacks:
        getattr(cb, event)(state)


def _train_epoch(loop: _Loop, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                 batch_size: int, gen: torch.Generator, state: TrainState,
                 callbacks: Sequence[Callback]) -> tuple[float, float] | None:
    """Una época de entrenamiento; ``None`` si un callback pidió parar a mitad."""
    train_mode(loop.model, loop.update_bn)
    order = torch.randperm(len(y), generator=gen)
    slices = _batch_slices(len(y), batch_size)
    state.batches = len(slices)
    loss_sum, correct = 0.0, 0
    for b, sl in enumerate(slices, 1):
        idx = order[sl]
        state.batch = b
        value, hits = loop.step(opt, loop.inputs(x[idx], gen, True), y[idx].to(loop.device),
                                state)
        loss_sum += value * len(idx)
        correct += hits
        _notify(callbacks, "on_batch_end", state)
        if state.stop:
            return None
    return loss_sum / len(y), correct / len(y)


def _all_logits(loop: _Loop, x: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
    """Las salidas para todo ``x``, en evaluación y sin gradientes.

    Sin ``batch_size``, las imágenes van en lotes de :func:`extraction_batch_size` (rápidos en
    CPU) y las características, de 256 en 256.
    """
    if batch_size is None:
        image_like = loop.raw and x.ndim == 4
        batch_size = (extraction_batch_size(tuple(x.shape[2:]), loop.device) if image_like
                      else 256)
    out = []
    with _eval_mode(loop.model), torch.no_grad():
        for sl in _batch_slices(len(x), batch_size):
            out.append(loop.logits(loop.inputs(x[sl], None, False)))
    return torch.cat(out)


def _loss_and_accuracy(logits: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    y = y.to(logits.device)
    return float(F.cross_entropy(logits, y)), float((logits.argmax(1) == y).float().mean())


# ---------------------------------------------------------------- fit


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
    if isinstance(cache, FeatureCache):
        feats = [cache.get(model, d, depth, None, device) for d in (train, val)]
    else:
        feats = [extract_features(model, d, depth, None, device) for d in (train, val)]
    return _Inputs(split_at(model, depth)[1], feats[0], feats[1], raw=False, cached=True)


def _make_optimizer(model: nn.Module, name: str, lr: float, ratio: float, tiers: int,
                    weight_decay: float) -> torch.optim.Optimizer:
    """El optimizador, con un grupo por grupo de capas entrenable (se crea en cada ``fit``)."""
    groups = param_groups(model, lr, ratio, tiers)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, weight_decay=weight_decay)
    cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
    return cls(groups, lr=lr, weight_decay=weight_decay)


def _grad_scaler(device: torch.device) -> object | None:
    """``GradScaler`` solo para float16 en CUDA (bfloat16 no lo necesita)."""
    if _amp_dtype(device) != torch.float16:
        return None
    if hasattr(torch.amp, "GradScaler"):  # torch ≥ 2.3
        return torch.amp.GradScaler("cuda")
    return torch.cuda.amp.GradScaler()


def _record(history: History, train_stats: tuple[float, float], val_stats: tuple[float, float],
            seconds: float, lr: float, phase: str) -> None:
    history.train_loss.append(train_stats[0])
    history.train_acc.append(train_stats[1])
    history.val_loss.append(val_stats[0])
    history.val_acc.append(val_stats[1])
    history.epoch_seconds.append(seconds)
    history.lr.append(lr)
    history.phase.append(phase)


def _run_epochs(loop: _Loop, opt: torch.optim.Optimizer, inputs: _Inputs, train: Data, val: Data,
                batch_size: int, gen: torch.Generator, state: TrainState, best: _Best,
                patience: int | None, callbacks: Sequence[Callback]) -> None:
    """El bucle de épocas: entrenar, validar, apuntar, avisar y decidir si parar."""
    for epoch in range(1, state.epochs + 1):
        state.epoch = epoch
        start = time.perf_counter()
        stats = _train_epoch(loop, opt, inputs.x_train, train.labels, batch_size, gen, state,
                             callbacks)
        if stats is None:
            state.message = state.message or f"Parado a petición en la época {epoch}."
            return
        val_stats = _loss_and_accuracy(_all_logits(loop, inputs.x_val), val.labels)
        _record(state.history, stats, val_stats, time.perf_counter() - start,
                opt.param_groups[-1]["lr"], state.phase)
        best.update(loop.model, epoch, val_stats[0])
        state.history.best_epoch = best.epoch
        if patience is not None and best.waited >= patience:
            state.history.stopped_early = True
            state.message = (f"Parada temprana en la época {epoch}: {patience} épocas sin "
                             f"mejorar la validación; pesos de la época {best.epoch}.")
        _notify(callbacks, "on_epoch_end", state)
        if state.stop or state.history.stopped_early:
            return


def fit(model: nn.Module, train: Data, val: Data, *, epochs: int = 10, lr: float = 1e-3,
        ratio: float = 1.0, tiers: int = 3, batch_size: int = 32, optimizer: str = "adam",
        weight_decay: float = 0.0, augment: bool = False, patience: int | None = None,
        min_delta: float = 0.0, callbacks: Sequence[Callback] = (), progress: bool = True,
        seed: int = 0, device: torch.device | str | None = None,
        cache: str | bool | FeatureCache = "auto", phase: str = "",
        checkpoint: str | os.PathLike | None = None, update_bn: bool | None = None,
        class_weights: str | Sequence[float] | None = None) -> History:
    """Entrena lo que no está congelado y devuelve el historial por época.

    El optimizador se crea en cada llamada con la congelación actual (solo parámetros
    entrenables, tasas discriminativas de :func:`labkit.optim.param_groups`). Los grupos
    congelados quedan en modo evaluación (:func:`labkit.train_mode`). Con la misma semilla en
    CPU, los números se repiten exactos; en CUDA usa precisión mixta.

    Caché: si los primeros ``k = frozen_depth(model)`` grupos están congelados y no hay aumento,
    su salida se calcula una vez y solo se entrena la cola (``history.cached``); da los mismos
    números que sin caché. ``cache``: ``"auto"`` (si cabe en 1 GiB), ``True``, ``False`` o una
    :class:`labkit.FeatureCache` para reutilizar entre llamadas. ``train``/``val`` también pueden
    ser :class:`labkit.FeatureSet` ya calculados (barridos: se extrae una vez y se recorta con
    ``take``).

    Parada temprana: con ``patience``, para tras ``patience`` épocas sin que la pérdida de
    validación baje más de ``min_delta`` y **los pesos finales son los de la mejor época** (se
    guarda una copia en CPU). Sin ``patience`` se entrenan todas las épocas, se apunta
    ``history.best_epoch`` pero los pesos finales son los de la última época.

    Ctrl+C (``KeyboardInterrupt``) para limpiamente: marca ``history.interrupted``, restaura la
    mejor época si hay parada temprana y devuelve el historial.

    Args:
        model: un modelo del catálogo, con cabeza de tantas salidas como clases.
        train: datos de entrenamiento (``ImageSet`` o ``FeatureSet``).
        val: datos de validación (del mismo tipo y con las mismas clases).
        epochs: épocas como máximo.
        lr: tasa de aprendizaje de la cabeza.
        ratio: razón entre tasas de niveles vecinos (1 = la misma en todo el modelo).
        tiers: niveles de tasas entre la entrada y la cabeza.
        batch_size: tamaño del lote.
        optimizer: ``"adam"``, ``"adamw"`` o ``"sgd"`` (momento 0.9).
        weight_decay: decaimiento de pesos.
        augment: aumento de datos aleatorio (volteo y recorte); apaga la caché.
        patience: épocas sin mejorar antes de parar (``None`` = no parar antes).
        min_delta: mejora mínima de la pérdida de validación que cuenta como mejora.
        callbacks: objetos :class:`labkit.callbacks.Callback` que siguen el entrenamiento.
        progress: mostrar una barra de progreso (:class:`TqdmCallback`).
        seed: semilla del orden de los lotes, del aumento y del dropout.
        device: dispositivo; ``None`` = :func:`labkit.default_device` (CUDA → MPS → CPU).
        cache: ver arriba.
        phase: nombre de la fase que se apunta en el historial.
        checkpoint: si se da una ruta, guarda ahí (de forma atómica) la mejor época.
        update_bn: si las BatchNorm que se entrenan reestiman sus estadísticas. ``None``: no en
            modelos preentrenados (el ajuste fino con lotes pequeños empeora si lo hacen), sí en
            modelos desde cero. Ver :func:`labkit.train_mode`.
        class_weights: pesos por clase en la entropía cruzada de entrenamiento, para datos
            desbalanceados: ``None`` (todas igual), ``"balanced"`` (``n / (clases · n_clase)``,
            como scikit-learn) o una secuencia con un peso positivo por clase. La pérdida de
            validación (y la parada temprana) sigue sin pesos.

    Returns:
        El :class:`labkit.callbacks.History` del entrenamiento.
    """
    _check_rates(lr, ratio)
    _check_counts(epochs, batch_size, tiers)
    _check_options(optimizer, weight_decay, patience, min_delta, cache)
    _check_sets(train, val)
    for data in (train, val):
        _check_labels(data)
    _check_model(model, train)
    _check_feature_sets(model, train, val, augment)
    weight = class_weight_tensor(class_weights, train)
    start = time.perf_counter()
    dev = torch.device(device) if device is not None else default_device()
    model.to(dev)
    inputs = _plan_inputs(model, train, val, cache, augment, dev)
    loop = _Loop(model, inputs.forward, dev, inputs.raw, augment, _grad_scaler(dev), update_bn,
                 weight)
    opt = _make_optimizer(model, optimizer, lr, ratio, tiers, weight_decay)
    history = History(cached=inputs.cached, setup_seconds=time.perf_counter() - start)
    state = TrainState(epochs=epochs, history=history, phase=phase)
    best = _Best(patience is not None, min_delta, checkpoint, list(train.classes))
    cbs = [*callbacks, TqdmCallback()] if progress else list(callbacks)
    return _supervise(loop, opt, inputs, train, val, batch_size, seed, state, best, patience, cbs)


def _supervise(loop: _Loop, opt: torch.optim.Optimizer, inputs: _Inputs, train: Data, val: Data,
               batch_size: int, seed: int, state: TrainState, best: _Best,
               patience: int | None, callbacks: list[Callback]) -> History:
    """Corre las épocas y se ocupa del final: interrupción, divergencia, mejores pesos."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    _notify(callbacks, "on_train_begin", state)
    try:
        _run_epochs(loop, opt, inputs, train, val, batch_size, gen, state, best, patience,
                    callbacks)
    except KeyboardInterrupt:
        state.history.interrupted = True
        state.message = f"Interrumpido a mano en la época {state.epoch}."
    except LabkitError as err:
        state.message = str(err)
        _finish(loop.model, best, state, callbacks)
        raise
    _finish(loop.model, best, state, callbacks)
    return state.history


def _finish(model: nn.Module, best: _Best, state: TrainState,
            callbacks: Sequence[Callback]) -> None:
    """Restaura la mejor época (si hay parada temprana), deja el modelo en evaluación y avisa."""
    best.restore(model)
    model.eval()
    _notify(callbacks, "on_train_end", state)


# ---------------------------------------------------------------- fine_tune


def _check_fine_tune(model: nn.Module, train: Data, val: Data, head_epochs: int, epochs: int,
                     head_lr: float, lr: float, ratio: float, unfreeze_to: int) -> None:
    """Todo lo de las dos fases se comprueba antes de entrenar nada."""
    if not isinstance(train, ImageSet) or not isinstance(val, ImageSet):
        raise LabkitError("fine_tune necesita las imágenes (ImageSet): la segunda fase entrena "
                          "capas cuyas entradas cambian. Para características usa labkit.fit.")
    for name, n in (("head_epochs", head_epochs), ("epochs", epochs)):
        if not _is_int(n) or n < 0:
            raise LabkitError(f"{name}={n!r}: debe ser un entero ≥ 0.")
    if head_epochs + epochs == 0:
        raise LabkitError("head_epochs y epochs son 0: no hay nada que entrenar.")
    _check_rates(head_lr, 1.0, "head_lr")
    _check_rates(lr, ratio)
    last = len(layer_groups(model)) - 1
    if not _is_int(unfreeze_to) or not 0 <= unfreeze_to <= last:
        raise LabkitError(f"unfreeze_to={unfreeze_to!r}: usa de 0 (descongelar todo) a {last} "
                          "(solo la cabeza).")
    _check_sets(train, val)
    _check_model(model, train, need_trainable=False)


def fine_tune(model: nn.Module, train: ImageSet, val: ImageSet, *, head_epochs: int = 3,
              epochs: int = 5, head_lr: float = 1e-3, lr: float = 1e-4, ratio: float = 10.0,
              unfreeze_to: int = 0, patience: int | None = None, **kwargs: object) -> History:
    """La receta en dos fases (como ``fine_tune`` de fastai).

    1. Fase ``"cabeza"``: congela todo menos la cabeza y la entrena ``head_epochs`` épocas con
       ``head_lr`` (con caché de características si no hay aumento).
    2. Fase ``"ajuste fino"``: ``freeze_to(model, unfreeze_to)`` y entrena ``epochs`` épocas
       con tasas discriminativas (cabeza ``lr``, ``ratio`` entre niveles) y un optimizador nuevo.

    ``patience`` se aplica en cada fase por separado. Si se interrumpe la primera fase, no se
    hace la segunda.

    Args:
        model: un modelo del catálogo con cabeza de tantas salidas como clases.
        train: imágenes de entrenamiento.
        val: imágenes de validación.
        head_epochs: épocas de la fase de cabeza (0 = saltarla).
        epochs: épocas de ajuste fino (0 = saltarla).
        head_lr: tasa de la cabeza en la primera fase.
        lr: tasa de la cabeza en el ajuste fino.
        ratio: razón entre tasas de niveles vecinos en el ajuste fino.
        unfreeze_to: grupos que siguen congelados en el ajuste fino (0 = ninguno).
        patience: parada temprana (ver :func:`fit`).
        **kwargs: el resto de opciones de :func:`fit` (``batch_size``, ``seed``, ``augment``…).

    Returns:
        El historial de las dos fases unido, con la fase de cada época en ``history.phase``.
    """
    _check_fine_tune(model, train, val, head_epochs, epochs, head_lr, lr, ratio, unfreeze_to)
    history = History()
    if head_epochs:
        freeze_to(model, len(layer_groups(model)) - 1)
        history = fit(model, train, val, epochs=head_epochs, lr=head_lr, ratio=1.0,
                      patience=patience, phase="cabeza", **kwargs)
        if history.interrupted:
            return history
    if epochs:
        freeze_to(model, unfreeze_to)
        second = fit(model, train, val, epochs=epochs, lr=lr, ratio=ratio, patience=patience,
                     phase="ajuste fino", **kwargs)
        history = history.extend(second) if history.epochs else second
    return history


# ---------------------------------------------------------------- evaluación


def _eval_inputs(model: nn.Module, data: Data | torch.Tensor) -> tuple[nn.Module, torch.Tensor,
                                                                         bool]:
    """El módulo a ejecutar, sus entradas y si son imágenes sin normalizar."""
    if isinstance(data, FeatureSet):
        _check_fingerprint(model, data)
        return split_at(model, data.depth)[1], data.features, False
    if isinstance(data, ImageSet):
        return model, data.images, True
    if isinstance(data, torch.Tensor) and data.ndim == 4:
        return model, data, data.dtype == torch.uint8
    raise LabkitError("Los datos deben ser un ImageSet, un FeatureSet o un tensor de imágenes "
                      f"[N, 3, H, W]; llegó {type(data).__name__}.")


def _logits_for(model: nn.Module, data: Data | torch.Tensor, batch_size: int | None,
                device: torch.device | str | None) -> torch.Tensor:
    """Salidas del modelo para todos los datos (en su dispositivo, o en ``device``)."""
    if batch_size is not None and (not _is_int(batch_size) or batch_size <= 0):
        raise LabkitError(f"batch_size={batch_size!r}: debe ser un entero positivo.")
    dev = _resolve_device(model, device)
    model.to(dev)
    forward, x, raw = _eval_inputs(model, data)
    if len(x) == 0:
        raise LabkitError("No hay datos que evaluar: el conjunto está vacío.")
    return _all_logits(_Loop(model, forward, dev, raw), x, batch_size)


def evaluate(model: nn.Module, data: Data, batch_size: int | None = None,
             device: torch.device | str | None = None) -> dict[str, object]:
    """Pérdida (entropía cruzada) y exactitud del modelo sobre un conjunto.

    Args:
        model: un modelo del catálogo.
        data: ``ImageSet`` o ``FeatureSet`` (con las mismas clases que la cabeza).
        batch_size: tamaño del lote (``None`` = automático: pequeño en CPU, grande en GPU).
        device: dispositivo; ``None`` = el del modelo.

    Returns:
        ``{"loss": ..., "accuracy": ..., "balanced_accuracy": ..., "recall": {clase: ...}}``:
        exactitud, exactitud balanceada (media de la sensibilidad de las clases presentes) y
        sensibilidad (recall) por clase, de 0 a 1 (``nan`` para una clase sin ejemplos).
    """
    if not isinstance(data, (ImageSet, FeatureSet)):
        raise LabkitError(f"evaluate necesita un ImageSet o un FeatureSet; llegó "
                          f"{type(data).__name__}.")
    _check_model(model, data, need_trainable=False)
    _check_labels(data)
    logits = _logits_for(model, data, batch_size, device)
    loss, acc = _loss_and_accuracy(logits, data.labels)
    return {"loss": loss, "accuracy": acc,
            **class_metrics(data.labels, logits.argmax(1).cpu(), list(data.classes))}


def predict(model: nn.Module, data: Data | torch.Tensor, batch_size: int | None = None,
            device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Clase predicha y probabilidades para cada imagen.

    Args:
        model: un modelo del catálogo.
        data: ``ImageSet``, ``FeatureSet`` o tensor ``[N, 3, H, W]`` (``uint8``, o ``float`` ya
            normalizado).
        batch_size: tamaño del lote (``None`` = automático: pequeño en CPU, grande en GPU).
        device: dispositivo; ``None`` = el del modelo.

    Returns:
        ``(etiquetas [N] int64, probabilidades [N, clases] float32)``, en CPU.
    """
    probs = _logits_for(model, data, batch_size, device).softmax(1).cpu()
    return probs.argmax(1), probs


def confusion_matrix(y_true: torch.Tensor | Sequence[int], y_pred: torch.Tensor | Sequence[int],
                     num_classes: int) -> torch.Tensor:
    """La matriz de confusión: fila = clase real, columna = clase predicha.

    Args:
        y_true: etiquetas reales.
        y_pred: etiquetas predichas.
        num_classes: número de clases.

    Returns:
        Un tensor ``int64 [num_classes, num_classes]`` con los recuentos.
    """
    t = torch.as_tensor(y_true, dtype=torch.long).flatten().cpu()
    p = torch.as_tensor(y_pred, dtype=torch.long).flatten().cpu()
    if t.shape != p.shape:
        raise LabkitError(f"Hay {len(t)} etiquetas reales y {len(p)} predichas: deben ser "
                          "las mismas.")
    for v in (t, p):
        if v.numel() and (int(v.min()) < 0 or int(v.max()) >= num_classes):
            raise LabkitError(f"Hay etiquetas fuera de 0…{num_classes - 1}.")
    counts = torch.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return counts.view(num_classes, num_classes)


def class_metrics(y_true: torch.Tensor | Sequence[int], y_pred: torch.Tensor | Sequence[int],
                  classes: Sequence[str]) -> dict[str, object]:
    """Sensibilidad (recall) por clase y exactitud balanceada.

    Args:
        y_true: etiquetas reales.
        y_pred: etiquetas predichas.
        classes: nombres de las clases, en el orden de las etiquetas.

    Returns:
        ``{"balanced_accuracy": float, "recall": {clase: float}}``; una clase sin ejemplos
        reales tiene recall ``nan`` y no cuenta en la media.
    """
    cm = confusion_matrix(y_true, y_pred, len(classes)).double()
    support = cm.sum(1)
    recall = cm.diagonal() / support.clamp(min=1)
    recall[support == 0] = float("nan")
    present = recall[support > 0]
    balanced = float(present.mean()) if len(present) else float("nan")
    return {"balanced_accuracy": balanced, "recall": dict(zip(classes, recall.tolist()))}


def class_weight_tensor(class_weights: str | Sequence[float] | None,
                        train: Data) -> torch.Tensor | None:
    """Convierte ``class_weights`` de :func:`fit` en un tensor ``float32 [clases]``.

    Args:
        class_weights: ``None``, ``"balanced"`` o un peso positivo por clase.
        train: el conjunto de entrenamiento (sus recuentos, para ``"balanced"``).

    Returns:
        El tensor de pesos, o ``None`` si todas las clases pesan igual.
    """
    k = train.num_classes
    if class_weights is None:
        return None
    if isinstance(class_weights, str):
        if class_weights != "balanced":
            raise LabkitError(f"class_weights={class_weights!r}: usa None, 'balanced' o una "
                              f"lista con {k} pesos positivos.")
        counts = torch.bincount(train.labels, minlength=k).double()
        return (len(train.labels) / (k * counts.clamp(min=1))).float()
    try:
        weight = torch.as_tensor(list(class_weights), dtype=torch.float32)
    except (TypeError, ValueError) as exc:
        raise LabkitError(f"class_weights={class_weights!r}: usa None, 'balanced' o una lista "
                          f"con {k} pesos positivos.") from exc
    if weight.shape != (k,) or not bool(torch.isfinite(weight).all() and (weight > 0).all()):
        raise LabkitError(f"class_weights={class_weights!r}: hacen falta {k} pesos positivos y "
                          f"finitos, uno por clase ({', '.join(train.classes)}).")
    return weight
