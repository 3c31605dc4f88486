"""El informe de :func:`labkit.image_folder`: qué se encontró en la carpeta y qué se hizo.

Se guarda también en el manifiesto de la caché de imágenes (:func:`report_to_json`), así una
carga desde la caché muestra el mismo informe y los mismos avisos que la primera.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["printable", "FolderReport", "SkippedFile", "ConvertedFile", "SPLITS", "SPLIT_LABELS",
           "report_to_json", "report_from_json", "first_items"]

SPLITS = ("train", "val", "test")
SPLIT_LABELS = {"train": "entrenamiento", "val": "validación", "test": "prueba"}
_MAX_LISTED = 10

@dataclass(frozen=True)
class SkippedFile:
    """Un archivo que no se usó y por qué (la ruta es relativa a la carpeta)."""

    path: str
    reason: str


@dataclass(frozen=True)
class ConvertedFile:
    """Una imagen que no era RGB y se convirtió (``mode`` es el modo original de PIL)."""

    path: str
    mode: str


@dataclass
class FolderReport:
    """Lo que :func:`image_folder` encontró en la carpeta y qué hizo con cada cosa.

    Attributes:
        root: la carpeta leída.
        classes: nombres de las clases (las subcarpetas), en orden alfabético.
        counts: imágenes por partición y clase: ``counts["train"]["gato"]``.
        image_size: lado, en píxeles, de las imágenes guardadas.
        widths: ancho mínimo, mediano y máximo de las imágenes originales.
        heights: alto mínimo, mediano y máximo de las imágenes originales.
        skipped: archivos omitidos, con el motivo.
        converted: imágenes convertidas a RGB, con su modo original.
        layout: cómo se formaron las particiones, en palabras.
        notes: avisos sobre clases pequeñas u otras decisiones tomadas.
    """

    root: str
    classes: list[str]
    counts: dict[str, dict[str, int]]
    image_size: int
    widths: tuple[int, int, int]
    heights: tuple[int, int, int]
    skipped: list[SkippedFile] = field(default_factory=list)
    converted: list[ConvertedFile] = field(default_factory=list)
    layout: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Número de imágenes usadas, sumando las tres particiones."""
        return sum(sum(per_class.values()) for per_class in self.counts.values())

    def __str__(self) -> str:
        width = max([len(c) for c in self.classes] + [6])
        head = "".join(f"{SPLIT_LABELS[s]:>15}" for s in SPLITS)
        lines = [f"Carpeta: {self.root}", f"Particiones: {self.layout}",
                 f"Clases ({len(self.classes)}): {', '.join(self.classes)}",
                 f"{'clase':<{width}}{head}{'total':>8}"]
        for name in [*self.classes, "total"]:
            row = [self._count(s, name) for s in SPLITS]
            lines.append(f"{name:<{width}}" + "".join(f"{n:>15}" for n in row) + f"{sum(row):>8}")
        lines += self._summary_lines()
        return "\n".join(lines)

    def _count(self, split: str, name: str) -> int:
        per_class = self.counts.get(split, {})
        return sum(per_class.values()) if name == "total" else per_class.get(name, 0)

    def _summary_lines(self) -> list[str]:
        lines = [
            f"Originales: ancho {_range_text(self.widths)} px; alto {_range_text(self.heights)} px.",
            f"Guardadas a {self.image_size}×{self.image_size} px (lado corto a {self.image_size} "
            "y recorte central).",
        ]
        if self.converted:
            items = [f"{c.path} ({c.mode})" for c in self.converted]
            lines.append(f"Convertidas a RGB ({len(items)}): {first_items(items)}")
        if self.skipped:
            items = [f"{s.path} ({s.reason})" for s in self.skipped]
            lines.append(f"Omitidos ({len(items)}): {first_items(items)}")
        lines += [f"Nota: {note}" for note in self.notes]
        return lines

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        cells = "".join(f"<th>{SPLIT_LABELS[s]}</th>" for s in SPLITS)
        rows = [f"<tr><th>clase</th>{cells}<th>total</th></tr>"]
        for name in [*self.classes, "total"]:
            row = [self._count(s, name) for s in SPLITS]
            tds = "".join(f"<td>{n}</td>" for n in [*row, sum(row)])
            rows.append(f"<tr><td>{html.escape(name)}</td>{tds}</tr>")
        summary = "".join(f"<li>{html.escape(line)}</li>" for line in self._summary_lines())
        return (f"<div><p><b>{html.escape(self.root)}</b> — {html.escape(self.layout)}</p>"
                f"<table>{''.join(rows)}</table><ul>{summary}</ul></div>")


_SURROGATE = re.compile("[\udc80-\udcff]")


def printable(text: str) -> str:
    """Un nombre de archivo que se puede imprimir: los bytes que no eran UTF-8 (nombres de zips
    viejos de Windows, en Latin-1/CP1252), que Python guarda como sustitutos ``\\udcXX``, se
    leen como CP1252 (``caf\\udce9`` → ``café``). Sin esto, ``print`` da ``UnicodeEncodeError``.

    Args:
        text: un nombre o una ruta tal como la da ``os.listdir``.

    Returns:
        El mismo texto si ya era imprimible; si no, con cada byte suelto descodificado.
    """
    def decode(match: re.Match) -> str:
        byte = bytes([ord(match.group()) - 0xDC00])
        try:
            return byte.decode("cp1252")
        except UnicodeDecodeError:
            return byte.decode("latin-1")
    return _SURROGATE.sub(decode, text)


def _range_text(stats: tuple[int, int, int]) -> str:
    lo, mid, hi = stats
    return f"{lo}–{hi} (mediana {mid})"


def first_items(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    rest = len(items) - _MAX_LISTED
    return shown + (f" y {rest} más" if rest > 0 else "")


def report_to_json(report: FolderReport) -> dict:
    """El informe como diccionario serializable en JSON (sin la carpeta, que puede moverse)."""
    data = asdict(report)
    data.pop("root")
    return data


def report_from_json(data: dict, root: str) -> FolderReport:
    """Reconstruye un informe guardado con :func:`report_to_json`.

    Args:
        data: el diccionario guardado.
        root: la carpeta leída ahora.

    Returns:
        El :class:`FolderReport`.
    """
    return FolderReport(
        root=root, classes=list(data["classes"]), counts=data["counts"],
        image_size=int(data["image_size"]), widths=tuple(data["widths"]),
        heights=tuple(data["heights"]), skipped=[SkippedFile(**s) for s in data["skipped"]],
        converted=[ConvertedFile(**c) for c in data["converted"]], layout=data["layout"],
        notes=list(data["notes"]))


def _manifest_problem(manifest: dict, rows: int, n_classes: int, root: Path) -> str | None:
    """Qué tiene de malo un manifiesto (particiones, etiquetas, informe), o ``None`` si vale.

    El resumen SHA-256 ya descarta cambios; esto impide, además, que un manifiesto con otra forma
    (de otra versión, o fabricado) dé un error crudo o etiquetas fuera de rango.
    """
    try:
        bounds = [manifest["ranges"][s] for s in SPLITS]
        flat = [v for pair in bounds for v in pair]
        if (any(len(pair) != 2 for pair in bounds) or not all(_is_int(v) for v in flat)
                or flat[0] != 0 or flat[-1] != rows
                or any(a > b for a, b in zip(flat, flat[1:], strict=False))):
            return "las particiones del manifiesto no cubren la caché en orden"
        labels = manifest["labels"]
        if (not isinstance(labels, list) or len(labels) != rows
                or not all(_is_int(v) and 0 <= v < n_classes for v in labels)):
            return "las etiquetas del manifiesto no son válidas"
        report_from_json(manifest["report"], str(root))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return "el manifiesto no tiene el formato esperado"
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _stats(values: list[int]) -> tuple[int, int, int]:
    """Mínimo, mediana y máximo (enteros)."""
    return int(np.min(values)), int(np.median(values)), int(np.max(values))


