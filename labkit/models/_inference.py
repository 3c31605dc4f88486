"""Usar el modelo entrenado: exportarlo a un archivo, volver a cargarlo y predecir una foto nueva.

``labkit.export(modelo, "mi_modelo.pt")`` guarda en un solo archivo los pesos, el nombre y la
familia del modelo, los nombres de las clases, el preprocesado (media, desviación, tamaños) y una
suma de control; se escribe de forma atómica y nunca reemplaza un archivo que ya existe salvo con
``overwrite=True`` (la creación es exclusiva: si dos procesos exportan a la vez a la misma ruta,
uno gana y el otro recibe un error). ``labkit.load_model("mi_modelo.pt")`` lo reconstruye sin red
(con ``weights_only=True``) y comprueba la suma y los metadatos antes de crear nada.
``labkit.predict_image(modelo, "foto.jpg")`` prepara la foto como se prepararon las de
entrenamiento y devuelve las clases más probables con su probabilidad.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import nn

from ..base._errors import LabkitError
from ..base._validate import check_bool, check_int, describe
from ..base._writers import check_local_path
from ..data._data import normalize

# La misma preparación que image_folder (labkit.imagedecode).
from ..data._imagedecode import exif_upright, to_rgb
from ..data._imagedecode import resize_center_crop as _resize_center_crop
from ..data._imagedecode import to_uint8 as _to_uint8
from ._checkpoints import load_into, read_checkpoint, write_checkpoint
from ._models import ModelInfo, model_info

__all__ = ["export", "load_model", "predict_image", "prepare_image"]

ImageLike = str | os.PathLike | Image.Image | np.ndarray | torch.Tensor


def export(model: nn.Module, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Guarda el modelo en un solo archivo listo para :func:`load_model` y :func:`predict_image`.

    Args:
        model: un modelo creado con ``labkit.create_model`` (y entrenado).
        path: archivo de destino, p. ej. ``"mi_modelo.pt"`` (su carpeta se crea si falta).
        overwrite: si es ``True``, reemplaza un archivo que ya exista; si no, se niega.

    Returns:
        La ruta del archivo.

    Raises:
        LabkitError: el archivo ya existe (también si otro proceso lo creó mientras se
            escribía), la carpeta no se puede escribir, una parte de la ruta es un archivo, los
            nombres de clase no cuadran con la cabeza o hay pesos NaN o infinitos.
    """
    path = check_local_path("path", path, "exportar a")
    overwrite = check_bool("overwrite", overwrite)
    return write_checkpoint(model, path, {"exported": True}, exclusive=not overwrite,
                            what="el modelo", replace_any=overwrite,
                            fix="Para reemplazarlo: labkit.export(modelo, ruta, overwrite=True).")


def load_model(path: str | os.PathLike) -> nn.Module:
    """Carga un modelo guardado con :func:`export` (o un checkpoint de ``fit``), sin red.

    Args:
        path: el archivo.

    Returns:
        El modelo en modo evaluación, en la CPU, con sus clases y su preprocesado en
        ``model.labkit_info``.

    Antes de crear nada se comprueban la suma de control de los pesos y los metadatos (número
    de clases, media, desviación, tamaños: :mod:`labkit.models`). Los archivos
    exportados antes de la suma de control (versión 2 o anterior) se cargan sin aviso.

    Raises:
        LabkitError: archivo que falta, una carpeta o una URL; dañado o alterado (suma de
            control o metadatos); de un modelo desconocido; con pesos NaN o infinitos; o con
            tantos nombres de clase como salidas no tiene la cabeza.
    """
    path = check_local_path("path", path, "cargar un modelo de")
    data = read_checkpoint(path)
    return load_into(data["model_name"], data, path)


# ---------------------------------------------------------------------------- leer la imagen
def _open_file(path: Path) -> Image.Image:
    """Abre una imagen del disco (orientación EXIF aplicada) o da un error en español."""
    if path.is_dir():
        raise LabkitError(f"'{path}' es una carpeta, no una imagen: da la ruta de una foto "
                          "(p. ej. 'carpeta/foto.jpg'). Para muchas fotos, carga la carpeta con "
                          "labkit.image_folder y usa labkit.predict.")
    if not path.is_file():
        raise LabkitError(f"No encuentro la imagen '{path}'. Revisa la ruta.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
                upright = exif_upright(img)
                return upright.copy() if upright is img else upright
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise LabkitError(f"'{path.name}' declara demasiados píxeles para abrirla con "
                          "seguridad: redúcela antes.") from None
    except UnidentifiedImageError:
        raise LabkitError(f"'{path.name}' no se puede leer como imagen (¿no es una foto, o "
                          "tiene la extensión equivocada?). Usa un JPG o PNG.") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise LabkitError(f"'{path.name}' está dañada o incompleta: no se puede leer.") from None


def _from_array(array: np.ndarray) -> Image.Image:
    """Un arreglo ``[H, W]``, ``[H, W, 1|3|4]`` o ``[1|3|4, H, W]`` como imagen de PIL."""
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[2] not in (1, 3, 4):
        array = np.moveaxis(array, 0, -1)  # canales primero (como los tensores de torch)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) \
            or min(array.shape[:2]) < 1 or array.dtype.kind not in "biuf":
        raise LabkitError(f"image: llegó un arreglo de forma {array.shape} y tipo {array.dtype}; "
                          "se espera una imagen [alto, ancho], [alto, ancho, 3] o "
                          "[alto, ancho, 4] de números.")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise LabkitError("image: el arreglo tiene valores NaN o infinitos.")
    return Image.fromarray(_to_uint8(array.astype(np.uint8) if array.dtype == bool else array))


def _as_pil(image: object) -> Image.Image:
    """Cualquier forma admitida de imagen, como PIL RGB."""
    if isinstance(image, Image.Image):
        pil = image
    elif isinstance(image, torch.Tensor):
        pil = _from_array(image.detach().cpu().numpy())
    elif isinstance(image, np.ndarray):
        pil = _from_array(image)
    elif isinstance(image, (str, os.PathLike)):
        pil = _open_file(check_local_path("image", image, "abrir una imagen de"))
    else:
        raise LabkitError(f"image: llegó {describe(image)}; se espera la ruta de una foto, una "
                          "imagen de PIL o un arreglo de NumPy.")
    try:
        return to_rgb(pil)
    except (OSError, ValueError) as err:
        raise LabkitError(f"No puedo convertir la imagen (modo {pil.mode}) a color: {err}.") \
            from None


def prepare_image(image: ImageLike, info: ModelInfo) -> torch.Tensor:
    """Prepara una imagen como las de entrenamiento: lado corto, recorte central, ``uint8``.

    Args:
        image: ruta, imagen de PIL o arreglo (gris, RGB, RGBA; 8 o 16 bits, o reales).
        info: la :class:`~labkit.models.ModelInfo` del modelo (tamaños).

    Returns:
        Un tensor ``uint8 [1, 3, input_size, input_size]``.
    """
    rgb = _resize_center_crop(_as_pil(image), info.resize_size)
    if info.input_size < info.resize_size:
        rgb = _resize_center_crop(rgb, info.input_size)
    return torch.from_numpy(np.array(rgb)).permute(2, 0, 1).unsqueeze(0).contiguous()


@contextlib.contextmanager
def _evaluating(model: nn.Module) -> Iterator[None]:
    """Modo evaluación mientras dura; luego cada módulo vuelve a su modo anterior."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def _class_names(info: ModelInfo) -> list[str]:
    """Los nombres de las clases, o ``clase 0``, ``clase 1``… si el modelo no los sabe."""
    if len(info.categories) == info.num_classes:
        return list(info.categories)
    return [f"clase {i}" for i in range(info.num_classes)]


def predict_image(model: nn.Module, image: ImageLike, top_k: int = 3) -> list[tuple[str, float]]:
    """Las clases más probables para una foto, con su probabilidad.

    La foto se prepara con el preprocesado del propio modelo (lado corto, recorte central y
    normalización con su media y desviación); gris, RGBA y 16 bits se convierten a color.

    Args:
        model: un modelo de labkit (creado, entrenado o cargado con :func:`load_model`).
        image: ruta de la foto, imagen de PIL o arreglo de NumPy.
        top_k: cuántas clases devolver (como mucho, las que tiene el modelo).

    Returns:
        Una lista de ``(nombre de la clase, probabilidad)``, de la más probable a la menos.
    """
    info = model_info(model)
    k = min(check_int("top_k", top_k, minimum=1), max(info.num_classes, 2))
    x = prepare_image(image, info)
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    with _evaluating(model), torch.no_grad():
        logits = model(normalize(x, info.mean, info.std).to(device)).float().cpu()[0]
    if logits.numel() == 1:  # un solo logit: probabilidad de la clase positiva
        p = torch.sigmoid(logits)[0]
        probs, names = torch.stack([1 - p, p]), ["negativo", "positivo"]
    else:
        probs, names = logits.softmax(0), _class_names(info)
    values, indices = probs.topk(k)
    return [(names[i], float(v)) for v, i in zip(values.tolist(), indices.tolist())]
