"""Aciertos por imagen y bootstrap emparejado en dos niveles (semillas × imágenes de prueba).

Es el motor de :func:`labkit.experiments.compare` cuando los brazos traen los **aciertos de cada
imagen** (``[semillas, imágenes]`` de 0/1) sobre las mismas imágenes de prueba. Cada réplica
remuestrea, con reemplazo, las semillas (los mismos índices para los brazos con las mismas
semillas: están emparejados) y las imágenes (los mismos índices para todos los brazos: es la
misma prueba). La diferencia en cada réplica es

    d̄ + c·(media de las semillas remuestreadas − d̄) + f·(media de las imágenes remuestreadas − d̄)

sobre la matriz de diferencias semilla × imagen, y el intervalo al 95 % son sus percentiles
2.5 y 97.5 (generador de semilla fija: el mismo resultado cada vez). Dos correcciones la hacen
calibrada (lo comprueba ``tests/test_compare.py`` en simulación):

- ``c = sqrt(S/(S−1))·t(S−1)/1.96``: con pocas semillas el bootstrap se queda corto (con 3 solo
  hay 10 remuestreos distintos y la t de Student pide 4.30, no 1.96); si las imágenes no
  añadieran ruido, el intervalo sería exactamente el de la t emparejada.
- ``f ≤ 1`` quita de la parte de las imágenes el ruido semilla × imagen, que la media por imagen
  arrastra y la parte de las semillas ya cuenta (remuestrear las dos tal cual lo cuenta dos o
  tres veces y el intervalo sale demasiado ancho: cubría el 100 % en vez del 95 %).

Son medias de índices remuestreados (numpy): 10 semillas × 600 imágenes × 2000 réplicas tardan
unas centésimas de segundo.

La exactitud balanceada (media de la sensibilidad de cada clase) es una media pesada de los
aciertos (cada imagen pesa ``n / (K·n_c)``, con ``n_c`` las imágenes de su clase); las imágenes se
remuestrean dentro de cada clase, así que cada réplica conserva cuántas hay de cada una.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..base._errors import LabkitError
from ..base._intervals import Z95, is_vector, t_quantile, to_numpy

__all__ = ["Resampled", "as_outcomes", "check_labels", "seed_metric", "resample", "replicates",
           "percentile_interval", "seed_inflation", "METRICS"]

METRICS = ("accuracy", "balanced_accuracy")



def _check_binary(name: str, arr: np.ndarray) -> np.ndarray:
    """Los aciertos como ``float64`` 0/1, o un error que dice qué falta."""
    if arr.dtype == bool:
        return arr.astype(np.float64)
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise LabkitError(f"Los aciertos por imagen del brazo '{name}' deben ser 0/1 o "
                          "True/False.") from None
    if out.size == 0 or not np.isin(out, (0.0, 1.0)).all():
        raise LabkitError(f"Los aciertos por imagen del brazo '{name}' deben ser 0/1 o "
                          "True/False (uno por imagen de prueba), y no vacíos.")
    return out


def as_outcomes(name: str, raw: object) -> tuple[list | None, np.ndarray] | None:
    """Los aciertos por imagen de un brazo, o ``None`` si trae un número por semilla.

    Args:
        name: nombre del brazo (para los errores).
        raw: ``{semilla: vector de aciertos}``, una matriz ``[semillas, imágenes]`` (lista de
            listas, array o tensor) o, si son números por semilla, una lista o ``{semilla: x}``.

    Returns:
        ``(semillas o None, aciertos [S, n] float64)``, o ``None`` para números por semilla.
    """
    if isinstance(raw, Mapping):
        items = list(raw.items())
        if not items or not all(is_vector(v) for _, v in items):
            return None
        seeds = sorted(raw)
        rows = [to_numpy(raw[s]) for s in seeds]
    else:
        arr = to_numpy(raw) if hasattr(raw, "detach") or isinstance(raw, np.ndarray) else None
        if arr is not None and arr.ndim == 2:
            return None, _check_binary(name, arr)
        if arr is not None or not is_vector(raw) or not raw or not all(is_vector(v)
                                                                          for v in raw):
            return None
        seeds, rows = None, [to_numpy(v) for v in raw]
    if len({r.shape for r in rows}) != 1 or rows[0].ndim != 1:
        raise LabkitError(f"El brazo '{name}' trae vectores de aciertos de distinta longitud: "
                          "cada semilla debe medirse sobre las mismas imágenes de prueba.")
    return seeds, _check_binary(name, np.stack(rows))


def _strata(labels: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """El estrato de cada imagen (su clase, o uno solo) y el peso que hace de la media la métrica.

    Con pesos ``n / (K·n_c)`` la media de los aciertos pesados es la exactitud balanceada (la
    media de la sensibilidad de las ``K`` clases); sin etiquetas, todos pesan 1 (exactitud).
    """
    if labels is None:
        return np.zeros(n, dtype=np.int64), np.ones(n)
    _, strata, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return strata, n / (len(counts) * counts[strata])


def check_labels(labels: object, n: int) -> np.ndarray:
    """Las etiquetas de las imágenes de prueba como vector de ``n`` valores."""
    arr = to_numpy(labels)
    if arr.ndim != 1 or len(arr) != n:
        raise LabkitError(f"labels debe tener una etiqueta por imagen de prueba ({n}); tiene "
                          f"forma {tuple(arr.shape)}.")
    return arr


def seed_metric(outcomes: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """La métrica de cada semilla: exactitud, o exactitud balanceada si se dan ``labels``.

    Args:
        outcomes: aciertos ``[S, n]``.
        labels: etiquetas ``[n]`` (``None`` = exactitud).

    Returns:
        Un valor por semilla ``[S]``.
    """
    return (outcomes * _strata(labels, outcomes.shape[1])[1]).mean(1)


def seed_inflation(n_seeds: int) -> float:
    """Factor que lleva la variación entre semillas del bootstrap a la de la t de Student."""
    if n_seeds < 2:
        return 0.0
    return math.sqrt(n_seeds / (n_seeds - 1)) * t_quantile(n_seeds - 1) / Z95


def _indices(rng: np.random.Generator, where: np.ndarray, rows: int) -> np.ndarray:
    """``[rows, len(where)]``: remuestreos con reemplazo de los índices ``where``."""
    idx = rng.integers(0, len(where), size=(rows, len(where)), dtype=np.intp)
    return idx if where[-1] == len(where) - 1 else where.take(idx)


@dataclass
class Resampled:
    """Un brazo listo para el bootstrap: sus aciertos pesados y sus dos desviaciones por réplica.

    Attributes:
        outcomes: aciertos pesados ``[S, n]`` (su media es la métrica).
        strata: estrato (clase) de cada imagen, o todo ceros.
        seed_dev: ``[B]``: media de las semillas remuestreadas menos la de todas, por el factor
            de :func:`seed_inflation`.
        image_dev: ``[B]``: media de las imágenes remuestreadas (dentro de cada estrato) menos
            la de todas.
    """

    outcomes: np.ndarray
    strata: np.ndarray
    seed_dev: np.ndarray
    image_dev: np.ndarray


def _image_shrink(cols: np.ndarray, strata: np.ndarray, residual: float) -> float:
    """Factor que quita de la parte de imágenes el ruido de semilla × imagen ya contado.

    La media por imagen (sobre ``S`` semillas) arrastra el término residual ``σ²/S``, que la
    parte de semillas ya cuenta: sin quitarlo, el intervalo sale demasiado ancho.
    """
    centred = cols - np.bincount(strata, cols)[strata] / np.bincount(strata)[strata]
    dof = len(cols) - (strata.max() + 1)
    within = float((centred**2).sum() / dof) if dof > 0 else 0.0
    if within <= 0:
        return 1.0
    return math.sqrt(max(0.0, 1.0 - residual / within))


def _residual(outcomes: np.ndarray) -> float:
    """Varianza residual semilla × imagen dividida entre el número de semillas (0 con una)."""
    s, n = outcomes.shape
    if s < 2 or n < 2:
        return 0.0
    r = (outcomes - outcomes.mean(1, keepdims=True) - outcomes.mean(0, keepdims=True)
         + outcomes.mean())
    return float((r**2).sum() / ((s - 1) * (n - 1))) / s


def resample(arms: Mapping[str, tuple[tuple, np.ndarray]], labels: np.ndarray | None = None,
             n_boot: int = 2000, seed: int = 0) -> dict[str, Resampled]:
    """Remuestrea semillas e imágenes una vez para todos los brazos.

    Args:
        arms: ``{nombre: (clave de semillas, aciertos [S, n])}``; todos con las mismas ``n``
            imágenes. Los brazos con la misma clave de semillas comparten el remuestreo de
            semillas (emparejados); todos comparten el de imágenes.
        labels: etiquetas de las imágenes para la exactitud balanceada (``None`` = exactitud).
        n_boot: número de réplicas.
        seed: semilla del generador (resultado reproducible).

    Returns:
        ``{nombre: Resampled}``; :func:`replicates` da las réplicas de un brazo o de una
        diferencia.
    """
    n = next(iter(arms.values()))[1].shape[1]
    strata, weight = _strata(labels, n)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(strata == c) for c in range(strata.max() + 1)]
    images = (_indices(rng, groups[0], n_boot) if len(groups) == 1 else
              np.concatenate([_indices(rng, g, n_boot) for g in groups], axis=1))
    keys = list(dict.fromkeys(k for k, _ in arms.values()))
    seeds = {k: _indices(rng, np.arange(len(k)), n_boot) for k in keys}
    weighted = {name: raw * weight for name, (_, raw) in arms.items()}
    out = {}
    for name, (key, _) in arms.items():
        o = weighted[name]
        rows, grand = o.mean(1), o.mean()
        seed_dev = seed_inflation(len(rows)) * (rows.take(seeds[key]).mean(1) - grand)
        image_dev = o.mean(0).take(images).mean(1) - grand  # las mismas imágenes para todos
        out[name] = Resampled(o, strata, seed_dev, image_dev)
    return out


def replicates(a: Resampled, b: Resampled | None = None, paired: bool = False) -> np.ndarray:
    """Las réplicas de la métrica de ``a`` o, si se da ``b``, de la diferencia ``a − b``.

    Args:
        a: un brazo de :func:`resample`.
        b: el brazo de referencia (misma llamada a :func:`resample`), o ``None``.
        paired: los dos brazos tienen las mismas semillas (el residuo es el de la diferencia).

    Returns:
        ``[B]`` réplicas (su percentil 2.5–97.5 es el intervalo al 95 %).
    """
    if b is None:
        return a.outcomes.mean() + a.seed_dev + a.image_dev * _image_shrink(
            a.outcomes.mean(0), a.strata, _residual(a.outcomes))
    if paired and a.outcomes.shape == b.outcomes.shape:
        residual = _residual(a.outcomes - b.outcomes)
    else:
        residual = _residual(a.outcomes) + _residual(b.outcomes)
    shrink = _image_shrink(a.outcomes.mean(0) - b.outcomes.mean(0), a.strata, residual)
    return (a.outcomes.mean() - b.outcomes.mean() + a.seed_dev - b.seed_dev
            + shrink * (a.image_dev - b.image_dev))


def percentile_interval(replicates: np.ndarray) -> tuple[float, float]:
    """Percentiles 2.5 y 97.5 de las réplicas (el intervalo al 95 %)."""
    low, high = np.quantile(replicates, (0.025, 0.975))
    return float(low), float(high)
