"""La receta en dos fases, ``fine_tune``: primero la cabeza, luego ajuste fino.

Es la receta de fastai, con los valores por defecto elegidos midiendo en imágenes reales (ver el
docstring de :func:`fine_tune`): ``labkit.fine_tune(modelo, datos)`` sin más argumentos es lo que
debería usar quien llega con una carpeta de fotos.
"""

from __future__ import annotations

import dataclasses

from torch import nn

from .callbacks import History
from .data import DataSplits, ImageSet
from .errors import LabkitError
from .features import FeatureSet
from .freezing import default_fine_tune_depth, freeze, freeze_to, head_depth
from .loop import BestTracker
from .schedules import DEFAULT_WARMUP
from .trainargs import attach_classes, check_classes, check_model, check_sets
from .training import FitSettings, _run_fit
from .validate import check_int

__all__ = ["fine_tune", "FINE_TUNE_DEFAULTS"]

FINE_TUNE_DEFAULTS = {"head_epochs": 3, "epochs": 5, "head_lr": 1e-3, "lr": 1e-4,
                      "ratio": 10.0, "schedule": "constante", "augment": False}
"""Los valores por defecto de :func:`fine_tune` (ver allí las cifras que los eligieron)."""


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


def fine_tune(model: nn.Module, train: DataSplits | ImageSet, val: ImageSet | None = None, *,
              head_epochs: int = 3, epochs: int = 5, head_lr: float = 1e-3, lr: float = 1e-4,
              ratio: float = 10.0, unfreeze_to: int | None = None,
              schedule: str | None = "constante", warmup: float = DEFAULT_WARMUP,
              augment: object = False, **kwargs: object) -> History:
    """La receta en dos fases (como ``fine_tune`` de fastai), con una sola mejor época.

    1. Fase ``"cabeza"``: :func:`labkit.freeze` (todo menos la cabeza) y ``head_epochs`` épocas
       con ``head_lr``, con caché de características (sin aumento: es casi gratis).
    2. Fase ``"ajuste fino"``: ``freeze_to(model, unfreeze_to)`` y ``epochs`` épocas con tasas
       discriminativas (cabeza ``lr``, ``ratio`` entre niveles), optimizador nuevo, el
       calendario ``schedule`` y el aumento ``augment``.

    Una sola mejor época para las dos fases: los pesos restaurados y el ``checkpoint`` son los
    mejores de toda la ejecución, y ``history.best_epoch`` cuenta las épocas de las dos fases.
    ``patience`` se cuenta en cada fase. Si se interrumpe la primera fase, no se hace la segunda.

    ``unfreeze_to=None`` usa :func:`labkit.freezing.default_fine_tune_depth` (la primera mitad
    de los grupos congelada), la misma profundidad que los barridos y el playground.

    **Cómo se eligieron los valores por defecto** (medido en imágenes reales, no en el conjunto
    generado: EfficientNet-Lite0 preentrenado, 300 imágenes de entrenamiento, CPU, exactitud en
    la prueba completa, media ± desviación sobre 4 semillas salvo donde se indica; ELPV
    funcional/defectuosa a 96 px, 581 de prueba; PneumoniaMNIST a 64 px, 624 de prueba). Todas
    con 3 épocas de cabeza (``head_lr=1e-3``) y 5 de ajuste fino (``lr=1e-4``, ``ratio=10``)::

        receta                                   ELPV              PneumoniaMNIST
        solo cabeza (8 épocas)                   77.1 ± 1.0        85.5 ± 2.1
        mitad congelada, constante  ← defecto    78.5 ± 1.0        85.5 ± 1.4
        mitad congelada, one_cycle               78.3 ± 1.0        85.1 ± 1.9
        mitad congelada, one_cycle + aumento     77.4 ± 1.3 (2)    84.8 ± 0.7 (2)
        todo descongelado, one_cycle             77.9 ± 0.9 (2)    85.5 ± 0.6 (2)

    Lo que decidieron: congelar la mitad empata o gana a descongelar todo y cuesta menos de la
    mitad (unos 90 s frente a 230 s por ejecución en ELPV); el aumento no ayudó con 5 épocas en
    ninguno de los dos y apaga la caché (≈2× más lento en ELPV), así que va apagado;
    ``one_cycle`` y la tasa constante empatan (diferencia por semilla −0.3 ± 1.2 puntos en ELPV
    y −0.4 ± 1.7 en PneumoniaMNIST, dentro del ruido de ±3 puntos de 600 imágenes de prueba), y
    se quedó la constante, la más sencilla y con menos dispersión. Frente a la cabeza sola, el
    ajuste fino ganó en ELPV (+1.4 ± 1.9 puntos por semilla) y empató en PneumoniaMNIST (cuya
    prueba está desplazada respecto al entrenamiento): no siempre compensa, y se mide.

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
    try:
        base = FitSettings(**kwargs)
    except TypeError as err:
        raise LabkitError(f"fine_tune: opción desconocida ({err}). Mira help(labkit.fit).") from err
    head = dataclasses.replace(base, epochs=max(head_epochs, 1), lr=head_lr, ratio=1.0,
                               phase="cabeza").check()
    tune = dataclasses.replace(base, epochs=max(epochs, 1), lr=lr, ratio=ratio,
                               schedule=schedule, warmup=warmup, augment=augment,
                               phase="ajuste fino").check()
    check_sets(train, val)
    check_model(model, train, need_trainable=False)
    check_classes(model, train)
    attach_classes(model, train)
    best = BestTracker(head.monitor, head.min_delta, head.checkpoint, list(train.classes))
    history = History()
    if head_epochs:
        freeze(model)
        _run_fit(model, train, val, head, best, history)
        if history.interrupted:
            return history
    if epochs:
        freeze_to(model, depth)
        _run_fit(model, train, val, tune, best, history)
    return history
