"""Las opciones de ``fit``, agrupadas y por nombre: optimización, validación, datos y salida.

Cada grupo es un dataclass congelado que se crea solo por nombre (``Optimization(lr=1e-3)``,
nunca por posición). ``labkit.fit`` acepta las opciones sueltas de siempre (``lr=``,
``patience=``, ``augment=``…) o los grupos enteros (``optimization=Optimization(...)``), y
:meth:`FitSettings.build` es el único sitio que los junta y los comprueba::

    from labkit.training import Optimization, Stopping
    opt = Optimization(epochs=20, lr=3e-4, ratio=10, schedule="coseno")
    labkit.fit(modelo, datos.train, datos.val, optimization=opt,
               stopping=Stopping(patience=3), seed=0)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from ..base._errors import LabkitError
from ..base._validate import check_bool, check_seed, describe
from ..data._augment import resolve_augment
from ._callbacks import Callback
from ._features import FeatureCache
from ._schedules import DEFAULT_WARMUP, check_schedule
from ._trainargs import check_checkpoint, check_counts, check_device, check_options, check_rates

__all__ = ["Optimization", "Stopping", "DataOptions", "Output", "FitSettings", "GROUPS"]


@dataclass(frozen=True, kw_only=True)
class Optimization:
    """Cómo se optimiza: épocas, tasas (con su razón entre niveles), lote, optimizador y
    calendario. Ver :func:`labkit.fit` para cada opción."""

    epochs: int = 10
    lr: float = 1e-3
    ratio: float = 1.0
    tiers: int = 3
    batch_size: int = 32
    optimizer: str = "adam"
    weight_decay: float = 0.0
    schedule: str | None = "constante"
    warmup: float = DEFAULT_WARMUP
    class_weights: str | Sequence[float] | None = None
    update_bn: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Stopping:
    """La validación: qué se mide (``metrics``), qué se vigila, cuándo parar y con qué pesos
    terminar. ``metrics`` es la costura de las métricas de validación (:data:`labkit.loop.
    Metrics`; ``None`` = entropía cruzada y exactitud)."""

    monitor: str = "val_loss"
    patience: int | None = None
    min_delta: float = 0.0
    restore_best: bool = True
    metrics: Callable[[torch.Tensor, torch.Tensor], tuple[float, float]] | None = None


@dataclass(frozen=True, kw_only=True)
class DataOptions:
    """Los datos en el bucle: aumento, caché de características, semilla y dispositivo."""

    augment: object = False
    cache: str | bool | FeatureCache = "auto"
    seed: int = 0
    device: torch.device | str | None = None


@dataclass(frozen=True, kw_only=True)
class Output:
    """Lo que sale mientras se entrena: barra, callbacks, nombre de la fase y checkpoint."""

    progress: bool = True
    callbacks: Sequence[Callback] = ()
    phase: str = ""
    checkpoint: str | os.PathLike | None = None


GROUPS = {"optimization": Optimization, "stopping": Stopping, "data_options": DataOptions,
          "output": Output}
"""Los grupos de opciones de ``fit``: el nombre del argumento y su clase."""

_GROUP_OF = {f.name: name for name, cls in GROUPS.items() for f in dataclasses.fields(cls)}
"""Cada opción suelta, con el grupo al que pertenece."""


@dataclass(frozen=True, kw_only=True)
class FitSettings:
    """Las opciones de una llamada a :func:`labkit.fit`, en sus cuatro grupos (ya comprobadas).

    Se crea con :meth:`build`; ``s.lr`` lee ``s.optimization.lr`` (cada opción suelta se lee
    de su grupo) y :meth:`replace` cambia opciones sueltas y vuelve a comprobar.
    """

    optimization: Optimization = field(default_factory=Optimization)
    stopping: Stopping = field(default_factory=Stopping)
    data_options: DataOptions = field(default_factory=DataOptions)
    output: Output = field(default_factory=Output)

    def __getattr__(self, name: str) -> object:
        group = _GROUP_OF.get(name)
        if group is None:
            raise AttributeError(f"FitSettings no tiene la opción {name!r}")
        return getattr(getattr(self, group), name)

    @classmethod
    def build(cls, *, optimization: Optimization | None = None, stopping: Stopping | None = None,
              data_options: DataOptions | None = None, output: Output | None = None,
              **options: object) -> FitSettings:
        """El único sitio que junta grupos y opciones sueltas y lo comprueba todo.

        Args:
            optimization, stopping, data_options, output: grupos enteros (``None`` = sus
                valores por defecto, cambiados por las opciones sueltas que lleguen).
            **options: opciones sueltas de ``fit`` (``lr=``, ``patience=``…). Una opción no
                puede llegar a la vez suelta y dentro de su grupo.

        Returns:
            Las opciones comprobadas y normalizadas.

        Raises:
            LabkitError: una opción desconocida, repetida, un grupo de otro tipo o un valor
                que no vale (en español, diciendo cuál).
        """
        given = {"optimization": optimization, "stopping": stopping,
                 "data_options": data_options, "output": output}
        groups = {}
        for name, value in given.items():
            if value is not None and not isinstance(value, GROUPS[name]):
                raise LabkitError(f"{name}: llegó {describe(value)}; se espera un "
                                  f"labkit.settings.{GROUPS[name].__name__}(...) o None.")
            groups[name] = value if value is not None else GROUPS[name]()
        unknown = sorted(set(options) - set(_GROUP_OF))
        if unknown:
            raise LabkitError(f"Opción desconocida de fit: {', '.join(unknown)}. Las opciones "
                              f"son {', '.join(_GROUP_OF)} (mira help(labkit.fit)).")
        twice = sorted(k for k in options if given[_GROUP_OF[k]] is not None)
        if twice:
            raise LabkitError(f"{', '.join(twice)} llegó suelto y también dentro de su grupo "
                              f"({', '.join(sorted({_GROUP_OF[k] for k in twice}))}=): dalo "
                              "de una sola forma.")
        return cls(**_merge(groups, options))._checked()

    def replace(self, **options: object) -> FitSettings:
        """Una copia con algunas opciones sueltas cambiadas (comprobada de nuevo).

        Args:
            **options: opciones sueltas de ``fit`` (``epochs=``, ``lr=``, ``phase=``…).

        Returns:
            Las opciones nuevas.
        """
        unknown = sorted(set(options) - set(_GROUP_OF))
        if unknown:
            raise LabkitError(f"Opción desconocida de fit: {', '.join(unknown)}.")
        groups = {name: getattr(self, name) for name in GROUPS}
        return FitSettings(**_merge(groups, options))._checked()

    def _checked(self) -> FitSettings:
        o, st, d, out = self.optimization, self.stopping, self.data_options, self.output
        lr, ratio = check_rates(o.lr, o.ratio)
        check_counts(o.epochs, o.batch_size, o.tiers)
        check_options(o.optimizer, o.weight_decay, st.patience, st.min_delta, d.cache,
                      st.monitor)
        schedule, warmup = check_schedule(o.schedule, o.warmup)
        check_bool("restore_best", st.restore_best)
        check_bool("progress", out.progress)
        if o.update_bn is not None:
            check_bool("update_bn", o.update_bn)
        if st.metrics is not None and not callable(st.metrics):
            raise LabkitError(f"metrics: llegó {describe(st.metrics)}; se espera una función "
                              "(salidas, etiquetas) → (pérdida, exactitud), o None.")
        resolve_augment(d.augment)
        return FitSettings(
            optimization=dataclasses.replace(o, lr=lr, ratio=ratio, schedule=schedule,
                                             warmup=warmup),
            stopping=st,
            data_options=dataclasses.replace(d, seed=check_seed(d.seed),
                                             device=check_device(d.device)),
            output=dataclasses.replace(out, callbacks=_check_callbacks(out.callbacks),
                                       checkpoint=check_checkpoint(out.checkpoint)))


def _merge(groups: dict[str, object], options: dict[str, object]) -> dict[str, object]:
    """Los grupos con las opciones sueltas puestas cada una en el suyo."""
    by_group: dict[str, dict] = {name: {} for name in GROUPS}
    for key, value in options.items():
        by_group[_GROUP_OF[key]][key] = value
    return {name: dataclasses.replace(groups[name], **by_group[name]) for name in GROUPS}


def _check_callbacks(callbacks: object) -> list[Callback]:
    """Una lista de callbacks; uno solo (sin lista) también vale."""
    if isinstance(callbacks, Callback):
        return [callbacks]
    items = None
    if not isinstance(callbacks, (str, bytes, dict)):
        try:
            items = list(callbacks)
        except TypeError:
            items = None
    if items is None or not all(isinstance(c, Callback) for c in items):
        bad = describe(callbacks) if items is None else next(
            describe(c) for c in items if not isinstance(c, Callback))
        raise LabkitError(f"callbacks: llegó {bad}; se espera una lista de objetos "
                          "labkit.Callback, p. ej. callbacks=[progreso] (o uno solo).")
    return items
