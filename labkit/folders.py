"""Las imágenes del alumno: de una carpeta con una subcarpeta por clase a un :class:`DataSplits`.

La organización habitual es ``carpeta/gato/*.jpg``, ``carpeta/perro/*.png``. Si la carpeta ya
trae ``train/`` y ``val/`` (y quizá ``test/``), se usan tal cual como particiones. Cada imagen se
abre con PIL, se pasa a RGB, se endereza según su EXIF, se reescala para que el lado corto mida
``image_size`` y se recorta al centro (la misma forma que las transformaciones de los pesos de
torchvision; la normalización propia de cada modelo se aplica después, al entrenar; ver
:mod:`labkit.imagedecode`). Nunca se guardan las imágenes a tamaño completo y nunca se escribe en
la carpeta.

Cada imagen se decodifica una sola vez, en paralelo, a una caché en disco bajo
``labkit.data_dir()`` (:mod:`labkit.imagecache`): las particiones son vistas contiguas de ese
archivo mapeado en memoria, así 20 000 fotos no llenan la memoria y un kernel nuevo las tiene al
instante. Si la carpeta cambia, se rehace; ``labkit.imagecache.clear_image_cache()`` la borra.

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

from . import imagecache
from .data import DataSplits, ImageSet
from .errors import LabkitError
from .folderreport import (
    SPLIT_LABELS,
    SPLITS,
    ConvertedFile,
    FolderReport,
    SkippedFile,
    first_items,
    report_from_json,
    report_to_json,
)
from .foldersplits import assign_splits, plural
from .imagedecode import IMAGE_EXTENSIONS, DecodeResult
from .validate import check_bool, check_fraction, check_int, check_seed

__all__ = [
    "image_folder",
    "folder_report",
    "FolderReport",
    "SkippedFile",
    "ConvertedFile",
    "IMAGE_EXTENSIONS",
    "DEFAULT_MAX_PIXELS",
]

IGNORED_NAMES = frozenset({"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db",
                           "desktop.ini"})
DEFAULT_MAX_PIXELS = 40_000_000
SPLIT_ALIASES = {
    "train": ("train", "training", "entrenamiento"),
    "val": ("val", "valid", "validation", "validacion", "validación"),
    "test": ("test", "testing", "prueba"),
}
_AUTO_PROGRESS_FROM = 500
_ESTIMATE_FROM = 200       # con menos archivos no se estima nada antes de cargar
_SUGGESTED_TOTAL = 2000    # max_per_class sugerido: unas 2000 imágenes en total


@dataclass
class _Item:
    """Un archivo candidato: su ruta, su clase y la partición de la que viene."""

    path: Path
    label: int
    split: str


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
    image_size: int = 160,
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
    (:mod:`labkit.imagecache`); las particiones son vistas de esa caché mapeada, así la memoria no
    crece con el número de imágenes y las cargas siguientes (también desde otro kernel) son
    inmediatas. Si la carpeta cambia, la caché se rehace. Antes de una carga larga se avisa de
    cuánto disco y tiempo hará falta y de cómo reducirlo.

    Args:
        path: la carpeta. Dentro, una subcarpeta por clase (``gato/``, ``perro/``…), o bien
            ``train/`` y ``val/`` (y opcionalmente ``test/``) con las subcarpetas de clase dentro.
        image_size: lado en píxeles de las imágenes guardadas (lado corto + recorte central).
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
    classes, items, skipped, layout = _scan(root, opts.max_per_class, opts.seed)
    key = imagecache.cache_key(_identities(items, root), _key_settings(root, classes, layout, opts))
    cached = imagecache.load_cached(key)
    if cached is None:
        cached = _build_cache(root, classes, items, skipped, layout, opts, key)
    manifest, images = cached
    report = report_from_json(manifest["report"], str(root))
    _warn_user(report, len(items) + len(skipped))
    return _make_splits(images, manifest, classes, report, root, key)


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


# ---------------------------------------------------------------------------------- exploración
def _is_ignored(name: str) -> bool:
    """Archivos y carpetas ocultos o de sistema que se ignoran en silencio."""
    return name.startswith(".") or name in IGNORED_NAMES


def _entries(folder: Path) -> list[Path]:
    """El contenido de una carpeta; si no se puede leer, un error que lo dice (no «vacía»)."""
    try:
        return list(folder.iterdir())
    except PermissionError:
        raise _no_permission(folder) from None


def _no_permission(folder: Path | str) -> LabkitError:
    return LabkitError(
        f"No tengo permiso para leer la carpeta '{folder}': no sé si tiene imágenes. Dale "
        "permiso de lectura (en una terminal: chmod -R u+rX 'carpeta') o cópiala a otro sitio, "
        "y vuelve a cargar.")


def _subdirs(folder: Path) -> list[Path]:
    """Subcarpetas visibles, en orden alfabético."""
    return sorted(p for p in _entries(folder) if p.is_dir() and not _is_ignored(p.name))


def _loose_files(folder: Path) -> list[Path]:
    """Archivos visibles sueltos directamente en la carpeta, en orden alfabético."""
    return sorted(p for p in _entries(folder) if p.is_file() and not _is_ignored(p.name))


def _files_below(folder: Path) -> list[Path]:
    """Todos los archivos visibles bajo la carpeta (también en subcarpetas), en orden."""
    found = []
    for current, dirnames, filenames in os.walk(folder, onerror=_raise_unreadable):
        dirnames[:] = sorted(d for d in dirnames if not _is_ignored(d))
        found += [Path(current) / f for f in filenames if not _is_ignored(f)]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _raise_unreadable(err: OSError) -> None:
    """Para ``os.walk``: una carpeta sin permiso de lectura es un error, no una carpeta vacía."""
    if isinstance(err, PermissionError):
        raise _no_permission(err.filename or "?") from None
    raise LabkitError(f"No puedo leer la carpeta '{err.filename}': {err.strerror or err}.")


def _find_split_dirs(root: Path) -> dict[str, Path]:
    """Carpetas ``train/``, ``val/`` y ``test/`` (o sus alias) si la raíz está organizada así."""
    found: dict[str, Path] = {}
    for folder in _subdirs(root):
        for split, aliases in SPLIT_ALIASES.items():
            if folder.name.lower() in aliases and split not in found:
                found[split] = folder
    return found if "train" in found and len(found) >= 2 else {}


def _scan(root: Path, max_per_class: int | None, seed: int
          ) -> tuple[list[str], list[_Item], list[SkippedFile], str]:
    """Encuentra clases y archivos candidatos; devuelve también los archivos sueltos omitidos."""
    split_dirs = _find_split_dirs(root)
    if split_dirs:
        classes = _split_layout_classes(root, split_dirs)
        folders = dict(split_dirs)
        names = ", ".join(f"{d.name}/" for d in split_dirs.values())
        layout = f"carpetas {names} de la propia carpeta"
    else:
        classes = _class_names(root)
        folders = {"all": root}
        layout = f"una subcarpeta por clase; división estratificada con semilla {seed}"
    rng = np.random.default_rng(seed)
    items = []
    loose = {p for folder in [root, *folders.values()] for p in _loose_files(folder)}
    skipped = [SkippedFile(_rel(p, root), "archivo suelto fuera de una carpeta de clase")
               for p in sorted(loose)]
    for split, folder in folders.items():
        for label, name in enumerate(classes):
            files = _class_files(folder / name, name, max_per_class, rng)
            items += [_Item(p, label, split) for p in files]
    return classes, items, skipped, layout


def _class_names(folder: Path) -> list[str]:
    """Nombres de las subcarpetas de clase; exige al menos dos."""
    classes = [d.name for d in _subdirs(folder)]
    if len(classes) >= 2:
        return classes
    found = f" ({', '.join(repr(c) for c in classes)})" if classes else ""
    loose = len(_loose_files(folder))
    extra = (f" Hay {loose} archivo(s) sueltos en esa carpeta: muévelos a la subcarpeta de su "
             "clase.") if loose else ""
    raise LabkitError(
        f"Encontré {len(classes)} carpeta(s) de clase en '{folder}'{found}; hacen falta al menos "
        f"2. Organiza las imágenes con una subcarpeta por clase, por ejemplo:\n"
        f"  {folder.name}/gato/foto1.jpg\n  {folder.name}/perro/foto2.jpg\n"
        f"(o bien {folder.name}/train/<clase>/… y {folder.name}/val/<clase>/…).{extra}")


def _split_layout_classes(root: Path, split_dirs: dict[str, Path]) -> list[str]:
    """Clases de una raíz con ``train/``/``val/``: deben ser las mismas en cada partición."""
    per_split = {s: _class_names(d) for s, d in split_dirs.items()}
    reference = per_split["train"]
    for split, names in per_split.items():
        if names != reference:
            missing = sorted(set(reference) - set(names))
            extra = sorted(set(names) - set(reference))
            raise LabkitError(
                f"Las clases de '{split_dirs[split].name}/' no coinciden con las de "
                f"'{split_dirs['train'].name}/' en '{root}'. Faltan: {missing or 'ninguna'}; "
                f"sobran: {extra or 'ninguna'}. Cada partición debe tener las mismas "
                "subcarpetas de clase.")
    return reference


def _class_files(folder: Path, name: str, max_per_class: int | None,
                 rng: np.random.Generator) -> list[Path]:
    """Archivos de una carpeta de clase (quizá una muestra); error si está vacía."""
    files = _files_below(folder)
    if not files:
        raise LabkitError(f"La carpeta de la clase '{name}' ('{folder}') está vacía. Pon imágenes "
                          "en ella o bórrala si esa clase no hace falta.")
    if max_per_class is not None and len(files) > max_per_class:
        chosen = np.sort(rng.choice(len(files), size=max_per_class, replace=False))
        files = [files[i] for i in chosen]
    return files


def _rel(path: Path, root: Path) -> str:
    """Ruta relativa a la raíz, con barras ``/``."""
    return path.relative_to(root).as_posix()


# ---------------------------------------------------------------------------------- lectura
# ---------------------------------------------------------------------------------- particiones
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
def _stats(values: list[int]) -> tuple[int, int, int]:
    """Mínimo, mediana y máximo (enteros)."""
    return int(np.min(values)), int(np.median(values)), int(np.max(values))


def _build_report(root: Path, classes: list[str], loaded: _Loaded,
                  indices: dict[str, np.ndarray], image_size: int, layout: str,
                  notes: list[str]) -> FolderReport:
    """Arma el :class:`FolderReport` con los recuentos por partición y clase."""
    counts = {s: dict(zip(classes, np.bincount(loaded.labels[idx], minlength=len(classes))
                          .tolist(), strict=True)) for s, idx in indices.items()}
    return FolderReport(
        root=str(root), classes=list(classes), counts=counts, image_size=image_size,
        widths=_stats([w for w, _ in loaded.sizes]), heights=_stats([h for _, h in loaded.sizes]),
        skipped=loaded.skipped, converted=loaded.converted, layout=layout, notes=notes)


def _warn_user(report: FolderReport, n_files: int) -> None:
    """Un solo aviso con los archivos omitidos, y otro si hay clases diminutas."""
    if report.skipped:
        items = [f"{s.path} ({s.reason})" for s in report.skipped]
        warnings.warn(
            f"{'Se omitió' if len(items) == 1 else 'Se omitieron'} {len(items)} de "
            f"{plural(n_files, 'archivo', 'archivos')} de '{report.root}': "
            f"{first_items(items)}. La lista completa está en folder_report(splits).",
            UserWarning, stacklevel=3)
    if report.notes:
        warnings.warn("Clases con muy pocas imágenes. " + " ".join(report.notes), UserWarning,
                      stacklevel=3)


# ---------------------------------------------------------------------------------- caché
def _identities(items: list[_Item], root: Path) -> list[tuple]:
    """Lo que identifica cada archivo para la clave: ruta, clase, partición, tamaño y fecha."""
    out = []
    for item in items:
        try:
            st = item.path.stat()
            stamp = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = (-1, -1)
        out.append((_rel(item.path, root), item.label, item.split, *stamp))
    return out


def _key_settings(root: Path, classes: list[str], layout: str, opts: _Settings) -> dict:
    """Los ajustes que cambian el contenido o el orden de la caché."""
    return {"root": str(root.resolve()), "classes": classes, "layout": layout,
            "image_size": opts.image_size, "max_pixels": opts.max_pixels, "seed": opts.seed,
            "val_fraction": opts.val_fraction, "test_fraction": opts.test_fraction}


def _build_cache(root: Path, classes: list[str], items: list[_Item], skipped: list[SkippedFile],
                 layout: str, opts: _Settings, key: str) -> tuple[dict, torch.Tensor]:
    """Decodifica la carpeta a la caché (particiones contiguas) y devuelve manifiesto e imágenes."""
    paths = [item.path for item in items]
    if len(paths) >= _ESTIMATE_FROM:
        estimate = imagecache.load_estimate(paths, opts.image_size, opts.max_pixels, opts.workers)
        imagecache.announce_load(estimate, opts.image_size, _smaller_load(items, classes))
    show = opts.progress if opts.progress is not None else len(items) > _AUTO_PROGRESS_FROM
    positions = _planned_positions(items, classes, layout, opts)
    staging, results = imagecache.decode_files(paths, positions, opts.image_size,
                                               opts.max_pixels, key, opts.workers, show)
    try:
        loaded = _collect(items, results, positions, root)
        loaded.skipped[:0] = skipped
        _check_loaded_classes(loaded, classes, root)
        indices, notes, layout = assign_splits(loaded.labels, loaded.splits, classes, layout,
                                               opts.val_fraction, opts.test_fraction, opts.seed)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    report = _build_report(root, classes, loaded, indices, opts.image_size, layout, notes)
    order = np.concatenate([indices[s] for s in SPLITS])
    bounds = np.cumsum([0] + [len(indices[s]) for s in SPLITS]).tolist()
    manifest = {"root": str(root.resolve()), "image_size": opts.image_size,
                "ranges": {s: bounds[i:i + 2] for i, s in enumerate(SPLITS)},
                "labels": loaded.labels[order].tolist(), "report": report_to_json(report)}
    return manifest, imagecache.finalize(staging, loaded.rows[order], key, manifest)


def _planned_positions(items: list[_Item], classes: list[str], layout: str,
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


def _collect(items: list[_Item], results: list[DecodeResult], positions: np.ndarray,
             root: Path) -> _Loaded:
    """Reúne lo que dejó la decodificación: qué filas sirven y lo omitido o convertido."""
    rows, sizes, skipped, converted = [], [], [], []
    for item, result in zip(items, results, strict=True):
        if result.reason is not None:
            skipped.append(SkippedFile(_rel(item.path, root), result.reason))
            continue
        rows.append(result.index)
        sizes.append(tuple(result.size))
        if result.mode != "RGB":
            converted.append(ConvertedFile(_rel(item.path, root), str(result.mode)))
    labels = np.array([items[i].label for i in rows], dtype=np.int64)
    return _Loaded(positions[np.array(rows, dtype=np.int64)], labels,
                   [items[i].split for i in rows], sizes, skipped, converted)


def _smaller_load(items: list[_Item], classes: list[str]) -> tuple[int, int] | None:
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
    sets = {}
    for split in SPLITS:
        start, stop = (int(v) for v in manifest["ranges"][split])
        ref = imagecache.CacheRef(key, start, stop, images, images._version)
        sets[split] = ImageSet(images[start:stop], labels[start:stop], list(classes),
                               f"{root.name} ({SPLIT_LABELS[split]})",
                               {"report": report, "source": str(root), "image_cache": ref})
    return DataSplits(sets["train"], sets["val"], sets["test"])
