"""Extraer características: la salida del prefijo congelado de un modelo, por lotes y sin gradiente.

:func:`extract_features` es la pieza de :mod:`labkit.training` que calcula; :class:`FeatureSet` y
:class:`FeatureCache` (allí) la guardan y la reutilizan. Se calcula en modo evaluación y bajo
``torch.no_grad()`` (no ``torch.inference_mode()``: sus tensores no se podrían usar luego para
entrenar), con precisión mixta en GPU.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from ..base._config import default_device
from ..base._errors import LabkitError
from ..base._speed import compiled_prefix, layout, place, uses_channels_last
from ..data._data import ImageSet, normalize
from ..models._freezing import eval_mode
from ..models._groups import split_at
from ..models._models import model_info

__all__ = ["extraction_batch_size", "extract_features", "feature_bytes", "prefix_fingerprint"]


def _amp_dtype(device: torch.device) -> torch.dtype | None:
    """Precisión mixta solo en CUDA: bfloat16 si la GPU lo admite, si no float16."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """``torch.autocast`` en CUDA; en CPU y MPS, nada (resultados exactos y repetibles)."""
    dtype = _amp_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=dtype)


def _resolve_device(model: nn.Module, device: torch.device | str | None) -> torch.device:
    """``device`` si se indica; si no, el del modelo o, sin parámetros, el por defecto."""
    if device is not None:
        return torch.device(device)
    param = next(model.parameters(), None)
    return param.device if param is not None else default_device()


def _as_inputs(images: ImageSet | torch.Tensor) -> torch.Tensor:
    """El tensor de imágenes: ``uint8`` (se normaliza por lotes) o ``float`` ya normalizado."""
    x = images.images if isinstance(images, ImageSet) else images
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise LabkitError("Las imágenes deben ser un ImageSet o un tensor [N, 3, H, W] "
                          f"(uint8 o float ya normalizado); llegó {type(x).__name__}.")
    return x


def extraction_batch_size(image_size: tuple[int, int], device: torch.device) -> int:
    """Un lote eficiente para inferencia: grande en GPU, pequeño en CPU.

    En CPU, los lotes grandes no van más rápido por imagen y sus activaciones (decenas de MB)
    obligan al sistema a pedir y soltar memoria en cada lote. Con *channels-last* y el prefijo
    compilado (:mod:`labkit.base`) el mejor lote medido en 2 núcleos con EfficientNet-Lite0
    (``benchmarks/bench_speed.py``) es de unas 16 imágenes a 128 px, 8 a 160 px y 4 a 224 px
    (el doble que con el camino de antes): se usan 16 a 128 px, menos cuanto mayor sea la
    imagen (proporcional a su área), entre 2 y 64.

    Args:
        image_size: alto y ancho de las imágenes.
        device: dispositivo del cálculo.

    Returns:
        Imágenes por lote.
    """
    if device.type != "cpu":
        return 128
    pixels = max(1, image_size[0] * image_size[1])
    return int(min(64, max(2, 16 * 128 * 128 // pixels)))


def extract_features(model: nn.Module, images: ImageSet | torch.Tensor, depth: int,
                     batch_size: int | None = None, device: torch.device | str | None = None
                     ) -> torch.Tensor:
    """La salida del prefijo ``split_at(model, depth)[0]`` para cada imagen.

    Corre en modo evaluación bajo ``torch.no_grad()`` (con precisión mixta solo en CUDA) y deja
    los modos del modelo como estaban. Los tensores resultantes sirven para entrenar la cola.

    Args:
        model: un modelo del catálogo (ya en ``device``, o se usa el dispositivo del modelo).
        images: un ``ImageSet`` o un tensor ``[N, 3, H, W]``: ``uint8`` se normaliza con la
            media y desviación del modelo; ``float`` se toma como ya normalizado.
        depth: número de grupos del prefijo (los que se dan por congelados).
        batch_size: imágenes por lote; ``None`` = :func:`extraction_batch_size`.
        device: dispositivo del cálculo; ``None`` = el del modelo.

    Returns:
        Un tensor ``float32`` ``[N, ...]`` en ``device``.
    """
    x = _as_inputs(images)
    dev = _resolve_device(model, device)
    batch_size = batch_size or extraction_batch_size(tuple(x.shape[2:]), dev)
    if len(x) == 0:
        raise LabkitError("No hay imágenes de las que extraer características (conjunto vacío).")
    prefix, _ = split_at(place(model, dev), depth)
    fast = uses_channels_last(model)
    info = model_info(model)
    out = []
    with eval_mode(model), torch.no_grad(), _autocast(dev):
        run = None
        for chunk in x.split(batch_size):
            chunk = chunk.to(dev, non_blocking=True)
            if chunk.dtype == torch.uint8:
                chunk = normalize(chunk, info.mean, info.std)
            chunk = layout(chunk, fast)
            if run is None:  # el prefijo compilado, si compensa (ver labkit.speed)
                run = compiled_prefix(model, prefix,
                                      lambda: (prefix_fingerprint(model, depth), depth),
                                      chunk, len(x))
            out.append(run(chunk).float())
    return torch.cat(out).contiguous()


def feature_bytes(model: nn.Module, images: ImageSet | torch.Tensor, depth: int) -> int:
    """Cuántos bytes ocuparían las características de ``images`` (se mide con una imagen).

    Args:
        model: un modelo del catálogo.
        images: las imágenes.
        depth: número de grupos del prefijo.

    Returns:
        El tamaño estimado, en bytes (``float32``).
    """
    x = _as_inputs(images)
    if len(x) == 0:
        return 0
    one = extract_features(model, x[:1], depth)
    return one.numel() * one.element_size() * len(x)


def prefix_fingerprint(model: nn.Module, depth: int) -> tuple:
    """Una huella de los pesos y estadísticas del prefijo: cambia si cambia cualquier valor.

    Se calcula sobre el contenido (sumas en ``float64`` de cada parámetro y buffer, en CPU),
    así dos modelos recién creados con los mismos pesos preentrenados tienen la misma huella.

    Args:
        model: un modelo del catálogo.
        depth: número de grupos del prefijo.

    Returns:
        Una tupla con el nombre del modelo, ``depth`` y las sumas (sirve de clave de caché).
    """
    prefix, _ = split_at(model, depth)
    tensors = [t.detach() for t in (*prefix.parameters(), *prefix.buffers())]
    if not tensors:
        return (model_info(model).name, depth)
    with torch.no_grad():
        # MPS no tiene float64; contiguous: la misma suma con los pesos en channels-last
        doubles = [t.cpu().contiguous().to(torch.float64) for t in tensors]
        sums = torch.stack([torch.stack([t.sum(), t.square().sum()]) for t in doubles])
    return (model_info(model).name, depth, tuple(sums.flatten().tolist()))
