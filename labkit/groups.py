"""Grupos de capas: cada arquitectura vista como una lista ordenada tallo → etapas → cabeza.

Todo lo que el alumno gira en el curso (la profundidad de congelado, la razón entre tasas de
aprendizaje, el panel de capas) habla de esta misma lista. Cada familia se define una sola vez con
expresiones regulares sobre los nombres de los parámetros (como ``group_matcher`` de timm) y con
las piezas de su ``forward`` en orden, de modo que ``cola(prefijo(x)) == modelo(x)``: eso permite
calcular una vez la salida de los grupos congelados y entrenar solo el resto.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .errors import LabkitError

__all__ = ["LayerGroup", "layer_groups", "split_at", "model_family", "Lambda"]


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


@dataclass
class LayerGroup:
    """Un grupo de capas consecutivas.

    Attributes:
        name: nombre del grupo (el del módulo cuando existe: ``conv1``, ``layer1``, ``fc``…).
        params: pares ``(nombre, parámetro)`` del grupo, en orden.
        pieces: módulos del ``forward`` que forman el grupo, en orden.
    """

    name: str
    params: list[tuple[str, nn.Parameter]] = field(repr=False)
    pieces: list[nn.Module] = field(repr=False)

    @property
    def num_params(self) -> int:
        """Número de parámetros del grupo."""
        return sum(p.numel() for _, p in self.params)

    @property
    def num_trainable(self) -> int:
        """Parámetros del grupo que se entrenan (``requires_grad=True``)."""
        return sum(p.numel() for _, p in self.params if p.requires_grad)

    @property
    def frozen(self) -> bool:
        """``True`` si el grupo tiene parámetros y todos están congelados."""
        return bool(self.params) and not any(p.requires_grad for _, p in self.params)


_pool = Lambda(lambda x: torch.flatten(F.adaptive_avg_pool2d(x, 1), 1), "promedio global")


def _resnet(m: nn.Module) -> list[tuple[str, str, list[nn.Module]]]:
    stages = [(f"layer{i}", rf"^layer{i}\.", [getattr(m, f"layer{i}")]) for i in range(1, 5)]
    return ([("conv1", r"^(conv1|bn1)\.", [m.conv1, m.bn1, m.relu, m.maxpool])] + stages
            + [("fc", r"^fc\.", [_pool, m.fc])])


def _vgg(m: nn.Module) -> list[tuple[str, str, list[nn.Module]]]:
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


def _by_index(m: nn.Module, names_and_ranges: list[tuple[str, range]]):
    """Grupos hechos de trozos consecutivos de ``m.features``."""
    out = []
    for name, r in names_and_ranges:
        idx = "|".join(str(i) for i in r)
        out.append((name, rf"^features\.({idx})\.", [m.features[r.start:r.stop]]))
    return out


def _mobilenet_v2(m: nn.Module):
    stages = [("stem", range(0, 1)), ("etapa1", range(1, 2)), ("etapa2", range(2, 4)),
              ("etapa3", range(4, 7)), ("etapa4", range(7, 11)), ("etapa5", range(11, 14)),
              ("etapa6", range(14, 17)), ("etapa7", range(17, 19))]
    return _by_index(m, stages) + [("classifier", r"^classifier\.", [_pool, m.classifier])]


def _mobilenet_v3(m: nn.Module):
    stages = [("stem", range(0, 1)), ("etapa1", range(1, 2)), ("etapa2", range(2, 4)),
              ("etapa3", range(4, 7)), ("etapa4", range(7, 11)), ("etapa5", range(11, 13)),
              ("etapa6", range(13, 17))]
    return _by_index(m, stages) + [
        ("pre_logits", r"^classifier\.[0-2]\.", [_pool, m.classifier[:3]]),
        ("classifier", r"^classifier\.3\.", [m.classifier[3]]),
    ]


def _efficientnet(m: nn.Module):
    stages = [("stem", range(0, 1))] + [(f"etapa{i}", range(i, i + 1)) for i in range(1, 8)]
    stages.append(("conv_final", range(8, 9)))
    return _by_index(m, stages) + [("classifier", r"^classifier\.", [_pool, m.classifier])]


def _efficientnet_lite(m: nn.Module):
    dropout = Lambda(lambda x: F.dropout(x, m.drop_rate, m.training), "dropout",
                     deterministic=False)
    blocks = [(f"blocks.{i}", rf"^blocks\.{i}\.", [m.blocks[i]]) for i in range(len(m.blocks))]
    return ([("stem", r"^(conv_stem|bn1)\.", [m.conv_stem, m.bn1])] + blocks + [
        ("conv_head", r"^(conv_head|bn2)\.", [m.conv_head, m.bn2]),
        ("classifier", r"^classifier\.", [m.global_pool, dropout, m.classifier]),
    ])


def _small_cnn(m: nn.Module):
    blocks = [(f"bloque{i + 1}", rf"^features\.{i}\.", [m.features[i]])
              for i in range(len(m.features))]
    return blocks + [("classifier", r"^classifier\.", [m.pool, m.classifier])]


_FAMILIES: dict[str, Callable] = {
    "resnet": _resnet, "vgg": _vgg, "mobilenet_v2": _mobilenet_v2, "mobilenet_v3": _mobilenet_v3,
    "efficientnet": _efficientnet, "efficientnet_lite": _efficientnet_lite,
    "small_cnn": _small_cnn,
}


def model_family(model: nn.Module) -> str:
    """La familia de un modelo: la de ``labkit_info`` o, si no la tiene, la de su clase."""
    info = getattr(model, "labkit_info", None)
    if info is not None:
        return info.family
    by_class = {"ResNet": "resnet", "VGG": "vgg", "MobileNetV2": "mobilenet_v2",
                "MobileNetV3": "mobilenet_v3", "SmallCNN": "small_cnn"}
    name = type(model).__name__
    if name == "EfficientNet":
        return "efficientnet_lite" if hasattr(model, "conv_stem") else "efficientnet"
    if name in by_class:
        return by_class[name]
    raise LabkitError(
        f"No sé dividir en grupos de capas un modelo de tipo {name}. Los grupos están definidos "
        f"para las familias {', '.join(_FAMILIES)}: crea el modelo con labkit.create_model."
    )


def layer_groups(model: nn.Module) -> list[LayerGroup]:
    """Los grupos de capas del modelo, en orden: tallo → etapas → cabeza.

    Args:
        model: un modelo del catálogo (o de una familia conocida).

    Returns:
        La lista de :class:`LayerGroup`. Cada parámetro pertenece a exactamente un grupo.

    Raises:
        LabkitError: si la familia es desconocida o algún parámetro queda sin grupo.
    """
    spec = _FAMILIES[model_family(model)](model)
    patterns = [(name, re.compile(rx), pieces) for name, rx, pieces in spec]
    assigned: dict[str, list] = {name: [] for name, _, _ in spec}
    for pname, param in model.named_parameters():
        owners = [name for name, rx, _ in patterns if rx.search(pname)]
        if len(owners) != 1:
            raise LabkitError(f"El parámetro '{pname}' cae en {len(owners)} grupos (debe ser 1): "
                              "la arquitectura no es la que labkit espera.")
        assigned[owners[0]].append((pname, param))
    return [LayerGroup(name, assigned[name], pieces) for name, _, pieces in patterns]


def split_at(model: nn.Module, depth: int) -> tuple[nn.Sequential, nn.Sequential]:
    """Parte el modelo en ``(prefijo, cola)`` justo antes del grupo ``depth``.

    El prefijo son los grupos ``[0, depth)`` más las piezas sin parámetros y deterministas que
    los siguen (como el promedio global), así su salida se puede guardar en caché.

    Args:
        model: un modelo del catálogo.
        depth: número de grupos en el prefijo.

    Returns:
        Dos ``nn.Sequential`` que comparten los módulos del modelo: ``cola(prefijo(x)) == modelo(x)``.
    """
    groups = layer_groups(model)
    if not 0 <= depth < len(groups):
        raise LabkitError(f"depth={depth} fuera de rango: este modelo tiene {len(groups)} grupos "
                          f"(usa de 0 a {len(groups) - 1}).")
    head = [p for g in groups[:depth] for p in g.pieces]
    tail = [p for g in groups[depth:] for p in g.pieces]
    while tail and _is_cacheable(tail[0]):
        head.append(tail.pop(0))
    return nn.Sequential(*head), nn.Sequential(*tail)


def _is_cacheable(piece: nn.Module) -> bool:
    """Una pieza sin parámetros cuyo resultado no depende del azar ni del modo."""
    if any(True for _ in piece.parameters()) or any(True for _ in piece.buffers()):
        return False
    if isinstance(piece, Lambda):
        return piece.deterministic
    if isinstance(piece, nn.Sequential):  # p. ej. el promedio + aplanado de la CNN pequeña
        return len(piece) > 0 and all(_is_cacheable(p) for p in piece)
    return isinstance(piece, (nn.AdaptiveAvgPool2d, nn.Flatten, nn.Identity)) or (
        type(piece).__name__ == "SelectAdaptivePool2d")
