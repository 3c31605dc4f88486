"""Preguntas de opciones: qué modo elegir y qué dice una curva de pérdidas.

:func:`check_mode_choice` y :func:`check_overfitting_answer` aceptan la letra o el nombre de la
opción (con o sin tildes); con un historial medido, la segunda lee la curva del propio alumno.
Se usan desde :mod:`labkit.checks`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

from ..base._errors import LabkitError
from ..base._validate import check_int
from ._verdicts import _TEACHER, CheckResult, _ok, _pending, _setting, _unanswered, _verdict, _wrong

__all__ = ["MODE_OPTIONS", "OVERFITTING_OPTIONS", "show_options", "check_mode_choice",
           "check_overfitting_answer"]


MODE_OPTIONS = {"a": "extracción de características", "b": "ajuste fino",
                "c": "depende: mide en validación"}


OVERFITTING_OPTIONS = {
    "a": "falta entrenar más épocas",
    "b": "sobreajuste: hay que parar antes (parada temprana)",
    "c": "la tasa de aprendizaje es demasiado baja",
    "d": "los datos de validación están mal",
}


def _normalize(text: str) -> str:
    """Minúsculas, sin tildes, sin signos de puntuación y con espacios simples."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def _aliases(options: dict[str, str], extra: dict[str, Sequence[str]]) -> dict[str, set[str]]:
    """Formas aceptadas de cada opción: su texto y las variantes de ``extra``, normalizadas."""
    return {key: {_normalize(text), *(_normalize(e) for e in extra.get(key, ()))}
            for key, text in options.items()}


_MODE_ALIASES = _aliases(MODE_OPTIONS, {
    "a": ["extraccion", "feature extraction", "extraccion de features", "extractor de caracteristicas",
          "features"],
    "b": ["fine tuning", "finetuning", "fine tune", "ajuste", "ajustar", "afinado", "afinar"],
    "c": ["depende", "mide en validacion", "medir en validacion", "medir", "mide", "medirlo",
          "depende mide", "depende medir en validacion", "it depends"],
})


_OVERFITTING_ALIASES = _aliases(OVERFITTING_OPTIONS, {
    "a": ["falta entrenar mas", "entrenar mas", "mas epocas", "subajuste", "underfitting"],
    "b": ["sobreajuste", "sobre ajuste", "overfitting", "early stopping", "parar antes",
          "parada temprana", "sobreajuste parar antes parada temprana", "sobreajuste parar antes", "sobreajuste early stopping",
          "sobreajuste parar antes early stopping"],
    "c": ["tasa de aprendizaje baja", "tasa de aprendizaje demasiado baja", "learning rate bajo",
          "lr bajo", "lr demasiado bajo"],
    "d": ["datos de validacion mal", "validacion mal", "datos de validacion", "validacion"],
})


def _match_option(answer: object, aliases: dict[str, set[str]]) -> str | None:
    """Reconoce una respuesta de opción múltiple: la letra, el texto o ambos ("b) sobreajuste").

    Args:
        answer: la respuesta del alumno.
        aliases: formas aceptadas de cada opción (de :func:`_aliases`).

    Returns:
        La letra de la opción, o ``None`` si no se reconoce.
    """
    if not isinstance(answer, str):
        return None
    text = re.sub(r"^(?:(?:la|el|opcion|respuesta)\s+)+", "", _normalize(answer))
    for key, names in aliases.items():
        if text == key or text in names:
            return key
        if text.startswith(key + " ") and text[len(key) + 1:] in names:
            return key
    return None


def _options_text(options: dict[str, str]) -> str:
    """Las opciones en líneas ``a) …``."""
    return "\n".join(f"{key}) {text}" for key, text in options.items())


def show_options(options: dict[str, str]) -> None:
    """Muestra las opciones de una pregunta (``MODE_OPTIONS``, ``OVERFITTING_OPTIONS``).

    Args:
        options: letra → texto de cada opción.
    """
    print(_options_text(options))


def _unrecognized(answer: object, options: dict[str, str]) -> CheckResult:
    """Veredicto para una respuesta que no es ninguna de las opciones."""
    letters = " o ".join(f"«{key}»" for key in options)
    shown = repr(answer) if len(repr(answer)) <= 60 else repr(answer)[:57] + "..."
    return _wrong(f"No reconozco {shown} como una de las opciones.",
                  f"responde con la letra ({letters}) o con el texto de una opción:\n"
                  + _options_text(options))


_MEASURE = ("Decídelo midiendo: entrena las dos con varias semillas, compáralas en validación "
            "con labkit.compare y quédate con la que gane por el intervalo; si empatan, con la "
            "más barata (la extracción).")


_MODE_WHY = {
    ("pocas", "a"): "Con {n} imágenes, empezar por la extracción de características es lo "
                    "prudente: entrena solo la cabeza (miles de parámetros), cuesta segundos con "
                    "las características en caché y tiene poco con qué memorizar. No es una ley: "
                    "el ajuste fino puede empatar o ganar incluso con unas cien imágenes (el "
                    "cuaderno 04 lo mide), pero con tan pocas la validación también es pequeña "
                    "y ruidosa, y cuesta distinguir una mejora real del azar.",
    ("pocas", "c"): "Con {n} imágenes la regla práctica es empezar por la extracción (barata y "
                    "con poco que sobreajustar), pero lo que decide es la medición. " + _MEASURE
                    + " Con tan pocas imágenes de validación, el intervalo será ancho.",
    ("pocas", "b"): "Con {n} imágenes el ajuste fino no es el primer paso: mueve millones de pesos "
                    "con muy pocos ejemplos (riesgo de memorizar) y, con una validación tan "
                    "pequeña, no podrás saber con fiabilidad si ganó. Puede salir bien, pero "
                    "como regla se empieza por la extracción, o se miden las dos.",
    ("medio", "a"): "Es un buen primer paso (rápido y barato). Pero con {n} imágenes el ajuste "
                    "fino puede empatar o ganar según tus datos (cuánto se parecen a ImageNet, "
                    "la resolución, la tasa): la respuesta completa es «depende: mide en "
                    "validación». " + _MEASURE,
    ("medio", "b"): "Puede ser la mejor opción con {n} imágenes, pero también puede empatar con "
                    "la extracción, que cuesta mucho menos: la respuesta completa es «depende: "
                    "mide en validación». " + _MEASURE,
    ("medio", "c"): "Con {n} imágenes ninguna regla decide por ti: el resultado depende de tus "
                    "datos. " + _MEASURE,
    ("muchas", "b"): "Con {n} imágenes hay ejemplos para adaptar también las capas preentrenadas "
                     "sin que el modelo memorice, y la regla práctica es el ajuste fino con "
                     "tasas discriminativas. Compruébalo igualmente en validación frente a la "
                     "extracción.",
    ("muchas", "c"): "Con {n} imágenes la regla práctica apunta al ajuste fino, y medirlo es lo "
                     "correcto. " + _MEASURE,
    ("muchas", "a"): "Con {n} imágenes, quedarse solo en la extracción desaprovecha los datos: "
                     "hay ejemplos de sobra para adaptar las últimas etapas a tus imágenes. La "
                     "regla práctica es el ajuste fino (o medir las dos en validación).",
}


_MODE_RIGHT = {"pocas": ("a", "c"), "medio": ("a", "b", "c"), "muchas": ("b", "c")}


_FEW_IMAGES, _MANY_IMAGES = 100, 5000


def _mode_zone(n_images: int) -> str:
    """La zona de la regla práctica para ``n_images``: ``"pocas"``, ``"medio"`` o ``"muchas"``."""
    n_images = _setting(check_int, "n_images", n_images, minimum=1)
    if n_images < _FEW_IMAGES:
        return "pocas"
    return "muchas" if n_images >= _MANY_IMAGES else "medio"


@_verdict
def check_mode_choice(answer: object, n_images: int = 50) -> CheckResult:
    """Comprueba una regla práctica: extracción de características, ajuste fino o «depende».

    Con muy pocas imágenes (menos de 100) valen la extracción y «depende: mide en validación»;
    con muchas (5000 o más), el ajuste fino y «depende»; entre medias, las tres, y la
    explicación dice que lo que decide es medir. Ninguna explicación afirma un resultado: el
    curso mide que el ajuste fino puede ganar incluso con unas cien imágenes.

    Args:
        answer: la respuesta: ``"a"``/``"b"``/``"c"`` o el texto (sin importar tildes ni
            mayúsculas; también en inglés: ``"feature extraction"``, ``"fine-tuning"``).
        n_images: cuántas imágenes etiquetadas hay.

    Returns:
        El resultado de la comprobación.
    """
    zone = _mode_zone(n_images)
    n_images = int(n_images)
    hint = ("piensa en cuántas imágenes hay, en cuántos pesos tendría que ajustar cada opción y "
            "en si una regla puede decidir por ti.\n" + _options_text(MODE_OPTIONS))
    if _unanswered(answer):
        return _pending(hint)
    choice = _match_option(answer, _MODE_ALIASES)
    if choice is None:
        return _unrecognized(answer, MODE_OPTIONS)
    why = _MODE_WHY[(zone, choice)].format(n=n_images)
    if choice in _MODE_RIGHT[zone]:
        return _ok(why)
    return _wrong(f"Con {n_images} imágenes, «{MODE_OPTIONS[choice]}» no es la mejor opción. {why}",
                  hint)


_OVERFITTING_WHY = {
    "a": "Entrenar más épocas empeoraría: la pérdida de validación ya está subiendo.",
    "b": "La pérdida de entrenamiento sigue bajando pero la de validación sube desde la época ~5: "
         "el modelo memoriza el conjunto de entrenamiento y deja de generalizar. Quédate con los "
         "pesos de la mejor época en validación (parada temprana) y, si hace falta, usa aumento de "
         "datos, regularización o congela más capas.",
    "c": "Con una tasa de aprendizaje demasiado baja la pérdida de entrenamiento bajaría muy "
         "despacio; aquí baja bien, y lo raro es que la de validación suba.",
    "d": "Unos datos de validación mal hechos darían una curva rara desde el principio; aquí la "
         "validación mejora hasta la época ~5 y solo después empeora.",
}


@_verdict
def check_overfitting_answer(answer: object, history: object = None) -> CheckResult:
    """Comprueba el diagnóstico de una curva de entrenamiento.

    Sin ``history``, la curva es la del enunciado: la pérdida de entrenamiento baja y la de
    validación sube desde la época 5 (la correcta es la b: sobreajuste). Con ``history`` (el
    historial que midió el alumno, un :class:`labkit.History` o algo con ``train_loss`` y
    ``val_loss``), la respuesta correcta es la que **su curva** muestra:

    - la validación toca fondo antes de la última época y sube después, mientras la pérdida de
      entrenamiento sigue por debajo de la de esa época → b (sobreajuste);
    - la validación sigue en su mínimo en la última época → a (falta entrenar) o c (tasa baja);
      con esa curva no se distinguen, y valen las dos.

    Una curva que no muestra ninguno de los dos patrones no se puede corregir: el veredicto es
    «No se pudo comprobar», nunca un error del alumno.

    Args:
        answer: la letra (``"a"``–``"d"``) o el texto de una de las ``OVERFITTING_OPTIONS``.
        history: el historial medido (opcional).

    Returns:
        El resultado de la comprobación.
    """
    hint = ("compara las dos curvas: ¿qué significa que la pérdida de entrenamiento baje "
            "mientras la de validación sube?\n" + _options_text(OVERFITTING_OPTIONS))
    curve = None if history is None else _curve_reading(history)
    if _unanswered(answer):
        return _pending(hint)
    choice = _match_option(answer, _OVERFITTING_ALIASES)
    if choice is None:
        return _unrecognized(answer, OVERFITTING_OPTIONS)
    if curve is None:
        if choice == "b":
            return _ok(_OVERFITTING_WHY["b"])
        return _wrong(f"«{OVERFITTING_OPTIONS[choice]}» no explica esta curva. "
                      f"{_OVERFITTING_WHY[choice]}", hint)
    accepted, what = curve
    if choice in accepted:
        return _ok(what)
    return _wrong(f"«{OVERFITTING_OPTIONS[choice]}» no es lo que muestra tu curva. {what}", hint)


def _losses(history: object, name: str) -> list[float]:
    """La lista ``name`` del historial (atributo o clave), como números finitos."""
    values = history.get(name) if isinstance(history, dict) else getattr(history, name, None)
    if values is None:
        raise LabkitError(f"{_TEACHER}: el historial no tiene «{name}».")
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        raise LabkitError(f"{_TEACHER}: «{name}» del historial no es una lista de números.") from None
    if not all(math.isfinite(v) for v in values):
        raise LabkitError(f"el historial tiene pérdidas que no son números finitos en «{name}»: "
                          "el entrenamiento divergió y la curva no se puede leer.")
    return values


def _curve_reading(history: object) -> tuple[set[str], str]:
    """Qué opciones de ``OVERFITTING_OPTIONS`` apoya una curva medida, y por qué (con sus números).

    Raises:
        LabkitError: si el historial no sirve o la curva no muestra ningún patrón de las opciones.
    """
    train, val = _losses(history, "train_loss"), _losses(history, "val_loss")
    if len(val) < 3 or len(train) != len(val):
        raise LabkitError(f"{_TEACHER}: hacen falta al menos 3 épocas con pérdida de "
                          f"entrenamiento y de validación (hay {len(val)}).")
    best = min(range(len(val)), key=val.__getitem__)
    last = len(val) - 1
    if best == last:
        return {"a", "c"}, (
            f"En tu curva la pérdida de validación sigue bajando: su mínimo ({val[best]:.3f}) es "
            f"la última época, la {last + 1}. Aún no hay sobreajuste: entrenar más épocas (o con "
            "una tasa algo mayor, si la pérdida de entrenamiento baja muy despacio) puede mejorar.")
    if val[last] > val[best] and train[last] < train[best]:
        return {"b"}, (
            f"En tu curva la pérdida de validación toca fondo en la época {best + 1} "
            f"({val[best]:.3f}) y termina en {val[last]:.3f}, mientras la de entrenamiento baja de "
            f"{train[best]:.3f} a {train[last]:.3f}: el modelo memoriza las imágenes de "
            "entrenamiento y deja de generalizar. Es sobreajuste: quédate con los pesos de la "
            "mejor época en validación (parada temprana) y, si hace falta, usa más datos, aumento "
            "de datos o congela más grupos.")
    raise LabkitError(
        f"tu curva no muestra ninguno de los patrones de las opciones (la validación toca fondo "
        f"en la época {best + 1}, pero la pérdida de entrenamiento no bajó desde entonces: "
        f"{train[best]:.3f} → {train[last]:.3f}). Mírala en la figura y coméntala con tu "
        "profesor.")
