"""El resultado de una comparación: brazos, diferencias, tabla y frase con su veredicto.

:class:`Comparison` es lo que devuelve :func:`labkit.experiments.compare`: un :class:`ArmSummary`
por brazo (media e intervalo) y una :class:`Difference` por brazo frente a la referencia, con el
veredicto «gana / empate / pierde» que decide el intervalo. Se usan desde :mod:`labkit.experiments`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..base._errors import LabkitError
from ..base._fmt import pct
from ..base._intervals import mean_std, t_quantile
from . import _bootstrap as _boot

__all__ = ["VERDICTS", "SPLITS", "ArmSummary", "Difference", "Comparison"]


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
        counts = (self.arm(arm).n, self.arm(d.reference).n)
        runs = (f"{d.n} semillas, emparejadas" if d.paired else
                f"{counts[0]} y {counts[1]} semillas" if counts[0] != counts[1] else
                f"{d.n} semillas")
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
