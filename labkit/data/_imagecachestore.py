"""Lo que guarda y comprueba la caché de imágenes (:mod:`labkit.data`) en disco.

* **Comprobar**: el manifiesto lleva un SHA-256 de sí mismo y otro de los píxeles tal como se
  escribieron; :func:`verify` los compara (≈ 0,7 GB/s) y recuerda, en este proceso, los archivos
  ya comprobados mientras no cambien (inodo, tamaño, fecha).
* **Desalojar**: :func:`evict` deja las cachés más recientes de cada carpeta, borra las de
  carpetas que ya no existen (si las escribió esta máquina, o si nadie las usa desde hace una
  semana: otra máquina con el mismo volumen puede verlas) y los píxeles sin manifiesto viejos.
  Un archivo que desaparece mientras tanto, o que no se puede borrar, se deja estar.
* **Vaciar**: :func:`clear_folder` borra solo archivos de labkit.
* **Abrir**: :func:`load_cached` sirve una caché completa y comprobada; :class:`CacheRef` dice
  dónde está un conjunto dentro de ella.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..base import _cachefiles as cachefiles
from ..base._cachefiles import HOST_TAG, STALE_SECONDS, digest_file, is_leftover_in_use
from ..base._config import data_dir

__all__ = ["CacheRef", "cache_dir", "load_cached", "warn_damaged", "CACHE_VERSION", "VERIFIED",
           "manifest_digest", "identity", "verify", "evict", "clear_folder"]

CACHE_VERSION = 2
VERIFIED: dict[str, tuple] = {}   # clave → identidad del archivo ya comprobado en este proceso
_FOREIGN_UNUSED_S = 7 * 24 * 3600  # caché de otra máquina cuya carpeta no se ve aquí
_KEEP_PER_FOLDER = 3     # cachés guardadas por carpeta (las más recientes)


def manifest_digest(manifest: dict) -> str:
    """SHA-256 del manifiesto sin su propio resumen (JSON canónico)."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return cachefiles.digest_bytes(json.dumps(body, sort_keys=True).encode())


def identity(data: Path, manifest: dict) -> tuple:
    """Lo que identifica un archivo de píxeles ya comprobado: inodo, tamaño, fecha y manifiesto."""
    st = data.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns, manifest.get("manifest_sha256")


def verify(key: str, text: str, data: Path) -> dict | str | None:
    """El manifiesto si la caché está intacta; el motivo si está dañada; ``None`` si es de otra
    versión de labkit (se rehace sin avisar)."""
    try:
        manifest = json.loads(text)
    except ValueError:
        return "el manifiesto no es JSON válido"
    if not isinstance(manifest, dict):
        return "el manifiesto no tiene el formato esperado"
    if manifest.get("version") != CACHE_VERSION:
        return None
    if manifest.get("manifest_sha256") != manifest_digest(manifest) or manifest.get("key") != key:
        return "el manifiesto no coincide con su resumen: alguien lo modificó o está dañado"
    rows, size = manifest.get("rows"), manifest.get("image_size")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (rows, size)):
        return "el manifiesto no tiene el formato esperado"
    try:
        if data.stat().st_size != rows * 3 * size * size:
            return "el archivo de píxeles no tiene el tamaño esperado (¿truncado?)"
        if VERIFIED.get(key) != identity(data, manifest):
            if digest_file(data) != manifest.get("data_sha256"):
                return "los píxeles no coinciden con su resumen SHA-256"
            VERIFIED[key] = identity(data, manifest)
    except FileNotFoundError:
        return "falta el archivo de píxeles"
    return manifest


def evict(folder: Path, root: str) -> None:
    """Borra las cachés de carpetas que ya no existen, los píxeles sin manifiesto de cargas
    muertas y deja solo las :data:`_KEEP_PER_FOLDER` más recientes de ``root``.

    Con la carpeta compartida entre máquinas: la caché de una carpeta que aquí no existe solo se
    borra si la escribió esta máquina o si nadie la usa desde hace una semana. Un archivo que
    desaparece mientras tanto (otro kernel limpiando) o que no se puede borrar se deja estar.
    """
    mine, now = [], time.time()
    for meta in folder.glob("*.json"):
        try:
            manifest = json.loads(meta.read_text(encoding="utf-8"))
            stamp = meta.stat().st_mtime
        except (OSError, ValueError):
            continue
        if not isinstance(manifest, dict) or not isinstance(manifest.get("root"), str):
            continue
        source = manifest["root"]
        if not Path(source).is_dir():
            if manifest.get("host") == HOST_TAG or now - stamp > _FOREIGN_UNUSED_S:
                _remove_cache(meta)
        elif source == root:
            mine.append((stamp, meta))
    for _, meta in sorted(mine, reverse=True)[_KEEP_PER_FOLDER:]:
        _remove_cache(meta)
    for data in folder.glob("*.u8"):  # píxeles sin manifiesto: una carga que murió al final
        with contextlib.suppress(OSError):
            if (not data.with_suffix(".json").exists()
                    and now - data.stat().st_mtime > STALE_SECONDS):
                data.unlink()


def _remove_cache(meta: Path) -> None:
    """Borra una caché: primero el manifiesto (sin él nadie la abre), luego los datos."""
    with contextlib.suppress(OSError):
        meta.unlink(missing_ok=True)
        meta.with_suffix(".u8").unlink(missing_ok=True)


def clear_folder(folder: Path) -> int:
    """Borra todas las cachés de imágenes de ``labkit.data_dir()`` (se rehacen al cargar).

    Solo borra archivos de labkit (``*.u8``, ``*.json`` y sus temporales que nadie escribe). Si
    la carpeta no deja borrar, avisa una vez (sin error) y devuelve lo que sí liberó.

    Returns:
        Los bytes liberados.
    """
    freed, failed = 0, []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    for path in entries:
        ours = path.suffix in (".u8", ".json") or is_leftover_in_use(path) is not None
        if not ours or is_leftover_in_use(path) or not path.is_file():
            continue
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as err:
            failed.append(err)
            continue
        freed += size
    if failed:
        warnings.warn(f"No pude borrar {len(failed)} archivo(s) de la caché de imágenes en "
                      f"'{folder}' ({failed[0].strerror or failed[0]}). Da permiso de "
                      "escritura a esa carpeta, o apunta la variable de entorno LABKIT_DATA a "
                      "otra carpeta.", UserWarning, stacklevel=2)
    return freed


@dataclass(frozen=True)
class CacheRef:
    """Dónde está un conjunto dentro de una caché de imágenes (va en ``ImageSet.info``).

    Attributes:
        key: clave de la caché.
        start: primera fila del conjunto.
        stop: fila siguiente a la última.
        base: el tensor mapeado completo (se guarda para reconocer sus vistas).
        version: versión del tensor al crearlo: si alguien lo modifica, deja de valer.
    """

    key: str
    start: int
    stop: int
    base: torch.Tensor = field(repr=False, compare=False)
    version: int = 0

    def matches(self, images: torch.Tensor) -> bool:
        """``True`` si ``images`` es exactamente esta vista de la caché, sin modificar."""
        row = int(np.prod(self.base.shape[1:]))
        return (images.untyped_storage().data_ptr() == self.base.untyped_storage().data_ptr()
                and images.storage_offset() == self.start * row
                and len(images) == self.stop - self.start and images.is_contiguous()
                and images._version == self.version)


def cache_dir() -> Path:
    """Carpeta de las cachés de imágenes (dentro de ``labkit.data_dir()``); se crea si se puede."""
    path = data_dir(create=False) / "cache_imagenes"
    with contextlib.suppress(OSError):
        path.mkdir(parents=True, exist_ok=True)
    return path


def _paths(key: str) -> tuple[Path, Path]:
    folder = cache_dir()
    return folder / f"{key}.u8", folder / f"{key}.json"


def load_cached(key: str) -> tuple[dict, torch.Tensor] | None:
    """Abre una caché completa y comprobada: su manifiesto y el tensor mapeado; ``None`` si no.

    Sin manifiesto (carga a medias) no hay caché. Con un manifiesto ilegible, modificado o que no
    coincide con los píxeles (truncados, bytes cambiados), se avisa una vez y se devuelve
    ``None``: quien llama la rehace. Nunca se sirve una caché que no coincide con lo escrito.

    Args:
        key: la clave (:func:`cache_key`).

    Returns:
        ``(manifiesto, imágenes uint8 [N, 3, S, S])`` o ``None``.
    """
    data, meta = _paths(key)
    try:
        text = meta.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = ""
    except OSError:
        return None
    try:
        checked = verify(key, text, data)
        if isinstance(checked, dict):
            rows, size = checked["rows"], checked["image_size"]
            array = np.memmap(data, dtype=np.uint8, mode="c", shape=(rows, 3, size, size))
    except OSError as err:
        checked = f"no se puede leer ({err.strerror or err})"
    if not isinstance(checked, dict):
        if checked is not None:
            warn_damaged(data, checked)
        return None
    with contextlib.suppress(OSError):  # usada ahora: la última en borrarse
        os.utime(meta)
    return checked, torch.from_numpy(array)


def warn_damaged(data: Path, reason: str) -> None:
    """El aviso de una caché de imágenes que no se usa porque está dañada."""
    warnings.warn(f"La caché de imágenes '{data}' está dañada ({reason}): no la uso y vuelvo a "
                  "decodificar las imágenes.", UserWarning, stacklevel=4)
