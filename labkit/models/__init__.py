"""Los modelos: el catálogo de arquitecturas, pesos, grupos de capas, congelar, el panel de capas,
puntos de control y exportar/predecir una imagen.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._checkpoints import load_checkpoint, read_checkpoint, save_checkpoint, write_checkpoint
from ._families import FAMILIES, SmallCNN, imagenet_categories
from ._freezing import (
    default_fine_tune_depth,
    eval_mode,
    freeze,
    freeze_to,
    frozen_depth,
    head_depth,
    train_mode,
    unfreeze,
)
from ._groups import LayerGroup, layer_groups, split_at
from ._inference import export, load_model, predict_image, prepare_image
from ._models import (
    MODELS,
    ModelInfo,
    available_models,
    create_model,
    download_weights,
    model_info,
    model_table,
    replace_head,
    weights_file,
)
from ._summary import ModelSummary, format_count, summary

__all__ = [
    "save_checkpoint", "load_checkpoint", "read_checkpoint", "write_checkpoint", "SmallCNN",
    "FAMILIES", "imagenet_categories", "freeze_to", "freeze", "unfreeze", "frozen_depth",
    "head_depth", "default_fine_tune_depth", "train_mode", "eval_mode", "LayerGroup",
    "layer_groups", "split_at", "export", "load_model", "predict_image", "prepare_image", "MODELS",
    "ModelInfo", "create_model", "replace_head", "model_info", "available_models", "weights_file",
    "download_weights", "model_table", "ModelSummary", "summary", "format_count",
]
