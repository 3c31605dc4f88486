"""Cifras escritas a mano en el texto de los cuadernos.

Una cifra de resultado («el ajuste fino gana 7 puntos», «llega al 91 %») en markdown se queda
escrita aunque la ejecución cambie: el curso la imprime desde el código. En markdown solo quedan
cifras que no son mediciones de esta ejecución, y cada una lleva su marca en la misma línea:

- ``<!-- cita: fuente -->``: un dato publicado (la tabla de MedMNIST v2, VTAB, la guía);
- ``<!-- umbral -->``: un objetivo o un valor que se elige (el umbral de un ejercicio, el
  nivel de un intervalo, una tasa de ejemplo).

:func:`typed_figures` devuelve las cifras sin marca; ``tests/test_prose.py`` falla si alguna
celda de markdown de un cuaderno tiene una.
"""

from __future__ import annotations

import re

__all__ = ["FIGURE", "MARKERS", "typed_figures"]

# Un número con unidad de resultado: «91 %», «91.0%», «3,2 puntos», «7 pts», «2.5×», «3 veces».
FIGURE = re.compile(r"(?<![\w.,])[-+−]?\d+(?:[.,]\d+)?\s*(?:%|puntos?\b|pts?\b|×(?!\s*\d)|veces\b)",
                    re.IGNORECASE)
MARKERS = ("<!-- cita", "<!-- umbral")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
_LEVEL = re.compile(r"\bal 95\s*%")  # el nivel de un intervalo («al 95 %») no es un resultado


def typed_figures(markdown: str) -> list[str]:
    """Las cifras de resultado de un texto markdown que no llevan marca de cita ni de umbral.

    El código (entre comillas invertidas) no cuenta: es lo que el alumno escribe, no un
    resultado; tampoco el nivel de un intervalo («al 95 %»).

    Args:
        markdown: el texto de una celda.

    Returns:
        Las líneas con cifras sin marca, recortadas, en orden (vacía si no hay ninguna).
    """
    found = []
    for line in _LEVEL.sub("", _CODE.sub("", markdown)).splitlines():
        if any(marker in line for marker in MARKERS):
            continue
        figures = FIGURE.findall(line)
        if figures:
            found.append(f"{', '.join(f.strip() for f in figures)}: «{line.strip()[:100]}»")
    return found
