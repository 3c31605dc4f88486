"""Instalar un conjunto del catálogo en una carpeta: descarga acotada, suma, extracción segura.

Solo borra lo que crea: su descarga a medias (un temporal propio), su carpeta temporal de
extracción y, si no se pide conservarlo, el archivo comprimido que descargó. Nunca un archivo
colocado a mano (si su suma coincide, se usa sin red) ni una carpeta ``extraido/`` que ya existía.
La entrada (:class:`labkit.data.DatasetEntry`) ya llega validada desde
:func:`labkit.data.download_dataset`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
from http.client import HTTPException
from pathlib import Path
from typing import IO, Protocol

from ..base._archives import extract_archive
from ..base._errors import LabkitError
from ..base._fileio import atomic_write
from ..base._netfetch import DownloadLimitError, fetch
from ..base._progress import progress_bar


class DatasetEntry(Protocol):
    """Lo que se lee de una entrada del catálogo (:class:`labkit.data.DatasetEntry`)."""

    name: str
    title: str
    filename: str
    size_bytes: int
    checksum: str
    checksum_algo: str
    archive_format: str
    subfolder: str

    @property
    def size_text(self) -> str:
        """El tamaño del archivo, legible."""

__all__ = ["install_dataset", "MARKER_NAME", "EXTRACTED_NAME"]

MARKER_NAME = ".labkit_listo.json"
EXTRACTED_NAME = "extraido"
_CHUNK = 1 << 20
_OFFLINE_HINT = "Mientras tanto, el conjunto integrado funciona sin red: labkit.surface_dataset()."


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def install_dataset(entry: DatasetEntry, dest: Path, *, url: str, progress: bool,
                    keep_archive: bool, deadline_s: float) -> Path:
    """Deja ``entry`` extraído en ``dest`` (sin red si ya está o si el archivo está a mano).

    Args:
        entry: la entrada del catálogo.
        dest: la carpeta de destino.
        url: de dónde descargarlo.
        progress: muestra una barra de progreso.
        keep_archive: conserva el archivo comprimido que se descargó.
        deadline_s: plazo total de la descarga, en segundos.

    Returns:
        La carpeta con las subcarpetas de clase.
    """
    ready = _ready_folder(dest, entry)
    if ready is not None:
        return ready
    _prepare_destination(dest)
    archive = dest / entry.filename
    placed = _placed_archive_ok(archive, entry)
    if not placed:
        _download(url, archive, entry, progress, deadline_s)
    _extract(archive, dest, entry)
    with atomic_write(dest / MARKER_NAME, "w") as handle:
        json.dump({"name": entry.name, "checksum_algo": entry.checksum_algo,
                   "checksum": entry.checksum, "subfolder": entry.subfolder}, handle,
                  ensure_ascii=False)
    if not placed and not keep_archive:
        archive.unlink()
    return dest / EXTRACTED_NAME / entry.subfolder


def _prepare_destination(dest: Path) -> None:
    """Crea la carpeta de destino y se niega a tocar un ``extraido/`` que ya existe."""
    if dest.exists() and not dest.is_dir():
        raise LabkitError(f"El destino «{dest}» existe y no es una carpeta: elige otra ruta.")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LabkitError(f"No se pudo crear la carpeta de destino «{dest}» "
                          f"({err.strerror or err}). Elige otra con dest=...") from err
    if os.path.lexists(dest / EXTRACTED_NAME):
        raise LabkitError(
            f"Ya existe «{dest / EXTRACTED_NAME}» pero no es una extracción terminada de este "
            "conjunto, y podría tener archivos tuyos: no la toco. Muévela o bórrala tú y vuelve "
            "a llamar, o usa otra carpeta con dest=...")


def _ready_folder(dest: Path, entry: DatasetEntry) -> Path | None:
    """La carpeta ya extraída y verificada (según la marca), o ``None``."""
    try:
        marker = json.loads((dest / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict):
        return None
    folder = dest / EXTRACTED_NAME / entry.subfolder
    same = marker.get("checksum") == entry.checksum and marker.get("subfolder") == entry.subfolder
    return folder if same and folder.is_dir() else None


def _file_digest(path: Path, algo: str) -> str:
    """Suma de comprobación de un archivo, leyéndolo por trozos."""
    hasher = hashlib.new(algo)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def _placed_archive_ok(archive: Path, entry: DatasetEntry) -> bool:
    """¿Hay ya un archivo comprimido correcto (p. ej. colocado a mano)? Error si no coincide."""
    if not os.path.lexists(archive):
        return False
    if not archive.is_file():
        raise LabkitError(f"Ya existe «{archive}» y no es un archivo: muévelo o bórralo.")
    got = _file_digest(archive, entry.checksum_algo)
    if got != entry.checksum:
        raise LabkitError(
            f"Ya hay un archivo '{archive}' pero no es el esperado: su {entry.checksum_algo} "
            f"debía ser {entry.checksum} y es {got}. No lo toco: bórralo tú para descargarlo de "
            f"nuevo, o reemplázalo por el archivo correcto ({entry.filename}, {entry.size_text}).")
    return True


def _download(url: str, archive: Path, entry: DatasetEntry, progress: bool,
              deadline_s: float) -> None:
    """Descarga a un temporal propio, verifica la suma y lo renombra de forma atómica."""
    fd, name = tempfile.mkstemp(dir=archive.parent, prefix=f".{archive.name}.", suffix=".part")
    part = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest, received = _fetch(url, out, entry, progress, deadline_s)
    except BaseException as err:
        part.unlink(missing_ok=True)
        friendly = _download_error(err, url, archive, entry)
        if friendly is None:
            raise
        raise friendly from None
    if digest != entry.checksum:
        part.unlink(missing_ok=True)
        raise LabkitError(
            f"Lo descargado de {url} no es el archivo esperado: su {entry.checksum_algo} debía "
            f"ser {entry.checksum} y es {digest} (llegaron {_thousands(received)} bytes; se "
            f"esperaban {_thousands(entry.size_bytes)}). Se borró la descarga. Vuelve a "
            "intentarlo o usa una réplica con url=...")
    os.chmod(part, 0o644)
    os.replace(part, archive)


def _fetch(url: str, out: IO[bytes], entry: DatasetEntry, progress: bool,
           deadline_s: float) -> tuple[str, int]:
    """Copia la respuesta en ``out`` calculando la suma; devuelve ``(suma, bytes)``."""
    hasher = hashlib.new(entry.checksum_algo)
    with progress_bar(total=entry.size_bytes, unit="B", unit_scale=True, unit_divisor=1024,
              desc=entry.filename, disable=not progress) as bar:
        def on_chunk(chunk: bytes) -> None:
            hasher.update(chunk)
            bar.update(len(chunk))

        received = fetch(url, out, max_bytes=entry.size_bytes, deadline_s=deadline_s,
                         on_chunk=on_chunk)
    return hasher.hexdigest(), received


def _download_error(err: BaseException, url: str, archive: Path,
                    entry: DatasetEntry) -> LabkitError | None:
    """Traduce un fallo de red a un :class:`LabkitError` en español (``None`` si no lo es)."""
    manual = (f"Si consigues el archivo por otro medio, colócalo a mano y vuelve a llamar a "
              f"download_dataset('{entry.name}'): se comprobará su {entry.checksum_algo} y se "
              f"extraerá sin red.\n  archivo: {entry.filename} ({entry.size_text})\n"
              f"  dónde:   {archive}\n{_OFFLINE_HINT}")
    if isinstance(err, DownloadLimitError):
        return LabkitError(f"{err}\n{manual}")
    if isinstance(err, LabkitError):
        return err
    if isinstance(err, urllib.error.HTTPError):
        return LabkitError(f"El servidor respondió {err.code} ({err.reason}) al pedir {url}: "
                           f"puede que el enlace haya cambiado.\n{manual}")
    if isinstance(err, (urllib.error.URLError, OSError, HTTPException)):
        reason = getattr(err, "reason", None) or err
        return LabkitError(f"No hay conexión a internet (o el servidor no responde): no pude "
                           f"descargar «{entry.title}» desde {url} (detalle: {reason}).\n{manual}")
    return None


def _extract(archive: Path, dest: Path, entry: DatasetEntry) -> None:
    """Extrae en una carpeta temporal hermana, comprueba la subcarpeta y la mueve a su sitio."""
    temp = Path(tempfile.mkdtemp(prefix=".extrayendo-", dir=dest))
    try:
        extract_archive(archive, temp, entry.archive_format)
        if not (temp / entry.subfolder).is_dir():
            raise LabkitError(f"El archivo {archive.name} no contiene la carpeta esperada "
                              f"'{entry.subfolder}'. ¿Es el archivo correcto?")
        os.rename(temp, dest / EXTRACTED_NAME)  # falla (sin pisar) si alguien la creó entretanto
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)  # solo la carpeta temporal que creó esta llamada
        raise
