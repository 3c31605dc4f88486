"""Pruebas de labkit.widgets: «tu propia foto» con ipywidgets 7 y 8, y archivos que no sirven."""

from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys
from pathlib import Path

import ipywidgets
import numpy as np
import pytest
import torch
from helpers import make_set
from PIL import Image

import labkit
from labkit.base import LabkitError
from labkit.models import create_model, model_info
from labkit.widgets._upload import (
    PhotoPrediction,
    UploadError,
    classify_file,
    classify_photo,
    photo_uploader,
    read_photo,
    uploaded_files,
)

CLASSES = ["gato", "perro", "pez"]
W7_MAJOR = ipywidgets.__version__.split(".")[0] == "7"


def _splits(size: int = 32) -> labkit.data.DataSplits:
    sets = [make_set(6, k=3, size=size, seed=s) for s in range(3)]
    for part in sets:
        part.classes = list(CLASSES)
    return labkit.data.DataSplits(*sets)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model("cnn_pequena", num_classes=_splits(), pretrained=False)


def _encoded(mode: str = "RGB", fmt: str = "PNG", size=(60, 40)) -> bytes:
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    image = {"RGB": rgb, "L": rgb.convert("L"), "RGBA": rgb.convert("RGBA"),
             "LA": rgb.convert("LA"), "P": rgb.convert("P"), "CMYK": rgb.convert("CMYK"),
             "I;16": Image.fromarray(rng.integers(0, 65535, (size[1], size[0]),
                                                  dtype=np.uint16))}[mode]
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _value_w7(name: str, content: bytes) -> dict:
    """``FileUpload.value`` de ipywidgets 7.x: ``{nombre: {metadata, content}}``."""
    return {name: {"metadata": {"name": name, "type": "image/png", "size": len(content),
                                "lastModified": 0}, "content": content}}


def _value_w8(name: str, content: bytes) -> tuple:
    """``FileUpload.value`` de ipywidgets 8.x: tupla de diccionarios, contenido memoryview."""
    return ({"name": name, "type": "image/png", "size": len(content),
             "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
             "content": memoryview(content)},)


# ------------------------------------------------------------------------- el valor del botón
@pytest.mark.parametrize("make_value", [_value_w7, _value_w8])
def test_uploaded_files_reads_both_ipywidgets_formats(make_value):
    data = _encoded()
    files = uploaded_files(make_value("flor.png", data))
    assert files == [("flor.png", data)]
    assert isinstance(files[0][1], bytes)


@pytest.mark.parametrize("value", [None, {}, ()])
def test_uploaded_files_empty(value):
    assert uploaded_files(value) == []


@pytest.mark.parametrize("value", [42, {"a.png": {"metadata": {}}}, ({"name": "x"},),
                                   ({"name": "x", "content": 3},)])
def test_uploaded_files_rejects_what_it_does_not_understand(value):
    with pytest.raises(UploadError, match="No entiendo|no como bytes"):
        uploaded_files(value)


# ------------------------------------------------------------------------------ leer la foto
@pytest.mark.parametrize("mode,fmt", [("RGB", "PNG"), ("RGB", "JPEG"), ("L", "PNG"),
                                      ("RGBA", "PNG"), ("LA", "PNG"), ("P", "PNG"),
                                      ("CMYK", "JPEG"), ("I;16", "PNG")])
def test_read_photo_gives_rgb_for_every_mode(mode, fmt):
    photo = read_photo(f"foto.{fmt.lower()}", _encoded(mode, fmt))
    assert photo.mode == "RGB" and photo.size == (60, 40)
    np.asarray(photo)  # se puede usar después de cerrar el archivo en memoria


def test_transparency_goes_on_white():
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    buffer = io.BytesIO()
    rgba.save(buffer, format="PNG")
    assert np.asarray(read_photo("t.png", buffer.getvalue())).min() == 255


def _heic() -> bytes:
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


@pytest.mark.parametrize("name,data,message", [
    ("notas.txt", b"hola, esto no es una foto", "no es una imagen"),
    ("vacia.jpg", b"", "vacío"),
    ("IMG_0001.HEIC", _heic(), "formato HEIC"),
    ("sin_extension", _heic(), "formato HEIC"),
    ("foto.avif", b"\x00" * 40, "formato AVIF"),
    ("cortada.png", _encoded()[:300], "dañada o incompleta"),
    ("cortada.jpg", _encoded(fmt="JPEG")[:200], "dañada o incompleta"),
])
def test_bad_files_give_a_spanish_message(name, data, message):
    with pytest.raises(UploadError, match=message) as err:
        read_photo(name, data)
    assert name in str(err.value)
    assert isinstance(err.value, LabkitError)


def test_huge_file_and_huge_image_are_refused_before_decoding():
    with pytest.raises(UploadError, match="ocupa .* MB; el máximo es"):
        read_photo("grande.jpg", b"\xff" * 2048, max_bytes=1024)
    with pytest.raises(UploadError, match="mide 60×40 píxeles"):
        read_photo("grande.png", _encoded(), max_pixels=1000)


def test_decompression_bomb_is_refused():
    header = Image.new("L", (20_000, 20_000))  # 400 Mpx: PIL la rechaza como «bomba»
    buffer = io.BytesIO()
    header.save(buffer, format="PNG")
    with pytest.raises(UploadError, match="millones|demasiados píxeles"):
        read_photo("bomba.png", buffer.getvalue())


# --------------------------------------------------------------------------------- clasificar
def test_classify_photo_is_predict_image_with_the_training_size_and_names():
    model, data = _model(), _encoded("RGB", "JPEG", size=(90, 70))
    result = classify_photo(model, "foto.jpg", data, top_k=2)
    expected = labkit.predict_image(model, read_photo("foto.jpg", data), top_k=2)
    assert result.ranking == expected
    assert [c for c, _ in result.ranking][0] in CLASSES
    assert Image.open(io.BytesIO(result.thumbnail)).size == (32, 32)  # lo que ve el modelo
    html = result.html()
    assert "data:image/png;base64," in html and "foto.jpg" in html and "%" in html


def test_classes_from_gives_names_and_size_and_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    model = create_model("cnn_pequena", num_classes=3, pretrained=False)  # sin nombres
    before = model_info(model)
    data = _encoded()
    plain = classify_photo(model, "f.png", data)
    assert {c for c, _ in plain.ranking} <= {"clase 0", "clase 1", "clase 2"}
    named = classify_photo(model, "f.png", data, classes_from=_splits(24))
    assert {c for c, _ in named.ranking} <= set(CLASSES)
    assert Image.open(io.BytesIO(named.thumbnail)).size == (24, 24)
    assert model_info(model) is before and before.categories == []
    with pytest.raises(LabkitError, match="3 salidas y los datos 2 clases"):
        classify_photo(model, "f.png", data, classes_from=make_set(4, k=2, size=24))


def test_classify_file_reads_without_writing(tmp_path):
    path = tmp_path / "flor.png"
    path.write_bytes(_encoded())
    before = sorted(tmp_path.iterdir())
    result = classify_file(_model(), path)
    assert isinstance(result, PhotoPrediction) and result.name == "flor.png"
    assert sorted(tmp_path.iterdir()) == before
    with pytest.raises(UploadError, match="No encuentro"):
        classify_file(_model(), tmp_path / "no_esta.png")


# ------------------------------------------------------------------------------------ el botón
def _simulate_upload(upload, name: str, content: bytes) -> None:
    """Lo que hace el navegador al elegir un archivo, en la versión instalada de ipywidgets."""
    if W7_MAJOR:
        upload.set_trait("metadata", [{"name": name, "type": "", "size": len(content),
                                       "lastModified": 0}])
        upload.set_trait("data", [content])
        upload.set_trait("_counter", upload._counter + 1)
    else:
        upload.value = _value_w8(name, content)


def test_records_ipywidgets_version():
    """Deja constancia de con qué ipywidgets corrió (la prueba con 7.7 lo comprueba)."""
    report = os.environ.get("LABKIT_IPYWIDGETS_REPORT")
    if report:
        Path(report).write_text(ipywidgets.__version__)
    assert ipywidgets.__version__.split(".")[0] in ("7", "8")


def test_uploader_shows_the_prediction_then_a_message_for_a_bad_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    box = photo_uploader(_model(), top_k=3)
    upload, result = box.children
    assert isinstance(upload, ipywidgets.FileUpload) and "Elige una foto" in result.value
    _simulate_upload(upload, "mi_gato.png", _encoded("RGBA"))
    assert "mi_gato.png" in result.value and "data:image/png" in result.value
    assert sum(result.value.count(f">{c}<") for c in CLASSES) == 3  # una barra por clase
    _simulate_upload(upload, "IMG_1234.heic", _heic())
    assert "❌" in result.value and "HEIC" in result.value and "Traceback" not in result.value
    _simulate_upload(upload, "roto.png", _encoded()[:100])
    assert "dañada o incompleta" in result.value
    assert list(tmp_path.iterdir()) == []  # nada escrito en el disco


def test_on_colab_the_uploader_says_its_size_limit(monkeypatch):
    assert "1 MB" not in photo_uploader(_model()).children[1].value
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    assert "menos de 1 MB" in photo_uploader(_model()).children[1].value


def test_uploader_refuses_the_wrong_data_at_once():
    with pytest.raises(LabkitError, match="datos con los que se entrenó"):
        photo_uploader(_model(), classes_from="flores")


def test_uploader_catches_unexpected_errors(monkeypatch):
    box = photo_uploader(_model())
    upload, result = box.children

    def boom(*args, **kwargs):
        raise RuntimeError("explosión de prueba")

    monkeypatch.setattr("labkit.widgets._upload.predict_image", boom)
    _simulate_upload(upload, "a.png", _encoded())
    assert "❌" in result.value and "explosión de prueba" in result.value


# ---------------------------------------------------------------------------- con ipywidgets 7
def test_upload_passes_on_ipywidgets_7(tmp_path):
    """Este archivo entero, en otro proceso, con ipywidgets 7.7 (el de Colab) delante."""
    from test_widgets_ipyw7 import W7, _require_w7

    if W7_MAJOR:
        pytest.skip("ya estamos con ipywidgets 7")
    _require_w7()
    report = tmp_path / "version.txt"
    env = dict(os.environ, LABKIT_IPYWIDGETS_REPORT=str(report))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(W7), env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider",
           "-W", "ignore::DeprecationWarning", "-k", "not ipywidgets_7"]
    proc = subprocess.run(cmd, cwd=Path(__file__).parent.parent, env=env, capture_output=True,
                          text=True, timeout=600)
    log = proc.stdout[-6000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, f"tests/test_upload.py falló con ipywidgets 7.7:\n{log}"
    assert report.read_text().startswith("7.7"), f"Corrió con {report.read_text()}:\n{log}"
