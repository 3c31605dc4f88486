"""Comparar configuraciones con su incertidumbre: media, intervalo al 95 % y veredicto.

Una comparación es una distribución, no un número: cada brazo (configuración) se mide con varias
semillas y el veredicto «gana / empate / pierde» lo decide el **intervalo de la diferencia**,
nunca un umbral fijo. Todos los veredictos de labkit salen de :func:`compare`. Qué intervalo se
usa depende de lo que se le da:

- **Aciertos por imagen** (lo recomendado: ``{semilla: vector de 0/1}`` o una matriz
  ``[semillas, imágenes]``, p. ej. ``run_extraction(...)["test_correct"]`` o
  :func:`labkit.evaluation.per_image_correct`): los brazos se miden sobre **las mismas imágenes
  de prueba**, así que la diferencia se calcula **emparejada** con un bootstrap en dos niveles
  (:mod:`labkit.bootstrap`): se remuestrean semillas (las mismas para los dos brazos si tienen
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

    cmp = labkit.compare.compare({"extracción": {0: aciertos_e0, 1: aciertos_e1, ...},
                                  "ajuste fino": {0: aciertos_f0, 1: aciertos_f1, ...}})
    print(cmp.table())
    print(cmp.sentence("ajuste fino", "extracción"))

O, ejecutando las configuraciones (cada brazo es una función ``semilla → resultado``; el
resultado puede ser la exactitud, el vector de aciertos o el diccionario de
:func:`labkit.experiments.run_extraction`, del que se toman los aciertos por imagen)::

    cmp = labkit.compare.compare_runs({"extracción": entrenar_cabeza,
                                       "ajuste fino": ajustar}, seeds=range(10))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import bootstrap as _boot
from .errors import LabkitError
from .fmt import pct
from .intervals import _Z, binomial_se, mean_std, run_value, t_quantile, wilson_interval

__all__ = ["ArmSummary", "Difference", "Comparison", "compare", "compare_runs", "arms_from_rows",
           "t_quantile", "wilson_interval", "VERDICTS"]

VERDICTS = ("gana", "empate", "pierde")
SPLITS = ("prueba", "validación")


@dataclass
class ArmSummary:
    """Un brazo: sus valores por semilla, la media y el intervalo al 95 % (si lo hay)."""

    name: str
    values: list[float]
    seeds: list | None
    mean: float
    std: float
    low: float | None
    high: float | None
    kind: str  # "semillas", "prueba (Wilson)", "semillas e imágenes (bootstrap)" o ""
    boot: _boot.Resampled | None = field(default=None, repr=False)  # para el bootstrap
    seed_key: tuple | None = field(default=None, repr=False)  # con qué semillas se remuestreó

    @property
    def n(self) -> int:
        """Número de ejecuciones (semillas)."""
        return len(self.values)

    def text(self, percent: bool = True) -> str:
        """La media con su intervalo, o «n = 1» si no hay intervalo."""
        f = _fmt_pct if percent else _fmt_num
        if self.low is None:
            return f"{f(self.mean)} (n = 1)"
        return f"{f(self.mean)} [{f(self.low)}, {f(self.high)}] (n = {self.n})"


@dataclass
class Difference:
    """La diferencia ``arm − reference`` con su intervalo al 95 % y el veredicto."""

    arm: str
    reference: str
    diff: float
    low: float | None
    high: float | None
    verdict: str | None
    paired: bool
    n: int
    method: str = ""  # "bootstrap", "t emparejada", "Welch" o "" sin intervalo

    def text(self, percent: bool = True) -> str:
        """«gana por +6.2 puntos [+3.1, +9.3]» o «sin intervalo (n = 1)»."""
        f = _fmt_signed_pts if percent else _fmt_signed
        unit = " puntos" if percent else ""
        if self.verdict is None:
            return f"{f(self.diff)}{unit} sin intervalo (n = 1): no se decide"
        return f"{self.verdict}: {f(self.diff)}{unit} [{f(self.low)}, {f(self.high)}]"


@dataclass
class Comparison:
    """El resultado de :func:`compare`: los brazos y sus diferencias con la referencia."""

    arms: list[ArmSummary]
    differences: list[Difference]
    reference: str
    n_test: int | None = None
    percent: bool = True
    notes: list[str] = field(default_factory=list)
    split: str = "prueba"  # dónde se midió: "prueba" o "validación" (solo para las frases)

    def arm(self, name: str) -> ArmSummary:
        """El resumen de un brazo por su nombre."""
        for a in self.arms:
            if a.name == name:
                return a
        raise LabkitError(f"No hay un brazo '{name}': los brazos son "
                          f"{', '.join(a.name for a in self.arms)}.")

    def difference(self, arm: str, reference: str | None = None) -> Difference:
        """La diferencia ``arm − reference`` (por defecto, contra la referencia común)."""
        ref = reference or self.reference
        if ref == self.reference:
            for d in self.differences:
                if d.arm == arm:
                    return d
        return _difference(self.arm(arm), self.arm(ref), self.n_test)

    def verdict(self, arm: str, reference: str | None = None) -> str | None:
        """«gana», «empate», «pierde» o ``None`` si no hay intervalo."""
        return self.difference(arm, reference).verdict

    def sentence(self, arm: str, reference: str | None = None) -> str:
        """Una frase en español que dice qué pasó, calculada de los números."""
        d = self.difference(arm, reference)
        if d.verdict is None:
            return (f"«{arm}» frente a «{d.reference}»: una sola ejecución (n = 1), así que no "
                    f"hay intervalo de la diferencia y no se puede decidir.")
        what = {"gana": "gana a", "empate": "empata con", "pierde": "pierde frente a"}[d.verdict]
        unit = "puntos" if self.percent else ""
        f = _fmt_signed_pts if self.percent else _fmt_signed
        extra = ("el intervalo incluye el 0" if d.verdict == "empate" else
                 "el intervalo no incluye el 0")
        runs = f"{d.n} semillas{', emparejadas' if d.paired else ''}"
        if d.method == "bootstrap":
            runs += (f", y las mismas {self.n_test} imágenes de {self.split} "
                     "(bootstrap emparejado)")
        else:
            runs += "; solo la variación entre semillas"
        return (f"«{arm}» {what} «{d.reference}»: diferencia {f(d.diff)} {unit} "
                f"(IC 95 % de {f(d.low)} a {f(d.high)}; {runs}; {extra}).").replace("  ", " ")

    def table(self) -> str:
        """Tabla de texto: cada brazo con media e intervalo y su diferencia con la referencia."""
        width = max(len(a.name) for a in self.arms)
        lines = []
        for a in self.arms:
            row = f"{a.name.ljust(width)}  {a.text(self.percent)}"
            if a.name != self.reference:
                row += f"  → frente a «{self.reference}»: " + self.difference(a.name).text(
                    self.percent)
            lines.append(row)
        methods = {d.method for d in self.differences}
        if "bootstrap" in methods:
            basis = (f"bootstrap emparejado de semillas y de las {self.n_test} imágenes de "
                     f"{self.split}")
        else:
            basis = "semillas (t de Student" + (", emparejada" if "t emparejada" in methods
                                                else "") + ")"
            if self.n_test:
                basis += (f"; el de cada brazo, también por el tamaño de la {self.split} "
                          f"({self.n_test} imágenes, binomial)")
        lines.append(f"(intervalos al 95 % por {basis}; veredicto por el intervalo de la "
                     "diferencia)")
        return "\n".join(lines + self.notes)

    def __repr__(self) -> str:
        return self.table()


def _fmt_pct(x: float) -> str:
    return pct(x)


def _fmt_num(x: float) -> str:
    return f"{x:.3f}"


def _fmt_signed(x: float) -> str:
    return f"{x:+.3f}"


def _fmt_signed_pts(x: float) -> str:
    return f"{100 * x:+.1f}"


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
        half = math.hypot(half, _Z * binomial_se(mean, n_test))
    return ArmSummary(name, values, seeds, mean, std, mean - half, mean + half, "semillas")


def _seed_half_width(a: ArmSummary, b: ArmSummary) -> tuple[float, float, bool, int, str] | None:
    """Diferencia de medias y su semiancho por semillas (t emparejada o Welch)."""
    paired = a.n == b.n and a.n > 1 and (a.seeds == b.seeds)
    if paired:
        diffs = [x - y for x, y in zip(a.values, b.values)]
        mean, std = mean_std(diffs)
        return mean, t_quantile(a.n - 1) * std / math.sqrt(a.n), True, a.n, "t emparejada"
    if a.n < 2 or b.n < 2:
        return None
    va, vb = a.std**2 / a.n, b.std**2 / b.n
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / ((va**2 / (a.n - 1) + vb**2 / (b.n - 1)) or 1e-300)
    df = max(1, math.floor(df)) if se > 0 else a.n + b.n - 2
    return a.mean - b.mean, t_quantile(df) * se, False, min(a.n, b.n), "Welch"


def _verdict_of(low: float, high: float) -> str:
    return "gana" if low > 0 else "pierde" if high < 0 else "empate"


def _difference(a: ArmSummary, b: ArmSummary, n_test: int | None = None) -> Difference:
    """La diferencia ``a − b`` con intervalo y veredicto (``None`` con una sola ejecución).

    ``n_test`` se acepta por compatibilidad: el tamaño de la prueba ya no ensancha la
    diferencia (ver la descripción del módulo).
    """
    diff, n = a.mean - b.mean, min(a.n, b.n)
    paired = a.n > 1 and a.seed_key is not None and a.seed_key == b.seed_key
    if a.boot is not None and b.boot is not None and n > 1:
        low, high = _boot.percentile_interval(_boot.replicates(a.boot, b.boot, paired))
        return Difference(a.name, b.name, diff, low, high, _verdict_of(low, high), paired, n,
                          "bootstrap")
    seed = _seed_half_width(a, b)
    if seed is None:
        return Difference(a.name, b.name, diff, None, None, None, False, n)
    diff, half, paired, n, method = seed
    low, high = diff - half, diff + half
    return Difference(a.name, b.name, diff, low, high, _verdict_of(low, high), paired, n, method)


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
    values = np.asarray(labels).reshape(-1)
    if values.size == 0:
        return []
    _, counts = np.unique(values, return_counts=True)
    share = counts.max() / values.size
    if len(counts) < 2 or share < 1 / len(counts) + 0.05:
        return []
    floor = (f"la exactitud balanceada de ese modelo es {_fmt_pct(1 / len(counts))}"
             if metric == "balanced_accuracy" else
             "por eso conviene mirar también la exactitud balanceada")
    return [f"Referencia: la clase más frecuente es el {_fmt_pct(share)} de las {values.size} "
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
    from .progress import progress_bar

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
