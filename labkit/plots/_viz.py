"""Qué aprendieron las capas preentrenadas: filtros de la primera capa y mapas de activación.

Los filtros de la primera convolución de una red preentrenada parecen bordes orientados y manchas
de color; los de una red sin entrenar, ruido. Más adentro, los mapas de activación tienen cada
vez menos resolución y más canales: en el tallo se ven los bordes de la foto; en lo profundo, cada
canal solo dice en qué zona responde (qué detecta se averigua con otros métodos, buscando las
imágenes que más lo activan, como Zeiler y Fergus, 2014). Los mapas se calculan recorriendo el
modelo grupo a grupo (``layer_groups``), como lo hace el resto del curso.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from torch import nn

from ..base._errors import LabkitError
from ..base._figures import new_figure
from ..data._data import normalize
from ..models._freezing import eval_mode
from ..models._groups import layer_groups
from ..models._models import model_info

__all__ = ["first_conv", "filter_images", "plot_first_layer_filters",
           "compare_first_layer_filters", "feature_maps", "plot_feature_maps"]


def first_conv(model: nn.Module) -> nn.Conv2d:
    """La primera convolución del modelo que recibe la imagen (3 canales de entrada).

    Args:
        model: cualquier red convolucional.

    Returns:
        La capa ``nn.Conv2d``.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d) and module.in_channels == 3:
            return module
    raise LabkitError(f"El modelo {type(model).__name__} no tiene una convolución que reciba "
                      "imágenes de 3 canales.")


def filter_images(weight: torch.Tensor, max_filters: int = 32) -> np.ndarray:
    """Los filtros ``[F, 3, k, k]`` como imágenes RGB ``[F, k, k, 3]`` escaladas a 0–1.

    Cada filtro se escala por separado (su mínimo a 0 y su máximo a 1), así se ve su forma y no
    su tamaño.

    Args:
        weight: pesos de la convolución.
        max_filters: cuántos filtros devolver como mucho (los primeros).

    Returns:
        Un arreglo ``float32``.
    """
    w = weight.detach().float().cpu()[:max_filters]
    low = w.amin(dim=(1, 2, 3), keepdim=True)
    high = w.amax(dim=(1, 2, 3), keepdim=True)
    scaled = (w - low) / (high - low).clamp_min(1e-12)
    return scaled.permute(0, 2, 3, 1).numpy()


def _model_title(model: nn.Module) -> str:
    """``resnet18 (preentrenado)`` o el nombre de la clase si no viene del catálogo."""
    info = getattr(model, "labkit_info", None)
    if info is None:
        return type(model).__name__
    return f"{info.name} ({'preentrenado' if info.pretrained else 'pesos aleatorios'})"


def _draw_filters(fig: Figure | SubFigure, model: nn.Module, max_filters: int,
                  title: str) -> None:
    """Dibuja en ``fig`` una cuadrícula con los filtros de la primera capa."""
    conv = first_conv(model)
    images = filter_images(conv.weight, max_filters)
    cols = min(8, len(images))
    rows = math.ceil(len(images) / cols)
    for k, ax in enumerate(fig.subplots(rows, cols, squeeze=False).flat):
        ax.axis("off")
        if k < len(images):
            ax.imshow(images[k], interpolation="nearest")
    k_h, k_w = conv.kernel_size
    fig.suptitle(f"{title}\n{len(images)} de {conv.out_channels} filtros de {k_h}×{k_w}",
                 fontsize=10)


def plot_first_layer_filters(model: nn.Module, max_filters: int = 32,
                             title: str | None = None) -> Figure:
    """Los filtros de la primera convolución como pequeñas imágenes en color.

    Args:
        model: el modelo.
        max_filters: cuántos filtros mostrar como mucho.
        title: título; por defecto, el nombre del modelo y si está preentrenado.

    Returns:
        La figura.
    """
    fig = new_figure((5.0, 3.0))
    _draw_filters(fig, model, max_filters, title or _model_title(model))
    return fig


def compare_first_layer_filters(pretrained_model: nn.Module, random_model: nn.Module,
                                max_filters: int = 32) -> Figure:
    """Los filtros de la primera capa de dos modelos lado a lado: preentrenado y aleatorio.

    Args:
        pretrained_model: el modelo con pesos de ImageNet.
        random_model: el mismo (u otro) modelo con pesos aleatorios.
        max_filters: cuántos filtros mostrar de cada uno.

    Returns:
        Una figura con dos paneles.
    """
    fig = new_figure((10.0, 3.2))
    left, right = fig.subfigures(1, 2, wspace=0.06)
    _draw_filters(left, pretrained_model, max_filters,
                  f"Preentrenado: {_model_title(pretrained_model)}")
    _draw_filters(right, random_model, max_filters, f"Sin entrenar: {_model_title(random_model)}")
    return fig


def _as_chw_uint8(image) -> torch.Tensor:
    """Una foto como tensor ``uint8 [3, H, W]`` (admite también un arreglo ``[H, W, 3]``)."""
    tensor = torch.as_tensor(np.asarray(image)) if not isinstance(image, torch.Tensor) else image
    if tensor.ndim == 3 and tensor.shape[0] != 3 and tensor.shape[2] == 3:
        tensor = tensor.permute(2, 0, 1)
    if tensor.dtype != torch.uint8 or tensor.ndim != 3 or tensor.shape[0] != 3:
        raise LabkitError("La imagen debe ser uint8 de forma [3, H, W] (o [H, W, 3]); llegó "
                          f"{tuple(tensor.shape)} de tipo {tensor.dtype}.")
    return tensor


def _spatial_outputs(model: nn.Module, image: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """Recorre los grupos en orden y guarda su salida mientras siga siendo un mapa ``[C, h, w]``."""
    info = model_info(model)
    device = next(model.parameters()).device
    x = normalize(image.unsqueeze(0), info.mean, info.std).to(device)
    outputs = []
    with eval_mode(model), torch.no_grad():
        for group in layer_groups(model):
            for piece in group.pieces:
                x = piece(x)
            if x.ndim != 4:
                break
            outputs.append((group.name, x[0].float().cpu()))
    return outputs


def _default_groups(n: int, count: int = 4) -> list[int]:
    """``count`` índices repartidos del primer al último de ``n`` grupos."""
    return sorted({round(v) for v in np.linspace(0, n - 1, min(count, n))})


def feature_maps(model: nn.Module, image, groups: Sequence[int] | None = None,
                 ) -> list[tuple[str, torch.Tensor]]:
    """Los mapas de activación de una foto tras algunos grupos de capas.

    El modelo se recorre pieza a pieza (``layer_groups(model)[i].pieces``), en evaluación y sin
    gradientes, con la normalización de sus pesos (``model_info``).

    Args:
        model: un modelo del catálogo.
        image: la foto, ``uint8 [3, H, W]`` (o ``[H, W, 3]``).
        groups: índices de los grupos tras los que capturar; por defecto cuatro repartidos del
            tallo a la última etapa (la cabeza no da mapas: su salida es un vector).

    Returns:
        Pares ``(nombre del grupo, tensor [C, h, w])`` en el orden de los grupos.
    """
    outputs = _spatial_outputs(model, _as_chw_uint8(image))
    chosen = _default_groups(len(outputs)) if groups is None else sorted(set(groups))
    bad = [g for g in chosen if not 0 <= g < len(outputs)]
    if bad:
        names = ", ".join(f"{i}={name}" for i, (name, _) in enumerate(outputs))
        raise LabkitError(f"Los grupos {bad} no dan mapas de activación. Elige entre los que "
                          f"sí: {names}.")
    return [outputs[g] for g in chosen]


def _most_active(maps: torch.Tensor, channels: int) -> list[int]:
    """Los canales con mayor activación media en valor absoluto."""
    strength = maps.abs().mean(dim=(1, 2))
    return strength.argsort(descending=True)[:channels].tolist()


def _draw_map_row(axes: Sequence[Axes], name: str, maps: torch.Tensor, channels: int) -> None:
    """Una fila: los canales más activos de un grupo, cada uno escalado a su propio rango."""
    for ax, c in zip(axes, _most_active(maps, channels), strict=False):
        ax.imshow(maps[c].numpy(), cmap="magma", interpolation="nearest")
        ax.set_xlabel(f"canal {c}", fontsize=7, labelpad=1)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    c_all, h, w = maps.shape
    axes[0].set_ylabel(f"{name}\n{c_all}×{h}×{w}", fontsize=8, rotation=0, ha="right",
                       va="center")


def plot_feature_maps(model: nn.Module, image, groups: Sequence[int] | None = None,
                      channels: int = 6) -> Figure:
    """La foto y, por cada profundidad elegida, sus canales más activos.

    Las filas van del tallo a las etapas finales, con menos resolución y más canales a cada paso
    (el título de cada fila dice canales × alto × ancho): en el tallo se ven bordes de la foto;
    en lo profundo, cada canal es una cuadrícula pequeña que dice *dónde* responde, no *qué* ve.

    Args:
        model: un modelo del catálogo.
        image: la foto, ``uint8 [3, H, W]`` (o ``[H, W, 3]``).
        groups: índices de los grupos (ver :func:`feature_maps`).
        channels: canales por fila.

    Returns:
        La figura.
    """
    photo = _as_chw_uint8(image)
    maps = feature_maps(model, photo, groups)
    rows, cols = len(maps), max(1, channels)
    width = min(10.0, 2.6 + 1.15 * cols)
    cell = (width - 1.0) / (cols + 2.2) * photo.shape[1] / photo.shape[2]
    fig = new_figure((width, min(5.5, 0.6 + rows * (cell + 0.3))))
    grid = fig.add_gridspec(rows, cols + 1, width_ratios=[2.2] + [1.0] * cols)
    ax_photo = fig.add_subplot(grid[:, 0])
    ax_photo.imshow(photo.permute(1, 2, 0).numpy())
    ax_photo.axis("off")
    ax_photo.set_title("la foto", fontsize=9)
    for r, (name, m) in enumerate(maps):
        _draw_map_row([fig.add_subplot(grid[r, c + 1]) for c in range(cols)], name, m, cols)
    fig.suptitle(f"Mapas de activación de {_model_title(model)}: los canales más activos",
                 fontsize=10)
    return fig
