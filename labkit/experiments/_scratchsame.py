"""Desde cero con la misma arquitectura: la línea base «como la de d2l» para los barridos.

:func:`labkit.experiments.run_scratch` entrena la CNN pequeña del curso. Para comparar la
transferencia con entrenar desde cero **en igualdad**, la referencia justa es la **misma red**
(p. ej. EfficientNet-Lite0) con pesos al azar, a la misma resolución y con el mismo presupuesto
de pasos y aumento que se declare en la receta (``scratch_*`` de
:class:`labkit.experiments.Recipe`). Las filas que devuelve :func:`scratch_same_sweep` se suman a
las de :func:`labkit.experiments.data_size_sweep` (método :data:`METHOD`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..base._config import seed_everything
from ..base._errors import LabkitError
from ..data._data import DataSplits
from ..models._models import create_model
from ._runs import Recipe, _fit, _result, scratch_epochs

__all__ = ["METHOD", "LABEL", "describe", "run_scratch_same", "scratch_same_sweep"]

METHOD = "desde_cero_misma_red"
"""Nombre del método en las filas (columna ``method``)."""

LABEL = "desde cero (misma red)"
"""Su nombre en español, para tablas y leyendas."""


def describe(recipe: Recipe | None = None, scratch: Recipe | None = None,
             model: str = "efficientnet_lite0") -> str:
    """La receta del barrido en español, con la línea de «desde cero» para la misma red.

    ``print(receta)`` describe la CNN pequeña de :func:`labkit.experiments.run_scratch`; esta
    función escribe lo mismo para la extracción y el ajuste fino y cambia esa línea por la de
    :func:`run_scratch_same`.

    Args:
        recipe: la receta de la transferencia (``None`` = :class:`labkit.experiments.Recipe`).
        scratch: la receta de la red desde cero, si es otra (p. ej. con lotes mayores);
            ``None`` = ``recipe``.
        model: el nombre de la red del catálogo.

    Returns:
        Unas líneas de texto para imprimir en un cuaderno.
    """
    r = recipe or Recipe()
    s = scratch or r
    if not isinstance(r, Recipe) or not isinstance(s, Recipe):
        raise LabkitError("describe necesita recetas de labkit.experiments.Recipe.")
    own = (f"Desde cero: la misma red ({model}) con pesos al azar, entrenada entera: unos "
           f"{s.scratch_steps} pasos ({s.scratch_min_epochs}–{s.scratch_max_epochs} épocas) en "
           f"lotes de {s.batch_size}, tasa {s.scratch_lr:g}, "
           f"{'con' if s.scratch_augment else 'sin'} aumento de datos.")
    return "\n".join(own if line.startswith("Desde cero:") else line
                     for line in r.describe().splitlines())


def run_scratch_same(data: DataSplits, n: int, seed: int = 0,
                     model: str = "efficientnet_lite0", recipe: Recipe | None = None,
                     device: torch.device | str | None = None) -> dict:
    """La misma red que la transferencia, con pesos al azar, entrenada entera desde cero.

    Args:
        data: particiones de imágenes (a la resolución de la transferencia, para ser justa).
        n: imágenes de entrenamiento (el mismo subconjunto estratificado que los demás métodos).
        seed: semilla del subconjunto, de los pesos iniciales, del aumento y de los lotes.
        model: nombre del catálogo (``labkit.MODELS``).
        recipe: la receta: épocas por :func:`labkit.experiments.scratch_epochs`, tasa
            ``scratch_lr`` y aumento ``scratch_augment``.
        device: dispositivo.

    Returns:
        ``{"test_acc", "val_acc", "train_seconds", "epochs", "test_correct"}``.
    """
    if not isinstance(data, DataSplits):
        raise LabkitError(f"run_scratch_same necesita un DataSplits (p. ej. labkit.flowers()); "
                          f"llegó {type(data).__name__}.")
    r = recipe or Recipe()
    seed_everything(seed)
    net = create_model(model, num_classes=data.train.num_classes, pretrained=False)
    h = _fit(net, data.train.take(n, seed), data.val, scratch_epochs(n, r), seed, r,
             lr=r.scratch_lr, augment=r.scratch_augment, device=device)
    return _result(net, data.test, h)


def scratch_same_sweep(data: DataSplits, sizes: Sequence[int], seeds: Sequence[int] = (0, 1, 2),
                       model: str = "efficientnet_lite0", recipe: Recipe | None = None,
                       device: torch.device | str | None = None) -> list[dict]:
    """:func:`run_scratch_same` en cada tamaño y semilla, en filas como las de los barridos.

    Args:
        data: particiones de imágenes.
        sizes: números de imágenes de entrenamiento (como mucho ``len(data.train)``).
        seeds: semillas.
        model: nombre del catálogo.
        recipe: la receta.
        device: dispositivo.

    Returns:
        Una fila por ejecución: ``method`` (:data:`METHOD`), ``n_train``, ``seed``, ``model`` y
        lo que devuelve :func:`run_scratch_same`.
    """
    sizes, seeds = [int(n) for n in sizes], [int(s) for s in seeds]
    if not sizes or not seeds:
        raise LabkitError("scratch_same_sweep necesita al menos un tamaño y una semilla.")
    too_big = [n for n in sizes if not 1 <= n <= len(data.train)]
    if too_big:
        raise LabkitError(f"Tamaños fuera de rango: {too_big}; el entrenamiento tiene "
                          f"{len(data.train)} imágenes.")
    return [{"method": METHOD, "n_train": n, "seed": s, "model": model,
             **run_scratch_same(data, n, s, model=model, recipe=recipe, device=device)}
            for n in sizes for s in seeds]
