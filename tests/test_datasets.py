"""Pruebas de labkit.data: los conjuntos reales, sus comprobaciones y su caché."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

import labkit
from labkit.base import LabkitError
from labkit.data import DataSplits
from labkit.data import _datasets as datasets


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """Una carpeta de datos vacía para la prueba (``$LABKIT_DATA``)."""
    home = tmp_path / "datos"
    monkeypatch.setenv("LABKIT_DATA", str(home))
    return home


@pytest.fixture(scope="module")
def elpv_small(tmp_path_factory):
    """ELPV a 24 px, decodificado una vez para todo el módulo en una carpeta temporal."""
    home = tmp_path_factory.mktemp("elpv_datos")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABKIT_DATA", str(home))
        yield datasets.elpv(24), home


# ----------------------------------------------------------------------------------- MedMNIST
def test_pneumonia_official_splits_counts_and_format():
    splits = labkit.pneumonia_mnist(image_size=32)
    assert isinstance(splits, DataSplits)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (4708, 524, 624)
    assert splits.classes == ["normal", "neumonía"]
    assert splits.train.class_counts() == {"normal": 1214, "neumonía": 3494}
    assert splits.test.class_counts() == {"normal": 234, "neumonía": 390}
    x = splits.train.images
    assert x.dtype == torch.uint8 and tuple(x.shape[1:]) == (3, 32, 32)
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 0], x[:, 2])  # gris en 3 canales


def test_breast_official_splits_and_class_names():
    splits = labkit.breast_mnist(image_size=28)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (546, 78, 156)
    assert splits.test.class_counts() == {"maligno": 42, "normal o benigno": 114}
    with np.load(datasets.MEDMNIST_DIR / "breastmnist.npz") as npz:  # 28 px: sin reescalar
        assert np.array_equal(splits.train.images[:, 0].numpy(), npz["train_images"])


def test_licence_and_citation_travel_with_the_data():
    splits = labkit.breast_mnist()
    for part in (splits.train, splits.val, splits.test, splits.train.take(10)):
        assert part.info["licencia"] == "CC BY 4.0"
        assert "Al-Dhabyani" in part.info["cita"] and "MedMNIST v2" in part.info["cita"]
    assert "CC BY 4.0" in repr(splits) and "Al-Dhabyani" in repr(splits)
    report = labkit.dataset_report(splits)
    assert "maligno 42" in report and "No apto para uso clínico" in report


def test_missing_medmnist_file_names_it_and_the_fix(tmp_path):
    with pytest.raises(LabkitError, match=r"(?s)Falta.*pneumoniamnist\.npz.*git checkout"):
        labkit.pneumonia_mnist(folder=tmp_path)


def test_corrupt_medmnist_file_is_refused(tmp_path):
    bad = tmp_path / "breastmnist.npz"
    shutil.copy(datasets.MEDMNIST_DIR / "breastmnist.npz", bad)
    with open(bad, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02")
    with pytest.raises(LabkitError, match=r"(?s)breastmnist\.npz.*dañado.*MD5"):
        labkit.breast_mnist(folder=tmp_path)


@pytest.mark.parametrize("size", [0, 8, 10_000, 64.5, "64", True, None])
def test_impossible_image_size_is_a_spanish_error(size):
    with pytest.raises(LabkitError, match="image_size"):
        labkit.pneumonia_mnist(image_size=size)


def test_medmnist_files_are_package_data():
    import tomllib

    conf = tomllib.loads((labkit.base.REPO_ROOT / "pyproject.toml").read_text())
    patterns = conf["tool"]["setuptools"]["package-data"]["labkit"]
    assert "medmnist/*.npz" in patterns
    assert sorted(p.name for p in datasets.MEDMNIST_DIR.glob("*.npz")) == [
        "breastmnist.npz", "pneumoniamnist.npz"]


# ----------------------------------------------------------------------------------- ELPV
def test_elpv_binary_drops_the_doubtful_third(elpv_small):
    splits, _ = elpv_small
    assert splits.classes == ["funcional", "defectuosa"]
    total = {c: sum(getattr(splits, p).class_counts()[c] for p in ("train", "val", "test"))
             for c in splits.classes}
    assert total == {"funcional": 1508, "defectuosa": 821}  # 2.624 − 295 dudosas (p = 1/3)
    assert tuple(splits.test.images.shape[1:]) == (3, 24, 24)
    assert 0.23 < len(splits.test) / 2329 < 0.27 and 0.08 < len(splits.val) / 2329 < 0.12
    assert "CC BY-NC-SA 4.0" in repr(splits) and "Deitsch" in splits.test.info["cita"]


def test_elpv_four_levels_uses_the_same_split_and_the_cache(elpv_small):
    binary, home = elpv_small
    cache = home / "elpv" / "elpv_24px_v1.npz"
    assert cache.is_file()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABKIT_DATA", str(home))
        mp.setattr(datasets, "_decode_elpv", lambda *a: pytest.fail("no usó la caché"))
        four = datasets.elpv(24, task="cuatro_niveles")
    assert len(four.classes) == 4
    assert sum(four.test.class_counts().values()) == 654
    # Las células de p = 0 del test son las mismas en ambas tareas.
    assert torch.equal(four.test.images[four.test.labels == 0],
                       binary.test.images[binary.test.labels == 0])
    assert sorted(p.name for p in home.rglob("*") if p.is_file()) == ["elpv_24px_v1.npz"]


def test_elpv_unreadable_cache_is_rebuilt(data_home):
    cache = datasets._elpv_cache_path(20)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(b"esto no es un npz")
    splits = datasets.elpv(20)
    assert len(splits.train) > 1000
    with np.load(cache) as npz:
        assert npz["images"].shape == (2624, 20, 20)


@pytest.mark.parametrize("kwargs, pattern", [
    ({"task": "tres"}, "task"), ({"image_size": 301}, "image_size"),
    ({"image_size": -1}, "image_size")])
def test_elpv_bad_arguments(data_home, kwargs, pattern):
    with pytest.raises(LabkitError, match=pattern):
        datasets.elpv(**kwargs)


def test_elpv_missing_labels_or_broken_image_are_named(tmp_path):
    with pytest.raises(LabkitError, match=r"(?s)labels\.csv.*elpv-dataset"):
        datasets.elpv(folder=tmp_path)
    (tmp_path / "roto.png").write_bytes(b"no es un png")
    with pytest.raises(LabkitError, match=r"(?s)roto\.png.*elpv-dataset"):
        datasets._decode_elpv(tmp_path, ["roto.png"], 16)


def test_elpv_split_is_deterministic_and_stratified():
    names = [f"images/cell{i:04d}.png" for i in range(400)]
    probs = np.repeat([0.0, 1 / 3, 2 / 3, 1.0], 100)
    types = np.tile([0, 1], 200)
    a = datasets._elpv_split(names, probs, types)
    assert np.array_equal(a, datasets._elpv_split(names, probs, types))
    for p in np.unique(probs):
        for t in (0, 1):
            part = a[(probs == p) & (types == t)]
            assert (part == 2).sum() == round(0.25 * 50) and (part == 1).sum() == 5
