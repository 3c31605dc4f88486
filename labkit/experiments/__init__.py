"""Los experimentos: comparar con intervalos, barridos, estrategias, olvido, los peores errores y
las afirmaciones de la guía (``claim``).

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ..base._intervals import wilson_interval
from ._bootstrap import METRICS, as_outcomes, seed_metric
from ._claims import ClaimError, ClaimWarning, claim
from ._compare import arms_from_rows, compare, compare_runs
from ._comparison import Comparison, Difference
from ._experiments import data_size_sweep, freeze_depth_sweep, lr_ratio_sweep
from ._forgetting import (
    BestWeights,
    ImageNetProbe,
    ProbeCallback,
    ProbeResult,
    bn_stat_shift,
    frozen_batchnorms,
    plot_forgetting,
    plot_forgetting_runs,
    probe_photos,
    stop_epoch,
)
from ._guideclaims import ClaimsTable, claims_table
from ._results import METHOD_LABELS, crossover, format_table, labeled, summarize
from ._runs import Recipe, run_extraction, run_fine_tune, run_scratch, scratch_epochs
from ._scratchsame import LABEL, METHOD, describe, run_scratch_same, scratch_same_sweep
from ._strategies import StrategyComparison, compare_strategies
from ._toplosses import TopLoss, plot_top_losses, top_losses
from ._transferfeatures import TransferFeatures, transfer_features

__all__ = [
    "as_outcomes", "seed_metric", "METRICS", "ClaimError", "ClaimWarning", "claim", "Difference",
    "Comparison", "compare", "compare_runs", "arms_from_rows", "wilson_interval", "METHOD_LABELS",
    "Recipe", "TransferFeatures", "transfer_features", "scratch_epochs", "run_extraction",
    "run_fine_tune", "run_scratch", "data_size_sweep", "freeze_depth_sweep", "lr_ratio_sweep",
    "summarize", "crossover", "format_table", "labeled", "probe_photos", "ProbeResult",
    "ImageNetProbe", "ProbeCallback", "BestWeights", "stop_epoch", "frozen_batchnorms",
    "bn_stat_shift", "plot_forgetting", "plot_forgetting_runs", "ClaimsTable", "claims_table",
    "METHOD", "LABEL", "describe", "run_scratch_same", "scratch_same_sweep", "StrategyComparison",
    "compare_strategies", "TopLoss", "top_losses", "plot_top_losses",
]
