"""Comprobaciones de los ejercicios: un veredicto claro en español para quien aprende.

Cada comprobación muestra una vez su veredicto (✅ correcto, ❌ qué está mal, 💡 una pista) y
devuelve un :class:`CheckResult`, que no se vuelve a mostrar como salida de la celda. Un ejercicio
sin responder (``None`` o ``...``) dice «Ejercicio sin responder» y nunca lanza una excepción; un
error dentro del objeto del alumno se convierte también en un veredicto.

Uso en un cuaderno::

    respuesta = None
    ### BEGIN SOLUTION
    respuesta = "extracción de características"
    ### END SOLUTION
    labkit.checks.check_mode_choice(respuesta)
"""

from __future__ import annotations

import functools
import html
import inspect
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec

from .errors import LabkitError
from .fmt import count
from .validate import check_float, check_int, check_str

__all__ = [
    "CheckResult",
    "MODE_OPTIONS",
    "OVERFITTING_OPTIONS",
    "show_options",
    "check_freeze",
    "check_param_groups",
    "check_mode_choice",
    "check_overfitting_answer",
    "check_value",
    "check_lr_ratio",
    "check_accuracy_at_least",
]

_P = ParamSpec("_P")
_COLORS = {True: "#2e7d32", False: "#c62828", None: "#f9a825"}


@dataclass(frozen=True)
class CheckResult:
    """Resultado de una comprobación.

    Args:
        passed: ``True`` si es correcto, ``False`` si no, ``None`` si no hay veredicto (ejercicio
            sin responder o comprobación imposible).
        message: el veredicto completo, tal como se mostró.
    """

    passed: bool | None
    message: str

    def __repr__(self) -> str:
        state = {True: "correcto", False: "incorrecto", None: "sin veredicto"}[self.passed]
        return f"<CheckResult: {state}>"

    def _ipython_display_(self) -> None:
        """No muestra nada: el veredicto ya se mostró al comprobar (usa :meth:`show`)."""

    def show(self) -> None:
        """Vuelve a mostrar el veredicto."""
        _display(self)


def _as_html(result: CheckResult) -> str:
    """Convierte el veredicto en un bloque HTML con un borde del color del resultado."""
    color = _COLORS[result.passed]
    body = html.escape(result.message).replace("\n", "<br>")
    return f'<div style="border-left:4px solid {color};padding:4px 10px;">{body}</div>'


def _display(result: CheckResult) -> None:
    """Muestra el veredicto con ``IPython.display`` en un cuaderno, si no con ``print``."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        print(result.message)
        return
    if get_ipython() is None:
        print(result.message)
        return
    display({"text/plain": result.message, "text/html": _as_html(result)}, raw=True)


def _error_result(err: Exception) -> CheckResult:
    """Veredicto para una excepción inesperada (casi siempre, del objeto del alumno)."""
    detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    return CheckResult(False, f"❌ Al comprobar tu respuesta saltó un error ({detail}).\n"
                              "💡 Pista: revisa que pasas el objeto que pide el enunciado y que "
                              "las celdas anteriores se ejecutaron sin errores.")


def _verdict(func: Callable[_P, CheckResult]) -> Callable[_P, CheckResult]:
    """Decora una comprobación: muestra su veredicto y convierte las excepciones en veredictos.

    Args:
        func: la comprobación, que devuelve un :class:`CheckResult` sin mostrarlo.

    Returns:
        La comprobación que muestra el veredicto una vez y nunca lanza ``Exception``.
    """
    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> CheckResult:
        try:
            result = func(*args, **kwargs)
        except LabkitError as err:
            result = CheckResult(None, f"⚠️ No se pudo comprobar: {err}")
        except Exception as err:  # el objeto del alumno puede lanzar cualquier cosa
            result = _error_result(err)
        _display(result)
        return result
    return wrapper


_TEACHER = "el ejercicio está mal preparado (es cosa del enunciado, no de tu respuesta)"


def _setting(check: Callable[..., Any], name: str, value: object, **bounds: Any) -> Any:
    """Comprueba un argumento que pone quien escribe el ejercicio (``expected``, ``threshold``…).

    Si está mal, el veredicto es «No se pudo comprobar» (⚠️), nunca un ❌ para el alumno.

    Args:
        check: una función de :mod:`labkit.validate` (``check_float``, ``check_int``…).
        name: el nombre del argumento.
        value: lo que llegó.
        **bounds: los límites que se pasan a ``check``.

    Returns:
        El valor comprobado.
    """
    try:
        return check(name, value, **bounds)
    except LabkitError as err:
        raise LabkitError(f"{_TEACHER}: {err}") from None


def _settings(**rules: tuple[Callable[..., Any], dict[str, Any]]) -> Callable[[Callable[_P, CheckResult]], Callable[_P, CheckResult]]:
    """Decora una comprobación: valida con :func:`_setting` los argumentos del profesor.

    Args:
        **rules: ``nombre=(función de labkit.validate, límites)`` por argumento.

    Returns:
        El decorador (va debajo de ``@_verdict``, que convierte el error en «No se pudo comprobar»).
    """
    def decorate(func: Callable[_P, CheckResult]) -> Callable[_P, CheckResult]:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> CheckResult:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, (check, bounds) in rules.items():
                bound.arguments[name] = _setting(check, name, bound.arguments[name], **bounds)
            return func(*bound.args, **bound.kwargs)
        return wrapper
    return decorate


def _ok(text: str) -> CheckResult:
    """Veredicto correcto."""
    return CheckResult(True, f"✅ Correcto. {text}")


def _wrong(text: str, hint: str) -> CheckResult:
    """Veredicto incorrecto, con lo que está mal y una pista."""
    return CheckResult(False, f"❌ {text}\n💡 Pista: {hint}")


def _pending(hint: str, detail: str = "") -> CheckResult:
    """Veredicto de un ejercicio sin responder (``detail``: por qué se sabe, si hace falta)."""
    return CheckResult(None, f"✏️ Ejercicio sin responder{': ' + detail if detail else '.'}\n"
                             f"💡 Pista: {hint}")


def _unanswered(answer: object) -> bool:
    """Dice si la respuesta es el valor inicial de un ejercicio (``None`` o ``...``)."""
    return answer is None or answer is Ellipsis


def _fmt(x: float) -> str:
    """Formatea un número: 4 cifras significativas (``1e-06``, ``0.0001``, ``3.5``); un entero
    grande, entero y con espacios de miles (``14 964 737``, nunca ``1.496e+07``)."""
    if float(x).is_integer() and abs(x) >= 1e4 and abs(x) < 1e16:
        return f"{int(x):,}".replace(",", " ")
    return f"{x:.4g}"


_count = count  # «1 época», «5 épocas»: labkit.fmt.count


def _close(a: float, b: float, tol: float = 1e-9) -> bool:
    """Compara con tolerancia relativa (absoluta si ``b`` es 0)."""
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol if b == 0 else 0.0)


def _as_number(answer: object) -> float | None:
    """Convierte la respuesta en ``float`` (números, tensores de un elemento, texto como ``"1e-6"``).

    Args:
        answer: la respuesta.

    Returns:
        El número, o ``None`` si no es un número.
    """
    if isinstance(answer, bool):
        return None
    if isinstance(answer, str):
        answer = answer.strip().replace(",", ".") if "." not in answer else answer.strip()
    try:
        return float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError, RuntimeError):
        return None


# --- Opciones múltiples -------------------------------------------------------------------------

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


_FEW_IMAGES, _MANY_IMAGES = 100, 5000
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


# --- Números ------------------------------------------------------------------------------------

def _value_result(answer: object, expected: float, tol: float, hint: str) -> CheckResult:
    """Compara un número con el esperado sin mostrar el veredicto (ver :func:`check_value`)."""
    if _unanswered(answer):
        return _pending(hint)
    number = _as_number(answer)
    if number is None:
        shown = repr(answer) if len(repr(answer)) <= 60 else repr(answer)[:57] + "..."
        return _wrong(f"Tu respuesta debe ser un número y es {type(answer).__name__}: {shown}.",
                      hint)
    if math.isnan(number):
        return _wrong("Tu respuesta es NaN (no es un número).", hint)
    if _close(number, expected, tol):
        return _ok(f"{_fmt(number)} es el valor esperado.")
    direction = "demasiado grande" if number > expected else "demasiado pequeña"
    return _wrong(f"Tu respuesta, {_fmt(number)}, es {direction}.", hint)


@_verdict
def check_value(answer: object, expected: float, tol: float = 1e-6,
                hint: str = "revisa el cálculo paso a paso.") -> CheckResult:
    """Comprueba una respuesta numérica.

    Args:
        answer: la respuesta (número, tensor de un elemento o texto como ``"1e-6"``).
        expected: el valor correcto (no se muestra al alumno).
        tol: tolerancia relativa (absoluta si ``expected`` es 0).
        hint: la pista que se muestra si la respuesta no es correcta.

    Returns:
        El resultado de la comprobación.
    """
    expected = _setting(check_float, "expected", expected)
    tol = _setting(check_float, "tol", tol, minimum=0)
    hint = _setting(check_str, "hint", hint)
    return _value_result(answer, expected, tol, hint)


def _expected_lrs(lr: float, ratio: float, count: int, total: int | None = None,
                  tiers: int = 3) -> list[float]:
    """Tasas de los últimos ``count`` grupos de un modelo de ``total``, del primero a la cabeza.

    Es la misma definición que :func:`labkit.optim.group_lrs` (la única del curso): la cabeza
    lleva ``lr``, el primer grupo del modelo ``lr / ratio**(tiers - 1)`` y los de en medio se
    reparten geométricamente. ``total`` (por defecto ``count``) es el número de grupos del
    modelo: con capas congeladas, el optimizador solo recibe los últimos.
    """
    from .optim import group_lrs

    total = count if total is None else max(int(total), count)
    return group_lrs(total, lr, ratio, tiers)[total - count:]


def _all_close(actual: Sequence[float], expected: Sequence[float]) -> bool:
    """Compara dos listas de números elemento a elemento (tolerancia relativa 1e-9)."""
    return len(actual) == len(expected) and all(_close(a, e) for a, e in zip(actual, expected, strict=True))


def _schedule_mistake(lrs: Sequence[float], lr: float, ratio: float, reveal: bool,
                      total: int | None = None) -> str | None:
    """Describe el error de unas tasas por grupo (del primero a la cabeza), o ``None`` si están bien.

    Args:
        lrs: las tasas del alumno.
        lr: la tasa de la cabeza.
        ratio: razón entre niveles (la de :func:`labkit.optim.group_lrs`).
        reveal: si el mensaje puede decir la tasa correcta de cada grupo.
        total: grupos del modelo (``None`` = tantos como tasas).

    Returns:
        El mensaje del primer error, o ``None``.
    """
    expected = _expected_lrs(lr, ratio, len(lrs), total)
    if _all_close(lrs, expected):
        return None
    if len(lrs) > 1 and _all_close(lrs, [lrs[0]] * len(lrs)):
        return (f"Todos los grupos tienen la misma tasa ({_fmt(lrs[0])}): así no hay tasas "
                "discriminativas. Los grupos cercanos a la entrada deben aprender más despacio.")
    if _all_close(lrs, expected[::-1]):
        return ("El orden está al revés: la cabeza tiene la tasa más baja y el primer grupo la más "
                "alta. La lista va del primer grupo (el más cercano a la entrada) a la cabeza.")
    if _all_close(lrs, [lr * lr / e for e in expected]):
        return (f"Multiplicaste por {ratio:g} en vez de dividir: los grupos cercanos a la entrada "
                "deben tener tasas más pequeñas que la cabeza, no más grandes.")
    index = next(i for i, (a, e) in enumerate(zip(lrs, expected, strict=True)) if not _close(a, e))
    detail = f"debería tener {_fmt(expected[index])}" if reveal else (
        "es demasiado grande" if lrs[index] > expected[index] else "es demasiado pequeña")
    return (f"El grupo {index} (contando desde 0; el 0 es el más cercano a la entrada) tiene "
            f"lr={_fmt(lrs[index])}: {detail}.")


def _early_lr_mistake(answer: float, head_lr: float, ratio: float, n_groups: int) -> str | None:
    """Reconoce los errores típicos al calcular la tasa del primer grupo."""
    known = {
        head_lr: "Esa es la tasa de la cabeza; el primer grupo debe aprender más despacio.",
        head_lr * ratio ** 2: f"Multiplicaste por {ratio:g} en vez de dividir.",
        head_lr / ratio ** 3: ("Dividiste una vez de más: hay tres niveles (primeras capas, "
                               "medias, cabeza), es decir, dos saltos de la cabeza al primero."),
        head_lr / ratio: (f"Dividiste una sola vez por {ratio:g}: hay tres niveles, dos saltos "
                          "de la cabeza al primer grupo."),
    }
    if n_groups not in (2, 3, 4):
        known[head_lr / ratio ** (n_groups - 1)] = (
            f"Dividiste por {ratio:g} en cada uno de los {n_groups - 1} saltos entre grupos: la "
            "razón va por niveles (tres), y los grupos de en medio se reparten entre los dos "
            "extremos (labkit.group_lrs).")
    return next((text for value, text in known.items() if _close(answer, value)), None)


@_verdict
@_settings(head_lr=(check_float, {"minimum": 0, "strict": True}),
           ratio=(check_float, {"minimum": 0, "strict": True}),
           n_groups=(check_int, {"minimum": 1}))
def check_lr_ratio(answer: object, head_lr: float = 1e-4, ratio: float = 10.0,
                   n_groups: int = 3) -> CheckResult:
    """Comprueba la tasa del primer grupo (o la lista de tasas) con tasas discriminativas.

    La definición es la de :func:`labkit.optim.group_lrs`: la cabeza lleva ``head_lr``, el
    primer grupo ``head_lr / ratio**2`` (tres niveles) y los de en medio se reparten
    geométricamente. Con 1e-4, ratio 10 y 3 grupos, el primero lleva 1e-6 (y la lista es
    ``[1e-6, 1e-5, 1e-4]``).

    Args:
        answer: la tasa del primer grupo, o una lista con la de cada grupo (del primero a la
            cabeza).
        head_lr: la tasa de la cabeza.
        ratio: razón entre niveles (la de :func:`labkit.optim.group_lrs`).
        n_groups: cuántos grupos hay, contando la cabeza.

    Returns:
        El resultado de la comprobación.
    """
    hint = (f"la cabeza lleva {_fmt(head_lr)} y cada nivel hacia la entrada divide la tasa por "
            f"{ratio:g}; hay tres niveles (primeras capas, medias, cabeza) y los {n_groups} "
            "grupos se reparten entre ellos (labkit.group_lrs).")
    if isinstance(answer, (list, tuple, dict)):
        return _lr_list_result(list(answer.values() if isinstance(answer, dict) else answer),
                               head_lr, ratio, n_groups, hint)
    number = _as_number(answer)
    mistake = None if number is None else _early_lr_mistake(number, head_lr, ratio, n_groups)
    if mistake and not _close(number, _expected_lrs(head_lr, ratio, n_groups)[0]):
        return _wrong(f"Tu respuesta, {_fmt(number)}, no es correcta. {mistake}", hint)
    return _value_result(answer, _expected_lrs(head_lr, ratio, n_groups)[0], 1e-9, hint)


def _lr_list_result(lrs: list[Any], head_lr: float, ratio: float, n_groups: int,
                    hint: str) -> CheckResult:
    """Comprueba una lista de tasas, del primer grupo a la cabeza (ver :func:`check_lr_ratio`)."""
    numbers = [_as_number(x) for x in lrs]
    if any(x is None for x in numbers):
        return _wrong("La lista debe contener solo números (una tasa por grupo).", hint)
    if len(numbers) != n_groups:
        return _wrong(f"La lista tiene {len(numbers)} tasas y hay {n_groups} grupos.", hint)
    mistake = _schedule_mistake(numbers, head_lr, ratio, reveal=False)  # type: ignore[arg-type]
    if mistake:
        return _wrong(mistake, hint)
    return _ok(f"Las tasas van de {_fmt(numbers[0])} (primer grupo) a {_fmt(numbers[-1])} "
               f"(cabeza), con razón {ratio:g} entre niveles.")


def _as_percent(value: float) -> tuple[float, str] | None:
    """Interpreta una exactitud como fracción (0–1) o porcentaje (1–100).

    Args:
        value: el número.

    Returns:
        ``(porcentaje, "fracción" | "porcentaje")``, o ``None`` si no parece una exactitud.
    """
    if math.isnan(value) or value < 0 or value > 100:
        return None
    return (value * 100, "fracción") if value <= 1 else (value, "porcentaje")


@_verdict
def check_accuracy_at_least(acc: object, threshold: float) -> CheckResult:
    """Comprueba que la exactitud en el conjunto de prueba llega al mínimo pedido.

    Un valor entre 0 y 1 se toma como fracción y uno entre 1 y 100 como porcentaje; el veredicto
    dice cuál se supuso.

    Args:
        acc: la exactitud obtenida (número o tensor de un elemento).
        threshold: el mínimo, como fracción (0.8) o porcentaje (80).

    Returns:
        El resultado de la comprobación.
    """
    hint = ("prueba más épocas, descongela algún grupo más con una tasa pequeña o usa aumento de "
            "datos; mide la exactitud en el conjunto de prueba.")
    limit = _as_percent(_setting(check_float, "threshold", threshold, minimum=0, maximum=100,
                                 expected="una exactitud: fracción (0–1) o porcentaje (0–100)"))
    if _unanswered(acc):
        return _pending(hint)
    number = _as_number(acc)
    percent = None if number is None else _as_percent(number)
    if number is None or percent is None:
        return _wrong(f"{acc!r} no parece una exactitud: debe ser un número entre 0 y 1 "
                      "(fracción) o entre 0 y 100 (porcentaje).", hint)
    told = f"{percent[0]:.1f} % (tomé {_fmt(number)} como {percent[1]})"
    if percent[0] >= limit[0] - 1e-4:  # margen para float32 (0.9 → 89.99999)
        return _ok(f"Tu exactitud es {told}; el mínimo era {limit[0]:.1f} %.")
    return _wrong(f"Tu exactitud es {told}; hace falta al menos {limit[0]:.1f} % "
                  f"(te faltan {limit[0] - percent[0]:.1f} puntos).", hint)


# --- Congelar capas y grupos de parámetros --------------------------------------------------------

_FREEZE_HINT = ("recorre `layer_groups(model)[:depth]` y pon `p.requires_grad_(False)` en cada "
                "parámetro `p` de `grupo.params` (son pares `(nombre, p)`); los grupos siguientes "
                "deben quedar con `requires_grad=True`.")


def _layer_groups(model: object) -> list[Any]:
    """Pide los grupos de capas a ``labkit.groups``, con un mensaje claro si no está disponible."""
    try:
        from .groups import layer_groups
    except ImportError as err:
        raise LabkitError(
            f"el módulo «labkit.groups» no se puede importar ({err}). Actualiza labkit o pasa los "
            "grupos con groups=..."
        ) from err
    return list(layer_groups(model))


def _frozen_counts(group: Any) -> tuple[int, int]:
    """Cuenta los tensores de parámetros congelados de un grupo.

    Args:
        group: un grupo con ``.params``, lista de ``(nombre, parámetro)``.

    Returns:
        ``(congelados, total)``.
    """
    params = [p for _, p in group.params]
    return sum(not p.requires_grad for p in params), len(params)


def _group_errors(groups: list[Any], depth: int) -> list[str]:
    """Una línea por grupo en un estado que no toca (congelado de más o de menos)."""
    errors = []
    for index, group in enumerate(groups):
        frozen, total = _frozen_counts(group)
        if index < depth and frozen < total:
            errors.append(f"«{group.name}» debería estar congelado (tiene {total - frozen} de "
                          f"{total} tensores de parámetros entrenables).")
        elif index >= depth and frozen > 0:
            errors.append(f"«{group.name}» debería ser entrenable (tiene {frozen} de {total} "
                          "tensores de parámetros congelados).")
    return errors


def _freeze_diagnosis(model: object, groups: list[Any], depth: int) -> str:
    """Resume los errores típicos al congelar antes de la lista de grupos mal congelados."""
    counts = [_frozen_counts(g) for g in groups]
    if all(frozen == 0 for frozen, _ in counts):
        return ("Todavía no hay nada congelado. Ojo: `model.requires_grad = False` solo crea un "
                "atributo nuevo y no congela nada; usa `p.requires_grad_(False)` en cada parámetro.")
    if all(frozen == total for frozen, total in counts):
        return "Has congelado todo, también la cabeza: así el modelo no aprende nada."
    leading = next((i for i, (f, t) in enumerate(counts) if t and f < t), len(counts))
    if all(f == 0 for f, _ in counts[leading:]) and leading != depth:
        return (f"Congelaste {_count(leading, 'grupo', 'grupos')} y había que congelar "
                f"{_count(depth, 'grupo', 'grupos')} (los primeros).")
    return "Algunos grupos no están como deberían."


@_verdict
def check_freeze(model: object, depth: int, groups: Sequence[Any] | None = None) -> CheckResult:
    """Comprueba que están congelados los primeros ``depth`` grupos de capas y solo ellos.

    Args:
        model: el modelo que el alumno congeló.
        depth: cuántos grupos (desde la entrada) debían quedar congelados.
        groups: los grupos de capas; por defecto, ``labkit.groups.layer_groups(model)``. Cada uno
            tiene ``.name`` y ``.params`` (lista de ``(nombre, parámetro)``).

    Returns:
        El resultado de la comprobación.
    """
    if _unanswered(model):
        return _pending(_FREEZE_HINT)
    groups = list(groups) if groups is not None else _layer_groups(model)
    depth = _setting(check_int, "depth", depth, minimum=0, maximum=len(groups))
    errors = _group_errors(groups, depth)
    untouched = all(_frozen_counts(g)[0] == 0 for g in groups)
    if errors and untouched and getattr(model, "__dict__", {}).get("requires_grad") is not False:
        return _pending(_FREEZE_HINT, "todavía no hay ningún parámetro congelado.")
    if errors:
        lines = "\n".join(f"   • {e}" for e in errors)
        return _wrong(f"{_freeze_diagnosis(model, groups, depth)}\n{lines}", _FREEZE_HINT)
    frozen = ", ".join(g.name for g in groups[:depth]) or "ninguno"
    trainable = sum(p.numel() for g in groups[depth:] for _, p in g.params)
    count = f"{trainable:,}".replace(",", " ")
    return _ok(f"Congelados: {frozen}. Se entrena el resto "
               f"({_count(len(groups) - depth, 'grupo', 'grupos')}, {count} parámetros).")


_PARAM_GROUPS_HINT = ("haz una lista con un diccionario por grupo, del primero a la cabeza, como "
                      "`{\"params\": list(...), \"lr\": ...}`. La cabeza lleva `lr` y el primer "
                      "grupo `lr / ratio**2` (tres niveles); los de en medio se reparten "
                      "geométricamente: las tasas son las de `labkit.group_lrs(n, lr, ratio)`.")


def _group_problem(index: int, group: object) -> str | None:
    """Describe qué le falta a un grupo de parámetros, o ``None`` si tiene buena forma."""
    import torch

    if not isinstance(group, dict):
        return f"El grupo {index} es {type(group).__name__} y debe ser un diccionario."
    if "params" not in group or "lr" not in group:
        missing = " y ".join(f"«{k}»" for k in ("params", "lr") if k not in group)
        return f"Al grupo {index} le falta {missing}."
    params = group["params"]
    if not isinstance(params, (list, tuple, torch.Tensor)):
        return (f"«params» del grupo {index} es {type(params).__name__}: conviértelo con "
                "`list(...)` (un generador como `.parameters()` se gasta al recorrerlo una vez).")
    if isinstance(params, (list, tuple)) and not params:
        return f"El grupo {index} está vacío: su «params» no tiene parámetros."
    if _as_number(group["lr"]) is None:
        return f"La «lr» del grupo {index} debe ser un número y es {group['lr']!r}."
    return None


def _group_tensors(group: dict[str, Any]) -> list[Any]:
    """Los tensores de un grupo (``params`` puede ser un tensor suelto o una lista)."""
    params = group["params"]
    return list(params) if isinstance(params, (list, tuple)) else [params]


def _structure_problem(groups: list[Any], n_groups: int | None) -> str | None:
    """Describe el primer problema de forma de la lista de grupos, o ``None``."""
    import torch

    if not groups:
        return "La lista de grupos está vacía."
    if n_groups is not None and len(groups) != n_groups:
        return f"Hay {len(groups)} grupos y se esperaban {n_groups}."
    owner: dict[int, int] = {}
    for index, group in enumerate(groups):
        problem = _group_problem(index, group)
        if problem:
            return problem
        for tensor in _group_tensors(group):
            if not isinstance(tensor, torch.Tensor):
                return f"El grupo {index} contiene {type(tensor).__name__}, que no es un parámetro."
            if owner.setdefault(id(tensor), index) != index:
                return (f"Un mismo parámetro está en los grupos {owner[id(tensor)]} y {index}: "
                        "cada parámetro debe ir en un solo grupo.")
    return None


@_verdict
def check_param_groups(param_groups: object, lr: float, ratio: float,
                       n_groups: int | None = None,
                       model_groups: int | None = None) -> CheckResult:
    """Comprueba los grupos de parámetros con tasas discriminativas para el optimizador.

    Args:
        param_groups: lista de diccionarios ``{"params": [...], "lr": ...}`` del primer grupo a
            la cabeza (también vale un optimizador de torch: se miran sus ``param_groups``).
        lr: la tasa de la cabeza (el último grupo).
        ratio: razón entre niveles, como en :func:`labkit.optim.group_lrs`.
        n_groups: cuántos grupos debe haber (``None``: no se comprueba).
        model_groups: grupos del modelo entero, si los primeros están congelados y no entran
            en la lista (``None``: los de la lista son todos).

    Returns:
        El resultado de la comprobación.
    """
    if _unanswered(param_groups):
        return _pending(_PARAM_GROUPS_HINT)
    param_groups = getattr(param_groups, "param_groups", param_groups)
    if isinstance(param_groups, dict) or not isinstance(param_groups, (list, tuple)):
        return _wrong(f"Pasaste {type(param_groups).__name__}; hace falta una lista de "
                      "diccionarios, uno por grupo.", _PARAM_GROUPS_HINT)
    groups = list(param_groups)
    problem = _structure_problem(groups, n_groups)
    lrs = [] if problem else [float(g["lr"]) for g in groups]
    problem = problem or _schedule_mistake(lrs, float(lr), float(ratio), reveal=True,
                                           total=model_groups)
    if problem:
        return _wrong(problem, _PARAM_GROUPS_HINT)
    frozen = [i for i, g in enumerate(groups) if any(not t.requires_grad for t in _group_tensors(g))]
    note = (f" Nota: los grupos {frozen} incluyen parámetros congelados; no hace falta pasarlos al "
            "optimizador.") if frozen else ""
    return _ok(f"{_count(len(groups), 'grupo', 'grupos')}, de lr={_fmt(lrs[0])} (primero) a lr={_fmt(lrs[-1])} "
               f"(cabeza), con razón {ratio:g} entre niveles.{note}")


# --- Leer la curva del alumno (check_overfitting_answer con history) ----------------------------

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


# --- Ejercicios de práctica (en labkit.practice, reexportados aquí) -------------------------------

_PRACTICE = ("verdict_options", "check_prediction_made", "check_measured_conclusion",
             "check_depth_choice", "check_data_needed")
_READINGS = ("check_class_recall", "check_threshold_choice", "check_fewer_errors")
__all__ += list(_PRACTICE) + list(_READINGS)


def __getattr__(name: str) -> Any:
    """``labkit.checks.check_measured_conclusion`` y compañía viven en :mod:`labkit.practice`."""
    if name in _PRACTICE:
        from . import practice

        return getattr(practice, name)
    if name in _READINGS:
        from . import readings

        return getattr(readings, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- El bucle de entrenamiento (cuaderno 03) -------------------------------------------------------

def check_training_loop(train_fn: object, model: Any, images: Any, labels: Any) -> CheckResult:
    """Comprueba el bucle de entrenamiento del alumno: ver :func:`labkit.loopcheck.check_training_loop`.

    Args:
        train_fn: la función ``train_fn(model, images, labels)`` del alumno.
        model: un modelo con grupos congelados (con BatchNorm) y la cabeza entrenable.
        images: imágenes normalizadas ``[N, 3, H, W]``.
        labels: etiquetas ``[N]``.

    Returns:
        El resultado de la comprobación (ya mostrado).
    """
    from .loopcheck import check_training_loop as check  # usa torch: se carga al usarla

    return check(train_fn, model, images, labels)


__all__ += ["check_training_loop"]


def check_mode_measurement(prediction: object, measured: object, n_images: int = 60,
                           n_test: int = 200) -> CheckResult:
    """«Predice y mide» extracción frente a ajuste fino: ver :mod:`labkit.modecheck`.

    Args:
        prediction: ``"a"``/``"b"`` o el nombre del modo que el alumno cree que ganará.
        measured: ``{"extracción de características": …, "ajuste fino": …}`` (exactitudes o
            resultados del playground, o una lista de ellos por modo: con una ejecución por modo
            no hay veredicto, «n = 1»).
        n_images: imágenes de entrenamiento que pide el enunciado.
        n_test: imágenes de prueba.

    Returns:
        El resultado de la comprobación (ya mostrado).
    """
    from .modecheck import check_mode_measurement as check

    return check(prediction, measured, n_images=n_images, n_test=n_test)


__all__ += ["check_mode_measurement"]
