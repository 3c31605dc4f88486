"""Resúmenes de los barridos: media y dispersión por grupo, cruce entre métodos y tablas.

:func:`summarize` agrupa filas (un diccionario por ejecución) y resume una columna;
:func:`crossover` dice en qué tamaño un método deja de perder frente a otro (por el intervalo de
:func:`labkit.experiments.compare`); :func:`format_table` imprime la tabla de un barrido de
tamaño. Se usan también como ``labkit.experiments.summarize`` etc.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

from ..base._errors import LabkitError

__all__ = ["METHODS", "METHOD_LABELS", "summarize", "crossover", "format_table", "labeled"]

METHODS = ("extraccion", "ajuste_fino", "desde_cero")
"""Los métodos de :func:`labkit.experiments.data_size_sweep`, por su nombre en las filas."""

METHOD_LABELS = {"extraccion": "extracción de características", "ajuste_fino": "ajuste fino",
                 "desde_cero": "desde cero"}
"""El nombre en español de cada método, para tablas y figuras."""


# ---------------------------------------------------------------- resúmenes


def _sort_key(values: list) -> Callable[[object], tuple]:
    """Orden de los grupos: los números de menor a mayor; el resto, por orden de aparición."""
    first = {v: i for i, v in reversed(list(enumerate(values)))}
    return lambda v: (0, v, 0) if isinstance(v, (int, float)) else (1, 0, first[v])


def summarize(rows: Sequence[dict], by: Sequence[str] = ("method", "n_train"),
              value: str = "test_acc") -> list[dict]:
    """Media, desviación, mínimo, máximo y número de ejecuciones de ``value`` por grupo.

    Args:
        rows: filas de un barrido.
        by: columnas que definen cada grupo.
        value: columna que se resume.

    Returns:
        Una fila por grupo con las columnas de ``by`` y ``mean``, ``std`` (desviación típica
        de las ejecuciones, dividiendo entre n como la banda de
        :func:`labkit.plots.plot_accuracy_vs_samples`), ``min``, ``max`` y ``count``. Los
        grupos van ordenados por las columnas de ``by`` (números de menor a mayor, textos en el
        orden en que aparecen).
    """
    by = list(by)
    groups: dict[tuple, list[float]] = {}
    for i, row in enumerate(rows):
        missing = [k for k in (*by, value) if k not in row]
        if missing:
            raise LabkitError(f"La fila {i} no tiene las columnas {missing}: tiene "
                              f"{', '.join(sorted(row))}.")
        groups.setdefault(tuple(row[k] for k in by), []).append(float(row[value]))
    keys = [_sort_key([k[j] for k in groups]) for j in range(len(by))]
    order = sorted(groups, key=lambda k: tuple(f(v) for f, v in zip(keys, k)))
    return [{**dict(zip(by, k)), **_stats(groups[k])} for k in order]


def _stats(values: list[float]) -> dict:
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / n
    return {"mean": mean, "std": math.sqrt(var), "min": min(values), "max": max(values),
            "count": n}


def crossover(rows: Sequence[dict], a: str = "desde_cero", b: str = "extraccion",
              margin: float | None = None, value: str = "test_acc",
              outcomes: str = "test_correct") -> int | None:
    """El menor número de imágenes en que el método ``a`` ya no pierde frente a ``b``.

    Lo decide :func:`labkit.experiments.compare` en cada tamaño (emparejado por semilla y, si las
    filas traen ``outcomes``, por imagen de prueba): «alcanzar» es que el intervalo al 95 % de
    la diferencia ``a − b`` no quede entero por debajo de 0 («empate» o «gana»). Un tamaño con
    una sola ejecución de alguno de los dos no decide (n = 1) y no cuenta. Solo cuentan los
    tamaños en que se midieron los dos métodos.

    Args:
        rows: filas de :func:`data_size_sweep`.
        a: el método que persigue (por defecto, desde cero).
        b: el método de referencia (por defecto, extracción de características).
        margin: ya no se usa (antes, una tolerancia fija en puntos); se avisa si se da.
        value: columna que se compara si no hay aciertos por imagen.
        outcomes: columna con los aciertos por imagen (se usa si todas las filas la traen).

    Returns:
        El número de imágenes, o ``None`` si ``a`` pierde (o no se decide) en todos los tamaños.
    """
    if margin is not None:
        warnings.warn(f"crossover: margin={margin} ya no se usa; decide el intervalo de "
                      "labkit.compare, sin umbral fijo.", stacklevel=2)
    from ._compare import arms_from_rows, compare

    sizes = sorted({r["n_train"] for r in rows if r.get("method") == a}
                   & {r["n_train"] for r in rows if r.get("method") == b})
    for n in sizes:
        chosen = [r for r in rows if r.get("n_train") == n and r.get("method") in (a, b)]
        column = outcomes if all(outcomes in r for r in chosen) else value
        arms = arms_from_rows(chosen, value=column)
        if compare({a: arms[a], b: arms[b]}, reference=b).verdict(a) in ("gana", "empate"):
            return n
    return None


def labeled(rows: Sequence[dict]) -> list[dict]:
    """Las mismas filas con el nombre del método en español (para leyendas y tablas).

    Args:
        rows: filas con la columna ``method``.

    Returns:
        Copias de las filas con ``method`` = :data:`METHOD_LABELS` (los desconocidos, igual).
    """
    return [{**r, "method": METHOD_LABELS.get(r["method"], r["method"])} for r in rows]


def format_table(rows: Sequence[dict], value: str = "test_acc", percent: bool = True) -> str:
    """La tabla de un barrido de tamaño: una línea por tamaño, una columna por método.

    Las columnas siguen el orden de :data:`METHODS`. Cada celda es ``media ± desviación`` (en
    %, si ``percent``) sobre las semillas, o ``media (n = 1)`` con una sola; ``—`` donde el método
    no se midió. La última línea dice cuántas ejecuciones hay por celda.

    Args:
        rows: filas de :func:`data_size_sweep`.
        value: columna que se resume.
        percent: mostrar en porcentaje (para exactitudes).

    Returns:
        La tabla como texto (para ``print``).
    """
    stats = summarize(rows, value=value)
    seen = list(dict.fromkeys(s["method"] for s in stats))
    methods = [m for m in METHODS if m in seen] + [m for m in seen if m not in METHODS]
    sizes = sorted({s["n_train"] for s in stats})
    cells = {(s["method"], s["n_train"]): s for s in stats}
    scale = 100.0 if percent else 1.0
    names = [METHOD_LABELS.get(m, m) for m in methods]
    widths = [max(len(n), 13) for n in names]
    lines = ["imágenes  " + "  ".join(n.rjust(w) for n, w in zip(names, widths))]
    for n in sizes:
        row = [_cell(cells.get((m, n)), scale).rjust(w) for m, w in zip(methods, widths)]
        lines.append(f"{n:>8}  " + "  ".join(row))
    counts = sorted({s["count"] for s in stats})
    runs = (f"{counts[0]} a {counts[-1]} ejecuciones" if len(counts) > 1 else
            "1 ejecución" if counts[0] == 1 else f"{counts[0]} ejecuciones")
    unit = " (%)" if percent else ""
    lines.append(f"({_field_label(value)}{unit}: media ± desviación de {runs} por celda)")
    return "\n".join(lines)


def _cell(stat: dict | None, scale: float) -> str:
    if stat is None:
        return "—"
    if stat["count"] < 2:  # una sola ejecución: sin desviación que dar (nunca «± 0.0»)
        return f"{stat['mean'] * scale:.1f} (n = 1)"
    return f"{stat['mean'] * scale:.1f} ± {stat['std'] * scale:.1f}"


def _field_label(key: str) -> str:
    """El nombre en español de una columna (el mismo que usan las figuras)."""
    from ..base._figures import axis_label

    return axis_label(key)

