"""Barridos: exactitud frente al nº de imágenes, la profundidad de congelado o la razón de tasas.

Cada fila es una ejecución (un diccionario o un objeto con esos atributos); las semillas de un
mismo punto se resumen en media y barras de error. Se usan desde :mod:`labkit.plots`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullLocator, PercentFormatter, ScalarFormatter

from ..base._errors import LabkitError
from ..base._figures import PALETTE, axis_label, new_figure, text_figure
from ..base._fmt import pct

__all__ = ["plot_accuracy_vs_samples", "plot_sweep"]


def _capital(text: str) -> str:
    """El texto con la primera letra en mayúscula (sin tocar las demás)."""
    return text[:1].upper() + text[1:]


def _is_fraction_key(key: str) -> bool:
    """Si la columna es una exactitud (de 0 a 1), que se muestra en porcentaje."""
    return key.endswith("acc") or key.endswith("accuracy") or "exactitud" in key


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
