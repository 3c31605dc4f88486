"""Lo que guarda y comprueba la caché de imágenes (:mod:`labkit.imagecache`) en disco.

* **Comprobar**: el manifiesto lleva un SHA-256 de sí mismo y otro de los píxeles tal como se
  escribieron; :func:`verify` los compara (≈ 0,7 GB/s) y recuerda, en este proceso, los archivos
  ya comprobados mientras no cambien (inodo, tamaño, fecha).
* **Desalojar**: :func:`evict` deja las cachés más recientes de cada carpeta, borra las de
  carpetas que ya no existen (si las escribió esta máquina, o si nadie las usa desde hace una
  semana: otra máquina con el mismo volumen puede verlas) y los píxeles sin manifiesto viejos.
  Un archivo que desaparece mientras tanto, o que no se puede borrar, se deja estar.
* **Vaciar**: :func:`clear_folder` borra solo archivos de labkit.
"""

from __future__ import annotations

import contextlib
import json
import time
import warnings
from pathlib import Path

from . import cachefiles
from .cachefiles import HOST_TAG, STALE_SECONDS, digest_file, is_leftover_in_use

__all__ = ["CACHE_VERSION", "VERIFIED", "manifest_digest", "identity", "verify", "evict",
           "clear_folder"]

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
