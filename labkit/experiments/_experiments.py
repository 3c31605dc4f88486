"""Experimentos: barridos que devuelven filas ordenadas (un diccionario por ejecución).

Las filas se resumen con :func:`summarize`, se imprimen con :func:`format_table` y se dibujan con
:func:`labkit.plots.plot_accuracy_vs_samples` o :func:`labkit.plots.plot_sweep`.

* :func:`data_size_sweep` — exactitud según el número de imágenes de entrenamiento, para tres
  métodos: ``"extraccion"``, ``"ajuste_fino"`` y ``"desde_cero"``.
* :func:`freeze_depth_sweep` — exactitud y tiempo según cuántos grupos se congelan.
* :func:`lr_ratio_sweep` — exactitud según la razón entre tasas del ajuste fino.
* :func:`crossover` — el menor tamaño en que un método deja de perder frente a otro, por el
  intervalo de :mod:`labkit.experiments` (calculado, no supuesto).

Recetas del barrido de tamaño de datos (:class:`Recipe`; las mismas para todos los tamaños). La
extracción y el ajuste fino usan los valores de la receta del curso
(:data:`labkit.training.FINE_TUNE_DEFAULTS`) salvo las épocas de cabeza (30, no 3);
``print(Recipe())`` lo explica:

* **extraccion**: el tronco preentrenado congelado y una cabeza lineal nueva, ``head_epochs``
  épocas con ``head_lr``. Las características se calculan **una vez** para todo train/val/test
  y cada ejecución toma su subconjunto (``FeatureSet.take``): una fracción de segundo.
* **ajuste_fino**: la misma cabeza (fase «cabeza») y después se descongelan los últimos grupos
  (por defecto, la profundidad de :func:`labkit.models.default_fine_tune_depth`, la misma de
  ``labkit.fine_tune`` y del playground) con tasas discriminativas, ``fine_tune_epochs``
  épocas con ``fine_tune_lr`` y razón ``fine_tune_ratio``. Como los primeros grupos siguen
  congelados, su salida también se calcula una sola vez.
* **desde_cero**: la CNN pequeña (``cnn_pequena``, pesos al azar) con aumento de datos. Recibe un
  presupuesto fijo de unos ``scratch_steps`` pasos de optimización: ``épocas = pasos / lotes por
  época``, acotado entre ``scratch_min_epochs`` y ``scratch_max_epochs`` (:func:`scratch_epochs`).
  Así un conjunto mayor da más variedad pero no más cálculo, salvo cuando manda el mínimo.

En las tres, los pesos finales son los de la época con menor pérdida de validación (en el ajuste
fino, la mejor de las dos fases; la prueba no interviene en ninguna decisión). Con la misma semilla,
en CPU, los números se repiten.

Ejemplo::

    datos = labkit.surface_dataset(n_train=1000, image_size=64)
    filas = labkit.experiments.data_size_sweep(datos, sizes=(20, 100, 1000), seeds=(0, 1))
    print(labkit.experiments.format_table(filas))
    labkit.experiments.crossover(filas)          # p. ej. 1000, o None si no lo alcanza
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Sequence

import torch
from torch import nn

from ..base._config import seed_everything
from ..base._errors import LabkitError
from ..data._data import DataSplits, ImageSet, check_splits
from ..models._freezing import freeze_to
from ..models._groups import layer_groups
from ..models._models import MODELS, create_model, replace_head
from ..training._best import BestTracker
from ..training._callbacks import History
from ..training._features import FeatureCache, FeatureSet
from ..training._loop import Metrics
from ..training._optim import check_ratio, group_lrs
from ..training._recipe import FINE_TUNE_DEFAULTS, Phase, phase_settings, run_phases
from ..training._settings import FitSettings
from ._results import METHODS
from ._runs import (
    Progress,
    Recipe,
    _check_methods,
    _check_seeds,
    _fine_tune_depth,
    _fit,
    _head_depth,
    _result,
    _usable_sizes,
    run_extraction,
    run_fine_tune,
    run_scratch,
)
from ._transferfeatures import TransferFeatures, transfer_features

__all__ = ["data_size_sweep", "freeze_depth_sweep", "lr_ratio_sweep"]


# ---------------------------------------------------------------- barrido de tamaño de datos


def _runs(items: list, progress: Progress, desc: str) -> Iterable:
    """Recorre las ejecuciones con una barra de tqdm (``True``) o sin ella (``False``)."""
    if progress is True:
        from ..base._progress import progress_bar

        return progress_bar(items, desc=desc, leave=False, unit="ejecución")
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
            :func:`labkit.models.default_fine_tune_depth`.
        features: características ya calculadas (:func:`transfer_features`) para no repetirlas.
        device: dispositivo; ``None`` = :func:`labkit.default_device`.
        progress: ``True`` = barra de progreso; ``False`` = nada; o una función
            ``(hechas, total, fila)`` a la que se llama tras cada ejecución.

    Returns:
        Una fila por método × tamaño × semilla: ``method``, ``n_train``, ``seed``, ``test_acc``,
        ``val_acc``, ``train_seconds`` (solo entrenar; las características se calculan una vez),
        ``epochs``, ``model``, ``test_correct`` (el acierto de cada imagen de prueba: con él
        :func:`labkit.experiments.compare` empareja los brazos sobre la misma prueba) y
        ``best_phase`` (en el ajuste fino, la fase de su mejor época: «cabeza» si la segunda
        fase no la mejoró; ``None`` en los demás métodos).
    """
    check_splits(data, "Cada barrido", "labkit.surface_dataset()")
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
        rows.append({"method": method, "n_train": n, "seed": seed, "best_phase": None, **out,
                     "model": name})
        if callable(progress):
            progress(len(rows), len(plan), rows[-1])
    return rows


# ---------------------------------------------------------------- profundidad y razón de tasas


def _prepare(model_name: str, data: DataSplits, n_train: int | None, pretrained: bool,
             device: torch.device | str | None) -> tuple[nn.Module, ImageSet]:
    """El modelo del catálogo con cabeza para las clases y el entrenamiento (quizá recortado)."""
    check_splits(data, "Cada barrido", "labkit.surface_dataset()")
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
        ``seconds`` (calcular la caché de esa profundidad más entrenar), ``epochs`` y
        ``test_correct`` (acierto por imagen de prueba).
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
                     "epochs": out["epochs"], "model": model_name,
                     "test_correct": out["test_correct"]})
        if callable(progress):
            progress(len(rows), len(plan), rows[-1])
    return rows


def _fresh(base: nn.Module, depth: int, seed: int, num_classes: int) -> nn.Module:
    """Una copia del modelo base con cabeza nueva (según la semilla) y ``depth`` congelados."""
    model = copy.deepcopy(base)
    seed_everything(seed)
    replace_head(model, num_classes)
    return freeze_to(model, depth)


def _head_phase(base: nn.Module, sets: list, head: FitSettings | None
                ) -> tuple[nn.Module, History, BestTracker]:
    """Primera fase común a todas las razones: la cabeza nueva sobre el tronco congelado.

    Devuelve también el seguimiento de la mejor época, que cada razón continúa (una sola mejor
    época para las dos fases, como en :func:`labkit.fine_tune`).
    """
    seed = head.seed if head is not None else 0
    model = _fresh(base, _head_depth(base), seed, sets[0].num_classes)
    best = BestTracker(classes=list(sets[0].classes))
    if head is None:
        return model, History(), best
    h = run_phases(model, [Phase(sets[0], sets[1], head, _head_depth(base))], best)
    return model, h, best


def lr_ratio_sweep(model_name: str, data: DataSplits, ratios: Sequence[float], *,
                   depth: int = 0, seeds: Sequence[int] = (0,), n_train: int | None = None,
                   head_epochs: int | None = None, epochs: int | None = None,
                   head_lr: float | None = None, lr: float | None = None, tiers: int = 3,
                   batch_size: int = 32,
                   pretrained: bool = True, device: torch.device | str | None = None,
                   progress: Progress = True, metrics: Metrics | None = None) -> list[dict]:
    """Exactitud del ajuste fino según la razón entre tasas de niveles vecinos.

    Para cada semilla se entrena una vez la cabeza (fase común) y, desde ese mismo punto, cada
    razón hace su ajuste fino con ``depth`` grupos congelados: así las diferencias vienen solo de
    la razón. La salida de los grupos congelados se calcula una vez. Es la receta de
    :func:`labkit.fine_tune` (la misma implementación, :func:`labkit.training.run_phases`, con una
    sola mejor época para las dos fases y sus valores por defecto,
    :data:`labkit.training.FINE_TUNE_DEFAULTS`), salvo el aumento: va sin él para reutilizar la
    salida de los grupos congelados.

    Args:
        model_name: modelo del catálogo.
        data: particiones.
        ratios: razones (1 = la misma tasa en todos los grupos).
        depth: grupos que siguen congelados en el ajuste fino.
        seeds: semillas.
        n_train: imágenes de entrenamiento (``None`` = todas).
        head_epochs: épocas de la fase de cabeza (0 = sin ella; ``None`` = la receta).
        epochs: épocas de ajuste fino (``None`` = la receta).
        head_lr: tasa de la fase de cabeza (``None`` = la receta).
        lr: tasa de la cabeza en el ajuste fino (``None`` = la receta; la máxima de su
            calendario).
        tiers: niveles de tasas.
        batch_size: tamaño del lote.
        pretrained: pesos de ImageNet (``False`` solo para pruebas).
        device: dispositivo.
        progress: como en :func:`data_size_sweep`.
        metrics: métricas de validación de ``labkit.fit`` (``None`` = las de siempre).

    Returns:
        Una fila por razón y semilla: ``ratio``, ``lr_first`` (tasa del primer grupo que
        entrena, la misma que le da ``fit``: :func:`labkit.training.group_lrs` sobre todos los
        grupos del modelo), ``seed``, ``depth``, ``n_train``, ``test_acc``, ``val_acc``,
        ``seconds`` (las dos fases), ``epochs``, ``test_correct`` (acierto por imagen de prueba)
        y ``best_phase`` (fase de la mejor época: «cabeza» si el ajuste fino no la mejoró).
    """
    base, train = _prepare(model_name, data, n_train, pretrained, device)
    depth = _check_depths(base, [depth])[0]
    if depth == _head_depth(base):
        raise LabkitError("Con todo congelado salvo la cabeza no hay razón entre tasas que "
                          "probar: usa una profundidad menor.")
    _check_ratios(ratios)
    seeds, cache = _check_seeds(seeds), FeatureCache()
    given = {"head_epochs": head_epochs, "epochs": epochs, "head_lr": head_lr, "lr": lr}
    recipe = {**{k: v for k, v in given.items() if v is not None}, "augment": False}
    head_epochs = FINE_TUNE_DEFAULTS["head_epochs"] if head_epochs is None else head_epochs
    sets, _ = _sets_at(base, train, data, depth)
    plan = [(s, r) for s in seeds for r in ratios]
    rows, heads = [], {}
    for seed, ratio in _runs(plan, progress, "barrido de razón entre tasas"):
        head, tune = phase_settings(FitSettings.build(batch_size=batch_size, tiers=tiers,
                                                      seed=seed, device=device, progress=False,
                                                      cache=cache, metrics=metrics),
                                    ratio=float(ratio), **recipe)
        if seed not in heads:
            heads[seed] = _head_phase(base, sets, head if head_epochs else None)
        rows.append(_ratio_row(heads[seed], sets, depth, tune, model_name))
        if callable(progress):
            progress(len(rows), len(plan), rows[-1])
    return rows


def _check_ratios(ratios: Sequence[float]) -> None:
    """Al menos una razón, y cada una con la comprobación única de
    :func:`labkit.training.check_ratio`."""
    ratios = list(ratios)
    if not ratios:
        raise LabkitError("ratios=(): da al menos una razón entre tasas, p. ej. (1, 3, 10, 30).")
    for i, r in enumerate(ratios):
        check_ratio(r, f"ratios[{i}]")


def _ratio_row(head: tuple[nn.Module, History, BestTracker], sets: list, depth: int,
               tune: FitSettings, name: str) -> dict:
    """El ajuste fino con una razón, desde copias del modelo, el historial y la mejor época de
    la fase de cabeza (la mejor época es la de las dos fases)."""
    model, history, best = (copy.deepcopy(x) for x in head)
    h = run_phases(model, [Phase(sets[0], sets[1], tune, depth)], best, history)
    out = _result(model, sets[2], h)
    first = group_lrs(len(layer_groups(model)), tune.lr, tune.ratio, tune.tiers)[depth]
    return {"ratio": tune.ratio, "lr_first": first, "seed": tune.seed, "depth": depth,
            "n_train": len(sets[0]), "test_acc": out["test_acc"], "val_acc": out["val_acc"],
            "seconds": out["train_seconds"], "epochs": out["epochs"], "model": name,
            "test_correct": out["test_correct"], "best_phase": h.best_phase}
