"""Afirmaciones de la prosa comprobadas con los números de la ejecución.

Un cuaderno cuyo texto depende de un resultado («la extracción es mucho más rápida», «la curva de
validación sube después de la época 3») lo comprueba con :func:`claim` justo después de medirlo:

- al **regenerar** los cuadernos (``make notebooks`` pone ``LABKIT_STRICT_CLAIMS=1``), una
  afirmación que ya no se cumple **para** la ejecución con :class:`ClaimError`: el texto que se
  publica no puede contradecir sus propias salidas;
- en cualquier otra ejecución (el alumno, nbval en CI, otra máquina con otros hilos) solo
  **avisa**: el resultado del alumno manda y el aviso le dice qué frase del texto no se cumple en
  su ejecución.

Los veredictos que dependen del ruido no se afirman en la prosa: se imprimen con
:mod:`labkit.experiments`, que decide por intervalo.
"""

from __future__ import annotations

import os
import warnings

from ..base._errors import LabkitError

__all__ = ["ClaimError", "ClaimWarning", "claim", "strict_claims", "STRICT_ENV"]

STRICT_ENV = "LABKIT_STRICT_CLAIMS"


class ClaimError(LabkitError):
    """Una afirmación del texto no se cumple en la ejecución que regenera los cuadernos."""


class ClaimWarning(UserWarning):
    """Una afirmación del texto no se cumple en esta ejecución (se avisa y se sigue)."""


def strict_claims() -> bool:
    """Si esta ejecución es la que regenera los cuadernos (``LABKIT_STRICT_CLAIMS=1``)."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "si", "sí", "yes"}


def claim(condition: object, statement: str, evidence: str = "") -> bool:
    """Comprueba una afirmación de la que depende el texto del cuaderno.

    Args:
        condition: el resultado de la comprobación (se evalúa como booleano).
        statement: la afirmación en español, tal como la hace el texto.
        evidence: los números que la deciden (se enseñan si no se cumple).

    Returns:
        ``True`` si se cumple. Si no: ``False`` con un :class:`ClaimWarning`, o
        :class:`ClaimError` al regenerar los cuadernos.

    Raises:
        ClaimError: si no se cumple y ``LABKIT_STRICT_CLAIMS=1``.
    """
    if not isinstance(statement, str) or not statement.strip():
        raise LabkitError("claim necesita la afirmación en texto (statement), no vacía.")
    if bool(condition):
        return True
    detail = f" ({evidence})" if evidence else ""
    if strict_claims():
        raise ClaimError(f"La afirmación «{statement}» ya no se cumple{detail}. El texto del "
                         "cuaderno depende de ella: cambia el texto o el experimento antes de "
                         "publicarlo.")
    warnings.warn(f"En esta ejecución no se cumple «{statement}»{detail}. El texto lo dice de la "
                  "ejecución publicada; fíate de tus números (puede ser ruido, otra máquina u "
                  "otros ajustes).", ClaimWarning, stacklevel=2)
    return False
