"""El conjunto integrado: inspección de superficies, generado por labkit sin red.

En el espíritu de la aplicación de la guía (defectos de manufactura): fotos sintéticas de
superficies metálicas o pintadas con cuatro clases, **sin defecto**, **rayón**, **grieta** y
**mancha**. Cada imagen sale de su propia semilla (semilla del conjunto, partición, índice), así:

* el mismo pedido da siempre las mismas imágenes, a cualquier resolución;
* las particiones train/val/test son disjuntas por construcción;
* pedir más imágenes de entrenamiento amplía el conjunto sin cambiar las primeras (los tamaños
  pequeños son subconjuntos de los grandes, lo que hace justas las curvas de tamaño de datos).

Los defectos se ven a simple vista, pero varían en posición, tamaño, contraste, orientación y
textura del fondo.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from ..base._cachefiles import digest_bytes, write_problem
from ..base._config import data_dir
from ..base._errors import LabkitError
from ..base._fileio import atomic_write
from ..base._validate import check_seed
from ._data import DataSplits, ImageSet

__all__ = ["SURFACE_CLASSES", "surface_dataset", "surface_images", "make_surface"]

SURFACE_CLASSES = ["sin defecto", "rayón", "grieta", "mancha"]
_SPLIT_IDS = {"train": 1, "val": 2, "test": 3}
_CACHE_MIN_IMAGES = 3000


def _background(rng: np.random.Generator, s: int) -> np.ndarray:
    """Fondo ``[s, s, 3]`` en 0–1: metal cepillado, fundición o pintura moteada."""
    kind = rng.integers(3)
    noise = rng.normal(size=(s, s))
    if kind == 0:  # cepillado: vetas a lo largo de un eje
        sigma = (0.6, s * rng.uniform(0.08, 0.25))
        tex = ndimage.gaussian_filter(noise, sigma[:: 1 if rng.random() < 0.5 else -1])
    elif kind == 1:  # fundición: grano fino
        tex = ndimage.gaussian_filter(noise, rng.uniform(0.7, 1.6))
    else:  # pintura: manchas suaves de baja frecuencia y grano
        tex = ndimage.gaussian_filter(noise, s / rng.uniform(6, 12)) * 4
        tex += 0.5 * ndimage.gaussian_filter(rng.normal(size=(s, s)), 0.8)
    tex = tex / (tex.std() + 1e-8) * rng.uniform(0.02, 0.07)
    yy, xx = np.mgrid[0:s, 0:s] / s - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    light = rng.uniform(0, 0.2) * (np.cos(angle) * xx + np.sin(angle) * yy)
    base = rng.uniform(0.35, 0.75)
    tint = 1 + rng.uniform(-0.06, 0.06, size=3)
    gray = base + tex + light
    return gray[..., None] * tint[None, None, :]


def _segments_mask(points: np.ndarray, widths: np.ndarray, s: int) -> np.ndarray:
    """Máscara suave (0–1) de una polilínea: distancia de cada píxel a cada segmento."""
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) + 0.5
    mask = np.zeros((s, s), np.float32)
    for (a, b), w in zip(zip(points[:-1], points[1:]), widths):
        ab = b - a
        t = ((xx - a[0]) * ab[0] + (yy - a[1]) * ab[1]) / max(float(ab @ ab), 1e-6)
        t = np.clip(t, 0, 1)
        d = np.hypot(xx - (a[0] + t * ab[0]), yy - (a[1] + t * ab[1]))
        mask = np.maximum(mask, np.clip(w / 2 + 0.5 - d, 0, 1))
    return mask


def _scratch(rng: np.random.Generator, s: int) -> tuple[np.ndarray, float]:
    """Rayón: una línea fina y larga, casi recta, clara u oscura."""
    length = s * rng.uniform(0.35, 0.8)
    angle = rng.uniform(0, np.pi)
    center = rng.uniform(0.3, 0.7, size=2) * s
    direction = np.array([np.cos(angle), np.sin(angle)])
    bend = rng.normal(0, 0.04) * length * np.array([-direction[1], direction[0]])
    ts = np.linspace(-0.5, 0.5, 6)[:, None]
    points = center + ts * length * direction + (1 - 4 * ts**2) * bend
    width = s / 128 * rng.uniform(0.8, 1.8)
    mask = _segments_mask(points, np.full(len(points) - 1, width), s)
    sign = 1.0 if rng.random() < 0.6 else -1.0
    return mask, sign * rng.uniform(0.15, 0.35)


def _crack(rng: np.random.Generator, s: int) -> tuple[np.ndarray, float]:
    """Grieta: un trazo oscuro quebrado, que se estrecha, a veces con ramas."""
    def walk(start: np.ndarray, heading: float, steps: int, step: float) -> np.ndarray:
        pts = [start]
        for _ in range(steps):
            heading += rng.normal(0, 0.6)
            pts.append(pts[-1] + step * np.array([np.cos(heading), np.sin(heading)]))
        return np.array(pts)

    length = s * rng.uniform(0.35, 0.7)
    steps = int(rng.integers(8, 16))
    main = walk(rng.uniform(0.25, 0.75, size=2) * s, rng.uniform(0, 2 * np.pi), steps,
                length / steps)
    width0 = s / 128 * rng.uniform(1.5, 3.0)
    mask = _segments_mask(main, np.linspace(width0, width0 * 0.3, steps), s)
    for _ in range(int(rng.integers(0, 3))):
        k = int(rng.integers(2, steps - 1))
        branch = walk(main[k], rng.uniform(0, 2 * np.pi), 4, length / steps * 0.8)
        mask = np.maximum(mask, _segments_mask(branch, np.linspace(width0 * 0.6, 0.3, 4), s))
    return mask, -rng.uniform(0.25, 0.45)


def _stain(rng: np.random.Generator, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Mancha: una forma irregular de bordes suaves, de óxido, aceite o cal."""
    yy, xx = np.mgrid[0:s, 0:s] / s
    cy, cx = rng.uniform(0.25, 0.75, size=2)
    radius = rng.uniform(0.08, 0.2)
    wobble = ndimage.gaussian_filter(rng.normal(size=(s, s)), s / 12)
    wobble /= wobble.std() + 1e-8
    dist = np.hypot(yy - cy, xx - cx) / radius + 0.25 * wobble
    mask = np.clip((1.0 - dist) * 4, 0, 1)
    mask = ndimage.gaussian_filter(mask, s / 128 * 1.5)
    palette = [(0.55, 0.33, 0.18), (0.15, 0.13, 0.12), (0.85, 0.83, 0.78)]
    color = np.array(palette[rng.integers(len(palette))]) + rng.uniform(-0.05, 0.05, size=3)
    return mask * rng.uniform(0.35, 0.7), color


def make_surface(label: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Genera una imagen ``uint8 [size, size, 3]`` de la clase ``label``.

    Args:
        label: índice en :data:`SURFACE_CLASSES`.
        size: lado en píxeles.
        rng: generador aleatorio de NumPy (fija la imagen).

    Returns:
        La imagen como arreglo ``uint8``.
    """
    img = _background(rng, size)
    if label == 1 or label == 2:
        mask, contrast = (_scratch if label == 1 else _crack)(rng, size)
        img = img + contrast * mask[..., None]
    elif label == 3:
        alpha, color = _stain(rng, size)
        img = img * (1 - alpha[..., None]) + color[None, None, :] * alpha[..., None]
    img = img + rng.normal(0, 0.01, size=img.shape)  # ruido del sensor
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def surface_images(n: int, split: str = "train", image_size: int = 128, seed: int = 0) -> ImageSet:
    """Genera ``n`` imágenes de una partición, equilibradas (la clase es ``índice % 4``).

    Args:
        n: número de imágenes (1 o más).
        split: ``"train"``, ``"val"`` o ``"test"``; cada una con imágenes distintas.
        image_size: lado en píxeles (16 o más).
        seed: semilla del conjunto.

    Returns:
        Un :class:`ImageSet` con nombre ``"superficies/<split>"``.
    """
    _check_request(n, split, image_size)
    seed = check_seed(seed)
    cached = _load_cache(n, split, image_size, seed)
    if cached is not None:
        return cached
    k = len(SURFACE_CLASSES)
    images = np.empty((n, image_size, image_size, 3), np.uint8)
    for i in range(n):
        rng = np.random.default_rng([seed, _SPLIT_IDS[split], i])
        images[i] = make_surface(i % k, image_size, rng)
    labels = torch.arange(n) % k
    data = ImageSet(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), labels,
                    list(SURFACE_CLASSES), f"superficies/{split}",
                    {"seed": seed, "split": split})
    if n >= _CACHE_MIN_IMAGES:
        _save_cache(data, n, split, image_size, seed)
    return data


def _check_request(n: int, split: str, image_size: int) -> None:
    if split not in _SPLIT_IDS:
        raise LabkitError(f"Partición desconocida '{split}': usa 'train', 'val' o 'test'.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise LabkitError(f"Pediste {n!r} imágenes para '{split}': pide un entero de 1 o más.")
    if not isinstance(image_size, (int, np.integer)) or image_size < 16:
        raise LabkitError(f"Tamaño de imagen {image_size!r} no válido: usa 16 píxeles o más "
                          "(128–224 es lo habitual).")


def _cache_path(n: int, split: str, image_size: int, seed: int) -> Path:
    key = hashlib.sha1(f"v2-{n}-{split}-{image_size}-{seed}".encode()).hexdigest()[:12]
    return data_dir(create=False) / "cache" / f"superficies-{split}-{n}-{image_size}px-{key}.pt"


def _load_cache(n: int, split: str, image_size: int, seed: int) -> ImageSet | None:
    path = _cache_path(n, split, image_size, seed)
    if not path.exists():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        images, labels = blob["images"], blob["labels"]
        intact = (images.dtype == torch.uint8 and images.shape == (n, 3, image_size, image_size)
                  and torch.equal(labels, torch.arange(n) % len(SURFACE_CLASSES))
                  and blob["sha256"] == digest_bytes(images.contiguous().numpy().data))
    except Exception:  # ilegible, truncada o de una versión anterior: se regenera
        intact = False
    if not intact:
        warnings.warn(f"La caché de superficies '{path}' no sirve (dañada o de una versión "
                      "anterior): la regenero.", UserWarning, stacklevel=4)
        return None
    return ImageSet(images, labels, list(SURFACE_CLASSES), f"superficies/{split}",
                    {"seed": seed, "split": split})


def _save_cache(data: ImageSet, n: int, split: str, image_size: int, seed: int) -> None:
    """Guarda de forma atómica: archivo temporal en la misma carpeta y luego ``os.replace``."""
    path = _cache_path(n, split, image_size, seed)
    try:
        with atomic_write(path) as fh:
            torch.save({"images": data.images, "labels": data.labels,
                        "sha256": digest_bytes(data.images.contiguous().numpy().data)}, fh)
    except OSError as err:  # la caché es opcional: sin permiso o sin sitio se sigue sin ella
        warnings.warn(write_problem("la caché de superficies", path.parent, err,
                                    "sigo sin guardarla"), UserWarning, stacklevel=4)


def surface_dataset(n_train: int = 100, n_val: int = 100, n_test: int = 200,
                    image_size: int = 128, seed: int = 0, num_classes: int = 4) -> DataSplits:
    """El conjunto integrado de inspección de superficies, con particiones fijas y disjuntas.

    Args:
        n_train: imágenes de entrenamiento (equilibradas entre clases).
        n_val: imágenes de validación.
        n_test: imágenes de prueba.
        image_size: lado en píxeles.
        seed: semilla del conjunto (la misma semilla da las mismas imágenes).
        num_classes: cuántas clases usar (2 a 4), en el orden de :data:`SURFACE_CLASSES`.

    Returns:
        Un :class:`DataSplits` con ``train``, ``val`` y ``test``.
    """
    k = len(SURFACE_CLASSES)
    seed = check_seed(seed)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 2 <= num_classes <= k:
        raise LabkitError(f"El conjunto de superficies tiene {k} clases ({', '.join(SURFACE_CLASSES)}); "
                          f"pediste num_classes={num_classes!r}: usa un número de 2 a {k}.")
    for name, n in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < num_classes:
            raise LabkitError(f"{name}={n!r}: hace falta al menos una imagen por clase "
                              f"({num_classes} o más).")
    parts = {}
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        full = surface_images(_full_count(n, num_classes, k), split, image_size, seed)
        keep = torch.nonzero(full.labels < num_classes).flatten()[:n]
        part = full.subset(keep)
        part.classes = list(SURFACE_CLASSES[:num_classes])
        parts[split] = part
    return DataSplits(parts["train"], parts["val"], parts["test"])


def _full_count(n: int, num_classes: int, k: int) -> int:
    """Cuántas imágenes generar para quedarse con ``n`` de las primeras ``num_classes`` clases."""
    return ((n + num_classes - 1) // num_classes) * k
