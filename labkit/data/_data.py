"""Conjuntos de imágenes en memoria y su preparación para un modelo.

Todo el curso mueve las imágenes como un :class:`ImageSet`: un tensor ``uint8`` de forma
``[N, 3, H, W]``, las etiquetas y los nombres de las clases. Así el conjunto integrado, las
carpetas del alumno y los catálogos se tratan igual, y la normalización propia de cada modelo
(media y desviación de sus pesos) se aplica al final, por lotes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..base._errors import LabkitError
from ..base._validate import check_int, check_seed, check_str

__all__ = ["ImageSet", "DataSplits", "check_splits", "stratified_indices", "normalize", "augment_batch", "resize_images"]


@dataclass
class ImageSet:
    """Imágenes ``uint8 [N, 3, H, W]`` con sus etiquetas y los nombres de las clases.

    Attributes:
        images: tensor ``uint8`` de forma ``[N, 3, H, W]``.
        labels: tensor ``int64`` de forma ``[N]`` con valores en ``range(len(classes))``.
        classes: nombres de las clases, en el orden de las etiquetas.
        name: nombre legible del conjunto (aparece en tablas y figuras).
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    name: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.images, torch.Tensor) or self.images.dtype != torch.uint8 \
                or self.images.ndim != 4 or self.images.shape[1] != 3:
            shape = tuple(self.images.shape) if isinstance(self.images, torch.Tensor) else None
            kind = self.images.dtype if shape is not None else type(self.images).__name__
            raise LabkitError(
                "Las imágenes deben ser un tensor uint8 de forma [N, 3, H, W]; "
                f"llegó {shape if shape is not None else 'un objeto'} de tipo {kind}."
            )
        self.labels = _as_labels(self.labels)
        if len(self.images) != len(self.labels):
            raise LabkitError(
                f"Hay {len(self.images)} imágenes pero {len(self.labels)} etiquetas."
            )
        self.classes = _as_classes(self.classes)
        self.name = check_str("name", self.name, allow_empty=True)
        if not isinstance(self.info, dict):
            raise LabkitError(f"info debe ser un diccionario; llegó {type(self.info).__name__}.")
        if len(self.labels) and (int(self.labels.min()) < 0
                                 or int(self.labels.max()) >= len(self.classes)):
            raise LabkitError(
                f"Las etiquetas deben ir de 0 a {len(self.classes) - 1} (una por clase de "
                f"{self.classes}); llegaron valores entre {int(self.labels.min())} y "
                f"{int(self.labels.max())}.")

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        counts = ", ".join(f"{c}: {n}" for c, n in self.class_counts().items())
        return f"ImageSet({self.name!r}, {len(self)} imágenes de {self.image_size} px; {counts})"

    @property
    def image_size(self) -> tuple[int, int]:
        """Alto y ancho de las imágenes, en píxeles."""
        return int(self.images.shape[2]), int(self.images.shape[3])

    @property
    def num_classes(self) -> int:
        """Número de clases."""
        return len(self.classes)

    def class_counts(self) -> dict[str, int]:
        """Cuántas imágenes hay de cada clase."""
        counts = torch.bincount(self.labels, minlength=self.num_classes).tolist()
        return dict(zip(self.classes, counts))

    def subset(self, indices: Sequence[int] | torch.Tensor, name: str | None = None) -> ImageSet:
        """Devuelve el subconjunto con esos índices (sin copiar más de lo necesario)."""
        idx = _as_indices(indices, len(self))
        return ImageSet(self.images[idx], self.labels[idx], list(self.classes),
                        name if name is not None else self.name, dict(self.info))

    def take(self, n: int, seed: int = 0) -> ImageSet:
        """Toma ``n`` imágenes estratificadas: el mismo número por clase (o casi).

        Args:
            n: cuántas imágenes tomar en total; al menos una por clase.
            seed: semilla del muestreo; con la misma semilla, el mismo subconjunto.

        Returns:
            Un :class:`ImageSet` con ``n`` imágenes, repartidas por igual entre las clases.
        """
        n, seed = check_int("n", n, minimum=1), check_seed(seed)
        return self.subset(stratified_indices(self.labels, self.num_classes, n, seed,
                                              "imágenes", "genera un conjunto más grande"))


def _as_labels(labels: object) -> torch.Tensor:
    """Convierte las etiquetas (tensor, lista o arreglo de enteros) en un tensor ``int64 [N]``."""
    if not isinstance(labels, torch.Tensor):
        try:
            labels = torch.as_tensor(np.asarray(labels))
        except (TypeError, ValueError, RuntimeError) as err:
            raise LabkitError("Las etiquetas deben ser enteros (una lista, un arreglo o un "
                              f"tensor); llegó {type(labels).__name__}.") from err
    if labels.dtype == torch.bool or labels.is_floating_point() or labels.is_complex() \
            or labels.ndim != 1:
        raise LabkitError("Las etiquetas deben ser enteros en una sola dimensión [N]; llegó un "
                          f"tensor {labels.dtype} de forma {tuple(labels.shape)}.")
    return labels.long()


def _as_indices(indices: object, size: int) -> torch.Tensor:
    """Convierte unos índices en un tensor ``int64`` y comprueba que están en ``[-size, size)``."""
    try:
        idx = torch.as_tensor(np.asarray(indices))
    except (TypeError, ValueError, RuntimeError) as err:
        raise LabkitError(f"indices: llegó {type(indices).__name__}; se espera una lista de "
                          "enteros.") from err
    if idx.numel() == 0:
        return torch.empty(0, dtype=torch.long)
    if idx.dtype == torch.bool or idx.is_floating_point() or idx.is_complex() or idx.ndim > 1:
        raise LabkitError(f"indices: se espera una lista de enteros; llegó un {idx.dtype} de "
                          f"forma {tuple(idx.shape)}.")
    idx = idx.long().reshape(-1)
    if len(idx) and (int(idx.min()) < -size or int(idx.max()) >= size):
        raise LabkitError(f"indices: hay índices fuera del conjunto (tiene {size} elementos: "
                          f"de 0 a {size - 1}).")
    return idx


def _as_classes(classes: object) -> list[str]:
    """Comprueba que los nombres de las clases son una lista de textos (al menos uno)."""
    if isinstance(classes, str) or not isinstance(classes, (list, tuple)) or not classes \
            or not all(isinstance(c, str) for c in classes):
        raise LabkitError("classes debe ser una lista con el nombre (texto) de cada clase; "
                          f"llegó {classes!r:.60}.")
    return list(classes)


def _finite_number(value: object) -> bool:
    """¿Es un número real finito (no ``bool``)?"""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _check_normalize_args(images: object, mean: object, std: object) -> None:
    """Lote ``[B, C, H, W]`` y una media y una desviación (> 0) por canal."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise LabkitError("normalize: las imágenes deben ser un tensor [B, C, H, W].")
    for name, values in (("mean", mean), ("std", std)):
        ok = isinstance(values, (list, tuple, torch.Tensor, np.ndarray)) and len(values) == images.shape[1] and all(
            _finite_number(v) for v in (values.tolist() if hasattr(values, "tolist") else values))
        if not ok or (name == "std" and min(values) <= 0):
            raise LabkitError(f"normalize: {name} debe tener un número finito por canal "
                              f"({images.shape[1]}){' y mayor que 0' if name == 'std' else ''}; "
                              f"llegó {values!r:.60}.")


def stratified_indices(labels: torch.Tensor, num_classes: int, n: int, seed: int,
                       noun: str = "imágenes", remedy: str = "genera un conjunto más grande",
                       one: str = "una") -> torch.Tensor:
    """Índices de ``n`` elementos estratificados: el mismo número por clase (o casi).

    ``ImageSet.take`` y ``FeatureSet.take`` eligen con esta función, así con la misma semilla
    toman exactamente los mismos elementos.

    Args:
        labels: etiquetas del conjunto.
        num_classes: número de clases.
        n: cuántos elementos tomar; al menos uno por clase.
        seed: semilla del muestreo.
        noun: cómo llamar a los elementos en los mensajes de error.
        remedy: qué hacer si se piden más de los que hay.
        one: "una" o "uno", según el género de ``noun``.

    Returns:
        Los índices elegidos, ordenados.
    """
    n, seed = check_int("n", n), check_seed(seed)
    if n < num_classes:
        raise LabkitError(f"Pediste {n} {noun}, pero hay {num_classes} clases: hace falta al "
                          f"menos {one} por clase (pide {num_classes} o más).")
    if n > len(labels):
        raise LabkitError(f"Pediste {n} {noun} y este conjunto tiene {len(labels)}. "
                          f"Pide menos o {remedy}.")
    gen = torch.Generator().manual_seed(seed)
    per_class = [torch.nonzero(labels == c).flatten() for c in range(num_classes)]
    per_class = [p[torch.randperm(len(p), generator=gen)] for p in per_class]
    quotas = _split_evenly(n, [len(p) for p in per_class])
    return torch.cat([p[:q] for p, q in zip(per_class, quotas)]).sort().values


def _split_evenly(n: int, capacities: list[int]) -> list[int]:
    """Reparte ``n`` entre grupos lo más parejo posible sin pasar la capacidad de cada uno."""
    quotas = [0] * len(capacities)
    remaining = n
    while remaining > 0:
        open_groups = [i for i, c in enumerate(capacities) if quotas[i] < c]
        if not open_groups:
            break
        for i in open_groups[:remaining]:
            quotas[i] += 1
        remaining = n - sum(quotas)
    return quotas


@dataclass
class DataSplits:
    """Las tres particiones disjuntas de un conjunto: entrenamiento, validación y prueba."""

    train: ImageSet
    val: ImageSet
    test: ImageSet

    @property
    def classes(self) -> list[str]:
        """Nombres de las clases (los mismos en las tres particiones)."""
        return self.train.classes

    def __repr__(self) -> str:
        return (f"DataSplits(train={len(self.train)}, val={len(self.val)}, test={len(self.test)}, "
                f"clases={self.classes}, tamaño={self.train.image_size})")


def check_splits(data: object, owner: str, example: str) -> None:
    """Comprueba que ``data`` es un :class:`DataSplits` de imágenes con al menos una por clase.

    Args:
        data: lo que llegó.
        owner: quién lo necesita, para el mensaje (p. ej. ``"El playground"``).
        example: cómo obtener uno, para el mensaje.
    """
    if not isinstance(data, DataSplits) or not isinstance(data.train, ImageSet):
        raise LabkitError(f"{owner} necesita un DataSplits con train, val y test (p. ej. {example}).")
    if len(data.train) < data.train.num_classes:
        raise LabkitError(f"El entrenamiento tiene {len(data.train)} imágenes y "
                          f"{data.train.num_classes} clases: hace falta al menos una por clase.")


def normalize(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Convierte un lote ``uint8 [B, 3, H, W]`` en ``float32`` normalizado con media y desviación.

    Args:
        images: lote de imágenes ``uint8``.
        mean: media por canal en escala 0–1 (la de los pesos del modelo).
        std: desviación por canal en escala 0–1.

    Returns:
        El lote en ``float32``, listo para el modelo.
    """
    _check_normalize_args(images, mean, std)
    x = images.float().div_(255.0)
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x - m) / s


def augment_batch(x: torch.Tensor, generator: torch.Generator | None = None,
                  augment: object = True) -> torch.Tensor:
    """Aumento de datos aleatorio sobre un lote (ver :mod:`labkit.data`).

    Args:
        x: lote ``float`` ``[B, C, H, W]`` en escala 0–1 (sin normalizar).
        generator: generador aleatorio (para resultados repetibles).
        augment: ``True`` (preset ``"fotos"``: recorte, volteo, giro y brillo), el nombre de un
            preset o un :class:`labkit.data.Augment`.

    Returns:
        Un lote de la misma forma, con cada imagen aumentada al azar.
    """
    from ._augment import apply_augment, resolve_augment

    aug = resolve_augment(augment)
    return x if aug is None else apply_augment(x, aug, generator)


def resize_images(images: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Reescala un tensor ``uint8 [N, 3, H, W]`` a ``size`` (antialias), por trozos.

    Args:
        images: imágenes ``uint8``.
        size: lado (cuadrado) o ``(alto, ancho)``.

    Returns:
        Las imágenes reescaladas, ``uint8``.
    """
    hw = _as_size(size)
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
        raise LabkitError("resize_images: las imágenes deben ser un tensor uint8 [N, 3, H, W].")
    if tuple(images.shape[2:]) == hw:
        return images
    out = []
    for chunk in images.split(256):
        r = F.interpolate(chunk.float(), size=hw, mode="bilinear", antialias=True,
                          align_corners=False)
        out.append(r.round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(out) if out else images.new_zeros((0, 3, *hw))


def _as_size(size: object) -> tuple[int, int]:
    """``size`` como ``(alto, ancho)``: un entero (lado) o dos, entre 1 y 4096."""
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return tuple(check_int("size", s, minimum=1, maximum=4096) for s in size)  # type: ignore[return-value]
    side = check_int("size", size, minimum=1, maximum=4096,
                     expected="un entero entre 1 y 4096 o un par (alto, ancho)")
    return side, side


def to_numpy_image(image: torch.Tensor) -> np.ndarray:
    """Convierte una imagen ``uint8 [3, H, W]`` en un arreglo ``[H, W, 3]`` para matplotlib."""
    return image.permute(1, 2, 0).cpu().numpy()
