"""Grupos de capas: cada arquitectura vista como una lista ordenada tallo → etapas → cabeza.

Todo lo que el alumno gira en el curso (la profundidad de congelado, la razón entre tasas de
aprendizaje, el panel de capas) habla de esta misma lista. Cada familia se define una sola vez con
expresiones regulares sobre los nombres de los parámetros (como ``group_matcher`` de timm) y con
las piezas de su ``forward`` en orden, de modo que ``cola(prefijo(x)) == modelo(x)``: eso permite
calcular una vez la salida de los grupos congelados y entrenar solo el resto. Las definiciones
están en la ficha de cada familia (:mod:`labkit.models`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from torch import nn

from ..base._errors import LabkitError
from ..base._validate import check_int
from ._families import Lambda, family_of

__all__ = ["LayerGroup", "layer_groups", "split_at", "model_family"]


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


def model_family(model: nn.Module) -> str:
    """La familia de un modelo: la de ``labkit_info`` o, si no la tiene, la de su clase."""
    return family_of(model).name


def layer_groups(model: nn.Module) -> list[LayerGroup]:
    """Los grupos de capas del modelo, en orden: tallo → etapas → cabeza.

    Args:
        model: un modelo del catálogo (o de una familia conocida).

    Returns:
        La lista de :class:`LayerGroup`. Cada parámetro pertenece a exactamente un grupo.

    Raises:
        LabkitError: si la familia es desconocida o algún parámetro queda sin grupo.
    """
    spec = family_of(model).groups(model)
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
        Dos ``nn.Sequential`` que comparten los módulos del modelo:
        ``cola(prefijo(x)) == modelo(x)``.
    """
    groups = layer_groups(model)
    depth = check_int("depth", depth, expected=f"un número entero de 0 a {len(groups) - 1} "
                      f"(este modelo tiene {len(groups)} grupos)")
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
