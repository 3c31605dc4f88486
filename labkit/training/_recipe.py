"""La receta en dos fases, ``fine_tune``: primero la cabeza, luego ajuste fino.

Es la receta de fastai, con los valores por defecto elegidos midiendo en imágenes reales (ver el
docstring de :func:`fine_tune`): ``labkit.fine_tune(modelo, datos)`` sin más argumentos es lo que
debería usar quien llega con una carpeta de fotos.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from torch import nn

from ..base._errors import LabkitError
from ..base._validate import check_int
from ..data._data import DataSplits, ImageSet
from ..models._freezing import default_fine_tune_depth, freeze_to, head_depth
from ._best import BestTracker
from ._callbacks import History
from ._features import FeatureSet
from ._schedules import DEFAULT_WARMUP
from ._settings import FitSettings
from ._trainargs import attach_classes, check_classes, check_model, check_sets
from ._training import run_fit

__all__ = ["fine_tune", "FINE_TUNE_DEFAULTS", "Phase", "phase_settings", "run_phases",
           "head_best_note"]

FINE_TUNE_DEFAULTS = {"head_epochs": 3, "epochs": 8, "head_lr": 1e-3, "lr": 1e-3,
                      "ratio": 10.0, "schedule": "one_cycle", "augment": False}
"""Los valores por defecto de la receta en dos fases, en un solo sitio: los usan
:func:`fine_tune`, :class:`labkit.experiments.Recipe` (barridos), :func:`labkit.experiments.
lr_ratio_sweep`, el playground y ``benchmarks/bench_real.py``. Las cifras que los eligieron
están en el docstring de :func:`fine_tune`."""

HEAD, TUNE = "cabeza", "ajuste fino"
"""Los nombres de las dos fases (``history.phase``)."""


@dataclass(frozen=True)
class Phase:
    """Una fase de la receta: con qué datos, opciones y cuántos grupos congelados.

    Attributes:
        train, val: imágenes o características (a la profundidad ``depth``).
        settings: opciones ya comprobadas de ``labkit.fit`` (con su ``phase``).
        depth: grupos congelados durante la fase.
    """

    train: object
    val: object
    settings: FitSettings
    depth: int


def phase_settings(base: FitSettings | None = None, **recipe: object) -> tuple[FitSettings,
                                                                              FitSettings]:
    """Las opciones de las dos fases a partir de la receta (lo no dado, de los valores por defecto).

    Args:
        base: opciones comunes de ``labkit.fit`` (lote, semilla, ``monitor``…); ``None`` = las
            de ``fit``.
        **recipe: claves de :data:`FINE_TUNE_DEFAULTS` (y ``warmup``) que cambian.

    Returns:
        ``(cabeza, ajuste_fino)``: la cabeza con ``head_lr``, sin razón ni aumento; el ajuste
        fino con ``lr``, ``ratio``, ``schedule``, ``warmup`` y ``augment``.
    """
    unknown = sorted(set(recipe) - set(FINE_TUNE_DEFAULTS) - {"warmup"})
    if unknown:
        raise LabkitError(f"Opciones de la receta desconocidas: {unknown}. Usa "
                          f"{', '.join(FINE_TUNE_DEFAULTS)} o warmup.")
    r = {**FINE_TUNE_DEFAULTS, "warmup": DEFAULT_WARMUP, **recipe}
    base = base or FitSettings.build()
    head = base.replace(epochs=max(r["head_epochs"], 1), lr=r["head_lr"], ratio=1.0,
                        augment=False, phase=HEAD)
    tune = base.replace(epochs=max(r["epochs"], 1), lr=r["lr"], ratio=r["ratio"],
                        schedule=r["schedule"], warmup=r["warmup"], augment=r["augment"],
                        phase=TUNE)
    return head, tune


def head_best_note(history: History) -> str | None:
    """La frase que avisa de que la mejor época es de la cabeza (``None`` si no lo es).

    Args:
        history: el historial de una ejecución con fase de ajuste fino.

    Returns:
        Una frase en español, o ``None`` si no hubo ajuste fino o su mejor época es de él.
    """
    tuned = history.phase.count(TUNE)
    if not tuned or history.best_phase != HEAD:
        return None
    return (f"Ojo: la mejor época en validación es la {history.best_epoch}, de la fase "
            f"«{HEAD}». Ninguna de las {tuned} épocas del ajuste fino la mejoró, así que el "
            "modelo se queda con los pesos de la cabeza sola: el ajuste fino no cambió el "
            "resultado (prueba más épocas, otra tasa o más imágenes).")


def run_phases(model: nn.Module, phases: Sequence[Phase], best: BestTracker,
               history: History | None = None, say: Callable[[str], object] | None = None
               ) -> History:
    """La receta: cada fase con su profundidad, y una sola mejor época para todas.

    Es la única implementación de las dos fases: la usan :func:`fine_tune`,
    :func:`labkit.experiments.run_fine_tune`, :func:`labkit.experiments.lr_ratio_sweep` y el
    playground. ``best`` (la mejor época, sus pesos y el checkpoint) y ``history`` se comparten
    entre las fases: al terminar, el modelo tiene los pesos de la mejor época de **toda** la
    ejecución. Si la mejor es de la cabeza, lo apunta en ``history.notes`` (y lo dice con
    ``say``). Si se interrumpe una fase, no se hacen las siguientes.

    Args:
        model: el modelo (se congela y entrena en su sitio).
        phases: las fases en orden.
        best: el seguimiento de la mejor época (se puede traer de una fase anterior).
        history: el historial al que se suman las épocas (``None`` = uno nuevo).
        say: dónde decir el aviso (p. ej. ``print``); ``None`` = solo en ``history.notes``.

    Returns:
        El historial de todas las fases.
    """
    history = History() if history is None else history
    for phase in phases:
        freeze_to(model, phase.depth)
        run_fit(model, phase.train, phase.val, phase.settings, best, history)
        if history.interrupted:
            return history
    note = head_best_note(history)
    if note and note not in history.notes:
        history.notes.append(note)
        if say is not None:               # con la semilla: en un bucle de semillas, cuál fue
            say(f"[semilla {phases[-1].settings.seed}] {note}" if phases else note)
    return history


def _split_data(train: object, val: object) -> tuple[ImageSet, ImageSet]:
    """Acepta ``fine_tune(m, datos)`` (un DataSplits) y ``fine_tune(m, train, val)``."""
    if isinstance(train, DataSplits):
        if val is not None:
            raise LabkitError("Con un DataSplits no hace falta val: usa fine_tune(modelo, datos) "
                              "o fine_tune(modelo, datos.train, datos.val).")
        return train.train, train.val
    if val is None:
        raise LabkitError("fine_tune necesita los datos: fine_tune(modelo, datos) con un "
                          "DataSplits, o fine_tune(modelo, train, val).")
    if isinstance(train, FeatureSet) or isinstance(val, FeatureSet):
        raise LabkitError("fine_tune necesita las imágenes (ImageSet): la segunda fase entrena "
                          "capas cuyas entradas cambian. Para características usa labkit.fit.")
    return train, val


def _phases(model: nn.Module, head_epochs: object, epochs: object, unfreeze_to: object) -> int:
    """Comprueba épocas y profundidad; devuelve la profundidad del ajuste fino."""
    for name, n in (("head_epochs", head_epochs), ("epochs", epochs)):
        check_int(name, n, minimum=0)
    if head_epochs + epochs == 0:
        raise LabkitError("head_epochs y epochs son 0: no hay nada que entrenar.")
    if unfreeze_to is None:
        return default_fine_tune_depth(model)
    return check_int("unfreeze_to", unfreeze_to, minimum=0, maximum=head_depth(model),
                     expected=f"un entero de 0 (descongelar todo) a {head_depth(model)} "
                              "(solo la cabeza)")


_D = FINE_TUNE_DEFAULTS


def fine_tune(model: nn.Module, train: DataSplits | ImageSet, val: ImageSet | None = None, *,
              head_epochs: int = _D["head_epochs"], epochs: int = _D["epochs"],
              head_lr: float = _D["head_lr"], lr: float = _D["lr"], ratio: float = _D["ratio"],
              unfreeze_to: int | None = None, schedule: str | None = _D["schedule"],
              warmup: float = DEFAULT_WARMUP, augment: object = _D["augment"],
              **kwargs: object) -> History:
    """La receta en dos fases (como ``fine_tune`` de fastai), con una sola mejor época.

    1. Fase ``"cabeza"``: :func:`labkit.freeze` (todo menos la cabeza) y ``head_epochs`` épocas
       con ``head_lr``, con caché de características (sin aumento: es casi gratis).
    2. Fase ``"ajuste fino"``: ``freeze_to(model, unfreeze_to)`` y ``epochs`` épocas con tasas
       discriminativas (cabeza ``lr``, ``ratio`` entre niveles), optimizador nuevo, el
       calendario ``schedule`` (``one_cycle``: sube hasta ``lr`` y baja casi a cero) y el
       aumento ``augment``.

    Una sola mejor época para las dos fases: los pesos restaurados y el ``checkpoint`` son los
    mejores de toda la ejecución, y ``history.best_epoch`` cuenta las épocas de las dos fases.
    ``patience`` se cuenta en cada fase. Si se interrumpe la primera fase, no se hace la segunda.
    **Si la mejor época es de la cabeza**, el ajuste fino no cambió nada: lo imprime en una
    frase en español, y queda en ``history.best_phase`` (``"cabeza"``) y ``history.notes``.
    Es la misma implementación (:func:`run_phases`) que usan los barridos y el playground.

    ``unfreeze_to=None`` usa :func:`labkit.models.default_fine_tune_depth` (la primera mitad
    de los grupos congelada), la misma profundidad que los barridos y el playground.

    **Cómo se eligieron los valores por defecto** (``benchmarks/bench_real.py``, issue 18:
    EfficientNet-Lite0 preentrenado, CPU de 2 hilos, exactitud en la prueba completa, media ±
    desviación sobre 3 semillas; flores y frijoles a 128 px, ELPV binaria a 96 px,
    PneumoniaMNIST a 64 px). Cabeza sola = 20 épocas de cabeza (con la mejor época). Las tres
    recetas en dos fases tienen 3 épocas de cabeza con ``head_lr=1e-3`` y ``ratio=10``; la de
    antes, 5 épocas de ajuste fino a ``lr=1e-4`` constante; ``oc8``, 8 épocas con
    ``one_cycle`` hasta ``lr=1e-3``; ``oc8+aum``, lo mismo con el aumento «fotos»::

        conjunto (imágenes)    cabeza sola    antes          oc8  ← defecto   oc8+aum
        frijoles (420, todas)  84.4 ± 2.9     84.1 ± 1.7     88.5 ± 1.3       85.2 ± 1.7
          s por ejecución       4.5           32.5           46.1             69.5
        flores (100)           77.6 ± 0.8     75.3 ± 1.8     75.8 ± 3.8       76.7 ± 2.0
          s por ejecución       3.4           11.9           17.2             27.2
        ELPV (1515, todas)     82.1 ± 0.6     —              83.5 ± 0.9       —
          s por ejecución       9.2           —              124.0            —

    Lo que decidieron: en los frijoles (dominio lejano de ImageNet) la receta de antes no se
    separa de la cabeza sola (−0.4 puntos): 5 épocas a 1e-4 apenas mueven la red. Con
    ``one_cycle`` hasta 1e-3 y 8 épocas, el ajuste fino gana +4.1 puntos a la cabeza sola
    (emparejado por semillas e imágenes; con 90 imágenes de prueba y 3 semillas el intervalo
    aún incluye el 0). En las flores con 100 imágenes (dominio cercano) ninguna segunda fase
    pasa a la cabeza sola y ninguna pierde por el intervalo (−1.8 puntos ``oc8``, «empate»).
    En ELPV (lejano, 581 de prueba) ``oc8`` gana +1.4 puntos a la cabeza sola, 3 de 3 semillas,
    con intervalo [−0.4, +3.1]: «empate» por poco. El aumento no compensó: −3.3 puntos frente
    a ``oc8`` en los frijoles, +0.9 en las flores, y cuesta 1.5 veces más porque apaga la caché
    de características (los barridos de los cuadernos no podrían reutilizarlas); así que va
    apagado. La excepción medida: en PneumoniaMNIST con sus 4708 imágenes (64 px), ``oc8+aum``
    da 90.8 ± 1.5 frente a 86.4 ± 1.0 de ``oc8`` (+4.4 puntos, intervalo [−0.8, +10.2]) y gana a
    la cabeza sola (+5.2 [+2.4, +8.1]); 213 s por ejecución frente a 164. Con miles de imágenes
    de un dominio lejano, prueba ``augment="fotos"``. La mitad de los grupos sigue
    congelada (medido antes: empata con descongelar todo y cuesta menos de la mitad).

    Args:
        model: un modelo del catálogo con cabeza de tantas salidas como clases.
        train: un :class:`labkit.DataSplits` (se usan ``train`` y ``val``), o las imágenes de
            entrenamiento (y entonces ``val`` son las de validación).
        val: imágenes de validación (solo si ``train`` no es un ``DataSplits``).
        head_epochs: épocas de la fase de cabeza (0 = saltarla).
        epochs: épocas de ajuste fino (0 = saltarla).
        head_lr: tasa de la cabeza en la primera fase.
        lr: tasa de la cabeza en el ajuste fino (la máxima del calendario).
        ratio: razón entre tasas de niveles vecinos en el ajuste fino.
        unfreeze_to: grupos que siguen congelados en el ajuste fino (``None`` = por defecto).
        schedule: calendario de la tasa en el ajuste fino (ver :func:`labkit.fit`).
        warmup: fracción de pasos de subida del calendario.
        augment: aumento de datos en el ajuste fino (ver :func:`labkit.fit`).
        **kwargs: el resto de opciones de :func:`labkit.fit` (``batch_size``, ``seed``,
            ``patience``, ``restore_best``, ``monitor``, ``checkpoint``, ``optimizer``…).

    Returns:
        El historial de las dos fases unido, con la fase de cada época en ``history.phase``.
    """
    train, val = _split_data(train, val)
    depth = _phases(model, head_epochs, epochs, unfreeze_to)
    base = FitSettings.build(**kwargs)
    head, tune = phase_settings(base, head_epochs=head_epochs, epochs=epochs, head_lr=head_lr,
                                lr=lr, ratio=ratio, schedule=schedule, warmup=warmup,
                                augment=augment)
    check_sets(train, val)
    check_model(model, train, need_trainable=False)
    check_classes(model, train)
    attach_classes(model, train)
    best = BestTracker(head.monitor, head.min_delta, head.checkpoint, list(train.classes))
    phases = [Phase(train, val, head, head_depth(model))] if head_epochs else []
    phases += [Phase(train, val, tune, depth)] if epochs else []
    return run_phases(model, phases, best, say=print)
