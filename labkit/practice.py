"""Ejercicios de práctica: predecir, medir y concluir con lo medido.

Son las comprobaciones de los ejercicios en que el alumno **aplica** el método del curso, no en
que recuerda una regla:

- :func:`check_prediction_made` anota una predicción antes de medir (no hay predicción mala). No
  da puntos por sí sola: el punto llega con :func:`check_measured_conclusion`, que exige la
  predicción, la medición, la conclusión y una lectura en una línea (``reading``).
- :func:`check_measured_conclusion` compara dos brazos medidos con varias semillas
  (:func:`labkit.compare.compare`, veredicto por el intervalo al 95 %) y da el ejercicio por
  bueno si la **conclusión escrita coincide con la medición**. La predicción solo se comenta:
  fallarla no es fallar el ejercicio, es la razón para medir. «Empate» es un resultado legítimo.
- :func:`check_depth_choice` comprueba que la profundidad elegida es la mejor **en validación**
  del barrido del propio alumno y que la prueba se miró una sola vez, con esa profundidad.
- :func:`check_data_needed` lee una curva de tamaño de datos: el menor tamaño que ya empata
  (por el intervalo) con el conjunto entero.

Como todas las de :mod:`labkit.checks`, muestran su veredicto y nunca lanzan: un argumento del
profesor mal puesto da «No se pudo comprobar», nunca un ❌ para el alumno. Se usan desde
``labkit.checks`` (que las reexporta)::

    labkit.checks.check_measured_conclusion(prediccion, medicion, conclusion,
                                            arm="ajuste fino", reference="extracción",
                                            n_test=len(datos.test))
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .bootstrap import METRICS, as_outcomes, seed_metric
from .checks import (
    _MODE_ALIASES,
    _TEACHER,
    CheckResult,
    _normalize,
    _ok,
    _pending,
    _setting,
    _unanswered,
    _verdict,
    _wrong,
)
from .compare import Difference, compare
from .errors import LabkitError
from .fmt import pct
from .intervals import _Z
from .readings import reading_problem
from .validate import check_int, check_str

__all__ = ["verdict_options", "check_prediction_made", "check_measured_conclusion",
           "check_depth_choice", "check_data_needed"]

_TIE_WORDS = {"empate", "empatan", "empata", "empatado", "tie", "igual", "iguales",
              "no se puede decidir", "no se distingue", "no hay diferencia", "ninguno",
              "ninguna", "depende", "ruido"}
_WIN_WORDS = ("gana", "ganan", "mejor", "wins")
_LOSE_WORDS = ("pierde", "peor", "loses")


def _arms(arm: object, reference: object) -> tuple[str, str]:
    """Comprueba los nombres de los brazos que pone el profesor."""
    arm, reference = (_setting(check_str, n, v) for n, v in (("arm", arm),
                                                              ("reference", reference)))
    if _normalize(arm) == _normalize(reference):
        raise LabkitError(f"{_TEACHER}: arm y reference son el mismo brazo («{arm}»).")
    return arm, reference


def verdict_options(arm: str, reference: str) -> dict[str, str]:
    """Las tres respuestas posibles de una comparación: gana ``arm``, empate o gana ``reference``.

    Args:
        arm: el brazo que se compara.
        reference: el brazo de referencia.

    Returns:
        ``{"a": …, "b": …, "c": …}`` con el texto de cada opción.
    """
    return {"a": f"gana «{arm}»", "b": "empate (el intervalo incluye el 0)",
            "c": f"gana «{reference}»"}


def _names(arm: str) -> set[str]:
    """Formas aceptadas del nombre de un brazo (también las de la opción de modo que sea)."""
    names = {_normalize(arm)}
    for key, aliases in _MODE_ALIASES.items():
        if key in ("a", "b") and names & aliases:
            names |= aliases
    return {n for n in names if n}


def _parse_verdict(answer: object, arm: str, reference: str) -> str | None:
    """Convierte una respuesta en «gana», «empate» o «pierde» (de ``arm`` frente a ``reference``).

    Acepta la letra de :func:`verdict_options`, la palabra del veredicto (que se lee desde
    ``arm``), el nombre de un brazo («ajuste fino» = gana el ajuste fino) o frases como «gana
    la extracción» o «empate».

    Returns:
        ``"gana"``, ``"empate"``, ``"pierde"`` o ``None`` si no se reconoce.
    """
    if not isinstance(answer, str):
        return None
    text = re.sub(r"^(?:(?:la|el|opcion|respuesta)\s+)+", "", _normalize(answer))
    letter = re.match(r"^([abc])(?: (.+))?$", text)
    if letter and letter.group(2) is None:
        return {"a": "gana", "b": "empate", "c": "pierde"}[letter.group(1)]
    if letter:  # «a) gana el ajuste fino»: se lee el texto
        text = letter.group(2)
    if text in _TIE_WORDS or any(text.startswith(w + " ") for w in ("empate", "empatan")):
        return "empate"
    mine, theirs = _names(arm), _names(reference)
    words = f" {text} "
    has_mine = any(f" {n} " in words for n in mine)
    has_theirs = any(f" {n} " in words for n in theirs)
    lose = any(f" {w} " in words for w in _LOSE_WORDS)
    if has_mine and has_theirs:  # «el ajuste fino gana a la extracción»: manda el primero
        first_mine = min(words.find(f" {n} ") for n in mine if f" {n} " in words)
        first_theirs = min(words.find(f" {n} ") for n in theirs if f" {n} " in words)
        winner_is_mine = (first_mine < first_theirs) != lose
        return "gana" if winner_is_mine else "pierde"
    if has_mine or has_theirs:
        return "gana" if has_mine != lose else "pierde"
    if text in _WIN_WORDS:
        return "gana"
    if text in _LOSE_WORDS:
        return "pierde"
    return None


def _describe(verdict: str, arm: str, reference: str) -> str:
    """El veredicto en palabras: «gana «ajuste fino»», «empate», «gana «extracción»»."""
    return {"gana": f"gana «{arm}»", "empate": "empate",
            "pierde": f"gana «{reference}»"}[verdict]


def _options_lines(arm: str, reference: str) -> str:
    return "\n".join(f"{k}) {v}" for k, v in verdict_options(arm, reference).items())


@_verdict
def check_prediction_made(prediction: object, arm: str, reference: str) -> CheckResult:
    """Anota la predicción de una comparación antes de medirla (no hay predicción incorrecta).

    Args:
        prediction: la predicción (letra de :func:`verdict_options`, «empate», el nombre del
            brazo que crees que ganará…).
        arm: el brazo que se compara (p. ej. ``"ajuste fino"``).
        reference: el brazo de referencia (p. ej. ``"extracción"``).

    Returns:
        ✅ si la predicción se reconoce; ❌ si no se entiende; sin veredicto si falta.
    """
    arm, reference = _arms(arm, reference)
    hint = "escribe lo que crees que pasará, antes de medir:\n" + _options_lines(arm, reference)
    if _unanswered(prediction):
        return _pending(hint)
    verdict = _parse_verdict(prediction, arm, reference)
    if verdict is None:
        return _wrong(f"No reconozco {prediction!r} como una predicción.", hint)
    return CheckResult(True, f"✅ Predicción anotada: {_describe(verdict, arm, reference)}. "
                             "No hay predicción mala: ahora mide y compara (el punto llega "
                             "con la medición y tu lectura de ella).")


def _values(raw: object) -> list[float] | None:
    """Los valores por semilla de un brazo (lista, tupla o ``{semilla: valor}``), o ``None``.

    Si el brazo trae los aciertos por imagen de cada semilla, el valor es su exactitud.
    """
    try:
        per_image = as_outcomes("", raw)
    except LabkitError:
        return None
    if per_image is not None:
        return [float(v) for v in seed_metric(per_image[1])]
    if isinstance(raw, Mapping):
        raw = [raw[k] for k in sorted(raw)]
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
        return None
    try:
        values = [float(v) for v in raw]
    except (TypeError, ValueError):
        return None
    return values


def _measurement_problem(measurement: object, arm: str, reference: str,
                         min_seeds: int) -> str | None:
    """Qué le falta a la medición del alumno para poder decidir, o ``None`` si está bien."""
    if not isinstance(measurement, Mapping):
        return (f"La medición debe ser un diccionario {{brazo: [exactitud por semilla]}} y es "
                f"{type(measurement).__name__}.")
    missing = [name for name in (arm, reference) if name not in measurement]
    if missing:
        have = ", ".join(f"«{k}»" for k in measurement) or "ninguno"
        return (f"Falta el brazo {' y '.join(f'«{m}»' for m in missing)} en la medición "
                f"(tiene: {have}).")
    for name in (arm, reference):
        values = _values(measurement[name])
        if values is None:
            return f"Los valores de «{name}» deben ser números, uno por semilla."
        if not all(math.isfinite(v) and 0 <= v <= 1 for v in values):
            return (f"Los valores de «{name}» deben ser exactitudes entre 0 y 1 (fracciones, "
                    "no porcentajes).")
        if len(values) < min_seeds:
            return (f"«{name}» tiene {len(values)} ejecución(es): mide cada brazo con al menos "
                    f"{min_seeds} semillas para ver cuánto varía.")
    return None


def _noise_text(d: Difference) -> str:
    """De dónde sale la anchura del intervalo de la diferencia (según cómo se calculó)."""
    half = 100 * (d.high - d.low) / 2 if d.low is not None else 0.0
    if d.method == "bootstrap":
        return (f"El intervalo de la diferencia mide unos ±{half:.1f} puntos y cuenta los dos "
                f"ruidos a la vez: las semillas ({d.n}; más semillas lo estrechan) y las imágenes "
                "de prueba, que son las mismas para los dos brazos: la comparación es "
                "emparejada (una imagen difícil lo es para los dos). Una diferencia menor que "
                "eso puede ser solo azar.")
    if d.method:
        how = "emparejadas" if d.paired else "sin emparejar (Welch)"
        return (f"El intervalo de la diferencia mide unos ±{half:.1f} puntos: es la variación "
                f"entre {d.n} semillas {how} sobre esta prueba (más semillas lo estrechan). No "
                "cuenta el azar de qué imágenes tocaron en la prueba: para contarlo, guarda "
                "los aciertos por imagen (p. ej. run_extraction(...)['test_correct']).")
    return "Con una sola ejecución por brazo no hay intervalo de la diferencia (n = 1)."


def _prediction_text(predicted: str | None, measured: str, diff: float, arm: str,
                     reference: str) -> str:
    """Comenta la predicción frente a lo medido (nunca cuenta para aprobar)."""
    if predicted is None:
        return "No anotaste una predicción (o no la reconozco): la próxima vez, predice antes."
    said = _describe(predicted, arm, reference)
    if predicted == measured:
        return f"Predijiste esto ({said}) y es lo que midió: bien razonado."
    shown = f"{100 * diff:+.1f} puntos"
    if measured == "empate":
        return (f"Predijiste que {said}; la diferencia media fue {shown}, pero el intervalo incluye "
                "el 0: con este ruido no se distingue. No es un fallo tuyo: es lo que enseña "
                "medir.")
    if predicted == "empate":
        return (f"Predijiste un empate, pero la diferencia ({shown}) es mayor que el ruido: aquí "
                "sí hay un ganador. Para eso se mide.")
    return (f"Predijiste que {said} y salió lo contrario ({shown}). Pasa a menudo: lo que vale "
            "es la medición, no la intuición.")


@_verdict
def check_measured_conclusion(prediction: object, measurement: object, conclusion: object, *,
                              arm: str, reference: str, n_test: int,
                              min_seeds: int = 2, labels: object = None,
                              metric: str = "accuracy",
                              reading: object = NotImplemented) -> CheckResult:
    """Comprueba que la conclusión escrita es la que dice la medición (la predicción se comenta).

    El veredicto de la medición es el de :func:`labkit.compare.compare` con ``n_test``: «gana»
    o «pierde» si el intervalo al 95 % de la diferencia queda a un lado del 0, «empate» si lo
    incluye. El ejercicio está bien si la medición está hecha (los dos brazos, al menos
    ``min_seeds`` semillas) y la conclusión coincide con ella, haya acertado o no la predicción.

    Args:
        prediction: lo que el alumno predijo antes de medir (ver :func:`check_prediction_made`).
        measurement: ``{brazo: [exactitud por semilla]}`` (o ``{brazo: {semilla: exactitud}}``),
            con al menos ``arm`` y ``reference``; exactitudes entre 0 y 1. Mejor, los aciertos
            por imagen de cada semilla (``{brazo: {semilla: vector de 0/1}}``): la comparación
            cuenta entonces también las imágenes de prueba, emparejadas.
        conclusion: lo que concluye el alumno tras medir (mismas formas que la predicción).
        arm: el brazo que se compara.
        reference: el brazo de referencia.
        n_test: imágenes sobre las que se midió cada exactitud (prueba o validación).
        min_seeds: semillas mínimas por brazo.
        labels: etiquetas de las imágenes (con aciertos por imagen y
            ``metric="balanced_accuracy"``).
        metric: ``"accuracy"`` o ``"balanced_accuracy"`` (ver :func:`labkit.compare.compare`).
        reading: la lectura en una línea del alumno. Si se pasa (aunque sea ``None``), el
            ejercicio exige también la predicción y una lectura que cite la diferencia o su
            intervalo, en puntos (ver :func:`labkit.readings.reading_problem`).

    Returns:
        El resultado de la comprobación.
    """
    asks_reading = reading is not NotImplemented
    arm, reference = _arms(arm, reference)
    n_test = _setting(check_int, "n_test", n_test, minimum=1)
    min_seeds = _setting(check_int, "min_seeds", min_seeds, minimum=1)
    if metric not in METRICS or (metric == "balanced_accuracy" and labels is None):
        raise LabkitError(f"{_TEACHER}: metric={metric!r} (usa 'accuracy', o "
                          "'balanced_accuracy' con labels).")
    hint = ("la conclusión la decide el intervalo de la diferencia: entero por encima de 0, gana "
            f"«{arm}»; entero por debajo, gana «{reference}»; si incluye el 0, empate. Mira la "
            "frase que imprime `comparacion.sentence(...)`.\n" + _options_lines(arm, reference))
    if _unanswered(measurement):
        return _pending(f"primero mide los dos brazos con varias semillas y guárdalos en un "
                        f"diccionario {{«{arm}»: [...], «{reference}»: [...]}}.")
    problem = _measurement_problem(measurement, arm, reference, min_seeds)
    if problem:
        return _wrong(problem, f"guarda las exactitudes por semilla: {{«{arm}»: [0.81, 0.83, "
                               f"…], «{reference}»: [0.80, 0.79, …]}}.")
    if asks_reading and _unanswered(prediction):
        return _pending("anota tu predicción (celda anterior) antes de medir:\n"
                        + _options_lines(arm, reference), "falta tu predicción")
    if asks_reading and _parse_verdict(prediction, arm, reference) is None:
        return _wrong(f"No reconozco {prediction!r} como una predicción.",
                      _options_lines(arm, reference))
    if _unanswered(conclusion):
        return _pending(hint, "falta tu conclusión")
    concluded = _parse_verdict(conclusion, arm, reference)
    if concluded is None:
        return _wrong(f"No reconozco {conclusion!r} como una conclusión.", hint)
    try:
        cmp = compare({arm: measurement[arm], reference: measurement[reference]},
                      reference=reference, n_test=n_test, labels=labels, metric=metric)
    except LabkitError as err:  # p. ej. aciertos por imagen de otra prueba: lo arregla el alumno
        return _wrong(f"No se puede comparar tu medición: {err}", hint)
    measured, diff = cmp.verdict(arm), cmp.difference(arm).diff
    predicted = None if _unanswered(prediction) else _parse_verdict(prediction, arm, reference)
    parts = [f"Tu medición: {cmp.sentence(arm)}", _noise_text(cmp.difference(arm)),
             _prediction_text(predicted, measured, diff, arm, reference)]
    if concluded == measured and asks_reading:
        if _unanswered(reading):
            return _pending("escribe en `lectura` una línea con lo que midió tu comparación: la "
                            "diferencia en puntos y su intervalo.", "falta tu lectura")
        problem = reading_problem(reading, cmp.difference(arm))
        if problem:
            return _wrong(problem, "copia de la frase de tu comparación la diferencia o su "
                                   "intervalo, en puntos, y di qué significa.")
    if concluded == measured:
        return _ok(f"Tu conclusión («{_describe(concluded, arm, reference)}») es la de tu "
                   "medición.\n" + "\n".join(parts))
    echo = (" Escribiste tu predicción, no lo que mediste." if predicted == concluded else "")
    return _wrong(f"Tu conclusión («{_describe(concluded, arm, reference)}») no es lo que dice "
                  f"tu medición («{_describe(measured, arm, reference)}»).{echo}\n"
                  + "\n".join(parts[:2]), hint)


# --- Elegir por validación y mirar la prueba una vez ---------------------------------------------

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
        half = _Z * math.sqrt(best * (1 - best) / n_val)
        if best - second < half:
            note = (f" Ojo: la segunda mejor está a {100 * (best - second):.1f} puntos, menos "
                    f"que el ruido de una exactitud medida en {n_val} imágenes de validación "
                    f"(±{100 * half:.1f}); con "
                    "más semillas sabrías si la diferencia es real. Ante un empate, la más "
                    "congelada es la más barata.")
    return _ok(f"Elegiste {depth} grupos congelados por validación ({pct(best)}, la mejor de "
               f"{len(means)} profundidades) y miraste la prueba una sola vez: {pct(score)}."
               + note)


# --- Leer la curva de tamaño de datos ------------------------------------------------------------

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
    :func:`labkit.compare.compare` con ``n_test``. Así se lee una curva con ruido: «a partir de
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
