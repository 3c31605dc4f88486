"""Conjuntos reales, sin red: radiografías de tórax, ecografías de mama y células solares.

Cada función devuelve un :class:`~labkit.data.DataSplits` con imágenes ``uint8 [N, 3, H, W]``
(el gris se copia a los tres canales), nombres de clase en español y particiones fijas:

- :func:`pneumonia_mnist` y :func:`breast_mnist`: los archivos oficiales de MedMNIST v2
  (CC BY 4.0) viajan dentro del paquete (``labkit/medmnist/*.npz``) y se comprueba su MD5 al
  cargarlos. Particiones: las oficiales de MedMNIST.
- :func:`elpv`: las 2.624 células del paquete ``elpv-dataset`` (imágenes CC BY-NC-SA 4.0, uso no
  comercial). Decodificar y reescalar los PNG de 300 px cuesta unos segundos: el resultado se
  guarda, de forma atómica, en ``labkit.data_dir() / "elpv"`` (un archivo por tamaño).

La licencia y la cita viajan con los datos (``splits.train.info``) y las muestra
:func:`dataset_report` y el ``repr`` de las particiones. No apto para uso clínico.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import torch

from ..base import _cachefiles as cachefiles
from ..base._config import data_dir
from ..base._errors import LabkitError
from ..base._validate import check_choice, check_int, check_path
from ._data import DataSplits, ImageSet, resize_images

__all__ = ["RealDataSplits", "pneumonia_mnist", "breast_mnist", "elpv", "dataset_report",
           "ELPV_TASKS", "MEDMNIST_DIR"]

MEDMNIST_DIR = Path(__file__).resolve().parents[1] / "medmnist"
ELPV_TASKS = ("binaria", "cuatro_niveles")
_MIN_SIZE, _MAX_SIZE = 16, 512
_ELPV_LABELS_MD5 = "a1f3116e99fa0754608ad05be2bab78f"
_ELPV_COUNT = 2624
_CACHE_VERSION = 1

_MEDMNIST_CITE = ("J. Yang et al., «MedMNIST v2 — A large-scale lightweight benchmark for 2D and "
                  "3D biomedical image classification», Scientific Data 10, 41 (2023).")
_MEDMNIST = {
    "pneumoniamnist": {
        "md5": "28209eda62fecd6e6a2d98b1501bb15f",
        "name": "PneumoniaMNIST",
        "classes": ["normal", "neumonía"],
        "info": {
            "descripcion": "Radiografías de tórax pediátricas (MedMNIST v2, 28×28 en gris).",
            "licencia": "CC BY 4.0",
            "cita": _MEDMNIST_CITE + " Fuente: D. S. Kermany et al., «Identifying medical "
                    "diagnoses and treatable diseases by image-based deep learning», Cell "
                    "172(5):1122–1131 (2018).",
            "particiones": "Las oficiales de MedMNIST (train 4.708 / val 524 / test 624).",
            "aviso": "No apto para uso clínico.",
        },
    },
    "breastmnist": {
        "md5": "750601b1f35ba3300ea97c75c52ff8f6",
        "name": "BreastMNIST",
        "classes": ["maligno", "normal o benigno"],
        "info": {
            "descripcion": "Ecografías de mama (MedMNIST v2, 28×28 en gris).",
            "licencia": "CC BY 4.0",
            "cita": _MEDMNIST_CITE + " Fuente: W. Al-Dhabyani et al., «Dataset of breast "
                    "ultrasound images», Data in Brief 28, 104863 (2020).",
            "particiones": "Las oficiales de MedMNIST (train 546 / val 78 / test 156).",
            "aviso": "No apto para uso clínico.",
        },
    },
}
_ELPV_INFO = {
    "descripcion": "Células solares en electroluminiscencia (ELPV, 300×300 en gris, 44 módulos).",
    "licencia": "Imágenes CC BY-NC-SA 4.0 (uso no comercial; las salidas que las muestran "
                "comparten esa licencia); código del paquete elpv-dataset Apache-2.0.",
    "cita": "S. Deitsch et al., «Automatic classification of defective photovoltaic module cells "
            "in electroluminescence images», Solar Energy 185:455–468 (2019); C. Buerhop-Lutz "
            "et al., «A Benchmark for Visual Identification of Defective Solar Cells in "
            "Electroluminescence Imagery», EU PVSEC 2018; S. Deitsch et al., «Segmentation of "
            "photovoltaic module cells in uncalibrated electroluminescence images», Machine "
            "Vision and Applications 32 (2021).",
    "particiones": "Fijas: 25 % prueba, 10 % validación y 65 % entrenamiento dentro de cada par "
                   "(probabilidad de defecto, tipo de módulo), por orden del MD5 del nombre.",
}
_ELPV_CLASSES = {
    "binaria": ["funcional", "defectuosa"],
    "cuatro_niveles": ["funcional (p=0)", "dudosa (p=1/3)", "probable (p=2/3)",
                       "defectuosa (p=1)"],
}


class RealDataSplits(DataSplits):
    """Particiones de un conjunto real: su ``repr`` añade la licencia y la cita."""

    def __repr__(self) -> str:
        info = self.train.info
        return (f"{super().__repr__()}\n  licencia: {info.get('licencia', '?')}\n"
                f"  cita: {info.get('cita', '?')}")


def _check_size(image_size: object, maximum: int = _MAX_SIZE) -> int:
    """Comprueba el lado pedido: un entero entre 16 px y ``maximum``."""
    return check_int("image_size", image_size, minimum=_MIN_SIZE, maximum=maximum,
                     expected=f"un entero entre {_MIN_SIZE} y {maximum} píxeles (p. ej. 64)")


def _md5(path: Path) -> str:
    """MD5 de un archivo, leído por trozos."""
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: Path, md5: str, fix: str) -> Path:
    """Comprueba que el archivo existe y que su MD5 es el esperado; si no, explica el arreglo."""
    if not path.is_file():
        raise LabkitError(f"Falta el archivo de datos {path}. {fix}")
    got = _md5(path)
    if got != md5:
        raise LabkitError(f"El archivo {path} está dañado o no es el original (MD5 {got}, se "
                          f"esperaba {md5}). {fix}")
    return path


def _grey_to_rgb(grey: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """``uint8 [N, H, W]`` en gris → ``uint8 [N, 3, size, size]``."""
    t = torch.as_tensor(np.ascontiguousarray(grey)).unsqueeze(1)
    return resize_images(t, size).expand(-1, 3, -1, -1).contiguous()


def _medmnist(key: str, image_size: object, folder: object) -> RealDataSplits:
    """Carga uno de los dos archivos de MedMNIST con sus particiones oficiales."""
    size = _check_size(image_size)
    spec = _MEDMNIST[key]
    base = MEDMNIST_DIR if folder is None else check_path("folder", folder)
    fix = (f"Recupéralo con «git checkout -- labkit/medmnist/{key}.npz» en el repositorio o "
           "reinstala labkit (pip install --force-reinstall).")
    path = _verified(base / f"{key}.npz", spec["md5"], fix)
    with np.load(path, allow_pickle=False) as npz:
        parts = {s: (npz[f"{s}_images"], npz[f"{s}_labels"]) for s in ("train", "val", "test")}
    info = dict(spec["info"], archivo=path.name, md5=spec["md5"])
    sets = {s: ImageSet(_grey_to_rgb(x, size), torch.as_tensor(y.reshape(-1).astype(np.int64)),
                        list(spec["classes"]), f"{spec['name']} ({s})", dict(info))
            for s, (x, y) in parts.items()}
    return RealDataSplits(sets["train"], sets["val"], sets["test"])


def pneumonia_mnist(image_size: int = 64, folder: str | Path | None = None) -> RealDataSplits:
    """PneumoniaMNIST: radiografías de tórax pediátricas, «normal» o «neumonía».

    Particiones oficiales de MedMNIST v2: train 4.708 (normal 1.214 / neumonía 3.494), val 524,
    test 624 (234 / 390). Desbalanceado: mira también la exactitud balanceada. CC BY 4.0;
    no apto para uso clínico.

    Args:
        image_size: lado en píxeles (16–512); el original es de 28 px y se reescala.
        folder: carpeta con ``pneumoniamnist.npz``; ``None`` = la del paquete.

    Returns:
        Un :class:`RealDataSplits` (un ``DataSplits``) con la licencia y la cita en ``info``.
    """
    return _medmnist("pneumoniamnist", image_size, folder)


def breast_mnist(image_size: int = 64, folder: str | Path | None = None) -> RealDataSplits:
    """BreastMNIST: ecografías de mama, «maligno» o «normal o benigno».

    Particiones oficiales de MedMNIST v2: train 546 (maligno 147 / normal o benigno 399), val 78,
    test 156 (42 / 114). CC BY 4.0; no apto para uso clínico.

    Args:
        image_size: lado en píxeles (16–512); el original es de 28 px y se reescala.
        folder: carpeta con ``breastmnist.npz``; ``None`` = la del paquete.

    Returns:
        Un :class:`RealDataSplits` con la licencia y la cita en ``info``.
    """
    return _medmnist("breastmnist", image_size, folder)


def _elpv_source(folder: object) -> Path:
    """La carpeta de ``elpv-dataset`` (con ``labels.csv`` e ``images/``), comprobada."""
    if folder is not None:
        base = check_path("folder", folder)
    else:
        try:
            import elpv_dataset
        except ImportError as exc:
            raise LabkitError("Falta el paquete elpv-dataset, que trae las imágenes ELPV: "
                              "instálalo con «pip install elpv-dataset».") from exc
        base = Path(elpv_dataset.__file__).resolve().parent / "data"
    _verified(base / "labels.csv", _ELPV_LABELS_MD5,
              "Reinstala el paquete con «pip install --force-reinstall elpv-dataset».")
    return base


def _read_elpv_labels(base: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Nombres de archivo, probabilidad de defecto y tipo de módulo (0 = mono, 1 = poly)."""
    rows = [ln.split() for ln in (base / "labels.csv").read_text().splitlines() if ln.strip()]
    names = [r[0] for r in rows]
    probs = np.array([float(r[1]) for r in rows])
    types = np.array([0 if r[2] == "mono" else 1 for r in rows], dtype=np.int64)
    return names, probs, types


def _decode_elpv(base: Path, names: list[str], size: int) -> np.ndarray:
    """Decodifica los PNG y los reescala a ``size`` (gris ``uint8 [N, size, size]``)."""
    from PIL import Image

    out = np.empty((len(names), size, size), dtype=np.uint8)
    for i, name in enumerate(names):
        path = base / name
        try:
            with Image.open(path) as img:
                img = img.convert("L")
                if img.size != (size, size):
                    img = img.resize((size, size), Image.BILINEAR, reducing_gap=3.0)
                out[i] = np.asarray(img)
        except (OSError, ValueError) as exc:
            raise LabkitError(f"No se pudo leer la imagen {path} ({exc}). Reinstala el paquete "
                              "con «pip install --force-reinstall elpv-dataset».") from exc
    return out


def _elpv_cache_path(size: int) -> Path:
    """Archivo de la caché de ELPV para ese tamaño, dentro de ``labkit.data_dir()``."""
    return data_dir(create=False) / "elpv" / f"elpv_{size}px_v{_CACHE_VERSION}.npz"


def _read_elpv_cache(cache: Path, n: int, size: int) -> np.ndarray | str | None:
    """Las imágenes de la caché si están intactas; si no, el motivo (``None``: no hay caché).

    Se comprueba el SHA-256 de las imágenes tal como se escribieron (≈ 0,2 s a 300 px) y el
    CRC-32 de cada miembro del ``.npz``: una caché truncada o con bytes cambiados no se usa.
    """
    if not cache.is_file():
        return None
    try:
        with np.load(cache, allow_pickle=False) as npz:
            if "sha256" not in npz.files or "images" not in npz.files:
                return "es de una versión anterior o le faltan datos"
            images = npz["images"]
            ok = (str(npz["source_md5"]) == _ELPV_LABELS_MD5 and images.dtype == np.uint8
                  and images.shape == (n, size, size)
                  and str(npz["sha256"]) == cachefiles.digest_bytes(images.data))
    except Exception as err:  # zipfile da BadZipFile, NotImplementedError, struct.error…: rehacer
        return f"no se puede leer: {type(err).__name__}"
    return images if ok else "no coincide con su resumen SHA-256"


def _load_elpv_images(base: Path, names: list[str], size: int) -> np.ndarray:
    """Imágenes en gris a ``size`` px: de la caché si vale, si no se decodifican y se guardan.

    Una caché dañada se rehace con un aviso; si no se puede guardar (sin permiso, disco lleno),
    se avisa y se devuelven las imágenes de todos modos. Antes se borran los temporales de
    escritores que murieron (ver :mod:`labkit.base`).
    """
    cache = _elpv_cache_path(size)
    cachefiles.remove_leftovers(cache.parent)
    found = _read_elpv_cache(cache, len(names), size)
    if isinstance(found, np.ndarray):
        return found
    if found is not None:
        warnings.warn(f"La caché de ELPV '{cache}' no sirve ({found}): la rehago.",
                      UserWarning, stacklevel=3)
    images = _decode_elpv(base, names, size)
    try:
        with cachefiles.cache_write(cache) as fh:
            np.savez(fh, images=images, source_md5=np.array(_ELPV_LABELS_MD5),
                     sha256=np.array(cachefiles.digest_bytes(images.data)))
    except OSError as err:
        warnings.warn(cachefiles.write_problem(
            "la caché de ELPV", cache.parent, err,
            "sigo sin guardarla (la próxima vez se vuelve a decodificar)"),
            UserWarning, stacklevel=3)
    return images


def _elpv_split(names: list[str], probs: np.ndarray, types: np.ndarray) -> np.ndarray:
    """Partición fija (0 = train, 1 = val, 2 = test) estratificada por probabilidad y tipo.

    Dentro de cada par (probabilidad, tipo) se ordena por el MD5 del nombre del archivo (no
    depende de versiones de NumPy ni de semillas): el primer 25 % va a prueba, el 10 % siguiente
    a validación y el resto a entrenamiento.
    """
    split = np.zeros(len(names), dtype=np.int64)
    for p in np.unique(probs):
        for t in (0, 1):
            idx = np.flatnonzero((probs == p) & (types == t))
            idx = sorted(idx, key=lambda i: hashlib.md5(names[i].encode()).hexdigest())
            n_test, n_val = round(0.25 * len(idx)), round(0.10 * len(idx))
            split[idx[:n_test]] = 2
            split[idx[n_test:n_test + n_val]] = 1
    return split


def _elpv_labels(probs: np.ndarray, task: str) -> np.ndarray:
    """Etiquetas por tarea; −1 marca las células que la tarea binaria deja fuera (p = 1/3)."""
    level = np.rint(probs * 3).astype(np.int64)  # 0, 1, 2, 3
    if task == "cuatro_niveles":
        return level
    return np.select([level == 0, level >= 2], [0, 1], default=-1)


def elpv(image_size: int = 96, task: str = "binaria",
         folder: str | Path | None = None) -> RealDataSplits:
    """ELPV: células solares en electroluminiscencia, «funcional» o «defectuosa».

    Cada una de las 2.624 células tiene una probabilidad de defecto (0, 1/3, 2/3 o 1) según los
    expertos y un tipo de módulo (mono o poli). Tareas:

    - ``"binaria"`` (por defecto): «funcional» = p 0 (1.508 células) frente a «defectuosa» =
      p ≥ 2/3 (821); las 295 dudosas de p = 1/3 se dejan fuera de las tres particiones.
    - ``"cuatro_niveles"``: las cuatro probabilidades como cuatro clases.

    La partición es la misma para ambas tareas: 25 % prueba, 10 % validación, 65 %
    entrenamiento, estratificada por probabilidad y tipo de módulo (ver ``info["particiones"]``).
    Imágenes CC BY-NC-SA 4.0: uso no comercial.

    Args:
        image_size: lado en píxeles (16–300; el original es de 300 px).
        task: ``"binaria"`` o ``"cuatro_niveles"``.
        folder: carpeta con ``labels.csv`` e ``images/``; ``None`` = la del paquete elpv-dataset.

    Returns:
        Un :class:`RealDataSplits` con la licencia y la cita en ``info``.
    """
    size = _check_size(image_size, maximum=300)
    task = check_choice("task", task, ELPV_TASKS)
    base = _elpv_source(folder)
    names, probs, types = _read_elpv_labels(base)
    if len(names) != _ELPV_COUNT:
        raise LabkitError(f"{base / 'labels.csv'} tiene {len(names)} células y se esperaban "
                          f"{_ELPV_COUNT}. Reinstala el paquete elpv-dataset.")
    grey, split = _load_elpv_images(base, names, size), _elpv_split(names, probs, types)
    labels = _elpv_labels(probs, task)
    info = dict(_ELPV_INFO, tarea=task)
    sets = []
    for s, part in enumerate(("train", "val", "test")):
        idx = np.flatnonzero((split == s) & (labels >= 0))
        sets.append(ImageSet(_grey_to_rgb(grey[idx], size), torch.as_tensor(labels[idx]),
                             list(_ELPV_CLASSES[task]), f"ELPV ({part})", dict(info)))
    return RealDataSplits(*sets)


def dataset_report(splits: DataSplits) -> str:
    """Ficha de un conjunto real: recuento por clase en cada partición, licencia y cita.

    Args:
        splits: lo que devuelven :func:`pneumonia_mnist`, :func:`breast_mnist`, :func:`elpv`,
            :func:`labkit.flowers` o :func:`labkit.beans`.

    Returns:
        Un texto de varias líneas para ``print``.
    """
    if not isinstance(splits, DataSplits):
        raise LabkitError("dataset_report necesita las particiones de un conjunto real "
                          "(p. ej. labkit.pneumonia_mnist()).")
    lines = [f"{splits.train.name.split(' (')[0]}: imágenes de {splits.train.image_size[0]} px"]
    for part in ("train", "val", "test"):
        s = getattr(splits, part)
        counts = ", ".join(f"{c} {n}" for c, n in s.class_counts().items())
        lines.append(f"  {part:<5} {len(s):>5} imágenes  ({counts})")
    for key in ("fuente", "particiones", "licencia", "creditos", "cita", "aviso"):
        if key in splits.train.info:
            lines.append(f"  {key}: {splits.train.info[key]}")
    return "\n".join(lines)
