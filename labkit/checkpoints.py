"""Guardar y cargar pesos entrenados (checkpoints) sin riesgo de dejar archivos a medias.

Un checkpoint de labkit guarda el ``state_dict`` junto con el nombre del modelo, su número de
clases y los nombres de las clases. Se escribe en un archivo temporal de la misma carpeta y luego
se renombra (``os.replace``): si algo falla a mitad, el checkpoint anterior queda intacto. Se lee
con ``torch.load(..., weights_only=True)``, que no ejecuta código del archivo.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from .errors import LabkitError
from .fileio import atomic_write
from .models import create_model, model_info, replace_head

__all__ = ["save_checkpoint", "load_checkpoint", "read_checkpoint"]

_FORMAT = "labkit-checkpoint"
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


def _payload(model: nn.Module, meta: dict) -> dict:
    """El diccionario que se guarda: pesos en CPU, nombre, clases y metadatos."""
    info = model_info(model)
    classes = list(meta.pop("classes", None) or info.categories)
    for key, value in meta.items():
        _check_meta(value, key)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return {"format": _FORMAT, "version": 1, "model_name": info.name,
            "num_classes": int(info.num_classes), "classes": [str(c) for c in classes],
            "state_dict": state, "meta": meta}


def save_checkpoint(model: nn.Module, path: str | os.PathLike, **meta: object) -> Path:
    """Guarda los pesos del modelo de forma atómica (archivo temporal + ``os.replace``).

    Args:
        model: un modelo creado con ``labkit.create_model``.
        path: archivo de destino (se crea su carpeta si no existe).
        **meta: datos extra (época, pérdida…); ``classes=[...]`` guarda los nombres de las
            clases (si no, los de ``model.labkit_info.categories``).

    Returns:
        La ruta del checkpoint.
    """
    path = Path(path)
    payload = _payload(model, dict(meta))
    with atomic_write(path) as fh:
        torch.save(payload, fh)
    return path


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Lee un checkpoint de labkit sin cargarlo en ningún modelo.

    Args:
        path: archivo del checkpoint.

    Returns:
        El diccionario con ``model_name``, ``num_classes``, ``classes``, ``meta`` y
        ``state_dict``.
    """
    path = Path(path)
    if not path.is_file():
        raise LabkitError(f"No existe el checkpoint '{path}'. Revisa la ruta (¿lo guardaste con "
                          "labkit.save_checkpoint o fit(..., checkpoint=ruta)?).")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise LabkitError(f"El archivo '{path}' está dañado o no es un checkpoint que se pueda "
                          f"leer ({type(err).__name__}). Vuelve a guardarlo.") from None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise LabkitError(f"El archivo '{path}' no es un checkpoint de labkit (guárdalo con "
                          "labkit.save_checkpoint).")
    return data


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


def load_checkpoint(model_or_name: nn.Module | str, path: str | os.PathLike) -> nn.Module:
    """Carga un checkpoint en un modelo (o crea el modelo a partir de su nombre).

    Args:
        model_or_name: un modelo de labkit (se carga en su sitio, en su dispositivo) o el nombre
            del catálogo (se crea sin pesos preentrenados y con las clases del checkpoint).
        path: archivo del checkpoint.

    Returns:
        El modelo con los pesos cargados, en modo evaluación y con los nombres de las clases en
        ``model.labkit_info.categories``.
    """
    path = Path(path)
    data = read_checkpoint(path)
    if isinstance(model_or_name, str):
        if model_or_name != data["model_name"]:
            raise LabkitError(f"El checkpoint '{path.name}' es de '{data['model_name']}', no de "
                              f"'{model_or_name}'.")
        n = int(data["num_classes"])
        model = create_model(model_or_name, num_classes=n if n >= 2 else None, pretrained=False)
        if n < 2:
            replace_head(model, n)
    else:
        model = model_or_name
    _check_compatible(model, data, path)
    model.load_state_dict(data["state_dict"])
    model.labkit_info.categories = list(data["classes"])
    return model.eval()
