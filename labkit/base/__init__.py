"""La base: errores en español, validación, configuración, formato, escritura atómica, red,
descargas, barras de progreso e intervalos. ``_figures`` (la figura vacía del curso) no se
importa aquí: carga matplotlib, y ``import labkit`` no lo necesita; sus nombres los da
``labkit.plots``.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._archives import check_member_name, extract_archive, unsafe_member
from ._cachefiles import (
    HOST_TAG,
    STALE_SECONDS,
    alive,
    cache_write,
    digest_bytes,
    digest_file,
    is_leftover_in_use,
    no_space,
    owned_temp,
    remove_leftovers,
    write_problem,
)
from ._compat import (
    TESTED_MAJORS,
    UntestedVersionWarning,
    untested_versions,
    warn_untested_versions,
)
from ._config import REPO_ROOT, data_dir, default_device, seed_everything
from ._errors import LabkitError, WeightsUnavailableError
from ._fileio import atomic_write
from ._fmt import count, pct, points
from ._intervals import (
    binomial_se,
    majority_share,
    mean_std,
    run_value,
    t_quantile,
    wilson_interval,
)
from ._netfetch import READ_TIMEOUT_S, DownloadLimitError, check_url, fetch
from ._progress import progress_bar
from ._speed import (
    MIN_COMPILE_IMAGES,
    channels_last_enabled,
    compile_enabled,
    compile_stats,
    compiled_prefix,
    has_depthwise,
    layout,
    override,
    place,
    uses_channels_last,
)
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
    "extract_archive", "check_member_name", "unsafe_member", "STALE_SECONDS", "HOST_TAG",
    "owned_temp", "cache_write", "digest_file", "digest_bytes", "remove_leftovers",
    "is_leftover_in_use", "no_space", "write_problem", "alive", "TESTED_MAJORS",
    "UntestedVersionWarning", "untested_versions", "warn_untested_versions", "data_dir",
    "seed_everything", "default_device", "REPO_ROOT", "LabkitError", "WeightsUnavailableError",

    "atomic_write", "pct", "points", "count", "t_quantile", "wilson_interval", "mean_std",
    "binomial_se", "run_value", "majority_share", "DownloadLimitError", "check_url", "fetch",
    "READ_TIMEOUT_S", "progress_bar", "channels_last_enabled", "compile_enabled", "has_depthwise",
    "place", "uses_channels_last", "layout", "compiled_prefix", "override", "compile_stats",
    "MIN_COMPILE_IMAGES", "describe", "check_int", "check_float", "check_bool", "check_choice",
    "check_str", "check_path", "check_seed", "check_fraction", "exclusive_write", "file_stamp",
    "write_error", "existing_file_error", "check_local_path", "looks_like_checkpoint",
]
