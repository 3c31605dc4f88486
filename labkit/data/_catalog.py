"""Catálogo de conjuntos de imágenes públicos y su descarga verificada.

Para quien tiene conexión: cada entrada del catálogo dice de dónde se baja el archivo, su
licencia, su tamaño y su suma de comprobación publicada. :func:`download_dataset` lo descarga
(con barra de progreso), comprueba la suma, lo extrae de forma segura y devuelve la carpeta con
una subcarpeta por clase, lista para :func:`labkit.data.image_folder`. Sin conexión, explica
dónde colocar el archivo a mano y recuerda que ``labkit.surface_dataset()`` funciona sin red.

Las sumas son valores publicados, nunca calculados aquí; al lado de cada entrada se dice de dónde
salen. Se dejaron fuera conjuntos cuya suma no se encontró publicada (por ejemplo las
radiografías de tórax con neumonía de Kermany et al., ``ChestXRay2017.zip`` de Mendeley Data) y
los que no vienen con una carpeta por clase (Oxford Flowers 102 guarda sus etiquetas en un
``.mat``).
"""

from __future__ import annotations

import difflib
import html
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..base._config import data_dir
from ..base._errors import LabkitError
from ..base._netfetch import READ_TIMEOUT_S, check_url
from ..base._validate import check_bool, check_float, check_int, check_path, check_str
from ._downloads import install_dataset

__all__ = [
    "DatasetEntry", "DATASETS", "dataset_entry", "download_dataset", "list_datasets",
    "catalog_table_html", "DOWNLOAD_TIMEOUT_S", "deadline_for",
]

DOWNLOAD_TIMEOUT_S = READ_TIMEOUT_S  # plazo de cada lectura; el total sale de deadline_for()
MIN_RATE_BYTES_S = 100_000  # por debajo de 100 kB/s de media, el plazo total se agota
ARCHIVE_FORMATS = ("zip", "tar.gz", "tar")
_HEX_LENGTHS = {"sha256": 64, "md5": 32}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")


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
        for field_name in ("name", "title", "url", "filename", "license", "checksum",
                           "archive_format", "subfolder", "application", "description",
                           "checksum_source", "checksum_algo"):
            check_str(f"DatasetEntry.{field_name}", getattr(self, field_name))
        check_str("DatasetEntry.homepage", self.homepage, allow_empty=True)
        _check_plain_name("DatasetEntry.name", self.name)
        _check_plain_name("DatasetEntry.filename", self.filename)
        for part in self.subfolder.split("/"):
            _check_plain_name("DatasetEntry.subfolder", part, whole=self.subfolder)
        check_url(self.url, "DatasetEntry.url")
        check_int("DatasetEntry.size_bytes", self.size_bytes, minimum=1)
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


def _check_plain_name(label: str, value: str, whole: str | None = None) -> None:
    """Un nombre de archivo o carpeta sin separadores, sin ``..`` y sin ruta absoluta."""
    if not _SAFE_NAME.match(value) or value in (".", ".."):
        shown = whole if whole is not None else value
        raise LabkitError(f"{label}: llegó {shown!r}; se espera un nombre sencillo (letras, "
                          "cifras, «_», «-», «.»), sin «..», sin «/» ni «\\» y sin ruta absoluta"
                          + (" (en subfolder, «/» solo separa carpetas)." if whole else "."))


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


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
    check_str("name", name)
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
def deadline_for(entry: DatasetEntry) -> float:
    """Plazo total por defecto para descargar ``entry``: 2 min más 100 kB/s de media.

    Args:
        entry: la entrada del catálogo.

    Returns:
        Los segundos.
    """
    return 120.0 + entry.size_bytes / MIN_RATE_BYTES_S


def download_dataset(
    name: str | DatasetEntry,
    dest: str | os.PathLike | None = None,
    *,
    url: str | None = None,
    progress: bool = True,
    keep_archive: bool = False,
    deadline_s: float | None = None,
) -> Path:
    """Descarga, verifica y extrae un conjunto del catálogo; si ya está, no usa la red.

    Solo borra lo que crea: nunca un archivo comprimido colocado a mano (si su suma coincide se
    usa sin red) ni una carpeta ``extraido/`` que ya existía.

    Args:
        name: clave del catálogo (``"eurosat"``; ver :func:`list_datasets`) o una
            :class:`DatasetEntry` propia.
        dest: carpeta de destino; por defecto ``data_dir()/"descargas"/<nombre>``.
        url: otra dirección para el mismo archivo (una réplica); la suma se comprueba igual.
        progress: muestra una barra de progreso durante la descarga.
        keep_archive: conserva el archivo comprimido que se descargó después de extraerlo.
        deadline_s: plazo total de la descarga en segundos (por defecto, :func:`deadline_for`).

    Returns:
        La carpeta que contiene las subcarpetas de clase, lista para ``image_folder``.
    """
    entry = dataset_entry(name)
    url = check_url(url) if url is not None else entry.url
    check_bool("progress", progress)
    check_bool("keep_archive", keep_archive)
    deadline = deadline_for(entry) if deadline_s is None else check_float(
        "deadline_s", deadline_s, minimum=0, strict=True)
    dest = check_path("dest", dest) if dest is not None else data_dir() / "descargas" / entry.name
    return install_dataset(entry, dest, url=url, progress=progress, keep_archive=keep_archive,
                           deadline_s=deadline)
