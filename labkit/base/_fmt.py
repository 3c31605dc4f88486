"""Un solo formato para los números que lee el alumno.

El curso escribe los decimales con punto (como Python y las gráficas) y deja un espacio antes de
«%», como pide la norma del español: ``pct(0.91)`` → ``"91.0 %"``. Todo texto de ``labkit`` y de
los cuadernos que enseña un porcentaje pasa por aquí.
"""

from __future__ import annotations

__all__ = ["pct", "points", "count"]


def pct(x: float, digits: int = 1) -> str:
    """Una proporción (0–1) como porcentaje: ``pct(0.9123)`` → ``"91.2 %"``.

    Args:
        x: la proporción.
        digits: decimales.

    Returns:
        El texto, con espacio antes de «%».
    """
    return f"{100 * float(x):.{digits}f} %"


def points(x: float, digits: int = 1, sign: bool = True) -> str:
    """Una diferencia de proporciones en puntos porcentuales: ``points(0.031)`` → ``"+3.1 puntos"``.

    Args:
        x: la diferencia (en proporción, 0.031 = 3.1 puntos).
        digits: decimales.
        sign: si se escribe el signo también cuando es positiva.

    Returns:
        El texto.
    """
    value = 100 * float(x)
    number = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    unit = "punto" if abs(round(value, digits)) == 1 else "puntos"
    return f"{number} {unit}"


def count(n: int, singular: str, plural: str) -> str:
    """``count(1, "época", "épocas")`` → ``"1 época"``; ``count(3, …)`` → ``"3 épocas"``."""
    return f"{n} {singular if n == 1 else plural}"
