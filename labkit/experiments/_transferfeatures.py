"""Las características de un modelo preentrenado para los barridos, calculadas una vez.

:func:`transfer_features` crea el modelo, lo congela y calcula las características de train, val
y test; :meth:`TransferFeatures.at_depth` las lleva más adentro sin volver a leer las imágenes.
Se usan desde :mod:`labkit.experiments` y :mod:`labkit.experiments`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from torch import nn

from ..base._errors import LabkitError
from ..data._data import DataSplits, check_splits
from ..models._freezing import eval_mode, freeze_to
from ..models._groups import layer_groups, split_at
from ..models._models import create_model
from ..training._extraction import prefix_fingerprint
from ..training._features import FeatureSet

__all__ = ["TransferFeatures", "transfer_features"]


@dataclass
class TransferFeatures:
    """Las características de train/val/test de un modelo preentrenado, calculadas una vez.

    Attributes:
        model: el modelo (congelado hasta ``depth``); su prefijo no debe cambiar.
        train, val, test: las características de cada partición.
        seconds: segundos que costó calcularlas.
    """

    model: nn.Module
    train: FeatureSet
    val: FeatureSet
    test: FeatureSet
    seconds: float = 0.0
    _deeper: dict = field(default_factory=dict, repr=False)

    @property
    def depth(self) -> int:
        """Grupos del prefijo con que se calcularon."""
        return self.train.depth

    def at_depth(self, depth: int) -> TransferFeatures:
        """Las mismas características llevadas más adentro (hasta ``depth`` grupos).

        Pasa las ya calculadas por los grupos que faltan, sin volver a leer las imágenes, y
        las recuerda para la próxima vez.

        Args:
            depth: grupos del nuevo prefijo (igual o mayor que :attr:`depth`).

        Returns:
            Un :class:`TransferFeatures` con prefijo de ``depth`` grupos.
        """
        if depth == self.depth:
            return self
        if depth < self.depth:
            raise LabkitError(f"Estas características salen de {self.depth} grupos: no se puede "
                              f"volver a {depth}. Calcúlalas de nuevo con depth={depth}.")
        if depth not in self._deeper:
            start = time.perf_counter()
            sets = [_deepen(self.model, fs, depth) for fs in (self.train, self.val, self.test)]
            self._deeper[depth] = TransferFeatures(self.model, *sets,
                                                   self.seconds + time.perf_counter() - start)
        return self._deeper[depth]


def _deepen(model: nn.Module, fs: FeatureSet, depth: int) -> FeatureSet:
    """Pasa las características de ``fs`` por los grupos ``[fs.depth, depth)``."""
    shallow = len(split_at(model, fs.depth)[0])
    middle = nn.Sequential(*list(split_at(model, depth)[0])[shallow:])
    with eval_mode(model), torch.no_grad():
        feats = torch.cat([middle(chunk) for chunk in fs.features.split(256)])
    return FeatureSet(feats, fs.labels.clone(), list(fs.classes), depth,
                      prefix_fingerprint(model, depth), fs.name)


def _head_depth(model: nn.Module) -> int:
    return len(layer_groups(model)) - 1


def transfer_features(data: DataSplits, model_name: str = "efficientnet_lite0",
                      depth: int | None = None, pretrained: bool = True,
                      device: torch.device | str | None = None) -> TransferFeatures:
    """Crea el modelo preentrenado y calcula una vez las características de las tres particiones.

    Args:
        data: particiones con ``train``, ``val`` y ``test``.
        model_name: modelo del catálogo.
        depth: grupos congelados cuya salida se guarda; ``None`` = todos menos la cabeza.
        pretrained: pesos de ImageNet (``False`` solo para pruebas rápidas).
        device: dispositivo; ``None`` = :func:`labkit.default_device`.

    Returns:
        Un :class:`TransferFeatures`.
    """
    check_splits(data, "Cada barrido", "labkit.surface_dataset()")
    start = time.perf_counter()
    model = create_model(model_name, num_classes=data.train.num_classes, pretrained=pretrained)
    depth = _head_depth(model) if depth is None else depth
    freeze_to(model, depth)
    if device is not None:
        model.to(device)
    sets = [FeatureSet.extract(model, s, depth) for s in (data.train, data.val, data.test)]
    return TransferFeatures(model, *sets, time.perf_counter() - start)
