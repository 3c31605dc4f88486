"""Calendarios de la tasa de aprendizaje: cómo cambia la tasa a lo largo del entrenamiento.

``fit(..., schedule=...)`` multiplica la tasa de cada grupo por un factor que depende del paso
(lote) en curso; las proporciones entre grupos (tasas discriminativas) no cambian.

* ``"constante"``: factor 1 todo el tiempo.
* ``"coseno"``: calentamiento lineal durante ``warmup`` (fracción de los pasos) y luego bajada en
  coseno hasta casi 0.
* ``"one_cycle"``: el ciclo único de fastai (Smith, 2018): sube en coseno desde ``lr/25`` hasta
  ``lr`` durante ``warmup`` y baja en coseno hasta ``lr/25/10⁴``.

Ejemplo::

    factor = labkit.training.lr_factor("coseno", paso, pasos_totales, warmup=0.1)
"""

from __future__ import annotations

import math

import torch

from ..base._errors import LabkitError
from ..base._validate import check_fraction

__all__ = ["SCHEDULES", "DEFAULT_WARMUP", "lr_factor", "check_schedule", "make_scheduler"]

SCHEDULES = ("constante", "coseno", "one_cycle")
"""Los calendarios que aceptan ``fit`` y ``fine_tune``."""

DEFAULT_WARMUP = 0.25
"""Fracción de los pasos que dura la subida (como ``pct_start`` de fastai)."""

_ONE_CYCLE_DIV = 25.0
_ONE_CYCLE_FINAL_DIV = 1e4
_COSINE_FLOOR = 1e-3


def check_schedule(schedule: object, warmup: object) -> tuple[str, float]:
    """Comprueba el nombre del calendario y la fracción de calentamiento.

    Args:
        schedule: uno de :data:`SCHEDULES` (o ``None`` = ``"constante"``).
        warmup: fracción de pasos de subida, en [0, 1).

    Returns:
        ``(nombre, warmup)`` ya comprobados.
    """
    name = "constante" if schedule is None else schedule
    if name not in SCHEDULES:
        raise LabkitError(f"schedule: llegó {schedule!r}; se espera uno de "
                          f"{', '.join(repr(s) for s in SCHEDULES)} (o None).")
    return str(name), check_fraction("warmup", warmup)


def _cos_between(start: float, end: float, t: float) -> float:
    """De ``start`` a ``end`` en media onda de coseno (``t`` de 0 a 1)."""
    return end + (start - end) * (1 + math.cos(math.pi * min(max(t, 0.0), 1.0))) / 2


def lr_factor(schedule: str, step: int, total: int, warmup: float = DEFAULT_WARMUP) -> float:
    """El factor por el que se multiplica la tasa en el paso ``step`` (desde 0) de ``total``.

    Args:
        schedule: ``"constante"``, ``"coseno"`` o ``"one_cycle"``.
        step: paso en curso, desde 0.
        total: pasos totales del entrenamiento.
        warmup: fracción de pasos de subida.

    Returns:
        El factor (1 = la tasa pedida).
    """
    if schedule == "constante" or total <= 1:
        return 1.0
    up = int(round(warmup * total))
    if schedule == "coseno":
        if step < up:
            return (step + 1) / (up + 1)
        return _cos_between(1.0, _COSINE_FLOOR, (step - up) / max(total - 1 - up, 1))
    if step < up:
        return _cos_between(1 / _ONE_CYCLE_DIV, 1.0, step / up)
    low = 1 / (_ONE_CYCLE_DIV * _ONE_CYCLE_FINAL_DIV)
    return _cos_between(1.0, low, (step - up) / max(total - 1 - up, 1))


def make_scheduler(optimizer: torch.optim.Optimizer, schedule: str, total: int,
                   warmup: float = DEFAULT_WARMUP) -> torch.optim.lr_scheduler.LambdaLR | None:
    """Un ``LambdaLR`` que se avanza una vez por lote (``None`` con ``"constante"``).

    Args:
        optimizer: el optimizador (sus tasas actuales son las de referencia).
        schedule: el calendario.
        total: pasos (lotes) de todo el entrenamiento.
        warmup: fracción de pasos de subida.

    Returns:
        El planificador, o ``None`` si la tasa es constante.
    """
    if schedule == "constante":
        return None
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(schedule, step, total, warmup))
