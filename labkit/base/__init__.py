"""La base: errores en español, validación, configuración, formato, escritura atómica, red,
descargas, barras de progreso e intervalos. ``_figures`` (la figura vacía del curso) no se
importa aquí: carga matplotlib, y ``import labkit`` no lo necesita; sus nombres los da
``labkit.plots``.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._archives import extract_archive
from ._cachefiles import (
    HOST_TAG,
    STALE_SECONDS,
    digest_bytes,
    digest_file,
    is_leftover_in_use,
    no_space,
    write_problem,
)
from ._compat import UntestedVersionWarning, warn_untested_versions
from ._config import REPO_ROOT, data_dir, default_device, seed_everything
from ._errors import LabkitError, WeightsUnavailableError
from ._fileio import atomic_write
from ._fmt import count, pct, points
from ._intervals import (
    Z95,
    binomial_se,
    is_vector,
    majority_share,
    mean_std,
    run_value,
    t_quantile,
    to_numpy,
    wilson_interval,
)
from ._netfetch import READ_TIMEOUT_S, DownloadLimitError, check_url, fetch
from ._progress import progress_bar
from ._speed import compiled_prefix, layout, place, uses_channels_last
from ._validate import (
    check_bool,
    check_choice,
    check_float,
    check_fraction,
    check_int,
    check_path,
    check_seed,
    check_str,
    describe,
)
from ._writers import (
    check_local_path,
    exclusive_write,
    existing_file_error,
    file_stamp,
    looks_like_checkpoint,
    write_error,
)

__all__ = [
    "extract_archive", "STALE_SECONDS", "HOST_TAG", "digest_file", "digest_bytes",
    "is_leftover_in_use", "no_space", "write_problem", "UntestedVersionWarning",
    "warn_untested_versions", "data_dir", "seed_everything", "default_device", "REPO_ROOT",
    "LabkitError", "WeightsUnavailableError", "atomic_write", "pct", "points", "count", "Z95",
    "is_vector", "to_numpy", "t_quantile", "wilson_interval", "mean_std", "binomial_se",
    "run_value", "majority_share", "DownloadLimitError", "check_url", "fetch", "READ_TIMEOUT_S",
    "progress_bar", "place", "uses_channels_last", "layout", "compiled_prefix", "describe",
    "check_int", "check_float", "check_bool", "check_choice", "check_str", "check_path",
    "check_seed", "check_fraction", "exclusive_write", "file_stamp", "write_error",
    "existing_file_error", "check_local_path", "looks_like_checkpoint",
]
