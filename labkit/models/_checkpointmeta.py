"""Lo que se comprueba de un checkpoint antes de crear nada: suma de control y metadatos.

Un checkpoint (o un modelo exportado) lleva desde la versión 3 una suma SHA-256 de sus tensores
(nombre, tipo, forma y bytes de cada uno, en orden) y de los datos que describen el modelo
(nombre, familia, clases, número de clases y preprocesado). Al leerlo se recalcula: un byte
cambiado dentro de un tensor o de un nombre de clase es un error en español, nunca un modelo
alterado en silencio. Los archivos de las versiones 1 y 2 (sin suma) se siguen cargando sin
aviso: entonces solo valen las demás comprobaciones.

Los metadatos se comprueban **antes** de reservar memoria: el número de clases debe
corresponder a una capa que de verdad está en el archivo (``num_classes=10**7`` en un archivo
de 1.5 MB no reserva 10 GB), la media y la desviación deben ser razonables (una desviación de
``1e-300`` daría probabilidades NaN) y los tamaños de imagen, menores que :data:`MAX_SIDE`.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import torch

from ..base._errors import LabkitError

__all__ = ["checksum", "verify_checksum", "check_preprocessing", "check_head_size", "MAX_SIDE",
           "STD_RANGE", "MEAN_LIMIT"]

MAX_SIDE = 2048
"""Lado máximo (píxeles) de ``input_size`` y ``resize_size`` en un checkpoint."""

STD_RANGE = (1e-3, 1e3)
"""Desviación por canal admitida (los modelos del curso usan de 0.2 a 0.5)."""

MEAN_LIMIT = 10.0
"""Media por canal admitida, en valor absoluto (los del curso usan de 0.4 a 0.5)."""

_DESCRIBED = ("model_name", "family", "num_classes", "classes", "preprocessing", "pretrained")


def checksum(data: dict) -> str:
    """La suma SHA-256 de los tensores del ``state_dict`` y de los datos que describen el modelo.

    Args:
        data: el diccionario del checkpoint (con ``state_dict``).

    Returns:
        ``"sha256:<hex>"``.
    """
    digest = hashlib.sha256()
    described = {k: data.get(k) for k in _DESCRIBED}
    digest.update(json.dumps(described, sort_keys=True, ensure_ascii=True).encode())
    for key in sorted(data["state_dict"]):
        tensor = data["state_dict"][key]
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"\n{key}|{flat.dtype}|{tuple(tensor.shape)}|".encode())
        if flat.numel():
            digest.update(flat.view(torch.uint8).numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def verify_checksum(data: dict, path: Path) -> None:
    """Comprueba la suma de un checkpoint de versión 3 o más (las anteriores no la llevan).

    Args:
        data: el diccionario leído (ya con la estructura comprobada).
        path: el archivo (para el mensaje).

    Raises:
        LabkitError: falta la suma en un archivo que debería llevarla o no coincide.
    """
    version = data.get("version", 1)
    stored = data.get("checksum")
    if stored is None and isinstance(version, int) and version < 3:
        return  # formato antiguo: se acepta sin suma (documentado arriba)
    try:
        ok = isinstance(stored, str) and stored == checksum(data)
    except (TypeError, ValueError, RuntimeError, AttributeError):
        ok = False
    if not ok:
        raise LabkitError(f"El archivo '{path}' está dañado o alterado: su suma de control no "
                          "coincide con sus pesos (¿se copió a medias o se editó?). Vuelve a "
                          "exportarlo o cópialo otra vez desde el original.")


def _numbers(value: object, count: int | None) -> tuple[float, ...] | None:
    """Una lista de números reales (``count`` de ellos, si se da), o ``None`` si no lo es."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        return None
    if count is not None and len(value) != count:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return None
    return tuple(float(v) for v in value)


def check_preprocessing(prep: object, path: Path) -> dict | None:
    """El preprocesado guardado: media, desviación y tamaños razonables (o ``None`` si no hay).

    Args:
        prep: ``data["preprocessing"]``.
        path: el archivo (para los mensajes).

    Returns:
        El preprocesado normalizado (``mean``/``std`` como tuplas, tamaños enteros).
    """
    if prep is None:
        return None
    name = path.name
    if not isinstance(prep, dict):
        raise LabkitError(f"El preprocesado guardado en '{name}' está alterado (no es un "
                          "diccionario). Vuelve a exportar el modelo.")
    mean, std = _numbers(prep.get("mean"), 3), _numbers(prep.get("std"), 3)
    if mean is None or std is None:
        raise LabkitError(f"El preprocesado de '{name}' está alterado: mean y std deben ser "
                          "tres números cada una.")
    if not all(math.isfinite(v) and abs(v) <= MEAN_LIMIT for v in mean):
        raise LabkitError(f"La media del preprocesado guardado en '{name}' no es válida ({list(mean)}): debe "
                          f"ser finita y de valor absoluto ≤ {MEAN_LIMIT:g}. Archivo alterado.")
    low, high = STD_RANGE
    if not all(math.isfinite(v) and low <= v <= high for v in std):
        raise LabkitError(f"La desviación del preprocesado guardado en '{name}' no es "
                          f"válida ({list(std)}): "
                          f"debe estar entre {low:g} y {high:g} (una desviación casi 0 da "
                          "probabilidades NaN). El archivo está alterado: vuelve a exportarlo.")
    sizes = prep.get("input_size"), prep.get("resize_size")
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes) \
            or not 0 < sizes[0] <= sizes[1] <= MAX_SIDE:
        raise LabkitError(f"Los tamaños del preprocesado guardado en '{name}' no valen (input_size="
                          f"{sizes[0]!r}, resize_size={sizes[1]!r}): deben ser enteros con "
                          f"0 < input_size ≤ resize_size ≤ {MAX_SIDE}. Archivo alterado.")
    return {**prep, "mean": mean, "std": std, "input_size": sizes[0], "resize_size": sizes[1]}


def check_head_size(state: dict, num_classes: int, path: Path) -> None:
    """``num_classes`` debe ser el número de salidas de una capa lineal que está en el archivo.

    Así un número de clases alterado se detecta antes de crear el modelo (que reservaría
    memoria para todas esas salidas).

    Args:
        state: el ``state_dict`` leído.
        num_classes: el número de clases declarado.
        path: el archivo (para el mensaje).
    """
    heads = [t for t in state.values()
             if isinstance(t, torch.Tensor) and t.ndim == 2 and t.shape[0] == num_classes]
    if not heads:
        outs = sorted({int(t.shape[0]) for t in state.values()
                       if isinstance(t, torch.Tensor) and t.ndim == 2})
        raise LabkitError(f"El checkpoint '{path.name}' dice tener {num_classes} clases, pero "
                          f"ninguna capa lineal de sus pesos tiene esas salidas (tienen "
                          f"{outs[:5]}). El archivo está alterado: vuelve a exportarlo.")
