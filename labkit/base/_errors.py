"""Errores de labkit: mensajes en español que dicen qué pasó y cómo arreglarlo."""

from __future__ import annotations

__all__ = ["LabkitError", "WeightsUnavailableError"]


class LabkitError(ValueError):
    """Error de uso de labkit con un mensaje en español pensado para quien aprende.

    Hereda de ``ValueError`` para que el código que ya captura errores de valor siga funcionando.
    """


class WeightsUnavailableError(LabkitError, RuntimeError):
    """Los pesos preentrenados no están en la caché y no se pudieron descargar."""
