"""Las imágenes del alumno: de una carpeta con una subcarpeta por clase a un :class:`DataSplits`.

La organización habitual es ``carpeta/gato/*.jpg``, ``carpeta/perro/*.png``. Si la carpeta ya
trae ``train/`` y ``val/`` (y quizá ``test/``), se usan tal cual como particiones. Cada imagen se
abre con PIL, se pasa a RGB, se endereza según su EXIF, se reescala para que el lado corto mida
``image_size`` y se recorta al centro (la misma forma que las transformaciones de los pesos de
torchvision; la normalización propia de cada modelo se aplica después, al entrenar; ver
:mod:`labkit.data`). Nunca se guardan las imágenes a tamaño completo y nunca se escribe en
la carpeta.

Cada imagen se decodifica una sola vez, en paralelo, a una caché en disco bajo
``labkit.data_dir()`` (:mod:`labkit.data`): las particiones son vistas contiguas de ese
archivo mapeado en memoria, así 20 000 fotos no llenan la memoria y un kernel nuevo las tiene al
instante. Si la carpeta cambia, se rehace; ``labkit.data.clear_image_cache()`` la borra.

Lo que no se puede usar (archivos que no son imágenes, imágenes dañadas o gigantes) se omite y se
avisa una sola vez; el informe completo queda en ``folder_report(splits)``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..base._errors import LabkitError
from ..base._validate import check_bool, check_fraction, check_int, check_seed
from . import _imagecache as imagecache
from . import _loadestimate as loadestimate
from ._data import DataSplits, ImageSet
from ._folderreport import (
    SPLIT_LABELS,
    SPLITS,
    ConvertedFile,
    FolderReport,
    SkippedFile,
    _manifest_problem,
    _stats,
    printable,
    report_from_json,
    report_to_json,
)
from ._folderscan import FileItem, rel_path, scan_folder
from ._foldersplits import _split_name_note, _warn_user, assign_splits
from ._imagecachestore import load_cached, warn_damaged
from ._imagedecode import DecodeResult

__all__ = ["image_folder", "folder_report", "DEFAULT_MAX_PIXELS"]

DEFAULT_MAX_PIXELS = 40_000_000
_AUTO_PROGRESS_FROM = 500
_ESTIMATE_FROM = 200       # con menos archivos no se estima nada antes de cargar
_SUGGESTED_TOTAL = 2000    # max_per_class sugerido: unas 2000 imágenes en total


@dataclass
class _Loaded:
    """Resultado de decodificar los candidatos: solo lo que se pudo usar.

    ``rows[i]`` es la fila del temporal de la imagen usable número ``i``.
    """

    rows: np.ndarray
    labels: np.ndarray
    splits: list[str]
    sizes: list[tuple[int, int]]
    skipped: list[SkippedFile]
    converted: list[ConvertedFile]


@dataclass(frozen=True)
class _Settings:
    """Los argumentos de :func:`image_folder`, ya comprobados."""

    image_size: int
    val_fraction: float
    test_fraction: float
    seed: int
    max_pixels: int
    max_per_class: int | None
    progress: bool | None
    workers: int


def image_folder(
    path: str | os.PathLike,
    image_size: int = 224,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    *,
    max_per_class: int | None = None,
    progress: bool | None = None,
    workers: int | None = None,
) -> DataSplits:
    """Carga una carpeta de imágenes (una subcarpeta por clase) y la divide en particiones.

    La primera vez decodifica cada imagen una sola vez, en paralelo, a una caché en disco
    (:mod:`labkit.data`); las particiones son vistas de esa caché mapeada, así la memoria no
    crece con el número de imágenes y las cargas siguientes (también desde otro kernel) son
    inmediatas. Si la carpeta cambia, la caché se rehace. Antes de una carga larga se avisa de
    cuánto disco y tiempo hará falta y de cómo reducirlo.

    Args:
        path: la carpeta. Dentro, una subcarpeta por clase (``gato/``, ``perro/``…), o bien
            ``train/`` y ``val/`` (y opcionalmente ``test/``) con las subcarpetas de clase dentro.
        image_size: lado en píxeles de las imágenes guardadas (lado corto + recorte central).
            224 por defecto: lo que vieron los pesos de ImageNet. Elegido con
            ``benchmarks/bench_mi_carpeta.py`` (issue 18): carpetas de 250 fotos de flores y de
            frijoles, ``create_model("efficientnet_lite0")`` y ``fine_tune`` sin argumentos, 3
            semillas, exactitud en la prueba fija del conjunto (150 y 90 fotos), CPU de 2 hilos::

                                 receta 128 px   cabeza 128 px   cabeza 224 px   receta 224 px
                flores           77.8 ± 3.9      78.0 ± 1.3      85.1 ± 2.1      83.6 ± 5.0
                frijoles         82.2 ± 2.9      81.9 ± 2.6      83.7 ± 1.7      85.9 ± 3.6
                s de entreno     10–12           0.4             3.5–3.9         24–25

            Con el 128 de antes, la receta perdía en las flores frente a solo la cabeza a 224
            (−7.3 puntos, intervalo emparejado [−12.6, −2.6]); a 224 empata con ella (−1.6
            [−8.3, +7.5] en flores, +2.2 [−4.2, +8.6] en frijoles) y tarda unos 25 s. Con
            carpetas muy grandes en CPU, o imágenes lejanas de ImageNet en las que la resolución
            pesa menos (en ELPV, solo cabeza: 128 px 78.7 %, 160 px 76.8 %), baja a 128: ocupa
            tres veces menos y entrena en menos de la mitad de tiempo.
        val_fraction: fracción de cada clase para validación (si no hay carpeta ``val/``).
        test_fraction: fracción de cada clase para prueba (si no hay carpeta ``test/``).
        seed: semilla de la división; la misma carpeta y semilla dan las mismas particiones.
        max_pixels: las imágenes con más píxeles que esto se omiten (protección contra
            «bombas de descompresión»).
        max_per_class: si se da, como mucho tantos archivos por clase y carpeta (elegidos al azar
            con la semilla); útil para probar rápido con conjuntos grandes.
        progress: muestra una barra de progreso; por defecto, solo con más de 500 archivos.
        workers: procesos que decodifican; ``None`` = todos los núcleos disponibles.

    Returns:
        Un :class:`DataSplits`; ``folder_report(splits)`` devuelve el informe de lo encontrado.
    """
    root = _check_root(path)
    opts = _check_params(image_size, val_fraction, test_fraction, seed, max_pixels,
                         max_per_class, progress, workers)
    classes, items, skipped, layout = scan_folder(root, opts.max_per_class, opts.seed)
    key = imagecache.cache_key(_identities(items, root), _key_settings(root, classes, layout, opts))
    cached = _open_cache(key, classes, root)
    if cached is None:
        cached = _build_cache(root, classes, items, skipped, layout, opts, key)
    manifest, images = cached
    report = report_from_json(manifest["report"], printable(str(root)))
    _warn_user(report, len(items) + len(skipped))
    return _make_splits(images, manifest, classes, report, root, key)


def _open_cache(key: str, classes: list[str], root: Path) -> tuple[dict, torch.Tensor] | None:
    """La caché comprobada (resumen SHA-256 y forma del manifiesto) o ``None`` para rehacerla."""
    cached = load_cached(key)
    if cached is None:
        return None
    reason = _manifest_problem(cached[0], len(cached[1]), len(classes), root)
    if reason is None:
        return cached
    warn_damaged(imagecache.cache_dir() / f"{key}.u8", reason)
    return None


def folder_report(splits: DataSplits) -> FolderReport:
    """Devuelve el informe de :func:`image_folder` guardado en unas particiones.

    Args:
        splits: particiones creadas por :func:`image_folder`.

    Returns:
        El :class:`FolderReport` (se muestra como tabla en un cuaderno).
    """
    report = splits.train.info.get("report")
    if not isinstance(report, FolderReport):
        raise LabkitError("Estas particiones no vienen de image_folder(): no tienen informe de "
                          "carpeta. Crea las particiones con labkit.image_folder(ruta).")
    return report


# ---------------------------------------------------------------------------------- comprobaciones
def _check_root(path: str | os.PathLike) -> Path:
    """Comprueba que la ruta existe y es una carpeta; devuelve la ruta."""
    root = Path(path).expanduser()
    if not root.exists():
        raise LabkitError(f"No encuentro la carpeta '{path}' (ruta completa: '{root.absolute()}'). "
                          "Revisa que la ruta esté bien escrita y que la carpeta exista.")
    if not root.is_dir():
        hint = " Si es un .zip, descomprímelo primero." if root.suffix.lower() == ".zip" else ""
        raise LabkitError(f"'{path}' es un archivo, no una carpeta. Pasa la carpeta que contiene "
                          f"una subcarpeta por clase.{hint}")
    return root


def _check_params(image_size: object, val_fraction: object, test_fraction: object, seed: object,
                  max_pixels: object, max_per_class: object, progress: object,
                  workers: object) -> _Settings:
    """Valida los argumentos de :func:`image_folder` (errores en español con el argumento)."""
    size = check_int("image_size", image_size, minimum=8,
                     expected="un entero de al menos 8 píxeles (p. ej. 160)")
    val = check_fraction("val_fraction", val_fraction)
    test = check_fraction("test_fraction", test_fraction)
    if val + test >= 1:
        raise LabkitError("val_fraction + test_fraction debe ser menor que 1 para que quede algo "
                          f"para entrenar; suman {val + test:g}.")
    per_class = None if max_per_class is None else check_int(
        "max_per_class", max_per_class, minimum=1,
        expected="un entero de al menos 1, o None para usar todos los archivos")
    return _Settings(
        image_size=size, val_fraction=val, test_fraction=test, seed=check_seed(seed),
        max_pixels=check_int("max_pixels", max_pixels, minimum=1), max_per_class=per_class,
        progress=None if progress is None else check_bool("progress", progress),
        workers=(imagecache.default_workers() if workers is None
                 else check_int("workers", workers, minimum=1)))


# ---------------------------------------------------------------------------------- comprobaciones tras leer
def _check_loaded_classes(loaded: _Loaded, classes: list[str], root: Path) -> None:
    """Error si alguna clase se quedó sin ninguna imagen legible."""
    counts = np.bincount(loaded.labels, minlength=len(classes))
    empty = [c for c, n in zip(classes, counts, strict=True) if n == 0]
    if empty:
        raise LabkitError(
            f"La clase '{empty[0]}' de '{root}' no tiene ninguna imagen que se pueda leer "
            f"(clases sin imágenes: {empty}). Se omitieron {len(loaded.skipped)} archivo(s); "
            "revisa que sean imágenes JPG o PNG válidas.")


# ---------------------------------------------------------------------------------- resultado

def _build_report(root: Path, classes: list[str], loaded: _Loaded,
                  indices: dict[str, np.ndarray], image_size: int, layout: str,
                  notes: list[str]) -> FolderReport:
    """Arma el :class:`FolderReport` con los recuentos por partición y clase."""
    counts = {s: dict(zip(classes, np.bincount(loaded.labels[idx], minlength=len(classes))
                          .tolist(), strict=True)) for s, idx in indices.items()}
    shown = [printable(c) for c in classes]
    return FolderReport(
        root=printable(str(root)), classes=shown,
        counts={s: {printable(c): n for c, n in per.items()} for s, per in counts.items()},
        image_size=image_size, widths=_stats([w for w, _ in loaded.sizes]),
        heights=_stats([h for _, h in loaded.sizes]),
        skipped=[SkippedFile(printable(s.path), s.reason) for s in loaded.skipped],
        converted=[ConvertedFile(printable(c.path), c.mode) for c in loaded.converted],
        layout=printable(layout), notes=[printable(n) for n in notes])


# ---------------------------------------------------------------------------------- caché
def _identities(items: list[FileItem], root: Path) -> list[tuple]:
    """Lo que identifica cada archivo para la clave: ruta, clase, partición, tamaño y fecha."""
    out = []
    for item in items:
        try:
            st = item.path.stat()
            stamp = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = (-1, -1)
        out.append((rel_path(item.path, root), item.label, item.split, *stamp))
    return out


def _key_settings(root: Path, classes: list[str], layout: str, opts: _Settings) -> dict:
    """Los ajustes que cambian el contenido o el orden de la caché."""
    return {"root": str(root.resolve()), "classes": classes, "layout": layout,
            "image_size": opts.image_size, "max_pixels": opts.max_pixels, "seed": opts.seed,
            "val_fraction": opts.val_fraction, "test_fraction": opts.test_fraction}


def _build_cache(root: Path, classes: list[str], items: list[FileItem], skipped: list[SkippedFile],
                 layout: str, opts: _Settings, key: str) -> tuple[dict, torch.Tensor]:
    """Decodifica la carpeta a la caché (particiones contiguas) y devuelve manifiesto e imágenes."""
    paths = [item.path for item in items]
    if len(paths) >= _ESTIMATE_FROM:
        estimate = loadestimate.load_estimate(paths, opts.image_size, opts.max_pixels, opts.workers)
        loadestimate.announce_load(estimate, opts.image_size, _smaller_load(items, classes))
    show = opts.progress if opts.progress is not None else len(items) > _AUTO_PROGRESS_FROM
    positions = _planned_positions(items, classes, layout, opts)
    try:
        staging, pixels = None, None
        staging, results = imagecache.decode_files(paths, positions, opts.image_size,
                                                   opts.max_pixels, key, opts.workers, show)
    except imagecache.CacheUnavailable as why:  # sin permiso de escritura: a memoria
        warnings.warn(str(why), UserWarning, stacklevel=3)
        pixels, results = imagecache.decode_to_memory(paths, positions, opts.image_size,
                                                      opts.max_pixels, opts.workers, show)
    try:
        loaded = _collect(items, results, positions, root)
        loaded.skipped[:0] = skipped
        _check_loaded_classes(loaded, classes, root)
        indices, notes, layout = assign_splits(loaded.labels, loaded.splits, classes, layout,
                                               opts.val_fraction, opts.test_fraction, opts.seed)
    except BaseException:
        if staging is not None:
            staging.unlink(missing_ok=True)
        raise
    split_note = _split_name_note(classes, any(item.split != "all" for item in items))
    notes = notes + ([split_note] if split_note else [])
    report = _build_report(root, classes, loaded, indices, opts.image_size, layout, notes)
    order = np.concatenate([indices[s] for s in SPLITS])
    bounds = np.cumsum([0] + [len(indices[s]) for s in SPLITS]).tolist()
    manifest = {"root": str(root.resolve()), "image_size": opts.image_size,
                "ranges": {s: bounds[i:i + 2] for i, s in enumerate(SPLITS)},
                "labels": loaded.labels[order].tolist(), "report": report_to_json(report)}
    if staging is None:
        return manifest, torch.from_numpy(np.ascontiguousarray(pixels[loaded.rows[order]]))
    return manifest, imagecache.finalize(staging, loaded.rows[order], key, manifest)


def _planned_positions(items: list[FileItem], classes: list[str], layout: str,
                       opts: _Settings) -> np.ndarray:
    """La fila final de cada archivo si todos se pueden leer (particiones una tras otra).

    Si luego se omite alguno, la división se rehace sobre los legibles y se reordena la caché.
    """
    labels = np.array([item.label for item in items], dtype=np.int64)
    indices, _, _ = assign_splits(labels, [item.split for item in items], classes, layout,
                                  opts.val_fraction, opts.test_fraction, opts.seed)
    positions = np.empty(len(items), dtype=np.int64)
    positions[np.concatenate([indices[s] for s in SPLITS])] = np.arange(len(items))
    return positions


def _collect(items: list[FileItem], results: list[DecodeResult], positions: np.ndarray,
             root: Path) -> _Loaded:
    """Reúne lo que dejó la decodificación: qué filas sirven y lo omitido o convertido."""
    rows, sizes, skipped, converted = [], [], [], []
    for item, result in zip(items, results, strict=True):
        if result.reason is not None:
            skipped.append(SkippedFile(rel_path(item.path, root), result.reason))
            continue
        rows.append(result.index)
        sizes.append(tuple(result.size))
        if result.mode != "RGB":
            converted.append(ConvertedFile(rel_path(item.path, root), str(result.mode)))
    labels = np.array([items[i].label for i in rows], dtype=np.int64)
    return _Loaded(positions[np.array(rows, dtype=np.int64)], labels,
                   [items[i].split for i in rows], sizes, skipped, converted)


def _smaller_load(items: list[FileItem], classes: list[str]) -> tuple[int, int] | None:
    """Un ``max_per_class`` que sugerir (unas 2000 imágenes) y cuántas cargaría; o ``None``."""
    counts = np.bincount([item.label for item in items], minlength=len(classes))
    per_class = max(10, _SUGGESTED_TOTAL // max(1, len(classes)))
    if per_class >= counts.max():
        return None
    return per_class, int(np.minimum(counts, per_class).sum())


def _make_splits(images: torch.Tensor, manifest: dict, classes: list[str],
                 report: FolderReport, root: Path, key: str) -> DataSplits:
    """Los tres :class:`ImageSet`, vistas contiguas de la caché, con el informe en ``info``."""
    labels = torch.tensor(manifest["labels"], dtype=torch.int64)
    classes, name = [printable(c) for c in classes], printable(root.name)
    sets = {}
    for split in SPLITS:
        start, stop = (int(v) for v in manifest["ranges"][split])
        ref = imagecache.CacheRef(key, start, stop, images, images._version)
        sets[split] = ImageSet(images[start:stop], labels[start:stop], list(classes),
                               f"{name} ({SPLIT_LABELS[split]})",
                               {"report": report, "source": str(root), "image_cache": ref})
    return DataSplits(sets["train"], sets["val"], sets["test"])
