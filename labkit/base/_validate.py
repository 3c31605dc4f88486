"""Una sola capa de comprobación de argumentos para todas las funciones públicas de labkit.

Cada función pública comprueba lo que recibe con estas funciones antes de hacer nada: si algo no
cuadra, un :class:`~labkit.base.LabkitError` en español dice qué argumento, qué llegó y qué se
esperaba. Los enteros de NumPy valen donde vale un entero; ``True``/``False`` no valen como número.

Ejemplo::

    from labkit.base import check_int, check_float
    seed = check_int("seed", seed, minimum=0)
    lr = check_float("lr", lr, minimum=0, strict=True)
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ._errors import LabkitError

__all__ = ["describe", "check_int", "check_float", "check_bool", "check_choice", "check_str",
           "check_path", "check_seed", "check_fraction"]


def describe(value: object) -> str:
    """Cómo nombrar en un mensaje lo que llegó: su valor (recortado) y su tipo."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (de tipo {type(value).__name__})"


def _fail(name: str, value: object, expected: str) -> LabkitError:
    return LabkitError(f"{name}: llegó {describe(value)}; se espera {expected}.")


def check_int(name: str, value: object, minimum: int | None = None,
              maximum: int | None = None, expected: str | None = None) -> int:
    """Comprueba que ``value`` es un entero (de Python o de NumPy) dentro de los límites.

    Args:
        name: nombre del argumento, para el mensaje.
        value: lo que llegó.
        minimum: mínimo admitido (incluido), o ``None``.
        maximum: máximo admitido (incluido), o ``None``.
        expected: frase que describe lo esperado, si la de por defecto no basta.

    Returns:
        El valor como ``int`` de Python.
    """
    bounds = _bounds_text(minimum, maximum)
    wanted = expected or f"un número entero{bounds}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise _fail(name, value, wanted)
    out = int(value)
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        raise _fail(name, value, wanted)
    return out


def check_float(name: str, value: object, minimum: float | None = None,
                maximum: float | None = None, strict: bool = False,
                expected: str | None = None) -> float:
    """Comprueba que ``value`` es un número real finito dentro de los límites.

    Args:
        name: nombre del argumento.
        value: lo que llegó (``int``, ``float`` o escalar de NumPy; no ``bool`` ni texto).
        minimum: mínimo admitido, o ``None``.
        maximum: máximo admitido, o ``None``.
        strict: si es ``True``, el mínimo queda excluido (p. ej. una tasa debe ser > 0).
        expected: frase que describe lo esperado, si la de por defecto no basta.

    Returns:
        El valor como ``float``.
    """
    low = "" if minimum is None else (f" mayor que {minimum:g}" if strict
                                      else f" mayor o igual que {minimum:g}")
    high = "" if maximum is None else f" y como mucho {maximum:g}"
    wanted = expected or f"un número finito{low}{high}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise _fail(name, value, wanted)
    out = float(value)
    if not math.isfinite(out):
        raise _fail(name, value, wanted)
    if minimum is not None and (out < minimum or (strict and out == minimum)):
        raise _fail(name, value, wanted)
    if maximum is not None and out > maximum:
        raise _fail(name, value, wanted)
    return out


def check_fraction(name: str, value: object, allow_zero: bool = True) -> float:
    """Una fracción: número en [0, 1) (o en (0, 1) si ``allow_zero`` es ``False``)."""
    wanted = "una fracción entre 0 y 1 (p. ej. 0.2)"
    out = check_float(name, value, expected=wanted)
    if out >= 1 or out < 0 or (out == 0 and not allow_zero):
        raise _fail(name, value, wanted)
    return out


def check_bool(name: str, value: object) -> bool:
    """Comprueba que ``value`` es ``True`` o ``False`` (no ``"no"``, ni ``0``, ni ``None``)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise _fail(name, value, "True o False")


def check_choice(name: str, value: object, choices: Iterable[object]) -> object:
    """Comprueba que ``value`` es una de las opciones admitidas.

    Returns:
        El propio valor.
    """
    options = list(choices)
    try:
        ok = any(value == c and type(value) is type(c) for c in options)
    except Exception:  # comparaciones raras (arrays): no es una opción
        ok = False
    if not ok:
        listed = ", ".join(repr(c) for c in options)
        raise _fail(name, value, f"una de estas opciones: {listed}")
    return value


def check_str(name: str, value: object, allow_empty: bool = False) -> str:
    """Comprueba que ``value`` es texto (no vacío, salvo que se permita)."""
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise _fail(name, value, "un texto no vacío" if not allow_empty else "un texto")
    return value


def check_path(name: str, value: object) -> Path:
    """Comprueba que ``value`` es una ruta (``str`` o ``os.PathLike``) y la devuelve como
    ``Path``."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)) or str(value) == "":
        raise _fail(name, value, "una ruta (texto o pathlib.Path) no vacía")
    if "\x00" in str(value):
        raise _fail(name, value, "una ruta sin caracteres nulos")
    return Path(value)


def check_seed(value: object, name: str = "seed") -> int:
    """Una semilla: entero entre 0 y 2**63 - 1 (lo que admite ``torch.manual_seed``)."""
    return check_int(name, value, minimum=0, maximum=2**63 - 1,
                     expected="un entero mayor o igual que 0 (p. ej. 0 o 42)")


def _bounds_text(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" entre {minimum} y {maximum}"
    if minimum is not None:
        return f" mayor o igual que {minimum}"
    if maximum is not None:
        return f" menor o igual que {maximum}"
    return ""
