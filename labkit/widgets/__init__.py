"""La interfaz (ipywidgets): panel de capas, progreso del entrenamiento, el Playground, los
exploradores y la subida de fotos.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._explorers import SampleSizeExplorer, SampleSizeResult
from ._playground import Playground
from ._playresult import PlaygroundResult
from ._upload import PhotoPrediction, classify_file, classify_photo, photo_uploader
from ._widgets import LayerPanel, LRRatioExplorer, TrainingProgress, show_outputs

__all__ = [
    "SampleSizeExplorer", "SampleSizeResult", "Playground", "PlaygroundResult", "PhotoPrediction",
    "classify_photo", "classify_file", "photo_uploader", "LayerPanel", "LRRatioExplorer",
    "TrainingProgress", "show_outputs",
]
