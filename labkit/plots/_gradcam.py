"""Dónde mira el modelo: Grad-CAM sobre la última etapa convolucional, y cuánto mira al borde.

Grad-CAM (Selvaraju et al., 2017) pondera cada canal de los mapas de la última etapa
convolucional por el gradiente medio de la puntuación de una clase respecto a ese canal, suma,
se queda con lo positivo y lo lleva al tamaño de la imagen: un mapa de calor por imagen que dice
qué zonas empujan hacia esa clase. Se eligió porque funciona con cualquier familia del catálogo
sin tocar el modelo (basta recorrer sus grupos de capas, :func:`labkit.layer_groups`), cuesta una
pasada hacia delante y otra hacia atrás, y con mapas de 4×4 a 7×7 su resolución basta para la
pregunta del curso: ¿mira el objeto o mira el borde, el texto o el marco? (el «aprendizaje por
atajos» de las radiografías: Zech et al., 2018; DeGrave et al., 2021).

Uso::

    cam = labkit.plots.grad_cam(modelo, datos.test.images[:8])
    labkit.plots.plot_grad_cam(cam, classes=datos.classes)
    labkit.plots.border_fraction(cam.heatmaps)       # fracción de la atribución en el borde
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from ..base._errors import LabkitError
from ..base._figures import new_figure
from ..base._validate import check_float, check_int
from ..data._data import ImageSet, normalize, to_numpy_image
from ..models._freezing import eval_mode
from ..models._groups import layer_groups
from ..models._models import model_info
from ._viz import _spatial_outputs

__all__ = ["MIN_MAP_SIDE", "GradCam", "grad_cam", "spatial_groups", "border_mask", "mass_fraction",
           "border_fraction", "outside_fraction", "plot_grad_cam"]

MIN_MAP_SIDE = 4
"""Lado mínimo de los mapas que usa Grad-CAM por defecto: con 2×2 solo distingue cuadrantes."""


@dataclass
class GradCam:
    """Los mapas de Grad-CAM de un lote de imágenes.

    Attributes:
        heatmaps: ``float32 [N, H, W]`` de 0 a 1 (1 = lo que más empuja a la clase explicada),
            del tamaño de las imágenes; todo ceros si nada empuja a esa clase.
        images: las imágenes, ``uint8 [N, 3, H, W]``.
        targets: la clase explicada en cada imagen.
        predicted: la clase predicha en cada imagen.
        probabilities: probabilidad que el modelo da a la clase explicada, ``[N]``.
        group: el grupo de capas cuyos mapas se usaron (p. ej. ``"layer4"``).
        map_size: alto y ancho de esos mapas (la resolución real del mapa de calor).
    """

    heatmaps: np.ndarray
    images: torch.Tensor
    targets: list[int]
    predicted: list[int]
    probabilities: np.ndarray
    group: str
    map_size: tuple[int, int]

    def __len__(self) -> int:
        return len(self.targets)


def _as_images(images: object) -> torch.Tensor:
    """Las imágenes como ``uint8 [N, 3, H, W]`` (admite un ``ImageSet`` o una sola imagen)."""
    if isinstance(images, ImageSet):
        images = images.images
    if not isinstance(images, torch.Tensor):
        raise LabkitError("grad_cam necesita imágenes uint8 [N, 3, H, W] (o un ImageSet); llegó "
                          f"{type(images).__name__}.")
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise LabkitError("grad_cam necesita imágenes uint8 [N, 3, H, W] (las de un ImageSet, sin "
                          f"normalizar); llegó {tuple(images.shape)} de tipo {images.dtype}.")
    if len(images) == 0:
        raise LabkitError("No hay imágenes: el lote está vacío.")
    return images


def _spatial_sizes(model: nn.Module, size: tuple[int, int]) -> list[tuple[str, tuple[int, int]]]:
    """``(grupo, (alto, ancho) de sus mapas)`` de los grupos que aún dan mapas ``[C, h, w]``."""
    blank = torch.zeros(3, *size, dtype=torch.uint8)
    return [(name, (int(t.shape[1]), int(t.shape[2]))) for name, t in _spatial_outputs(model, blank)]


def spatial_groups(model: nn.Module, image_size: int | tuple[int, int] = 64) -> list[str]:
    """Los grupos de capas cuya salida aún es un mapa ``[C, h, w]`` (los que admite Grad-CAM).

    Args:
        model: un modelo del catálogo.
        image_size: lado de la imagen (o ``(alto, ancho)``) con que se recorre el modelo.

    Returns:
        Los nombres de esos grupos, del tallo a la última etapa convolucional.
    """
    side = image_size if isinstance(image_size, tuple) else (image_size, image_size)
    return [name for name, _ in _spatial_sizes(model, side)]


def _pick_group(model: nn.Module, group: str | int | None, size: tuple[int, int]) -> int:
    """Índice del grupo cuyos mapas se usan: por defecto, la última etapa convolucional con mapas
    de al menos ``MIN_MAP_SIDE`` de lado (con imágenes pequeñas, la última da 2×2 o 1×1)."""
    names = [g.name for g in layer_groups(model)]
    sizes = _spatial_sizes(model, size)
    spatial = [name for name, _ in sizes]
    if not spatial:
        raise LabkitError("Este modelo no da mapas [C, h, w] en ningún grupo: Grad-CAM no se "
                          "puede calcular.")
    if group is None:
        fine = [name for name, (h, w) in sizes if min(h, w) >= MIN_MAP_SIDE]
        if not fine:
            warnings.warn(f"Con imágenes de {size[0]}×{size[1]} px ningún grupo da mapas de "
                          f"{MIN_MAP_SIDE}×{MIN_MAP_SIDE} o más: Grad-CAM usa «{spatial[-1]}» "
                          f"({sizes[-1][1][0]}×{sizes[-1][1][1]}) y apenas dirá dónde mira. Usa "
                          "imágenes más grandes.", stacklevel=3)
        return names.index(fine[-1] if fine else spatial[-1])
    if isinstance(group, str):
        if group not in spatial:
            raise LabkitError(f"El grupo «{group}» no da mapas de activación. Elige uno de: "
                              f"{', '.join(spatial)}.")
        return names.index(group)
    index = check_int("group", group, minimum=0, maximum=len(spatial) - 1,
                      expected=f"el nombre o el índice (0 a {len(spatial) - 1}) de un grupo "
                               f"con mapas: {', '.join(spatial)}")
    return names.index(spatial[index])


def _targets(target: int | Sequence[int] | None, n: int, num_classes: int) -> list[int] | None:
    """La clase que se explica en cada imagen (``None``: la predicha)."""
    if target is None:
        return None
    values = [target] * n if isinstance(target, (int, np.integer)) else list(target)
    if len(values) != n:
        raise LabkitError(f"target tiene {len(values)} clases para {n} imágenes: da una por "
                          "imagen, un solo número para todas o None (la clase predicha).")
    return [check_int("target", v, minimum=0, maximum=num_classes - 1) for v in values]


def _cam_batch(model: nn.Module, x: torch.Tensor, depth: int,
               target: list[int] | None) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Grad-CAM de un lote ya normalizado: ``(mapas [B, h, w], probabilidades, clases)``."""
    groups = layer_groups(model)
    with torch.no_grad():
        for group in groups[:depth + 1]:
            for piece in group.pieces:
                x = piece(x)
    maps = x.detach().float().requires_grad_(True)  # así hay gradiente aunque todo esté congelado
    with torch.enable_grad():
        out = maps
        for group in groups[depth + 1:]:
            for piece in group.pieces:
                out = piece(out)
        logits = out.float()
        classes = target if target is not None else logits.argmax(1).tolist()
        chosen = logits[torch.arange(len(classes)), torch.tensor(classes)]
        (grads,) = torch.autograd.grad(chosen.sum(), maps)
    weights = grads.mean(dim=(2, 3), keepdim=True)
    cams = F.relu((weights * maps.detach()).sum(1))
    probs = logits.detach().softmax(1)[torch.arange(len(classes)), torch.tensor(classes)]
    return cams, probs, classes


def grad_cam(model: nn.Module, images: ImageSet | torch.Tensor,
             target: int | Sequence[int] | None = None, group: str | int | None = None,
             batch_size: int = 16) -> GradCam:
    """Calcula el mapa de Grad-CAM de cada imagen para la clase predicha (o la que se pida).

    El modelo se recorre grupo a grupo (:func:`labkit.layer_groups`), en evaluación; sus
    parámetros no cambian ni se les calcula gradiente (sirve con el modelo congelado).

    Args:
        model: un modelo del catálogo (entrenado con las clases del conjunto).
        images: ``uint8 [N, 3, H, W]``, una imagen ``[3, H, W]`` o un ``ImageSet``.
        target: la clase que se explica: ``None`` (la predicha), una para todas o una por imagen.
        group: nombre o índice del grupo cuyos mapas se usan (por defecto, la última etapa
            convolucional con mapas de al menos ``MIN_MAP_SIDE`` de lado: la de más significado
            que aún conserva el dónde; a 224 px, la última de todas).
        batch_size: imágenes por lote.

    Returns:
        Un :class:`GradCam` con un mapa ``[H, W]`` de 0 a 1 por imagen.
    """
    images = _as_images(images)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    info = model_info(model)
    size = (int(images.shape[2]), int(images.shape[3]))
    depth = _pick_group(model, group, size)
    targets = _targets(target, len(images), info.num_classes)
    device = next(model.parameters()).device
    map_size = dict(_spatial_sizes(model, size))[layer_groups(model)[depth].name]
    heat, probs, classes, predicted = [], [], [], []
    with eval_mode(model):
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            x = normalize(chunk, info.mean, info.std).to(device)
            wanted = None if targets is None else targets[start:start + len(chunk)]
            cams, p, c = _cam_batch(model, x, depth, wanted)
            with torch.no_grad():
                predicted += model(x).argmax(1).tolist() if wanted is not None else c
            up = F.interpolate(cams.unsqueeze(1), size=size, mode="bilinear", align_corners=False)
            up = up[:, 0].clamp_min(0)
            peak = up.amax(dim=(1, 2), keepdim=True)
            heat.append(torch.where(peak > 0, up / peak.clamp_min(1e-12), 0.0).cpu())
            probs.append(p.cpu())
            classes += c
    return GradCam(torch.cat(heat).numpy().astype(np.float32), images.cpu(), classes, predicted,
                   torch.cat(probs).numpy(), layer_groups(model)[depth].name, map_size)


# ---------------------------------------------------------------------------- cuánto mira dónde
def _heatmaps(heatmaps: object) -> np.ndarray:
    """Los mapas como ``float [N, H, W]`` no negativos (admite un :class:`GradCam`)."""
    arr = np.asarray(heatmaps.heatmaps if isinstance(heatmaps, GradCam) else heatmaps,
                     dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.size == 0:
        raise LabkitError(f"Los mapas deben ser [N, H, W] (o un GradCam); llegó la forma "
                          f"{arr.shape}.")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise LabkitError("Los mapas deben ser números finitos y no negativos (como los de "
                          "grad_cam).")
    return arr


def border_mask(size: int | tuple[int, int], width: float = 0.1) -> np.ndarray:
    """Máscara del borde de una imagen: ``True`` en la franja de ``width`` del lado por cada lado.

    Args:
        size: lado de la imagen o ``(alto, ancho)``.
        width: grosor de la franja, como fracción del lado (de 0 a 0,5).

    Returns:
        ``bool [H, W]``.
    """
    h, w = size if isinstance(size, tuple) else (size, size)
    h, w = check_int("size", h, minimum=1), check_int("size", w, minimum=1)
    width = check_float("width", width, minimum=0.0, maximum=0.5)
    bh, bw = math.ceil(h * width), math.ceil(w * width)
    mask = np.zeros((h, w), dtype=bool)
    if bh:
        mask[:bh], mask[h - bh:] = True, True
    if bw:
        mask[:, :bw], mask[:, w - bw:] = True, True
    return mask


def mass_fraction(heatmaps: GradCam | np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Qué fracción de la atribución de cada mapa cae dentro de una máscara.

    Args:
        heatmaps: un :class:`GradCam` o mapas ``[N, H, W]`` (o ``[H, W]``) no negativos.
        mask: ``bool [H, W]`` (la misma para todos) o ``[N, H, W]`` (una por imagen).

    Returns:
        ``float [N]`` de 0 a 1; ``nan`` para un mapa todo ceros (no mira a ninguna parte).
    """
    arr = _heatmaps(heatmaps)
    m = np.asarray(mask)
    if m.dtype != bool:
        raise LabkitError(f"La máscara debe ser de tipo bool (True = dentro); llegó {m.dtype}.")
    if m.shape not in (arr.shape[1:], arr.shape):
        raise LabkitError(f"La máscara tiene forma {m.shape} y los mapas {arr.shape}: deben "
                          "tener el mismo alto y ancho.")
    total = arr.sum(axis=(1, 2))
    inside = (arr * m).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, inside / np.where(total > 0, total, 1.0), np.nan)


def border_fraction(heatmaps: GradCam | np.ndarray, width: float = 0.1) -> np.ndarray:
    """Fracción de la atribución de cada mapa en el borde de la imagen (marcos, texto, reglas).

    Compárala con el área del borde (``border_mask(...).mean()``): si el modelo mirara al azar,
    las dos serían iguales.

    Args:
        heatmaps: un :class:`GradCam` o mapas ``[N, H, W]``.
        width: grosor de la franja del borde, como fracción del lado.

    Returns:
        ``float [N]`` de 0 a 1 (``nan`` para un mapa todo ceros).
    """
    arr = _heatmaps(heatmaps)
    return mass_fraction(arr, border_mask(arr.shape[1:], width))


def outside_fraction(heatmaps: GradCam | np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fracción de la atribución de cada mapa fuera de una máscara (p. ej., fuera de los pulmones).

    Args:
        heatmaps: un :class:`GradCam` o mapas ``[N, H, W]``.
        mask: ``bool [H, W]`` o ``[N, H, W]``, ``True`` en la zona que debería mirar.

    Returns:
        ``float [N]`` de 0 a 1 (``nan`` para un mapa todo ceros).
    """
    return 1.0 - mass_fraction(heatmaps, mask)


def plot_grad_cam(cam: GradCam, classes: Sequence[str] | None = None,
                  labels: Sequence[int] | torch.Tensor | None = None, ncols: int = 4,
                  alpha: float = 0.45) -> Figure:
    """Dibuja cada imagen con su mapa de Grad-CAM encima (rojo = lo que más empuja a la clase).

    Args:
        cam: el resultado de :func:`grad_cam`.
        classes: nombres de las clases (por defecto, sus números).
        labels: la clase verdadera de cada imagen, si se quiere ver en el título.
        ncols: imágenes por fila.
        alpha: opacidad del mapa (0 = solo la imagen, 1 = solo el mapa).

    Returns:
        La figura.
    """
    if not isinstance(cam, GradCam):
        raise LabkitError(f"plot_grad_cam necesita el resultado de grad_cam; llegó "
                          f"{type(cam).__name__}.")
    ncols = check_int("ncols", ncols, minimum=1)
    alpha = check_float("alpha", alpha, minimum=0.0, maximum=1.0)
    truth = None if labels is None else [int(v) for v in labels]
    if truth is not None and len(truth) != len(cam):
        raise LabkitError(f"labels tiene {len(truth)} etiquetas para {len(cam)} imágenes.")

    def name(k: int) -> str:
        return str(classes[k]) if classes is not None and 0 <= k < len(classes) else str(k)

    n, cols = len(cam), min(ncols, len(cam))
    rows = math.ceil(n / cols)
    fig = new_figure((2.6 * cols, 2.8 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(to_numpy_image(cam.images[i]))
        ax.imshow(cam.heatmaps[i], cmap="jet", alpha=alpha, vmin=0.0, vmax=1.0)
        title = f"{name(cam.targets[i])} ({cam.probabilities[i]:.0%})"
        if cam.predicted[i] != cam.targets[i]:
            title += f"\npredice {name(cam.predicted[i])}"
        if truth is not None:
            title += f"\nreal: {name(truth[i])}"
        ax.set_title(title, fontsize=9)
    h, w = cam.map_size
    fig.suptitle(f"Grad-CAM sobre «{cam.group}» (mapas de {h}×{w}): dónde mira el modelo",
                 fontsize=11)
    return fig
