"""Fórmulas de los intervalos al 95 %: t de Student, Wilson y error binomial.

Las usa :mod:`labkit.experiments` (que da también :func:`wilson_interval`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ._errors import LabkitError

__all__ = ["Z95", "is_vector", "to_numpy", "t_quantile", "wilson_interval", "mean_std",
           "binomial_se", "run_value", "majority_share"]

#: Cuantil 0.975 de la normal: la mitad de un intervalo al 95 % es ``Z95`` errores estándar.
Z95 = 1.959963984540054
# Cuantil 0.975 de la t de Student para 1…30 grados de libertad.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def is_vector(value: object) -> bool:
    """¿Es ``value`` un vector (lista, array o tensor de una dimensión) y no un número?

    Args:
        value: lo que devolvió una ejecución: un número, una lista, un array o un tensor.

    Returns:
        ``True`` si es un vector de una dimensión (o una secuencia que no es texto).
    """
    if hasattr(value, "detach"):  # tensor de torch
        return value.ndim == 1
    if isinstance(value, np.ndarray):
        return value.ndim == 1
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def to_numpy(value: object) -> np.ndarray:
    """Un array de NumPy con los valores de ``value`` (un tensor se pasa antes a CPU).

    Args:
        value: un tensor de torch, un array o una secuencia de números.

    Returns:
        El array (sin copiar si ya lo era).
    """
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def t_quantile(df: int) -> float:
    """Cuantil 0.975 de la t de Student (el del intervalo al 95 %).

    Args:
        df: grados de libertad (≥ 1); más de 30 se aproxima por la normal con corrección.

    Returns:
        El cuantil.
    """
    if df < 1:
        raise LabkitError(f"Hacen falta al menos 2 ejecuciones para un intervalo (gl={df}).")
    if df <= len(_T975):
        return _T975[df - 1]
    return Z95 + (Z95**3 + Z95) / (4 * df)  # desarrollo de Cornish-Fisher, error < 0.001


def wilson_interval(p: float, n: int) -> tuple[float, float]:
    """Intervalo de Wilson al 95 % para una proporción ``p`` medida sobre ``n`` casos.

    Args:
        p: proporción observada (0–1).
        n: número de casos (imágenes de prueba).

    Returns:
        ``(inferior, superior)``.
    """
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_std(values: list[float]) -> tuple[float, float]:
    """Media y desviación típica muestral (n − 1; 0 con un valor)."""
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, math.sqrt(var)


def binomial_se(p: float, n_test: int) -> float:
    """Error típico binomial de una proporción ``p`` medida sobre ``n_test`` casos."""
    p = min(max(p, 0.0), 1.0)
    return math.sqrt(p * (1 - p) / n_test)


def majority_share(labels: object) -> tuple[int, float, int, int]:
    """La clase más frecuente de unas etiquetas enteras: el suelo de la exactitud.

    Un modelo que siempre dijera esa clase acertaría su fracción. Es la única cuenta del suelo:
    la usan :func:`labkit.training.majority_baseline` y la nota de
    :func:`labkit.experiments.compare`.

    Args:
        labels: etiquetas enteras (tensor, array o lista).

    Returns:
        ``(clase, fracción de 0 a 1, clases presentes, etiquetas)``; ``(-1, 0.0, 0, 0)`` si no
        hay etiquetas. Con un empate gana la clase de índice menor.
    """
    values = to_numpy(labels).reshape(-1)
    if values.size == 0:
        return -1, 0.0, 0, 0
    classes, counts = np.unique(values, return_counts=True)
    top = int(counts.argmax())
    return int(classes[top]), float(counts[top]) / values.size, len(counts), int(values.size)


def run_value(name: str, seed: int, out: object) -> float | np.ndarray:
    """Lo que devolvió un brazo de ``compare_runs``: exactitud o aciertos por imagen.

    Args:
        name: nombre del brazo (para los errores).
        seed: la semilla (para los errores).
        out: un número, un vector de aciertos o un diccionario con ``test_correct``/``correct``
            (se prefieren) o ``test_acc``/``accuracy``.

    Returns:
        El número o el vector de aciertos.
    """
    if isinstance(out, Mapping):
        key = next((k for k in ("test_correct", "correct", "test_acc", "accuracy") if k in out),
                   None)
        if key is None:
            raise LabkitError(f"El brazo «{name}» con semilla {seed} devolvió un diccionario sin "
                              "'test_correct' ni 'test_acc'.")
        out = out[key]
    if is_vector(out):
        return to_numpy(out)
    try:
        value = float(out)
    except (TypeError, ValueError):
        value = float("nan")
    if not math.isfinite(value):
        raise LabkitError(f"El brazo «{name}» con semilla {seed} devolvió {out}: debe "
                          "devolver un número finito (p. ej. la exactitud en prueba) o los "
                          "aciertos por imagen.")
    return value
