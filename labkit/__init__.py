"""labkit: el paquete del Laboratorio de Transfer Learning.

Lo esencial en un vistazo::

    import labkit
    datos = labkit.surface_dataset(n_train=100)            # conjunto integrado, sin red
    modelo = labkit.create_model("efficientnet_lite0", num_classes=4)
    labkit.freeze_to(modelo, len(labkit.layer_groups(modelo)) - 1)   # solo la cabeza
    labkit.summary(modelo)                                  # el panel de capas
"""

from .config import data_dir, default_device, seed_everything
from .data import DataSplits, ImageSet, normalize
from .errors import LabkitError, WeightsUnavailableError
from .freezing import freeze_to, frozen_depth, train_mode, unfreeze
from .groups import LayerGroup, layer_groups, split_at
from .models import (
    MODELS,
    available_models,
    create_model,
    download_weights,
    imagenet_categories,
    model_info,
    replace_head,
)
from .summary import summary

__version__ = "0.1.0"

__all__ = [
    "data_dir", "default_device", "seed_everything", "DataSplits", "ImageSet", "normalize",
    "LabkitError", "WeightsUnavailableError", "freeze_to", "frozen_depth", "train_mode",
    "unfreeze", "LayerGroup", "layer_groups", "split_at", "MODELS", "available_models",
    "create_model", "download_weights", "imagenet_categories", "model_info", "replace_head",
    "summary",
]
