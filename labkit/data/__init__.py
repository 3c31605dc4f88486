"""Los datos: ``ImageSet``/``DataSplits``, los conjuntos del curso (MedMNIST, ELPV, fotos,
superficies), tus carpetas, la caché de imágenes, el aumento y el catálogo.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._augment import AUGMENT_PRESETS, Augment, apply_augment, resolve_augment
from ._catalog import DatasetEntry, catalog_table_html, download_dataset, list_datasets
from ._data import DataSplits, ImageSet, check_splits, normalize, resize_images, stratified_indices
from ._datasets import (
    ELPV_TASKS,
    MEDMNIST_DIR,
    RealDataSplits,
    breast_mnist,
    dataset_report,
    elpv,
    pneumonia_mnist,
)
from ._folderreport import FolderReport
from ._folders import folder_report, image_folder
from ._imagecache import clear_image_cache, default_workers, image_cache_key
from ._imagedecode import (
    DECODE_POLICY,
    IMAGE_EXTENSIONS,
    UNSUPPORTED_EXTENSIONS,
    exif_upright,
    resize_center_crop,
    to_rgb,
    to_uint8,
)
from ._photocredits import credit_footer, photo_credits
from ._photos import beans, flowers
from ._surfaces import SURFACE_CLASSES, surface_dataset

__all__ = [
    "Augment", "AUGMENT_PRESETS", "resolve_augment", "apply_augment", "DatasetEntry",
    "download_dataset", "list_datasets", "catalog_table_html", "ImageSet", "DataSplits",
    "check_splits", "stratified_indices", "normalize", "resize_images", "RealDataSplits",
    "pneumonia_mnist", "breast_mnist", "elpv", "dataset_report", "ELPV_TASKS", "MEDMNIST_DIR",
    "FolderReport", "image_folder", "folder_report", "IMAGE_EXTENSIONS", "image_cache_key",
    "clear_image_cache", "default_workers", "UNSUPPORTED_EXTENSIONS", "DECODE_POLICY",
    "resize_center_crop", "to_uint8", "exif_upright", "to_rgb", "photo_credits", "credit_footer",
    "flowers", "beans", "SURFACE_CLASSES", "surface_dataset",
]
