"""Barridos del alumno: elegir por validación y leer una curva de tamaño de datos.

- :func:`check_depth_choice` pide elegir la profundidad de congelado por su exactitud en
  validación y mirar la de prueba una sola vez.
- :func:`check_data_needed` lee una curva de tamaño de datos: el menor tamaño que ya empata
  (por el intervalo) con el conjunto entero.

Como todas las de :mod:`labkit.checks`, muestran su veredicto y nunca lanzan; se usan desde
``labkit.checks``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..base._errors import LabkitError
from ..base._fmt import pct
from ..base._intervals import Z95, binomial_se
from ..base._validate import check_int
from ..experiments._compare import compare
from ._practice import _values
from ._verdicts import _TEACHER, CheckResult, _ok, _pending, _setting, _unanswered, _verdict, _wrong

__all__ = ["check_depth_choice", "check_data_needed"]


def _mean_of(raw: object) -> float | None:
    """La media de un número o de una lista de números (por semilla), o ``None``."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        values = [float(raw)]
    else:
        values = _values(raw) or []
    if not values or not all(math.isfinite(v) and 0 <= v <= 1 for v in values):
        return None
    return sum(values) / len(values)


def _depth_key(value: object) -> int | None:
    """Una profundidad como entero (acepta ``numpy.int64`` o ``7.0``), o ``None``."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _sweep_means(validation: object) -> dict[int, float] | str:
    """Las medias de validación por profundidad, o el texto del problema que tienen."""
    if not isinstance(validation, Mapping) or len(validation) < 2:
        return ("`validacion` debe ser un diccionario {profundidad: exactitud en validación} con "
                "al menos dos profundidades.")
    means = {}
    for key, raw in validation.items():
        depth, mean = _depth_key(key), _mean_of(raw)
        if depth is None or mean is None:
            return (f"La entrada {key!r} de `validacion` no es «profundidad entera: exactitud "
                    "entre 0 y 1 (o una lista por semilla)».")
        means[depth] = mean
    return means


_DEPTH_HINT = ("entrena cada profundidad, anota solo su exactitud en **validación**, elige la "
               "mejor (`max(validacion, key=...)`) y evalúa la prueba una sola vez, con esa: "
               "`prueba = {elegida: exactitud}`.")


@_verdict
def check_depth_choice(chosen: object, validation: object, test: object,
                       n_val: int | None = None) -> CheckResult:
    """Comprueba que se eligió la profundidad por validación y que la prueba se miró una vez.

    Args:
        chosen: la profundidad elegida (grupos congelados).
        validation: el barrido del alumno, ``{profundidad: exactitud en validación}`` (o una
            lista por semilla en cada profundidad, que se promedia).
        test: las evaluaciones en prueba, ``{profundidad: exactitud}``: debe tener una sola, la
            de la profundidad elegida.
        n_val: imágenes de validación (opcional, para comentar el ruido).

    Returns:
        El resultado de la comprobación.
    """
    if n_val is not None:
        n_val = _setting(check_int, "n_val", n_val, minimum=1)
    if _unanswered(validation):
        return _pending(_DEPTH_HINT, "falta tu barrido (`validacion`)")
    means = _sweep_means(validation)
    if isinstance(means, str):
        return _wrong(means, _DEPTH_HINT)
    if _unanswered(chosen):
        return _pending(_DEPTH_HINT, "falta la profundidad elegida")
    depth = _depth_key(chosen)
    if depth not in means:
        return _wrong(f"Elegiste {chosen!r}, que no está en tu barrido ({sorted(means)}).",
                      _DEPTH_HINT)
    best = max(means.values())
    winners = sorted(d for d, v in means.items() if v >= best - 1e-12)
    if depth not in winners:
        return _wrong(f"La profundidad {depth} tiene {pct(means[depth])} en validación y la "
                      f"mejor de tu barrido es {winners[0]} con {pct(best)}.", _DEPTH_HINT)
    if _unanswered(test):
        return _pending(_DEPTH_HINT, "falta la prueba (`prueba`), evaluada una sola vez")
    if not isinstance(test, Mapping) or not test:
        return _wrong("`prueba` debe ser un diccionario {profundidad elegida: exactitud}.",
                      _DEPTH_HINT)
    looked = sorted({_depth_key(k) for k in test}, key=lambda d: (d is None, d or 0))
    if len(test) > 1:
        return _wrong(f"Miraste la prueba en {len(test)} profundidades ({looked}). La prueba se "
                      "evalúa una sola vez, con la configuración ya elegida: si la usas para "
                      "comparar, deja de ser una estimación honesta.", _DEPTH_HINT)
    key = next(iter(test))
    score = _mean_of(test[key])
    if _depth_key(key) != depth:
        return _wrong(f"Evaluaste la prueba con la profundidad {key!r} y elegiste {depth}.",
                      _DEPTH_HINT)
    if score is None:
        return _wrong("La exactitud en prueba debe ser un número entre 0 y 1.", _DEPTH_HINT)
    second = max((v for d, v in means.items() if d != depth), default=best)
    note = ""
    if n_val:
        half = Z95 * binomial_se(best, n_val)
        if best - second < half:
            note = (f" Ojo: la segunda mejor está a {100 * (best - second):.1f} puntos, menos "
                    f"que el ruido de una exactitud medida en {n_val} imágenes de validación "
                    f"(±{100 * half:.1f}); con "
                    "más semillas sabrías si la diferencia es real. Ante un empate, la más "
                    "congelada es la más barata.")
    return _ok(f"Elegiste {depth} grupos congelados por validación ({pct(best)}, la mejor de "
               f"{len(means)} profundidades) y miraste la prueba una sola vez: {pct(score)}."
               + note)


def _size_arms(rows: object, method: str, value: str) -> dict[int, dict]:
    """``{tamaño: {semilla: valor}}`` de un método en las filas de un barrido."""
    if not isinstance(rows, Sequence) or not rows:
        raise LabkitError(f"{_TEACHER}: `rows` debe ser la lista de filas de un barrido.")
    arms: dict[int, dict] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            raise LabkitError(f"{_TEACHER}: cada fila de `rows` debe ser un diccionario.")
        if row.get("method", method) != method:
            continue
        try:
            raw = row[value]
            raw = raw if hasattr(raw, "__len__") else float(raw)  # aciertos por imagen o número
            arms.setdefault(int(row["n_train"]), {})[row.get("seed", 0)] = raw
        except (KeyError, TypeError, ValueError) as err:
            raise LabkitError(f"{_TEACHER}: una fila de `rows` no tiene 'n_train' y '{value}' "
                              f"numéricos ({type(err).__name__}: {err}).") from None
    if len(arms) < 2:
        raise LabkitError(f"{_TEACHER}: hacen falta al menos dos tamaños del método '{method}'.")
    return arms


@_verdict
def check_data_needed(answer: object, rows: Sequence[Mapping[str, Any]], n_test: int,
                      method: str = "extraccion", value: str = "test_acc") -> CheckResult:
    """Comprueba la lectura de una curva: con cuántas imágenes ya se empata con todas.

    La respuesta correcta es el menor tamaño medido ``n`` tal que ni él ni ningún tamaño mayor
    **pierde** frente al conjunto entero (el mayor tamaño medido), por el intervalo al 95 % de
    :func:`labkit.experiments.compare` con ``n_test``. Así se lee una curva con ruido: «a partir de
    aquí, más imágenes no dan una mejora que se pueda distinguir».

    Args:
        answer: el tamaño que responde el alumno (número de imágenes de entrenamiento).
        rows: las filas del barrido (:func:`labkit.experiments.data_size_sweep`).
        n_test: imágenes de prueba de cada exactitud.
        method: el método cuya curva se lee.
        value: la columna que se compara.

    Returns:
        El resultado de la comprobación.
    """
    n_test = _setting(check_int, "n_test", n_test, minimum=1)
    arms = _size_arms(rows, method, value)
    sizes = sorted(arms)
    full = sizes[-1]
    verdicts = {n: compare({str(n): arms[n], str(full): arms[full]}, reference=str(full),
                           n_test=n_test).difference(str(n)) for n in sizes[:-1]}
    needed = next(n for n in sizes if all(verdicts[m].verdict != "pierde"
                                          for m in sizes if n <= m < full))
    lines = "\n".join(f"   {n:>6} imágenes: {verdicts[n].text()}" for n in sizes[:-1])
    table = f"Cada tamaño frente a las {full} imágenes ({n_test} de prueba):\n{lines}"
    hint = ("compara cada tamaño con el conjunto entero usando labkit.compare (n_test = imágenes "
            "de prueba) y busca el menor tamaño desde el que ninguno pierde por el intervalo.")
    if _unanswered(answer):
        return _pending(hint)
    number = _depth_key(answer)
    if number is None:
        return _wrong(f"Tu respuesta debe ser un número entero de imágenes y es {answer!r}.", hint)
    if number == needed == full:
        return _ok(f"Todos los tamaños medidos por debajo de {full} pierden frente a las {full} "
                   "imágenes: en este barrido hace falta el conjunto entero (con más tamaños "
                   f"entre medias quizá bastaría con menos).\n{table}")
    if number == needed:
        return _ok(f"Con {needed} imágenes la curva ya no se distingue de la de {full}: más datos "
                   "no dan una mejora mayor que el ruido (que no es lo mismo que no mejorar "
                   f"nada).\n{table}")
    if number in verdicts and verdicts[number].verdict == "pierde":
        why = f"con {number} imágenes todavía se pierde frente a las {full}"
    elif number not in arms:
        why = f"{number} no es uno de los tamaños medidos ({sizes})"
    else:
        why = f"ya con menos imágenes ({needed}) se empata con las {full}"
    return _wrong(f"Tu respuesta, {number}, no es la que dice la curva: {why}.\n{table}", hint)
