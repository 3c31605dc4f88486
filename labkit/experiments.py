"""Experimentos: barridos que devuelven filas ordenadas (un diccionario por ejecución).

Las filas se resumen con :func:`summarize`, se imprimen con :func:`format_table` y se dibujan con
:func:`labkit.plots.plot_accuracy_vs_samples` o :func:`labkit.plots.plot_sweep`.

* :func:`data_size_sweep` — exactitud según el número de imágenes de entrenamiento, para tres
  métodos: ``"extraccion"``, ``"ajuste_fino"`` y ``"desde_cero"``.
* :func:`freeze_depth_sweep` — exactitud y tiempo según cuántos grupos se congelan.
* :func:`lr_ratio_sweep` — exactitud según la razón entre tasas del ajuste fino.
* :func:`crossover` — el menor tamaño en que un método alcanza a otro (calculado, no supuesto).

Recetas del barrido de tamaño de datos (:class:`Recipe`; las mismas para todos los tamaños):

* **extraccion**: el tronco preentrenado congelado y una cabeza lineal nueva, ``head_epochs``
  épocas con ``head_lr``. Las características se calculan **una vez** para todo train/val/test
  y cada ejecución toma su subconjunto (``FeatureSet.take``): una fracción de segundo.
* **ajuste_fino**: la misma cabeza (fase «cabeza») y después se descongelan los últimos grupos
  (por defecto, la profundidad de :func:`labkit.freezing.default_fine_tune_depth`, la misma de
  ``labkit.fine_tune`` y del playground) con tasas discriminativas, ``fine_tune_epochs``
  épocas con ``fine_tune_lr`` y razón ``fine_tune_ratio``. Como los primeros grupos siguen
  congelados, su salida también se calcula una sola vez.
* **desde_cero**: la CNN pequeña (``cnn_pequena``, pesos al azar) con aumento de datos. Recibe un
  presupuesto fijo de unos ``scratch_steps`` pasos de optimización: ``épocas = pasos / lotes por
  época``, acotado entre ``scratch_min_epochs`` y ``scratch_max_epochs`` (:func:`scratch_epochs`).
  Así un conjunto mayor da más variedad pero no más cálculo, salvo cuando manda el mínimo.

En las tres, los pesos finales son los de la época con menor pérdida de validación (en el ajuste
fino, la mejor de las dos fases; la prueba no interviene en ninguna decisión). Con la misma semilla, en CPU, los números se repiten.

Ejemplo::

    datos = labkit.surface_dataset(n_train=1000, image_size=64)
    filas = labkit.experiments.data_size_sweep(datos, sizes=(20, 100, 1000), seeds=(0, 1))
    print(labkit.experiments.format_table(filas))
    labkit.experiments.crossover(filas)          # p. ej. 1000, o None si no lo alcanza
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from .callbacks import Callback, History
from .config import seed_everything
from .data import DataSplits, ImageSet
from .errors import LabkitError
from .evaluation import evaluate
from .features import FeatureCache, FeatureSet, _eval_mode, prefix_fingerprint
from .freezing import default_fine_tune_depth, freeze_to
from .groups import layer_groups, split_at
from .loop import BestTracker
from .models import MODELS, create_model, replace_head
from .optim import group_lrs
from .training import FitSettings, _check_data, _run_fit

__all__ = [
    "METHODS", "METHOD_LABELS", "Recipe", "TransferFeatures", "transfer_features",
    "scratch_epochs", "run_extraction", "run_fine_tune", "run_scratch", "data_size_sweep",
    "freeze_depth_sweep", "lr_ratio_sweep", "summarize", "crossover", "format_table",
    "labeled",
]

METHODS = ("extraccion", "ajuste_fino", "desde_cero")
"""Los métodos de :func:`data_size_sweep`, por su nombre en las filas."""

METHOD_LABELS = {"extraccion": "extracción de características", "ajuste_fino": "ajuste fino",
                 "desde_cero": "desde cero"}
"""El nombre en español de cada método, para tablas y figuras."""

Progress = bool | Callable[[int, int, dict], None]


@dataclass(frozen=True)
class Recipe:
    """Los hiperparámetros de los tres métodos (ver la descripción del módulo).

    Attributes:
        head_epochs: épocas de la cabeza lineal (extracción y primera fase del ajuste fino).
        head_lr: tasa de aprendizaje de la cabeza.
        fine_tune_epochs: épocas de la segunda fase del ajuste fino.
        fine_tune_lr: tasa de la cabeza en el ajuste fino (los grupos anteriores, menos).
        fine_tune_ratio: razón entre tasas de niveles vecinos en el ajuste fino.
        scratch_steps: pasos de optimización (lotes) de la CNN desde cero.
        scratch_min_epochs: épocas mínimas desde cero.
        scratch_max_epochs: épocas máximas desde cero.
        scratch_lr: tasa de aprendizaje desde cero.
        scratch_augment: aumento de datos (volteo y recorte) desde cero.
        batch_size: tamaño del lote de todos los métodos.
    """

    head_epochs: int = 30
    head_lr: float = 1e-3
    fine_tune_epochs: int = 8
    fine_tune_lr: float = 3e-4
    fine_tune_ratio: float = 10.0
    scratch_steps: int = 250
    scratch_min_epochs: int = 3
    scratch_max_epochs: int = 20
    scratch_lr: float = 3e-3
    scratch_augment: bool = True
    batch_size: int = 32


# ---------------------------------------------------------------- comprobaciones


def _check_splits(data: DataSplits) -> None:
    if not isinstance(data, DataSplits) or not isinstance(data.train, ImageSet):
        raise LabkitError("Los barridos necesitan un DataSplits con train, val y test de imágenes "
                          f"(p. ej. labkit.surface_dataset()); llegó {type(data).__name__}.")


def _check_methods(methods: Sequence[str]) -> list[str]:
    methods = list(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise LabkitError(f"Métodos desconocidos {unknown or '(ninguno)'}: usa "
                          f"{', '.join(repr(m) for m in METHODS)}.")
    return methods


def _usable_sizes(sizes: Iterable[int], train: ImageSet) -> list[int]:
    """Los tamaños válidos, sin repetir y en orden; los mayores que el entrenamiento, con aviso."""
    sizes = list(sizes)
    bad = [n for n in sizes if isinstance(n, bool) or not isinstance(n, int)
           or n < train.num_classes]
    if bad or not sizes:
        raise LabkitError(f"Tamaños no válidos {bad or '(ninguno)'}: usa enteros de "
                          f"{train.num_classes} o más (al menos una imagen por clase).")
    sizes = sorted(set(sizes))
    too_big = [n for n in sizes if n > len(train)]
    if too_big:
        warnings.warn(f"Se omiten los tamaños {too_big}: el entrenamiento solo tiene "
                      f"{len(train)} imágenes. Crea el conjunto con más (p. ej. "
                      f"labkit.surface_dataset(n_train={max(too_big)})).", UserWarning,
                      stacklevel=3)
    return [n for n in sizes if n <= len(train)]


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) for s in seeds):
        raise LabkitError(f"seeds={seeds!r}: da una lista de semillas enteras, p. ej. (0, 1, 2).")
    return seeds


# ---------------------------------------------------------------- características


@dataclass
class TransferFeatures:
    """Las características de train/val/test de un modelo preentrenado, calculadas una vez.

    Attributes:
        model: el modelo (congelado hasta ``depth``); su prefijo no debe cambiar.
        train, val, test: las características de cada partición.
        seconds: segundos que costó calcularlas.
    """

    model: nn.Module
    train: FeatureSet
    val: FeatureSet
    test: FeatureSet
    seconds: float = 0.0
    _deeper: dict = field(default_factory=dict, repr=False)

    @property
    def depth(self) -> int:
        """Grupos del prefijo con que se calcularon."""
        return self.train.depth

    def at_depth(self, depth: int) -> TransferFeatures:
        """Las mismas características llevadas más adentro (hasta ``depth`` grupos).

        Pasa las ya calculadas por los grupos que faltan, sin volver a leer las imágenes, y
        las recuerda para la próxima vez.

        Args:
            depth: grupos del nuevo prefijo (igual o mayor que :attr:`depth`).

        Returns:
            Un :class:`TransferFeatures` con prefijo de ``depth`` grupos.
        """
        if depth == self.depth:
            return self
        if depth < self.depth:
            raise LabkitError(f"Estas características salen de {self.depth} grupos: no se puede "
                              f"volver a {depth}. Calcúlalas de nuevo con depth={depth}.")
        if depth not in self._deeper:
            start = time.perf_counter()
            sets = [_deepen(self.model, fs, depth) for fs in (self.train, self.val, self.test)]
            self._deeper[depth] = TransferFeatures(self.model, *sets,
                                                   self.seconds + time.perf_counter() - start)
        return self._deeper[depth]


def _deepen(model: nn.Module, fs: FeatureSet, depth: int) -> FeatureSet:
    """Pasa las características de ``fs`` por los grupos ``[fs.depth, depth)``."""
    shallow = len(split_at(model, fs.depth)[0])
    middle = nn.Sequential(*list(split_at(model, depth)[0])[shallow:])
    with _eval_mode(model), torch.no_grad():
        feats = torch.cat([middle(chunk) for chunk in fs.features.split(256)])
    return FeatureSet(feats, fs.labels.clone(), list(fs.classes), depth,
                      prefix_fingerprint(model, depth), fs.name)


def _head_depth(model: nn.Module) -> int:
    return len(layer_groups(model)) - 1


def transfer_features(data: DataSplits, model_name: str = "efficientnet_lite0",
                      depth: int | None = None, pretrained: bool = True,
                      device: torch.device | str | None = None) -> TransferFeatures:
    """Crea el modelo preentrenado y calcula una vez las características de las tres particiones.

    Args:
        data: particiones con ``train``, ``val`` y ``test``.
        model_name: modelo del catálogo.
        depth: grupos congelados cuya salida se guarda; ``None`` = todos menos la cabeza.
        pretrained: pesos de ImageNet (``False`` solo para pruebas rápidas).
        device: dispositivo; ``None`` = :func:`labkit.default_device`.

    Returns:
        Un :class:`TransferFeatures`.
    """
    _check_splits(data)
    start = time.perf_counter()
    model = create_model(model_name, num_classes=data.train.num_classes, pretrained=pretrained)
    depth = _head_depth(model) if depth is None else depth
    freeze_to(model, depth)
    if device is not None:
        model.to(device)
    sets = [FeatureSet.extract(model, s, depth) for s in (data.train, data.val, data.test)]
    return TransferFeatures(model, *sets, time.perf_counter() - start)


# ---------------------------------------------------------------- una ejecución


def scratch_epochs(n: int, recipe: Recipe | None = None) -> int:
    """Épocas de la CNN desde cero con ``n`` imágenes: un presupuesto fijo de pasos.

    ``ceil(pasos / lotes por época)``, acotado entre el mínimo y el máximo de la receta.

    Args:
        n: imágenes de entrenamiento.
        recipe: la receta (``None`` = :class:`Recipe` por defecto).

    Returns:
        El número de épocas.
    """
    r = recipe or Recipe()
    batches = max(1, math.ceil(n / r.batch_size))
    return int(min(max(math.ceil(r.scratch_steps / batches), r.scratch_min_epochs),
                   r.scratch_max_epochs))


def _fit(model: nn.Module, train: ImageSet | FeatureSet, val: ImageSet | FeatureSet,
         epochs: int, seed: int, recipe: Recipe, best: BestTracker | None = None,
         history: History | None = None, **kwargs: object) -> History:
    """``labkit.fit`` sin barra, terminando con los pesos de la mejor época de validación.

    ``best`` y ``history`` se comparten entre las dos fases del ajuste fino: la mejor época es
    la de toda la ejecución.
    """
    kwargs.setdefault("progress", False)
    s = FitSettings(epochs=epochs, batch_size=recipe.batch_size, seed=seed, **kwargs).check()
    _check_data(model, train, val, s)
    return _run_fit(model, train, val, s, best, history)


def _result(model: nn.Module, test: ImageSet | FeatureSet, history: History) -> dict:
    return {"test_acc": evaluate(model, test)["accuracy"], "val_acc": max(history.val_acc),
            "train_seconds": history.seconds, "epochs": history.epochs}


def run_extraction(features: TransferFeatures, n: int, seed: int = 0,
                   recipe: Recipe | None = None, device: torch.device | str | None = None,
                   **kwargs: object) -> dict:
    """Extracción de características: una cabeza lineal nueva sobre el tronco congelado.

    Args:
        features: características del modelo preentrenado (se llevan hasta la cabeza si hace
            falta).
        n: imágenes de entrenamiento (subconjunto estratificado de ``features.train``).
        seed: semilla del subconjunto, de la cabeza nueva y del orden de los lotes.
        recipe: la receta (``None`` = :class:`Recipe`).
        device: dispositivo.
        **kwargs: otras opciones de ``labkit.fit`` (p. ej. ``callbacks``).

    Returns:
        ``{"test_acc", "val_acc", "train_seconds", "epochs"}``.
    """
    r = recipe or Recipe()
    feats = features.at_depth(_head_depth(features.model))
    model = feats.model
    seed_everything(seed)
    replace_head(model, feats.train.num_classes)
    freeze_to(model, feats.depth)
    h = _fit(model, feats.train.take(n, seed), feats.val, r.head_epochs, seed, r, lr=r.head_lr,
             device=device, **kwargs)
    return _result(model, feats.test, h)


def run_fine_tune(features: TransferFeatures, n: int, seed: int = 0, depth: int | None = None,
                  recipe: Recipe | None = None, device: torch.device | str | None = None,
                  **kwargs: object) -> dict:
    """Ajuste fino de los últimos grupos en dos fases: primero la cabeza, luego la cola.

    La fase «cabeza» es la misma que :func:`run_extraction` (sobre las características de todo
    el tronco); la fase «ajuste fino» entrena además los grupos desde ``depth``. Entrena una
    copia del modelo (el de ``features`` no cambia).

    Args:
        features: características con un prefijo de ``depth`` grupos o menos.
        n: imágenes de entrenamiento.
        seed: semilla del subconjunto, de la cabeza y del orden de los lotes.
        depth: grupos que siguen congelados; ``None`` =
            :func:`labkit.freezing.default_fine_tune_depth`.
        recipe: la receta.
        device: dispositivo.
        **kwargs: otras opciones de ``labkit.fit``.

    Returns:
        ``{"test_acc", "val_acc", "train_seconds", "epochs"}`` (épocas de las dos fases).
    """
    r = recipe or Recipe()
    depth = _fine_tune_depth(features.model, depth)
    feats, heads = features.at_depth(depth), features.at_depth(_head_depth(features.model))
    model = copy.deepcopy(feats.model)
    seed_everything(seed)
    replace_head(model, feats.train.num_classes)
    freeze_to(model, heads.depth)
    best, h = BestTracker(classes=list(feats.train.classes)), History()
    _fit(model, heads.train.take(n, seed), heads.val, r.head_epochs, seed, r, best, h,
         lr=r.head_lr, device=device, phase="cabeza", **kwargs)
    freeze_to(model, depth)
    _fit(model, feats.train.take(n, seed), feats.val, r.fine_tune_epochs, seed, r, best, h,
         lr=r.fine_tune_lr, ratio=r.fine_tune_ratio, device=device, phase="ajuste fino",
         **kwargs)
    return _result(model, feats.test, h)


def _fine_tune_depth(model: nn.Module, depth: int | None) -> int:
    head = _head_depth(model)
    depth = default_fine_tune_depth(model) if depth is None else depth
    if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth < head:
        raise LabkitError(f"fine_tune_depth={depth!r}: usa de 0 a {head - 1} grupos congelados "
                          "(con todos congelados sería extracción de características).")
    return depth


def run_scratch(data: DataSplits, n: int, seed: int = 0, recipe: Recipe | None = None,
                device: torch.device | str | None = None,
                callbacks: Sequence[Callback] = ()) -> dict:
    """La CNN pequeña entrenada desde cero (pesos al azar) con la receta de ``recipe``.

    Args:
        data: particiones de imágenes.
        n: imágenes de entrenamiento (subconjunto estratificado de ``data.train``).
        seed: semilla del subconjunto, de los pesos iniciales, del aumento y de los lotes.
        recipe: la receta (épocas según :func:`scratch_epochs`).
        device: dispositivo.
        callbacks: callbacks para ``labkit.fit`` (p. ej. ``TrainingProgress``).

    Returns:
        ``{"test_acc", "val_acc", "train_seconds", "epochs"}``.
    """
    r = recipe or Recipe()
    seed_everything(seed)
    model = create_model("cnn_pequena", num_classes=data.train.num_classes, pretrained=False)
    h = _fit(model, data.train.take(n, seed), data.val, scratch_epochs(n, r), seed, r,
             lr=r.scratch_lr, augment=r.scratch_augment, device=device, callbacks=callbacks)
    return _result(model, data.test, h)


# ---------------------------------------------------------------- barrido de tamaño de datos


def _runs(items: list, progress: Progress, desc: str) -> Iterable:
    """Recorre las ejecuciones con una barra de tqdm (``True``) o sin ella (``False``)."""
    if progress is True:
        from tqdm.auto import tqdm

        return tqdm(items, desc=desc, leave=False)
    return items


def _features_for(methods: list[str], data: DataSplits, model_name: str,
                  features: TransferFeatures | None, depth: int | None,
                  device: torch.device | str | None) -> TransferFeatures | None:
    """Las características que hacen falta (ninguna si solo se entrena desde cero)."""
    if features is not None or methods == ["desde_cero"]:
        return features
    if "ajuste_fino" in methods:
        with torch.device("meta"):  # solo para contar sus grupos: sin memoria ni pesos
            model = create_model(model_name, num_classes=data.train.num_classes,
                                 pretrained=False)
        depth = _fine_tune_depth(model, depth)
    return transfer_features(data, model_name, depth, device=device)


def _run_one(method: str, data: DataSplits, feats: TransferFeatures | None, n: int, seed: int,
             recipe: Recipe, depth: int | None, device: torch.device | str | None) -> dict:
    if method == "extraccion":
        return run_extraction(feats, n, seed, recipe, device)
    if method == "ajuste_fino":
        return run_fine_tune(feats, n, seed, depth, recipe, device)
    return run_scratch(data, n, seed, recipe, device)


def data_size_sweep(data: DataSplits, sizes: Sequence[int] = (10, 50, 100, 500, 1000),
                    seeds: Sequence[int] = (0, 1, 2), methods: Sequence[str] = METHODS,
                    model_name: str = "efficientnet_lite0", *, recipe: Recipe | None = None,
                    fine_tune_sizes: Sequence[int] | None = None,
                    fine_tune_depth: int | None = None,
                    features: TransferFeatures | None = None,
                    device: torch.device | str | None = None,
                    progress: Progress = True) -> list[dict]:
    """Exactitud en prueba según el número de imágenes de entrenamiento, por método y semilla.

    Para cada tamaño y semilla toma un subconjunto estratificado del entrenamiento
    (``take(n, semilla)``) y entrena cada método con su receta (ver la descripción del módulo).
    Los tamaños mayores que el entrenamiento se omiten con un aviso.

    Args:
        data: particiones (``val`` y ``test`` se usan enteras en todas las ejecuciones).
        sizes: números de imágenes de entrenamiento.
        seeds: semillas (una ejecución por semilla).
        methods: subconjunto de :data:`METHODS`.
        model_name: modelo preentrenado de la extracción y el ajuste fino.
        recipe: hiperparámetros (``None`` = :class:`Recipe`).
        fine_tune_sizes: tamaños en que se hace el ajuste fino (el más caro); ``None`` = todos.
        fine_tune_depth: grupos congelados en el ajuste fino; ``None`` =
            :func:`labkit.freezing.default_fine_tune_depth`.
        features: características ya calculadas (:func:`transfer_features`) para no repetirlas.
        device: dispositivo; ``None`` = :func:`labkit.default_device`.
        progress: ``True`` = barra de progreso; ``False`` = nada; o una función
            ``(hechas, total, fila)`` a la que se llama tras cada ejecución.

    Returns:
        Una fila por método × tamaño × semilla: ``method``, ``n_train``, ``seed``, ``test_acc``,
        ``val_acc``, ``train_seconds`` (solo entrenar; las características se calculan una vez),
        ``epochs`` y ``model``.
    """
    _check_splits(data)
    methods, seeds = _check_methods(methods), _check_seeds(seeds)
    sizes = _usable_sizes(sizes, data.train)
    recipe = recipe or Recipe()
    feats = _features_for(methods, data, model_name, features, fine_tune_depth, device)
    plan = [(m, n, s) for n in sizes for s in seeds for m in methods
            if m != "ajuste_fino" or fine_tune_sizes is None or n in fine_tune_sizes]
    rows = []
    for method, n, seed in _runs(plan, progress, "barrido de tamaño de datos"):
        out = _run_one(method, data, feats, n, seed, recipe, fine_tune_depth, device)
        name = "cnn_pequena" if method == "desde_cero" else model_name
        rows.append({"method": method, "n_train": n, "seed": seed, **out, "model": name})
        if callable(progress):
            progress(len(rows), len(plan), rows[-1])
    return rows


# ---------------------------------------------------------------- profundidad y razón de tasas


def _prepare(model_name: str, data: DataSplits, n_train: int | None, pretrained: bool,
             device: torch.device | str | None) -> tuple[nn.Module, ImageSet]:
    """El modelo del catálogo con cabeza para las clases y el entrenamiento (quizá recortado)."""
    _check_splits(data)
    if model_name not in MODELS:
        raise LabkitError(f"No conozco el modelo '{model_name}': elige entre {', '.join(MODELS)}.")
    model = create_model(model_name, num_classes=data.train.num_classes, pretrained=pretrained)
    if device is not None:
        model.to(device)
    train = data.train if n_train is None else data.train.take(n_train, 0)
    return model, train


def _sets_at(model: nn.Module, train: ImageSet, data: DataSplits,
             depth: int) -> tuple[list[ImageSet | FeatureSet], float]:
    """Entrenamiento, validación y prueba a la profundidad ``depth`` (imágenes si es 0)."""
    start = time.perf_counter()
    if depth == 0:
        return [train, data.val, data.test], 0.0
    freeze_to(model, depth)
    sets = [FeatureSet.extract(model, s, depth) for s in (train, data.val, data.test)]
    return sets, time.perf_counter() - start


def _check_depths(model: nn.Module, depths: Sequence[int]) -> list[int]:
    head = _head_depth(model)
    depths = list(depths)
    bad = [d for d in depths if isinstance(d, bool) or not isinstance(d, int)
           or not 0 <= d <= head]
    if bad or not depths:
        raise LabkitError(f"Profundidades no válidas {bad or '(ninguna)'}: usa enteros de 0 "
                          f"(entrenar todo) a {head} (solo la cabeza).")
    return depths


def freeze_depth_sweep(model_name: str, data: DataSplits, depths: Sequence[int], *,
                       seeds: Sequence[int] = (0,), n_train: int | None = None,
                       epochs: int = 5, lr: float = 1e-3, ratio: float = 1.0,
                       batch_size: int = 32, pretrained: bool = True,
                       device: torch.device | str | None = None,
                       progress: Progress = True) -> list[dict]:
    """Exactitud y tiempo según cuántos grupos se congelan (0 = se entrena todo).

    Para cada profundidad, la salida de los grupos congelados se calcula una vez (y se reutiliza
    en todas las semillas); cada ejecución parte del modelo preentrenado con una cabeza nueva y
    guarda los pesos de la mejor época en validación. Sin aumento de datos.

    Args:
        model_name: modelo del catálogo.
        data: particiones.
        depths: grupos congelados de cada punto (de 0 a ``len(layer_groups) - 1``).
        seeds: semillas.
        n_train: imágenes de entrenamiento (``None`` = todas).
        epochs: épocas por ejecución.
        lr: tasa de la cabeza.
        ratio: razón entre tasas de niveles vecinos (1 = la misma tasa en todo).
        batch_size: tamaño del lote.
        pretrained: pesos de ImageNet (``False`` solo para pruebas).
        device: dispositivo.
        progress: como en :func:`data_size_sweep`.

    Returns:
        Una fila por profundidad y semilla: ``depth``, ``group`` (primer grupo que entrena),
        ``trainable`` (parámetros), ``seed``, ``n_train``, ``test_acc``, ``val_acc``,
        ``seconds`` (calcular la caché de esa profundidad más entrenar) y ``epochs``.
    """
    base, train = _prepare(model_name, data, n_train, pretrained, device)
    depths, seeds = _check_depths(base, depths), _check_seeds(seeds)
    recipe = Recipe(batch_size=batch_size)
    plan = [(d, s) for d in depths for s in seeds]
    rows, sets = [], {}
    for depth, seed in _runs(plan, progress, "barrido de congelado"):
        if depth not in sets:
            sets[depth] = _sets_at(base, train, data, depth)
        (tr, va, te), extract_s = sets[depth]
        model = _fresh(base, depth, seed, data.train.num_classes)
        h = _fit(model, tr, va, epochs, seed, recipe, lr=lr, ratio=ratio, device=device)
        out = _result(model, te, h)
        groups = layer_groups(model)
        rows.append({"depth": depth, "group": groups[depth].name,
                     "trainable": sum(g.num_trainable for g in groups), "seed": seed,
                     "n_train": len(train), "test_acc": out["test_acc"],
                     "val_acc": out["val_acc"], "seconds": extract_s + out["train_seconds"],
                     "epochs": out["epochs"], "model": model_name})
        if callable(progress):
            progress(len(rows), len(plan), rows[-1])
    return rows


def _fresh(base: nn.Module, depth: int, seed: int, num_classes: int) -> nn.Module:
    """Una copia del modelo base con cabeza nueva (según la semilla) y ``depth`` congelados."""
    model = copy.deepcopy(base)
    seed_everything(seed)
    replace_head(model, num_classes)
    return freeze_to(model, depth)


def _head_phase(base: nn.Module, sets: list, seed: int, recipe: Recipe, head_epochs: int,
                head_lr: float, device: torch.device | str | None,
                cache: FeatureCache) -> tuple[nn.Module, History]:
    """Primera fase común a todas las razones: la cabeza nueva sobre el tronco congelado."""
    model = _fresh(base, _head_depth(base), seed, sets[0].num_classes)
    if head_epochs == 0:
        return model, History()
    h = _fit(model, sets[0], sets[1], head_epochs, seed, recipe, lr=head_lr, device=device,
             phase="cabeza", cache=cache)
    return model, h


def lr_ratio_sweep(model_name: str, data: DataSplits, ratios: Sequence[float], *,
                   depth: int = 0, seeds: Sequence[int] = (0,), n_train: int | None = None,
                   head_epochs: int = 3, epochs: int = 5, head_lr: float = 1e-3,
                   lr: float = 1e-4, tiers: int = 3, batch_size: int = 32,
                   pretrained: bool = True, device: torch.device | str | None = None,
                   progress: Progress = True) -> list[dict]:
    """Exactitud del ajuste fino según la razón entre tasas de niveles vecinos.

    Para cada semilla se entrena una vez la cabeza (fase común) y, desde ese mismo punto, cada
    razón hace su ajuste fino con ``depth`` grupos congelados: así las diferencias vienen solo de
    la razón. La salida de los grupos congelados se calcula una vez.

    Args:
        model_name: modelo del catálogo.
        data: particiones.
        ratios: razones (1 = la misma tasa en todos los grupos).
        depth: grupos que siguen congelados en el ajuste fino.
        seeds: semillas.
        n_train: imágenes de entrenamiento (``None`` = todas).
        head_epochs: épocas de la fase de cabeza (0 = sin ella).
        epochs: épocas de ajuste fino.
        head_lr: tasa de la fase de cabeza.
        lr: tasa de la cabeza en el ajuste fino.
        tiers: niveles de tasas.
        batch_size: tamaño del lote.
        pretrained: pesos de ImageNet (``False`` solo para pruebas).
        device: dispositivo.
        progress: como en :func:`data_size_sweep`.

    Returns:
        Una fila por razón y semilla: ``ratio``, ``lr_first`` (tasa del primer grupo que
        entrena, la misma que le da ``fit``: :func:`labkit.optim.group_lrs` sobre todos los
        grupos del modelo), ``seed``, ``depth``, ``n_train``, ``test_acc``, ``val_acc``, ``seconds`` (las
        dos fases) y ``epochs``.
    """
    base, train = _prepare(model_name, data, n_train, pretrained, device)
    depth = _check_depths(base, [depth])[0]
    if depth == _head_depth(base):
        raise LabkitError("Con todo congelado salvo la cabeza no hay razón entre tasas que "
                          "probar: usa una profundidad menor.")
    _check_ratios(ratios)
    seeds, recipe, cache = _check_seeds(seeds), Recipe(batch_size=batch_size), FeatureCache()
    sets, _ = _sets_at(base, train, data, depth)
    plan = [(s, r) for s in seeds for r in ratios]
    rows, heads = [], {}
    for seed, ratio in _runs(plan, progress, "barrido de razón entre tasas"):
        if seed not in heads:
            heads[seed] = _head_phase(base, sets, seed, recipe, head_epochs, head_lr, device,
                                      cache)
        rows.append(_ratio_row(heads[seed], sets, depth, seed, ratio, lr, epochs, tiers,
                               recipe, device, cache, model_name))
        if callable(progress):
            progress(len(rows), len(plan), rows[-1])
    return rows


def _check_ratios(ratios: Sequence[float]) -> None:
    ratios = list(ratios)
    if not ratios or any(not isinstance(r, (int, float)) or isinstance(r, bool) or r < 1
                         for r in ratios):
        raise LabkitError(f"ratios={ratios!r}: da razones de 1 o más, p. ej. (1, 3, 10, 30).")


def _ratio_row(head: tuple[nn.Module, History], sets: list, depth: int, seed: int, ratio: float,
               lr: float, epochs: int, tiers: int, recipe: Recipe,
               device: torch.device | str | None, cache: FeatureCache, name: str) -> dict:
    """El ajuste fino con una razón, desde una copia del modelo con la cabeza ya entrenada."""
    model = freeze_to(copy.deepcopy(head[0]), depth)
    h = _fit(model, sets[0], sets[1], epochs, seed, recipe, lr=lr, ratio=float(ratio),
             tiers=tiers, device=device, phase="ajuste fino", cache=cache)
    out = _result(model, sets[2], h)
    first = group_lrs(len(layer_groups(model)), lr, float(ratio), tiers)[depth]
    return {"ratio": float(ratio), "lr_first": first, "seed": seed, "depth": depth,
            "n_train": len(sets[0]), "test_acc": out["test_acc"], "val_acc": out["val_acc"],
            "seconds": head[1].seconds + out["train_seconds"],
            "epochs": head[1].epochs + out["epochs"], "model": name}


# ---------------------------------------------------------------- resúmenes


def _sort_key(values: list) -> Callable[[object], tuple]:
    """Orden de los grupos: los números de menor a mayor; el resto, por orden de aparición."""
    first = {v: i for i, v in reversed(list(enumerate(values)))}
    return lambda v: (0, v, 0) if isinstance(v, (int, float)) else (1, 0, first[v])


def summarize(rows: Sequence[dict], by: Sequence[str] = ("method", "n_train"),
              value: str = "test_acc") -> list[dict]:
    """Media, desviación, mínimo, máximo y número de ejecuciones de ``value`` por grupo.

    Args:
        rows: filas de un barrido.
        by: columnas que definen cada grupo.
        value: columna que se resume.

    Returns:
        Una fila por grupo con las columnas de ``by`` y ``mean``, ``std`` (desviación típica
        de las ejecuciones, dividiendo entre n como la banda de
        :func:`labkit.plots.plot_accuracy_vs_samples`), ``min``, ``max`` y ``count``. Los
        grupos van ordenados por las columnas de ``by`` (números de menor a mayor, textos en el
        orden en que aparecen).
    """
    by = list(by)
    groups: dict[tuple, list[float]] = {}
    for i, row in enumerate(rows):
        missing = [k for k in (*by, value) if k not in row]
        if missing:
            raise LabkitError(f"La fila {i} no tiene las columnas {missing}: tiene "
                              f"{', '.join(sorted(row))}.")
        groups.setdefault(tuple(row[k] for k in by), []).append(float(row[value]))
    keys = [_sort_key([k[j] for k in groups]) for j in range(len(by))]
    order = sorted(groups, key=lambda k: tuple(f(v) for f, v in zip(keys, k)))
    return [{**dict(zip(by, k)), **_stats(groups[k])} for k in order]


def _stats(values: list[float]) -> dict:
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / n
    return {"mean": mean, "std": math.sqrt(var), "min": min(values), "max": max(values),
            "count": n}


def crossover(rows: Sequence[dict], a: str = "desde_cero", b: str = "extraccion",
              margin: float = 0.02, value: str = "test_acc") -> int | None:
    """El menor número de imágenes en que la media del método ``a`` alcanza a la de ``b``.

    «Alcanzar» es quedar a menos de ``margin`` por debajo, o por encima. Solo cuentan los
    tamaños en que se midieron los dos métodos.

    Args:
        rows: filas de :func:`data_size_sweep`.
        a: el método que persigue (por defecto, desde cero).
        b: el método de referencia (por defecto, extracción de características).
        margin: diferencia que se tolera (0.02 = 2 puntos de exactitud).
        value: columna que se compara.

    Returns:
        El número de imágenes, o ``None`` si ``a`` no alcanza a ``b`` en ningún tamaño medido.
    """
    means = {(s["method"], s["n_train"]): s["mean"] for s in summarize(rows, value=value)}
    sizes = sorted({n for (m, n) in means if m == a} & {n for (m, n) in means if m == b})
    return next((n for n in sizes if means[(a, n)] >= means[(b, n)] - margin), None)


def labeled(rows: Sequence[dict]) -> list[dict]:
    """Las mismas filas con el nombre del método en español (para leyendas y tablas).

    Args:
        rows: filas con la columna ``method``.

    Returns:
        Copias de las filas con ``method`` = :data:`METHOD_LABELS` (los desconocidos, igual).
    """
    return [{**r, "method": METHOD_LABELS.get(r["method"], r["method"])} for r in rows]


def format_table(rows: Sequence[dict], value: str = "test_acc", percent: bool = True) -> str:
    """La tabla de un barrido de tamaño: una línea por tamaño, una columna por método.

    Las columnas siguen el orden de :data:`METHODS`. Cada celda es ``media ± desviación`` (en
    %, si ``percent``) sobre las semillas; ``—`` donde el método no se midió. La última línea
    dice cuántas ejecuciones hay por celda.

    Args:
        rows: filas de :func:`data_size_sweep`.
        value: columna que se resume.
        percent: mostrar en porcentaje (para exactitudes).

    Returns:
        La tabla como texto (para ``print``).
    """
    stats = summarize(rows, value=value)
    seen = list(dict.fromkeys(s["method"] for s in stats))
    methods = [m for m in METHODS if m in seen] + [m for m in seen if m not in METHODS]
    sizes = sorted({s["n_train"] for s in stats})
    cells = {(s["method"], s["n_train"]): s for s in stats}
    scale = 100.0 if percent else 1.0
    names = [METHOD_LABELS.get(m, m) for m in methods]
    widths = [max(len(n), 13) for n in names]
    lines = ["imágenes  " + "  ".join(n.rjust(w) for n, w in zip(names, widths))]
    for n in sizes:
        row = [_cell(cells.get((m, n)), scale).rjust(w) for m, w in zip(methods, widths)]
        lines.append(f"{n:>8}  " + "  ".join(row))
    counts = sorted({s["count"] for s in stats})
    runs = (f"{counts[0]} a {counts[-1]} ejecuciones" if len(counts) > 1 else
            "1 ejecución" if counts[0] == 1 else f"{counts[0]} ejecuciones")
    unit = " (%)" if percent else ""
    lines.append(f"({_field_label(value)}{unit}: media ± desviación de {runs} por celda)")
    return "\n".join(lines)


def _cell(stat: dict | None, scale: float) -> str:
    if stat is None:
        return "—"
    return f"{stat['mean'] * scale:.1f} ± {stat['std'] * scale:.1f}"


def _field_label(key: str) -> str:
    """El nombre en español de una columna (el mismo que usan las figuras)."""
    from .plots import axis_label

    return axis_label(key)

