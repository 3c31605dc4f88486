"""Pruebas de labkit.data: ImageSet, particiones, normalización, aumento y reescalado."""

from __future__ import annotations

import pytest
import torch

from labkit.base import LabkitError
from labkit.data import DataSplits, ImageSet, normalize, resize_images
from labkit.data._data import augment_batch


def _image_set(n: int = 12, classes: int = 3, size: int = 8, seed: int = 0) -> ImageSet:
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, size, size), generator=gen, dtype=torch.uint8)
    labels = torch.arange(n) % classes
    return ImageSet(images, labels, [f"c{i}" for i in range(classes)], "prueba")


# ----------------------------------------------------------------------------------- ImageSet
def test_image_set_basics():
    data = _image_set(12, 3, size=8)
    assert len(data) == 12
    assert data.num_classes == 3
    assert data.image_size == (8, 8)
    assert data.class_counts() == {"c0": 4, "c1": 4, "c2": 4}
    assert data.labels.dtype == torch.int64
    assert "prueba" in repr(data)


def test_image_set_converts_labels_to_int64():
    data = ImageSet(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 1], dtype=torch.int32),
                    ["a", "b"])
    assert data.labels.dtype == torch.int64


@pytest.mark.parametrize("images", [
    torch.zeros(2, 3, 4, 4),                      # float, no uint8
    torch.zeros(2, 4, 4, dtype=torch.uint8),      # 3 dimensiones
    torch.zeros(2, 1, 4, 4, dtype=torch.uint8),   # 1 canal
    torch.zeros(2, 4, 4, 3, dtype=torch.uint8),   # canales al final
])
def test_image_set_rejects_bad_images(images):
    with pytest.raises(LabkitError, match="uint8 de forma"):
        ImageSet(images, torch.tensor([0, 1]), ["a", "b"])


def test_image_set_rejects_length_mismatch():
    with pytest.raises(LabkitError, match="2 imágenes pero 3 etiquetas"):
        ImageSet(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 1, 1]), ["a", "b"])


def test_subset_keeps_classes_and_selects_rows():
    data = _image_set(12, 3)
    sub = data.subset([1, 5, 7], name="trozo")
    assert len(sub) == 3
    assert torch.equal(sub.images, data.images[[1, 5, 7]])
    assert sub.labels.tolist() == [1, 2, 1]
    assert sub.classes == data.classes and sub.classes is not data.classes
    assert sub.name == "trozo"
    assert data.subset(torch.tensor([0])).name == "prueba"


# ----------------------------------------------------------------------------------- take
def test_take_is_stratified_and_reproducible():
    data = _image_set(30, 3)
    part = data.take(9, seed=1)
    assert len(part) == 9
    assert list(part.class_counts().values()) == [3, 3, 3]
    assert torch.equal(part.images, data.take(9, seed=1).images)
    assert not torch.equal(part.images, data.take(9, seed=2).images)


def test_take_uneven_count_is_as_even_as_possible():
    counts = list(_image_set(30, 3).take(10).class_counts().values())
    assert sorted(counts) == [3, 3, 4]


def test_take_respects_small_classes():
    # Clase 0 con 2 imágenes, clase 1 con 8: se toma todo lo de la 0 y el resto de la 1.
    data = ImageSet(torch.zeros(10, 3, 2, 2, dtype=torch.uint8),
                    torch.tensor([0, 0] + [1] * 8), ["a", "b"])
    assert data.take(8).class_counts() == {"a": 2, "b": 6}


def test_take_errors_are_in_spanish():
    data = _image_set(12, 3)
    with pytest.raises(LabkitError, match="al menos una por clase"):
        data.take(2)
    with pytest.raises(LabkitError, match="Pediste 13 imágenes"):
        data.take(13)


def test_data_splits_repr_and_classes():
    data = _image_set(6, 2)
    splits = DataSplits(data, data.take(2), data.take(4))
    assert splits.classes == ["c0", "c1"]
    assert "train=6" in repr(splits) and "test=4" in repr(splits)


# ----------------------------------------------------------------------------------- normalize
def test_normalize_math():
    images = torch.tensor([0, 51, 255], dtype=torch.uint8).view(1, 3, 1, 1)
    mean, std = (0.0, 0.2, 0.5), (1.0, 0.5, 0.25)
    out = normalize(images, mean, std)
    assert out.dtype == torch.float32
    expected = torch.tensor([0.0, (0.2 - 0.2) / 0.5, (1.0 - 0.5) / 0.25]).view(1, 3, 1, 1)
    torch.testing.assert_close(out, expected)


def test_normalize_does_not_modify_input():
    images = torch.full((2, 3, 4, 4), 128, dtype=torch.uint8)
    normalize(images, (0.5,) * 3, (0.5,) * 3)
    assert images.dtype == torch.uint8 and int(images[0, 0, 0, 0]) == 128


# ----------------------------------------------------------------------------------- augment
def test_augment_batch_shape_and_determinism():
    x = torch.rand(4, 3, 16, 16)
    a = augment_batch(x, torch.Generator().manual_seed(3))
    b = augment_batch(x, torch.Generator().manual_seed(3))
    c = augment_batch(x, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a, x)


def test_augment_batch_keeps_values_in_range():
    x = torch.rand(8, 3, 16, 16)
    out = augment_batch(x, torch.Generator().manual_seed(0))
    assert out.min() >= -1e-5 and out.max() <= 1 + 1e-5


# ----------------------------------------------------------------------------------- resize
def test_resize_images_shapes_and_dtype():
    images = torch.randint(0, 256, (3, 3, 20, 30), dtype=torch.uint8)
    out = resize_images(images, 10)
    assert out.shape == (3, 3, 10, 10) and out.dtype == torch.uint8
    assert resize_images(images, (12, 8)).shape == (3, 3, 12, 8)
    assert resize_images(images, (20, 30)) is images


def test_resize_images_keeps_a_constant_image_constant():
    images = torch.full((2, 3, 17, 17), 77, dtype=torch.uint8)
    assert torch.equal(resize_images(images, 40), torch.full((2, 3, 40, 40), 77, dtype=torch.uint8))


def test_resize_images_empty_batch():
    out = resize_images(torch.zeros(0, 3, 8, 8, dtype=torch.uint8), 4)
    assert out.shape == (0, 3, 4, 4) and out.dtype == torch.uint8
