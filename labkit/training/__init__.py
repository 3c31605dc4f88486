"""El entrenamiento: el bucle (``_loop``), ``fit``, sus ajustes, la receta en dos fases
(``fine_tune``), optimizador y calendarios, características en caché, ``lr_find`` y la
evaluación.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._best import MONITORS, BestTracker, improves, score
from ._callbacks import Callback, History, TqdmCallback, TrainState
from ._evaluation import (
    class_metrics,
    confusion_matrix,
    evaluate,
    majority_baseline,
    per_image_correct,
    predict,
)
from ._extraction import extract_features, extraction_batch_size, prefix_fingerprint
from ._features import FeatureCache, FeatureSet
from ._loop import EXPLOSION_FACTOR, Metrics
from ._lr_finder import LRFindResult, lr_find
from ._optim import check_ratio, group_lrs, param_groups
from ._recipe import FINE_TUNE_DEFAULTS, Phase, fine_tune, phase_settings, run_phases
from ._schedules import SCHEDULES, lr_factor
from ._settings import DataOptions, FitSettings, Optimization, Output, Stopping
from ._trainargs import OPTIMIZERS, ClassOrderWarning
from ._training import AugmentCacheWarning, fit, run_fit

__all__ = [
    "MONITORS", "score", "improves", "BestTracker", "History", "TrainState", "Callback",
    "TqdmCallback", "evaluate", "predict", "per_image_correct", "confusion_matrix", "class_metrics",
    "majority_baseline", "extraction_batch_size", "extract_features", "prefix_fingerprint",
    "FeatureSet", "FeatureCache", "EXPLOSION_FACTOR", "Metrics", "lr_find", "LRFindResult",
    "group_lrs", "param_groups", "check_ratio", "fine_tune", "FINE_TUNE_DEFAULTS", "Phase",
    "phase_settings", "run_phases", "SCHEDULES", "lr_factor", "Optimization", "Stopping",
    "DataOptions", "Output", "FitSettings", "OPTIMIZERS", "ClassOrderWarning", "fit", "run_fit",
    "AugmentCacheWarning",
]
