"""Congelar y descongelar grupos de capas, y el modo de entrenamiento que respeta lo congelado.

Congelado quiere decir congelado: ``requires_grad=False`` no impide que BatchNorm actualice sus
estadísticas (``running_mean``/``running_var``) bajo ``model.train()``. Por eso
:func:`train_mode` deja en modo evaluación los grupos congelados: se comportan como una función
fija, igual que cuando se calculan sus salidas una sola vez y se guardan en caché.

Además, en un modelo **preentrenado** :func:`train_mode` deja fijas las estadísticas de *todas*
las BatchNorm, también las de los grupos que se entrenan (sus pesos sí se ajustan): con lotes
pequeños de un dominio nuevo, reestimarlas desplaza las características sobre las que ya se
entrenó la cabeza y el ajuste fino empeora en vez de mejorar (es el consejo de Keras para el
ajuste fino). Un modelo entrenado desde cero sí necesita actualizarlas.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..base._errors import LabkitError
from ._groups import layer_groups

__all__ = ["freeze_to", "freeze", "unfreeze", "frozen_depth", "head_depth",
           "default_fine_tune_depth", "train_mode", "eval_mode", "keeps_bn_stats"]


def freeze_to(model: nn.Module, depth: int) -> nn.Module:
    """Congela los grupos ``[0, depth)`` y descongela el resto.

    Args:
        model: un modelo del catálogo.
        depth: cuántos grupos congelar desde el tallo. ``0`` entrena todo;
            ``len(layer_groups(model)) - 1`` deja solo la cabeza (extracción de características).

    Returns:
        El mismo modelo, modificado en su sitio.
    """
    groups = layer_groups(model)
    last = len(groups) - 1
    if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= last:
        raise LabkitError(
            f"Profundidad de congelado {depth!r} fuera de rango: este modelo tiene {len(groups)} "
            f"grupos ({groups[0].name} … {groups[-1].name}); usa un entero de 0 (entrenar todo) "
            f"a {last} (solo la cabeza)."
        )
    for i, group in enumerate(groups):
        for _, param in group.params:
            param.requires_grad_(i >= depth)
    return model


def head_depth(model: nn.Module) -> int:
    """Profundidad que deja entrenable solo la cabeza: ``len(layer_groups(model)) - 1``."""
    return len(layer_groups(model)) - 1


def freeze(model: nn.Module) -> nn.Module:
    """Congela todo menos la cabeza (extracción de características).

    Equivale a ``freeze_to(model, len(layer_groups(model)) - 1)``.

    Args:
        model: un modelo del catálogo.

    Returns:
        El mismo modelo, modificado en su sitio.
    """
    return freeze_to(model, head_depth(model))


def unfreeze(model: nn.Module) -> nn.Module:
    """Descongela todos los grupos (equivale a ``freeze_to(model, 0)``).

    Args:
        model: un modelo del catálogo.

    Returns:
        El mismo modelo, modificado en su sitio.
    """
    return freeze_to(model, 0)


def default_fine_tune_depth(model: nn.Module) -> int:
    """Cuántos grupos siguen congelados en el ajuste fino por defecto del curso.

    Es la profundidad que usan ``labkit.fine_tune``, los barridos de
    :mod:`labkit.experiments` y el playground cuando no se indica otra: se congela la primera
    mitad de los grupos (``len(layer_groups(model)) // 2``) y se ajustan las etapas finales y la
    cabeza. En EfficientNet-Lite0 (10 grupos) entrenan ``blocks.4`` … ``classifier``; en ResNet
    (6 grupos), ``layer3``, ``layer4`` y ``fc``. Las primeras capas (bordes, texturas) sirven casi
    para cualquier imagen, y con la mitad congelada su salida se calcula una vez (caché).

    Args:
        model: un modelo del catálogo.

    Returns:
        La profundidad (entre 0 y ``len(layer_groups(model)) - 1``).
    """
    n = len(layer_groups(model))
    return min(n // 2, n - 1)


def frozen_depth(model: nn.Module) -> int:
    """Cuántos grupos seguidos, desde el tallo, están congelados por completo."""
    depth = 0
    for group in layer_groups(model):
        if not group.frozen:
            break
        depth += 1
    return depth


def keeps_bn_stats(model: nn.Module) -> bool:
    """``True`` si el modelo trae pesos preentrenados: entonces sus BatchNorm no reestiman
    estadísticas al entrenar (ver :func:`train_mode`)."""
    info = getattr(model, "labkit_info", None)
    return bool(info is not None and info.pretrained)


def train_mode(model: nn.Module, update_bn: bool | None = None) -> nn.Module:
    """Pone el modelo en modo entrenamiento salvo los grupos congelados, que quedan en evaluación.

    Así BatchNorm de las capas congeladas no mueve sus estadísticas y su dropout no actúa.

    Args:
        model: un modelo del catálogo.
        update_bn: si las BatchNorm de los grupos que se entrenan reestiman sus estadísticas.
            ``None`` (por defecto): no en un modelo preentrenado, sí en uno desde cero.

    Returns:
        El mismo modelo.
    """
    model.train()
    for group in layer_groups(model):
        if group.frozen:
            for piece in group.pieces:
                piece.eval()
    if not (update_bn if update_bn is not None else not keeps_bn_stats(model)):
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                module.eval()
    return model


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Pone el modelo en evaluación dentro de un ``with`` y, al salir, devuelve a cada módulo su
    modo anterior (también los grupos congelados que :func:`train_mode` dejó en evaluación).

    Args:
        model: cualquier ``nn.Module``.

    Returns:
        Un gestor de contexto que da el mismo modelo.
    """
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training
