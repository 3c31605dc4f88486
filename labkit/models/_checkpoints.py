"""Guardar y cargar pesos entrenados (checkpoints) sin riesgo de dejar archivos a medias.

Un checkpoint de labkit guarda el ``state_dict`` junto con el nombre del modelo y su familia, su
número de clases, los nombres de las clases, su preprocesado (media, desviación y tamaños) y una
suma de control de todo ello (:mod:`labkit.models`). Se escribe en un archivo temporal de
la misma carpeta y luego se renombra (``os.replace``): si algo falla a mitad, el checkpoint
anterior queda intacto; con ``exclusive=True`` (``export`` y el primer guardado de ``fit``) solo
se crea si no existía (:func:`labkit.base.exclusive_write`). Se lee solo con pesos
(``weights_only=True``), sin ejecutar código del archivo, y antes de crear nada se comprueba:
suma de control, nombres de clase tantos como salidas de la cabeza, número de
clases que corresponde a una capa del archivo, preprocesado razonable, pesos sin NaN ni
infinitos, mismo modelo.

``labkit.export`` / ``labkit.load_model`` (:mod:`labkit.models`) usan este mismo formato.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..base._errors import LabkitError
from ..base._fileio import atomic_write
from ..base._writers import (
    check_local_path,
    exclusive_write,
    existing_file_error,
    looks_like_checkpoint,
    write_error,
)
from ._checkpointmeta import check_head_size, check_preprocessing, checksum, verify_checksum
from ._models import MODELS, create_model, model_info, replace_head

__all__ = ["save_checkpoint", "load_checkpoint", "read_checkpoint", "load_into",
           "write_checkpoint"]

_FORMAT = "labkit-checkpoint"
_VERSION = 3
_ALLOWED = (str, int, float, bool, type(None), torch.Tensor)


def _check_meta(value: object, key: str) -> None:
    """Los metadatos deben ser datos simples (los únicos que ``weights_only=True`` admite)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_meta(item, key)
    elif isinstance(value, dict):
        for k, item in value.items():
            _check_meta(k, key)
            _check_meta(item, key)
    elif not isinstance(value, _ALLOWED):
        raise LabkitError(f"El metadato '{key}' es de tipo {type(value).__name__}: en un "
                          "checkpoint solo caben textos, números, listas, diccionarios y tensores.")


def _check_classes(classes: object, num_classes: int, where: str) -> list[str]:
    """Nombres de clase: una lista de textos, vacía o con uno por salida de la cabeza."""
    if isinstance(classes, (str, bytes)) or not isinstance(classes, (list, tuple)) or not all(
            isinstance(c, str) for c in classes):
        raise LabkitError(f"{where}: classes debe ser una lista de nombres (textos), p. ej. "
                          f"['gato', 'perro']; llegó {type(classes).__name__}.")
    if classes and len(classes) != num_classes:
        shown = ", ".join(repr(c) for c in list(classes)[:5])
        raise LabkitError(f"{where}: hay {len(classes)} nombres de clase ({shown}) y la cabeza "
                          f"del modelo tiene {num_classes} salidas. Deben coincidir: pasa "
                          f"classes con {num_classes} nombres (p. ej. datos.classes).")
    return list(classes)


def _check_finite(state: dict, where: str) -> None:
    """Ningún peso NaN ni infinito: un modelo así solo da basura."""
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise LabkitError(f"{where}: la entrada '{key}' de los pesos no es un tensor.")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise LabkitError(f"{where}: el tensor '{key}' tiene valores NaN o infinitos (el "
                              "entrenamiento divergió). Usa un checkpoint anterior o vuelve a "
                              "entrenar con una tasa de aprendizaje menor.")


def _payload(model: nn.Module, meta: dict) -> dict:
    """El diccionario que se guarda: pesos en CPU, modelo, clases, preprocesado y metadatos."""
    info = model_info(model)
    classes = meta.pop("classes", None)
    classes = _check_classes(info.categories if classes is None else classes,
                             info.num_classes, "No guardo el checkpoint")
    for key, value in meta.items():
        _check_meta(value, key)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    _check_finite(state, "No guardo el checkpoint")
    prep = {"mean": [float(v) for v in info.mean], "std": [float(v) for v in info.std],
            "input_size": int(info.input_size), "resize_size": int(info.resize_size)}
    payload = {"format": _FORMAT, "version": _VERSION, "model_name": info.name,
               "family": info.family, "num_classes": int(info.num_classes), "classes": classes,
               "preprocessing": prep, "pretrained": bool(info.pretrained), "state_dict": state,
               "meta": meta}
    payload["checksum"] = checksum(payload)
    return payload


def write_checkpoint(model: nn.Module, path: Path, meta: dict, exclusive: bool = False,
                     what: str = "el checkpoint", fix: str = "", replace_any: bool = False) -> Path:
    """Escribe el checkpoint: reemplazando de forma atómica o, con ``exclusive``, solo si no existe.

    Args:
        model: el modelo.
        path: el destino (ya comprobado con ``check_path``).
        meta: metadatos (``classes`` incluido, si se da).
        exclusive: crear el archivo solo si no existe (si no, se reemplaza).
        replace_any: sin ``exclusive``, reemplazar también un archivo que no es un checkpoint
            (solo ``export(..., overwrite=True)``, que lo pide a propósito).
        what: qué se guarda (para los mensajes).
        fix: arreglo extra del error «ya existe».

    Returns:
        La ruta.

    Raises:
        LabkitError: el archivo ya existe (con ``exclusive``), la carpeta no se puede escribir,
            una parte de la ruta es un archivo, o el modelo o los metadatos no valen.
    """
    if path.is_dir():
        raise LabkitError(f"'{path}' es una carpeta: pon el nombre del archivo, p. ej. "
                          f"'{path / 'mi_modelo.pt'}'.")
    payload = _payload(model, dict(meta))
    if exclusive:
        if path.exists():
            raise existing_file_error(path, what, fix)
        with exclusive_write(path, what, fix) as fh:
            torch.save(payload, fh)
        return path
    if not replace_any and path.exists() and not looks_like_checkpoint(path):
        raise LabkitError(f"'{path}' ya existe y no es un checkpoint (¿un cuaderno, una foto, "
                          f"un texto?): no guardo {what} encima. Elige otro nombre de archivo, "
                          "p. ej. 'mi_modelo.pt'.")
    try:
        with atomic_write(path) as fh:
            torch.save(payload, fh)
    except OSError as err:
        raise write_error(path, err, what) from err
    return path


def save_checkpoint(model: nn.Module, path: str | os.PathLike, **meta: object) -> Path:
    """Guarda los pesos del modelo de forma atómica (archivo temporal + ``os.replace``).

    Args:
        model: un modelo creado con ``labkit.create_model``.
        path: archivo de destino (se crea su carpeta si no existe; si existe y es un
            checkpoint, se reemplaza; si es otra cosa, un cuaderno p. ej., se niega).
        **meta: datos extra (época, pérdida…); ``classes=[...]`` guarda los nombres de las
            clases (si no, los de ``model.labkit_info.categories``): tantos como salidas.

    Returns:
        La ruta del checkpoint.

    Raises:
        LabkitError: nombres de clase que no cuadran con la cabeza, pesos NaN o infinitos,
            metadatos que no son datos simples, o una carpeta que no se puede escribir. El
            archivo anterior queda intacto.
    """
    return write_checkpoint(model, check_local_path("path", path, "guardar un checkpoint en"),
                            meta)


def _check_structure(data: object, path: Path) -> dict:
    """Un diccionario de labkit con los campos y tipos esperados."""
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise LabkitError(f"El archivo '{path}' no es un checkpoint de labkit (guárdalo con "
                          "labkit.save_checkpoint o labkit.export).")
    n = data.get("num_classes")
    if (not isinstance(data.get("model_name"), str) or isinstance(n, bool)
            or not isinstance(n, int) or n < 1 or not isinstance(data.get("state_dict"), dict)
            or not isinstance(data.get("meta", {}), dict)):
        raise LabkitError(f"El checkpoint '{path}' está incompleto o alterado (falta o no vale "
                          "model_name, num_classes o state_dict). Vuelve a guardarlo.")
    data["classes"] = _check_classes(data.get("classes", []), n, f"El checkpoint '{path.name}'")
    if any(not isinstance(k, str) or not isinstance(v, torch.Tensor)
           for k, v in data["state_dict"].items()):
        raise LabkitError(f"El checkpoint '{path.name}' está alterado: sus pesos deben ser "
                          "tensores con nombre. Vuelve a guardarlo.")
    verify_checksum(data, path)
    check_head_size(data["state_dict"], n, path)
    data["preprocessing"] = check_preprocessing(data.get("preprocessing"), path)
    return data


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Lee un checkpoint de labkit sin cargarlo en ningún modelo.

    Args:
        path: archivo del checkpoint.

    Returns:
        El diccionario con ``model_name``, ``num_classes``, ``classes``, ``meta``,
        ``state_dict`` y (en los guardados desde la versión 2) ``family`` y ``preprocessing``.
    """
    path = check_local_path("path", path, "leer un checkpoint de")
    if path.is_dir():
        raise LabkitError(f"'{path}' es una carpeta, no un archivo de modelo: da la ruta del "
                          f"archivo, p. ej. '{path / 'mi_modelo.pt'}'.")
    if not path.is_file():
        raise LabkitError(f"No existe el checkpoint '{path}'. Revisa la ruta (¿lo guardaste con "
                          "labkit.save_checkpoint, labkit.export o fit(..., checkpoint=ruta)?).")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise LabkitError(f"El archivo '{path}' está dañado o no es un checkpoint que se pueda "
                          f"leer ({type(err).__name__}). Vuelve a guardarlo.") from None
    return _check_structure(data, path)


def _check_compatible(model: nn.Module, data: dict, path: Path) -> None:
    """Mismo modelo, mismas clases y mismas formas; si no, un error que dice qué difiere."""
    info = model_info(model)
    if info.name != data["model_name"]:
        raise LabkitError(f"El checkpoint '{path.name}' es de '{data['model_name']}' y el modelo "
                          f"es '{info.name}': crea el modelo con "
                          f"labkit.create_model('{data['model_name']}', ...).")
    if int(info.num_classes) != int(data["num_classes"]):
        raise LabkitError(f"El checkpoint es de {data['num_classes']} clases y el modelo tiene "
                          f"{info.num_classes}: crea el modelo con "
                          f"create_model('{info.name}', num_classes={data['num_classes']}).")
    own = model.state_dict()
    saved = data["state_dict"]
    missing, extra = sorted(set(own) - set(saved)), sorted(set(saved) - set(own))
    shapes = [f"{k}: checkpoint {tuple(saved[k].shape)}, modelo {tuple(own[k].shape)}"
              for k in own if k in saved and saved[k].shape != own[k].shape]
    if missing or extra or shapes:
        raise LabkitError("Los pesos del checkpoint no encajan con el modelo. "
                          f"Faltan: {missing[:3]}; sobran: {extra[:3]}; formas distintas: "
                          f"{shapes[:3]}.")


def _model_for(name: str, data: dict, path: Path) -> nn.Module:
    """Crea (sin pesos preentrenados) el modelo que describe el checkpoint."""
    if name != data["model_name"]:
        raise LabkitError(f"El checkpoint '{path.name}' es de '{data['model_name']}', no de "
                          f"'{name}'.")
    if name not in MODELS:
        raise LabkitError(f"El checkpoint '{path.name}' es de un modelo que este labkit no "
                          f"conoce ('{name}'). Los modelos del curso son: {', '.join(MODELS)}.")
    n = int(data["num_classes"])
    model = create_model(name, num_classes=n if n >= 2 else None, pretrained=False)
    if n < 2:
        replace_head(model, n)
    _apply_preprocessing(model, data)
    return model


def _apply_preprocessing(model: nn.Module, data: dict) -> None:
    """Copia al modelo el preprocesado guardado (si el checkpoint lo trae y es válido)."""
    prep = data.get("preprocessing")
    if not isinstance(prep, dict):
        return
    info = model_info(model)
    info.mean, info.std = tuple(prep["mean"]), tuple(prep["std"])
    info.input_size, info.resize_size = int(prep["input_size"]), int(prep["resize_size"])
    info.pretrained = bool(data.get("pretrained", info.pretrained))


def load_into(model_or_name: nn.Module | str, data: dict, path: Path) -> nn.Module:
    """Carga un checkpoint ya leído (con :func:`read_checkpoint`) en un modelo.

    Args:
        model_or_name: un modelo de labkit o el nombre del catálogo.
        data: el checkpoint leído.
        path: su archivo (para los mensajes).

    Returns:
        El modelo con los pesos cargados, en modo evaluación.
    """
    _check_finite(data["state_dict"], f"No cargo el checkpoint '{path.name}'")
    if isinstance(model_or_name, str):
        model = _model_for(model_or_name, data, path)
    elif isinstance(model_or_name, nn.Module):
        model = model_or_name
    else:
        raise LabkitError("model_or_name: se espera un modelo de labkit o el nombre de uno "
                          f"(p. ej. 'efficientnet_lite0'); llegó {type(model_or_name).__name__}.")
    _check_compatible(model, data, path)
    model.load_state_dict(data["state_dict"])
    model.labkit_info.categories = list(data["classes"])
    return model.eval()


def load_checkpoint(model_or_name: nn.Module | str, path: str | os.PathLike) -> nn.Module:
    """Carga un checkpoint en un modelo (o crea el modelo a partir de su nombre).

    Args:
        model_or_name: un modelo de labkit (se carga en su sitio, en su dispositivo) o el nombre
            del catálogo (se crea sin pesos preentrenados, con las clases y el preprocesado del
            checkpoint).
        path: archivo del checkpoint.

    Returns:
        El modelo con los pesos cargados, en modo evaluación y con los nombres de las clases en
        ``model.labkit_info.categories``.

    Raises:
        LabkitError: archivo que falta, dañado o alterado; pesos NaN o infinitos; otro modelo.
    """
    path = check_local_path("path", path, "leer un checkpoint de")
    return load_into(model_or_name, read_checkpoint(path), path)
