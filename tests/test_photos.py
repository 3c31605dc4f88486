"""Pruebas de labkit.data: las fotos naturales (flores y frijoles), sus comprobaciones y créditos."""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import shutil
import warnings

import numpy as np
import pytest
import torch

import labkit
from labkit.base import LabkitError
from labkit.data import DataSplits
from labkit.data import _imagecache as imagecache
from labkit.data import _photos as photos

FLOWER_CLASSES = ["margarita", "diente de león", "rosa", "girasol", "tulipán"]
BEAN_CLASSES = ["mancha angular", "roya", "sana"]
# sha256 de la partición fija (0/1/2 por fila del manifiesto, separados por comas): si cambia,
# cambian los números que cita el curso. Cambiarla a propósito exige subir _SPLIT_VERSION.
SPLIT_SHA = {"flores": "49d352c969416b40", "frijoles": "14794200bf4440c7"}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """Una carpeta de datos propia del módulo (``$LABKIT_DATA``)."""
    path = tmp_path_factory.mktemp("fotos_datos")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABKIT_DATA", str(path))
        yield path


@pytest.fixture(scope="module")
def flowers32(home):
    return labkit.flowers(image_size=32)


@pytest.fixture
def flower_copy(tmp_path, home):
    """Una copia de las flores en una carpeta temporal, para estropearla."""
    target = tmp_path / "flores"
    shutil.copytree(photos.PHOTOS_DIR / "flores", target)
    return target


def _rows(folder):
    with open(folder / "manifest.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write_rows(folder, rows, fields=None):
    fields = fields or list(rows[0])
    with open(folder / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


# ----------------------------------------------------------------------------------- carga
def test_flowers_load_with_spanish_classes_and_fixed_counts(flowers32):
    d = flowers32
    assert isinstance(d, DataSplits) and d.classes == FLOWER_CLASSES
    assert (len(d.train), len(d.val), len(d.test)) == (700, 150, 150)
    assert d.train.class_counts() == dict.fromkeys(FLOWER_CLASSES, 140)
    assert d.test.class_counts() == dict.fromkeys(FLOWER_CLASSES, 30)
    x = d.train.images
    assert x.dtype == torch.uint8 and tuple(x.shape[1:]) == (3, 32, 32)
    assert not torch.equal(x[:, 0], x[:, 1])  # color de verdad, no gris copiado
    assert imagecache.image_cache_key(d.train) is not None  # las características se pueden guardar


def test_beans_load_with_spanish_classes_and_fixed_counts(home):
    d = labkit.beans(image_size=24)
    assert d.classes == BEAN_CLASSES
    assert (len(d.train), len(d.val), len(d.test)) == (420, 90, 90)
    assert d.val.class_counts() == dict.fromkeys(BEAN_CLASSES, 30)
    assert "MIT" in repr(d) and "Makerere" in d.test.info["fuente"]


def test_images_are_decoded_like_image_folder(flowers32, home):
    """Mismo camino que image_folder (lado corto + recorte central): mismas imágenes."""
    with warnings.catch_warnings():  # avisa de manifest.csv y los .txt sueltos: no son fotos
        warnings.simplefilter("ignore", UserWarning)
        folder = labkit.image_folder(photos.PHOTOS_DIR / "flores", image_size=32, workers=1)
    mine = {hashlib.sha1(im.numpy().tobytes()).hexdigest() for im in flowers32.train.images}
    theirs = {hashlib.sha1(im.numpy().tobytes()).hexdigest()
              for s in (folder.train, folder.val, folder.test) for im in s.images}
    assert mine <= theirs


@pytest.mark.parametrize("key", ["flores", "frijoles"])
def test_split_is_fixed(key):
    spec = photos.PHOTO_SETS[key]
    split = photos.split_of(photos._read_manifest(photos.PHOTOS_DIR / key, spec), spec)
    text = ",".join(str(int(v)) for v in split)
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == SPLIT_SHA[key]


def test_near_duplicate_flowers_share_a_split():
    spec = photos.PHOTO_SETS["flores"]
    rows = photos._read_manifest(photos.PHOTOS_DIR / "flores", spec)
    split = dict(zip((r["file"] for r in rows), photos.split_of(rows, spec), strict=True))
    for twin, first in spec["together"].items():
        assert split[twin] == split[first]


def test_second_load_uses_the_cache(flowers32, monkeypatch):
    monkeypatch.setattr(imagecache, "decode_files", lambda *a, **k: pytest.fail("redecodificó"))
    again = labkit.flowers(image_size=32)
    assert torch.equal(again.test.images, flowers32.test.images)


# ----------------------------------------------------------------------------------- créditos
def test_report_names_licence_source_and_credits(flowers32):
    report = labkit.dataset_report(flowers32)
    assert "CC BY 2.0, cada foto con su autor en ATTRIBUTION.txt" in report
    assert "ATTRIBUTION.txt" in report and "flower_photos" in report
    assert "tulipán 30" in report
    assert "CC BY 2.0" in repr(flowers32)


def test_beans_report_names_mit_and_makerere(home):
    report = labkit.dataset_report(labkit.beans(image_size=24))
    assert "MIT" in report and "Makerere AI Lab" in report and "LICENSE" in report


def test_photo_credits_name_the_author_of_each_shown_photo(flowers32):
    shown = flowers32.train.take(5, seed=3)
    text = labkit.photo_credits(shown, [4, 0])
    lines = text.splitlines()
    assert "CC BY 2.0" in lines[0] and "ATTRIBUTION.txt" in lines[0] and len(lines) == 3
    by_url = {r["url"]: r["author"] for r in _rows(photos.PHOTOS_DIR / "flores")}
    for line in lines[1:]:
        author, url = line.split(". ", 1)[1].rsplit(", ", 1)
        assert by_url[url] == author
    assert repr(text) == str(text)  # como valor de una celda se ve tal cual


def test_photo_credits_match_the_file_shown(flowers32):
    """El crédito es el de la foto que se ve: se comprueba decodificando ese archivo."""
    from labkit.data._imagedecode import read_image

    text = labkit.photo_credits(flowers32.test, [7])
    url = text.splitlines()[1].rsplit(", ", 1)[1]
    row = next(r for r in _rows(photos.PHOTOS_DIR / "flores") if r["url"] == url)
    array, _, _ = read_image(photos.PHOTOS_DIR / "flores" / row["file"], 32, 10**8)
    assert np.array_equal(array.transpose(2, 0, 1), flowers32.test.images[7].numpy())


def test_photo_credits_refuses_other_data_and_bad_indices(flowers32):
    with pytest.raises(LabkitError, match="partición"):
        labkit.photo_credits(flowers32)
    with pytest.raises(LabkitError, match="no existen"):
        labkit.photo_credits(flowers32.test, [150])
    other = labkit.data.ImageSet(torch.zeros(2, 3, 8, 8, dtype=torch.uint8), [0, 1], ["a", "b"])
    with pytest.raises(LabkitError, match="labkit.flowers"):
        labkit.photo_credits(other)


def test_image_grid_carries_the_cc_by_footer_and_credits(flowers32):
    import labkit.plots._plots as plots

    fig = plots.plot_image_grid(flowers32.train, per_class=2)
    assert "CC BY 2.0" in fig.get_supxlabel() and "ATTRIBUTION.txt" in fig.get_supxlabel()
    assert len(fig.photo_credits.splitlines()) == 1 + 2 * 5


# ----------------------------------------------------------------------------------- errores
def test_corrupt_photo_is_named_with_the_fix(flower_copy):
    victim = flower_copy / "roses" / sorted(p.name for p in (flower_copy / "roses").iterdir())[3]
    data = bytearray(victim.read_bytes())
    data[500] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(LabkitError, match=rf"(?s){victim.name}.*dañada.*git checkout"):
        labkit.flowers(image_size=32, folder=flower_copy)


def test_a_photo_changed_after_a_good_load_is_caught(flower_copy):
    """La comprobación se hace una vez por proceso, pero se repite si un archivo cambia."""
    labkit.flowers(image_size=16, folder=flower_copy)
    victim = flower_copy / "daisy" / sorted(p.name for p in (flower_copy / "daisy").iterdir())[0]
    data = bytearray(victim.read_bytes())
    data[-100] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(LabkitError, match=rf"(?s){victim.name}.*dañada"):
        labkit.flowers(image_size=16, folder=flower_copy)


def test_missing_photo_is_named(flower_copy):
    victim = next((flower_copy / "tulips").iterdir())
    victim.unlink()
    with pytest.raises(LabkitError, match=rf"(?s)Falta la foto.*{victim.name}.*reinstala"):
        labkit.flowers(image_size=32, folder=flower_copy)


def test_extra_file_is_named(flower_copy):
    (flower_copy / "daisy" / "mia.jpg").write_bytes(b"no es una foto")
    with pytest.raises(LabkitError, match=r"(?s)mia\.jpg.*no está en el manifiesto"):
        labkit.flowers(image_size=32, folder=flower_copy)


def test_missing_manifest_row_is_refused(flower_copy):
    rows = _rows(flower_copy)
    _write_rows(flower_copy, rows[1:])
    with pytest.raises(LabkitError, match=r"(?s)manifest\.csv.*no coincide"):
        labkit.flowers(image_size=32, folder=flower_copy)


def test_wrong_manifest_columns_are_refused(flower_copy):
    rows = _rows(flower_copy)
    _write_rows(flower_copy, rows, [c for c in rows[0] if c != "sha256"])
    with pytest.raises(LabkitError, match=r"(?s)manifest\.csv.*columnas.*sha256"):
        labkit.flowers(image_size=32, folder=flower_copy)


def test_manifest_path_cannot_escape_the_folder(flower_copy):
    rows = _rows(flower_copy)
    rows[0]["file"] = "../../etc/passwd"
    _write_rows(flower_copy, rows)
    with pytest.raises(LabkitError, match="línea 2"):
        labkit.flowers(image_size=32, folder=flower_copy)


def test_missing_folder_and_manifest(tmp_path):
    with pytest.raises(LabkitError, match="Falta la carpeta de fotos"):
        labkit.beans(folder=tmp_path / "no_existe")
    with pytest.raises(LabkitError, match=r"(?s)Falta el manifiesto.*reinstala labkit"):
        labkit.beans(folder=tmp_path)


@pytest.mark.parametrize("size", [0, 8, 10_000, 64.5, "128", True, None])
def test_impossible_size_is_a_spanish_error(size):
    with pytest.raises(LabkitError, match="image_size"):
        labkit.flowers(image_size=size)


def test_nothing_is_written_outside_the_data_folder(flower_copy, home):
    before = sorted(p.relative_to(flower_copy) for p in flower_copy.rglob("*"))
    labkit.flowers(image_size=16, folder=flower_copy)
    assert sorted(p.relative_to(flower_copy) for p in flower_copy.rglob("*")) == before
    assert any((home / "cache_imagenes").glob("*.u8"))


# ----------------------------------------------------------------------------------- paquete
def test_photos_are_package_data():
    import tomllib

    conf = tomllib.loads((labkit.base.REPO_ROOT / "pyproject.toml").read_text())
    patterns = conf["tool"]["setuptools"]["package-data"]["labkit"]
    files = [p.relative_to(photos.PHOTOS_DIR.parent).as_posix()
             for p in photos.PHOTOS_DIR.rglob("*") if p.is_file()]
    assert len(files) == 1000 + 600 + 4 + 3
    uncovered = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert uncovered == []
    assert {"fotos/flores/ATTRIBUTION.txt", "fotos/frijoles/LICENSE"} <= set(files)
