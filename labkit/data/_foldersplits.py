"""La división estratificada de :func:`labkit.image_folder` en entrenamiento, validación y prueba.

Por clase, se barajan las imágenes con la semilla y se reparten según las fracciones; siempre queda
al menos una para entrenamiento. Si la carpeta ya trae ``train/`` y ``val/`` se respetan, y lo que
falte se saca de ``train/``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ._folderreport import SPLIT_LABELS, SPLITS, FolderReport, first_items, printable
from ._folderscan import split_of

__all__ = ["assign_splits", "plural"]


def _split_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """Cuántas imágenes de una clase van a entrenamiento, validación y prueba.

    Siempre queda al menos una para entrenamiento; con 3 o más, al menos una para validación y
    otra para prueba (si su fracción no es cero).
    """
    if n < 3:
        n_val = 1 if n == 2 and val_fraction > 0 else 0
        n_test = 1 if n == 2 and not n_val and test_fraction > 0 else 0
        return n - n_val - n_test, n_val, n_test
    n_val = max(1, math.floor(n * val_fraction + 0.5)) if val_fraction > 0 else 0
    n_test = max(1, math.floor(n * test_fraction + 0.5)) if test_fraction > 0 else 0
    while n - n_val - n_test < 1:
        if n_val >= n_test:
            n_val -= 1
        else:
            n_test -= 1
    return n - n_val - n_test, n_val, n_test


def _stratify(labels: np.ndarray, classes: list[str], val_fraction: float, test_fraction: float,
              seed: int) -> tuple[dict[str, np.ndarray], list[str]]:
    """Divide índices por clase (barajados con la semilla); devuelve también avisos."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    notes = []
    for label, name in enumerate(classes):
        idx = np.flatnonzero(labels == label)
        idx = idx[rng.permutation(len(idx))]
        n_train, n_val, n_test = _split_sizes(len(idx), val_fraction, test_fraction)
        parts["train"].append(idx[:n_train])
        parts["val"].append(idx[n_train:n_train + n_val])
        parts["test"].append(idx[n_train + n_val:])
        if len(idx) < 3 and val_fraction + test_fraction > 0:
            notes.append(_tiny_class_note(name, n_train, n_val, n_test))
    if notes:
        notes.append(_TINY_ADVICE)
    return {s: np.sort(np.concatenate(p)).astype(np.int64) for s, p in parts.items()}, notes


_TINY_ADVICE = ("Con tan pocas imágenes no se puede validar ni medir bien: añade más "
                "(unas 10 por clase es un buen mínimo).")


def _tiny_class_note(name: str, n_train: int, n_val: int, n_test: int) -> str:
    """Explica qué pasó con una clase de menos de 3 imágenes."""
    total = n_train + n_val + n_test
    parts = [f"{n or 'ninguna'} para {label}" for n, label in
             ((n_train, "entrenamiento"), (n_val, "validación"), (n_test, "prueba"))]
    return (f"La clase '{name}' tiene solo {plural(total, 'imagen', 'imágenes')}: "
            f"{parts[0]}, {parts[1]} y {parts[2]}.")


def plural(n: int, singular: str, plural: str) -> str:
    """``1 imagen``, ``2 imágenes``."""
    return f"{n} {singular if n == 1 else plural}"


def assign_splits(labels: np.ndarray, origins: list[str], classes: list[str], layout: str,
                  val_fraction: float, test_fraction: float, seed: int
                  ) -> tuple[dict[str, np.ndarray], list[str], str]:
    """Índices de cada partición: de las carpetas ``train/val/test`` o por división estratificada.

    Args:
        labels: etiqueta de cada imagen usable.
        origins: partición de la que viene cada una (``"all"`` si la carpeta no las trae).
        classes: nombres de las clases.
        layout: cómo se formaron las particiones, en palabras (se completa si hace falta).
        val_fraction: fracción de validación (si no hay carpeta ``val/``).
        test_fraction: fracción de prueba (si no hay carpeta ``test/``).
        seed: semilla de la división.

    Returns:
        ``(índices ordenados por partición, notas sobre clases diminutas, layout)``.
    """
    origin = np.array(origins)
    if "train" not in set(origins):
        indices, notes = _stratify(labels, classes, val_fraction, test_fraction, seed)
        return indices, notes, layout
    indices = {s: np.flatnonzero(origin == s) for s in SPLITS}
    missing = [s for s in ("val", "test") if not np.any(origin == s)]
    if not missing:
        return indices, [], layout
    fractions = {s: (val_fraction if s == "val" else test_fraction) if s in missing else 0.0
                 for s in ("val", "test")}
    train = indices["train"]
    carved, notes = _stratify(labels[train], classes, fractions["val"], fractions["test"],
                              seed)
    indices = {s: (train[carved[s]] if s == "train" or s in missing else indices[s])
               for s in SPLITS}
    names = " y ".join(SPLIT_LABELS[s] for s in missing)
    return indices, notes, f"{layout}; {names} sacada de train/ (estratificada, semilla {seed})"


def _warn_user(report: FolderReport, n_files: int) -> None:
    """Un solo aviso con los archivos omitidos, y otro si hay clases diminutas."""
    if report.skipped:
        items = [f"{s.path} ({s.reason})" for s in report.skipped]
        warnings.warn(
            f"{'Se omitió' if len(items) == 1 else 'Se omitieron'} {len(items)} de "
            f"{plural(n_files, 'archivo', 'archivos')} de '{report.root}': "
            f"{first_items(items)}. La lista completa está en folder_report(splits).",
            UserWarning, stacklevel=3)
    split_like = [n for n in report.notes if n.startswith(_SPLIT_NOTE_START)]
    tiny = [n for n in report.notes if n not in split_like]
    if tiny:
        warnings.warn("Clases con muy pocas imágenes. " + " ".join(tiny), UserWarning,
                      stacklevel=3)
    for note in split_like:
        warnings.warn(note, UserWarning, stacklevel=3)


_SPLIT_NOTE_START = "Las carpetas de clase"


def _split_name_note(classes: list[str], layout_has_splits: bool) -> str | None:
    """Una nota si alguna clase se llama como una partición (``train``, ``test_set``…)."""
    named = [c for c in classes if split_of(c) is not None]
    if not named or layout_has_splits:
        return None
    listed = ", ".join(f"'{printable(c)}'" for c in named)
    return (f"{_SPLIT_NOTE_START} {listed} se llaman como particiones (entrenamiento, validación "
            "o prueba), pero las trato como clases. Si son particiones, pon dentro de cada una "
            "las mismas subcarpetas de clase (carpeta/train/gato/…, carpeta/test/gato/…) y que "
            "haya una de entrenamiento (train/, training_set/…); si de verdad son clases, "
            "cámbiales el nombre.")
