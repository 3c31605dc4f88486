"""Una ficha por familia de arquitecturas: todo lo que labkit sabe de cada una, en un solo sitio.

Cada :class:`FamilySpec` dice, para su familia (como cada modelo de timm se describe a sí mismo):

- cómo reconocerla (los nombres de clase de sus módulos),
- cómo construirla con o sin pesos de ImageNet,
- sus grupos de capas (expresiones regulares sobre los nombres de los parámetros y las piezas de
  su ``forward`` en orden, de modo que ``cola(prefijo(x)) == modelo(x)``),
- dónde vive la cabeza y cómo cambiarla,
- su preprocesado (media, desviación, tamaño) y los nombres de las clases de su cabeza original.

Añadir una familia es escribir una ficha más en :data:`FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..base._errors import LabkitError
from ._lite0 import LITE0_MEAN, LITE0_STD, build_lite0

__all__ = ["Lambda", "SmallCNN", "Preprocessing", "FamilySpec", "FAMILIES", "family_of",
           "imagenet_categories", "head_layer", "set_head"]

GroupSpec = tuple[str, str, list[nn.Module]]  # (nombre, expresión regular, piezas del forward)


class Lambda(nn.Module):
    """Una pieza sin parámetros que aplica una función (p. ej. promedio global y aplanado)."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], label: str,
                 deterministic: bool = True) -> None:
        super().__init__()
        self.fn = fn
        self.label = label
        self.deterministic = deterministic

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)

    def extra_repr(self) -> str:
        return self.label


SMALL_CNN_MIN_SIZE = 16
"""Lado mínimo de la entrada de la CNN pequeña: cuatro max-pool de 2 dejan 16 px en 1 px."""


def _check_min_size(module: nn.Module, args: tuple) -> None:
    """Antes del primer bloque: una imagen de menos de 16 px es un error que pide imágenes
    mayores."""
    x = args[0] if args else None
    if isinstance(x, torch.Tensor) and x.ndim == 4 and min(x.shape[-2:]) < SMALL_CNN_MIN_SIZE:
        height, width = x.shape[-2:]
        raise LabkitError(
            f"La CNN pequeña (cnn_pequena) divide la imagen a la mitad cuatro veces y necesita "
            f"imágenes de al menos {SMALL_CNN_MIN_SIZE}×{SMALL_CNN_MIN_SIZE} px; recibió "
            f"{height}×{width}. Carga las imágenes más grandes: image_size={SMALL_CNN_MIN_SIZE} "
            "como mínimo (64 o 128 px es lo habitual).")


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
        # En el primer bloque (no en forward): también lo ve el prefijo congelado por separado.
        self.features[0].register_forward_pre_hook(_check_min_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)))


@dataclass(frozen=True)
class Preprocessing:
    """Cómo preparar una imagen para un modelo: reescalar, recortar al centro y normalizar.

    Attributes:
        mean: media por canal (escala 0–1) con la que se entrenaron los pesos.
        std: desviación por canal.
        input_size: lado del recorte central que entra al modelo.
        resize_size: lado al que se lleva el lado corto antes del recorte.
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]
    input_size: int
    resize_size: int


@dataclass(frozen=True)
class FamilySpec:
    """La ficha de una familia de arquitecturas.

    Attributes:
        name: nombre de la familia (``resnet``, ``vgg``…).
        module_types: nombres de clase de ``nn.Module`` que la identifican.
        head_path: camino de atributos/índices hasta la cabeza (la última capa lineal).
        groups: ``modelo → [(nombre, regex, piezas)]`` en orden tallo → cabeza.
        build: ``(nombre, preentrenado, clases) → modelo`` con la cabeza pedida.
        preprocessing: ``nombre → Preprocessing`` de sus pesos.
        categories: nombres de las clases de la cabeza original (``[]`` si no tiene).
        identify: prueba extra para distinguir familias con el mismo nombre de clase.
    """

    name: str
    module_types: tuple[str, ...]
    head_path: tuple[str, ...]
    groups: Callable[[nn.Module], list[GroupSpec]]
    build: Callable[[str, bool, int | None], nn.Module]
    preprocessing: Callable[[str], Preprocessing]
    categories: Callable[[], list[str]]
    identify: Callable[[nn.Module], bool] = lambda model: True

    def matches(self, model: nn.Module) -> bool:
        """``True`` si ``model`` es de esta familia (por su clase)."""
        return type(model).__name__ in self.module_types and self.identify(model)


# ---------------------------------------------------------------------------- cabezas
def _child(module: nn.Module, part: str) -> nn.Module:
    return module[int(part)] if part.isdigit() else getattr(module, part)


def head_layer(model: nn.Module, family: FamilySpec) -> nn.Linear:
    """La capa lineal de la cabeza tal como está ahora (también si se cambió a mano).

    Args:
        model: un modelo de la familia.
        family: su ficha.

    Returns:
        La última ``nn.Linear`` del módulo que ocupa el sitio de la cabeza.
    """
    module = model
    try:
        for part in family.head_path:
            module = _child(module, part)
    except (AttributeError, IndexError, TypeError):
        module = None
    linears = [] if module is None else [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        where = ".".join(family.head_path)
        raise LabkitError(f"No encuentro la cabeza del modelo: en '{where}' no hay ninguna capa "
                          "lineal. Usa labkit.replace_head(modelo, clases) para ponerle una.")
    return linears[-1]


def set_head(model: nn.Module, family: FamilySpec, new: nn.Module) -> None:
    """Pone ``new`` en el sitio de la cabeza de ``model``."""
    parent = model
    for part in family.head_path[:-1]:
        parent = _child(parent, part)
    last = family.head_path[-1]
    if last.isdigit():
        parent[int(last)] = new
    else:
        setattr(parent, last, new)


def _new_head(model: nn.Module, family: FamilySpec, num_outputs: int) -> nn.Module:
    """Cambia la cabeza por una lineal nueva (al azar) con ``num_outputs`` salidas."""
    old = head_layer(model, family)
    set_head(model, family, nn.Linear(old.in_features, num_outputs))
    return model


# ---------------------------------------------------------------------------- grupos
_pool = Lambda(lambda x: torch.flatten(F.adaptive_avg_pool2d(x, 1), 1), "promedio global")


def _resnet_groups(m: nn.Module) -> list[GroupSpec]:
    stages = [(f"layer{i}", rf"^layer{i}\.", [getattr(m, f"layer{i}")]) for i in range(1, 5)]
    return ([("conv1", r"^(conv1|bn1)\.", [m.conv1, m.bn1, m.relu, m.maxpool])] + stages
            + [("fc", r"^fc\.", [_pool, m.fc])])


def _vgg_groups(m: nn.Module) -> list[GroupSpec]:
    pools = [i for i, layer in enumerate(m.features) if isinstance(layer, nn.MaxPool2d)]
    groups, start = [], 0
    for k, end in enumerate(pools, 1):
        idx = "|".join(str(i) for i in range(start, end + 1))
        groups.append((f"bloque{k}", rf"^features\.({idx})\.", [m.features[start:end + 1]]))
        start = end + 1
    flat = Lambda(lambda x: torch.flatten(x, 1), "aplanado")
    return groups + [
        ("fc6_fc7", r"^classifier\.[0-5]\.", [m.avgpool, flat, m.classifier[:6]]),
        ("fc8", r"^classifier\.6\.", [m.classifier[6]]),
    ]


def _by_index(m: nn.Module, names_and_ranges: list[tuple[str, range]]) -> list[GroupSpec]:
    """Grupos hechos de trozos consecutivos de ``m.features``."""
    out = []
    for name, r in names_and_ranges:
        idx = "|".join(str(i) for i in r)
        out.append((name, rf"^features\.({idx})\.", [m.features[r.start:r.stop]]))
    return out


def _mobilenet_v2_groups(m: nn.Module) -> list[GroupSpec]:
    stages = [("stem", range(0, 1)), ("etapa1", range(1, 2)), ("etapa2", range(2, 4)),
              ("etapa3", range(4, 7)), ("etapa4", range(7, 11)), ("etapa5", range(11, 14)),
              ("etapa6", range(14, 17)), ("etapa7", range(17, 19))]
    return _by_index(m, stages) + [("classifier", r"^classifier\.", [_pool, m.classifier])]


def _mobilenet_v3_groups(m: nn.Module) -> list[GroupSpec]:
    stages = [("stem", range(0, 1)), ("etapa1", range(1, 2)), ("etapa2", range(2, 4)),
              ("etapa3", range(4, 7)), ("etapa4", range(7, 11)), ("etapa5", range(11, 13)),
              ("etapa6", range(13, 17))]
    return _by_index(m, stages) + [
        ("pre_logits", r"^classifier\.[0-2]\.", [_pool, m.classifier[:3]]),
        ("classifier", r"^classifier\.3\.", [m.classifier[3]]),
    ]


def _efficientnet_groups(m: nn.Module) -> list[GroupSpec]:
    stages = [("stem", range(0, 1))] + [(f"etapa{i}", range(i, i + 1)) for i in range(1, 8)]
    stages.append(("conv_final", range(8, 9)))
    return _by_index(m, stages) + [("classifier", r"^classifier\.", [_pool, m.classifier])]


def _lite_groups(m: nn.Module) -> list[GroupSpec]:
    dropout = Lambda(lambda x: F.dropout(x, m.drop_rate, m.training), "dropout",
                     deterministic=False)
    blocks = [(f"blocks.{i}", rf"^blocks\.{i}\.", [m.blocks[i]]) for i in range(len(m.blocks))]
    return ([("stem", r"^(conv_stem|bn1)\.", [m.conv_stem, m.bn1])] + blocks + [
        ("conv_head", r"^(conv_head|bn2)\.", [m.conv_head, m.bn2]),
        ("classifier", r"^classifier\.", [m.global_pool, dropout, m.classifier]),
    ])


def _small_cnn_groups(m: nn.Module) -> list[GroupSpec]:
    blocks = [(f"bloque{i + 1}", rf"^features\.{i}\.", [m.features[i]])
              for i in range(len(m.features))]
    return blocks + [("classifier", r"^classifier\.", [m.pool, m.classifier])]


# ---------------------------------------------------------------------------- construir y preparar
def imagenet_categories() -> list[str]:
    """Los 1000 nombres de clase de ImageNet (en inglés, como los publica torchvision)."""
    from torchvision.models import ResNet50_Weights

    return list(ResNet50_Weights.IMAGENET1K_V2.meta["categories"])


def _torchvision_preprocessing(name: str) -> Preprocessing:
    from ._weights import tv_weights

    t = tv_weights(name).transforms()
    return Preprocessing(tuple(t.mean), tuple(t.std), t.crop_size[0], t.resize_size[0])


def _torchvision_builder(family_name: str) -> Callable[[str, bool, int | None], nn.Module]:
    def build(name: str, pretrained: bool, num_classes: int | None) -> nn.Module:
        from ._weights import build_torchvision

        model = build_torchvision(name, pretrained)
        if num_classes is not None:
            _new_head(model, FAMILIES[family_name], num_classes)
        return model
    return build


def _build_lite(name: str, pretrained: bool, num_classes: int | None) -> nn.Module:
    model = build_lite0(pretrained)
    if num_classes is not None:
        _new_head(model, FAMILIES["efficientnet_lite"], num_classes)
    return model


def _build_small_cnn(name: str, pretrained: bool, num_classes: int | None) -> nn.Module:
    if pretrained:
        raise LabkitError("La CNN pequeña no tiene pesos preentrenados: se entrena desde cero. "
                          "Usa pretrained=False.")
    return SmallCNN(num_classes or 2)


def _torchvision_family(name: str, types: tuple[str, ...], head: tuple[str, ...],
                        groups: Callable[[nn.Module], list[GroupSpec]],
                        identify: Callable[[nn.Module], bool] = lambda m: True) -> FamilySpec:
    """Ficha de una familia de torchvision: pesos, preprocesado y clases de su API de pesos."""
    return FamilySpec(name, types, head, groups, _torchvision_builder(name),
                      _torchvision_preprocessing, imagenet_categories, identify)


FAMILIES: dict[str, FamilySpec] = {f.name: f for f in [
    _torchvision_family("resnet", ("ResNet",), ("fc",), _resnet_groups),
    _torchvision_family("vgg", ("VGG",), ("classifier", "6"), _vgg_groups),
    _torchvision_family("mobilenet_v2", ("MobileNetV2",), ("classifier", "1"),
                        _mobilenet_v2_groups),
    _torchvision_family("mobilenet_v3", ("MobileNetV3",), ("classifier", "3"),
                        _mobilenet_v3_groups),
    _torchvision_family("efficientnet", ("EfficientNet",), ("classifier", "1"),
                        _efficientnet_groups, lambda m: not hasattr(m, "conv_stem")),
    FamilySpec("efficientnet_lite", ("EfficientNet",), ("classifier",), _lite_groups, _build_lite,
               lambda name: Preprocessing(LITE0_MEAN, LITE0_STD, 224, 224),
               imagenet_categories, lambda m: hasattr(m, "conv_stem")),
    FamilySpec("small_cnn", ("SmallCNN",), ("classifier", "1"), _small_cnn_groups,
               _build_small_cnn,
               lambda name: Preprocessing((0.5, 0.5, 0.5), (0.25, 0.25, 0.25), 128, 128),
               lambda: []),
]}


def family_of(model: nn.Module) -> FamilySpec:
    """La ficha de la familia de ``model``: la de ``labkit_info`` o, si no la tiene, la de su clase.

    Args:
        model: un modelo del catálogo o de una familia conocida.

    Returns:
        Su :class:`FamilySpec`.
    """
    info = getattr(model, "labkit_info", None)
    if info is not None and info.family in FAMILIES:
        return FAMILIES[info.family]
    for family in FAMILIES.values():
        if family.matches(model):
            return family
    raise LabkitError(
        f"No sé dividir en grupos de capas un modelo de tipo {type(model).__name__}. Los grupos "
        f"están definidos para las familias {', '.join(FAMILIES)}: crea el modelo con "
        "labkit.create_model."
    )
