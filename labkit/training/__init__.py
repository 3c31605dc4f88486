"""El entrenamiento: el bucle (``_loop``), ``fit``, sus ajustes, la receta en dos fases
(``fine_tune``), optimizador y calendarios, características en caché, ``lr_find`` y la
evaluación.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._best import MONITORS, BestTracker, improves, score
from ._callbacks import Callback, History, TqdmCallback, TrainState
from ._evaluation import (
    class_metrics,
    class_weight_tensor,
    confusion_matrix,
    evaluate,
    majority_baseline,
    per_image_correct,
    predict,
)
from ._extraction import extract_features, extraction_batch_size, feature_bytes, prefix_fingerprint
from ._features import MAX_AUTO_CACHE_BYTES, FeatureCache, FeatureSet
from ._featurestore import STORE_VERSION, feature_path, load_features, save_features
from ._loop import (
    EXPLOSION_FACTOR,
    Loop,
    Metrics,
    Run,
    all_logits,
    batch_slices,
    loss_and_accuracy,
    supervise,
    too_small_advice,
)
from ._lr_finder import LRFindResult, RangeTest, lr_find, valley
from ._optim import check_lr, check_ratio, check_tiers, group_lrs, param_groups
from ._recipe import (
    FINE_TUNE_DEFAULTS,
    Phase,
    fine_tune,
    head_best_note,
    phase_settings,
    run_phases,
)
from ._schedules import DEFAULT_WARMUP, SCHEDULES, check_schedule, lr_factor, make_scheduler
from ._settings import GROUPS, DataOptions, FitSettings, Optimization, Output, Stopping
from ._trainargs import (
    OPTIMIZERS,
    ClassOrderWarning,
    attach_classes,
    check_checkpoint,
    check_classes,
    check_counts,
    check_device,
    check_feature_sets,
    check_fingerprint,
    check_labels,
    check_model,
    check_options,
    check_rates,
    check_sets,
    class_permutation,
)
from ._training import AugmentCacheWarning, fit

__all__ = [
    "MONITORS", "score", "improves", "BestTracker", "History", "TrainState", "Callback",
    "TqdmCallback", "evaluate", "predict", "per_image_correct", "confusion_matrix",
    "class_metrics", "class_weight_tensor", "majority_baseline", "extraction_batch_size",
    "extract_features", "feature_bytes", "prefix_fingerprint", "FeatureSet", "FeatureCache",
    "MAX_AUTO_CACHE_BYTES", "feature_path", "load_features", "save_features", "STORE_VERSION",
    "EXPLOSION_FACTOR", "Metrics", "Loop", "Run", "supervise", "all_logits", "loss_and_accuracy",
    "batch_slices", "too_small_advice", "lr_find", "LRFindResult", "RangeTest", "valley",
    "group_lrs", "param_groups", "check_lr", "check_ratio", "check_tiers", "fine_tune",
    "FINE_TUNE_DEFAULTS", "Phase", "phase_settings", "run_phases", "head_best_note", "SCHEDULES",
    "DEFAULT_WARMUP", "lr_factor", "check_schedule", "make_scheduler", "Optimization", "Stopping",
    "DataOptions", "Output", "FitSettings", "GROUPS", "OPTIMIZERS", "check_rates", "check_counts",
    "check_options", "check_sets", "check_labels", "check_model", "check_feature_sets",
    "check_device", "check_checkpoint", "check_fingerprint", "check_classes", "class_permutation",
    "attach_classes", "ClassOrderWarning", "fit", "AugmentCacheWarning",
]
