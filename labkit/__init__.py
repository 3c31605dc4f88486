"""labkit: el paquete del Laboratorio de Transfer Learning.

Lo esencial en un vistazo::

    import labkit
    datos = labkit.pneumonia_mnist()                        # radiografías reales, sin red
    modelo = labkit.create_model("efficientnet_lite0", num_classes=datos)
    labkit.freeze(modelo)                                   # solo la cabeza
    labkit.summary(modelo)                                  # el panel de capas
    historial = labkit.fit(modelo, datos.train, datos.val, epochs=10, lr=1e-3)
    labkit.fine_tune(modelo, datos)                         # o la receta entera en dos fases
    labkit.evaluate(modelo, datos.test)     # exactitud, exactitud balanceada y recall por clase
    labkit.predict_image(modelo, "foto.png")                # [(clase, probabilidad), …]

Los submódulos ``labkit.plots``, ``labkit.viz``, ``labkit.widgets``, ``labkit.checks``,
``labkit.experiments``, ``labkit.catalog`` y ``labkit.upload`` se importan aparte (``import labkit.plots``).
"""

from .augment import Augment
from .callbacks import Callback, History, TqdmCallback, TrainState
from .checkpoints import load_checkpoint, read_checkpoint, save_checkpoint
from .claims import claim
from .compat import warn_untested_versions
from .config import data_dir, default_device, seed_everything
from .data import DataSplits, ImageSet, normalize
from .datasets import breast_mnist, dataset_report, elpv, pneumonia_mnist
from .errors import LabkitError, WeightsUnavailableError
from .evaluation import confusion_matrix, evaluate, predict
from .features import FeatureCache, FeatureSet, extract_features
from .fmt import pct
from .folders import folder_report, image_folder
from .freezing import freeze, freeze_to, frozen_depth, train_mode, unfreeze
from .groups import LayerGroup, layer_groups, split_at
from .inference import export, load_model, predict_image
from .lr_finder import lr_find
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
from .photos import beans, flowers, photo_credits
from .recipe import fine_tune
from .summary import summary
from .surfaces import SURFACE_CLASSES, surface_dataset
from .training import fit

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
    "confusion_matrix", "evaluate", "fine_tune", "fit", "predict", "export", "load_model",
    "predict_image", "freeze", "Augment", "lr_find",
    "pneumonia_mnist", "breast_mnist", "elpv", "dataset_report", "claim", "pct",
    "flowers", "beans", "photo_credits",
]

_SUBMODULES = {"plots", "viz", "widgets", "checks", "experiments", "explorers", "catalog",
               "exercises", "course", "surfaces", "data", "models", "groups", "training",
               "schedules", "augment", "loop", "evaluation", "recipe", "lr_finder", "compare",
               "datasets", "compat", "grading", "claims", "fmt", "prose", "forgetting",
               "practice", "modecheck", "loopcheck", "progress", "photos", "photocredits",
               "gradcam", "toplosses", "bootstrap", "intervals", "speed", "upload", "best",
               "settings"}


def __getattr__(name: str):
    """Importa los submódulos al usarlos: ``labkit.plots`` funciona sin ``import labkit.plots``."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")
