"""Descargas y archivos comprimidos hostiles: nada se cuelga, nada escapa, nada ajeno se borra.

Todo ocurre en 127.0.0.1 y en carpetas temporales; cada servidor vive como mucho 20 s.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from labkit.base import LabkitError, extract_archive
from labkit.data import DatasetEntry, download_dataset
from labkit.data._downloads import EXTRACTED_NAME, MARKER_NAME

from .servers import drip, drip_headers, flood, flood_announced, hostile, redirect_loop, silent

SMALL = 7600  # bytes: el tamaño de una entrada pequeña


def _entry(data: bytes = b"z" * SMALL, fmt: str = "zip", **changes) -> DatasetEntry:
    entry = DatasetEntry(
        name="mini", title="Mini", url="http://127.0.0.1:9/archivo.zip", filename="mini.zip",
        license="CC0", size_bytes=len(data), checksum=hashlib.sha256(data).hexdigest(),
        archive_format=fmt, subfolder="mini", application="pruebas", description="prueba",
        checksum_source="calculada en la prueba")
    return replace(entry, **changes)


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def _tar(path: Path, members: list[tuple[str, str, str | bytes]]) -> Path:
    """Un .tar con miembros ``(nombre, tipo, contenido o destino del enlace)``."""
    with tarfile.open(path, "w") as bundle:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                bundle.addfile(info, io.BytesIO(payload))
                continue
            info.type = {"sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE, "dir": tarfile.DIRTYPE,
                         "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE}[kind]
            info.linkname = payload if kind in ("sym", "hard") else ""
            bundle.addfile(info)
    return path


def _no_file_named(root: Path, name: str) -> bool:
    return not [p for p in root.rglob(name)]


# ------------------------------------------------------------------------- plazos y tamaños
def test_a_byte_every_two_seconds_fails_within_the_deadline(tmp_path, monkeypatch):
    with hostile(drip, monkeypatch) as server:
        start = time.monotonic()
        with pytest.raises(LabkitError, match="plazo total de 3 s"):
            download_dataset(_entry(url=server.url), tmp_path / "dl", progress=False,
                             deadline_s=3)
        elapsed = time.monotonic() - start
    assert elapsed < 8, f"tardó {elapsed:.1f} s con un plazo de 3 s"
    assert [p.name for p in (tmp_path / "dl").iterdir()] == []  # ni .part ni nada


def test_a_server_that_never_answers_fails_within_the_deadline(tmp_path, monkeypatch):
    with hostile(silent, monkeypatch) as server:
        start = time.monotonic()
        with pytest.raises(LabkitError, match="plazo total"):
            download_dataset(_entry(url=server.url), tmp_path / "dl", progress=False,
                             deadline_s=2)
        assert time.monotonic() - start < 7


def test_endless_headers_fail_within_the_deadline(tmp_path, monkeypatch):
    with hostile(drip_headers, monkeypatch) as server:
        start = time.monotonic()
        with pytest.raises(LabkitError, match="plazo total de 3 s"):
            download_dataset(_entry(url=server.url), tmp_path / "dl", progress=False,
                             deadline_s=3)
        assert time.monotonic() - start < 8


def test_a_redirect_loop_is_a_spanish_error(tmp_path, monkeypatch):
    with hostile(redirect_loop, monkeypatch) as server:
        with pytest.raises(LabkitError, match="El servidor respondió 302"):
            download_dataset(_entry(url=server.url), tmp_path / "dl", progress=False,
                             deadline_s=10)


def test_a_300_mib_stream_stops_at_the_size_cap(tmp_path, monkeypatch):
    with hostile(flood, monkeypatch) as server:
        with pytest.raises(LabkitError, match="más de los 7600 bytes"):
            download_dataset(_entry(url=server.url), tmp_path / "dl", progress=False,
                             deadline_s=15)
    # al salir del with el servidor se paró y su hilo terminó: ya no manda nada más
    assert not server.thread.is_alive()
    sent = server.sent
    assert sent < 50 * 2**20, f"el servidor llegó a mandar {sent} bytes"
    assert [p.name for p in (tmp_path / "dl").iterdir()] == []


def test_an_announced_300_mib_body_is_refused_before_reading(tmp_path, monkeypatch):
    with hostile(flood_announced, monkeypatch) as server:
        with pytest.raises(LabkitError, match="anuncia 314572800 bytes"):
            download_dataset(_entry(url=server.url), tmp_path / "dl", progress=False,
                             deadline_s=15)


@pytest.mark.parametrize("url", ["notaurl", "ftp://x/y.zip", "file:///etc/passwd", "http://",
                                 "", 3, None.__class__])
def test_bad_url_is_a_spanish_error(tmp_path, url):
    with pytest.raises(LabkitError, match="url"):
        download_dataset(_entry(), tmp_path / "dl", url=url, progress=False)
    assert not (tmp_path / "dl").exists()


@pytest.mark.parametrize("value", [0, -1, float("nan"), "10"])
def test_bad_deadline_is_a_spanish_error(tmp_path, value):
    with pytest.raises(LabkitError, match="deadline_s"):
        download_dataset(_entry(), tmp_path / "dl", deadline_s=value)


# ------------------------------------------------------------------------- campos de la entrada
@pytest.mark.parametrize("field, value", [
    ("name", "../fuera"), ("name", "a/b"), ("name", ".."), ("name", ""), ("name", 3),
    ("filename", "../x.zip"), ("filename", "/tmp/x.zip"), ("filename", "sub/x.zip"),
    ("filename", "a\\b.zip"), ("filename", "."),
    ("subfolder", "../fuera"), ("subfolder", "/etc"), ("subfolder", "a/../../b"),
    ("subfolder", "a//b"), ("subfolder", "C:\\x"), ("subfolder", ""),
    ("url", "notaurl"), ("size_bytes", 0), ("size_bytes", "7"), ("checksum", 12),
    ("checksum_algo", ["sha256"]), ("archive_format", "rar"),
])
def test_entry_fields_are_validated(field, value):
    expected = {"checksum": "checksum|suma", "archive_format": "archive_format|Formato"}
    with pytest.raises(LabkitError, match=expected.get(field, field)):
        _entry(**{field: value})


def test_nested_subfolder_is_allowed():
    assert _entry(subfolder="datos/train").subfolder == "datos/train"


# ------------------------------------------------------------------------- solo borra lo suyo
def test_existing_extraido_with_learner_files_is_never_removed(tmp_path):
    dest = tmp_path / "dl"
    data = _zip_bytes({"mini/a/1.txt": b"1"})
    (dest / EXTRACTED_NAME / "mini").mkdir(parents=True)
    mine = dest / EXTRACTED_NAME / "mis_notas.txt"
    mine.write_text("no me borres", encoding="utf-8")
    (dest / "mini.zip").write_bytes(data)
    with pytest.raises(LabkitError, match="podría tener archivos tuyos"):
        download_dataset(_entry(data), dest, progress=False)
    assert mine.read_text(encoding="utf-8") == "no me borres"
    assert (dest / "mini.zip").read_bytes() == data


def test_a_hand_placed_archive_is_used_and_kept(tmp_path):
    dest = tmp_path / "dl"
    dest.mkdir()
    data = _zip_bytes({"mini/a/1.txt": b"1", "mini/b/2.txt": b"2"})
    (dest / "mini.zip").write_bytes(data)
    folder = download_dataset(_entry(data), dest, progress=False, keep_archive=False)
    assert sorted(p.name for p in folder.iterdir()) == ["a", "b"]
    assert (dest / "mini.zip").read_bytes() == data  # lo colocó el alumno: no se borra
    assert (dest / MARKER_NAME).is_file()


def test_a_wrong_hand_placed_archive_is_reported_and_kept(tmp_path):
    dest = tmp_path / "dl"
    dest.mkdir()
    (dest / "mini.zip").write_bytes(b"otra cosa")
    with pytest.raises(LabkitError, match="No lo toco"):
        download_dataset(_entry(_zip_bytes({"mini/a/1.txt": b"1"})), dest, progress=False)
    assert (dest / "mini.zip").read_bytes() == b"otra cosa"


def test_dest_that_is_a_file_is_a_spanish_error(tmp_path):
    (tmp_path / "archivo").write_text("x", encoding="utf-8")
    with pytest.raises(LabkitError, match="no es una carpeta"):
        download_dataset(_entry(), tmp_path / "archivo", progress=False)


# ------------------------------------------------------------------------- extracción
def _extract_tar(tmp_path: Path, members, monkeypatch=None, no_filter: bool = False) -> Path:
    if no_filter:  # como en Python 3.10.0–3.10.11 y 3.11.0–3.11.3
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    archive = _tar(tmp_path / "a.tar", members)
    target = tmp_path / "caja" / "dentro"
    target.mkdir(parents=True)
    extract_archive(archive, target, "tar")
    return target


CHAIN_TOP = [("l", "sym", ".."), ("l/l2", "sym", ".."), ("l/l2/l3", "sym", ".."),
             ("l/l2/l3/l4", "sym", ".."), ("l/l2/l3/l4/file", "file", b"fuera")]
CHAIN_NESTED = [("d/l", "sym", ".."), ("d/l/l2", "sym", ".."), ("d/l/l2/l3", "sym", ".."),
                ("d/l/l2/l3/l4", "sym", ".."), ("d/l/l2/l3/l4/file", "file", b"fuera")]
RELINK = [("d", "dir", ""), ("a", "sym", "d/c/../.."), ("d/c", "sym", "."),
          ("a/file", "file", b"fuera")]


@pytest.mark.parametrize("members", [CHAIN_TOP, CHAIN_NESTED, RELINK],
                         ids=["cadena", "cadena-anidada", "enlace-que-cambia"])
@pytest.mark.parametrize("no_filter", [False, True], ids=["con-filtro", "sin-filtro"])
def test_chained_symlinks_never_write_outside(tmp_path, monkeypatch, members, no_filter):
    with pytest.raises(LabkitError, match="insegura"):
        _extract_tar(tmp_path, members, monkeypatch, no_filter)
    assert _no_file_named(tmp_path, "file")


@pytest.mark.parametrize("members, why", [
    ([("x", "fifo", "")], "especial"),
    ([("x", "chr", "")], "especial"),
    ([("a", "sym", "/etc"), ("a/passwd", "file", b"x")], "absoluta"),
    ([("a", "hard", "/etc/passwd")], "fuera"),
    ([("a", "hard", "../../x")], "fuera"),
    ([("d", "dir", ""), ("d/a", "sym", "../.."), ("d/a/file", "file", b"x")], "fuera"),
    ([("ok", "file", b"1"), ("ok/../../file", "file", b"x")], "'..'"),
    ([("d", "dir", ""), ("e", "sym", "d"), ("e", "file", b"x")], "repite"),
])
@pytest.mark.parametrize("no_filter", [False, True], ids=["con-filtro", "sin-filtro"])
def test_hostile_tar_members_are_refused(tmp_path, monkeypatch, members, why, no_filter):
    with pytest.raises(LabkitError, match=why):
        _extract_tar(tmp_path, members, monkeypatch, no_filter)
    assert _no_file_named(tmp_path / "caja", "passwd")


def test_links_inside_are_resolved_without_the_filter(tmp_path, monkeypatch):
    members = [("mini/a/1.txt", "file", b"uno"), ("mini/b", "sym", "a"),
               ("mini/c.txt", "hard", "mini/a/1.txt")]
    target = _extract_tar(tmp_path, members, monkeypatch, no_filter=True)
    assert (target / "mini" / "b" / "1.txt").read_bytes() == b"uno"
    assert (target / "mini" / "c.txt").read_bytes() == b"uno"
    assert not (target / "mini" / "c.txt").is_symlink()


@pytest.mark.parametrize("fmt, data", [("zip", b"PK\x03\x04roto"), ("tar", b"\x00" * 10),
                                       ("tar.gz", b"\x1f\x8b roto")])
def test_corrupt_archives_are_a_spanish_error(tmp_path, fmt, data):
    archive = tmp_path / "roto"
    archive.write_bytes(data)
    (tmp_path / "t").mkdir()
    with pytest.raises(LabkitError, match="dañado|no es un"):
        extract_archive(archive, tmp_path / "t", fmt)
