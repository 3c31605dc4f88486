"""Fotos naturales reales, sin red: flores de Flickr y hojas de frijol del campo.

Dos conjuntos cerca del dominio de ImageNet (flores) y un paso más lejos (hojas de frijol), donde
el efecto del transfer learning se puede medir. Viajan dentro del paquete, tal cual llegaron, con
su ``manifest.csv`` (sha256 de cada foto), su licencia y sus créditos:

- :func:`flowers`: 1.000 fotos de Flickr (``labkit/fotos/flores/``, subconjunto de tf_flowers),
  200 por clase. CC BY 2.0: cada foto con su autor y su enlace en ``ATTRIBUTION.txt`` (y en el
  manifiesto); :func:`photo_credits` escribe el crédito de las fotos que se muestran.
- :func:`beans`: 600 fotos de hojas de frijol (``labkit/fotos/frijoles/``, iBean, Makerere AI
  Lab con NaCRRI, Uganda), 200 por clase. Licencia MIT (``LICENSE``).

Al cargar se comprueba el sha256 de cada archivo (una vez por proceso mientras no cambien) y que
el manifiesto y la carpeta coinciden. Las fotos se preparan como en :func:`labkit.image_folder`
(lado corto a ``image_size`` y recorte central, :mod:`labkit.data`) y se guardan en la
misma caché en disco (:mod:`labkit.data`, bajo ``labkit.data_dir()``): las cargas
siguientes, también desde otro kernel, son inmediatas. Nunca se escribe en la carpeta de fotos.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import torch

from ..base._errors import LabkitError
from ..base._validate import check_path
from . import _imagecache as imagecache
from ._data import ImageSet
from ._datasets import RealDataSplits, _check_size
from ._folders import DEFAULT_MAX_PIXELS
from ._imagecachestore import load_cached
from ._photocredits import PhotoCredits, shown_path

__all__ = ["flowers", "beans", "PHOTOS_DIR", "PHOTO_SETS", "split_of"]

PHOTOS_DIR = Path(__file__).resolve().parents[1] / "fotos"
_SPLIT_VERSION = 1
_TEST_FRACTION = _VAL_FRACTION = 0.15
_BASE_COLUMNS = ("file", "class", "sha256")
_FIX = ("Recupera la carpeta con «git checkout -- labkit/fotos» en el repositorio, o reinstala "
        "labkit (pip install --force-reinstall).")

PHOTO_SETS: dict[str, dict] = {
    "flores": {
        "name": "Flores",
        "classes": {"daisy": "margarita", "dandelion": "diente de león", "roses": "rosa",
                    "sunflowers": "girasol", "tulips": "tulipán"},
        "per_class": 200,
        "columns": _BASE_COLUMNS + ("author", "url"),
        # Casi duplicadas: van siempre a la misma partición (si no, la prueba vería su gemela).
        "together": {"dandelion/18304194360_2a4a0be631_m.jpg":
                     "dandelion/17161833794_e1d92259d2_m.jpg"},
        "info": {
            "descripcion": "1.000 fotos de Flickr (subconjunto de tf_flowers de TensorFlow), 5 "
                           "clases, 200 por clase, 224×224 JPEG.",
            "fuente": "TensorFlow flower_photos (tf_flowers), fotos de Flickr.",
            "licencia": "CC BY 2.0, cada foto con su autor en ATTRIBUTION.txt "
                        "(https://creativecommons.org/licenses/by/2.0/)",
            "cita": "Fotos de Flickr del conjunto flower_photos de TensorFlow; autor y enlace de "
                    "cada una en labkit/fotos/flores/ATTRIBUTION.txt (y labkit.photo_credits). "
                    "Reescaladas y recodificadas para el curso; los autores no lo respaldan.",
        },
    },
    "frijoles": {
        "name": "Frijoles",
        "classes": {"angular_leaf_spot": "mancha angular", "bean_rust": "roya",
                    "healthy": "sana"},
        "per_class": 200,
        "columns": _BASE_COLUMNS,
        "together": {},
        "info": {
            "descripcion": "600 fotos de hojas de frijol tomadas en el campo (Uganda), 3 clases, "
                           "200 por clase, 256×256 JPEG.",
            "fuente": "iBean, Makerere AI Lab con NaCRRI (Uganda).",
            "licencia": "MIT (iBean, Makerere AI Lab); el texto en labkit/fotos/frijoles/LICENSE",
            "cita": "Conjunto iBean del Makerere AI Lab con NaCRRI "
                    "(https://github.com/AI-Lab-Makerere/ibean). Reescaladas de 500×500 a "
                    "256×256 y recodificadas para el curso; el laboratorio no lo respalda.",
        },
    },
}
_PARTITIONS = ("Fijas y estratificadas: dentro de cada clase, ordenadas por el MD5 del nombre "
               "del archivo, 15 % prueba, 15 % validación y 70 % entrenamiento (no dependen de "
               "la máquina, de semillas ni de versiones).")
_verified_stamps: dict[str, tuple] = {}  # carpeta → firma (tamaños y fechas) ya comprobada


# ---------------------------------------------------------------------------------- manifiesto
def _read_manifest(base: Path, spec: dict) -> list[dict]:
    """Lee ``manifest.csv`` y comprueba columnas, rutas, clases y recuentos."""
    path = base / "manifest.csv"
    if not path.is_file():
        raise LabkitError(f"Falta el manifiesto {path}. {_FIX}")
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in spec["columns"] if c not in (reader.fieldnames or [])]
            if missing:
                raise LabkitError(f"El manifiesto {path} no tiene las columnas {missing} (tiene "
                                  f"{reader.fieldnames}). {_FIX}")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabkitError(f"No se pudo leer el manifiesto {path} ({exc}). {_FIX}") from exc
    seen: set[str] = set()
    for n, row in enumerate(rows, start=2):
        name = row.get("file") or ""
        parts = name.split("/")
        if (len(parts) != 2 or parts[0] != row.get("class") or parts[0] not in spec["classes"]
                or parts[1] in ("", ".", "..") or name in seen
                or len(row.get("sha256") or "") != 64):
            raise LabkitError(f"La línea {n} del manifiesto {path} no es válida ({name!r}: se "
                              "esperaba «clase/archivo.jpg», una clase conocida, sin repetir, y "
                              f"un sha256 de 64 cifras). {_FIX}")
        seen.add(name)
    counts = {c: sum(r["class"] == c for r in rows) for c in spec["classes"]}
    if any(n != spec["per_class"] for n in counts.values()):
        raise LabkitError(f"El manifiesto {path} no coincide con el conjunto: {counts} fotos por "
                          f"clase y se esperaban {spec['per_class']} de cada una. {_FIX}")
    return rows


def _check_no_extra(base: Path, rows: list[dict], spec: dict) -> None:
    """Error si en las carpetas de clase hay archivos que el manifiesto no nombra."""
    listed = {r["file"] for r in rows}
    for cls in spec["classes"]:
        folder = base / cls
        if not folder.is_dir():
            raise LabkitError(f"Falta la carpeta de fotos {folder}. {_FIX}")
        for path in sorted(folder.iterdir()):
            if f"{cls}/{path.name}" not in listed:
                raise LabkitError(f"El archivo {path} no está en el manifiesto {base / 'manifest.csv'}"
                                  f": quítalo de la carpeta (guárdalo en otra parte si es tuyo) "
                                  f"o {_FIX[0].lower()}{_FIX[1:]}")


def _stamp(base: Path, rows: list[dict]) -> tuple:
    """Firma barata de la carpeta: tamaño y fecha de cada archivo (y del manifiesto)."""
    out = []
    for name in ["manifest.csv"] + [r["file"] for r in rows]:
        path = base / name
        try:
            st = path.stat()
        except OSError:
            raise LabkitError(f"Falta la foto {path}, que nombra el manifiesto. {_FIX}") from None
        out.append((name, st.st_size, st.st_mtime_ns))
    return tuple(out)


def _verify(base: Path, rows: list[dict]) -> None:
    """Comprueba el sha256 de cada foto; solo la primera vez mientras la carpeta no cambie."""
    stamp = _stamp(base, rows)
    if _verified_stamps.get(str(base.resolve())) == stamp:
        return
    for row in rows:
        path = base / row["file"]
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if got != row["sha256"]:
            raise LabkitError(f"La foto {path} está dañada o no es la original (sha256 {got[:12]}…"
                              f", el manifiesto dice {row['sha256'][:12]}…). {_FIX}")
    _verified_stamps[str(base.resolve())] = stamp


# ---------------------------------------------------------------------------------- partición
def split_of(rows: list[dict], spec: dict) -> np.ndarray:
    """Partición fija (0 = train, 1 = val, 2 = test), estratificada por clase.

    Dentro de cada clase se ordena por el MD5 del nombre del archivo (las casi duplicadas, por el
    de su gemela, así quedan juntas): el primer 15 % va a prueba, el 15 % siguiente a validación
    y el resto a entrenamiento.

    Args:
        rows: las filas del manifiesto.
        spec: la descripción del conjunto (``PHOTO_SETS[...]``).

    Returns:
        Un entero por fila.
    """
    def key(i: int) -> tuple[str, str]:
        name = rows[i]["file"]
        group = spec["together"].get(name, name)
        return hashlib.md5(group.encode()).hexdigest(), name

    split = np.zeros(len(rows), dtype=np.int64)
    for cls in spec["classes"]:
        idx = sorted((i for i, r in enumerate(rows) if r["class"] == cls), key=key)
        n_test, n_val = round(_TEST_FRACTION * len(idx)), round(_VAL_FRACTION * len(idx))
        split[idx[:n_test]] = 2
        split[idx[n_test:n_test + n_val]] = 1
    return split


# ---------------------------------------------------------------------------------- carga
def _decode(base: Path, rows: list[dict], order: np.ndarray, size: int, key: str,
            manifest: dict) -> torch.Tensor:
    """Decodifica las fotos (en el orden final) a la caché de imágenes y la devuelve mapeada."""
    paths = [base / rows[i]["file"] for i in order]
    staging, results = imagecache.decode_files(
        paths, np.arange(len(paths)), size, DEFAULT_MAX_PIXELS, key,
        imagecache.default_workers(), progress=False)
    bad = [(p, r.reason) for p, r in zip(paths, results, strict=True) if r.reason is not None]
    if bad:
        staging.unlink(missing_ok=True)
        raise LabkitError(f"No se pudo leer la foto {bad[0][0]} ({bad[0][1]}). {_FIX}")
    return imagecache.finalize(staging, np.arange(len(paths)), key, manifest)


def _load(set_key: str, image_size: object, folder: object) -> RealDataSplits:
    """Carga un conjunto de fotos: comprueba, parte, decodifica (o usa la caché) y arma."""
    size = _check_size(image_size)
    spec = PHOTO_SETS[set_key]
    base = PHOTOS_DIR / set_key if folder is None else check_path("folder", folder)
    if not base.is_dir():
        raise LabkitError(f"Falta la carpeta de fotos {base}. {_FIX}")
    rows = _read_manifest(base, spec)
    _check_no_extra(base, rows, spec)
    _verify(base, rows)
    split = split_of(rows, spec)
    order = np.concatenate([np.flatnonzero(split == s) for s in range(3)])
    names = list(spec["classes"])
    labels = np.array([names.index(rows[i]["class"]) for i in order], dtype=np.int64)
    key = imagecache.cache_key(
        [(rows[i]["file"], rows[i]["sha256"]) for i in order],
        {"root": str(base.resolve()), "set": set_key, "image_size": size,
         "split": _SPLIT_VERSION})
    cached = load_cached(key)
    bounds = np.cumsum([0] + [int((split == s).sum()) for s in range(3)]).tolist()
    manifest = {"root": str(base.resolve()), "image_size": size, "labels": labels.tolist(),
                "ranges": {p: bounds[s:s + 2] for s, p in enumerate(("train", "val", "test"))}}
    images = cached[1] if cached is not None else _decode(base, rows, order, size, key, manifest)
    credits = PhotoCredits.from_rows(base, [rows[i] for i in order], images, spec["info"])
    info = dict(spec["info"], particiones=_PARTITIONS, carpeta=str(base), fotos=credits,
                creditos=_credit_note(base, credits))
    sets = []
    for s, part in enumerate(("train", "val", "test")):
        start, stop = bounds[s], bounds[s + 1]
        ref = imagecache.CacheRef(key, start, stop, images, images._version)
        sets.append(ImageSet(images[start:stop], torch.as_tensor(labels[start:stop]),
                             [spec["classes"][c] for c in names], f"{spec['name']} ({part})",
                             dict(info, image_cache=ref)))
    return RealDataSplits(*sets)


def _credit_note(base: Path, credits: PhotoCredits) -> str:
    """Dónde están los créditos, para el informe del conjunto."""
    if credits.per_photo:
        return (f"autor y enlace de cada foto en {shown_path(base / 'ATTRIBUTION.txt')} (y en manifest.csv); "
                "labkit.photo_credits(partición, índices) escribe los de las fotos que muestres.")
    return (f"licencia y autores en {shown_path(base / 'LICENSE')}; procedencia en "
            f"{shown_path(base / 'README.txt')}.")


def flowers(image_size: int = 128, folder: str | Path | None = None) -> RealDataSplits:
    """Flores: 1.000 fotos de Flickr, «margarita», «diente de león», «rosa», «girasol», «tulipán».

    Partición fija y estratificada: train 700 / val 150 / test 150 (140 / 30 / 30 por clase; ver
    ``info["particiones"]``). Fotos CC BY 2.0: donde se muestren, di que lo son y dónde están los
    créditos (``labkit.photo_credits(conjunto, índices)`` escribe el de cada foto mostrada).

    Args:
        image_size: lado en píxeles (16–512; los originales son de 224 px). 128 por defecto, como
            :func:`labkit.image_folder`: en CPU cuesta ~1.6 veces menos que 160 px.
        folder: carpeta con ``manifest.csv`` y una subcarpeta por clase; ``None`` = la del
            paquete (``labkit/fotos/flores``).

    Returns:
        Un :class:`~labkit.data.RealDataSplits` con la licencia, la fuente y los créditos en
        ``info``.
    """
    return _load("flores", image_size, folder)


def beans(image_size: int = 128, folder: str | Path | None = None) -> RealDataSplits:
    """Frijoles: 600 fotos de hojas de frijol del campo, «mancha angular», «roya» o «sana».

    Partición fija y estratificada: train 420 / val 90 / test 90 (140 / 30 / 30 por clase).
    iBean, Makerere AI Lab con NaCRRI (Uganda); licencia MIT.

    Args:
        image_size: lado en píxeles (16–512; los originales son de 256 px).
        folder: carpeta con ``manifest.csv`` y una subcarpeta por clase; ``None`` = la del
            paquete (``labkit/fotos/frijoles``).

    Returns:
        Un :class:`~labkit.data.RealDataSplits` con la licencia y la fuente en ``info``.
    """
    return _load("frijoles", image_size, folder)
