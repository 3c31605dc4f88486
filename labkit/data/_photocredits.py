"""Créditos de las fotos que se muestran: CC BY 2.0 pide nombrar al autor donde se usa su foto.

:func:`labkit.flowers` guarda en ``info["fotos"]`` un :class:`PhotoCredits` con el autor y el
enlace de cada foto. :func:`photo_credits` encuentra, para las imágenes que se muestran (de
cualquier partición o subconjunto, p. ej. ``datos.train.take(8)``), la foto original de cada una
por su contenido y escribe su crédito, para ponerlo bajo la figura.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..base._errors import LabkitError

__all__ = ["PhotoCredits", "CreditText", "photo_credits", "credit_footer", "shown_path"]


def shown_path(path: Path) -> str:
    """La ruta para mostrarla: ``labkit/fotos/…`` si está dentro del paquete (igual en cualquier
    máquina y en las salidas guardadas de los cuadernos); si no, tal cual."""
    package = Path(__file__).resolve().parents[1]
    try:
        return str(Path("labkit") / Path(path).resolve().relative_to(package))
    except ValueError:
        return str(path)

_CC_BY = "CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/)"


class CreditText(str):
    """Un texto de créditos que un cuaderno muestra tal cual (sin comillas ni ``\\n``)."""

    def __repr__(self) -> str:
        return str(self)


@dataclass(eq=False)
class PhotoCredits:
    """Autor y enlace de cada foto de un conjunto, y cómo reconocerla por su contenido.

    Attributes:
        folder: carpeta de las fotos (con ``ATTRIBUTION.txt`` o ``LICENSE``).
        files: archivo de cada foto, en el orden de ``images``.
        authors: autor de cada foto (vacío si el conjunto no los nombra).
        urls: enlace de cada foto (vacío si no los hay).
        licence: licencia y fuente, en una línea.
        images: las imágenes decodificadas, ``uint8 [N, 3, S, S]``, en el orden de ``files``.
    """

    folder: Path
    files: tuple[str, ...]
    authors: tuple[str, ...]
    urls: tuple[str, ...]
    licence: str
    images: torch.Tensor = field(repr=False)
    _index: dict[str, int] | None = field(default=None, repr=False)

    @classmethod
    def from_rows(cls, folder: Path, rows: Sequence[dict], images: torch.Tensor,
                  info: dict) -> PhotoCredits:
        """Los créditos de las filas del manifiesto (en el orden de ``images``)."""
        return cls(folder, tuple(r["file"] for r in rows),
                   tuple((r.get("author") or "").strip() for r in rows),
                   tuple((r.get("url") or "").strip() for r in rows),
                   f"{info['licencia']}. Fuente: {info['fuente']}", images)

    @property
    def per_photo(self) -> bool:
        """``True`` si cada foto lleva su autor (CC BY); ``False`` si basta la licencia (MIT)."""
        return any(self.authors)

    def find(self, image: torch.Tensor) -> int | None:
        """La fila de la foto original cuyo contenido es ``image``; ``None`` si no está."""
        if self._index is None:
            self._index = {}
            for i in range(len(self.images)):
                self._index.setdefault(_digest(self.images[i]), i)
        return self._index.get(_digest(image))


def _digest(image: torch.Tensor) -> str:
    """Resumen del contenido de una imagen ``uint8 [3, S, S]`` (forma incluida)."""
    t = image.detach().cpu().contiguous()
    return hashlib.sha1(str(tuple(t.shape)).encode() + t.numpy().tobytes()).hexdigest()


def _credits_of(data: object) -> PhotoCredits:
    """Los :class:`PhotoCredits` de un ``ImageSet`` de fotos, o un error que explica qué pasar."""
    info = getattr(data, "info", None)
    credits = info.get("fotos") if isinstance(info, dict) else None
    if not isinstance(credits, PhotoCredits) or not isinstance(getattr(data, "images", None),
                                                               torch.Tensor):
        hint = (" Pasa una partición (p. ej. datos.train), no las tres juntas."
                if hasattr(data, "train") else "")
        raise LabkitError("photo_credits necesita imágenes de labkit.flowers() o labkit.beans() "
                          f"(una partición o un subconjunto suyo).{hint}")
    return credits


def photo_credits(data: object, indices: Sequence[int] | None = None) -> CreditText:
    """El crédito de las fotos que se muestran, para escribirlo bajo la figura.

    Las flores son CC BY 2.0: donde se muestra una foto hay que nombrar a su autor y enlazarla.
    Cada imagen se reconoce por su contenido, así sirve para cualquier partición o subconjunto
    (``datos.train.take(8)``) mientras las imágenes no se modifiquen ni se reescalen.

    Args:
        data: un ``ImageSet`` de :func:`labkit.flowers` o :func:`labkit.beans`.
        indices: las posiciones (en ``data``) de las fotos mostradas; ``None`` = todas.

    Returns:
        El texto (una línea por foto con su autor y enlace, o solo la licencia si el conjunto no
        pide crédito por foto); ``print`` lo escribe y como valor de una celda se ve tal cual.
    """
    credits = _credits_of(data)
    n = len(data.images)
    if indices is None:
        chosen = list(range(n))
    else:
        try:
            chosen = [int(i) for i in indices]
        except (TypeError, ValueError):
            raise LabkitError("indices debe ser una lista de posiciones enteras (p. ej. [0, 5, "
                              f"7]); llegó {indices!r}.") from None
        bad = [i for i in chosen if not -n <= i < n]
        if bad:
            raise LabkitError(f"Las posiciones {bad[:5]} no existen: el conjunto tiene {n} "
                              f"imágenes (de 0 a {n - 1}).")
    if not credits.per_photo:
        return CreditText(f"Fotos: {credits.licence}")
    lines = [f"Fotos de Flickr, {_CC_BY}, reescaladas y recortadas para el curso; todos los "
             f"créditos en {shown_path(credits.folder / 'ATTRIBUTION.txt')}:"]
    for k, i in enumerate(chosen, start=1):
        row = credits.find(data.images[i])
        if row is None:
            lines.append(f"  {k}. (imagen {i}: no coincide con ninguna foto original; ¿está "
                         "modificada o reescalada?)")
        else:
            lines.append(f"  {k}. {credits.authors[row] or 'autor desconocido'}, "
                         f"{credits.urls[row]}")
    return CreditText("\n".join(lines))


def credit_footer(data: object) -> str | None:
    """Una línea corta para el pie de una figura de fotos; ``None`` si no son de estos conjuntos.

    Args:
        data: un ``ImageSet`` cualquiera.

    Returns:
        El pie, o ``None``.
    """
    info = getattr(data, "info", None)
    credits = info.get("fotos") if isinstance(info, dict) else None
    if not isinstance(credits, PhotoCredits):
        return None
    if credits.per_photo:
        return (f"Fotos de Flickr, CC BY 2.0; autor y enlace de cada una\nen "
                f"labkit/fotos/{credits.folder.name}/ATTRIBUTION.txt")
    return f"Fotos: {credits.licence.split('.')[0]}"
