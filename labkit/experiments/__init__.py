"""Los experimentos: comparar con intervalos, barridos, estrategias, olvido, los peores errores y
las afirmaciones de la guía (``claim``).

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._bootstrap import (
    METRICS,
    Resampled,
    as_outcomes,
    check_labels,
    percentile_interval,
    replicates,
    resample,
    seed_inflation,
    seed_metric,
)
from ._claims import STRICT_ENV, ClaimError, ClaimWarning, claim, strict_claims
from ._compare import (
    VERDICTS,
    ArmSummary,
    Comparison,
    Difference,
    arms_from_rows,
    compare,
    compare_runs,
    t_quantile,
    wilson_interval,
)
from ._comparison import SPLITS
from ._experiments import (
    METHOD_LABELS,
    METHODS,
    Recipe,
    TransferFeatures,
    crossover,
    data_size_sweep,
    format_table,
    freeze_depth_sweep,
    labeled,
    lr_ratio_sweep,
    run_extraction,
    run_fine_tune,
    run_scratch,
    scratch_epochs,
    summarize,
    transfer_features,
)
from ._forgetting import (
    PROBE_PHOTOS,
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
from ._guideclaims import GUIDE_CLAIMS, NOT_RUN, ClaimsTable, GuideClaim, cell_verdict, claims_table
from ._runs import Progress
from ._scratchsame import LABEL, METHOD, describe, run_scratch_same, scratch_same_sweep
from ._strategies import EXTRACTION, FINE_TUNE, StrategyComparison, compare_strategies
from ._toplosses import TopLoss, plot_top_losses, top_losses

__all__ = [
    "Resampled", "as_outcomes", "check_labels", "seed_metric", "resample", "replicates",
    "percentile_interval", "seed_inflation", "METRICS", "ClaimError", "ClaimWarning", "claim",
    "strict_claims", "STRICT_ENV", "ArmSummary", "Difference", "Comparison", "compare",
    "compare_runs", "arms_from_rows", "t_quantile", "wilson_interval", "VERDICTS", "SPLITS",
    "METHODS", "METHOD_LABELS", "Recipe", "TransferFeatures", "transfer_features",
    "scratch_epochs", "run_extraction", "run_fine_tune", "run_scratch", "data_size_sweep",
    "freeze_depth_sweep", "lr_ratio_sweep", "summarize", "crossover", "format_table", "labeled",
    "PROBE_PHOTOS", "probe_photos", "ProbeResult", "ImageNetProbe", "ProbeCallback", "BestWeights",
    "stop_epoch", "frozen_batchnorms", "bn_stat_shift", "plot_forgetting", "plot_forgetting_runs",
    "GuideClaim", "GUIDE_CLAIMS", "ClaimsTable", "cell_verdict", "claims_table", "NOT_RUN",
    "Progress", "METHOD", "LABEL", "describe", "run_scratch_same", "scratch_same_sweep",
    "StrategyComparison", "compare_strategies", "EXTRACTION", "FINE_TUNE", "TopLoss", "top_losses",
    "plot_top_losses",
]
