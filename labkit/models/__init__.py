"""Los modelos: el catálogo de arquitecturas, pesos, grupos de capas, congelar, el panel de capas,
puntos de control y exportar/predecir una imagen.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._checkpointmeta import (
    MAX_SIDE,
    MEAN_LIMIT,
    STD_RANGE,
    check_head_size,
    check_preprocessing,
    checksum,
    verify_checksum,
)
from ._checkpoints import (
    load_checkpoint,
    load_into,
    read_checkpoint,
    save_checkpoint,
    write_checkpoint,
)
from ._families import (
    FAMILIES,
    FamilySpec,
    Lambda,
    Preprocessing,
    SmallCNN,
    family_of,
    head_layer,
    imagenet_categories,
    set_head,
)
from ._freezing import (
    default_fine_tune_depth,
    freeze,
    freeze_to,
    frozen_depth,
    head_depth,
    keeps_bn_stats,
    train_mode,
    unfreeze,
)
from ._groups import LayerGroup, layer_groups, model_family, split_at
from ._inference import export, load_model, predict_image, prepare_image
from ._lite0 import LITE0_MEAN, LITE0_STD, build_lite0, lite0_weights_path, map_lite0_state_dict
from ._models import (
    MAX_CLASSES,
    MODELS,
    ModelInfo,
    ModelSpec,
    available_models,
    create_model,
    download_weights,
    model_info,
    model_table,
    replace_head,
    weights_file,
)
from ._summary import GroupRow, ModelSummary, format_count, summary
from ._weights import (
    build_torchvision,
    download_limits,
    download_tv_weights,
    load_tv_state_dict,
    missing_weights_message,
    tv_weights,
    tv_weights_file,
)

__all__ = [
    "checksum", "verify_checksum", "check_preprocessing", "check_head_size", "MAX_SIDE",
    "STD_RANGE", "MEAN_LIMIT", "save_checkpoint", "load_checkpoint", "read_checkpoint",
    "load_into", "write_checkpoint", "Lambda", "SmallCNN", "Preprocessing", "FamilySpec",
    "FAMILIES", "family_of", "imagenet_categories", "head_layer", "set_head", "freeze_to",
    "freeze", "unfreeze", "frozen_depth", "head_depth", "default_fine_tune_depth", "train_mode",
    "keeps_bn_stats", "LayerGroup", "layer_groups", "split_at", "model_family", "export",
    "load_model", "predict_image", "prepare_image", "LITE0_MEAN", "LITE0_STD",
    "lite0_weights_path", "build_lite0", "map_lite0_state_dict", "MODELS", "ModelSpec",
    "ModelInfo", "create_model", "replace_head", "model_info", "available_models", "weights_file",
    "download_weights", "model_table", "MAX_CLASSES", "GroupRow", "ModelSummary", "summary",
    "format_count",
    "tv_weights", "tv_weights_file", "build_torchvision", "load_tv_state_dict",
    "download_tv_weights", "download_limits", "missing_weights_message",
]
