"""Pruebas de labkit.data sin internet: un servidor HTTP local en 127.0.0.1 sirve archivos
comprimidos creados en la propia prueba."""

from __future__ import annotations

import functools
import hashlib
import io
import socket
import tarfile
import threading
import zipfile
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labkit.base import LabkitError
from labkit.data import (
    DatasetEntry,
    catalog_table_html,
    download_dataset,
    image_folder,
    list_datasets,
)
from labkit.data._catalog import DATASETS, dataset_entry
from labkit.data._downloads import EXTRACTED_NAME, MARKER_NAME

HEX_LENGTHS = {"sha256": 64, "md5": 32}


# ---------------------------------------------------------------------------------- servidor local
class _Server:
    """Servidor HTTP en un hilo que sirve una carpeta y cuenta las peticiones."""

    def __init__(self, folder: Path) -> None:
        self.requests = 0
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (nombre fijado por http.server)
                server.requests += 1
                super().do_GET()

            def log_message(self, *args) -> None:
                pass

        handler = functools.partial(Handler, directory=str(folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"


@pytest.fixture
def server(tmp_path, monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    folder = tmp_path / "servidor"
    folder.mkdir()
    srv = _Server(folder)
    srv.folder = folder
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join(timeout=5)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------- archivos
def _png_bytes(seed: int) -> bytes:
    arr = np.random.default_rng(seed).integers(0, 256, (24, 30, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(arr).save(buffer, format="PNG")
    return buffer.getvalue()


def _dataset_files() -> dict[str, bytes]:
    return {f"mini/{c}/{i}.png": _png_bytes(10 * k + i)
            for k, c in enumerate(["gato", "perro"]) for i in range(3)}


def _write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return path


def _write_tar(path: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as bundle:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            hard = target.startswith("hard:")
            info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
            info.linkname = target.removeprefix("hard:")
            bundle.addfile(info)
    return path


def _entry_for(path: Path, url: str, fmt: str = "zip", **changes) -> DatasetEntry:
    data = path.read_bytes()
    entry = DatasetEntry(
        name="mini", title="Mini conjunto de prueba", url=url, filename=path.name,
        license="CC0", size_bytes=len(data), checksum=hashlib.sha256(data).hexdigest(),
        archive_format=fmt, subfolder="mini", application="pruebas",
        description="Seis imágenes en dos clases.", checksum_source="calculada en la prueba")
    return replace(entry, **changes)


def _leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir()) if dest.exists() else []


# ---------------------------------------------------------------------------------- catálogo
def test_catalog_entries_are_complete():
    assert len(DATASETS) >= 4
    applications = {e.application for e in DATASETS.values()}
    assert {"vida silvestre", "satélite", "botánica", "diagnóstico médico"} <= applications
    for key, entry in DATASETS.items():
        assert key == entry.name
        assert entry.url.startswith(("https://", "http://")) and entry.filename
        assert entry.license and entry.title and entry.description and entry.subfolder
        assert entry.size_bytes > 1_000_000
        assert len(entry.checksum) == HEX_LENGTHS[entry.checksum_algo]
        assert set(entry.checksum) <= set("0123456789abcdef")
        assert entry.checksum_source and entry.archive_format in ("zip", "tar.gz", "tar")
    assert DATASETS["hormigas_abejas"].url == \
        "https://download.pytorch.org/tutorial/hymenoptera_data.zip"


def test_entry_rejects_a_malformed_checksum():
    entry = DATASETS["eurosat"]
    with pytest.raises(LabkitError, match="64 cifras"):
        replace(entry, checksum="abc")
    with pytest.raises(LabkitError, match="Algoritmo"):
        replace(entry, checksum_algo="crc32")


def test_unknown_name_suggests_and_lists():
    with pytest.raises(LabkitError, match="eurosat") as err:
        dataset_entry("eurosta")
    assert "Quisiste decir" in str(err.value)


def test_list_datasets_and_html():
    rows = list_datasets()
    assert [r["nombre"] for r in rows] == list(DATASETS)
    assert {"título", "aplicación", "tamaño", "licencia", "descripción", "url"} <= set(rows[0])
    page = catalog_table_html()
    assert page.startswith("<table>") and page.count("<tr>") == len(DATASETS) + 1


# ---------------------------------------------------------------------------------- descarga
def test_zip_download_end_to_end(server, tmp_path, capsys):
    archive = _write_zip(server.folder / "mini.zip", _dataset_files())
    entry = _entry_for(archive, server.url("mini.zip"))
    dest = tmp_path / "descargas" / "mini"
    folder = download_dataset(entry, dest, progress=True)
    assert folder == dest / EXTRACTED_NAME / "mini"
    assert sorted(p.name for p in folder.iterdir()) == ["gato", "perro"]
    assert (dest / MARKER_NAME).is_file()
    assert _leftovers(dest) == sorted([MARKER_NAME, EXTRACTED_NAME])  # ni .part ni .zip
    assert "100%" in capsys.readouterr().err
    assert server.requests == 1
    assert download_dataset(entry, dest) == folder
    assert server.requests == 1  # la segunda vez no toca la red
    splits = image_folder(folder, image_size=16, val_fraction=0, test_fraction=0)
    assert splits.train.class_counts() == {"gato": 3, "perro": 3}


def test_tar_gz_download_keeps_archive_when_asked(server, tmp_path):
    archive = _write_tar(server.folder / "mini.tar.gz", _dataset_files())
    entry = _entry_for(archive, server.url("mini.tar.gz"), fmt="tar.gz")
    dest = tmp_path / "dl"
    folder = download_dataset(entry, dest, progress=False, keep_archive=True)
    assert sorted(p.name for p in folder.iterdir()) == ["gato", "perro"]
    assert (dest / "mini.tar.gz").read_bytes() == archive.read_bytes()
    assert not (dest / "mini.tar.gz.part").exists()


def test_default_destination_is_under_data_dir(server, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "datos_curso"))
    archive = _write_zip(server.folder / "mini.zip", _dataset_files())
    folder = download_dataset(_entry_for(archive, server.url("mini.zip")), progress=False)
    assert folder == tmp_path / "datos_curso" / "descargas" / "mini" / EXTRACTED_NAME / "mini"


def test_url_override_for_a_mirror(server, tmp_path):
    archive = _write_zip(server.folder / "replica.zip", _dataset_files())
    entry = _entry_for(archive, f"http://127.0.0.1:{_closed_port()}/original.zip")
    folder = download_dataset(entry, tmp_path / "dl", url=server.url("replica.zip"),
                              progress=False)
    assert folder.is_dir() and server.requests == 1


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    archive = _write_zip(server.folder / "mini.zip", _dataset_files())
    entry = _entry_for(archive, server.url("mini.zip"), checksum="0" * 64)
    dest = tmp_path / "dl"
    with pytest.raises(LabkitError, match="no es el archivo esperado") as err:
        download_dataset(entry, dest, progress=False)
    assert "0" * 64 in str(err.value)
    assert hashlib.sha256(archive.read_bytes()).hexdigest() in str(err.value)
    assert _leftovers(dest) == []


def test_malicious_zip_is_refused_and_nothing_escapes(server, tmp_path):
    files = {**_dataset_files(), "../evil.txt": b"te pille"}
    archive = _write_zip(server.folder / "mala.zip", files)
    dest = tmp_path / "a" / "b"
    with pytest.raises(LabkitError, match="insegura") as err:
        download_dataset(_entry_for(archive, server.url("mala.zip")), dest, progress=False)
    assert "../evil.txt" in str(err.value)
    assert not list(tmp_path.rglob("evil.txt"))
    assert _leftovers(dest) == ["mala.zip"]  # sin marca, sin extraido/ ni carpetas temporales


@pytest.mark.parametrize("links, bad", [
    ({"mini/gato/escape": "../../../fuera"}, "mini/gato/escape"),
    ({"mini/absoluto": "/etc/passwd"}, "mini/absoluto"),
    ({"mini/duro": "hard:../fuera.txt"}, "mini/duro"),
])
def test_malicious_tar_links_are_refused(server, tmp_path, links, bad):
    archive = _write_tar(server.folder / "mala.tar.gz", _dataset_files(), links)
    entry = _entry_for(archive, server.url("mala.tar.gz"), fmt="tar.gz")
    with pytest.raises(LabkitError, match="insegura") as err:
        download_dataset(entry, tmp_path / "dl", progress=False)
    assert bad in str(err.value)
    assert not (tmp_path / "dl" / EXTRACTED_NAME).exists()


def test_absolute_tar_member_is_refused(server, tmp_path):
    files = {**_dataset_files(), "/tmp/labkit_evil.txt": b"x"}
    archive = _write_tar(server.folder / "abs.tar.gz", files)
    entry = _entry_for(archive, server.url("abs.tar.gz"), fmt="tar.gz")
    with pytest.raises(LabkitError, match="ruta absoluta"):
        download_dataset(entry, tmp_path / "dl", progress=False)


def test_links_that_stay_inside_are_allowed(server, tmp_path):
    links = {"mini/gato/copia.png": "0.png", "mini/perro/duro.png": "hard:mini/perro/0.png"}
    archive = _write_tar(server.folder / "buena.tar.gz", _dataset_files(), links)
    entry = _entry_for(archive, server.url("buena.tar.gz"), fmt="tar.gz")
    folder = download_dataset(entry, tmp_path / "dl", progress=False)
    assert (folder / "perro" / "duro.png").read_bytes() == (folder / "perro" / "0.png").read_bytes()


def test_archive_without_the_expected_subfolder(server, tmp_path):
    archive = _write_zip(server.folder / "mini.zip", _dataset_files())
    entry = _entry_for(archive, server.url("mini.zip"), subfolder="otra")
    with pytest.raises(LabkitError, match="no contiene la carpeta esperada 'otra'"):
        download_dataset(entry, tmp_path / "dl", progress=False)
    assert not (tmp_path / "dl" / EXTRACTED_NAME).exists()


def test_offline_message_in_spanish(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/mini.zip"
    entry = DatasetEntry(
        name="mini", title="Mini", url=url, filename="mini.zip", license="CC0",
        size_bytes=1234, checksum="a" * 64, archive_format="zip", subfolder="mini",
        application="pruebas", description="-", checksum_source="-")
    dest = tmp_path / "dl"
    with pytest.raises(LabkitError) as err:
        download_dataset(entry, dest, progress=False)
    message = str(err.value)
    for piece in ("No hay conexión", url, "mini.zip", str(dest / "mini.zip"),
                  "labkit.surface_dataset()"):
        assert piece in message, piece
    assert not (dest / "mini.zip.part").exists()


def test_http_error_is_explained(server, tmp_path):
    archive = _write_zip(tmp_path / "mini.zip", _dataset_files())
    entry = _entry_for(archive, server.url("no_esta.zip"))
    with pytest.raises(LabkitError, match="respondió 404") as err:
        download_dataset(entry, tmp_path / "dl", progress=False)
    assert "surface_dataset" in str(err.value)


def test_manually_placed_archive_is_used_without_network(tmp_path):
    source = _write_zip(tmp_path / "mini.zip", _dataset_files())
    entry = _entry_for(source, f"http://127.0.0.1:{_closed_port()}/mini.zip")
    dest = tmp_path / "dl"
    dest.mkdir()
    (dest / "mini.zip").write_bytes(source.read_bytes())
    folder = download_dataset(entry, dest, progress=False)
    assert sorted(p.name for p in folder.iterdir()) == ["gato", "perro"]


def test_wrong_manually_placed_archive_is_reported(tmp_path):
    source = _write_zip(tmp_path / "mini.zip", _dataset_files())
    entry = _entry_for(source, f"http://127.0.0.1:{_closed_port()}/mini.zip")
    dest = tmp_path / "dl"
    dest.mkdir()
    (dest / "mini.zip").write_bytes(b"otra cosa")
    with pytest.raises(LabkitError, match="no es el esperado"):
        download_dataset(entry, dest, progress=False)
    assert (dest / "mini.zip").read_bytes() == b"otra cosa"  # no borra lo que puso el alumno
