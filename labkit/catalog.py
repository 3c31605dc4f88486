"""Catálogo de conjuntos de imágenes públicos y su descarga verificada.

Para quien tiene conexión: cada entrada del catálogo dice de dónde se baja el archivo, su
licencia, su tamaño y su suma de comprobación publicada. :func:`download_dataset` lo descarga
(con barra de progreso), comprueba la suma, lo extrae de forma segura y devuelve la carpeta con
una subcarpeta por clase, lista para :func:`labkit.folders.image_folder`. Sin conexión, explica
dónde colocar el archivo a mano y recuerda que ``labkit.surface_dataset()`` funciona sin red.

Las sumas son valores publicados, nunca calculados aquí; al lado de cada entrada se dice de dónde
salen. Se dejaron fuera conjuntos cuya suma no se encontró publicada (por ejemplo las
radiografías de tórax con neumonía de Kermany et al., ``ChestXRay2017.zip`` de Mendeley Data) y
los que no vienen con una carpeta por clase (Oxford Flowers 102 guarda sus etiquetas en un
``.mat``).
"""

from __future__ import annotations

import difflib
import hashlib
import html
import json
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from tqdm.auto import tqdm

from .config import data_dir
from .errors import LabkitError

__all__ = [
    "DatasetEntry",
    "DATASETS",
    "dataset_entry",
    "download_dataset",
    "list_datasets",
    "catalog_table_html",
    "DOWNLOAD_TIMEOUT_S",
]

DOWNLOAD_TIMEOUT_S = 30
ARCHIVE_FORMATS = ("zip", "tar.gz", "tar")
MARKER_NAME = ".labkit_listo.json"
EXTRACTED_NAME = "extraido"
_HEX_LENGTHS = {"sha256": 64, "md5": 32}
_CHUNK = 1 << 20
_OFFLINE_HINT = "Mientras tanto, el conjunto integrado funciona sin red: labkit.surface_dataset()."


@dataclass(frozen=True)
class DatasetEntry:
    """Un conjunto de imágenes público descargable.

    Attributes:
        name: clave corta del catálogo (``"eurosat"``).
        title: título legible, en español.
        url: dirección de descarga del archivo comprimido.
        filename: nombre con el que se guarda el archivo comprimido.
        license: licencia de las imágenes, en pocas palabras.
        size_bytes: tamaño exacto del archivo comprimido, en bytes.
        checksum: suma de comprobación publicada del archivo, en hexadecimal.
        archive_format: ``"zip"``, ``"tar.gz"`` o ``"tar"``.
        subfolder: carpeta que, una vez extraído, contiene las subcarpetas de clase
            (o ``train/`` y ``val/``).
        application: área de aplicación (``"satélite"``, ``"diagnóstico médico"``…).
        description: qué contiene, en español.
        checksum_source: de dónde sale la suma de comprobación.
        checksum_algo: algoritmo de la suma (``"sha256"``; ``"md5"`` solo si no hay otra).
        homepage: página del conjunto, para citarlo.
    """

    name: str
    title: str
    url: str
    filename: str
    license: str
    size_bytes: int
    checksum: str
    archive_format: str
    subfolder: str
    application: str
    description: str
    checksum_source: str
    checksum_algo: str = "sha256"
    homepage: str = ""

    def __post_init__(self) -> None:
        length = _HEX_LENGTHS.get(self.checksum_algo)
        if length is None:
            raise LabkitError(f"Algoritmo de suma desconocido para '{self.name}': "
                              f"{self.checksum_algo!r} (usa uno de {sorted(_HEX_LENGTHS)}).")
        if len(self.checksum) != length or not _is_hex(self.checksum):
            raise LabkitError(f"La suma {self.checksum_algo} de '{self.name}' debe tener {length} "
                              f"cifras hexadecimales en minúscula; tiene {len(self.checksum)}.")
        if self.archive_format not in ARCHIVE_FORMATS:
            raise LabkitError(f"Formato de archivo desconocido para '{self.name}': "
                              f"{self.archive_format!r} (usa uno de {ARCHIVE_FORMATS}).")

    @property
    def sha256(self) -> str | None:
        """La suma sha256 publicada, o ``None`` si la entrada solo tiene otra (md5)."""
        return self.checksum if self.checksum_algo == "sha256" else None

    @property
    def size_text(self) -> str:
        """El tamaño del archivo comprimido, legible (``"94.7 MB"``)."""
        return _size_text(self.size_bytes)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:.2f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.1f} MB"


_ENTRIES = [
    DatasetEntry(
        name="hormigas_abejas",
        title="Hormigas y abejas (tutorial de PyTorch)",
        url="https://download.pytorch.org/tutorial/hymenoptera_data.zip",
        filename="hymenoptera_data.zip",
        license="Fotos de ImageNet que PyTorch distribuye para su tutorial (uso educativo)",
        size_bytes=47_286_322,
        # sha256: pytorch/tutorials, .jenkins/download_data.py (su CI la verifica en cada
        # compilación); el mismo valor y el tamaño los fija también el paquete rktorch
        # (archive-sha256 / archive-bytes) y lo confirma un registro de descarga público.
        checksum="fbc41b31d544714d18dd1230b1e2b455e1557766e13e67f9f5a7a23af7c02209",
        checksum_source="pytorch/tutorials: .jenkins/download_data.py",
        archive_format="zip",
        subfolder="hymenoptera_data",
        application="vida silvestre",
        description="Unas 400 fotos de hormigas y abejas ya repartidas en train/ (244) y val/ "
                    "(153): el conjunto del tutorial clásico de aprendizaje por transferencia "
                    "de PyTorch.",
        homepage="https://pytorch.org/tutorials/beginner/transfer_learning_tutorial.html",
    ),
    DatasetEntry(
        name="eurosat",
        title="EuroSAT RGB: uso del suelo visto por el satélite Sentinel-2",
        url="https://zenodo.org/records/7711810/files/EuroSAT_RGB.zip?download=1",
        filename="EuroSAT_RGB.zip",
        license="MIT (registro Zenodo 7711810); imágenes Copernicus Sentinel-2",
        size_bytes=94_658_721,
        # sha256 y tamaño: los fijan varios proyectos públicos que verifican esta descarga de
        # Zenodo (registro 7711810); el md5 que publica Zenodo para el archivo es
        # f46e308c4d50d4bf32fedad2d3d62f3b (el mismo que usa, p. ej., el EuroSAT de TorchGeo).
        checksum="b4f5b234ecb7d7ff9c6cddb046543b4717c53fd6e9815be6c0e80cc614f51b90",
        checksum_source="proyectos que verifican el archivo de Zenodo 7711810 "
                        "(md5 de Zenodo: f46e308c4d50d4bf32fedad2d3d62f3b)",
        archive_format="zip",
        subfolder="EuroSAT_RGB",
        application="satélite",
        description="27 000 recortes de 64×64 px de imágenes de satélite en 10 clases de uso "
                    "del suelo: cultivos, bosque, pasto, autopista, zona industrial, "
                    "residencial, río, mar o lago…",
        homepage="https://github.com/phelber/EuroSAT",
    ),
    DatasetEntry(
        name="flores",
        title="Flores: margarita, diente de león, rosa, girasol y tulipán",
        url="http://download.tensorflow.org/example_images/flower_photos.tgz",
        filename="flower_photos.tgz",
        license="CC BY 2.0 (autor de cada foto en LICENSE.txt)",
        size_bytes=228_813_984,
        # sha256 y tamaño: tensorflow/datasets, tensorflow_datasets/datasets/tf_flowers/
        # checksums.tsv (antes url_checksums/tf_flowers.txt).
        checksum="4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c",
        checksum_source="tensorflow/datasets: datasets/tf_flowers/checksums.tsv",
        archive_format="tar.gz",
        subfolder="flower_photos",
        application="botánica",
        description="3 670 fotos de flores en 5 clases, tomadas de Flickr: el conjunto de los "
                    "tutoriales de clasificación de imágenes de TensorFlow.",
        homepage="https://www.tensorflow.org/datasets/catalog/tf_flowers",
    ),
    DatasetEntry(
        name="malaria",
        title="Células de sangre con y sin malaria (NIH)",
        url="https://data.lhncbc.nlm.nih.gov/public/Malaria/cell_images.zip",
        filename="cell_images.zip",
        license="Datos públicos de NIH/NLM (cita a Rajaraman et al., PeerJ 2018)",
        size_bytes=353_452_851,
        # sha256 y tamaño: tensorflow/datasets, tensorflow_datasets/datasets/malaria/
        # checksums.tsv (la misma suma figura para la dirección antigua ceb.nlm.nih.gov).
        checksum="0a949556b2414159b5100192609805376654c4266d8d187be9b1922fad43c668",
        checksum_source="tensorflow/datasets: datasets/malaria/checksums.tsv",
        archive_format="zip",
        subfolder="cell_images",
        application="diagnóstico médico",
        description="27 558 imágenes de células de frotis de sangre: parasitadas por malaria "
                    "o sanas, en dos clases equilibradas.",
        homepage="https://lhncbc.nlm.nih.gov/LHC-research/LHC-projects/image-processing/"
                 "malaria-datasheet.html",
    ),
    DatasetEntry(
        name="histologia_colon",
        title="Histología de cáncer colorrectal (Kather et al., 2016)",
        url="https://zenodo.org/record/53169/files/Kather_texture_2016_image_tiles_5000.zip",
        filename="Kather_texture_2016_image_tiles_5000.zip",
        license="CC BY 4.0 (registro Zenodo 53169)",
        size_bytes=258_098_431,
        # sha256 y tamaño: tensorflow/datasets, tensorflow_datasets/url_checksums/
        # colorectal_histology.txt.
        checksum="936d0b95ae0f04f1f7b18a2b7e8c55776c3e887d102f645bcee752d1a6626a32",
        checksum_source="tensorflow/datasets: url_checksums/colorectal_histology.txt",
        archive_format="zip",
        subfolder="Kather_texture_2016_image_tiles_5000",
        application="diagnóstico médico",
        description="5 000 teselas de 150×150 px de tejido teñido (H&E) en 8 clases: tumor, "
                    "estroma, tejido complejo, linfocitos, restos, mucosa, grasa y fondo.",
        homepage="https://zenodo.org/record/53169",
    ),
    DatasetEntry(
        name="perros_gatos",
        title="Perros y gatos (Microsoft/Kaggle, Asirra)",
        url="https://download.microsoft.com/download/3/E/1/"
            "3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip",
        filename="kagglecatsanddogs_5340.zip",
        license="Sin licencia declarada (Microsoft Research); para investigación y enseñanza",
        size_bytes=824_887_076,
        # sha256: gomlx/gomlx, examples/dogsvscats/dogsvscats.go (DownloadChecksum, con la que
        # verifica su descarga); tamaño: registros públicos de wget de esta misma URL.
        checksum="b7974bd00a84a99921f36ee4403f089853777b5ae8d151c76a86e64900334af9",
        checksum_source="gomlx/gomlx: examples/dogsvscats/dogsvscats.go",
        archive_format="zip",
        subfolder="PetImages",
        application="mascotas",
        description="Unas 25 000 fotos de perros y gatos. Trae algunas imágenes dañadas (buen "
                    "ejemplo: image_folder las omite y las lista). Es grande: prueba con "
                    "max_per_class.",
        homepage="https://www.microsoft.com/en-us/download/details.aspx?id=54765",
    ),
]

DATASETS: dict[str, DatasetEntry] = {entry.name: entry for entry in _ENTRIES}


def dataset_entry(name: str | DatasetEntry) -> DatasetEntry:
    """Busca una entrada del catálogo por su nombre (o devuelve la entrada dada).

    Args:
        name: clave del catálogo (``"eurosat"``) o una :class:`DatasetEntry` propia.

    Returns:
        La :class:`DatasetEntry`.
    """
    if isinstance(name, DatasetEntry):
        return name
    if name in DATASETS:
        return DATASETS[name]
    close = difflib.get_close_matches(str(name), DATASETS, n=1)
    hint = f" ¿Quisiste decir '{close[0]}'?" if close else ""
    raise LabkitError(f"No hay ningún conjunto llamado '{name}' en el catálogo.{hint} "
                      f"Disponibles: {', '.join(DATASETS)} (ver labkit.list_datasets()).")


def list_datasets() -> list[dict[str, str]]:
    """Filas del catálogo para mostrarlas (una por conjunto).

    Returns:
        Una lista de diccionarios con nombre, título, aplicación, tamaño, licencia,
        descripción y url.
    """
    return [{"nombre": e.name, "título": e.title, "aplicación": e.application,
             "tamaño": e.size_text, "licencia": e.license, "descripción": e.description,
             "url": e.url} for e in DATASETS.values()]


def catalog_table_html() -> str:
    """El catálogo como tabla HTML, para mostrarla en un cuaderno con ``HTML(...)``.

    Returns:
        El código HTML de la tabla.
    """
    columns = ["nombre", "título", "aplicación", "tamaño", "licencia", "descripción"]
    head = "".join(f"<th>{c}</th>" for c in columns)
    rows = []
    for row in list_datasets():
        cells = [f"<code>{html.escape(row['nombre'])}</code>",
                 f"<a href=\"{html.escape(row['url'])}\">{html.escape(row['título'])}</a>",
                 *(html.escape(row[c]) for c in columns[2:])]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


# ---------------------------------------------------------------------------------- descarga
def download_dataset(
    name: str | DatasetEntry,
    dest: str | os.PathLike | None = None,
    *,
    url: str | None = None,
    progress: bool = True,
    keep_archive: bool = False,
) -> Path:
    """Descarga, verifica y extrae un conjunto del catálogo; si ya está, no usa la red.

    Args:
        name: clave del catálogo (``"eurosat"``; ver :func:`list_datasets`) o una
            :class:`DatasetEntry` propia.
        dest: carpeta de destino; por defecto ``data_dir()/"descargas"/<nombre>``.
        url: otra dirección para el mismo archivo (una réplica); la suma se comprueba igual.
        progress: muestra una barra de progreso durante la descarga.
        keep_archive: conserva el archivo comprimido después de extraerlo.

    Returns:
        La carpeta que contiene las subcarpetas de clase, lista para ``image_folder``.
    """
    entry = dataset_entry(name)
    dest = Path(dest) if dest is not None else data_dir() / "descargas" / entry.name
    ready = _ready_folder(dest, entry)
    if ready is not None:
        return ready
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / entry.filename
    if not _placed_archive_ok(archive, entry):
        _download(url or entry.url, archive, entry, progress)
    _extract(archive, dest, entry)
    (dest / MARKER_NAME).write_text(json.dumps(
        {"name": entry.name, "checksum_algo": entry.checksum_algo, "checksum": entry.checksum,
         "subfolder": entry.subfolder}, ensure_ascii=False))
    if not keep_archive:
        archive.unlink()
    return dest / EXTRACTED_NAME / entry.subfolder


def _ready_folder(dest: Path, entry: DatasetEntry) -> Path | None:
    """La carpeta ya extraída y verificada (según la marca), o ``None``."""
    try:
        marker = json.loads((dest / MARKER_NAME).read_text())
    except (OSError, ValueError):
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
    if not archive.is_file():
        return False
    got = _file_digest(archive, entry.checksum_algo)
    if got != entry.checksum:
        raise LabkitError(
            f"Ya hay un archivo '{archive}' pero no es el esperado: su {entry.checksum_algo} "
            f"debía ser {entry.checksum} y es {got}. Bórralo para descargarlo de nuevo, o "
            f"reemplázalo por el archivo correcto ({entry.filename}, {entry.size_text}).")
    return True


def _download(url: str, archive: Path, entry: DatasetEntry, progress: bool) -> None:
    """Descarga a ``<archivo>.part``, verifica la suma y lo renombra de forma atómica."""
    part = archive.with_name(archive.name + ".part")
    try:
        digest, received = _fetch(url, part, entry, progress)
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
    os.replace(part, archive)


def _fetch(url: str, part: Path, entry: DatasetEntry, progress: bool) -> tuple[str, int]:
    """Copia la respuesta en ``part`` calculando la suma; devuelve ``(suma, bytes)``."""
    hasher = hashlib.new(entry.checksum_algo)
    received = 0
    request = urllib.request.Request(url, headers={"User-Agent": "labkit (curso)"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response, \
            open(part, "wb") as out:
        total = int(response.headers.get("Content-Length") or entry.size_bytes)
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                  desc=entry.filename, disable=not progress) as bar:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                hasher.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    return hasher.hexdigest(), received


def _download_error(err: BaseException, url: str, archive: Path,
                    entry: DatasetEntry) -> LabkitError | None:
    """Traduce un fallo de red a un :class:`LabkitError` en español (``None`` si no lo es)."""
    manual = (f"Si consigues el archivo por otro medio, colócalo a mano y vuelve a llamar a "
              f"download_dataset('{entry.name}'): se comprobará su {entry.checksum_algo} y se "
              f"extraerá sin red.\n  archivo: {entry.filename} ({entry.size_text})\n"
              f"  dónde:   {archive}\n{_OFFLINE_HINT}")
    if isinstance(err, urllib.error.HTTPError):
        return LabkitError(f"El servidor respondió {err.code} ({err.reason}) al pedir {url}: "
                           f"puede que el enlace haya cambiado.\n{manual}")
    if isinstance(err, (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException)):
        reason = getattr(err, "reason", None) or err
        return LabkitError(f"No hay conexión a internet (o el servidor no responde): no pude "
                           f"descargar «{entry.title}» desde {url} (detalle: {reason}).\n{manual}")
    return None


# ---------------------------------------------------------------------------------- extracción
def _extract(archive: Path, dest: Path, entry: DatasetEntry) -> None:
    """Extrae en una carpeta temporal hermana, comprueba la subcarpeta y la mueve a su sitio."""
    temp = Path(tempfile.mkdtemp(prefix=".extrayendo-", dir=dest))
    try:
        if entry.archive_format == "zip":
            _extract_zip(archive, temp)
        else:
            _extract_tar(archive, temp)
        if not (temp / entry.subfolder).is_dir():
            raise LabkitError(f"El archivo {archive.name} no contiene la carpeta esperada "
                              f"'{entry.subfolder}'. ¿Es el archivo correcto?")
        final = dest / EXTRACTED_NAME
        if final.exists():  # restos de una extracción anterior sin terminar
            shutil.rmtree(final)
        os.replace(temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def _unsafe(member: str, why: str) -> LabkitError:
    return LabkitError(f"El archivo comprimido trae una entrada insegura: '{member}' ({why}). "
                       "No se extrajo nada: un archivo así podría escribir fuera de su carpeta.")


def _check_member_name(name: str) -> None:
    """Rechaza rutas absolutas, con unidad de Windows o con componentes ``..``."""
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise _unsafe(name, "ruta absoluta")
    if ".." in normalized.split("/"):
        raise _unsafe(name, "contiene '..'")


def _check_link(member: str, target: str, relative_to_member: bool) -> None:
    """Rechaza enlaces cuyo destino queda fuera de la carpeta de extracción."""
    if target.startswith("/") or (len(target) > 1 and target[1] == ":"):
        raise _unsafe(member, f"enlace a una ruta absoluta: {target}")
    base = posixpath.dirname(member) if relative_to_member else ""
    resolved = posixpath.normpath(posixpath.join(base, target.replace("\\", "/")))
    if resolved == ".." or resolved.startswith("../"):
        raise _unsafe(member, f"enlace que apunta fuera: {target}")


def _extract_zip(archive: Path, target: Path) -> None:
    """Extrae un .zip tras comprobar cada entrada."""
    with zipfile.ZipFile(archive) as bundle:
        members = bundle.infolist()
        for info in members:
            _check_member_name(info.filename)
            if stat.S_ISLNK(info.external_attr >> 16):
                _check_link(info.filename, bundle.read(info).decode("utf-8", "replace"), True)
        bundle.extractall(target, members)


def _extract_tar(archive: Path, target: Path) -> None:
    """Extrae un .tar(.gz) tras comprobar cada miembro (y con el filtro ``data`` si existe)."""
    with tarfile.open(archive, "r:*") as bundle:
        members = bundle.getmembers()
        for member in members:
            _check_member_name(member.name)
            if member.issym() or member.islnk():
                _check_link(member.name, member.linkname, relative_to_member=member.issym())
            elif not (member.isfile() or member.isdir()):
                raise _unsafe(member.name, "tipo de archivo especial (dispositivo o tubería)")
        extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        bundle.extractall(target, members=members, **extra)
