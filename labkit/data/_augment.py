"""Aumento de datos por lotes: recorte, volteo, rotación pequeña y brillo, en un solo paso.

El aumento se aplica dentro de ``labkit.fit`` a cada lote de entrenamiento, sobre la imagen en
escala 0–1 y antes de normalizarla: un recorte aleatorio reescalado al tamaño original, un volteo
horizontal (opcional: no sirve para dígitos ni texto), una rotación de unos grados y un cambio de
brillo. Todo va en una sola transformación afín (``affine_grid`` + ``grid_sample``), así que
cuesta poco frente al paso del modelo.

**Aumento y caché no van juntos:** con aumento, la salida de las capas congeladas cambia en cada
época, así que ``fit`` ya no puede calcularla una vez y guardarla: cada paso recorre el modelo
entero. Con pocas imágenes y cabeza sola, la caché suele compensar más.

Presets (:data:`AUGMENT_PRESETS`): ``"fotos"`` (por defecto con ``augment=True``), ``"sin_volteo"``
(dígitos, texto, imágenes con lado) y ``"suave"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..base._errors import LabkitError
from ..base._validate import check_bool, check_float

__all__ = ["Augment", "AUGMENT_PRESETS", "resolve_augment", "apply_augment"]


@dataclass(frozen=True)
class Augment:
    """Qué aumento aplicar a cada imagen de un lote de entrenamiento.

    Attributes:
        crop: fracción mínima del lado que conserva el recorte (1 = sin recorte).
        flip: volteo horizontal con probabilidad 1/2.
        rotation: giro máximo, en grados, hacia cada lado.
        brightness: cambio máximo de brillo (0.2 = ±20 %).
    """

    crop: float = 0.8
    flip: bool = True
    rotation: float = 10.0
    brightness: float = 0.2

    def __post_init__(self) -> None:
        check_float("crop", self.crop, minimum=0.1, maximum=1.0)
        check_bool("flip", self.flip)
        check_float("rotation", self.rotation, minimum=0.0, maximum=180.0)
        check_float("brightness", self.brightness, minimum=0.0, maximum=1.0)


AUGMENT_PRESETS = {
    "fotos": Augment(),
    "sin_volteo": Augment(flip=False),
    "suave": Augment(crop=0.9, flip=True, rotation=5.0, brightness=0.1),
}
"""Aumentos con nombre: ``"fotos"`` (fotos de objetos y texturas), ``"sin_volteo"`` (dígitos,
texto, radiografías con lado) y ``"suave"``."""


def resolve_augment(value: object) -> Augment | None:
    """Convierte el argumento ``augment`` de ``fit`` en un :class:`Augment` (o ``None``).

    Args:
        value: ``False``/``None`` (sin aumento), ``True`` (``"fotos"``), el nombre de un preset o
            un :class:`Augment`.

    Returns:
        El aumento, o ``None`` si no hay.
    """
    if value is None or value is False:
        return None
    if value is True:
        return AUGMENT_PRESETS["fotos"]
    if isinstance(value, Augment):
        return value
    if isinstance(value, str) and value in AUGMENT_PRESETS:
        return AUGMENT_PRESETS[value]
    names = ", ".join(repr(k) for k in AUGMENT_PRESETS)
    raise LabkitError(f"augment: llegó {value!r}; se espera True/False, un preset ({names}) o "
                      "un labkit.Augment(crop=..., flip=..., rotation=..., brightness=...).")


def _affine(b: int, aug: Augment, gen: torch.Generator | None) -> torch.Tensor:
    """Matrices afines ``[b, 2, 3]``: escala (recorte), giro, volteo y desplazamiento."""
    scale = aug.crop + (1 - aug.crop) * torch.rand(b, generator=gen)
    angle = math.radians(aug.rotation) * (2 * torch.rand(b, generator=gen) - 1)
    flip = torch.ones(b)
    if aug.flip:
        flip = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0)
    shift = (1 - scale).unsqueeze(1) * (2 * torch.rand(b, 2, generator=gen) - 1)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos * flip, -sin
    theta[:, 1, 0], theta[:, 1, 1] = sin * flip, cos
    theta[:, :, 2] = shift
    return theta


def apply_augment(x: torch.Tensor, aug: Augment, generator: torch.Generator | None = None,
                  clamp: bool = True) -> torch.Tensor:
    """Aplica ``aug`` a un lote ``float [B, C, H, W]`` en escala 0–1.

    Args:
        x: el lote (0–1, sin normalizar).
        aug: el aumento.
        generator: generador aleatorio (CPU) para resultados repetibles.
        clamp: recortar el resultado a 0–1 (tras el brillo).

    Returns:
        Un lote de la misma forma, aumentado imagen a imagen.
    """
    b = x.shape[0]
    theta = _affine(b, aug, generator)
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if aug.brightness > 0:
        factor = 1 + aug.brightness * (2 * torch.rand(b, generator=generator) - 1)
        x = x * factor.view(b, 1, 1, 1).to(x.device, x.dtype)
    return x.clamp(0, 1) if clamp else x
