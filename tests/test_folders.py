"""Pruebas de labkit.data: carpetas de imágenes reales creadas con PIL en tmp_path."""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from labkit.base import LabkitError
from labkit.data import DataSplits, FolderReport, folder_report, image_folder

SIZE = 32


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    """Cada prueba con su propia carpeta de datos: la caché de imágenes no se comparte."""
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "labkit_data"))


# ---------------------------------------------------------------------------------- ayudantes
def _rgb_array(height: int = 40, width: int = 60, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _save(path: Path, img: Image.Image, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **kwargs)
    return path


def _make_classes(root: Path, counts: dict[str, int], ext: str = "png") -> Path:
    for c, (name, n) in enumerate(counts.items()):
        for i in range(n):
            arr = _rgb_array(40 + i % 5, 60, seed=100 * c + i)
            _save(root / name / f"img_{i:03d}.{ext}", Image.fromarray(arr))
    return root


def _load_quietly(*args, **kwargs) -> DataSplits:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = image_folder(*args, **kwargs)
    ours = [w for w in caught if "labkit" in w.filename or "test_folders" in w.filename]
    assert not ours, [str(w.message) for w in ours]
    return splits


def _load_with_warnings(*args, **kwargs) -> tuple[DataSplits, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = image_folder(*args, **kwargs)
    return splits, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def _snapshot(root: Path) -> dict[str, tuple]:
    return {p.relative_to(root).as_posix(): (p.is_dir(), p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


# ---------------------------------------------------------------------------------- organización
def test_class_layout_shapes_counts_and_report(tmp_path):
    root = _make_classes(tmp_path / "mascotas", {"perro": 10, "gato": 10})
    splits = _load_quietly(root, image_size=SIZE, val_fraction=0.2, test_fraction=0.2)
    assert splits.classes == ["gato", "perro"]
    for part, expected in ((splits.train, 6), (splits.val, 2), (splits.test, 2)):
        assert part.images.dtype == torch.uint8
        assert tuple(part.images.shape[1:]) == (3, SIZE, SIZE)
        assert part.class_counts() == {"gato": expected, "perro": expected}
    report = folder_report(splits)
    assert isinstance(report, FolderReport) and splits.train.info["report"] is report
    assert report.counts["val"] == {"gato": 2, "perro": 2}
    assert report.total == 20 and report.widths == (60, 60, 60) and report.heights == (40, 42, 44)
    assert not report.skipped and not report.converted


def test_train_val_layout_uses_given_splits_and_carves_test(tmp_path):
    root = tmp_path / "hormigas_abejas"
    _make_classes(root / "train", {"ants": 8, "bees": 8})
    _make_classes(root / "val", {"ants": 3, "bees": 3})
    splits = _load_quietly(root, image_size=SIZE, test_fraction=0.15)
    assert splits.val.class_counts() == {"ants": 3, "bees": 3}
    assert splits.test.class_counts() == {"ants": 1, "bees": 1}
    assert splits.train.class_counts() == {"ants": 7, "bees": 7}
    assert "train/" in folder_report(splits).layout
    no_test = _load_quietly(root, image_size=SIZE, test_fraction=0.0)
    assert len(no_test.test) == 0 and len(no_test.train) == 16


def test_train_val_test_layout_is_used_as_is(tmp_path):
    root = tmp_path / "datos"
    for split, n in (("train", 4), ("val", 2), ("test", 3)):
        _make_classes(root / split, {"a": n, "b": n})
    splits = _load_quietly(root, image_size=SIZE)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (8, 4, 6)


def test_train_val_classes_must_match(tmp_path):
    root = tmp_path / "datos"
    _make_classes(root / "train", {"a": 3, "b": 3})
    _make_classes(root / "val", {"a": 3, "c": 3})
    with pytest.raises(LabkitError, match="no coinciden") as err:
        image_folder(root, image_size=SIZE)
    assert "'b'" in str(err.value) and "'c'" in str(err.value)


# ---------------------------------------------------------------------------------- errores claros
def test_missing_path_names_the_path(tmp_path):
    missing = tmp_path / "no_existe"
    with pytest.raises(LabkitError, match="No encuentro la carpeta") as err:
        image_folder(missing)
    assert "no_existe" in str(err.value)


def test_file_instead_of_folder(tmp_path):
    archive = tmp_path / "fotos.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))
    with pytest.raises(LabkitError, match="es un archivo, no una carpeta") as err:
        image_folder(archive)
    assert "descomprímelo" in str(err.value)


def test_one_class_only(tmp_path):
    root = _make_classes(tmp_path / "solo", {"gato": 3})
    with pytest.raises(LabkitError, match="Encontré 1 carpeta") as err:
        image_folder(root)
    assert "al menos 2" in str(err.value) and "perro" in str(err.value)


def test_no_class_folders_mentions_loose_files(tmp_path):
    root = tmp_path / "sueltas"
    _save(root / "foto.png", Image.fromarray(_rgb_array()))
    with pytest.raises(LabkitError, match="Encontré 0") as err:
        image_folder(root)
    assert "sueltos" in str(err.value)


def test_empty_class_folder_is_named(tmp_path):
    root = _make_classes(tmp_path / "datos", {"gato": 3, "perro": 3})
    (root / "loro").mkdir()
    (root / "loro" / ".DS_Store").write_bytes(b"\0")
    with pytest.raises(LabkitError, match="'loro'.*vacía"):
        image_folder(root)


def test_bad_fractions(tmp_path):
    root = _make_classes(tmp_path / "datos", {"a": 3, "b": 3})
    with pytest.raises(LabkitError, match="menor que 1"):
        image_folder(root, val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(LabkitError, match="image_size"):
        image_folder(root, image_size=2)


def test_folder_report_needs_image_folder_splits(tmp_path):
    root = _make_classes(tmp_path / "datos", {"a": 3, "b": 3})
    splits = _load_quietly(root, image_size=SIZE)
    splits.train.info.clear()
    with pytest.raises(LabkitError, match="image_folder"):
        folder_report(splits)


# ---------------------------------------------------------------------------------- archivos raros
def test_non_image_files_are_skipped_with_one_warning(tmp_path):
    root = _make_classes(tmp_path / "datos", {"gato": 4, "perro": 4})
    (root / "gato" / "notas.txt").write_text("hola")
    (root / "perro" / "etiquetas.csv").write_text("a,b\n")
    (root / "perro" / "foto.heic").write_bytes(b"\0\0\0\x18ftypheic")
    (root / "LEEME.md").write_text("# datos")
    for hidden in (".ipynb_checkpoints", "__MACOSX"):
        _save(root / "gato" / hidden / "x.png", Image.fromarray(_rgb_array()))
    (root / "gato" / ".DS_Store").write_bytes(b"\0\1")
    splits, messages = _load_with_warnings(root, image_size=SIZE)
    assert len(messages) == 1
    for name in ("gato/notas.txt", "perro/etiquetas.csv", "perro/foto.heic", "LEEME.md"):
        assert name in messages[0]
    assert "Se omitieron 4" in messages[0] and "folder_report" in messages[0]
    assert len(splits.train) + len(splits.val) + len(splits.test) == 8
    skipped = {s.path: s.reason for s in folder_report(splits).skipped}
    assert skipped["gato/notas.txt"] == "no es una imagen"
    assert "JPG o PNG" in skipped["perro/foto.heic"]
    assert not any(".DS_Store" in p or "MACOSX" in p or "checkpoints" in p for p in skipped)


def test_warning_lists_first_ten_and_how_many_more(tmp_path):
    root = _make_classes(tmp_path / "datos", {"a": 3, "b": 3})
    for i in range(15):
        (root / "a" / f"nota_{i:02d}.txt").write_text("x")
    _, messages = _load_with_warnings(root, image_size=SIZE)
    assert len(messages) == 1 and "y 5 más" in messages[0]
    assert "nota_09.txt" in messages[0] and "nota_10.txt" not in messages[0]


def test_truncated_and_garbage_jpegs_are_skipped(tmp_path):
    root = _make_classes(tmp_path / "datos", {"gato": 4, "perro": 4}, ext="jpg")
    buffer = io.BytesIO()
    Image.fromarray(_rgb_array(120, 160)).save(buffer, format="JPEG", quality=90)
    (root / "gato" / "cortada.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (root / "perro" / "basura.jpg").write_bytes(np.random.default_rng(0).bytes(3000))
    splits, messages = _load_with_warnings(root, image_size=SIZE)
    assert len(messages) == 1
    assert "gato/cortada.jpg" in messages[0] and "perro/basura.jpg" in messages[0]
    skipped = {s.path: s.reason for s in folder_report(splits).skipped}
    assert skipped["gato/cortada.jpg"] == "imagen dañada o incompleta"
    assert "no se puede leer" in skipped["perro/basura.jpg"]
    assert len(splits.train) + len(splits.val) + len(splits.test) == 8


def test_class_with_no_readable_image_is_an_error(tmp_path):
    root = _make_classes(tmp_path / "datos", {"gato": 3})
    (root / "perro").mkdir()
    (root / "perro" / "rota.jpg").write_bytes(b"no soy una imagen")
    with pytest.raises(LabkitError, match="'perro'.*ninguna imagen"):
        _load_with_warnings(root, image_size=SIZE)


def test_huge_image_over_max_pixels_is_skipped(tmp_path):
    root = _make_classes(tmp_path / "datos", {"a": 3, "b": 3})
    _save(root / "a" / "enorme.png", Image.fromarray(_rgb_array(300, 400)))
    splits, messages = _load_with_warnings(root, image_size=SIZE, max_pixels=50_000)
    reason = {s.path: s.reason for s in folder_report(splits).skipped}["a/enorme.png"]
    assert "demasiado grande" in reason and "400×300" in reason
    assert len(messages) == 1 and "a/enorme.png" in messages[0]


def _png_header_only(width: int, height: int) -> bytes:
    """Un PNG que declara ``width × height`` píxeles pero casi no trae datos (una «bomba»)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    root = _make_classes(tmp_path / "datos", {"a": 3, "b": 3})
    (root / "b" / "bomba.png").write_bytes(_png_header_only(30_000, 30_000))
    (root / "b" / "grande.png").write_bytes(_png_header_only(8_000, 6_000))
    splits, _ = _load_with_warnings(root, image_size=SIZE)
    reasons = {s.path: s.reason for s in folder_report(splits).skipped}
    assert "demasiado grande" in reasons["b/bomba.png"] and "bomba" in reasons["b/bomba.png"]
    assert "8000×6000" in reasons["b/grande.png"]


# ---------------------------------------------------------------------------------- modos de color
def _mode_image(mode: str) -> tuple[Image.Image, dict, tuple[int, int, int]]:
    """Imagen uniforme de 40×60 en ``mode``, argumentos para guardarla y el RGB esperado."""
    size = (60, 40)
    if mode == "L":
        return Image.new("L", size, 100), {"format": "PNG"}, (100, 100, 100)
    if mode == "LA":
        return Image.new("LA", size, (30, 0)), {"format": "PNG"}, (255, 255, 255)
    if mode == "RGBA":
        return Image.new("RGBA", size, (255, 0, 0, 0)), {"format": "PNG"}, (255, 255, 255)
    if mode == "P":
        img = Image.new("P", size, 1)
        img.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
        return img, {"format": "PNG"}, (0, 0, 255)
    if mode == "I;16":
        arr = np.full((40, 60), 80 * 257, dtype=np.uint16)
        return Image.fromarray(arr), {"format": "PNG"}, (80, 80, 80)
    if mode == "CMYK":
        return Image.new("CMYK", size, (0, 255, 255, 0)), {"format": "JPEG"}, (255, 0, 0)
    raise AssertionError(mode)


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "I;16", "CMYK"])
def test_color_modes_are_converted_to_rgb(tmp_path, mode):
    root = tmp_path / "modos"
    img, save_kwargs, expected = _mode_image(mode)
    ext = "jpg" if save_kwargs["format"] == "JPEG" else "png"
    for i in range(3):
        _save(root / "a_especial" / f"{i}.{ext}", img, **save_kwargs)
    _make_classes(root, {"b_rgb": 3})
    splits = _load_quietly(root, image_size=SIZE, val_fraction=0, test_fraction=0)
    images = splits.train.images[splits.train.labels == 0]
    assert images.shape == (3, 3, SIZE, SIZE)
    mean = images.float().mean(dim=(0, 2, 3))
    assert torch.allclose(mean, torch.tensor(expected, dtype=torch.float32), atol=6), mean
    converted = {c.path: c.mode for c in folder_report(splits).converted}
    assert converted == {f"a_especial/{i}.{ext}": Image.open(root / "a_especial" / f"0.{ext}").mode
                         for i in range(3)}


def test_rgba_is_composited_on_white(tmp_path):
    root = tmp_path / "alfa"
    arr = np.zeros((40, 40, 4), dtype=np.uint8)
    arr[..., 0] = 255
    arr[:, :20, 3] = 255  # mitad izquierda roja opaca, mitad derecha transparente
    for i in range(3):
        _save(root / "a" / f"{i}.png", Image.fromarray(arr, "RGBA"))
    _make_classes(root, {"b": 3})
    splits = _load_quietly(root, image_size=SIZE, val_fraction=0, test_fraction=0)
    image = splits.train.images[splits.train.labels == 0][0]
    assert image[:, 16, 2].tolist() == [255, 0, 0]
    assert image[:, 16, SIZE - 3].tolist() == [255, 255, 255]


def test_16_bit_gradient_is_scaled_not_saturated(tmp_path):
    root = tmp_path / "medico"
    gradient = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (64, 1))
    for i in range(3):
        _save(root / "rx" / f"{i}.png", Image.fromarray(gradient))
    _make_classes(root, {"zz": 3})
    splits = _load_quietly(root, image_size=64, val_fraction=0, test_fraction=0)
    row = splits.train.images[splits.train.labels == 0][0, 0, 32].float()
    expected = torch.from_numpy(gradient[32].astype(np.float32) / 257.0)
    assert torch.allclose(row, expected, atol=1.5)
    assert row.min() <= 1 and row.max() >= 254 and 120 < row.mean() < 135


def test_exif_orientation_is_applied(tmp_path):
    root = tmp_path / "exif"
    arr = np.zeros((30, 60, 3), dtype=np.uint8)
    arr[:15] = (255, 0, 0)   # arriba rojo
    arr[15:] = (0, 0, 255)   # abajo azul
    exif = Image.Exif()
    exif[0x0112] = 6  # girar 90° a la derecha para verla bien: arriba → derecha
    for i in range(3):
        _save(root / "a" / f"{i}.jpg", Image.fromarray(arr), exif=exif, quality=95)
    _make_classes(root, {"b": 3})
    splits = _load_quietly(root, image_size=SIZE, val_fraction=0, test_fraction=0)
    image = splits.train.images[splits.train.labels == 0][0].int()
    assert image[:, 16, 4].argmax().item() == 2   # izquierda azul
    assert image[:, 16, SIZE - 4].argmax().item() == 0  # derecha roja
    assert folder_report(splits).widths[0] == 30


def test_resize_and_crop_match_torchvision(tmp_path):
    from torchvision import transforms as T

    root = tmp_path / "tv"
    originals = [_rgb_array(70 + 9 * i, 50 + 13 * i, seed=i) for i in range(3)]
    for i, arr in enumerate(originals):
        _save(root / "a" / f"{i}.png", Image.fromarray(arr))
    _make_classes(root, {"b": 3})
    splits = _load_quietly(root, image_size=SIZE, val_fraction=0, test_fraction=0)
    ours = splits.train.images[splits.train.labels == 0]
    pipeline = T.Compose([T.Resize(SIZE), T.CenterCrop(SIZE), T.PILToTensor()])
    for i, arr in enumerate(originals):
        assert torch.equal(ours[i], pipeline(Image.fromarray(arr)))


# ---------------------------------------------------------------------------------- garantías
def test_folder_is_never_written(tmp_path):
    root = _make_classes(tmp_path / "datos", {"gato": 5, "perro": 5}, ext="jpg")
    (root / "gato" / "notas.txt").write_text("x")
    (root / "perro" / "rota.jpg").write_bytes(b"\xff\xd8\xff\xe0 basura")
    before = _snapshot(root)
    _load_with_warnings(root, image_size=SIZE)
    assert _snapshot(root) == before


def test_same_folder_and_seed_give_same_splits(tmp_path):
    root = _make_classes(tmp_path / "datos", {"a": 12, "b": 9, "c": 7})
    first = _load_quietly(root, image_size=SIZE, seed=3)
    second = _load_quietly(root, image_size=SIZE, seed=3)
    other = _load_quietly(root, image_size=SIZE, seed=4)
    for name in ("train", "val", "test"):
        assert torch.equal(getattr(first, name).images, getattr(second, name).images)
        assert torch.equal(getattr(first, name).labels, getattr(second, name).labels)
    assert not torch.equal(first.val.images, other.val.images)


def test_stratification_and_tiny_classes(tmp_path):
    root = _make_classes(tmp_path / "datos", {"a": 20, "b": 10, "c": 3, "d": 2, "e": 1})
    splits, messages = _load_with_warnings(root, image_size=SIZE, val_fraction=0.2,
                                           test_fraction=0.2)
    report = folder_report(splits)
    assert report.counts["train"] == {"a": 12, "b": 6, "c": 1, "d": 1, "e": 1}
    assert report.counts["val"] == {"a": 4, "b": 2, "c": 1, "d": 1, "e": 0}
    assert report.counts["test"] == {"a": 4, "b": 2, "c": 1, "d": 0, "e": 0}
    tiny = [m for m in messages if "muy pocas" in m]
    assert len(tiny) == 1 and "'d'" in tiny[0] and "'e'" in tiny[0] and "'c'" not in tiny[0]
    assert len(report.notes) == 3 and "ninguna para prueba" in report.notes[0]


def test_max_per_class_limits_files(tmp_path):
    root = _make_classes(tmp_path / "datos", {"a": 12, "b": 5})
    splits = _load_quietly(root, image_size=SIZE, max_per_class=6)
    assert folder_report(splits).total == 11


def test_report_text_and_html(tmp_path):
    root = _make_classes(tmp_path / "datos", {"gato": 4, "perro": 4})
    (root / "gato" / "notas.txt").write_text("x")
    _save(root / "perro" / "gris.png", Image.new("L", (50, 50), 9))
    splits, _ = _load_with_warnings(root, image_size=SIZE)
    text = str(folder_report(splits))
    for piece in ("entrenamiento", "validación", "prueba", "gato", "perro", "Omitidos (1)",
                  "gato/notas.txt", "Convertidas a RGB (1)", "perro/gris.png (L)", "32×32"):
        assert piece in text, piece
    assert repr(folder_report(splits)) == text  # sin el repr crudo de la dataclass
    page = folder_report(splits)._repr_html_()
    assert page.startswith("<div>") and "<table>" in page and "perro/gris.png" in page


# ---------------------------------------------------------------------------------- issue 12
@pytest.mark.parametrize("kwargs,name", [
    ({"val_fraction": "0.1"}, "val_fraction"),
    ({"test_fraction": float("nan")}, "test_fraction"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"max_per_class": 2.5}, "max_per_class"),
    ({"max_per_class": 0}, "max_per_class"),
    ({"image_size": "160"}, "image_size"),
    ({"max_pixels": 0}, "max_pixels"),
    ({"progress": "sí"}, "progress"),
    ({"workers": 0}, "workers"),
])
def test_bad_arguments_are_spanish_errors_naming_the_argument(tmp_path, kwargs, name):
    root = _make_classes(tmp_path / "datos", {"a": 3, "b": 3})
    with pytest.raises(LabkitError, match=f"^{name}: llegó .*; se espera"):
        image_folder(root, **kwargs)


def test_numpy_integers_are_accepted(tmp_path):
    root = _make_classes(tmp_path / "datos", {"a": 4, "b": 4})
    splits = _load_quietly(root, image_size=np.int64(SIZE), seed=np.int32(2),
                           max_per_class=np.int64(3))
    assert splits.train.image_size == (SIZE, SIZE) and folder_report(splits).total == 6


def test_unreadable_class_folder_is_not_called_empty(tmp_path, monkeypatch):
    """chmod 000 no impide leer a root (las pruebas corren como root): se simula el error."""
    root = _make_classes(tmp_path / "datos", {"gato": 3, "perro": 3})
    locked = root / "perro"
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)
    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(LabkitError, match="permiso") as info:
        image_folder(root)
    message = str(info.value)
    assert str(locked) in message and "vacía" not in message and "bórrala" not in message


def test_unreadable_root_folder_is_a_spanish_error(tmp_path, monkeypatch):
    root = _make_classes(tmp_path / "datos", {"gato": 3, "perro": 3})
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self == root:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)
    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(LabkitError, match="No tengo permiso para leer la carpeta"):
        image_folder(root)
