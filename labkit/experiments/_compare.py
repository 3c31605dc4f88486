"""Comparar configuraciones con su incertidumbre: media, intervalo al 95 % y veredicto.

Una comparación es una distribución, no un número: cada brazo (configuración) se mide con varias
semillas y el veredicto «gana / empate / pierde» lo decide el **intervalo de la diferencia**,
nunca un umbral fijo. Todos los veredictos de labkit salen de :func:`compare`. Qué intervalo se
usa depende de lo que se le da:

- **Aciertos por imagen** (lo recomendado: ``{semilla: vector de 0/1}`` o una matriz
  ``[semillas, imágenes]``, p. ej. ``run_extraction(...)["test_correct"]`` o
  :func:`labkit.training.per_image_correct`): los brazos se miden sobre **las mismas imágenes
  de prueba**, así que la diferencia se calcula **emparejada** con un bootstrap en dos niveles
  (:mod:`labkit.experiments`): se remuestrean semillas (las mismas para los dos brazos si tienen
  las mismas semillas) e imágenes (las mismas para los dos), y el intervalo es el de los
  percentiles 2.5–97.5 de la diferencia. Cuenta los dos ruidos (entrenamiento e imágenes de
  prueba) sin contar dos veces lo que comparten: una imagen difícil lo es para los dos brazos.
  Con ``metric="balanced_accuracy"`` y ``labels`` (las etiquetas de la prueba) se compara la
  exactitud balanceada, recalculada en cada réplica.
- **Un número por semilla y las mismas semillas** en los dos brazos: t de Student **emparejada**
  (diferencia semilla a semilla). No se suma el error binomial de los dos brazos como si fueran
  independientes: en la misma prueba los aciertos están correlacionados y ese término ahogaba
  cualquier efecto de menos de unos 5 puntos. El intervalo cuenta la variación del
  entrenamiento sobre esta prueba; para contar también las imágenes, pasa los aciertos por imagen.
- **Semillas distintas** (brazos no emparejados): intervalo de Welch.
- **Una sola ejecución** por brazo: no hay intervalo de la diferencia; se escribe «n = 1» y no se
  da veredicto.

El intervalo de **cada brazo** (su media) sí incluye el tamaño de la prueba si se da ``n_test``
(Wilson con una ejecución; t y binomial en cuadratura con varias), o el bootstrap de semillas e
imágenes si trae aciertos por imagen.

Ejemplo::

    cmp = labkit.experiments.compare({"extracción": {0: aciertos_e0, 1: aciertos_e1, ...},
                                  "ajuste fino": {0: aciertos_f0, 1: aciertos_f1, ...}})
    print(cmp.table())
    print(cmp.sentence("ajuste fino", "extracción"))

O, ejecutando las configuraciones (cada brazo es una función ``semilla → resultado``; el
resultado puede ser la exactitud, el vector de aciertos o el diccionario de
:func:`labkit.experiments.run_extraction`, del que se toman los aciertos por imagen)::

    cmp = labkit.experiments.compare_runs({"extracción": entrenar_cabeza,
                                       "ajuste fino": ajustar}, seeds=range(10))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from ..base._errors import LabkitError
from ..base._intervals import (
    Z95,
    binomial_se,
    majority_share,
    mean_std,
    run_value,
    t_quantile,
    wilson_interval,
)
from . import _bootstrap as _boot
from ._comparison import SPLITS, ArmSummary, Comparison, _difference, _fmt_pct

__all__ = ["compare", "compare_runs", "arms_from_rows"]


def _summarize(name: str, raw: Sequence[float] | Mapping, n_test: int | None) -> ArmSummary:
    """Media e intervalo de un brazo (semillas + prueba en cuadratura si se da ``n_test``)."""
    seeds = sorted(raw) if isinstance(raw, Mapping) else None
    try:
        values = ([float(raw[s]) for s in seeds] if seeds is not None else
                  [float(v) for v in raw])
    except (TypeError, ValueError):
        raise LabkitError(f"El brazo '{name}' debe traer un número por semilla o los aciertos "
                          "por imagen de cada semilla.") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise LabkitError(f"El brazo '{name}' necesita al menos un valor, todos números finitos.")
    mean, std = mean_std(values)
    n = len(values)
    if n == 1 and not n_test:
        return ArmSummary(name, values, seeds, mean, std, None, None, "")
    if n == 1:
        low, high = wilson_interval(min(max(mean, 0.0), 1.0), n_test)
        return ArmSummary(name, values, seeds, mean, std, low, high, "prueba (Wilson)")
    half = t_quantile(n - 1) * std / math.sqrt(n)
    if n_test:
        half = math.hypot(half, Z95 * binomial_se(mean, n_test))
    return ArmSummary(name, values, seeds, mean, std, mean - half, mean + half, "semillas")


def _per_image_arms(results: Mapping, labels: object, metric: str, n_test: int | None,
                    n_boot: int) -> tuple[dict[str, ArmSummary], int | None]:
    """Los brazos con aciertos por imagen (bootstrap de semillas e imágenes) y sus imágenes."""
    found = {}
    for k, v in results.items():
        parsed = _boot.as_outcomes(str(k), v)
        if parsed is not None:
            found[str(k)] = parsed
    if metric == "balanced_accuracy" and len(found) != len(results):
        raise LabkitError("metric='balanced_accuracy' necesita los aciertos por imagen de todos "
                          "los brazos (y labels con las etiquetas de la prueba).")
    if not found:
        return {}, None
    sizes = {o.shape[1] for _, o in found.values()}
    if len(sizes) > 1:
        raise LabkitError(f"Los brazos con aciertos por imagen traen {sorted(sizes)} imágenes: "
                          "para compararlos emparejados deben medirse sobre la misma prueba.")
    n = sizes.pop()
    if n_test is not None and n_test != n:
        raise LabkitError(f"n_test={n_test} pero los aciertos por imagen son de {n} imágenes.")
    y = None
    if metric == "balanced_accuracy":
        if labels is None:
            raise LabkitError("metric='balanced_accuracy' necesita labels: las etiquetas de las "
                              "imágenes de prueba (p. ej. datos.test.labels).")
        y = _boot.check_labels(labels, n)
    keys = {name: (tuple(seeds) if seeds is not None else tuple(range(o.shape[0])), o)
            for name, (seeds, o) in found.items()}
    reps = _boot.resample(keys, y, n_boot=n_boot, seed=0)
    arms = {}
    for name, (seeds, o) in found.items():
        values = [float(v) for v in _boot.seed_metric(o, y)]
        mean, std = mean_std(values)
        low, high = _boot.percentile_interval(_boot.replicates(reps[name]))
        kind = "semillas e imágenes (bootstrap)" if len(values) > 1 else "prueba (bootstrap)"
        arms[name] = ArmSummary(name, values, list(seeds) if seeds is not None else None, mean,
                                std, low, high, kind, reps[name], keys[name][0])
    return arms, n


def compare(results: Mapping[str, Sequence[float] | Mapping], reference: str | None = None,
            n_test: int | None = None, percent: bool = True, *, labels: object = None,
            metric: str = "accuracy", n_boot: int = 2000, split: str = "prueba") -> Comparison:
    """Resume dos o más brazos y decide cada uno frente a la referencia por el intervalo.

    Args:
        results: ``{nombre del brazo: valores}``. Los valores son, mejor, los **aciertos por
            imagen** de cada semilla (``{semilla: vector 0/1}`` o matriz ``[semillas,
            imágenes]``, todos sobre la misma prueba): diferencia por bootstrap emparejado. O un
            número por semilla (lista en el mismo orden de semillas en todos los brazos, o
            ``{semilla: valor}``): t emparejada si las semillas coinciden, Welch si no.
        reference: el brazo con que se compara el resto (``None`` = el primero).
        n_test: imágenes de prueba; con números por semilla ensancha el intervalo de **cada
            brazo** (binomial), no el de la diferencia (ver la descripción del módulo).
        percent: los valores son exactitudes (0–1) y se muestran en % y puntos.
        labels: etiquetas de las imágenes de prueba (para ``metric="balanced_accuracy"``).
        metric: ``"accuracy"`` o ``"balanced_accuracy"`` (esta, con aciertos por imagen).
        n_boot: réplicas del bootstrap (generador de semilla fija: mismo resultado cada vez).
        split: dónde se midieron los aciertos, ``"prueba"`` o ``"validación"`` (las frases lo
            dicen: comparar en validación para elegir y en prueba solo al final).

    Returns:
        Un :class:`Comparison` (``table()``, ``verdict(a, b)``, ``sentence(a, b)``).
    """
    if not isinstance(results, Mapping) or len(results) < 2:
        raise LabkitError("compare necesita un diccionario con al menos dos brazos "
                          "({'extracción': [...], 'ajuste fino': [...]}).")
    if n_test is not None and (isinstance(n_test, bool) or not isinstance(n_test, int)
                               or n_test < 1):
        raise LabkitError(f"n_test={n_test!r}: debe ser el número de imágenes de prueba "
                          "(un entero ≥ 1) o None.")
    if metric not in _boot.METRICS:
        raise LabkitError(f"metric={metric!r}: usa 'accuracy' o 'balanced_accuracy'.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100:
        raise LabkitError(f"n_boot={n_boot!r}: usa un entero ≥ 100 (p. ej. 2000).")
    if split not in SPLITS:
        raise LabkitError(f"split={split!r}: usa «prueba» o «validación» (dónde se midió).")
    per_image, n_images = _per_image_arms(results, labels, metric, n_test, n_boot)
    n_test = n_images or n_test
    arms = [per_image.get(str(k)) or _summarize(str(k), v, n_test) for k, v in results.items()]
    for arm in arms:
        if arm.seed_key is None and arm.seeds is not None:
            arm.seed_key = tuple(arm.seeds)
        if percent and arm.low is not None:  # una exactitud vive en [0, 1]
            arm.low, arm.high = max(0.0, arm.low), min(1.0, arm.high)
    ref = str(reference) if reference is not None else arms[0].name
    by_name = {a.name: a for a in arms}
    if ref not in by_name:
        raise LabkitError(f"reference='{ref}' no es un brazo: usa uno de {', '.join(by_name)}.")
    diffs = [_difference(a, by_name[ref]) for a in arms if a.name != ref]
    notes = _majority_note(labels, metric, split) if percent else []
    return Comparison(arms, diffs, ref, n_test, percent, notes, split=split)


def _majority_note(labels: object, metric: str, split: str) -> list[str]:
    """Con ``labels`` de una prueba desequilibrada, el suelo de la clase mayoritaria."""
    if labels is None:
        return []
    _, share, n_classes, n_labels = majority_share(labels)
    if n_classes < 2 or share < 1 / n_classes + 0.05:
        return []
    floor = (f"la exactitud balanceada de ese modelo es {_fmt_pct(1 / n_classes)}"
             if metric == "balanced_accuracy" else
             "por eso conviene mirar también la exactitud balanceada")
    return [f"Referencia: la clase más frecuente es el {_fmt_pct(share)} de las {n_labels} "
            f"imágenes de {split}; un modelo que siempre la dijera acertaría eso ({floor})."]


def compare_runs(arms: Mapping[str, Callable[[int], object]], seeds: Sequence[int] = (0, 1, 2),
                 reference: str | None = None, n_test: int | None = None, percent: bool = True,
                 progress: bool = True, *, labels: object = None, metric: str = "accuracy",
                 n_boot: int = 2000, split: str = "prueba") -> Comparison:
    """Ejecuta cada configuración con cada semilla y compara los resultados por intervalo.

    Cada brazo es una función ``semilla → resultado``: la exactitud, el vector de aciertos por
    imagen (mejor: la comparación cuenta entonces también las imágenes de prueba, emparejadas)
    o un diccionario con ``test_correct``/``test_acc`` (como el de
    :func:`labkit.experiments.run_extraction`). Con las mismas semillas en todos los brazos la
    comparación es emparejada.

    Args:
        arms: ``{nombre: función(semilla)}``; dos o más.
        seeds: las semillas (al menos 2 para tener intervalo; con 1 se escribe «n = 1»).
        reference: el brazo con que se compara el resto (``None`` = el primero).
        n_test: imágenes de prueba (ver :func:`compare`).
        percent: los valores son exactitudes (0–1).
        progress: barra de progreso por ejecución.
        labels: etiquetas de la prueba (para ``metric="balanced_accuracy"``).
        metric: ``"accuracy"`` o ``"balanced_accuracy"``.
        n_boot: réplicas del bootstrap.
        split: dónde se midió (``"prueba"`` o ``"validación"``, ver :func:`compare`).

    Returns:
        El :class:`Comparison` de :func:`compare`.
    """
    if not isinstance(arms, Mapping) or len(arms) < 2 or not all(callable(f) for f in arms.values()):
        raise LabkitError("compare_runs necesita un diccionario {nombre: función(semilla)} con al "
                          "menos dos brazos.")
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise LabkitError(f"seeds={seeds}: hacen falta semillas distintas (p. ej. (0, 1, 2)).")
    from ..base._progress import progress_bar

    jobs = [(name, seed) for name in arms for seed in seeds]
    results: dict[str, dict[int, object]] = {name: {} for name in arms}
    for name, seed in progress_bar(jobs, desc="ejecuciones", disable=not progress, leave=False,
                                   unit="ejecución"):
        results[name][seed] = run_value(name, seed, arms[name](seed))
    return compare(results, reference=reference, n_test=n_test, percent=percent, labels=labels,
                   metric=metric, n_boot=n_boot, split=split)


def arms_from_rows(rows: Sequence[dict], by: str = "method", value: str = "test_acc",
                   seed: str = "seed", **where: object) -> dict[str, dict]:
    """Agrupa las filas de un barrido en brazos ``{valor de by: {semilla: valor}}``.

    Args:
        rows: filas de un barrido (p. ej. :func:`labkit.experiments.data_size_sweep`).
        by: la columna que define el brazo.
        value: la columna que se compara.
        seed: la columna de la semilla (para emparejar).
        **where: filtros de igualdad, p. ej. ``n_train=100``.

    Returns:
        Un diccionario listo para :func:`compare`.
    """
    arms: dict[str, dict] = {}
    for row in rows:
        if all(row.get(k) == v for k, v in where.items()):
            arms.setdefault(row[by], {})[row.get(seed, len(arms.get(row[by], {})))] = row[value]
    if not arms:
        raise LabkitError(f"Ninguna fila cumple {where}: revisa los filtros.")
    return arms
