"""Comparar configuraciones con su incertidumbre: media, intervalo al 95 % y veredicto.

Una comparación es una distribución, no un número: cada brazo (configuración) se mide con varias
semillas y el veredicto «gana / empate / pierde» lo decide el **intervalo de la diferencia**,
nunca un umbral fijo. Los intervalos son al 95 %:

- **Semillas** (t de Student): la variación entre ejecuciones (subconjunto, pesos iniciales,
  orden de los lotes). Si dos brazos tienen las mismas semillas se comparan **emparejados**
  (diferencia semilla a semilla); si no, con el intervalo de Welch.
- **Tamaño de la prueba** (binomial), solo si se da ``n_test``: aunque las semillas coincidan,
  la exactitud sobre ``n_test`` imágenes es una estimación. Para un brazo se usa el intervalo
  de Wilson; para una diferencia se suma en cuadratura el término de las semillas y el
  binomial de los dos brazos como si fueran independientes (conservador: en el mismo conjunto de
  prueba los aciertos están correlacionados y el error real es menor).

Con una sola ejecución y sin ``n_test`` no hay intervalo: se escribe «n = 1», nunca «± 0.0», y
no se da veredicto.

Ejemplo::

    cmp = labkit.compare.compare({"extracción": [0.81, 0.83, 0.80],
                                  "ajuste fino": [0.86, 0.88, 0.85]}, n_test=581)
    print(cmp.table())
    print(cmp.sentence("ajuste fino", "extracción"))

O, ejecutando las configuraciones (cada brazo es una función ``semilla → exactitud``)::

    cmp = labkit.compare.compare_runs({"extracción": entrenar_cabeza,
                                       "ajuste fino": ajustar}, seeds=(0, 1, 2), n_test=581)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .errors import LabkitError
from .fmt import pct

__all__ = ["ArmSummary", "Difference", "Comparison", "compare", "compare_runs", "arms_from_rows",
           "t_quantile", "wilson_interval", "VERDICTS"]

VERDICTS = ("gana", "empate", "pierde")
_Z = 1.959963984540054
# Cuantil 0.975 de la t de Student para 1…30 grados de libertad.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


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
    return _Z + (_Z**3 + _Z) / (4 * df)  # desarrollo de Cornish-Fisher, error < 0.001


def wilson_interval(p: float, n: int) -> tuple[float, float]:
    """Intervalo de Wilson al 95 % para una proporción ``p`` medida sobre ``n`` casos.

    Args:
        p: proporción observada (0–1).
        n: número de casos (imágenes de prueba).

    Returns:
        ``(inferior, superior)``.
    """
    denom = 1 + _Z**2 / n
    centre = (p + _Z**2 / (2 * n)) / denom
    half = _Z * math.sqrt(p * (1 - p) / n + _Z**2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


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
    kind: str  # "semillas", "prueba (Wilson)" o "" si no hay intervalo

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
            return (f"«{arm}» frente a «{d.reference}»: una sola ejecución (n = 1) y sin "
                    f"tamaño de prueba, así que no hay intervalo y no se puede decidir.")
        what = {"gana": "gana a", "empate": "empata con", "pierde": "pierde frente a"}[d.verdict]
        unit = "puntos" if self.percent else ""
        f = _fmt_signed_pts if self.percent else _fmt_signed
        extra = ("el intervalo incluye el 0" if d.verdict == "empate" else
                 "el intervalo no incluye el 0")
        runs = (f"{d.n} semillas{', emparejadas' if d.paired else ''}" if d.n > 1 else
                "n = 1: el intervalo solo cuenta el tamaño de la prueba")
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
        basis = "semillas (t de Student)"
        if self.n_test:
            basis += f" y tamaño de prueba ({self.n_test} imágenes, binomial)"
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


def _mean_std(values: list[float]) -> tuple[float, float]:
    """Media y desviación típica muestral (n − 1; 0 con un valor)."""
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, math.sqrt(var)


def _summarize(name: str, raw: Sequence[float] | Mapping, n_test: int | None) -> ArmSummary:
    """Media e intervalo de un brazo (semillas + prueba en cuadratura si se da ``n_test``)."""
    seeds = sorted(raw) if isinstance(raw, Mapping) else None
    values = [float(raw[s]) for s in seeds] if seeds is not None else [float(v) for v in raw]
    if not values or not all(math.isfinite(v) for v in values):
        raise LabkitError(f"El brazo '{name}' necesita al menos un valor, todos números finitos.")
    mean, std = _mean_std(values)
    n = len(values)
    if n == 1 and not n_test:
        return ArmSummary(name, values, seeds, mean, std, None, None, "")
    if n == 1:
        low, high = wilson_interval(min(max(mean, 0.0), 1.0), n_test)
        return ArmSummary(name, values, seeds, mean, std, low, high, "prueba (Wilson)")
    half = t_quantile(n - 1) * std / math.sqrt(n)
    if n_test:
        half = math.hypot(half, _Z * _binomial_se(mean, n_test))
    return ArmSummary(name, values, seeds, mean, std, mean - half, mean + half, "semillas")


def _binomial_se(p: float, n_test: int) -> float:
    p = min(max(p, 0.0), 1.0)
    return math.sqrt(p * (1 - p) / n_test)


def _seed_half_width(a: ArmSummary, b: ArmSummary) -> tuple[float, float, bool, int] | None:
    """Diferencia de medias y su semiancho por semillas (emparejado o Welch)."""
    paired = a.n == b.n and a.n > 1 and (a.seeds == b.seeds)
    if paired:
        diffs = [x - y for x, y in zip(a.values, b.values)]
        mean, std = _mean_std(diffs)
        return mean, t_quantile(a.n - 1) * std / math.sqrt(a.n), True, a.n
    if a.n < 2 or b.n < 2:
        return None
    va, vb = a.std**2 / a.n, b.std**2 / b.n
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / ((va**2 / (a.n - 1) + vb**2 / (b.n - 1)) or 1e-300)
    df = max(1, math.floor(df)) if se > 0 else a.n + b.n - 2
    return a.mean - b.mean, t_quantile(df) * se, False, min(a.n, b.n)


def _seed_half(arm: ArmSummary) -> float:
    """Semiancho por semillas de la media de un brazo (0 con una sola ejecución)."""
    return t_quantile(arm.n - 1) * arm.std / math.sqrt(arm.n) if arm.n > 1 else 0.0


def _difference(a: ArmSummary, b: ArmSummary, n_test: int | None) -> Difference:
    """La diferencia ``a − b`` con intervalo y veredicto (``None`` si no hay intervalo)."""
    seed = _seed_half_width(a, b)
    if seed is None and not n_test:
        return Difference(a.name, b.name, a.mean - b.mean, None, None, None, False,
                          min(a.n, b.n))
    if seed is None:  # un brazo con una sola ejecución: cuenta el término del otro, si lo hay
        half = math.hypot(*(_seed_half(x) for x in (a, b)))
        seed = (a.mean - b.mean, half, False, min(a.n, b.n))
    diff, half, paired, n = seed
    if n_test:
        binom = math.hypot(_binomial_se(a.mean, n_test), _binomial_se(b.mean, n_test))
        half = math.hypot(half, _Z * binom)
    low, high = diff - half, diff + half
    verdict = "gana" if low > 0 else "pierde" if high < 0 else "empate"
    return Difference(a.name, b.name, diff, low, high, verdict, paired, n)


def compare(results: Mapping[str, Sequence[float] | Mapping], reference: str | None = None,
            n_test: int | None = None, percent: bool = True) -> Comparison:
    """Resume dos o más brazos y decide cada uno frente a la referencia por el intervalo.

    Args:
        results: ``{nombre del brazo: valores}``; los valores son una lista (una por semilla,
            en el mismo orden de semillas en todos los brazos) o un ``{semilla: valor}``. Dos
            brazos con las mismas semillas se comparan emparejados.
        reference: el brazo con que se compara el resto (``None`` = el primero).
        n_test: imágenes de prueba; si se da, los intervalos incluyen el error binomial de la
            prueba (ver la descripción del módulo).
        percent: los valores son exactitudes (0–1) y se muestran en % y puntos.

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
    arms = [_summarize(str(k), v, n_test) for k, v in results.items()]
    if percent:  # una exactitud vive en [0, 1]: el intervalo de la t no debe salirse de ahí
        for arm in arms:
            if arm.low is not None:
                arm.low, arm.high = max(0.0, arm.low), min(1.0, arm.high)
    ref = str(reference) if reference is not None else arms[0].name
    by_name = {a.name: a for a in arms}
    if ref not in by_name:
        raise LabkitError(f"reference='{ref}' no es un brazo: usa uno de {', '.join(by_name)}.")
    diffs = [_difference(a, by_name[ref], n_test) for a in arms if a.name != ref]
    return Comparison(arms, diffs, ref, n_test, percent)


def compare_runs(arms: Mapping[str, Callable[[int], float]], seeds: Sequence[int] = (0, 1, 2),
                 reference: str | None = None, n_test: int | None = None, percent: bool = True,
                 progress: bool = True) -> Comparison:
    """Ejecuta cada configuración con cada semilla y compara los resultados por intervalo.

    Cada brazo es una función ``semilla → valor`` (p. ej. entrenar una cabeza sobre
    características guardadas y devolver la exactitud en prueba): con las mismas semillas en
    todos los brazos la comparación es emparejada.

    Args:
        arms: ``{nombre: función(semilla) -> exactitud}``; dos o más.
        seeds: las semillas (al menos 2 para tener intervalo; con 1 se escribe «n = 1»).
        reference: el brazo con que se compara el resto (``None`` = el primero).
        n_test: imágenes de prueba (ver :func:`compare`).
        percent: los valores son exactitudes (0–1).
        progress: barra de progreso por ejecución.

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
    results: dict[str, dict[int, float]] = {name: {} for name in arms}
    for name, seed in progress_bar(jobs, desc="ejecuciones", disable=not progress, leave=False,
                                   unit="ejecución"):
        value = float(arms[name](seed))
        if not math.isfinite(value):
            raise LabkitError(f"El brazo «{name}» con semilla {seed} devolvió {value}: debe "
                              "devolver un número finito (p. ej. la exactitud en prueba).")
        results[name][seed] = value
    return compare(results, reference=reference, n_test=n_test, percent=percent)


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
