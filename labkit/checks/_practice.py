"""Ejercicios de práctica: predecir, medir y concluir con lo medido.

Son las comprobaciones de los ejercicios en que el alumno **aplica** el método del curso, no en
que recuerda una regla:

- :func:`check_prediction_made` anota una predicción antes de medir (no hay predicción mala). No
  da puntos por sí sola: el punto llega con :func:`check_measured_conclusion`, que exige la
  predicción, la medición, la conclusión y una lectura en una línea (``reading``).
- :func:`check_measured_conclusion` compara dos brazos medidos con varias semillas
  (:func:`labkit.experiments.compare`, veredicto por el intervalo al 95 %) y da el ejercicio por
  bueno si la **conclusión escrita coincide con la medición**. La predicción solo se comenta:
  fallarla no es fallar el ejercicio, es la razón para medir. «Empate» es un resultado legítimo.

Las que leen un barrido del alumno (``check_depth_choice``, ``check_data_needed``) están en
:mod:`labkit.checks`.

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

from ..base._errors import LabkitError
from ..base._validate import check_int, check_str
from ..experiments._bootstrap import METRICS, as_outcomes, seed_metric
from ..experiments._compare import compare
from ..experiments._comparison import SPLITS, Difference
from ._optioncheck import _MODE_ALIASES, _normalize
from ._readings import reading_problem
from ._verdicts import _TEACHER, CheckResult, _ok, _pending, _setting, _unanswered, _verdict, _wrong

__all__ = ["verdict_options", "check_prediction_made", "check_measured_conclusion"]

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


def _noise_text(d: Difference, split: str = "prueba") -> str:
    """De dónde sale la anchura del intervalo de la diferencia (según cómo se calculó)."""
    half = 100 * (d.high - d.low) / 2 if d.low is not None else 0.0
    if d.method == "bootstrap":
        return (f"El intervalo de la diferencia mide unos ±{half:.1f} puntos y cuenta los dos "
                f"ruidos a la vez: las semillas ({d.n}; más semillas lo estrechan) y las imágenes "
                f"de {split}, que son las mismas para los dos brazos: la comparación es "
                "emparejada (una imagen difícil lo es para los dos). Una diferencia menor que "
                "eso puede ser solo azar.")
    if d.method:
        how = "emparejadas" if d.paired else "sin emparejar (Welch)"
        return (f"El intervalo de la diferencia mide unos ±{half:.1f} puntos: es la variación "
                f"entre {d.n} semillas {how} sobre esta {split} (más semillas lo estrechan). No "
                f"cuenta el azar de qué imágenes tocaron en la {split}: para contarlo, guarda "
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
                              metric: str = "accuracy", split: str = "prueba",
                              reading: object = NotImplemented) -> CheckResult:
    """Comprueba que la conclusión escrita es la que dice la medición (la predicción se comenta).

    El veredicto de la medición es el de :func:`labkit.experiments.compare` con ``n_test``: «gana»
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
        metric: ``"accuracy"`` o ``"balanced_accuracy"`` (ver :func:`labkit.experiments.compare`).
        split: dónde se midió, ``"prueba"`` o ``"validación"`` (las frases lo dicen).
        reading: la lectura en una línea del alumno. Si se pasa (aunque sea ``None``), el
            ejercicio exige también la predicción y una lectura que cite la diferencia o su
            intervalo, en puntos (ver :func:`labkit.checks.reading_problem`).

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
    if split not in SPLITS:
        raise LabkitError(f"{_TEACHER}: split={split!r} (usa «prueba» o «validación»: dónde se "
                          "midió).")
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
                      reference=reference, n_test=n_test, labels=labels, metric=metric,
                      split=split)
    except LabkitError as err:  # p. ej. aciertos por imagen de otra prueba: lo arregla el alumno
        return _wrong(f"No se puede comparar tu medición: {err}", hint)
    measured, diff = cmp.verdict(arm), cmp.difference(arm).diff
    predicted = None if _unanswered(prediction) else _parse_verdict(prediction, arm, reference)
    parts = [f"Tu medición: {cmp.sentence(arm)}", _noise_text(cmp.difference(arm), split),
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
