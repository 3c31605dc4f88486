"""labkit: el paquete del Laboratorio de Transfer Learning.

Lo esencial en un vistazo::

    import labkit
    datos = labkit.surface_dataset(n_train=100)            # conjunto integrado, sin red
    modelo = labkit.create_model("efficientnet_lite0", num_classes=4)
    labkit.freeze_to(modelo, len(labkit.layer_groups(modelo)) - 1)   # solo la cabeza
    labkit.summary(modelo)                                  # el panel de capas
    historial = labkit.fit(modelo, datos.train, datos.val, epochs=10, lr=1e-3)
    labkit.evaluate(modelo, datos.test)                     # {"loss": ..., "accuracy": ...}

Los submódulos ``labkit.plots``, ``labkit.viz``, ``labkit.widgets``, ``labkit.checks``,
``labkit.experiments`` y ``labkit.catalog`` se importan aparte (``import labkit.plots``).
"""

from .callbacks import Callback, History, TrainState
from .checkpoints import load_checkpoint, read_checkpoint, save_checkpoint
from .compat import warn_untested_versions
from .config import data_dir, default_device, seed_everything
from .data import DataSplits, ImageSet, normalize
from .errors import LabkitError, WeightsUnavailableError
from .features import FeatureCache, FeatureSet, extract_features
from .folders import folder_report, image_folder
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
from .optim import group_lrs, param_groups
from .summary import summary
from .surfaces import SURFACE_CLASSES, surface_dataset
from .training import TqdmCallback, confusion_matrix, evaluate, fine_tune, fit, predict

__version__ = "0.1.0"
warn_untested_versions()  # sin cotas superiores en pyproject.toml: se avisa en vez de imponer

__all__ = [
    "Callback", "History", "TrainState", "load_checkpoint", "read_checkpoint", "save_checkpoint",
    "data_dir", "default_device", "seed_everything", "DataSplits", "ImageSet", "normalize",
    "LabkitError", "WeightsUnavailableError", "FeatureCache", "FeatureSet", "extract_features",
    "folder_report", "image_folder", "freeze_to", "frozen_depth", "train_mode", "unfreeze",
    "LayerGroup", "layer_groups", "split_at", "MODELS", "available_models", "create_model",
    "download_weights", "imagenet_categories", "model_info", "replace_head", "group_lrs",
    "param_groups", "summary", "SURFACE_CLASSES", "surface_dataset", "TqdmCallback",
    "confusion_matrix", "evaluate", "fine_tune", "fit", "predict",
]

_SUBMODULES = {"plots", "viz", "widgets", "checks", "experiments", "explorers", "catalog",
               "exercises", "course", "surfaces", "data", "models", "groups", "training",
               "compat", "grading"}


def __getattr__(name: str):
    """Importa los submódulos al usarlos: ``labkit.plots`` funciona sin ``import labkit.plots``."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")
