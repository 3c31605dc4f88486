"""Respuestas numéricas: un valor, la razón entre tasas de aprendizaje y una exactitud mínima.

Se usan desde :mod:`labkit.checks`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..base._validate import check_float, check_int, check_str
from ._verdicts import (
    CheckResult,
    _as_number,
    _close,
    _fmt,
    _ok,
    _pending,
    _setting,
    _settings,
    _unanswered,
    _verdict,
    _wrong,
)

__all__ = ["check_value", "check_lr_ratio", "check_accuracy_at_least"]


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

    Es la misma definición que :func:`labkit.training.group_lrs` (la única del curso): la cabeza
    lleva ``lr``, el primer grupo del modelo ``lr / ratio**(tiers - 1)`` y los de en medio se
    reparten geométricamente. ``total`` (por defecto ``count``) es el número de grupos del
    modelo: con capas congeladas, el optimizador solo recibe los últimos.
    """
    from ..training._optim import group_lrs

    total = count if total is None else max(int(total), count)
    return group_lrs(total, lr, ratio, tiers)[total - count:]


def _all_close(actual: Sequence[float], expected: Sequence[float]) -> bool:
    """Compara dos listas de números elemento a elemento (tolerancia relativa 1e-9)."""
    return len(actual) == len(expected) and all(_close(a, e) for a, e in zip(actual, expected, strict=True))


def _schedule_mistake(lrs: Sequence[float], lr: float, ratio: float, reveal: bool,
                      total: int | None = None) -> str | None:
    """Describe el error de unas tasas por grupo (del primero a la cabeza), o ``None`` si están
    bien.

    Args:
        lrs: las tasas del alumno.
        lr: la tasa de la cabeza.
        ratio: razón entre niveles (la de :func:`labkit.training.group_lrs`).
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

    La definición es la de :func:`labkit.training.group_lrs`: la cabeza lleva ``head_lr``, el
    primer grupo ``head_lr / ratio**2`` (tres niveles) y los de en medio se reparten
    geométricamente. Con 1e-4, ratio 10 y 3 grupos, el primero lleva 1e-6 (y la lista es
    ``[1e-6, 1e-5, 1e-4]``).

    Args:
        answer: la tasa del primer grupo, o una lista con la de cada grupo (del primero a la
            cabeza).
        head_lr: la tasa de la cabeza.
        ratio: razón entre niveles (la de :func:`labkit.training.group_lrs`).
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
