"""«Tu propia foto»: sube una foto y el modelo que acabas de entrenar dice qué ve.

``labkit.widgets.photo_uploader(modelo, datos)`` muestra un botón para elegir una foto
(``ipywidgets.FileUpload``) y, debajo, la foto tal como la ve el modelo y barras con las clases
más probables. Funciona con ipywidgets 7.7 (Colab) y 8 (JupyterLab): su ``FileUpload.value``
tiene otra forma en cada versión y :func:`uploaded_files` las lee las dos.

Todo ocurre en memoria: la foto no se escribe en el disco. Un archivo que no sirve (no es una
imagen, está incompleto, es enorme o es HEIC) da un mensaje en español bajo el botón, nunca una
traza de error. La foto se prepara como las de entrenamiento (:func:`labkit.predict_image`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import html
import io
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from torch import nn

from ..base._errors import LabkitError
from ..base._fmt import pct
from ..base._validate import check_int, describe
from ..base._writers import check_local_path
from ..data._data import DataSplits, ImageSet
from ..data._imagedecode import UNSUPPORTED_EXTENSIONS, exif_upright, to_rgb
from ..models._inference import predict_image, prepare_image
from ..models._models import model_info

__all__ = ["MAX_BYTES", "MAX_PIXELS", "PhotoPrediction", "uploaded_files", "read_photo",
           "classify_photo", "classify_file", "photo_uploader"]

MAX_BYTES = 25 * 1024 * 1024
"""Tamaño máximo de un archivo subido (25 MB: más que cualquier foto de móvil en JPG)."""
MAX_PIXELS = 50_000_000
"""Píxeles máximos de una foto (50 megapíxeles); más, y ni se decodifica."""
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
                b"avif", b"avis")


class UploadError(LabkitError):
    """Una foto subida que no se puede clasificar; el mensaje dice por qué y qué hacer."""


@dataclass
class PhotoPrediction:
    """Lo que dijo el modelo de una foto.

    Attributes:
        name: el nombre del archivo.
        ranking: ``[(clase, probabilidad), …]``, de la más probable a la menos.
        thumbnail: la foto tal como la ve el modelo (recortada y reescalada), en PNG.
    """

    name: str
    ranking: list[tuple[str, float]]
    thumbnail: bytes

    def summary(self) -> str:
        """Una línea: la clase más probable y su probabilidad."""
        best, p = self.ranking[0]
        return f"«{self.name}»: el modelo dice «{best}» ({pct(p)})"

    def html(self) -> str:
        """La foto y una barra por clase, en HTML (sirve en JupyterLab, Colab y GitHub)."""
        image = base64.b64encode(self.thumbnail).decode("ascii")
        rows = "".join(
            f"<div style='display:flex;align-items:center;gap:6px;margin:2px 0'>"
            f"<span style='width:9em;text-align:right'>{html.escape(name)}</span>"
            f"<span style='display:inline-block;width:{max(1, round(200 * p))}px;height:14px;"
            f"background:{'#2a7ab9' if i == 0 else '#9ccae8'}'></span>"
            f"<span>{pct(p)}</span></div>" for i, (name, p) in enumerate(self.ranking))
        return (f"<div class='labkit-photo' style='display:flex;gap:16px;align-items:center'>"
                f"<img src='data:image/png;base64,{image}' width='160' height='160' "
                f"alt='{html.escape(self.name)}' style='image-rendering:auto'>"
                f"<div><b>{html.escape(self.summary())}</b>{rows}</div></div>")

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return self.summary() + "; " + ", ".join(f"{c} {pct(p)}" for c, p in self.ranking[1:])


# ---------------------------------------------------------------------- el valor de FileUpload
def _as_bytes(content: object, name: str) -> bytes:
    """El contenido de un archivo subido (``bytes``, ``memoryview`` o ``bytearray``)."""
    if isinstance(content, (bytes, bytearray, memoryview)):
        return bytes(content)
    raise UploadError(f"El archivo «{name}» llegó como {describe(content)}, no como bytes.")


def uploaded_files(value: object) -> list[tuple[str, bytes]]:
    """Los archivos de ``FileUpload.value``, en ipywidgets 7 y 8, como ``[(nombre, bytes)]``.

    Args:
        value: con ipywidgets 7, un diccionario ``{nombre: {"metadata": {...}, "content":
            bytes}}``; con ipywidgets 8, una tupla de diccionarios con ``"name"`` y
            ``"content"`` (un ``memoryview``).

    Returns:
        La lista de archivos, en el orden en que llegaron (vacía si no hay ninguno).
    """
    if value is None:
        return []
    if isinstance(value, Mapping):  # ipywidgets 7
        items = []
        for key, entry in value.items():
            if not isinstance(entry, Mapping) or "content" not in entry:
                raise UploadError(f"No entiendo el archivo subido «{key}»: falta su contenido.")
            meta = entry.get("metadata") or {}
            name = str(meta.get("name", key)) if isinstance(meta, Mapping) else str(key)
            items.append((name, _as_bytes(entry["content"], name)))
        return items
    if isinstance(value, (list, tuple)):  # ipywidgets 8
        items = []
        for i, entry in enumerate(value):
            if not isinstance(entry, Mapping) or "content" not in entry:
                raise UploadError(f"No entiendo el archivo subido n.º {i + 1}: falta su "
                                  "contenido.")
            name = str(entry.get("name") or f"archivo {i + 1}")
            items.append((name, _as_bytes(entry["content"], name)))
        return items
    raise UploadError(f"No entiendo lo que llegó del botón de subir: {describe(value)}.")


# ------------------------------------------------------------------------------- leer la foto
def _is_heif(data: bytes) -> bool:
    """¿Es un HEIC/HEIF/AVIF (la caja ``ftyp`` de ISO con una marca de esas)?"""
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def read_photo(name: str, data: bytes, max_bytes: int = MAX_BYTES,
               max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Abre en memoria una foto subida: enderezada (EXIF) y en RGB.

    Args:
        name: el nombre del archivo (para los mensajes).
        data: su contenido.
        max_bytes: tamaño máximo del archivo.
        max_pixels: píxeles máximos, comprobados antes de decodificar.

    Returns:
        La imagen de PIL en RGB (gris, CMYK, paleta, transparencia y 16 bits se convierten).

    Raises:
        UploadError: archivo vacío, enorme, HEIC, que no es una imagen o dañado.
    """
    suffix = Path(name).suffix.lower()
    if not data:
        raise UploadError(f"«{name}» está vacío (0 bytes): elige otra foto.")
    if len(data) > max_bytes:
        raise UploadError(f"«{name}» ocupa {len(data) / 2**20:.1f} MB; el máximo es "
                          f"{max_bytes / 2**20:.0f} MB. Redúcela o elige otra foto.")
    if _is_heif(data) or suffix in UNSUPPORTED_EXTENSIONS:
        kind = suffix[1:].upper() if suffix in UNSUPPORTED_EXTENSIONS else "HEIC"
        raise UploadError(f"«{name}» está en formato {kind}, que no se puede abrir aquí. "
                          "Conviértela a JPG o PNG (en el iPhone: Ajustes › Cámara › Formatos › "
                          "«Más compatible»; o compártela como JPG) y súbela de nuevo.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise UploadError(f"«{name}» mide {width}×{height} píxeles, más de los "
                                      f"{max_pixels / 1e6:.0f} millones que se aceptan. "
                                      "Redúcela y súbela de nuevo.")
                img.load()  # aquí se detecta un archivo incompleto
                rgb = to_rgb(exif_upright(img))
                return rgb.copy() if rgb is img else rgb  # al cerrar, img deja de servir
    except UploadError:
        raise
    except Image.DecompressionBombError:
        raise UploadError(f"«{name}» declara demasiados píxeles para abrirla con seguridad: "
                          "redúcela.") from None
    except UnidentifiedImageError:
        raise UploadError(f"«{name}» no es una imagen que se pueda leer (¿es otro tipo de "
                          "archivo?). Sube una foto en JPG o PNG.") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
        raise UploadError(f"«{name}» está dañada o incompleta (¿se cortó la subida?): no se "
                          "puede leer. Prueba a subirla otra vez o elige otra.") from None


# --------------------------------------------------------------------------------- clasificar
def _data_view(data: object) -> tuple[list[str], int | None]:
    """Nombres de las clases y lado de las imágenes de unos datos (``DataSplits``/``ImageSet``)."""
    split = data.train if isinstance(data, DataSplits) else data
    if not isinstance(split, ImageSet):
        raise LabkitError(f"data: llegó {describe(data)}; se esperan los datos con los que se "
                          "entrenó el modelo (un DataSplits o ImageSet), o None.")
    height, width = split.image_size
    return list(split.classes), (height if height == width else None)


@contextlib.contextmanager
def _trained_on(model: nn.Module, data: object) -> Iterator[None]:
    """Mientras dura, el modelo usa los nombres de clase y el tamaño de imagen de ``data``.

    ``replace_head`` con un número olvida los nombres de las clases, y los modelos entrenados
    con imágenes pequeñas deben ver las fotos nuevas del mismo tamaño: así, la foto se prepara
    como las de entrenamiento. Al salir, el modelo queda como estaba.
    """
    if data is None:
        yield
        return
    classes, side = _data_view(data)
    info = model_info(model)
    if len(classes) != info.num_classes:
        raise LabkitError(f"El modelo tiene {info.num_classes} salidas y los datos "
                          f"{len(classes)} clases: ¿son los datos con los que lo entrenaste?")
    changes = {"categories": classes}
    if side is not None:
        changes.update(input_size=side, resize_size=side)
    model.labkit_info = dataclasses.replace(info, **changes)
    try:
        yield
    finally:
        model.labkit_info = info


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def classify_photo(model: nn.Module, name: str, data: bytes, classes_from: object = None,
                   top_k: int = 3) -> PhotoPrediction:
    """Clasifica una foto subida (sus bytes), preparada como las de entrenamiento.

    Args:
        model: el modelo entrenado.
        name: el nombre del archivo.
        data: su contenido.
        classes_from: los datos con los que se entrenó (``DataSplits`` o ``ImageSet``): dan los
            nombres de las clases y el tamaño de las imágenes; ``None`` usa los del modelo.
        top_k: cuántas clases mostrar.

    Returns:
        La :class:`PhotoPrediction`.

    Raises:
        UploadError: la foto no sirve (ver :func:`read_photo`).
    """
    top_k = check_int("top_k", top_k, minimum=1)
    photo = read_photo(name, data)
    with _trained_on(model, classes_from):
        ranking = predict_image(model, photo, top_k=top_k)
        seen = prepare_image(photo, model_info(model))[0].permute(1, 2, 0).numpy()
    return PhotoPrediction(name, ranking, _png(Image.fromarray(np.ascontiguousarray(seen))))


def classify_file(model: nn.Module, path: str | os.PathLike, classes_from: object = None,
                  top_k: int = 3) -> PhotoPrediction:
    """Lo mismo que :func:`classify_photo` con una foto del disco (solo se lee).

    Args:
        model: el modelo entrenado.
        path: la ruta de la foto.
        classes_from: los datos con los que se entrenó (ver :func:`classify_photo`).
        top_k: cuántas clases mostrar.

    Returns:
        La :class:`PhotoPrediction`.
    """
    path = check_local_path("path", path, "abrir una foto de")
    if not path.is_file():
        raise UploadError(f"No encuentro la foto '{path}'. Revisa la ruta.")
    if path.stat().st_size > MAX_BYTES:
        raise UploadError(f"«{path.name}» ocupa más de {MAX_BYTES / 2**20:.0f} MB: redúcela.")
    return classify_photo(model, path.name, path.read_bytes(), classes_from, top_k)


def _intro() -> str:
    """El texto inicial bajo el botón (en Colab, con su límite de tamaño)."""
    text = "Elige una foto (JPG o PNG); no se guarda en ningún sitio."
    if "google.colab" in sys.modules:
        # Colab corta los mensajes grandes entre el navegador y el núcleo: un archivo de 1 MB o
        # más no llega (jupyter-widgets/ipywidgets#3452) y el botón no recibe nada.
        text += (" En Colab, el botón solo recibe fotos de menos de 1 MB: para una mayor, "
                 "súbela al panel «Archivos» y usa labkit.widgets.classify_file(modelo, "
                 "'foto.jpg', classes_from=datos).")
    return f"<i>{html.escape(text)}</i>"


def _message(text: str) -> str:
    return f"<div class='labkit-upload-msg' style='color:#a33'>❌ {html.escape(text)}</div>"


def photo_uploader(model: nn.Module, classes_from: object = None, top_k: int = 3):
    """Un botón para subir tu foto y ver qué dice el modelo, con barras de probabilidad.

    Args:
        model: el modelo entrenado.
        classes_from: los datos con los que se entrenó (``DataSplits`` o ``ImageSet``), para los
            nombres de las clases y el tamaño de las imágenes; ``None`` usa los del modelo.
        top_k: cuántas clases mostrar.

    Returns:
        Un ``ipywidgets.VBox`` con el botón y el resultado (``.children[-1]``, un ``HTML``).
    """
    import ipywidgets as widgets

    top_k = check_int("top_k", top_k, minimum=1)
    if classes_from is not None:
        _data_view(classes_from)  # datos equivocados: error ahora, no al subir
    upload = widgets.FileUpload(accept="image/*", multiple=False,
                                description="Sube tu foto")
    result = widgets.HTML(value=_intro())
    result.add_class("labkit-upload-result")

    def on_upload(change: dict) -> None:
        try:
            files = uploaded_files(change["new"])
        except LabkitError as err:
            result.value = _message(str(err))
            return
        if not files:
            return
        parts = []
        for name, data in files:
            try:
                parts.append(classify_photo(model, name, data, classes_from, top_k).html())
            except LabkitError as err:
                parts.append(_message(str(err)))
            except Exception as err:  # noqa: BLE001 — nunca una traza bajo el botón
                parts.append(_message(f"No pude clasificar «{name}» ({type(err).__name__}: "
                                      f"{err})."))
        result.value = "".join(parts)

    upload.observe(on_upload, names="value")
    box = widgets.VBox([upload, result])
    box.add_class("labkit-upload")
    return box
