"""Los datos: ``ImageSet``/``DataSplits``, los conjuntos del curso (MedMNIST, ELPV, fotos,
superficies), tus carpetas, la caché de imágenes, el aumento y el catálogo.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._augment import AUGMENT_PRESETS, Augment, apply_augment, resolve_augment
from ._catalog import (
    DATASETS,
    DOWNLOAD_TIMEOUT_S,
    EXTRACTED_NAME,
    MARKER_NAME,
    DatasetEntry,
    catalog_table_html,
    dataset_entry,
    deadline_for,
    download_dataset,
    list_datasets,
)
from ._data import (
    DataSplits,
    ImageSet,
    augment_batch,
    check_splits,
    normalize,
    resize_images,
    stratified_indices,
)
from ._datasets import (
    ELPV_TASKS,
    MEDMNIST_DIR,
    RealDataSplits,
    breast_mnist,
    dataset_report,
    elpv,
    pneumonia_mnist,
)
from ._downloads import install_dataset
from ._folderreport import (
    SPLIT_LABELS,
    SPLITS,
    ConvertedFile,
    FolderReport,
    SkippedFile,
    first_items,
    printable,
    report_from_json,
    report_to_json,
)
from ._folders import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, folder_report, image_folder
from ._folderscan import IGNORED_NAMES, SPLIT_ALIASES, FileItem, rel_path, scan_folder, split_of
from ._foldersplits import assign_splits, plural
from ._imagecache import (
    CACHE_VERSION,
    POOL_FROM,
    CacheRef,
    CacheUnavailable,
    cache_dir,
    cache_key,
    clear_image_cache,
    decode_files,
    decode_to_memory,
    default_workers,
    finalize,
    image_cache_key,
    load_cached,
)
from ._imagecachestore import (
    VERIFIED,
    clear_folder,
    evict,
    identity,
    manifest_digest,
    verify,
    warn_damaged,
)
from ._imagedecode import (
    DECODE_POLICY,
    UNSUPPORTED_EXTENSIONS,
    DecodeResult,
    DecodeTask,
    Skip,
    decode_array,
    decode_into,
    read_image,
    resize_center_crop,
    to_uint8,
    watch_parent,
)
from ._loadestimate import LoadEstimate, announce_load, load_estimate
from ._photocredits import CreditText, PhotoCredits, credit_footer, photo_credits, shown_path
from ._photos import PHOTO_SETS, PHOTOS_DIR, beans, flowers
from ._surfaces import SURFACE_CLASSES, make_surface, surface_dataset, surface_images

__all__ = [
    "Augment", "AUGMENT_PRESETS", "resolve_augment", "apply_augment", "DatasetEntry", "DATASETS",
    "dataset_entry", "download_dataset", "list_datasets", "catalog_table_html",
    "DOWNLOAD_TIMEOUT_S", "deadline_for", "EXTRACTED_NAME", "MARKER_NAME", "ImageSet",
    "DataSplits", "check_splits", "stratified_indices", "normalize", "augment_batch",
    "resize_images", "RealDataSplits", "pneumonia_mnist", "breast_mnist", "elpv", "dataset_report",
    "ELPV_TASKS", "MEDMNIST_DIR", "install_dataset", "printable", "FolderReport", "SkippedFile",
    "ConvertedFile", "SPLITS", "SPLIT_LABELS", "report_to_json", "report_from_json", "first_items",
    "image_folder", "folder_report", "IMAGE_EXTENSIONS", "DEFAULT_MAX_PIXELS", "FileItem",
    "scan_folder", "rel_path", "split_of", "IGNORED_NAMES", "SPLIT_ALIASES", "assign_splits",
    "plural", "CacheRef", "CacheUnavailable", "cache_dir", "cache_key", "load_cached",
    "decode_files", "decode_to_memory", "finalize", "image_cache_key", "clear_image_cache",
    "default_workers", "CACHE_VERSION", "POOL_FROM", "warn_damaged", "VERIFIED", "manifest_digest",
    "identity", "verify", "evict", "clear_folder", "UNSUPPORTED_EXTENSIONS", "DECODE_POLICY",
    "Skip", "read_image", "decode_into", "decode_array", "DecodeTask", "DecodeResult",
    "watch_parent", "resize_center_crop", "to_uint8", "LoadEstimate", "load_estimate",
    "announce_load", "PhotoCredits", "CreditText", "photo_credits", "credit_footer", "shown_path",
    "flowers", "beans", "PHOTOS_DIR", "PHOTO_SETS", "SURFACE_CLASSES", "surface_dataset",
    "surface_images", "make_surface",
]
