"""La comprobación que puntúa en nbgrader, del lado de quien aprende.

Las celdas de pruebas que escribe ``python -m labkit nbgrader`` llaman a
``labkit.checks.require(...)``: fuera de nbgrader no hace nada; al corregir repite la comprobación
del ejercicio sin mostrarla y lanza ``AssertionError`` si la respuesta no es correcta.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

__all__ = ["grading_mode", "require"]


def grading_mode() -> str | None:
    """Dice si el código corre dentro de nbgrader (``"autograde"`` o ``"validate"``) o no (None)."""
    return os.environ.get("NBGRADER_EXECUTION") or None


def require(check: Callable[[], Any]) -> None:
    """La comprobación que puntúa en nbgrader: fuera de nbgrader no hace nada.

    Al corregir, llama a ``check`` (una comprobación de ``labkit.checks``) sin mostrar nada (ni
    salida ni avisos: nbgrader quita los puntos a una celda con texto en stderr) y lanza
    ``AssertionError`` con el veredicto si el resultado no es correcto.

    Args:
        check: función sin argumentos que devuelve un ``CheckResult``.

    Raises:
        AssertionError: dentro de nbgrader, si la respuesta no es correcta o falta.
    """
    if grading_mode() is None:
        return
    try:
        from IPython.utils.capture import capture_output
    except ImportError:
        result = check()
    else:
        with capture_output(display=True):
            result = check()
    if getattr(result, "passed", None) is not True:
        raise AssertionError(getattr(result, "message", f"Comprobación no superada: {result!r}"))
