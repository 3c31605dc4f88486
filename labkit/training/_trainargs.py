"""Las comprobaciones de ``fit``, ``fine_tune`` y ``lr_find`` antes de entrenar nada.

Todo lo que puede fallar por un argumento (tipos, rangos, datos incompatibles con el modelo,
dispositivo que no existe, carpeta del checkpoint sin permiso de escritura) se comprueba aquí,
antes de la primera época: un error a mitad de un entrenamiento largo cuesta tiempo.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from ..base._errors import LabkitError
from ..base._validate import check_choice, check_float, check_int, check_path
from ..base._writers import write_error
from ..data._data import ImageSet
from ..models._freezing import frozen_depth
from ..models._groups import layer_groups
from ..models._models import model_info
from ._best import MONITORS
from ._features import FeatureCache, FeatureSet
from ._optim import check_lr, check_ratio, check_tiers

__all__ = [
    "OPTIMIZERS", "check_rates", "check_counts", "check_options", "check_sets", "check_labels",
    "check_model", "check_feature_sets", "check_device", "check_checkpoint", "check_fingerprint",
    "check_classes", "class_permutation", "attach_classes", "ClassOrderWarning",
]

OPTIMIZERS = ("adam", "adamw", "sgd")
"""Optimizadores que acepta ``fit`` (``"sgd"`` lleva momento 0.9)."""


Data = ImageSet | FeatureSet


def check_rates(lr: object, ratio: object, name: str = "lr") -> tuple[float, float]:
    """La tasa positiva y finita; la razón entre tasas, 1 o más (:mod:`labkit.training`)."""
    return check_lr(lr, name), check_ratio(ratio)


def check_counts(epochs: object, batch_size: object, tiers: object) -> None:
    """Épocas, tamaño del lote y niveles de tasas: enteros positivos."""
    check_int("epochs", epochs, minimum=1, expected="un número de épocas entero positivo "
                                                    "(p. ej. 10)")
    check_int("batch_size", batch_size, minimum=1, expected="un tamaño del lote entero "
                                                            "positivo (p. ej. 32)")
    check_tiers(tiers)


def check_options(optimizer: object, weight_decay: object, patience: object, min_delta: object,
                  cache: object, monitor: object) -> None:
    """Optimizador, decaimiento de pesos, paciencia, mejora mínima, caché y métrica vigilada."""
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_float("weight_decay", weight_decay, minimum=0)
    if patience is not None:
        check_int("patience", patience, minimum=1, expected=(
            "la paciencia (épocas sin mejorar antes de parar): un entero ≥ 1, o None para no "
            "parar antes"))
    check_float("min_delta", min_delta, minimum=0, expected="una mejora mínima 0 o positiva")
    if not (cache in ("auto", True, False) or isinstance(cache, FeatureCache)):
        raise LabkitError(f"cache={cache!r}: usa 'auto', True, False o una labkit.FeatureCache.")
    check_choice("monitor", monitor, MONITORS)


def check_labels(data: Data, label: str) -> None:
    """Etiquetas enteras en ``range(num_classes)`` (antes de contar por clase)."""
    labels = data.labels
    if not isinstance(labels, torch.Tensor) or labels.is_floating_point() or labels.is_complex():
        raise LabkitError(f"Las etiquetas de {label} deben ser un tensor de enteros; llegó "
                          f"{getattr(labels, 'dtype', type(labels).__name__)}.")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= data.num_classes):
        raise LabkitError(f"Hay etiquetas de {label} fuera de rango (de {int(labels.min())} a "
                          f"{int(labels.max())}) para {data.num_classes} clases: deben ir de 0 "
                          f"a {data.num_classes - 1}.")


def _check_kind(data: object, label: str) -> None:
    if not isinstance(data, (ImageSet, FeatureSet)):
        raise LabkitError(f"El conjunto de {label} debe ser un ImageSet (o un FeatureSet); "
                          f"llegó {type(data).__name__}.")
    if len(data) == 0:
        raise LabkitError(f"El conjunto de {label} está vacío: no hay con qué entrenar ni "
                          "medir. Revisa la carpeta o el tamaño pedido.")
    check_labels(data, label)


def check_sets(train: Data, val: Data) -> None:
    """Los dos conjuntos: del tipo correcto, no vacíos, con las mismas clases y todas en val."""
    _check_kind(train, "entrenamiento")
    _check_kind(val, "validación")
    if type(train) is not type(val):
        raise LabkitError("Entrenamiento y validación deben ser del mismo tipo: los dos ImageSet "
                          "o los dos FeatureSet.")
    if list(train.classes) != list(val.classes):
        raise LabkitError(f"Las clases de entrenamiento {list(train.classes)} y de validación "
                          f"{list(val.classes)} no coinciden (ni en nombre ni en orden).")
    val_counts = val.class_counts()
    missing = [c for c, n in train.class_counts().items() if n > 0 and val_counts[c] == 0]
    if missing:
        raise LabkitError(f"La validación no tiene ninguna imagen de la clase "
                          f"{', '.join(repr(c) for c in missing)} (que sí está en "
                          "entrenamiento): así no se puede medir. Usa una validación mayor o "
                          "estratificada.")


def check_model(model: nn.Module, data: Data, need_trainable: bool = True) -> None:
    """La cabeza tiene tantas salidas como clases y (si se entrena) algo entrenable."""
    if not isinstance(model, nn.Module):
        raise LabkitError(f"model: llegó {type(model).__name__}; se espera un modelo de "
                          "labkit.create_model(...).")
    info = model_info(model)
    if int(info.num_classes) != data.num_classes:
        raise LabkitError(
            f"La cabeza del modelo tiene {info.num_classes} salidas y los datos tienen "
            f"{data.num_classes} clases. Crea el modelo con labkit.create_model('{info.name}', "
            f"num_classes={data.num_classes}) o usa labkit.replace_head(modelo, "
            f"{data.num_classes}).")
    if need_trainable and not any(p.requires_grad for p in model.parameters()):
        raise LabkitError("No hay nada que entrenar: todos los grupos están congelados. Usa "
                          "labkit.freeze(modelo) (solo la cabeza) o labkit.freeze_to(modelo, "
                          f"profundidad) con una profundidad menor que "
                          f"{len(layer_groups(model))}.")


class ClassOrderWarning(UserWarning):
    """Aviso: los datos tienen las clases del modelo en otro orden y se reordenan las salidas."""


def _names(model: nn.Module) -> list[str]:
    """Los nombres de clase que lleva el modelo (``[]`` si no los sabe)."""
    return list(model_info(model).categories)


def check_classes(model: nn.Module, data: Data, label: str = "entrenamiento") -> None:
    """Las clases de los datos deben ser las del modelo, con el mismo orden (si el modelo las sabe).

    Un modelo sin nombres (``create_model(..., num_classes=2)``) acepta cualquier dato.
    """
    names, classes = _names(model), list(data.classes)
    if not names or names == classes:
        return
    if sorted(names) == sorted(classes):
        raise LabkitError(
            f"Los datos de {label} tienen las clases del modelo en otro orden ({classes}; el "
            f"modelo: {names}): la salida 0 del modelo es «{names[0]}» y para estos datos la "
            f"etiqueta 0 es «{classes[0]}». Carga los datos con el orden del modelo o empieza "
            f"con una cabeza nueva: labkit.replace_head(modelo, {len(classes)}).")
    raise LabkitError(
        f"El modelo es de las clases {names[:10]} y los datos de {label} tienen {classes[:10]}: "
        "sus salidas no significan esas clases. Para entrenar en estas clases, empieza con una "
        f"cabeza nueva: labkit.replace_head(modelo, {len(classes)}); si son las mismas con otro "
        "nombre, pon al modelo los nombres nuevos: "
        "labkit.model_info(modelo).categories = list(datos.classes).")


def class_permutation(model: nn.Module, data: Data) -> list[int] | None:
    """Para evaluar: qué salida del modelo corresponde a cada clase de los datos.

    Returns:
        ``None`` si coinciden (o el modelo no sabe sus clases); si son las mismas en otro orden,
        la lista de índices del modelo en el orden de los datos (con un
        :class:`ClassOrderWarning`).

    Raises:
        LabkitError: el modelo es de otras clases.
    """
    names, classes = _names(model), list(data.classes)
    if not names or names == classes:
        return None
    if sorted(names) == sorted(classes) and len(set(names)) == len(names):
        warnings.warn(
            f"Los datos tienen las clases del modelo en otro orden ({classes}; el modelo: "
            f"{names}): reordeno las salidas del modelo para que cada una vaya con su clase.",
            ClassOrderWarning, stacklevel=3)
        return [names.index(c) for c in classes]
    check_classes(model, data, "evaluación")
    return None


def attach_classes(model: nn.Module, data: Data) -> None:
    """Un modelo sin nombres de clase toma los de los datos con que se entrena."""
    info = model_info(model)
    if not info.categories and len(data.classes) == info.num_classes:
        info.categories = list(data.classes)


def check_feature_sets(model: nn.Module, train: Data, val: Data, augment: bool) -> None:
    """Con ``FeatureSet``: sin aumento, prefijo congelado y calculado con los pesos actuales."""
    if not isinstance(train, FeatureSet):
        return
    if augment:
        raise LabkitError("El aumento de datos necesita las imágenes: con características ya "
                          "calculadas (FeatureSet) no se puede. Pasa ImageSet o augment=False.")
    if train.depth != val.depth:
        raise LabkitError(f"Las características de entrenamiento (profundidad {train.depth}) y "
                          f"de validación ({val.depth}) salen de prefijos distintos.")
    if frozen_depth(model) < train.depth:
        raise LabkitError(f"Las características salen de los primeros {train.depth} grupos, "
                          f"pero el modelo solo tiene {frozen_depth(model)} congelados: usa "
                          f"labkit.freeze_to(modelo, {train.depth}) (o más).")
    check_fingerprint(model, train, val)


def check_fingerprint(model: nn.Module, *sets: FeatureSet) -> None:
    """Las características deben venir de los pesos actuales del prefijo del modelo."""
    from ._extraction import prefix_fingerprint

    current = prefix_fingerprint(model, sets[0].depth)
    if any(s.fingerprint != current for s in sets):
        raise LabkitError("Estas características se calcularon con otros pesos (otro modelo o "
                          "un prefijo que cambió después): vuelve a calcularlas con "
                          "labkit.FeatureSet.extract(modelo, datos).")


def check_device(device: object) -> torch.device | None:
    """Un dispositivo que existe en esta máquina (``None`` = el por defecto)."""
    if device is None:
        return None
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise LabkitError(f"device: llegó {device!r}; se espera 'cpu', 'cuda', 'mps' o None "
                          "(el mejor disponible).") from err
    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": getattr(torch.backends, "mps", None) is not None
                 and torch.backends.mps.is_available()}
    if not available.get(dev.type, False):
        raise LabkitError(f"device={device!r}: este equipo no tiene ese dispositivo. Usa "
                          "device=None (elige solo: CUDA, MPS o CPU) o device='cpu'.")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise LabkitError(f"device={device!r}: solo hay {torch.cuda.device_count()} GPU.")
    return dev


def check_checkpoint(path: object) -> Path | None:
    """La ruta del checkpoint: nueva (no pisa nada), no es una carpeta y se puede escribir.

    ``fit`` y ``fine_tune`` solo reemplazan el checkpoint que ellos mismos escribieron en esta
    ejecución (:class:`labkit.training.BestTracker`): un archivo que ya existe al empezar (un modelo
    exportado, un cuaderno, el checkpoint de otra ejecución) no se toca.
    """
    if path is None:
        return None
    path = check_path("checkpoint", path)
    if path.is_dir():
        raise LabkitError(f"checkpoint={str(path)!r} es una carpeta: da la ruta de un archivo, "
                          "p. ej. 'modelos/mejor.pt'.")
    if path.exists() or path.is_symlink():
        raise LabkitError(f"checkpoint={str(path)!r}: ese archivo ya existe y no lo reemplazo "
                          "(fit y fine_tune solo escriben un checkpoint nuevo y luego lo "
                          "actualizan en la misma ejecución). Elige otro nombre, p. ej. "
                          f"'{path.with_name(path.stem + '_2' + (path.suffix or '.pt'))}', o "
                          "borra ese archivo si ya no lo quieres.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=".labkit-prueba-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise write_error(path, err, "el checkpoint") from err
    return path
