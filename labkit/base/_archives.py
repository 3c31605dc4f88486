"""Extracción segura de archivos comprimidos (``.zip``, ``.tar``, ``.tar.gz``).

Nada de lo que trae un archivo puede escribir fuera de su carpeta, en ninguna versión de Python
que admite labkit (3.10.0 en adelante, con o sin ``tarfile.data_filter``):

- se rechazan rutas absolutas, con unidad de Windows o con ``..``, dispositivos y tuberías;
- los ``.tar`` se extraen miembro a miembro, sin ``extractall``: antes de escribir cada uno se
  resuelven los enlaces **ya extraídos** (``os.path.realpath``) y el destino real debe quedar dentro
  de la carpeta. Así una cadena de enlaces (``l -> ..``, ``l/l2 -> ..``, …, ``l/l2/l3/l4/archivo``)
  se detiene en el primer paso que saldría;
- los enlaces duros se resuelven contra lo ya extraído y se copian (nunca apuntan fuera);
- si existe ``tarfile.data_filter`` se aplica además, y sus rechazos se cuentan en español;
- al final se comprueba que ningún enlace simbólico extraído apunta fuera.

Cualquier rechazo es un :class:`~labkit.base.LabkitError` en español y no deja nada extraído
(quien llama extrae en una carpeta temporal y la borra si algo falla).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path

from ._errors import LabkitError

__all__ = ["extract_archive", "check_member_name", "unsafe_member"]

_FILTER_REASONS = {
    "AbsolutePathError": "ruta absoluta",
    "OutsideDestinationError": "escribiría fuera de la carpeta",
    "SpecialFileError": "tipo de archivo especial",
    "AbsoluteLinkError": "enlace a una ruta absoluta",
    "LinkOutsideDestinationError": "enlace que apunta fuera",
}
_CHUNK = 1 << 20


def unsafe_member(member: str, why: str) -> LabkitError:
    """El error para una entrada insegura de un archivo comprimido."""
    return LabkitError(f"El archivo comprimido trae una entrada insegura: '{member}' ({why}). "
                       "No se extrajo nada: un archivo así podría escribir fuera de su carpeta.")


def check_member_name(name: str) -> None:
    """Rechaza rutas absolutas, con unidad de Windows, con ``..`` o con caracteres nulos.

    Args:
        name: el nombre de la entrada, tal como viene en el archivo.
    """
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise unsafe_member(name, "ruta absoluta")
    if ".." in normalized.split("/"):
        raise unsafe_member(name, "contiene '..'")
    if "\x00" in name:
        raise unsafe_member(name, "contiene un carácter nulo")


def _inside(root: str, path: str) -> bool:
    """¿Queda ``path`` (ya resuelto) dentro de ``root`` (ya resuelto)?"""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _real_target(root: str, name: str) -> str:
    """Dónde escribiría de verdad la entrada ``name``; error si queda fuera de ``root``."""
    real = os.path.realpath(os.path.join(root, name))
    if not _inside(root, real):
        raise unsafe_member(name, "pasa por un enlace que lleva fuera de la carpeta")
    return real


def _extract_zip(archive: Path, target: Path) -> None:
    """Extrae un .zip tras comprobar cada entrada (zipfile no crea enlaces)."""
    with zipfile.ZipFile(archive) as bundle:
        members = bundle.infolist()
        for info in members:
            check_member_name(info.filename)
            if stat.S_ISLNK(info.external_attr >> 16):
                link = bundle.read(info).decode("utf-8", "replace")
                _check_link_text(info.filename, link)
        bundle.extractall(target, members)


def _check_link_text(member: str, target: str) -> None:
    """Rechaza un enlace cuyo texto, sin resolver nada, ya apunta fuera."""
    if target.startswith(("/", "\\")) or (len(target) > 1 and target[1] == ":"):
        raise unsafe_member(member, f"enlace a una ruta absoluta: {target}")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(member),
                                                 target.replace("\\", "/")))
    if resolved == ".." or resolved.startswith("../"):
        raise unsafe_member(member, f"enlace que apunta fuera: {target}")


def _precheck_tar_member(member: tarfile.TarInfo, root: str) -> None:
    """Comprobaciones que no dependen de lo ya extraído (y el filtro ``data`` si existe)."""
    check_member_name(member.name)
    if member.issym():
        _check_link_text(member.name, member.linkname)
    elif member.islnk():
        try:
            check_member_name(member.linkname)
        except LabkitError:
            raise unsafe_member(member.name, f"enlace duro que apunta fuera: {member.linkname}"
                                ) from None
    elif not (member.isfile() or member.isdir()):
        raise unsafe_member(member.name, "tipo de archivo especial (dispositivo o tubería)")
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is not None:
        try:
            data_filter(member, root)
        except tarfile.TarError as err:
            reason = _FILTER_REASONS.get(type(err).__name__, "rechazada por el filtro de tarfile")
            raise unsafe_member(member.name, reason) from None


def _prepare_slot(root: str, name: str) -> str:
    """Crea las carpetas de ``name`` (resolviendo lo ya extraído) y devuelve dónde escribirlo."""
    head, tail = posixpath.split(name.rstrip("/"))
    parent = _real_target(root, head or ".")
    os.makedirs(parent, exist_ok=True)
    if os.path.realpath(parent) != parent:
        raise unsafe_member(name, "su carpeta cambió a un enlace al extraerla")
    slot = os.path.join(parent, tail)
    if not tail or os.path.islink(slot) or os.path.isdir(slot):
        raise unsafe_member(name, "repite el nombre de un enlace o de una carpeta ya extraída")
    if os.path.lexists(slot):
        os.unlink(slot)  # un archivo repetido: como tar, gana el último
    return slot


def _write_tar_file(bundle: tarfile.TarFile, member: tarfile.TarInfo, real: str) -> None:
    """Copia el contenido de un miembro a un archivo nuevo (sin seguir enlaces)."""
    source = bundle.extractfile(member)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with source, os.fdopen(os.open(real, flags, 0o644), "wb") as out:
        shutil.copyfileobj(source, out, _CHUNK)


def _extract_tar_member(bundle: tarfile.TarFile, member: tarfile.TarInfo, root: str) -> None:
    """Extrae un miembro ya comprobado, resolviendo lo ya extraído."""
    if member.isdir():
        os.makedirs(_real_target(root, member.name), exist_ok=True)
        return
    real = _prepare_slot(root, member.name)
    if member.isfile():
        _write_tar_file(bundle, member, real)
    elif member.issym():
        pointed = os.path.realpath(os.path.join(os.path.dirname(real), member.linkname))
        if not _inside(root, pointed):
            raise unsafe_member(member.name, f"enlace que apunta fuera: {member.linkname}")
        os.symlink(member.linkname, real)
    else:  # enlace duro: se copia lo ya extraído, si está dentro y es un archivo normal
        source = _real_target(root, member.linkname)
        if not os.path.isfile(source):
            raise unsafe_member(member.name, f"enlace duro a algo que no es un archivo "
                                             f"extraído: {member.linkname}")
        shutil.copyfile(source, real)


def _check_no_escaping_links(root: str) -> None:
    """Tras extraer, ningún enlace simbólico puede apuntar fuera de la carpeta."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if os.path.islink(path) and not _inside(root, os.path.realpath(path)):
                raise unsafe_member(os.path.relpath(path, root), "enlace que acaba apuntando fuera")


def _extract_tar(archive: Path, target: Path) -> None:
    """Extrae un .tar(.gz) miembro a miembro, sin salir nunca de ``target``."""
    root = os.path.realpath(target)
    with tarfile.open(archive, "r:*") as bundle:
        members = bundle.getmembers()
        for member in members:
            _precheck_tar_member(member, root)
        for member in members:
            _extract_tar_member(bundle, member, root)
    _check_no_escaping_links(root)


def extract_archive(archive: str | os.PathLike, target: str | os.PathLike, fmt: str) -> None:
    """Extrae ``archive`` dentro de ``target`` (que ya existe) de forma segura.

    Args:
        archive: el archivo comprimido.
        target: la carpeta de destino (vacía: quien llama la borra si algo falla).
        fmt: ``"zip"``, ``"tar.gz"`` o ``"tar"``.

    Raises:
        LabkitError: si una entrada es insegura o el archivo está dañado.
    """
    archive, target = Path(archive), Path(target)
    try:
        if fmt == "zip":
            _extract_zip(archive, target)
        else:
            _extract_tar(archive, target)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as err:
        raise LabkitError(f"El archivo {archive.name} está dañado o no es un {fmt} válido "
                          f"({type(err).__name__}). Bórralo y descárgalo de nuevo.") from err
