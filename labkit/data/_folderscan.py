"""Explorar la carpeta del alumno: clases, particiones ya hechas y archivos candidatos.

Solo lista y comprueba (nunca abre una imagen ni escribe nada). Una carpeta sin permiso de lectura
es un error que lo dice, no una carpeta «vacía». Solo los archivos normales son candidatos: una
tubería (FIFO), un dispositivo o un enlace roto con nombre de imagen se omite con su motivo. Una
carpeta de clase que es un enlace a otra clase (o a la propia carpeta) se omite y se dice: si no,
las mismas fotos estarían en dos clases.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..base._errors import LabkitError
from ._folderreport import SkippedFile, printable

__all__ = ["FileItem", "scan_folder", "rel_path", "split_of", "IGNORED_NAMES", "SPLIT_ALIASES"]

IGNORED_NAMES = frozenset({"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db",
                           "desktop.ini"})
SPLIT_ALIASES = {
    "train": ("train", "training", "entrenamiento"),
    "val": ("val", "valid", "validation", "validacion", "validación"),
    "test": ("test", "testing", "prueba"),
}
_FILLER = {"set", "sets", "data", "dataset", "images", "imgs", "img", "split", "seg", "folder",
           "dir", "de", "del", "conjunto", "datos", "imagenes", "imágenes"}
NOT_REGULAR = "no es un archivo normal (tubería, dispositivo o socket): no se lee"
_Skipped = list[SkippedFile]


def split_of(name: str) -> str | None:
    """La partición que nombra una carpeta (``"train"``, ``"val"``, ``"test"``) o ``None``.

    Reconoce los nombres de los sitios de datos: ``training_set``, ``Testing``, ``seg_train``,
    ``valid``, ``val-images``, ``Test Set``…
    """
    words = [w for w in re.split(r"[\s_\-.]+", name.lower()) if w and w not in _FILLER]
    joined = "".join(words)
    for split, aliases in SPLIT_ALIASES.items():
        if joined in aliases:
            return split
    return None


@dataclass
class FileItem:
    """Un archivo candidato: su ruta, su clase y la partición de la que viene."""

    path: Path
    label: int
    split: str



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


def _subdirs(folder: Path, skipped: _Skipped | None = None, root: Path | None = None
             ) -> list[Path]:
    """Subcarpetas visibles, en orden alfabético, sin las que son enlaces a otra de ellas.

    Una subcarpeta que resuelve a la propia carpeta (o a una que la contiene), o a otra
    subcarpeta ya vista, se omite y se apunta en ``skipped`` (las reales van antes que los
    enlaces: se queda la original).
    """
    found = sorted(p for p in _entries(folder) if p.is_dir() and not _is_ignored(p.name))
    here = folder.resolve()
    seen: dict[Path, str] = {}
    keep = []
    for path in sorted(found, key=lambda p: (p.is_symlink(), p.name)):
        real = path.resolve()
        if real == here or here.is_relative_to(real):
            why = "carpeta que es un enlace a la propia carpeta (o a una que la contiene): se omite"
        elif real in seen:
            why = (f"carpeta que es un enlace a '{seen[real]}/': sus fotos ya están en esa clase; "
                   "se omite para no contarlas dos veces")
        else:
            seen[real] = path.name
            keep.append(path)
            continue
        if skipped is not None:
            skipped.append(SkippedFile(rel_path(path, root or folder) + "/", why))
    return sorted(keep)


def _loose_files(folder: Path) -> list[Path]:
    """Archivos visibles sueltos directamente en la carpeta, en orden alfabético."""
    return sorted(p for p in _entries(folder) if p.is_file() and not _is_ignored(p.name))


def _files_below(folder: Path, skipped: _Skipped, root: Path) -> list[Path]:
    """Los archivos normales visibles bajo la carpeta (también en subcarpetas), en orden.

    Lo que no es un archivo normal (FIFO, dispositivo, socket, enlace roto) se apunta en
    ``skipped`` y no se devuelve: abrirlo para leer podría esperar para siempre.
    """
    found = []
    for current, dirnames, filenames in os.walk(folder, onerror=_raise_unreadable):
        dirnames[:] = sorted(d for d in dirnames if not _is_ignored(d))
        for name in filenames:
            path = Path(current) / name
            if _is_ignored(name):
                continue
            why = _not_regular(path)
            if why is None:
                found.append(path)
            else:
                skipped.append(SkippedFile(rel_path(path, root), why))
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _not_regular(path: Path) -> str | None:
    """El motivo para omitir algo que no es un archivo normal, o ``None`` si lo es."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "enlace roto: apunta a un archivo que no existe"
    except OSError as err:
        return f"no se puede consultar ({err.strerror or err})"
    return None if stat.S_ISREG(mode) else NOT_REGULAR


def _raise_unreadable(err: OSError) -> None:
    """Para ``os.walk``: una carpeta sin permiso de lectura es un error, no una carpeta vacía."""
    if isinstance(err, PermissionError):
        raise _no_permission(err.filename or "?") from None
    raise LabkitError(f"No puedo leer la carpeta '{err.filename}': {err.strerror or err}.")


def _find_split_dirs(root: Path) -> dict[str, Path]:
    """Carpetas ``train/``, ``val/`` y ``test/`` (o sus alias) si la raíz está organizada así."""
    found: dict[str, Path] = {}
    for folder in _subdirs(root):
        split = split_of(folder.name)
        if split is not None and split not in found:
            found[split] = folder
    return found if "train" in found and len(found) >= 2 else {}


def scan_folder(root: Path, max_per_class: int | None, seed: int
          ) -> tuple[list[str], list[FileItem], list[SkippedFile], str]:
    """Encuentra clases y archivos candidatos; devuelve también los archivos sueltos omitidos.

    Args:
        root: la carpeta del alumno.
        max_per_class: como mucho tantos archivos por clase y partición (al azar), o ``None``.
        seed: semilla de esa muestra (y la que se nombra en la descripción de la división).

    Returns:
        ``(clases, candidatos, omitidos, descripción de las particiones)``.
    """
    try:
        return _scan(root, max_per_class, seed)
    except LabkitError as err:  # nombres Latin-1 de zips viejos: que el error se pueda imprimir
        text = printable(str(err))
        if text == str(err):
            raise
        raise LabkitError(text) from None


def _scan(root: Path, max_per_class: int | None, seed: int
          ) -> tuple[list[str], list[FileItem], list[SkippedFile], str]:
    """El trabajo de :func:`scan_folder`."""
    split_dirs = _find_split_dirs(root)
    skipped: _Skipped = []
    if split_dirs:
        classes = _split_layout_classes(root, split_dirs, skipped)
        folders = dict(split_dirs)
        names = ", ".join(f"{d.name}/" for d in split_dirs.values())
        layout = f"carpetas {names} de la propia carpeta"
    else:
        classes = _class_names(root, skipped, root)
        folders = {"all": root}
        layout = f"una subcarpeta por clase; división estratificada con semilla {seed}"
    rng = np.random.default_rng(seed)
    items = []
    loose = {p for folder in [root, *folders.values()] for p in _loose_files(folder)}
    skipped += [SkippedFile(rel_path(p, root), "archivo suelto fuera de una carpeta de clase")
                for p in sorted(loose)]
    for split, folder in folders.items():
        for label, name in enumerate(classes):
            files = _class_files(folder / name, name, max_per_class, rng, skipped, root)
            items += [FileItem(p, label, split) for p in files]
    return classes, items, skipped, layout


def _class_names(folder: Path, skipped: _Skipped, root: Path) -> list[str]:
    """Nombres de las subcarpetas de clase; exige al menos dos."""
    classes = [d.name for d in _subdirs(folder, skipped, root)]
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


def _split_layout_classes(root: Path, split_dirs: dict[str, Path], skipped: _Skipped
                          ) -> list[str]:
    """Clases de una raíz con ``train/``/``val/``: deben ser las mismas en cada partición."""
    per_split = {s: _class_names(d, skipped, root) for s, d in split_dirs.items()}
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
                 rng: np.random.Generator, skipped: _Skipped, root: Path) -> list[Path]:
    """Archivos de una carpeta de clase (quizá una muestra); error si está vacía."""
    files = _files_below(folder, skipped, root)
    if not files:
        raise LabkitError(f"La carpeta de la clase '{name}' ('{folder}') está vacía. Pon imágenes "
                          "en ella o bórrala si esa clase no hace falta.")
    if max_per_class is not None and len(files) > max_per_class:
        chosen = np.sort(rng.choice(len(files), size=max_per_class, replace=False))
        files = [files[i] for i in chosen]
    return files


def rel_path(path: Path, root: Path) -> str:
    """Ruta relativa a la raíz, con barras ``/``."""
    return path.relative_to(root).as_posix()
