"""Comprobación del ejercicio «predice y mide»: extracción frente a ajuste fino (cuaderno 09).

El alumno predice qué modo dará más exactitud con pocas imágenes y después lo **mide** en el
playground. :func:`check_mode_measurement` no corrige la predicción con una regla: lee las
medidas, las compara con :mod:`labkit.experiments` y dice si la predicción coincidió con lo medido.
Con una ejecución por modo no hay intervalo de la diferencia («n = 1»): la medida no decide; con
varias ejecuciones por modo (una lista), el intervalo de Welch sí puede decidir. Nunca marca mal lo
que la medida del alumno muestra; lo que sí exige es que haya medido los dos modos, con las imágenes
del enunciado si la medida dice cuántas usó.

:func:`labkit.checks.check_mode_measurement` es esta misma función.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping

from ..base._errors import LabkitError
from ..base._validate import check_int
from ..experiments._compare import compare
from ._verdicts import (
    _TEACHER,
    CheckResult,
    _ok,
    _pending,
    _setting,
    _unanswered,
    _verdict,
    _wrong,
)

__all__ = ["check_mode_measurement", "MODE_NAMES"]

MODE_NAMES = {"a": "extracción de características", "b": "ajuste fino"}
_HINT = ('escribe tu predicción, "a" (extracción de características) o "b" (ajuste fino), y '
         'guarda en medidas un diccionario {"extracción de características": exactitud, '
         '"ajuste fino": exactitud} con lo que dio el playground en cada modo '
         '(pg.run().test_accuracy, o el resultado entero pg.run()).')


def _mode_of(text: object) -> str | None:
    """``"a"``, ``"b"`` o ``None``: a qué modo se refiere un texto (sin tildes ni mayúsculas)."""
    if not isinstance(text, str):
        return None
    t = "".join(c for c in unicodedata.normalize("NFD", text.strip().lower())
                if unicodedata.category(c) != "Mn").strip(" .)")
    if t in ("a", "b"):
        return t
    extraction = "extracc" in t or "feature" in t
    fine = "ajuste" in t or "fino" in t or "fine" in t
    return "a" if extraction and not fine else "b" if fine and not extraction else None


def _accuracy(value: object, mode: str, n_images: int) -> tuple[float | None, str]:
    """La exactitud de una medida (número o resultado del playground) y, si falla, por qué."""
    n_train = getattr(value, "n_train", None)
    if n_train is not None and int(n_train) != n_images:
        return None, (f"la medida de «{MODE_NAMES[mode]}» se hizo con {n_train} imágenes; el "
                      f"enunciado pide {n_images}.")
    measured_mode = _mode_of(getattr(value, "mode", None))
    if measured_mode is not None and measured_mode != mode:
        return None, (f"guardaste como «{MODE_NAMES[mode]}» un entrenamiento en modo "
                      f"«{MODE_NAMES[measured_mode]}».")
    value = getattr(value, "test_accuracy", value)
    try:
        acc = float(value)
    except (TypeError, ValueError):
        return None, f"la medida de «{MODE_NAMES[mode]}» no es un número ({type(value).__name__})."
    if not math.isfinite(acc) or not 0 <= acc <= 1:
        return None, (f"la medida de «{MODE_NAMES[mode]}» debe ser una exactitud entre 0 y 1 "
                      "(pg.result.test_accuracy).")
    return acc, ""


def _measurements(measured: object,
                  n_images: int) -> tuple[dict[str, list[float]] | None, str]:
    """Las exactitudes de cada modo (``"a"``, ``"b"``), o el motivo por el que no sirven."""
    if not isinstance(measured, Mapping):
        return None, f"medidas debe ser un diccionario y es {type(measured).__name__}."
    found: dict[str, list[float]] = {}
    for key, value in measured.items():
        mode = _mode_of(key)
        if mode is None or mode in found:
            return None, (f"no sé a qué modo corresponde la clave {key!r} (o está repetido): usa "
                          '"extracción de características" y "ajuste fino".')
        runs = list(value) if isinstance(value, (list, tuple)) and value else [value]
        found[mode] = []
        for run in runs:
            acc, why = _accuracy(run, mode, n_images)
            if acc is None:
                return None, why
            found[mode].append(acc)
    if set(found) != {"a", "b"}:
        return None, "faltan medidas: hacen falta los dos modos, uno de cada."
    return found, ""


@_verdict
def check_mode_measurement(prediction: object, measured: object, n_images: int = 60,
                           n_test: int = 200) -> CheckResult:
    """Comprueba «predice y mide»: la predicción del alumno frente a sus propias medidas.

    Args:
        prediction: ``"a"``/``"b"`` o el nombre del modo que el alumno cree que ganará.
        measured: ``{"extracción de características": exactitud, "ajuste fino": exactitud}``;
            cada valor es un número de 0 a 1 o un resultado del playground (``pg.run()``), del
            que se comprueban también el modo y las imágenes usadas, o una lista de ellos (varias
            ejecuciones del mismo modo).
        n_images: imágenes de entrenamiento que pide el enunciado.
        n_test: imágenes de prueba (el intervalo de cada modo).

    Returns:
        ✅ si la predicción es un modo y las dos medidas son válidas (coincida o no la
        predicción con lo medido: el veredicto lo dice).
    """
    n_images = _setting(check_int, "n_images", n_images, minimum=1)
    n_test = _setting(check_int, "n_test", n_test, minimum=1)
    if _unanswered(prediction) or _unanswered(measured):
        return _pending(_HINT)
    guess = _mode_of(prediction)
    if guess is None:
        return _wrong(f"No reconozco tu predicción {prediction!r}.", _HINT)
    found, why = _measurements(measured, n_images)
    if found is None:
        return _wrong(f"Tus medidas no sirven: {why}", _HINT)
    return _ok(_report(guess, found, n_test))


def _report(guess: str, found: dict[str, list[float]], n_test: int) -> str:
    """Lo que se midió, el veredicto por intervalo y si la predicción coincidió."""
    names = {m: MODE_NAMES[m] for m in ("a", "b")}
    # Las ejecuciones del playground no van emparejadas por semilla: claves distintas (Welch).
    arms = {names[m]: {1000 * j + i: v for i, v in enumerate(found[m])}
            for j, m in enumerate(("a", "b"))}
    try:
        cmp = compare(arms, n_test=n_test)
    except LabkitError as err:  # no debería pasar con medidas válidas
        raise LabkitError(f"{_TEACHER}: {err}") from None
    verdict = cmp.verdict(names["b"], names["a"])
    winner = {"gana": "b", "pierde": "a"}.get(verdict or "")
    seen = (f"Mediste {cmp.arm(names['a']).text()} con extracción de características y "
            f"{cmp.arm(names['b']).text()} con ajuste fino. "
            f"{cmp.sentence(names['b'], names['a'])}")
    if verdict is None:
        return (f"{seen} Con una ejecución por modo no hay intervalo de la diferencia: tu "
                f"medida no distingue los dos modos, así que tu predicción («{names[guess]}») "
                "ni se confirma ni se descarta. Para decidir, mide cada modo varias veces y "
                "guarda una lista de resultados por modo.")
    if winner is None:
        return (f"{seen} La diferencia cabe en el ruido: tu predicción («{names[guess]}») ni "
                "se confirma ni se descarta.")
    outcome = "coincide con" if winner == guess else "no coincide con"
    return f"{seen} Tu predicción («{names[guess]}») {outcome} lo que mediste."
