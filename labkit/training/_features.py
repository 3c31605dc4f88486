"""Extracción de características: calcular una vez la salida de las capas congeladas.

Si los primeros ``k`` grupos están congelados y no hay aumento de datos aleatorio, su salida para
cada imagen no cambia de una época a otra: se calcula una sola vez (el *prefijo* de
:func:`labkit.split_at`) y se entrena solo la *cola*. ``labkit.fit`` lo hace solo
(``cache="auto"``); este módulo ofrece además las piezas para los barridos:

* :func:`extract_features` — la salida del prefijo para un conjunto de imágenes.
* :class:`FeatureSet` — características con sus etiquetas, que se recortan igual que un
  :class:`~labkit.data.ImageSet` (``take``, ``subset``) y se pasan a ``fit`` en su lugar::

      cabeza = len(labkit.layer_groups(modelo)) - 1
      labkit.freeze_to(modelo, cabeza)
      tr = FeatureSet.extract(modelo, datos.train)          # una vez, el conjunto completo
      va = FeatureSet.extract(modelo, datos.val)
      for n in (10, 50, 100):
          for semilla in (0, 1, 2):
              labkit.seed_everything(semilla)                 # la cabeza nueva, repetible
              labkit.replace_head(modelo, 4)                  # cabeza nueva, mismo tronco
              h = labkit.fit(modelo, tr.take(n, semilla), va, seed=semilla)

  ``fit`` comprueba que el prefijo del modelo siga teniendo los pesos con que se calcularon
  (:func:`prefix_fingerprint`, por contenido: vale también un modelo recién creado con los
  mismos pesos preentrenados) y que esté congelado.

* :class:`FeatureCache` — memoria de características entre llamadas a ``fit`` con el mismo
  modelo y las mismas imágenes (``fit(..., cache=mi_cache)``). Con ``FeatureCache(disk=True)``
  (o ``FeatureSet.extract(..., disk=True)``) se guardan además en disco las de las particiones de
  :func:`labkit.image_folder`: un barrido o un kernel reiniciado no vuelve a extraerlas.

Las características se calculan en modo evaluación y bajo ``torch.no_grad()`` (no
``torch.inference_mode()``: sus tensores no se podrían usar luego para entrenar).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..base._errors import LabkitError
from ..base._validate import check_bool
from ..data._data import ImageSet, stratified_indices
from ..data._imagecache import image_cache_key
from ..models._freezing import frozen_depth
from ._extraction import (
    _as_inputs,
    _resolve_device,
    extract_features,
    prefix_fingerprint,
)
from ._featurestore import feature_path, load_features, save_features

__all__ = ["FeatureSet", "FeatureCache", "MAX_AUTO_CACHE_BYTES"]

MAX_AUTO_CACHE_BYTES = 1 << 30
"""Con ``cache="auto"``, ``fit`` no guarda características que ocupen más que esto (1 GiB)."""


@dataclass
class FeatureSet:
    """Características ya calculadas (la salida del prefijo) con sus etiquetas.

    Se usa como un ``ImageSet`` en ``labkit.fit``, ``labkit.evaluate`` y ``labkit.predict``: el
    modelo corre solo su cola, ``split_at(modelo, depth)[1]``. ``take`` elige exactamente las
    mismas imágenes que ``ImageSet.take`` con la misma semilla.

    Attributes:
        features: tensor ``float32`` ``[N, ...]``.
        labels: etiquetas ``int64 [N]``.
        classes: nombres de las clases.
        depth: grupos del prefijo con que se calcularon.
        fingerprint: huella de los pesos del prefijo (:func:`prefix_fingerprint`); ``fit``
            comprueba que el modelo siga teniendo esos pesos.
        name: nombre legible.
    """

    features: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    depth: int
    fingerprint: tuple
    name: str = ""

    def __post_init__(self) -> None:
        if len(self.features) != len(self.labels):
            raise LabkitError(f"Hay {len(self.features)} características pero "
                              f"{len(self.labels)} etiquetas.")
        self.labels = self.labels.long()

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return (f"FeatureSet({self.name!r}, {len(self)} ejemplos, forma "
                f"{tuple(self.features.shape[1:])}, profundidad {self.depth})")

    @property
    def num_classes(self) -> int:
        """Número de clases."""
        return len(self.classes)

    def class_counts(self) -> dict[str, int]:
        """Cuántos ejemplos hay de cada clase."""
        counts = torch.bincount(self.labels.cpu(), minlength=self.num_classes).tolist()
        return dict(zip(self.classes, counts, strict=True))

    def subset(self, indices: torch.Tensor | list[int]) -> FeatureSet:
        """El subconjunto con esos índices."""
        idx = torch.as_tensor(indices, dtype=torch.long)
        return FeatureSet(self.features[idx.to(self.features.device)], self.labels[idx],
                          list(self.classes), self.depth, self.fingerprint, self.name)

    def take(self, n: int, seed: int = 0) -> FeatureSet:
        """``n`` ejemplos estratificados: los mismos que ``ImageSet.take(n, seed)``."""
        return self.subset(stratified_indices(
            self.labels.cpu(), self.num_classes, n, seed, "ejemplos",
            "extrae características de un conjunto más grande", "uno"))

    @classmethod
    def extract(cls, model: nn.Module, data: ImageSet, depth: int | None = None,
                batch_size: int | None = None, device: torch.device | str | None = None,
                cache: FeatureCache | None = None, disk: bool = False) -> FeatureSet:
        """Calcula las características de un ``ImageSet`` con el prefijo del modelo.

        Args:
            model: un modelo del catálogo.
            data: las imágenes con sus etiquetas.
            depth: grupos del prefijo; ``None`` = los congelados (``frozen_depth(model)``).
            batch_size: imágenes por lote (``None`` = automático).
            device: dispositivo del cálculo; ``None`` = el del modelo.
            cache: una :class:`FeatureCache` donde buscarlas o guardarlas.
            disk: sin ``cache``, guarda y busca las características en disco (solo para
                particiones de :func:`labkit.image_folder`; ver :class:`FeatureCache`).

        Returns:
            Un :class:`FeatureSet` listo para ``labkit.fit``.
        """
        if depth is None:
            depth = frozen_depth(model)
        if check_bool("disk", disk) and cache is None:
            cache = FeatureCache(disk=True)
        if cache is not None:
            feats = cache.get(model, data, depth, batch_size, device)
        else:
            feats = extract_features(model, data, depth, batch_size, device)
        return cls(feats, data.labels.clone(), list(data.classes), depth,
                   prefix_fingerprint(model, depth), data.name)


class FeatureCache:
    """Memoria de características para no recalcularlas entre llamadas a ``fit``.

    La clave es (huella del contenido de los pesos del prefijo, ``depth``, identidad del tensor
    de imágenes y su versión, dispositivo). Si cambian los pesos del prefijo, cambia la huella y
    se recalcula. Guarda una referencia a las imágenes para que su identidad no se reutilice.
    Cuando se pasa de ``max_bytes`` se descartan las entradas más antiguas.

    Con ``disk=True``, las características de una partición intacta de :func:`labkit.image_folder`
    se guardan también en ``labkit.data_dir() / "cache_caracteristicas"`` (escritura atómica), con
    la huella del prefijo y la clave de la caché de imágenes como clave: otro kernel, u otra
    caché, las lee en vez de extraerlas. Las de otros conjuntos se quedan solo en memoria.

    Args:
        max_bytes: memoria máxima para las características guardadas.
        disk: guardar y buscar también en disco.

    Attributes:
        hits: veces que estaban en memoria.
        disk_hits: veces que se leyeron del disco.
        misses: veces que hubo que extraerlas.
    """

    def __init__(self, max_bytes: int = MAX_AUTO_CACHE_BYTES, disk: bool = False) -> None:
        self.max_bytes = int(max_bytes)
        self.disk = check_bool("disk", disk)
        self.hits = 0
        self.disk_hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        disk = f", en disco={self.disk_hits}" if self.disk else ""
        return (f"FeatureCache({len(self)} entradas, {self.nbytes / 2**20:.1f} MiB, "
                f"aciertos={self.hits}{disk}, fallos={self.misses})")

    @property
    def nbytes(self) -> int:
        """Bytes que ocupan las características guardadas."""
        return sum(f.numel() * f.element_size() for _, f in self._entries.values())

    def clear(self) -> None:
        """Vacía la caché."""
        self._entries.clear()

    def key(self, model: nn.Module, data: ImageSet | torch.Tensor, depth: int,
            device: torch.device | str | None = None) -> tuple:
        """La clave de unas características (ver la descripción de la clase)."""
        x = _as_inputs(data)
        dev = _resolve_device(model, device)
        return (prefix_fingerprint(model, depth), id(x), x._version, tuple(x.shape), str(dev))

    def get(self, model: nn.Module, data: ImageSet | torch.Tensor, depth: int,
            batch_size: int | None = None, device: torch.device | str | None = None) -> torch.Tensor:
        """Las características de ``data``: de la memoria si ya estaban, si no las calcula.

        Args:
            model: un modelo del catálogo.
            data: un ``ImageSet`` o un tensor de imágenes.
            depth: grupos del prefijo.
            batch_size: imágenes por lote al calcular (``None`` = automático).
            device: dispositivo; ``None`` = el del modelo.

        Returns:
            El tensor de características (no lo modifiques en su sitio: se comparte).
        """
        key = self.key(model, data, depth, device)
        if key in self._entries:
            self.hits += 1
            self._entries.move_to_end(key)
            return self._entries[key][1]
        feats = self._from_disk(model, data, depth, device)
        if feats is None:
            self.misses += 1
            feats = extract_features(model, data, depth, batch_size, device)
            self._to_disk(model, data, depth, device, feats)
        self._store(key, _as_inputs(data), feats)
        return feats

    def _disk_path(self, model: nn.Module, data: ImageSet | torch.Tensor, depth: int,
                   device: torch.device | str | None) -> Path | None:
        """Ruta en disco de estas características, o ``None`` si no se guardan en disco."""
        image_key = image_cache_key(data) if self.disk else None
        if image_key is None:
            return None
        dev = _resolve_device(model, device)
        return feature_path(prefix_fingerprint(model, depth), depth, image_key, dev)

    def _from_disk(self, model: nn.Module, data: ImageSet | torch.Tensor, depth: int,
                   device: torch.device | str | None) -> torch.Tensor | None:
        """Las características guardadas en disco, ya en el dispositivo; ``None`` si no hay."""
        path = self._disk_path(model, data, depth, device)
        feats = None if path is None else load_features(path, len(_as_inputs(data)))
        if feats is None:
            return None
        self.disk_hits += 1
        return feats.to(_resolve_device(model, device))

    def _to_disk(self, model: nn.Module, data: ImageSet | torch.Tensor, depth: int,
                 device: torch.device | str | None, feats: torch.Tensor) -> None:
        """Guarda en disco (si procede) unas características recién extraídas."""
        path = self._disk_path(model, data, depth, device)
        if path is not None:
            save_features(path, feats)

    def _store(self, key: tuple, images: torch.Tensor, feats: torch.Tensor) -> None:
        """Guarda una entrada y descarta las más antiguas si se pasa de ``max_bytes``."""
        size = feats.numel() * feats.element_size()
        if size > self.max_bytes:
            return
        self._entries[key] = (images, feats)
        while self.nbytes > self.max_bytes:
            self._entries.popitem(last=False)
