"""El veredicto de una comprobación: :class:`CheckResult` y las piezas que comparten todas.

Cada comprobador de :mod:`labkit.checks` se decora con :func:`_verdict` (muestra el veredicto una
vez y convierte cualquier error en «No se pudo comprobar») y construye su resultado con
:func:`_ok`, :func:`_wrong` o :func:`_pending`.
"""

from __future__ import annotations

import functools
import html
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec

from ..base._errors import LabkitError

__all__ = ["CheckResult"]


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
        check: una función de :mod:`labkit.base` (``check_float``, ``check_int``…).
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


def _close(a: float, b: float, tol: float = 1e-9) -> bool:
    """Compara con tolerancia relativa (absoluta si ``b`` es 0)."""
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol if b == 0 else 0.0)


def _as_number(answer: object) -> float | None:
    """Convierte la respuesta en ``float`` (números, tensores de un elemento, texto como
    ``"1e-6"``).

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
