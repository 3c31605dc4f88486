"""Una ejecución de cada método de los barridos: extracción, ajuste fino y desde cero.

La receta (:class:`Recipe`), las características calculadas una vez (:class:`TransferFeatures`,
de :mod:`labkit.experiments`) y las funciones que entrenan una vez y devuelven una fila
(:func:`run_extraction`, :func:`run_fine_tune`, :func:`run_scratch`). Los barridos que las repiten
por tamaño y semilla están en :mod:`labkit.experiments` (que también exporta todo lo de aquí).
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..base._config import seed_everything
from ..base._errors import LabkitError
from ..data._data import DataSplits, ImageSet
from ..models._freezing import default_fine_tune_depth, freeze_to
from ..models._models import create_model, replace_head
from ..training._best import BestTracker
from ..training._callbacks import Callback, History
from ..training._evaluation import evaluate
from ..training._features import FeatureSet
from ..training._recipe import FINE_TUNE_DEFAULTS, Phase, phase_settings, run_phases
from ..training._settings import FitSettings
from ..training._training import run_fit
from ._results import METHODS
from ._transferfeatures import TransferFeatures, _head_depth

__all__ = ["Recipe", "scratch_epochs", "run_extraction", "run_fine_tune", "run_scratch", "Progress"]


Progress = bool | Callable[[int, int, dict], None]


# Lo que el barrido hace distinto de la receta del curso (FINE_TUNE_DEFAULTS), y por qué. Lo
# imprime Recipe.describe() (y print(receta)); lo que no está aquí es igual a la receta.
_HEAD_EPOCHS_REASON = (
    "la receta entrena la cabeza {recipe} épocas, pero el barrido empieza en 10 imágenes: con "
    "lotes de {batch} son un solo paso de optimización por época, y {recipe} pasos no bastan "
    "para que una cabeza nueva aprenda. Con {used} épocas hasta la muestra más pequeña da "
    "{used} pasos; con más imágenes, la mejor época en validación evita el sobreajuste")


@dataclass(frozen=True)
class Recipe:
    """Los hiperparámetros de los tres métodos de los barridos (ver la descripción del módulo).

    La extracción y el ajuste fino siguen la receta del curso,
    :data:`labkit.training.FINE_TUNE_DEFAULTS` (la de :func:`labkit.fine_tune`, con la misma
    implementación, :func:`labkit.training.run_phases`): tasa de la cabeza ``head_lr``, ajuste
    fino de ``fine_tune_epochs`` épocas con ``fine_tune_lr`` (máxima de ``fine_tune_schedule``)
    y razón ``fine_tune_ratio``, la primera mitad de los grupos congelada y una sola mejor
    época para las dos fases. Los valores por defecto salen de ese diccionario; no se copian.

    **Desviaciones, a propósito:** ``head_epochs`` es 30, no 3. Los barridos empiezan en
    10 imágenes, que con lotes de 32 son **un solo paso** de optimización por época: 3 épocas
    serían 3 pasos y la cabeza apenas se movería. Con 30 épocas la muestra más pequeña recibe
    30 pasos; con más imágenes, quedarse con la mejor época de validación evita el sobreajuste.
    Y el ajuste fino va siempre **sin aumento** (si la receta lo usara, sería otra
    desviación): el barrido reutiliza la salida de los grupos congelados, calculada una vez
    para todos los tamaños y semillas, y el aumento la cambiaría en cada época. :meth:`describe` lo
    cuenta en español (y ``print(receta)`` lo imprime).

    La CNN desde cero no forma parte de la receta del curso: tiene sus propios valores
    (``scratch_*``, con aumento de datos).

    Attributes:
        head_epochs: épocas de la cabeza lineal (extracción y primera fase del ajuste fino).
        head_lr: tasa de aprendizaje de la cabeza.
        fine_tune_epochs: épocas de la segunda fase del ajuste fino.
        fine_tune_lr: tasa de la cabeza en el ajuste fino (los grupos anteriores, menos).
        fine_tune_ratio: razón entre tasas de niveles vecinos en el ajuste fino.
        fine_tune_schedule: calendario de la tasa en el ajuste fino.
        scratch_steps: pasos de optimización (lotes) de la CNN desde cero.
        scratch_min_epochs: épocas mínimas desde cero.
        scratch_max_epochs: épocas máximas desde cero.
        scratch_lr: tasa de aprendizaje desde cero.
        scratch_augment: aumento de datos (volteo y recorte) desde cero.
        batch_size: tamaño del lote de todos los métodos.
    """

    head_epochs: int = 30
    head_lr: float = FINE_TUNE_DEFAULTS["head_lr"]
    fine_tune_epochs: int = FINE_TUNE_DEFAULTS["epochs"]
    fine_tune_lr: float = FINE_TUNE_DEFAULTS["lr"]
    fine_tune_ratio: float = FINE_TUNE_DEFAULTS["ratio"]
    fine_tune_schedule: str | None = FINE_TUNE_DEFAULTS["schedule"]
    scratch_steps: int = 250
    scratch_min_epochs: int = 3
    scratch_max_epochs: int = 20
    scratch_lr: float = 3e-3
    scratch_augment: bool = True
    batch_size: int = 32

    def deviations(self) -> list[str]:
        """Las diferencias con la receta del curso (:data:`FINE_TUNE_DEFAULTS`), en español.

        Returns:
            Una frase por valor que no coincide con la receta (vacía si todos coinciden).
        """
        d = FINE_TUNE_DEFAULTS
        out = []
        if self.head_epochs != d["head_epochs"]:
            out.append(f"épocas de cabeza {self.head_epochs} en vez de {d['head_epochs']}: "
                       + _HEAD_EPOCHS_REASON.format(recipe=d["head_epochs"], used=self.head_epochs,
                                                    batch=self.batch_size))
        for name, key, what in (("head_lr", "head_lr", "tasa de la cabeza"),
                                ("fine_tune_epochs", "epochs", "épocas de ajuste fino"),
                                ("fine_tune_lr", "lr", "tasa del ajuste fino"),
                                ("fine_tune_ratio", "ratio", "razón entre tasas"),
                                ("fine_tune_schedule", "schedule", "calendario del ajuste fino")):
            if getattr(self, name) != d[key]:
                out.append(f"{what} {_g(getattr(self, name))} en vez de {_g(d[key])} (elegido "
                           "al crear esta receta)")
        if d["augment"]:
            out.append(f"ajuste fino sin aumento (la receta usa «{_g(d['augment'])}»): el barrido "
                       "reutiliza la salida de los grupos congelados, calculada una vez para "
                       "todos los tamaños y semillas, y el aumento la cambiaría en cada época")
        return out

    def describe(self) -> str:
        """La receta en español: qué hace cada método y en qué se aparta de la del curso.

        Returns:
            Unas líneas de texto para imprimir en un cuaderno.
        """
        lines = [
            f"Extracción: cabeza lineal, {self.head_epochs} épocas con tasa {self.head_lr:g} "
            f"(lotes de {self.batch_size}).",
            f"Ajuste fino: esa cabeza y después {self.fine_tune_epochs} épocas con tasa "
            f"{self.fine_tune_lr:g} en la cabeza (calendario {_g(self.fine_tune_schedule)}) y "
            f"razón {self.fine_tune_ratio:g} entre niveles, por defecto la primera mitad de los "
            "grupos congelada, sin aumento; una sola mejor época para las dos fases.",
            f"Desde cero: CNN pequeña, unos {self.scratch_steps} pasos "
            f"({self.scratch_min_epochs}–{self.scratch_max_epochs} épocas), tasa "
            f"{self.scratch_lr:g}, {'con' if self.scratch_augment else 'sin'} aumento de datos.",
        ]
        devs = self.deviations()
        if devs:
            lines.append("Diferencias con la receta del curso (labkit.fine_tune):")
            lines += [f"  - {d}." for d in devs]
        else:
            lines.append("Extracción y ajuste fino: igual que la receta del curso "
                         "(labkit.fine_tune).")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


def _g(value: object) -> str:
    """Un valor de la receta como texto (números con ``:g``)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------- comprobaciones


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
    s = FitSettings.build(epochs=epochs, batch_size=recipe.batch_size, seed=seed, **kwargs)
    return run_fit(model, train, val, s, best, history)


def _result(model: nn.Module, test: ImageSet | FeatureSet, history: History) -> dict:
    scores = evaluate(model, test, per_image=True)
    return {"test_acc": scores["accuracy"], "val_acc": max(history.val_acc),
            "train_seconds": history.seconds, "epochs": history.epochs,
            "test_correct": scores["correct"]}


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
        ``{"test_acc", "val_acc", "train_seconds", "epochs", "test_correct"}`` (el acierto de
        cada imagen de prueba, para :func:`labkit.experiments.compare`).
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
            :func:`labkit.models.default_fine_tune_depth`.
        recipe: la receta.
        device: dispositivo.
        **kwargs: otras opciones de ``labkit.fit``.

    Returns:
        ``{"test_acc", "val_acc", "train_seconds", "epochs", "test_correct", "best_phase"}``
        (épocas de las dos fases; ``test_correct``, el acierto de cada imagen de prueba;
        ``best_phase``, la fase de la mejor época: «cabeza» si el ajuste fino no mejoró).
    """
    r = recipe or Recipe()
    depth = _fine_tune_depth(features.model, depth)
    feats, heads = features.at_depth(depth), features.at_depth(_head_depth(features.model))
    model = copy.deepcopy(feats.model)
    seed_everything(seed)
    replace_head(model, feats.train.num_classes)
    head, tune = _phase_settings(r, seed, device, **kwargs)
    phases = [Phase(heads.train.take(n, seed), heads.val, head, heads.depth),
              Phase(feats.train.take(n, seed), feats.val, tune, depth)]
    h = run_phases(model, phases, BestTracker(classes=list(feats.train.classes)))
    return {**_result(model, feats.test, h), "best_phase": h.best_phase}


def _phase_settings(r: Recipe, seed: int, device: torch.device | str | None,
                    **kwargs: object) -> tuple[FitSettings, FitSettings]:
    """Las dos fases de la receta con los valores de ``r`` (sin aumento: características)."""
    kwargs.setdefault("progress", False)
    base = FitSettings.build(batch_size=r.batch_size, seed=seed, device=device, **kwargs)
    return phase_settings(base, head_epochs=r.head_epochs, epochs=r.fine_tune_epochs,
                          head_lr=r.head_lr, lr=r.fine_tune_lr, ratio=r.fine_tune_ratio,
                          schedule=r.fine_tune_schedule, augment=False)


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
        ``{"test_acc", "val_acc", "train_seconds", "epochs", "test_correct"}`` (el acierto de
        cada imagen de prueba, para :func:`labkit.experiments.compare`).
    """
    r = recipe or Recipe()
    seed_everything(seed)
    model = create_model("cnn_pequena", num_classes=data.train.num_classes, pretrained=False)
    h = _fit(model, data.train.take(n, seed), data.val, scratch_epochs(n, r), seed, r,
             lr=r.scratch_lr, augment=r.scratch_augment, device=device, callbacks=callbacks)
    return _result(model, data.test, h)


