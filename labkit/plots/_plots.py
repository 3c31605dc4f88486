"""Figuras del curso: imágenes, curvas de entrenamiento, tasas por grupo y barridos.

Cada función devuelve una figura de matplotlib (:class:`LabFigure`) sin dejarla abierta en el
estado global de ``pyplot``: en un cuaderno basta con que sea el valor de la celda para que se vea
una sola vez, y en las pruebas no se acumulan figuras. Los colores son los de Okabe e Ito
(distinguibles con daltonismo), los textos están en español y los tamaños son pequeños para que
los cuadernos pesen poco.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..base._errors import LabkitError
from ..base._figures import PALETTE, new_figure, text_figure
from ..base._fmt import pct
from ..data._data import ImageSet, to_numpy_image
from ..data._photocredits import credit_footer, photo_credits

# Las piezas comunes viven en labkit.base (_figures), las curvas en _curveplots y los barridos en
# _sweepplots; aquí, las figuras de imágenes, confusión y predicciones.
__all__ = ["plot_image_grid", "plot_confusion", "plot_misclassified", "plot_predictions"]


def _clean_axes(ax: Axes) -> None:
    """Quita marcas y bordes de un eje que muestra una imagen (deja visibles los rótulos)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _as_hwc(image) -> np.ndarray:
    """Convierte una imagen (tensor ``[3, H, W]`` o arreglo ``[H, W, 3]``/``[H, W]``) para
    imshow."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        image = image.permute(1, 2, 0) if image.ndim == 3 and image.shape[0] in (1, 3) else image
        image = image.numpy()
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return array


# ---------------------------------------------------------------------------------------------
# Imágenes de un conjunto
# ---------------------------------------------------------------------------------------------

def _pick_per_class(data: ImageSet, per_class: int, seed: int) -> list[list[int]]:
    """Hasta ``per_class`` índices al azar (repetibles) de cada clase."""
    gen = torch.Generator().manual_seed(seed)
    picks = []
    for c in range(data.num_classes):
        idx = torch.nonzero(data.labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)][:per_class]
        picks.append(idx.sort().values.tolist())
    return picks


def plot_image_grid(data: ImageSet, per_class: int = 6, seed: int = 0,
                    title: str | None = None) -> Figure:
    """Una cuadrícula de ejemplos: una fila por clase, con su nombre y cuántas imágenes tiene.

    Args:
        data: el conjunto (el integrado o el de las carpetas del alumno).
        per_class: imágenes por fila.
        seed: semilla para elegir las imágenes.
        title: título; por defecto, el nombre del conjunto.

    Returns:
        La figura. Con fotos de :func:`labkit.flowers` (CC BY 2.0) lleva la licencia al pie, y
        ``print(fig.photo_credits)`` escribe el autor y el enlace de cada foto mostrada.
    """
    if per_class < 1:
        raise LabkitError(f"per_class debe ser 1 o más; llegó {per_class}.")
    if len(data) == 0 or data.num_classes == 0:
        return text_figure("El conjunto está vacío: no hay imágenes que mostrar.")
    picks = _pick_per_class(data, per_class, seed)
    rows, counts = data.num_classes, data.class_counts()
    cell = min(1.2, 8.5 / per_class, max(0.75, 3.4 / rows))
    fig = new_figure((per_class * cell + 1.4, rows * cell + 0.5))
    axes = fig.subplots(rows, per_class, squeeze=False)
    for r, name in enumerate(data.classes):
        for c, ax in enumerate(axes[r]):
            _clean_axes(ax)
            if c < len(picks[r]):
                ax.imshow(to_numpy_image(data.images[picks[r][c]]))
        axes[r][0].set_ylabel(f"{name}\n({counts[name]})", rotation=0, ha="right", va="center",
                              fontsize=9)
    h, w = data.image_size
    fig.suptitle(title or f"{data.name or 'Conjunto'}: {len(data)} imágenes de {h}×{w} px",
                 fontsize=11)
    _add_photo_credit(fig, data, [i for row in picks for i in row])
    return fig


def _add_photo_credit(fig: Figure, data: ImageSet, shown: list[int]) -> None:
    """Fotos con licencia (:func:`labkit.flowers`, :func:`labkit.beans`): la licencia al pie y,
    en ``fig.photo_credits``, el crédito de cada foto mostrada, en orden (fila a fila)."""
    footer = credit_footer(data)
    if footer is None:
        return
    fig.supxlabel(footer, fontsize=7, color="#444444")  # el diseño «constrained» le deja sitio
    fig.photo_credits = photo_credits(data, shown)


# ---------------------------------------------------------------------------------------------
# Matriz de confusión y errores
# ---------------------------------------------------------------------------------------------

def _as_array(values, dtype=float) -> np.ndarray:
    """Un tensor, lista o arreglo como arreglo de numpy."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=dtype)


def _annotate_confusion(ax: Axes, shown: np.ndarray, counts: np.ndarray, normalize: bool,
                        vmax: float) -> None:
    """Escribe el valor de cada celda, en blanco sobre las celdas oscuras."""
    n = len(shown)
    size = 9 if n <= 6 else 7
    for r in range(n):
        for c in range(n):
            value = shown[r, c]
            if np.isnan(value):
                text = "–"
            elif normalize:
                text = pct(value, 0) + (f"\n({int(counts[r, c])})" if n <= 6 else "")
            else:
                text = f"{int(value)}" if float(value).is_integer() else f"{value:.2f}"
            dark = not np.isnan(value) and value > 0.55 * vmax
            ax.text(c, r, text, ha="center", va="center", fontsize=size,
                    color="white" if dark else "black")


def plot_confusion(matrix, classes: Sequence[str], normalize: bool = True) -> Figure:
    """La matriz de confusión: filas = clase real, columnas = clase predicha.

    Args:
        matrix: cuentas ``[C, C]`` (tensor, arreglo o lista de listas).
        classes: nombres de las ``C`` clases.
        normalize: si ``True`` muestra la fracción de cada clase real (cada fila suma 100 %),
            con la cuenta entre paréntesis.

    Returns:
        La figura.
    """
    counts = _as_array(matrix)
    n = len(classes)
    if counts.ndim != 2 or counts.shape != (n, n):
        raise LabkitError(f"La matriz debe ser cuadrada de {n}×{n} (una fila y una columna por "
                          f"clase); llegó de forma {counts.shape}.")
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shown = np.where(totals > 0, counts / totals, np.nan) if normalize else counts
    vmax = 1.0 if normalize else max(float(np.nanmax(counts)), 1.0)
    side = min(8.0, 2.4 + 0.55 * n)
    fig = new_figure((side + 0.8, side))
    ax = fig.subplots()
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=vmax)
    _annotate_confusion(ax, shown, counts, normalize, vmax)
    tilt = n > 4 or max(len(c) for c in classes) > 8
    ax.set_xticks(range(n), classes, rotation=45 if tilt else 0, ha="right" if tilt else "center")
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("clase predicha")
    ax.set_ylabel("clase real")
    ax.set_title("Matriz de confusión" + (" (por clase real)" if normalize else ""), fontsize=11)
    fig.colorbar(image, ax=ax, shrink=0.8, format=PercentFormatter(1.0, decimals=0, symbol=" %") if normalize else None)
    return fig


def _predicted_prob(probs, preds: torch.Tensor) -> torch.Tensor | None:
    """La probabilidad de la clase predicha: de ``[N]`` tal cual o de ``[N, C]`` por índice."""
    if probs is None:
        return None
    p = torch.as_tensor(_as_array(probs, np.float32))
    if p.ndim == 2:
        p = p.gather(1, preds.view(-1, 1)).flatten()
    if p.shape != preds.shape:
        raise LabkitError(f"probs tiene forma {tuple(p.shape)}: debe ser [N] o [N, clases] con "
                          f"N = {len(preds)}.")
    return p


def _misclassified_title(data: ImageSet, i: int, pred: int, prob: float | None) -> str:
    """El rótulo de un error: clase real y clase predicha (con su probabilidad)."""
    text = f"real: {data.classes[int(data.labels[i])]}\npredicho: {data.classes[pred]}"
    return text + (f" ({pct(prob, 0)})" if prob is not None else "")


def plot_misclassified(data: ImageSet, preds, probs=None, max_images: int = 8) -> Figure:
    """Las imágenes que el modelo clasificó mal, con la clase real y la predicha.

    Args:
        data: el conjunto evaluado.
        preds: clase predicha por imagen ``[N]`` (o puntuaciones ``[N, C]``: se toma la mayor).
        probs: probabilidad de la clase predicha ``[N]`` o todas las probabilidades ``[N, C]``;
            con ellas se muestran primero los errores más seguros (los más instructivos).
        max_images: cuántos errores mostrar como mucho.

    Returns:
        La figura; si no hay errores, una figura con un mensaje que lo celebra.
    """
    preds = torch.as_tensor(_as_array(preds, np.float32))
    preds = (preds.argmax(1) if preds.ndim == 2 else preds).long().flatten()
    if len(preds) != len(data):
        raise LabkitError(f"Hay {len(data)} imágenes y {len(preds)} predicciones.")
    confidence = _predicted_prob(probs, preds)
    wrong = torch.nonzero(preds != data.labels).flatten()
    if len(wrong) == 0:
        return text_figure(f"¡Ninguna imagen mal clasificada! El modelo acertó las {len(data)}.")
    if confidence is not None:
        wrong = wrong[confidence[wrong].argsort(descending=True, stable=True)]
    shown = wrong[:max(1, max_images)].tolist()
    cols = min(4, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig = new_figure((2.0 * cols, 2.2 * rows + 0.4))
    for k, ax in enumerate(fig.subplots(rows, cols, squeeze=False).flat):
        ax.axis("off")
        if k < len(shown):
            i = shown[k]
            prob = float(confidence[i]) if confidence is not None else None
            ax.imshow(to_numpy_image(data.images[i]))
            ax.set_title(_misclassified_title(data, i, int(preds[i]), prob), fontsize=8)
    order = "; primero los más seguros" if confidence is not None else ""
    fig.suptitle(f"{len(wrong)} de {len(data)} mal clasificadas ({pct(len(wrong) / len(data), 0)})"
                 f"{order}", fontsize=10)
    return fig


# ---------------------------------------------------------------------------------------------
# Predicciones sobre fotos (top-k)
# ---------------------------------------------------------------------------------------------

def _draw_topk(ax: Axes, ranking: Sequence[tuple[str, float]]) -> None:
    """Barras horizontales de las k clases más probables, la primera resaltada."""
    labels = [str(label) for label, _ in ranking]
    probs = [float(p) for _, p in ranking]
    y = np.arange(len(probs))[::-1]
    colors = [PALETTE[0]] + ["#9ecae1"] * (len(probs) - 1)
    ax.barh(y, probs, color=colors[:len(probs)], height=0.7)
    for yy, p in zip(y, probs, strict=True):
        ax.text(min(p, 1.0) + 0.02, yy, pct(p, 0), va="center", fontsize=8)
    ax.set_yticks(y, [lb if len(lb) <= 24 else lb[:23] + "…" for lb in labels], fontsize=8)
    ax.set_xlim(0, 1.18)
    ax.set_xticks([0, 0.5, 1.0])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0, symbol=" %"))
    ax.tick_params(axis="x", labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def plot_predictions(images: Sequence, topk: Sequence[Sequence[tuple[str, float]]],
                     titles: Sequence[str] | None = None) -> Figure:
    """Cada foto junto a las barras de sus k clases más probables (dos fotos por fila).

    Args:
        images: fotos ``[H, W, 3]`` ``uint8`` (o tensores ``[3, H, W]``).
        topk: por foto, pares ``(clase, probabilidad)`` de mayor a menor.
        titles: un título por foto (opcional).

    Returns:
        La figura.
    """
    n = len(images)
    if len(topk) != n or (titles is not None and len(titles) != n):
        raise LabkitError(f"Hay {n} imágenes, {len(topk)} listas top-k y "
                          f"{'sin' if titles is None else len(titles)} títulos: deben coincidir.")
    if n == 0:
        return text_figure("No hay imágenes que mostrar.")
    pairs = min(2, n)
    rows = math.ceil(n / pairs)
    fig = new_figure((4.8 * pairs, 2.3 * rows))
    grid = fig.add_gridspec(rows, 2 * pairs, width_ratios=[1.0, 1.25] * pairs)
    for k in range(n):
        r, c = divmod(k, pairs)
        ax_img, ax_bar = fig.add_subplot(grid[r, 2 * c]), fig.add_subplot(grid[r, 2 * c + 1])
        ax_img.imshow(_as_hwc(images[k]))
        ax_img.axis("off")
        if titles is not None:
            ax_img.set_title(str(titles[k]), fontsize=9)
        _draw_topk(ax_bar, topk[k])
    return fig
