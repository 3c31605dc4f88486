"""Las imágenes del alumno: de una carpeta con una subcarpeta por clase a un :class:`DataSplits`.

La organización habitual es ``carpeta/gato/*.jpg``, ``carpeta/perro/*.png``. Si la carpeta ya
trae ``train/`` y ``val/`` (y quizá ``test/``), se usan tal cual como particiones. Cada imagen se
abre con PIL, se pasa a RGB, se endereza según su EXIF, se reescala para que el lado corto mida
``image_size`` y se recorta al centro (la misma forma que las transformaciones de los pesos de
torchvision; la normalización propia de cada modelo se aplica después, al entrenar). Se carga de
una en una, sin guardar nunca las imágenes a tamaño completo, y nunca se escribe en la carpeta.

Lo que no se puede usar (archivos que no son imágenes, imágenes dañadas o gigantes) se omite y se
avisa una sola vez; el informe completo queda en ``folder_report(splits)``.
"""

from __future__ import annotations

import html
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm.auto import tqdm

from .data import DataSplits, ImageSet
from .errors import LabkitError

__all__ = [
    "image_folder",
    "folder_report",
    "FolderReport",
    "SkippedFile",
    "ConvertedFile",
    "IMAGE_EXTENSIONS",
    "DEFAULT_MAX_PIXELS",
]

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
)
UNSUPPORTED_EXTENSIONS = frozenset(
    {".heic", ".heif", ".avif", ".svg", ".raw", ".cr2", ".nef", ".arw", ".dng", ".psd"}
)
IGNORED_NAMES = frozenset({"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db",
                           "desktop.ini"})
DEFAULT_MAX_PIXELS = 40_000_000
SPLITS = ("train", "val", "test")
SPLIT_LABELS = {"train": "entrenamiento", "val": "validación", "test": "prueba"}
SPLIT_ALIASES = {
    "train": ("train", "training", "entrenamiento"),
    "val": ("val", "valid", "validation", "validacion", "validación"),
    "test": ("test", "testing", "prueba"),
}
_AUTO_PROGRESS_FROM = 500
_MAX_LISTED = 10


@dataclass(frozen=True)
class SkippedFile:
    """Un archivo que no se usó y por qué (la ruta es relativa a la carpeta)."""

    path: str
    reason: str


@dataclass(frozen=True)
class ConvertedFile:
    """Una imagen que no era RGB y se convirtió (``mode`` es el modo original de PIL)."""

    path: str
    mode: str


@dataclass
class FolderReport:
    """Lo que :func:`image_folder` encontró en la carpeta y qué hizo con cada cosa.

    Attributes:
        root: la carpeta leída.
        classes: nombres de las clases (las subcarpetas), en orden alfabético.
        counts: imágenes por partición y clase: ``counts["train"]["gato"]``.
        image_size: lado, en píxeles, de las imágenes guardadas.
        widths: ancho mínimo, mediano y máximo de las imágenes originales.
        heights: alto mínimo, mediano y máximo de las imágenes originales.
        skipped: archivos omitidos, con el motivo.
        converted: imágenes convertidas a RGB, con su modo original.
        layout: cómo se formaron las particiones, en palabras.
        notes: avisos sobre clases pequeñas u otras decisiones tomadas.
    """

    root: str
    classes: list[str]
    counts: dict[str, dict[str, int]]
    image_size: int
    widths: tuple[int, int, int]
    heights: tuple[int, int, int]
    skipped: list[SkippedFile] = field(default_factory=list)
    converted: list[ConvertedFile] = field(default_factory=list)
    layout: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Número de imágenes usadas, sumando las tres particiones."""
        return sum(sum(per_class.values()) for per_class in self.counts.values())

    def __str__(self) -> str:
        width = max([len(c) for c in self.classes] + [6])
        head = "".join(f"{SPLIT_LABELS[s]:>15}" for s in SPLITS)
        lines = [f"Carpeta: {self.root}", f"Particiones: {self.layout}",
                 f"Clases ({len(self.classes)}): {', '.join(self.classes)}",
                 f"{'clase':<{width}}{head}{'total':>8}"]
        for name in [*self.classes, "total"]:
            row = [self._count(s, name) for s in SPLITS]
            lines.append(f"{name:<{width}}" + "".join(f"{n:>15}" for n in row) + f"{sum(row):>8}")
        lines += self._summary_lines()
        return "\n".join(lines)

    def _count(self, split: str, name: str) -> int:
        per_class = self.counts.get(split, {})
        return sum(per_class.values()) if name == "total" else per_class.get(name, 0)

    def _summary_lines(self) -> list[str]:
        lines = [
            f"Originales: ancho {_range_text(self.widths)} px; alto {_range_text(self.heights)} px.",
            f"Guardadas a {self.image_size}×{self.image_size} px (lado corto a {self.image_size} "
            "y recorte central).",
        ]
        if self.converted:
            items = [f"{c.path} ({c.mode})" for c in self.converted]
            lines.append(f"Convertidas a RGB ({len(items)}): {_first_items(items)}")
        if self.skipped:
            items = [f"{s.path} ({s.reason})" for s in self.skipped]
            lines.append(f"Omitidos ({len(items)}): {_first_items(items)}")
        lines += [f"Nota: {note}" for note in self.notes]
        return lines

    def _repr_html_(self) -> str:
        cells = "".join(f"<th>{SPLIT_LABELS[s]}</th>" for s in SPLITS)
        rows = [f"<tr><th>clase</th>{cells}<th>total</th></tr>"]
        for name in [*self.classes, "total"]:
            row = [self._count(s, name) for s in SPLITS]
            tds = "".join(f"<td>{n}</td>" for n in [*row, sum(row)])
            rows.append(f"<tr><td>{html.escape(name)}</td>{tds}</tr>")
        summary = "".join(f"<li>{html.escape(line)}</li>" for line in self._summary_lines())
        return (f"<div><p><b>{html.escape(self.root)}</b> — {html.escape(self.layout)}</p>"
                f"<table>{''.join(rows)}</table><ul>{summary}</ul></div>")


def _range_text(stats: tuple[int, int, int]) -> str:
    lo, mid, hi = stats
    return f"{lo}–{hi} (mediana {mid})"


def _first_items(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    rest = len(items) - _MAX_LISTED
    return shown + (f" y {rest} más" if rest > 0 else "")


@dataclass
class _Item:
    """Un archivo candidato: su ruta, su clase y la partición de la que viene."""

    path: Path
    label: int
    split: str


@dataclass
class _Loaded:
    """Resultado de cargar los candidatos: solo lo que se pudo usar."""

    images: torch.Tensor
    labels: np.ndarray
    splits: list[str]
    sizes: list[tuple[int, int]]
    skipped: list[SkippedFile]
    converted: list[ConvertedFile]


class _Skip(Exception):
    """Un archivo que no se puede usar; el mensaje es el motivo, en español."""


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
) -> DataSplits:
    """Carga una carpeta de imágenes (una subcarpeta por clase) y la divide en particiones.

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

    Returns:
        Un :class:`DataSplits`; ``folder_report(splits)`` devuelve el informe de lo encontrado.
    """
    root = _check_root(path)
    _check_params(image_size, val_fraction, test_fraction, max_pixels, max_per_class)
    classes, items, skipped, layout = _scan(root, max_per_class, seed)
    show = progress if progress is not None else len(items) > _AUTO_PROGRESS_FROM
    loaded = _load_items(items, root, image_size, max_pixels, show)
    loaded.skipped[:0] = skipped
    _check_loaded_classes(loaded, classes, root)
    indices, notes, layout = _assign_splits(loaded, classes, layout, val_fraction, test_fraction,
                                            seed)
    report = _build_report(root, classes, loaded, indices, image_size, layout, notes)
    _warn_user(report, len(items) + len(skipped))
    return _make_splits(loaded, classes, indices, report, root)


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


def _check_params(image_size: int, val_fraction: float, test_fraction: float, max_pixels: int,
                  max_per_class: int | None) -> None:
    """Valida los argumentos numéricos de :func:`image_folder`."""
    if not isinstance(image_size, int) or image_size < 8:
        raise LabkitError(f"image_size debe ser un entero de al menos 8 píxeles; llegó {image_size!r}.")
    for label, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 <= value < 1:
            raise LabkitError(f"{label} debe estar entre 0 y 1 (sin llegar a 1); llegó {value!r}.")
    if val_fraction + test_fraction >= 1:
        raise LabkitError("val_fraction + test_fraction debe ser menor que 1 para que quede algo "
                          f"para entrenar; suman {val_fraction + test_fraction:g}.")
    if max_pixels < 1:
        raise LabkitError(f"max_pixels debe ser positivo; llegó {max_pixels!r}.")
    if max_per_class is not None and max_per_class < 1:
        raise LabkitError(f"max_per_class debe ser al menos 1 (o None); llegó {max_per_class!r}.")


# ---------------------------------------------------------------------------------- exploración
def _is_ignored(name: str) -> bool:
    """Archivos y carpetas ocultos o de sistema que se ignoran en silencio."""
    return name.startswith(".") or name in IGNORED_NAMES


def _subdirs(folder: Path) -> list[Path]:
    """Subcarpetas visibles, en orden alfabético."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and not _is_ignored(p.name))


def _loose_files(folder: Path) -> list[Path]:
    """Archivos visibles sueltos directamente en la carpeta, en orden alfabético."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not _is_ignored(p.name))


def _files_below(folder: Path) -> list[Path]:
    """Todos los archivos visibles bajo la carpeta (también en subcarpetas), en orden."""
    found = []
    for current, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not _is_ignored(d))
        found += [Path(current) / f for f in filenames if not _is_ignored(f)]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


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
def _load_items(items: list[_Item], root: Path, image_size: int, max_pixels: int,
                show_progress: bool) -> _Loaded:
    """Carga los candidatos de uno en uno en un tensor ya reservado; omite los que fallan."""
    images = torch.empty((len(items), 3, image_size, image_size), dtype=torch.uint8)
    keep, sizes, skipped, converted = [], [], [], []
    for i, item in enumerate(tqdm(items, desc="Cargando imágenes", unit="img",
                                  disable=not show_progress)):
        try:
            array, mode, size = _read_image(item.path, image_size, max_pixels)
        except _Skip as why:
            skipped.append(SkippedFile(_rel(item.path, root), str(why)))
            continue
        images[len(keep)] = torch.from_numpy(array).permute(2, 0, 1)  # compacto, sin huecos
        keep.append(i)
        sizes.append(size)
        if mode != "RGB":
            converted.append(ConvertedFile(_rel(item.path, root), mode))
    labels = np.array([items[i].label for i in keep], dtype=np.int64)
    return _Loaded(images[:len(keep)], labels, [items[i].split for i in keep], sizes, skipped,
                   converted)


def _read_image(path: Path, image_size: int, max_pixels: int
                ) -> tuple[np.ndarray, str, tuple[int, int]]:
    """Abre, valida y prepara una imagen: ``(arreglo uint8 [S, S, 3], modo original, tamaño)``."""
    try:
        with warnings.catch_warnings():
            # El tamaño se comprueba abajo con max_pixels, antes de decodificar nada.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                size = _oriented_size(img)
                _check_pixels(size, max_pixels)
                img.draft(None, (2 * image_size, 2 * image_size))  # JPEG: decodifica reducido
                img.load()  # aquí salta la detección de archivos truncados
                mode = img.mode
                rgb = _to_rgb(_exif_upright(img))
                return np.array(_resize_center_crop(rgb, image_size)), mode, size
    except Image.DecompressionBombError:
        raise _Skip("imagen demasiado grande: declara más píxeles de los que PIL acepta abrir "
                    "(posible «bomba de descompresión»)") from None
    except UnidentifiedImageError:
        raise _Skip(_unreadable_reason(path)) from None
    except PermissionError:
        raise _Skip("sin permiso de lectura") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
        raise _Skip("imagen dañada o incompleta") from None


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Rechaza imágenes con más de ``max_pixels`` píxeles antes de decodificarlas."""
    pixels = size[0] * size[1]
    if pixels > max_pixels:
        raise _Skip(f"imagen demasiado grande: {size[0]}×{size[1]} = {_thousands(pixels)} "
                    f"píxeles; el máximo es {_thousands(max_pixels)} (max_pixels)")


def _thousands(n: int) -> str:
    """Un entero con espacios como separador de miles (``40 000 000``)."""
    return f"{n:,}".replace(",", " ")


def _unreadable_reason(path: Path) -> str:
    """Motivo para un archivo que PIL no reconoce, según su extensión."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "no se puede leer como imagen (¿dañada o con la extensión equivocada?)"
    if suffix in UNSUPPORTED_EXTENSIONS:
        return f"formato {suffix} no compatible: conviértela a JPG o PNG"
    return "no es una imagen"


def _oriented_size(img: Image.Image) -> tuple[int, int]:
    """Ancho y alto tal como se ve la imagen (teniendo en cuenta la orientación EXIF)."""
    width, height = img.size
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # EXIF ilegible: se usa el tamaño tal cual
        orientation = 1
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _exif_upright(img: Image.Image) -> Image.Image:
    """Aplica la orientación EXIF; si el EXIF está roto, deja la imagen como está."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception:
        return img


# ---------------------------------------------------------------------------------- conversión
def _to_rgb(img: Image.Image) -> Image.Image:
    """Convierte cualquier modo de PIL a RGB (transparencia sobre blanco, 16 bits escalados)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_to_uint8(np.asarray(img))).convert("RGB")
    has_alpha = img.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """Lleva un arreglo de más de 8 bits a ``uint8`` escalando su rango, sin saturar.

    Los enteros de 16 bits se dividen por 257 (65535 → 255); los reales entre 0 y 1 se
    multiplican por 255; cualquier otro rango se estira de su mínimo a su máximo.
    """
    values = array.astype(np.float64)
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if array.dtype.kind in "iu" and lo >= 0 and (array.dtype.itemsize == 2 or 255 < hi <= 65535):
        values = values / 257.0
    elif array.dtype.kind == "f" and lo >= 0 and hi <= 1:
        values = values * 255.0
    elif not (lo >= 0 and hi <= 255):
        values = (values - lo) * (255.0 / (hi - lo)) if hi > lo else values * 0
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _resize_center_crop(img: Image.Image, size: int) -> Image.Image:
    """Lado corto a ``size`` (bilineal con antialias) y recorte central ``size × size``.

    Reproduce ``Resize(size)`` + ``CenterCrop(size)`` de torchvision sobre imágenes PIL.
    """
    width, height = img.size
    if width <= height:
        new_w, new_h = size, int(size * height / width)
    else:
        new_w, new_h = int(size * width / height), size
    if (new_w, new_h) != (width, height):
        img = img.resize((new_w, new_h), Image.Resampling.BILINEAR)
    left = int(round((new_w - size) / 2.0))
    top = int(round((new_h - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


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


def _split_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """Cuántas imágenes de una clase van a entrenamiento, validación y prueba.

    Siempre queda al menos una para entrenamiento; con 3 o más, al menos una para validación y
    otra para prueba (si su fracción no es cero).
    """
    if n < 3:
        n_val = 1 if n == 2 and val_fraction > 0 else 0
        n_test = 1 if n == 2 and not n_val and test_fraction > 0 else 0
        return n - n_val - n_test, n_val, n_test
    n_val = max(1, math.floor(n * val_fraction + 0.5)) if val_fraction > 0 else 0
    n_test = max(1, math.floor(n * test_fraction + 0.5)) if test_fraction > 0 else 0
    while n - n_val - n_test < 1:
        if n_val >= n_test:
            n_val -= 1
        else:
            n_test -= 1
    return n - n_val - n_test, n_val, n_test


def _stratify(labels: np.ndarray, classes: list[str], val_fraction: float, test_fraction: float,
              seed: int) -> tuple[dict[str, np.ndarray], list[str]]:
    """Divide índices por clase (barajados con la semilla); devuelve también avisos."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    notes = []
    for label, name in enumerate(classes):
        idx = np.flatnonzero(labels == label)
        idx = idx[rng.permutation(len(idx))]
        n_train, n_val, n_test = _split_sizes(len(idx), val_fraction, test_fraction)
        parts["train"].append(idx[:n_train])
        parts["val"].append(idx[n_train:n_train + n_val])
        parts["test"].append(idx[n_train + n_val:])
        if len(idx) < 3 and val_fraction + test_fraction > 0:
            notes.append(_tiny_class_note(name, n_train, n_val, n_test))
    if notes:
        notes.append(_TINY_ADVICE)
    return {s: np.sort(np.concatenate(p)).astype(np.int64) for s, p in parts.items()}, notes


_TINY_ADVICE = ("Con tan pocas imágenes no se puede validar ni medir bien: añade más "
                "(unas 10 por clase es un buen mínimo).")


def _tiny_class_note(name: str, n_train: int, n_val: int, n_test: int) -> str:
    """Explica qué pasó con una clase de menos de 3 imágenes."""
    total = n_train + n_val + n_test
    parts = [f"{n or 'ninguna'} para {label}" for n, label in
             ((n_train, "entrenamiento"), (n_val, "validación"), (n_test, "prueba"))]
    return (f"La clase '{name}' tiene solo {_plural(total, 'imagen', 'imágenes')}: "
            f"{parts[0]}, {parts[1]} y {parts[2]}.")


def _plural(n: int, singular: str, plural: str) -> str:
    """``1 imagen``, ``2 imágenes``."""
    return f"{n} {singular if n == 1 else plural}"


def _assign_splits(loaded: _Loaded, classes: list[str], layout: str, val_fraction: float,
                   test_fraction: float, seed: int) -> tuple[dict[str, np.ndarray], list[str], str]:
    """Índices de cada partición: de las carpetas ``train/val/test`` o por división estratificada."""
    origin = np.array(loaded.splits)
    if "train" not in set(loaded.splits):
        indices, notes = _stratify(loaded.labels, classes, val_fraction, test_fraction, seed)
        return indices, notes, layout
    indices = {s: np.flatnonzero(origin == s) for s in SPLITS}
    missing = [s for s in ("val", "test") if not np.any(origin == s)]
    if not missing:
        return indices, [], layout
    fractions = {s: (val_fraction if s == "val" else test_fraction) if s in missing else 0.0
                 for s in ("val", "test")}
    train = indices["train"]
    carved, notes = _stratify(loaded.labels[train], classes, fractions["val"], fractions["test"],
                              seed)
    indices = {s: (train[carved[s]] if s == "train" or s in missing else indices[s])
               for s in SPLITS}
    names = " y ".join(SPLIT_LABELS[s] for s in missing)
    return indices, notes, f"{layout}; {names} sacada de train/ (estratificada, semilla {seed})"


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
            f"{_plural(n_files, 'archivo', 'archivos')} de '{report.root}': "
            f"{_first_items(items)}. La lista completa está en folder_report(splits).",
            UserWarning, stacklevel=3)
    if report.notes:
        warnings.warn("Clases con muy pocas imágenes. " + " ".join(report.notes), UserWarning,
                      stacklevel=3)


def _make_splits(loaded: _Loaded, classes: list[str], indices: dict[str, np.ndarray],
                 report: FolderReport, root: Path) -> DataSplits:
    """Crea los tres :class:`ImageSet` con el informe en su ``info``."""
    labels = torch.from_numpy(loaded.labels)
    sets = {}
    for split in SPLITS:
        idx = torch.from_numpy(indices[split])
        sets[split] = ImageSet(loaded.images[idx], labels[idx], list(classes),
                               f"{root.name} ({SPLIT_LABELS[split]})",
                               {"report": report, "source": str(root)})
    return DataSplits(sets["train"], sets["val"], sets["test"])
