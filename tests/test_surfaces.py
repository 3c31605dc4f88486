"""Pruebas del conjunto integrado de superficies: determinista, disjunto, anidado y con caché.

Se usan imágenes pequeñas (32 px) y pocas: la velocidad de generación no se mide aquí.
"""

from __future__ import annotations

import pytest
import torch

import labkit
import labkit.data._surfaces as surfaces
from labkit.base import LabkitError
from labkit.data import SURFACE_CLASSES, surface_dataset
from labkit.data._surfaces import surface_images

SMALL = {"image_size": 32}


@pytest.fixture(autouse=True)
def no_cache(tmp_path, monkeypatch):
    """Cada prueba escribe (si escribe) su caché en una carpeta temporal."""
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "datos"))


def test_exported_from_labkit():
    assert labkit.surface_dataset is surface_dataset
    assert SURFACE_CLASSES == ["sin defecto", "rayón", "grieta", "mancha"]


def test_same_seed_same_images():
    a = surface_dataset(8, 8, 8, seed=3, **SMALL)
    b = surface_dataset(8, 8, 8, seed=3, **SMALL)
    for part in ("train", "val", "test"):
        assert torch.equal(getattr(a, part).images, getattr(b, part).images)
        assert torch.equal(getattr(a, part).labels, getattr(b, part).labels)


def test_different_seed_different_images():
    a = surface_dataset(8, 4, 4, seed=0, **SMALL).train.images
    b = surface_dataset(8, 4, 4, seed=1, **SMALL).train.images
    assert not torch.equal(a, b)
    assert all(not torch.equal(x, y) for x, y in zip(a, b))


def test_splits_are_disjoint():
    data = surface_dataset(40, 40, 40, **SMALL)
    seen: dict[bytes, str] = {}
    for part in ("train", "val", "test"):
        for image in getattr(data, part).images:
            key = image.numpy().tobytes()
            assert key not in seen, f"imagen repetida entre {seen.get(key)} y {part}"
            seen[key] = part
    assert len(seen) == 120


def test_classes_are_balanced_and_named():
    data = surface_dataset(40, 20, 12, **SMALL)
    assert data.classes == SURFACE_CLASSES
    assert data.train.class_counts() == dict.fromkeys(SURFACE_CLASSES, 10)
    assert data.val.class_counts() == dict.fromkeys(SURFACE_CLASSES, 5)
    assert data.test.class_counts() == dict.fromkeys(SURFACE_CLASSES, 3)
    assert data.train.images.dtype == torch.uint8
    assert data.train.images.shape == (40, 3, 32, 32)
    assert data.train.name == "superficies/train"


def test_larger_requests_extend_smaller_ones():
    small = surface_dataset(12, 4, 4, **SMALL)
    large = surface_dataset(40, 4, 4, **SMALL)
    assert torch.equal(large.train.images[:12], small.train.images)
    assert torch.equal(large.train.labels[:12], small.train.labels)
    # La validación y la prueba no dependen de cuántas imágenes de entrenamiento se pidan.
    assert torch.equal(large.test.images, small.test.images)


@pytest.mark.parametrize("size", [32, 128, 200])
def test_any_resolution(size):
    data = surface_dataset(4, 4, 4, image_size=size)
    for part in (data.train, data.val, data.test):
        assert part.images.shape == (4, 3, size, size)
    assert data.train.image_size == (size, size)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_fewer_classes(k):
    data = surface_dataset(2 * k, k, k, num_classes=k, **SMALL)
    assert data.classes == SURFACE_CLASSES[:k]
    assert data.train.num_classes == k
    assert set(data.train.labels.tolist()) == set(range(k))
    assert list(data.train.class_counts().values()) == [2] * k
    assert len(data.val) == k and len(data.test) == k


def test_fewer_classes_keep_the_same_images():
    four = surface_dataset(8, 4, 4, **SMALL).train
    two = surface_dataset(4, 2, 2, num_classes=2, **SMALL).train
    keep = torch.nonzero(four.labels < 2).flatten()
    assert torch.equal(two.images, four.images[keep])


@pytest.mark.parametrize("kwargs, message", [
    ({"n_train": 0}, "n_train=0"),
    ({"n_val": 3}, "n_val=3"),
    ({"n_test": -1}, "n_test=-1"),
    ({"n_train": 2.5}, "n_train=2.5"),
    ({"num_classes": 5}, "num_classes=5"),
    ({"num_classes": 1}, "num_classes=1"),
    ({"num_classes": True}, "num_classes=True"),
    ({"image_size": 8}, "Tamaño de imagen 8 no válido"),
])
def test_bad_requests_are_spanish_errors(kwargs, message):
    with pytest.raises(LabkitError, match=message):
        surface_dataset(**{"n_train": 4, "n_val": 4, "n_test": 4, **kwargs})


def test_bad_split_and_count_for_surface_images():
    with pytest.raises(LabkitError, match="Partición desconocida 'validacion'"):
        surface_images(4, "validacion")
    with pytest.raises(LabkitError, match="Pediste 0 imágenes"):
        surface_images(0, "train")


# ----------------------------------------------------------------------------------- caché
@pytest.fixture
def small_cache(tmp_path, monkeypatch):
    """Caché activa desde 4 imágenes, en una carpeta temporal."""
    monkeypatch.setattr(surfaces, "_CACHE_MIN_IMAGES", 4)
    folder = tmp_path / "datos"
    monkeypatch.setenv("LABKIT_DATA", str(folder))
    return folder / "cache"


def _forbid_generation(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("debía leerse de la caché")

    monkeypatch.setattr(surfaces, "make_surface", fail)


def test_cache_roundtrip(small_cache, monkeypatch):
    first = surface_images(8, "val", 32, seed=5)
    files = list(small_cache.glob("*.pt"))
    assert len(files) == 1 and "superficies-val-8-32px" in files[0].name
    assert not list(small_cache.glob("*.tmp"))
    _forbid_generation(monkeypatch)
    second = surface_images(8, "val", 32, seed=5)
    assert torch.equal(first.images, second.images)
    assert torch.equal(first.labels, second.labels)
    assert second.classes == SURFACE_CLASSES and second.name == "superficies/val"


def test_small_requests_are_not_cached(small_cache):
    surface_images(3, "train", 32)
    assert not small_cache.exists() or not list(small_cache.iterdir())


def test_corrupted_cache_is_regenerated(small_cache):
    first = surface_images(8, "train", 32)
    (path,) = small_cache.glob("*.pt")
    path.write_bytes(b"esto no es un tensor")
    again = surface_images(8, "train", 32)
    assert torch.equal(first.images, again.images)
    assert torch.load(path, weights_only=True)["images"].shape == (8, 3, 32, 32)  # reescrita
    assert not list(small_cache.glob("*.tmp"))
