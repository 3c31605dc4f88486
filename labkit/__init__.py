"""labkit: el paquete del Laboratorio de Transfer Learning."""

from .config import data_dir, default_device, seed_everything
from .data import DataSplits, ImageSet, normalize
from .errors import LabkitError, WeightsUnavailableError

__version__ = "0.1.0"
