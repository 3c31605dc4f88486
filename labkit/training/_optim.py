"""Tasas de aprendizaje discriminativas: una tasa por grupo de capas.

La cabeza recibe ``lr``; los grupos más cercanos a la entrada, tasas menores repartidas de forma
geométrica (como ``even_mults`` de fastai). Con ``ratio=10`` y tres niveles, el ejemplo de la guía:
primeras capas 1e-6, capas medias 1e-5, cabeza 1e-4. ``ratio=1`` es la misma tasa en todas.

**Qué es** ``ratio`` (la única definición; ``fit``, ``labkit.checks``, los barridos de
``labkit.experiments`` y los widgets usan esta misma función): cuántas veces menor es la tasa en
cada *nivel* que se aleja de la cabeza. Con ``tiers`` niveles, el primer grupo recibe
``lr / ratio**(tiers - 1)`` y los grupos de en medio se reparten geométricamente entre los dos
extremos, sea cual sea el número de grupos del modelo. Solo con tantos grupos como niveles
cada grupo divide exactamente entre ``ratio``.
"""

from __future__ import annotations

import math

from torch import nn

from ..base._errors import LabkitError
from ..base._validate import check_float, check_int
from ..models._groups import layer_groups

__all__ = ["group_lrs", "param_groups", "check_lr", "check_ratio", "check_tiers"]


def check_lr(lr: object, name: str = "lr") -> float:
    """La tasa de aprendizaje: un número positivo y finito (la única comprobación de labkit).

    Args:
        lr: la tasa que llegó.
        name: cómo se llama el argumento en el mensaje (``"lr"``, ``"start_lr"``…).

    Returns:
        La tasa como ``float``.
    """
    return check_float(name, lr, minimum=0, strict=True, expected=(
        "una tasa de aprendizaje: un número positivo y finito (típico: 1e-3, el de la receta "
        "del curso para la cabeza y para el máximo del ajuste fino)"))


def check_ratio(ratio: object, name: str = "ratio") -> float:
    """La razón entre tasas: 1 o más (la única comprobación de labkit, con un solo consejo).

    Args:
        ratio: la razón que llegó.
        name: cómo se llama el argumento en el mensaje.

    Returns:
        La razón como ``float``.
    """
    return check_float(name, ratio, minimum=1, expected=(
        "una razón entre tasas de 1 o más (1 = la misma tasa en todas las capas; 10 es lo "
        "habitual en ajuste fino y lo que usa la receta del curso)"))


def check_tiers(tiers: object) -> int:
    """Los niveles de tasas: un entero ≥ 1."""
    return check_int("tiers", tiers, minimum=1, expected=(
        "un número de niveles de tasas entero ≥ 1 (3: primeras capas, medias, cabeza)"))


def group_lrs(n_groups: int, lr: float, ratio: float = 1.0, tiers: int = 3) -> list[float]:
    """La tasa de cada grupo, del primero (tallo) al último (cabeza).

    La cabeza recibe ``lr`` y el primer grupo ``lr / ratio**(tiers - 1)``; los de en medio se
    reparten de forma geométrica. Con ``n_groups == tiers`` cada grupo divide entre ``ratio``.

    Args:
        n_groups: número de grupos del modelo.
        lr: tasa de la cabeza.
        ratio: cuántas veces menor es la tasa en cada nivel que se aleja de la cabeza (≥ 1).
        tiers: niveles entre la entrada y la cabeza (3: primeras, medias, cabeza); entero ≥ 1.

    Returns:
        Una lista de ``n_groups`` tasas, crecientes hacia la cabeza.
    """
    lr, ratio, tiers = check_lr(lr), check_ratio(ratio), check_tiers(tiers)
    n_groups = check_int("n_groups", n_groups, minimum=1,
                         expected="al menos un grupo de capas (un entero ≥ 1)")
    if n_groups == 1:
        return [float(lr)]
    span = (tiers - 1) * math.log(ratio)
    return [float(lr * math.exp(-span * (n_groups - 1 - i) / (n_groups - 1)))
            for i in range(n_groups)]


def param_groups(model: nn.Module, lr: float, ratio: float = 1.0, tiers: int = 3) -> list[dict]:
    """Grupos de parámetros para el optimizador, con tasas discriminativas.

    Las posiciones de las tasas se fijan con todos los grupos del modelo (así la tasa de
    ``layer4`` no cambia al descongelar ``layer3``), pero solo entran los parámetros entrenables:
    un parámetro congelado con momento o decaimiento de pesos se movería igualmente.

    Args:
        model: un modelo del catálogo.
        lr: tasa de la cabeza.
        ratio: razón entre niveles (1 = la misma tasa en todo el modelo).
        tiers: niveles entre la entrada y la cabeza.

    Returns:
        Una lista de diccionarios ``{"params", "lr", "name"}`` para ``torch.optim``, del tallo a
        la cabeza, sin grupos vacíos.
    """
    groups = layer_groups(model)
    lrs = group_lrs(len(groups), lr, ratio, tiers)
    out = []
    for group, group_lr in zip(groups, lrs):
        params = [p for _, p in group.params if p.requires_grad]
        if params:
            out.append({"params": params, "lr": group_lr, "name": group.name})
    if not out:
        raise LabkitError("No hay parámetros entrenables: todos los grupos están congelados. "
                          "Usa labkit.freeze_to(modelo, profundidad) con una profundidad menor.")
    return out
