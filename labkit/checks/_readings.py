"""Ejercicios de lectura: leer una medición, una matriz de confusión, elegir un umbral y mejorar.

Son comprobaciones que se pueden **fallar** y que siempre se corrigen con los números que midió
el propio alumno (nunca con los de la guía):

- :func:`reading_problem` revisa la lectura en una línea de una comparación (la usa
  :func:`labkit.checks.check_measured_conclusion`): debe citar la diferencia o un extremo de su
  intervalo, en puntos, tal como los midió el alumno.
- :func:`check_class_recall` lee en una matriz de confusión el acierto de la clase cara (la que
  más cuesta no detectar): diagonal entre el total de su **fila**.
- :func:`check_threshold_choice` elige en validación el umbral de una clase positiva: el más
  alto que aún detecta la fracción pedida de sus casos.
- :func:`check_fewer_errors` pide mejorar una ejecución de referencia del propio alumno: menos
  errores en la misma prueba, con una configuración distinta.

Como todas las de :mod:`labkit.checks`, muestran su veredicto y nunca lanzan.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import torch

from ..base._errors import LabkitError
from ..base._fmt import pct
from ..experiments._comparison import Difference
from ._verdicts import (
    _TEACHER,
    CheckResult,
    _as_number,
    _ok,
    _pending,
    _unanswered,
    _verdict,
    _wrong,
)

__all__ = ["reading_problem", "check_class_recall", "check_threshold_choice",
           "check_fewer_errors"]

_NUMBER = re.compile(r"[-+−]?\d+(?:[.,]\d+)?")
_MIN_WORDS = 4


def _numbers(text: str) -> list[tuple[float, int]]:
    """Los números de un texto con sus decimales escritos (``"+3,1"`` → ``(3.1, 1)``)."""
    found = []
    for raw in _NUMBER.findall(text):
        clean = raw.replace("−", "-").replace(",", ".")
        decimals = len(clean.split(".")[1]) if "." in clean else 0
        found.append((float(clean), decimals))
    return found


def reading_problem(reading: object, difference: Difference) -> str | None:
    """Qué le falta a la lectura en una línea de una comparación, o ``None`` si vale.

    La lectura vale si es una sola línea de al menos cuatro palabras y cita, en puntos, la
    diferencia medida o un extremo de su intervalo (redondeados como se quiera: con la precisión
    con que se escriben). Se compara con la medición del alumno, no con ninguna cifra fija.

    Args:
        reading: el texto del alumno.
        difference: la diferencia medida (:meth:`labkit.experiments.Comparison.difference`).

    Returns:
        El problema en palabras, o ``None``.
    """
    if not isinstance(reading, str):
        return f"La lectura debe ser un texto y es {type(reading).__name__}."
    if "\n" in reading.strip():
        return "La lectura debe caber en una línea."
    if len(reading.split()) < _MIN_WORDS:
        return (f"Tu lectura («{reading.strip()}») es demasiado corta: di con tus palabras qué "
                "midió tu comparación y con qué intervalo.")
    targets = [100 * v for v in (difference.diff, difference.low, difference.high)
               if v is not None]
    for value, decimals in _numbers(reading):
        tol = 0.5 * 10 ** -decimals + 1e-9
        if any(abs(abs(value) - abs(t)) <= tol for t in targets):
            return None
    shown = ", ".join(f"{t:+.1f}" for t in targets)
    return (f"Tu lectura no cita ninguna cifra de tu medición: la diferencia y su intervalo, en "
            f"puntos, son {shown}. Una lectura dice cuánto y con qué seguridad.")


def _confusion(confusion: object) -> torch.Tensor:
    """La matriz de confusión como tensor cuadrado de recuentos (error del profesor si no)."""
    try:
        matrix = torch.as_tensor(confusion, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as err:
        raise LabkitError(f"{_TEACHER}: la matriz de confusión no es numérica ({err}).") from None
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
        raise LabkitError(f"{_TEACHER}: la matriz de confusión debe ser cuadrada (clases × clases).")
    return matrix


def _class_index(classes: Sequence[str], name: str, size: int) -> int:
    """La posición de la clase ``name`` en ``classes`` (error del profesor si no está)."""
    names = [str(c) for c in classes]
    if name not in names or len(names) != size:
        raise LabkitError(f"{_TEACHER}: la clase «{name}» no está en {names} o no cuadra con la "
                          "matriz.")
    return names.index(name)


@_verdict
def check_class_recall(answer: object, confusion: object, classes: Sequence[str],
                       costly: str) -> CheckResult:
    """Comprueba el acierto (sensibilidad) de la clase cara leído en la matriz de confusión.

    Filas: la clase real; columnas: la predicha. El acierto de una clase es su diagonal entre
    el total de su fila (cuántos de sus casos se detectaron). Se comprueba con la matriz del
    alumno; los errores típicos (la columna en vez de la fila, la exactitud global) se nombran.

    Args:
        answer: la fracción entre 0 y 1 (o el porcentaje) que responde el alumno.
        confusion: la matriz de confusión medida por el alumno.
        classes: los nombres de las clases, en el orden de la matriz.
        costly: la clase cuyo fallo más cuesta.

    Returns:
        El resultado de la comprobación.
    """
    hint = (f"busca la fila de «{costly}» (su clase real): aciertos = la casilla de la diagonal "
            "entre la suma de esa fila.")
    if _unanswered(answer):
        return _pending(hint)
    matrix = _confusion(confusion)
    k = _class_index(classes, costly, matrix.shape[0])
    row, col = matrix[k].sum().item(), matrix[:, k].sum().item()
    if row == 0:
        raise LabkitError(f"{_TEACHER}: la prueba no tiene ningún caso de «{costly}».")
    recall = matrix[k, k].item() / row
    number = _as_number(answer)
    if number is None or math.isnan(number):
        return _wrong(f"Tu respuesta debe ser un número y es {answer!r}.", hint)
    value = number / 100 if number > 1 else number
    missed = int(row - matrix[k, k].item())
    if abs(value - recall) <= 5e-4:
        return _ok(f"De {int(row)} casos de «{costly}», el modelo detectó {pct(recall)}: "
                   f"se le escaparon {missed}. Esa es la cifra que importa cuando fallar esta "
                   "clase es lo más caro, aunque la exactitud global sea alta.")
    why = ""
    if col and abs(value - matrix[k, k].item() / col) <= 5e-4:
        why = (" Dividiste por la columna (de lo que predijo como esa clase, cuánto lo era: la "
               "precisión), no por la fila.")
    elif abs(value - matrix.diag().sum().item() / matrix.sum().item()) <= 5e-4:
        why = " Esa es la exactitud global, no el acierto de la clase."
    return _wrong(f"Tu respuesta, {pct(value)}, no es el acierto de «{costly}» en tu matriz."
                  + why, hint)


def _recall_at(scores: torch.Tensor, positive: torch.Tensor, threshold: float) -> float:
    """Fracción de los positivos con puntuación ≥ ``threshold``."""
    return float((scores[positive] >= threshold).double().mean())


@_verdict
def check_threshold_choice(threshold: object, scores: object, labels: object, positive: int,
                           min_recall: float) -> CheckResult:
    """Comprueba el umbral elegido en validación para una clase positiva.

    Se declara positivo un caso si la probabilidad de la clase ``positive`` es ≥ el umbral. El
    umbral bueno es el **más alto** que aún detecta al menos ``min_recall`` de los positivos de
    validación (más alto = menos falsas alarmas). Vale cualquier umbral entre ese y la
    puntuación siguiente hacia abajo (dan las mismas decisiones en validación).

    Args:
        threshold: el umbral del alumno (entre 0 y 1).
        scores: la probabilidad de la clase positiva de cada imagen de validación.
        labels: la clase real de cada imagen de validación.
        positive: el índice de la clase positiva.
        min_recall: la fracción mínima de positivos que hay que detectar.

    Returns:
        El resultado de la comprobación.
    """
    hint = (f"ordena de mayor a menor las probabilidades de los casos positivos de validación y "
            f"quédate con la más baja que aún deja detectar el {pct(min_recall)} de ellos.")
    if _unanswered(threshold):
        return _pending(hint)
    s = torch.as_tensor(scores, dtype=torch.float64).flatten()
    pos = torch.as_tensor(labels).flatten() == positive
    if s.numel() != pos.numel() or not pos.any() or not 0 < min_recall <= 1:
        raise LabkitError(f"{_TEACHER}: puntuaciones y etiquetas no cuadran o no hay positivos.")
    number = _as_number(threshold)
    if number is None or not 0 <= number <= 1:
        return _wrong(f"El umbral debe ser un número entre 0 y 1 y es {threshold!r}.", hint)
    ranked = torch.sort(s[pos], descending=True).values
    need = math.ceil(min_recall * ranked.numel() - 1e-9)
    best = float(ranked[need - 1])
    below = s[s < best]
    floor = float(below.max()) if below.numel() else 0.0
    got = _recall_at(s, pos, number)
    alarms = int(((s >= number) & ~pos).sum())
    if got + 1e-12 < min_recall:
        return _wrong(f"Con el umbral {number:.3f} detectas el {pct(got)} de los positivos de "
                      f"validación: menos del {pct(min_recall)} pedido. Bájalo.", hint)
    if number > floor:
        return _ok(f"Con el umbral {number:.3f} detectas el {pct(got)} de los positivos de "
                   f"validación con {alarms} falsas alarmas, y ningún umbral más alto llega al "
                   f"{pct(min_recall)}. Elegido en validación: la prueba dirá si se sostiene.")
    return _wrong(f"Con {number:.3f} detectas el {pct(got)}, pero das {alarms} falsas alarmas: "
                  f"un umbral más alto (hasta {best:.3f}) también llega al {pct(min_recall)} "
                  "con menos.", hint)


def _accuracy_of(result: object) -> float | None:
    """La exactitud de un resultado del playground o de un número (fracción o %)."""
    value = getattr(result, "test_accuracy", result)
    number = _as_number(value)
    if number is None or math.isnan(number):
        return None
    return number / 100 if number > 1 else number


def _same_setup(new: object, baseline: object) -> bool:
    """Dice si dos resultados del playground vienen de la misma configuración."""
    keys = ("model_name", "mode", "depth", "n_train", "epochs", "ratio")
    have = [k for k in keys if hasattr(new, k) and hasattr(baseline, k)]
    return bool(have) and all(getattr(new, k) == getattr(baseline, k) for k in have)


@_verdict
def check_fewer_errors(new: object, baseline: object, n_test: int,
                       fraction: float = 0.5) -> CheckResult:
    """Comprueba que una configuración nueva comete a lo sumo ``fraction`` de los errores de otra.

    El listón sale de la ejecución de referencia **del alumno** (la de los ajustes por defecto),
    no de una cifra fija: con ``fraction=0.5`` hay que quedarse en la mitad de sus errores en la
    misma prueba. Con la misma configuración no vale (hay que cambiar algo).

    Args:
        new: el resultado nuevo (``pg.run()``) o su exactitud.
        baseline: el resultado de referencia o su exactitud.
        n_test: imágenes de prueba.
        fraction: la fracción de errores de la referencia que se permite.

    Returns:
        El resultado de la comprobación.
    """
    hint = ("cambia algo en el playground (modo, grupos congelados, imágenes, épocas, razón) y "
            "vuelve a entrenar; guarda el resultado de pg.run() en `mejor`.")
    if _unanswered(new):
        return _pending(hint)
    base = _accuracy_of(baseline)
    if base is None or not isinstance(n_test, int) or n_test < 1:
        raise LabkitError(f"{_TEACHER}: falta la exactitud de referencia o n_test.")
    acc = _accuracy_of(new)
    if acc is None:
        return _wrong(f"Tu respuesta debe ser un resultado de pg.run() o una exactitud y es "
                      f"{new!r}.", hint)
    errors, base_errors = round((1 - acc) * n_test), round((1 - base) * n_test)
    allowed = math.floor(fraction * base_errors)
    if _same_setup(new, baseline):
        return _wrong("Es la misma configuración que la ejecución por defecto: cambia algo.", hint)
    if errors <= allowed:
        return _ok(f"La ejecución por defecto falló {base_errors} de {n_test} imágenes de prueba "
                   f"y la tuya {errors} (el listón era {allowed}). Una sola ejecución de cada "
                   "una: para afirmar que tu cambio es mejor en general, mídelo con varias "
                   "semillas.")
    return _wrong(f"Tu ejecución falló {errors} de {n_test} imágenes; la ejecución por defecto "
                  f"falló {base_errors} y el listón es {allowed} (la mitad).", hint)
