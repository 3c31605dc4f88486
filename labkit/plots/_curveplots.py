"""Curvas de entrenamiento y tasas de aprendizaje por grupo.

:func:`plot_history` dibuja pérdida y exactitud por época (una o varias ejecuciones, con las fases
sombreadas) y :func:`plot_lr_groups` la tasa de cada grupo de capas. Se usan desde
:mod:`labkit.plots`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from ..base._errors import LabkitError
from ..base._figures import PALETTE, format_lr, new_figure, text_figure
from ..training._callbacks import History

__all__ = ["plot_history", "plot_lr_groups"]


_PHASE_COLORS = {"cabeza": "#E69F00", "ajuste fino": "#56B4E9"}


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
        history: un :class:`~labkit.training.History` o una lista de ellos.
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
