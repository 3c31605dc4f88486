"""Extracción de características frente a ajuste fino con la receta del curso, en unos datos.

:func:`compare_strategies` entrena los dos brazos sobre las mismas imágenes y los compara con
:func:`labkit.experiments.compare` sobre los aciertos por imagen de la misma prueba:

* **extracción**: el tronco preentrenado congelado y una cabeza lineal nueva entrenada
  ``extraction_epochs`` épocas (la mejor época en validación). Sobre características ya
  calculadas cuesta décimas de segundo, así que se mide con más semillas (``extraction_seeds``).
* **ajuste fino**: la receta del curso (:data:`labkit.training.FINE_TUNE_DEFAULTS`, la misma
  implementación que :func:`labkit.fine_tune`): épocas de cabeza y después el ajuste fino de la
  segunda mitad de los grupos con ``one_cycle`` y tasas discriminativas; una sola mejor época
  para las dos fases. Si esa mejor época es de la cabeza, la segunda fase no cambió el modelo, y
  :meth:`StrategyComparison.decided` lo dice.

La salida de la parte congelada (la primera mitad de los grupos) se calcula **una vez** para los
dos brazos y todas las semillas; la extracción la lleva hasta la cabeza. Cada semilla toma sus
``n_train`` imágenes (subconjunto estratificado), su cabeza inicial y su orden de lotes; los
brazos comparten las semillas del ajuste fino. Como la extracción tiene más semillas, la
comparación remuestrea las semillas de cada brazo por separado y las imágenes de prueba
emparejadas (las mismas para los dos).

Ejemplo::

    from labkit.experiments import compare_strategies
    res = compare_strategies(labkit.beans(image_size=128), n_train=150)
    print(res.report())
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ..base._errors import LabkitError
from ..base._fmt import pct
from ..base._validate import check_int
from ..data._data import DataSplits, check_splits
from ..training._recipe import FINE_TUNE_DEFAULTS, HEAD
from ._compare import compare
from ._comparison import Comparison
from ._runs import Recipe, _check_seeds, run_extraction, run_fine_tune
from ._transferfeatures import transfer_features

__all__ = ["StrategyComparison", "compare_strategies", "EXTRACTION", "FINE_TUNE"]

EXTRACTION, FINE_TUNE = "extracción", "ajuste fino"
"""Los nombres de los dos brazos (las claves de :meth:`StrategyComparison.arms`)."""


@dataclass
class StrategyComparison:
    """Los dos brazos medidos en unos datos y su comparación.

    Attributes:
        name: los datos de prueba (p. ej. «Frijoles (test)»).
        n_train: imágenes de entrenamiento de cada ejecución.
        extraction, fine_tune: ``{semilla: fila}`` de :func:`labkit.experiments.run_extraction`
            y :func:`labkit.experiments.run_fine_tune` (``test_acc``, ``train_seconds``,
            ``test_correct``; el ajuste fino, también ``best_phase``).
        features_seconds: segundos de calcular la parte congelada (una vez, para los dos).
        comparison: la de :func:`labkit.experiments.compare` (referencia: la extracción).
        extraction_epochs: épocas de la cabeza de la extracción.
    """

    name: str
    n_train: int
    extraction: dict[int, dict]
    fine_tune: dict[int, dict]
    features_seconds: float
    comparison: Comparison
    extraction_epochs: int = 20
    head_epochs: int = field(default=FINE_TUNE_DEFAULTS["head_epochs"])

    def arms(self) -> dict[str, dict[int, object]]:
        """Los aciertos por imagen de cada brazo, ``{brazo: {semilla: aciertos}}``."""
        return {EXTRACTION: {s: r["test_correct"] for s, r in self.extraction.items()},
                FINE_TUNE: {s: r["test_correct"] for s, r in self.fine_tune.items()}}

    def seconds(self, arm: str) -> float:
        """Segundos medios de entrenamiento por semilla de un brazo (sin las características)."""
        rows = {EXTRACTION: self.extraction, FINE_TUNE: self.fine_tune}.get(arm)
        if rows is None:
            raise LabkitError(f"No hay un brazo '{arm}': usa «{EXTRACTION}» o «{FINE_TUNE}».")
        return statistics.mean(r["train_seconds"] for r in rows.values())

    def improved_seeds(self) -> list[int]:
        """Las semillas en que la segunda fase mejoró la mejor época de la cabeza."""
        return [s for s, r in self.fine_tune.items() if r.get("best_phase") != HEAD]

    def seeds_table(self) -> str:
        """Una línea por semilla del ajuste fino, con la extracción de esa misma semilla."""
        lines = [f"{'semilla':>7}  {EXTRACTION:>10}  {FINE_TUNE:>11}  mejor época del ajuste fino"]
        for s, r in self.fine_tune.items():
            ext = self.extraction.get(s)
            where = ("de la cabeza: la 2.ª fase no la mejoró" if r.get("best_phase") == HEAD
                     else "de la 2.ª fase: mejoró la de la cabeza")
            lines.append(f"{s:>7}  {pct(ext['test_acc']) if ext else '—':>10}  "
                         f"{pct(r['test_acc']):>11}  {where}")
        rest = [s for s in self.extraction if s not in self.fine_tune]
        if rest:
            mean = statistics.mean(self.extraction[s]["test_acc"] for s in rest)
            plural = "s" if len(rest) > 1 else ""
            lines.append(f"(extracción con {len(rest)} semilla{plural} más, {_span(rest)}: media "
                         f"{pct(mean)})")
        return "\n".join(lines)

    def decided(self) -> list[str]:
        """Lo que decidió el resultado, en frases calculadas de las ejecuciones."""
        d = self.comparison.difference(FINE_TUNE)
        improved, n = len(self.improved_seeds()), len(self.fine_tune)
        ext_s, ft_s = self.seconds(EXTRACTION), self.seconds(FINE_TUNE)
        if improved == 0:
            phase = (f"La segunda fase no mejoró en ninguna de las {n} semillas la mejor época de "
                     f"la cabeza (en validación): el ajuste fino devolvió su cabeza de "
                     f"{self.head_epochs} épocas, y la extracción entrena la suya "
                     f"{self.extraction_epochs}.")
        else:
            phase = (f"La segunda fase mejoró la mejor época de su cabeza (en validación) en "
                     f"{improved} de {n} semillas: esas ejecuciones terminan con las últimas "
                     "etapas adaptadas a estas imágenes.")
        phase += " " + self._validation_text()
        cost = (f"Tiempo por semilla: extracción {ext_s:.1f} s, ajuste fino {ft_s:.1f} s "
                f"({ft_s / max(ext_s, 1e-9):.0f} veces más), más {self.features_seconds:.1f} s "
                "de calcular una vez la parte congelada, común a los dos.")
        if d.verdict is None:
            test = "Con una sola semilla no hay intervalo: no se decide."
        else:
            half = 100 * (d.high - d.low) / 2
            test = (f"En prueba: diferencia {100 * d.diff:+.1f} puntos, intervalo de "
                    f"{100 * d.low:+.1f} a {100 * d.high:+.1f} (±{half:.1f} con "
                    f"{self.comparison.n_test} imágenes de prueba): ")
            test += {"gana": "entero por encima de 0, gana el ajuste fino.",
                     "pierde": "entero por debajo de 0, gana la extracción.",
                     "empate": "incluye el 0, así que con este ruido no se distinguen."}[d.verdict]
        return [phase, cost, test]

    def _validation_text(self) -> str:
        """La validación de los dos brazos en las semillas del ajuste fino (mejor época)."""
        seeds = [s for s in self.fine_tune if s in self.extraction]
        if not seeds or any("val_acc" not in self.fine_tune[s] or "val_acc" not in
                            self.extraction[s] for s in seeds):
            return ""
        ext = statistics.mean(self.extraction[s]["val_acc"] for s in seeds)
        ft = statistics.mean(self.fine_tune[s]["val_acc"] for s in seeds)
        where = ("por delante de" if ft > ext else "por detrás de" if ft < ext else "igual que")
        return (f"En validación (la mejor exactitud de cualquier época, media de las semillas "
                f"{_span(seeds)}), el ajuste fino quedó {where} la extracción: {pct(ft)} frente "
                f"a {pct(ext)}.")

    def report(self) -> str:
        """Las semillas, la comparación y lo que decidió, listo para imprimir."""
        head = f"{self.name}: {self.n_train} imágenes de entrenamiento por ejecución"
        return "\n".join([head, self.seeds_table(), self.comparison.table(), "Lo que decidió:"]
                         + [f"  - {line}" for line in self.decided()])


def _span(seeds: Sequence[int]) -> str:
    """«3–9» si son seguidas; si no, la lista."""
    seeds = sorted(seeds)
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


def compare_strategies(data: DataSplits, n_train: int | None = None, *,
                       seeds: Sequence[int] = (0, 1, 2),
                       extraction_seeds: Sequence[int] | None = None,
                       extraction_epochs: int = 20, model_name: str = "efficientnet_lite0",
                       pretrained: bool = True, device: torch.device | str | None = None,
                       progress: bool = True) -> StrategyComparison:
    """Extracción frente a ajuste fino (la receta del curso), emparejados en la misma prueba.

    Args:
        data: particiones (``val`` y ``test`` se usan enteras).
        n_train: imágenes de entrenamiento de cada ejecución (``None`` = todas).
        seeds: semillas del ajuste fino (y de la extracción, si no se dan otras).
        extraction_seeds: semillas de la extracción (``None`` = ``seeds``); conviene que
            incluyan las del ajuste fino.
        extraction_epochs: épocas de la cabeza de la extracción (mejor época en validación).
        model_name: modelo preentrenado del catálogo.
        pretrained: pesos de ImageNet (``False`` solo para pruebas).
        device: dispositivo; ``None`` = :func:`labkit.default_device`.
        progress: barra de progreso por ejecución.

    Returns:
        Un :class:`StrategyComparison` (``report()``, ``arms()``, ``comparison``).
    """
    check_splits(data, "compare_strategies", "labkit.beans()")
    seeds = _check_seeds(seeds)
    ext_seeds = seeds if extraction_seeds is None else _check_seeds(extraction_seeds)
    extraction_epochs = check_int("extraction_epochs", extraction_epochs, minimum=1)
    n = len(data.train) if n_train is None else check_int("n_train", n_train,
                                                         minimum=data.train.num_classes,
                                                         maximum=len(data.train))
    from ..models._freezing import default_fine_tune_depth
    from ..models._models import create_model

    with torch.device("meta"):  # solo para contar los grupos
        depth = default_fine_tune_depth(create_model(model_name, num_classes=2,
                                                     pretrained=False))
    feats = transfer_features(data, model_name, depth, pretrained=pretrained, device=device)
    return _run_arms(data, feats, n, seeds, ext_seeds, extraction_epochs, device, progress)


def _run_arms(data: DataSplits, feats: object, n: int, seeds: list[int], ext_seeds: list[int],
              extraction_epochs: int, device: object, progress: bool) -> StrategyComparison:
    """Las ejecuciones de los dos brazos y su comparación."""
    from ..base._progress import progress_bar
    from ..models._groups import layer_groups

    deeper = feats.at_depth(len(layer_groups(feats.model)) - 1)  # para la extracción
    plan = [(EXTRACTION, s) for s in ext_seeds] + [(FINE_TUNE, s) for s in seeds]
    ext_recipe = Recipe(head_epochs=extraction_epochs)
    ft_recipe = Recipe(head_epochs=FINE_TUNE_DEFAULTS["head_epochs"])
    out: dict[str, dict[int, dict]] = {EXTRACTION: {}, FINE_TUNE: {}}
    for arm, seed in progress_bar(plan, desc="extracción y ajuste fino", disable=not progress,
                                  leave=False, unit="ejecución"):
        if arm == EXTRACTION:
            out[arm][seed] = run_extraction(feats, n, seed, ext_recipe, device)
        else:
            out[arm][seed] = run_fine_tune(feats, n, seed, recipe=ft_recipe, device=device)
    # El ajuste fino primero, como lo ordena labkit.checks.check_measured_conclusion: el mismo
    # bootstrap (generador de semilla fija) da el mismo intervalo en el cuaderno y al corregir.
    arms = {arm: {s: r["test_correct"] for s, r in out[arm].items()}
            for arm in (FINE_TUNE, EXTRACTION)}
    cmp = compare(arms, reference=EXTRACTION, labels=data.test.labels)
    return StrategyComparison(data.test.name, n, out[EXTRACTION], out[FINE_TUNE],
                              deeper.seconds, cmp, extraction_epochs)
