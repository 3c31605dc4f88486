"""Figuras del curso: imágenes, curvas de entrenamiento, tasas por grupo y barridos.

Cada función devuelve una figura de matplotlib (:class:`LabFigure`) sin dejarla abierta en el
estado global de ``pyplot``: en un cuaderno basta con que sea el valor de la celda para que se vea
una sola vez, y en las pruebas no se acumulan figuras. Los colores son los de Okabe e Ito
(distinguibles con daltonismo), los textos están en español y los tamaños son pequeños para que
los cuadernos pesen poco.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, NullLocator, PercentFormatter, ScalarFormatter

from .callbacks import History
from .data import ImageSet, to_numpy_image
from .errors import LabkitError
from .fmt import pct
from .photocredits import credit_footer, photo_credits

__all__ = [
    "PALETTE", "DPI", "LabFigure", "new_figure", "text_figure", "axis_label", "format_lr",
    "plot_image_grid", "plot_history", "plot_lr_groups", "plot_confusion", "plot_misclassified",
    "plot_predictions", "plot_accuracy_vs_samples", "plot_sweep",
]

#: Paleta de Okabe e Ito: distinguible con los tipos comunes de daltonismo.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
           "#F0E442")
#: Resolución de las figuras (puntos por pulgada): baja, para cuadernos ligeros.
DPI = 90

_PHASE_COLORS = {"cabeza": "#E69F00", "ajuste fino": "#56B4E9"}
_LABELS = {
    "n_train": "imágenes de entrenamiento", "test_acc": "exactitud en prueba",
    "val_acc": "exactitud en validación", "train_acc": "exactitud en entrenamiento",
    "test_loss": "pérdida en prueba", "val_loss": "pérdida en validación",
    "seconds": "tiempo (s)", "time_s": "tiempo (s)", "train_seconds": "tiempo de entrenamiento (s)",
    "freeze_depth": "grupos congelados", "depth": "grupos congelados",
    "lr_ratio": "razón entre tasas", "ratio": "razón entre tasas", "lr": "tasa de aprendizaje",
    "method": "método", "seed": "semilla", "model": "modelo", "epochs": "épocas",
    "trainable": "parámetros entrenables",
}


class LabFigure(Figure):
    """Una figura de matplotlib que Jupyter muestra por sí sola, sin pasar por ``pyplot``.

    Se comporta como cualquier ``Figure`` (``savefig``, ``axes``…); además sabe dibujarse como
    PNG cuando es el valor de una celda o se pasa a ``display``.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def new_figure(figsize: tuple[float, float], dpi: int = DPI) -> LabFigure:
    """Crea una figura vacía con diseño ajustado (``constrained``) fuera de ``pyplot``.

    Args:
        figsize: ancho y alto en pulgadas.
        dpi: resolución.

    Returns:
        La figura, lista para ``fig.subplots()``.
    """
    return LabFigure(figsize=figsize, dpi=dpi, layout="constrained")


def text_figure(message: str, figsize: tuple[float, float] = (6.0, 1.4)) -> LabFigure:
    """Una figura que solo muestra un mensaje (p. ej. cuando no hay nada que dibujar).

    Args:
        message: el texto, en español.
        figsize: ancho y alto en pulgadas.

    Returns:
        La figura con el mensaje centrado.
    """
    fig = new_figure(figsize)
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=11)
    return fig


def axis_label(key: str) -> str:
    """El nombre en español de una columna de resultados (``n_train`` → imágenes de entrenamiento).

    Args:
        key: nombre de la columna.

    Returns:
        Un rótulo legible; las columnas desconocidas se muestran con espacios en vez de ``_``.
    """
    return _LABELS.get(key, key.replace("_", " "))


def format_lr(value: float) -> str:
    """Una tasa de aprendizaje corta y legible: ``1e-6``, ``3.2e-5``.

    Args:
        value: la tasa (positiva).

    Returns:
        El texto con mantisa de un decimal como mucho y exponente sin ceros de relleno.
    """
    exponent = math.floor(math.log10(value))
    mantissa = round(value / 10**exponent, 1)
    if mantissa >= 10:
        mantissa, exponent = 1.0, exponent + 1
    text = f"{mantissa:.1f}".rstrip("0").rstrip(".")
    return f"{text}e{exponent}"


def _clean_axes(ax: Axes) -> None:
    """Quita marcas y bordes de un eje que muestra una imagen (deja visibles los rótulos)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _as_hwc(image) -> np.ndarray:
    """Convierte una imagen (tensor ``[3, H, W]`` o arreglo ``[H, W, 3]``/``[H, W]``) para imshow."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        image = image.permute(1, 2, 0) if image.ndim == 3 and image.shape[0] in (1, 3) else image
        image = image.numpy()
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return array


def _capital(text: str) -> str:
    """El texto con la primera letra en mayúscula (sin tocar las demás)."""
    return text[:1].upper() + text[1:]


def _is_fraction_key(key: str) -> bool:
    """Si la columna es una exactitud (de 0 a 1), que se muestra en porcentaje."""
    return key.endswith("acc") or key.endswith("accuracy") or "exactitud" in key


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
# Curvas de entrenamiento
# ---------------------------------------------------------------------------------------------

def _history_labels(histories: list[History], labels: Sequence[str] | None) -> list[str]:
    """Las etiquetas de cada historial (``ejecución 1``… si no se dan)."""
    if labels is None:
        return [f"ejecución {i + 1}" for i in range(len(histories))]
    if len(labels) != len(histories):
        raise LabkitError(f"Hay {len(histories)} historiales y {len(labels)} etiquetas: "
                          "da una etiqueta por historial.")
    return [str(label) for label in labels]


def _shared_phases(histories: list[History]) -> list[str]:
    """Las fases para sombrear: las del historial si todos los que tienen fases coinciden."""
    with_phases = [list(h.phase) for h in histories if any(h.phase)]
    if not with_phases or any(p != with_phases[0] for p in with_phases):
        return []
    return with_phases[0]


def _phase_spans(phases: list[str]) -> list[tuple[str, int, int]]:
    """Tramos consecutivos ``(fase, primera, última)`` con épocas desde 1."""
    spans: list[tuple[str, int, int]] = []
    for epoch, phase in enumerate(phases, 1):
        if spans and spans[-1][0] == phase:
            spans[-1] = (phase, spans[-1][1], epoch)
        else:
            spans.append((phase, epoch, epoch))
    return [s for s in spans if s[0]]


def _shade_phases(axes: Iterable[Axes], spans: list[tuple[str, int, int]]) -> list[Patch]:
    """Sombrea cada fase en los ejes y devuelve las entradas de leyenda."""
    handles: dict[str, Patch] = {}
    for phase, first, last in spans:
        color = _PHASE_COLORS.get(phase, "#999999")
        for ax in axes:
            ax.axvspan(first - 0.5, last + 0.5, color=color, alpha=0.15, lw=0)
        handles.setdefault(phase, Patch(color=color, alpha=0.3, label=f"fase: {phase}"))
    return list(handles.values())


def _draw_history(ax_loss: Axes, ax_acc: Axes, history: History, color: str) -> None:
    """Las curvas de un historial: entrenamiento discontinua, validación continua."""
    epochs = np.arange(1, history.epochs + 1)
    pairs = ((ax_loss, history.train_loss, history.val_loss),
             (ax_acc, history.train_acc, history.val_acc))
    for ax, train, val in pairs:
        if len(train) == len(epochs):
            ax.plot(epochs, train, ls="--", color=color, marker=".", lw=1.4)
        if len(val) == len(epochs):
            ax.plot(epochs, val, ls="-", color=color, marker="o", ms=3.5, lw=1.8)
        if history.best_epoch is not None:
            ax.axvline(history.best_epoch, color=color, ls=":", lw=1.4)


def _history_legend(labels: list[str], has_best: bool) -> list:
    """Entradas de leyenda: color por ejecución (si hay varias) y estilo por partición."""
    gray = "#555555"
    handles = [Line2D([], [], color=PALETTE[i % len(PALETTE)], lw=2, label=label)
               for i, label in enumerate(labels)] if len(labels) > 1 else []
    color = gray if len(labels) > 1 else PALETTE[0]
    handles += [Line2D([], [], color=color, ls="--", marker=".", label="entrenamiento"),
                Line2D([], [], color=color, ls="-", marker="o", ms=3.5, label="validación")]
    if has_best:
        handles.append(Line2D([], [], color=color, ls=":", label="mejor época"))
    return handles


def plot_history(history: History | Sequence[History],
                 labels: Sequence[str] | None = None) -> Figure:
    """Pérdida y exactitud por época (entrenamiento y validación), en dos paneles.

    Marca la mejor época (``history.best_epoch``) con una línea punteada y sombrea las fases
    ("cabeza", "ajuste fino") cuando el historial las tiene. Con una lista de historiales dibuja
    cada uno en un color, para comparar (p. ej. la misma tasa frente a tasas discriminativas).

    Args:
        history: un :class:`~labkit.callbacks.History` o una lista de ellos.
        labels: nombre de cada historial en la leyenda.

    Returns:
        La figura.
    """
    histories = [history] if isinstance(history, History) else list(history)
    if not histories:
        raise LabkitError("plot_history necesita al menos un historial.")
    labels = _history_labels(histories, labels)
    if all(h.epochs == 0 for h in histories):
        return text_figure("Aún no hay épocas que dibujar: entrena al menos una época.")
    fig = new_figure((9.0, 3.6))
    ax_loss, ax_acc = fig.subplots(1, 2)
    handles = _shade_phases((ax_loss, ax_acc), _phase_spans(_shared_phases(histories)))
    for i, h in enumerate(histories):
        _draw_history(ax_loss, ax_acc, h, PALETTE[i % len(PALETTE)])
    for ax, title in ((ax_loss, "Pérdida"), (ax_acc, "Exactitud")):
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("época")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0.5, max(h.epochs for h in histories) + 0.5)
        ax.grid(alpha=0.3)
    ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0, symbol=" %"))
    has_best = any(h.best_epoch is not None for h in histories)
    handles = _history_legend(labels, has_best) + handles
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5),
               fontsize=8, frameon=False)
    return fig


# ---------------------------------------------------------------------------------------------
# Tasas de aprendizaje por grupo
# ---------------------------------------------------------------------------------------------

def _lr_colors(values: list[float]) -> list[str]:
    """Un color por tasa: de la paleta secuencial viridis según su orden de magnitud."""
    from matplotlib import colormaps

    logs = np.log10(values)
    span = logs.max() - logs.min()
    scaled = (logs - logs.min()) / span if span > 0 else np.full(len(logs), 0.5)
    cmap = colormaps["viridis"]
    return [cmap(0.15 + 0.7 * s) for s in scaled]


def plot_lr_groups(group_names: Sequence[str], lrs: Sequence[float | None]) -> Figure:
    """Barras (eje y logarítmico) con la tasa de aprendizaje de cada grupo de capas.

    Args:
        group_names: nombres de los grupos, del tallo a la cabeza.
        lrs: la tasa de cada grupo; ``None`` o ``0`` para un grupo congelado.

    Returns:
        La figura, con cada tasa escrita sobre su barra (``1e-6``, ``1e-5``…).
    """
    names, values = list(group_names), [v if v and v > 0 else None for v in lrs]
    if len(names) != len(values):
        raise LabkitError(f"Hay {len(names)} grupos y {len(values)} tasas: da una por grupo.")
    active = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if not active:
        return text_figure("Todos los grupos están congelados: ninguno recibe tasa.")
    low, high = min(v for _, v in active), max(v for _, v in active)
    bottom, top = low / 10**0.7, high * 10**0.6
    fig = new_figure((min(10.0, 1.8 + 0.6 * len(names)), 3.2))
    ax = fig.subplots()
    ax.set_yscale("log")
    colors = _lr_colors([v for _, v in active])
    for (i, v), color in zip(active, colors, strict=True):
        ax.bar(i, v - bottom, bottom=bottom, color=color, width=0.7)
        ax.text(i, v * 1.15, format_lr(v), ha="center", va="bottom", fontsize=8)
    for i in (i for i, v in enumerate(values) if v is None):
        ax.text(i, bottom * 1.3, "congelado", ha="center", va="bottom", rotation=90,
                fontsize=8, color="#555555")
    ax.set_ylim(bottom, top)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_xticks(range(len(names)), names, rotation=45 if len(names) > 5 else 0,
                  ha="right" if len(names) > 5 else "center", fontsize=8)
    ax.set_ylabel("tasa (escala log)")
    ax.set_title("Tasa de aprendizaje de cada grupo de capas", fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    return fig


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


# ---------------------------------------------------------------------------------------------
# Barridos: exactitud frente a nº de imágenes, profundidad de congelado, razón de tasas
# ---------------------------------------------------------------------------------------------

@dataclass
class _Series:
    """Una serie agregada: por valor de x, la media, la desviación, el mínimo y el máximo."""

    xs: list
    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray
    runs: np.ndarray
    points: list[tuple] = field(default_factory=list)


def _records(rows, keys: Sequence[str | None]) -> list[dict]:
    """Las filas como lista de diccionarios, comprobando que tengan las columnas pedidas."""
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict("records")
    records = [dict(r) for r in rows]
    for key in (k for k in keys if k is not None):
        missing = [i for i, r in enumerate(records) if key not in r]
        if missing:
            available = ", ".join(sorted(records[missing[0]]))
            raise LabkitError(f"La fila {missing[0]} no tiene la columna '{key}'. "
                              f"Columnas que tiene: {available}.")
    return records


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def _x_order(records: list[dict], x: str) -> list:
    """Los valores distintos de x: ordenados si son números, si no en el orden en que aparecen."""
    values = list(dict.fromkeys(r[x] for r in records))
    return sorted(values) if all(_is_number(v) for v in values) else values


def _aggregate(records: list[dict], x: str, y: str, hue: str | None) -> dict[str, _Series]:
    """Agrupa por ``hue`` y por ``x`` y resume ``y`` (media, desviación, mínimo, máximo)."""
    grouped: dict[str, dict] = {}
    for r in records:
        label = str(r[hue]) if hue else axis_label(y)
        grouped.setdefault(label, {}).setdefault(r[x], []).append(float(r[y]))
    order = _x_order(records, x)
    series = {}
    for label, by_x in grouped.items():
        xs = [v for v in order if v in by_x]
        vals = [np.asarray(by_x[v], dtype=float) for v in xs]
        series[label] = _Series(
            xs, np.array([v.mean() for v in vals]), np.array([v.std() for v in vals]),
            np.array([v.min() for v in vals]), np.array([v.max() for v in vals]),
            np.array([len(v) for v in vals]),
            [(xv, yv) for xv, v in zip(xs, vals, strict=True) for yv in v])
    return series


def _style_x(ax: Axes, xs: list, log: bool, categorical: bool) -> None:
    """Eje x: logarítmico con los valores reales como marcas, o categórico."""
    if categorical:
        ax.set_xticks(range(len(xs)), [str(v) for v in xs],
                      rotation=45 if len(xs) > 6 else 0, ha="right" if len(xs) > 6 else "center")
        return
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
    if len(xs) <= 12:
        ax.set_xticks(xs)
        ax.xaxis.set_major_formatter(ScalarFormatter())


def _style_y(ax: Axes, key: str) -> None:
    """Eje y con su rótulo en español y en porcentaje si es una exactitud."""
    ax.set_ylabel(axis_label(key))
    if _is_fraction_key(key):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0, symbol=" %"))
    ax.grid(alpha=0.3)


def _draw_floor(ax: Axes, floor: float | None) -> None:
    """La línea de «siempre la clase mayoritaria»: el suelo con que se lee una exactitud."""
    if floor is None:
        return
    if not _is_number(floor) or not 0 <= float(floor) <= 1:
        raise LabkitError(f"floor={floor!r}: debe ser una fracción de 0 a 1 (p. ej. "
                          "labkit.evaluate(modelo, datos.test)['majority_accuracy']).")
    ax.axhline(float(floor), color="0.45", ls=":", lw=1.5,
               label=f"siempre la clase mayoritaria ({pct(float(floor))})")
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, float(floor) - 0.05), high)


def plot_accuracy_vs_samples(rows, x: str = "n_train", y: str = "test_acc",
                             hue: str | None = "method", band: str = "std",
                             floor: float | None = None) -> Figure:
    """Exactitud media por método frente al número de imágenes de entrenamiento (eje x log).

    Cada ejecución (semilla) es un punto tenue; la línea es la media y la banda, la dispersión.

    Args:
        rows: resultados, un diccionario por ejecución (p. ej. ``n_train``, ``seed``, ``method``,
            ``test_acc``), o un ``DataFrame``.
        x: columna del número de imágenes.
        y: columna de la exactitud.
        hue: columna que separa las curvas (el método); ``None`` para una sola curva.
        band: ``"std"`` (media ± desviación), ``"minmax"`` (de la peor a la mejor) o ``"none"``.
        floor: la exactitud de «siempre la clase mayoritaria» (línea punteada; el eje y la
            incluye). Úsala con pruebas desequilibradas: ``evaluate(...)["majority_accuracy"]``.

    Returns:
        La figura.
    """
    if band not in ("std", "minmax", "none"):
        raise LabkitError(f"band='{band}' no existe: usa 'std', 'minmax' o 'none'.")
    records = _records(rows, (x, y, hue))
    if not records:
        return text_figure("Aún no hay resultados: ejecuta el barrido primero.")
    if not _positive_numbers(_x_order(records, x)):
        raise LabkitError(f"La columna '{x}' debe tener números positivos (el eje x es "
                          "logarítmico); para categorías usa labkit.plots.plot_sweep.")
    fig = new_figure((7.0, 3.8))
    ax = fig.subplots()
    series = _aggregate(records, x, y, hue)
    for i, (label, s) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        px, py = np.array(s.points, dtype=float).T
        ax.scatter(px, py, s=12, color=color, alpha=0.35, lw=0)
        ax.plot(s.xs, s.mean, marker="o", color=color, lw=2, label=label)
        if band != "none" and s.runs.max() > 1:
            low, high = (s.mean - s.std, s.mean + s.std) if band == "std" else (s.low, s.high)
            ax.fill_between(s.xs, low, high, color=color, alpha=0.18, lw=0)
    _style_x(ax, _x_order(records, x), log=True, categorical=False)
    ax.set_xlabel(axis_label(x) + " (escala log)")
    _style_y(ax, y)
    _draw_floor(ax, floor)
    spread = {"std": "media ± desviación", "minmax": "media, mín. y máx.", "none": "media"}
    most = max(int(s.runs.max()) for s in series.values())
    least = min(int(s.runs.min()) for s in series.values())
    runs = f"{most}" if most == least else f"de {least} a {most}"
    ax.set_title(f"{_capital(axis_label(y))} según {axis_label(x)}", fontsize=11)
    note = f"{spread[band]}; {runs} {'ejecución' if most == 1 else 'ejecuciones'} por punto"
    ax.legend(title=f"{axis_label(hue)} ({note})" if hue else note, fontsize=8, title_fontsize=8)
    return fig


def _draw_series(ax: Axes, s: _Series, pos, color: str, ls: str, marker: str) -> None:
    """Una línea de medias (con banda ± desviación si hay repeticiones)."""
    xs = [pos(v) for v in s.xs]
    ax.plot(xs, s.mean, color=color, ls=ls, marker=marker, ms=5, lw=1.8)
    if s.runs.max() > 1:
        ax.fill_between(xs, s.mean - s.std, s.mean + s.std, color=color, alpha=0.15, lw=0)


def _sweep_legend(labels: list[str], y: str, secondary: str | None) -> list:
    """Entradas de leyenda: color por serie y, con eje secundario, estilo por magnitud."""
    if len(labels) == 1 and not secondary:
        return []
    gray = "#555555" if len(labels) > 1 else PALETTE[0]
    handles = [Line2D([], [], color=PALETTE[i % len(PALETTE)], lw=2, label=label)
               for i, label in enumerate(labels)] if len(labels) > 1 else []
    if secondary:
        handles += [Line2D([], [], color=gray, marker="o", label=axis_label(y)),
                    Line2D([], [], color=gray if len(labels) > 1 else PALETTE[5], ls="--",
                           marker="s", label=axis_label(secondary))]
    return handles


def _positive_numbers(xs: list) -> bool:
    """Si todos los valores son números positivos (admiten un eje logarítmico)."""
    return all(_is_number(v) and v > 0 for v in xs)


def _auto_log(xs: list) -> bool:
    """Escala log si x es numérica, positiva y abarca dos órdenes de magnitud o más."""
    return len(xs) > 1 and _positive_numbers(xs) and max(xs) / min(xs) >= 100


def plot_sweep(rows, x: str, y: str = "test_acc", hue: str | None = None,
               secondary: str | None = None, logx: bool | None = None) -> Figure:
    """Una línea por serie para un barrido (profundidad de congelado, razón de tasas…).

    Las ejecuciones repetidas (varias semillas) se resumen en media ± desviación.

    Args:
        rows: resultados, un diccionario por ejecución, o un ``DataFrame``.
        x: columna del eje x (números o categorías, p. ej. nombres de grupos).
        y: columna del eje y principal.
        hue: columna que separa series; ``None`` para una sola.
        secondary: columna para un segundo eje y a la derecha (p. ej. ``"seconds"``), en línea
            discontinua.
        logx: eje x logarítmico; ``None`` lo decide según los valores.

    Returns:
        La figura.
    """
    records = _records(rows, (x, y, hue, secondary))
    if not records:
        return text_figure("Aún no hay resultados: ejecuta el barrido primero.")
    order = _x_order(records, x)
    categorical = not all(_is_number(v) for v in order)
    pos = order.index if categorical else (lambda v: v)
    fig = new_figure((7.5, 3.8))
    ax = fig.subplots()
    main = _aggregate(records, x, y, hue)
    for i, s in enumerate(main.values()):
        _draw_series(ax, s, pos, PALETTE[i % len(PALETTE)], "-", "o")
    _style_x(ax, order, log=_auto_log(order) if logx is None else logx, categorical=categorical)
    ax.set_xlabel(axis_label(x))
    _style_y(ax, y)
    if secondary:
        ax2 = ax.twinx()
        for i, s in enumerate(_aggregate(records, x, secondary, hue).values()):
            color = PALETTE[i % len(PALETTE)] if hue else PALETTE[5]
            _draw_series(ax2, s, pos, color, "--", "s")
        ax2.set_ylabel(axis_label(secondary))
        ax2.set_ylim(bottom=0)
    title = _capital(axis_label(y)) + (f" y {axis_label(secondary)}" if secondary else "")
    ax.set_title(f"{title} según {axis_label(x)}", fontsize=11)
    handles = _sweep_legend(list(main), y, secondary)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5),
                   fontsize=8, frameon=False)
    return fig
