"""Evaluación y predicción: pérdida y exactitud, clases predichas y matriz de confusión.

Ejemplo::

    labkit.evaluate(modelo, datos.test)              # {"loss": ..., "accuracy": ...}
    aciertos = labkit.training.per_image_correct(modelo, datos.test)  # para labkit.compare
    etiquetas, probabilidades = labkit.predict(modelo, datos.test)
    labkit.confusion_matrix(datos.test.labels, etiquetas, datos.test.num_classes)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..base._errors import LabkitError
from ..base._intervals import majority_share
from ..base._speed import place
from ..base._validate import check_int
from ..data._data import ImageSet
from ..models._groups import split_at
from ..models._models import model_info
from ._extraction import _resolve_device
from ._features import FeatureSet
from ._loop import Loop, all_logits, loss_and_accuracy, too_small_advice
from ._trainargs import (
    check_device,
    check_fingerprint,
    check_labels,
    check_model,
    class_permutation,
)

__all__ = ["evaluate", "predict", "per_image_correct", "confusion_matrix", "class_metrics",
           "class_weight_tensor", "majority_baseline"]

Data = ImageSet | FeatureSet

_RAW_FLOAT_LIMIT = 20.0
"""Un tensor ``float`` con valores mayores que esto no está normalizado (parece 0–255)."""


def _check_float_images(x: torch.Tensor) -> None:
    """Un tensor ``float`` debe venir ya normalizado: 0–255 en ``float`` es un error común."""
    if x.numel() and float(x.detach().abs().max()) > _RAW_FLOAT_LIMIT:
        raise LabkitError(
            f"Las imágenes son un tensor {x.dtype} con valores hasta "
            f"{float(x.detach().max()):.0f}: parecen píxeles 0–255 sin normalizar. Pasa el "
            "tensor uint8 (labkit lo normaliza solo) o normalízalo con "
            "labkit.normalize(imagenes_uint8, media, desviacion).")


def _eval_inputs(model: nn.Module, data: Data | torch.Tensor) -> tuple[nn.Module, torch.Tensor,
                                                                         bool]:
    """El módulo a ejecutar, sus entradas y si son imágenes sin normalizar."""
    if isinstance(data, FeatureSet):
        check_fingerprint(model, data)
        return split_at(model, data.depth)[1], data.features, False
    if isinstance(data, ImageSet):
        return model, data.images, True
    if isinstance(data, torch.Tensor) and data.ndim == 4 and data.shape[1] == 3:
        if data.dtype != torch.uint8:
            if not data.is_floating_point():
                raise LabkitError(f"Las imágenes deben ser uint8 (0–255) o float ya "
                                  f"normalizado; llegó un tensor {data.dtype}.")
            _check_float_images(data)
        return model, data, data.dtype == torch.uint8
    raise LabkitError("Los datos deben ser un ImageSet, un FeatureSet o un tensor de imágenes "
                      f"[N, 3, H, W]; llegó {type(data).__name__}"
                      f"{' de forma ' + str(tuple(data.shape)) if hasattr(data, 'shape') else ''}.")


def _logits_for(model: nn.Module, data: Data | torch.Tensor, batch_size: int | None,
                device: torch.device | str | None) -> torch.Tensor:
    """Salidas del modelo para todos los datos (en su dispositivo, o en ``device``)."""
    if batch_size is not None:
        check_int("batch_size", batch_size, minimum=1)
    dev = _resolve_device(model, check_device(device))
    forward, x, raw = _eval_inputs(model, data)
    if len(x) == 0:
        raise LabkitError("No hay datos que evaluar: el conjunto está vacío.")
    place(model, dev)
    try:
        return all_logits(Loop(model, forward, dev, raw), x, batch_size)
    except (RuntimeError, MemoryError) as err:
        advice = too_small_advice(err, x, model) or (
            " Si falta memoria, pasa un batch_size menor." if isinstance(err, MemoryError)
            or type(err).__name__ == "OutOfMemoryError" else "")
        raise LabkitError(f"El modelo falló al calcular sus salidas: {type(err).__name__}: "
                          f"{str(err)[:300]}.{advice}") from err


def evaluate(model: nn.Module, data: Data, batch_size: int | None = None,
             device: torch.device | str | None = None, *,
             per_image: bool = False) -> dict[str, object]:
    """Pérdida (entropía cruzada) y exactitud del modelo sobre un conjunto.

    Args:
        model: un modelo del catálogo.
        data: ``ImageSet`` o ``FeatureSet`` (con las mismas clases que la cabeza).
        batch_size: tamaño del lote (``None`` = automático: pequeño en CPU, grande en GPU).
        device: dispositivo; ``None`` = el del modelo.
        per_image: añade ``"correct"``: un tensor ``bool [N]`` con el acierto de cada imagen
            (sale de las mismas predicciones: no cuesta otra pasada). Es lo que necesita
            :func:`labkit.experiments.compare` para comparar emparejado sobre la misma prueba.

    Las clases de ``data`` se comparan con las que lleva el modelo (si las sabe: las de
    ``create_model(num_classes=datos)``, las del primer ``fit`` o las de un modelo cargado):
    otras clases son un error; las mismas en otro orden se reordenan con un aviso.

    Returns:
        ``{"loss": ..., "accuracy": ..., "balanced_accuracy": ..., "recall": {clase: ...}}``:
        exactitud, exactitud balanceada (media de la sensibilidad de las clases presentes) y
        sensibilidad (recall) por clase, de 0 a 1 (``nan`` para una clase sin ejemplos);
        la referencia de la clase mayoritaria (``"majority_class"`` y ``"majority_accuracy"``:
        lo que acertaría un modelo que siempre dijera esa clase, ver
        :func:`majority_baseline`); y ``"correct"`` si ``per_image``.
    """
    if not isinstance(data, (ImageSet, FeatureSet)):
        raise LabkitError(f"evaluate necesita un ImageSet o un FeatureSet; llegó "
                          f"{type(data).__name__}.")
    check_model(model, data, need_trainable=False)
    check_labels(data, "evaluación")
    order = class_permutation(model, data)
    logits = _logits_for(model, data, batch_size, device)
    if order is not None:
        logits = logits[:, order]
    loss, acc = loss_and_accuracy(logits, data.labels)
    predicted = logits.argmax(1).cpu()
    out = {"loss": loss, "accuracy": acc,
           **class_metrics(data.labels, predicted, list(data.classes)),
           **majority_baseline(data.labels, list(data.classes))}
    if per_image:
        out["correct"] = predicted == data.labels.cpu()
    return out


def per_image_correct(model: nn.Module, data: Data, batch_size: int | None = None,
                      device: torch.device | str | None = None) -> torch.Tensor:
    """El acierto de cada imagen: lo que :func:`labkit.experiments.compare` empareja.

    Args:
        model: un modelo del catálogo.
        data: ``ImageSet`` o ``FeatureSet`` con etiquetas.
        batch_size: tamaño del lote (``None`` = automático).
        device: dispositivo; ``None`` = el del modelo.

    Returns:
        Un tensor ``bool [N]`` en CPU: ``True`` donde la clase predicha es la real.
    """
    return evaluate(model, data, batch_size, device, per_image=True)["correct"]


def predict(model: nn.Module, data: Data | torch.Tensor, batch_size: int | None = None,
            device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Clase predicha y probabilidades para cada imagen.

    Args:
        model: un modelo del catálogo.
        data: ``ImageSet``, ``FeatureSet`` o tensor ``[N, 3, H, W]`` (``uint8``, o ``float`` ya
            normalizado; un ``float`` con valores 0–255 es un error).
        batch_size: tamaño del lote (``None`` = automático: pequeño en CPU, grande en GPU).
        device: dispositivo; ``None`` = el del modelo.

    Returns:
        ``(etiquetas [N] int64, probabilidades [N, clases] float32)``, en CPU, en el orden de
        ``data.classes``.

    Raises:
        LabkitError: el modelo sabe sus clases y los datos son de otras. Si son las mismas en
            otro orden, se reordenan las salidas con un
            :class:`labkit.training.ClassOrderWarning`.
    """
    order = None
    if isinstance(data, (ImageSet, FeatureSet)) and isinstance(model, nn.Module) \
            and model_info(model).num_classes == data.num_classes:
        order = class_permutation(model, data)
    probs = _logits_for(model, data, batch_size, device).softmax(1).cpu()
    if order is not None:
        probs = probs[:, order]
    return probs.argmax(1), probs


def confusion_matrix(y_true: torch.Tensor | Sequence[int], y_pred: torch.Tensor | Sequence[int],
                     num_classes: int) -> torch.Tensor:
    """La matriz de confusión: fila = clase real, columna = clase predicha.

    Args:
        y_true: etiquetas reales.
        y_pred: etiquetas predichas.
        num_classes: número de clases.

    Returns:
        Un tensor ``int64 [num_classes, num_classes]`` con los recuentos.
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    t = torch.as_tensor(y_true, dtype=torch.long).flatten().cpu()
    p = torch.as_tensor(y_pred, dtype=torch.long).flatten().cpu()
    if t.shape != p.shape:
        raise LabkitError(f"Hay {len(t)} etiquetas reales y {len(p)} predichas: deben ser "
                          "las mismas.")
    for v in (t, p):
        if v.numel() and (int(v.min()) < 0 or int(v.max()) >= num_classes):
            raise LabkitError(f"Hay etiquetas fuera de 0…{num_classes - 1}.")
    counts = torch.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return counts.view(num_classes, num_classes)
def class_metrics(y_true: torch.Tensor | Sequence[int], y_pred: torch.Tensor | Sequence[int],
                  classes: Sequence[str]) -> dict[str, object]:
    """Sensibilidad (recall) por clase y exactitud balanceada.

    Args:
        y_true: etiquetas reales.
        y_pred: etiquetas predichas.
        classes: nombres de las clases, en el orden de las etiquetas.

    Returns:
        ``{"balanced_accuracy": float, "recall": {clase: float}}``; una clase sin ejemplos
        reales tiene recall ``nan`` y no cuenta en la media.
    """
    cm = confusion_matrix(y_true, y_pred, len(classes)).double()
    support = cm.sum(1)
    recall = cm.diagonal() / support.clamp(min=1)
    recall[support == 0] = float("nan")
    present = recall[support > 0]
    balanced = float(present.mean()) if len(present) else float("nan")
    return {"balanced_accuracy": balanced, "recall": dict(zip(classes, recall.tolist()))}


def majority_baseline(labels: object, classes: Sequence[str]) -> dict[str, object]:
    """Lo que acierta quien siempre dice la clase más frecuente: el suelo de la exactitud.

    En una prueba desequilibrada (p. ej. 65 % de células sanas) un modelo inútil que siempre
    responde «sana» ya tiene 65 % de exactitud (y 50 % de exactitud balanceada con dos clases):
    una exactitud solo dice algo comparada con este suelo.

    Args:
        labels: etiquetas enteras de las imágenes (tensor, array o lista).
        classes: nombres de las clases, en el orden de las etiquetas.

    Returns:
        ``{"majority_class": nombre, "majority_accuracy": fracción de 0 a 1}`` (vacío si no
        hay etiquetas).
    """
    top, share, _, n_labels = majority_share(labels)
    if n_labels == 0:
        return {}
    name = classes[top] if 0 <= top < len(classes) else str(top)
    return {"majority_class": name, "majority_accuracy": share}


def class_weight_tensor(class_weights: str | Sequence[float] | None,
                        train: Data) -> torch.Tensor | None:
    """Convierte ``class_weights`` de :func:`fit` en un tensor ``float32 [clases]``.

    Args:
        class_weights: ``None``, ``"balanced"`` o un peso positivo por clase.
        train: el conjunto de entrenamiento (sus recuentos, para ``"balanced"``).

    Returns:
        El tensor de pesos, o ``None`` si todas las clases pesan igual.
    """
    k = train.num_classes
    if class_weights is None:
        return None
    if isinstance(class_weights, str):
        if class_weights != "balanced":
            raise LabkitError(f"class_weights={class_weights!r}: usa None, 'balanced' o una "
                              f"lista con {k} pesos positivos.")
        counts = torch.bincount(train.labels, minlength=k).double()
        return (len(train.labels) / (k * counts.clamp(min=1))).float()
    try:
        weight = torch.as_tensor(list(class_weights), dtype=torch.float32)
    except (TypeError, ValueError) as exc:
        raise LabkitError(f"class_weights={class_weights!r}: usa None, 'balanced' o una lista "
                          f"con {k} pesos positivos.") from exc
    if weight.shape != (k,) or not bool(torch.isfinite(weight).all() and (weight > 0).all()):
        raise LabkitError(f"class_weights={class_weights!r}: hacen falta {k} pesos positivos y "
                          f"finitos, uno por clase ({', '.join(train.classes)}).")
    return weight
