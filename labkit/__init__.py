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

Aquí están los ~40 verbos que usan los cuadernos; el resto vive en su subpaquete, en capas que
importan solo hacia abajo: ``labkit.base`` → ``labkit.data`` → ``labkit.models`` →
``labkit.training`` → ``labkit.experiments`` → {``labkit.plots``, ``labkit.checks``} →
``labkit.widgets``. ``labkit.plots`` (y los demás) se importan al usarlos, sin
``import labkit.plots``. Las herramientas docentes (``labkit.teacher``) van aparte.
"""

from .base import LabkitError, default_device, pct, seed_everything, warn_untested_versions
from .data import (
    beans,
    breast_mnist,
    dataset_report,
    elpv,
    flowers,
    folder_report,
    image_folder,
    normalize,
    photo_credits,
    pneumonia_mnist,
    surface_dataset,
)
from .experiments import claim, compare
from .models import (
    available_models,
    create_model,
    export,
    freeze,
    freeze_to,
    frozen_depth,
    imagenet_categories,
    layer_groups,
    load_model,
    model_info,
    predict_image,
    replace_head,
    summary,
    train_mode,
    unfreeze,
)
from .training import (
    confusion_matrix,
    evaluate,
    fine_tune,
    fit,
    group_lrs,
    lr_find,
    param_groups,
    predict,
)

__version__ = "0.1.0"
warn_untested_versions()  # sin cotas superiores en pyproject.toml: se avisa en vez de imponer

__all__ = [
    # datos
    "pneumonia_mnist", "breast_mnist", "elpv", "flowers", "beans", "surface_dataset",
    "image_folder", "folder_report", "dataset_report", "photo_credits", "normalize",
    # modelos
    "create_model", "available_models", "model_info", "replace_head", "imagenet_categories",
    "freeze", "freeze_to", "unfreeze", "frozen_depth", "train_mode", "layer_groups", "summary",
    # entrenar y evaluar
    "fit", "fine_tune", "lr_find", "evaluate", "predict", "confusion_matrix", "param_groups",
    "group_lrs",
    # llevárselo
    "export", "load_model", "predict_image",
    # medir
    "compare", "claim",
    # lo de siempre
    "seed_everything", "default_device", "pct", "LabkitError",
]

_SUBPACKAGES = {"base", "data", "models", "training", "experiments", "plots", "checks",
                "widgets"}


def __getattr__(name: str):
    """Importa los subpaquetes al usarlos: ``labkit.plots`` funciona sin ``import labkit.plots``."""
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")
