"""La interfaz (ipywidgets): panel de capas, progreso del entrenamiento, el Playground, los
exploradores y la subida de fotos.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._explorers import SampleSizeExplorer, SampleSizeResult
from ._playground import MODE_EXTRACTION, MODE_FINE_TUNE, Playground, PlaygroundResult
from ._playtrain import train_once
from ._upload import (
    MAX_BYTES,
    MAX_PIXELS,
    PhotoPrediction,
    classify_file,
    classify_photo,
    photo_uploader,
    read_photo,
    uploaded_files,
)
from ._widgets import LayerPanel, LRRatioExplorer, TrainingProgress, show_outputs

__all__ = [
    "SampleSizeExplorer", "SampleSizeResult", "Playground", "PlaygroundResult", "MODE_EXTRACTION",
    "MODE_FINE_TUNE", "train_once", "MAX_BYTES", "MAX_PIXELS", "PhotoPrediction", "uploaded_files",
    "read_photo", "classify_photo", "classify_file", "photo_uploader", "LayerPanel",
    "LRRatioExplorer", "TrainingProgress", "show_outputs",
]
