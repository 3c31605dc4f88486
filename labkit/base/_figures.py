"""La base de todas las figuras: :class:`LabFigure`, la paleta, las etiquetas de los ejes.

Cada figura del curso sale de :func:`new_figure` (sin tocar el estado global de ``pyplot``), con
los colores de Okabe e Ito (distinguibles con daltonismo) y los textos en español.
"""

from __future__ import annotations

import io
import math

from matplotlib.figure import Figure

__all__ = ["PALETTE", "DPI", "LabFigure", "new_figure", "text_figure", "axis_label", "format_lr"]


#: Paleta de Okabe e Ito: distinguible con los tipos comunes de daltonismo.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
           "#F0E442")


#: Resolución de las figuras (puntos por pulgada): baja, para cuadernos ligeros.
DPI = 90


_LABELS = {
    "n_train": "imágenes de entrenamiento", "test_acc": "exactitud en prueba",
    "val_acc": "exactitud en validación", "train_acc": "exactitud en entrenamiento",
    "test_loss": "pérdida en prueba", "val_loss": "pérdida en validación",
    "seconds": "tiempo (s)", "time_s": "tiempo (s)", "train_seconds": "tiempo de entrenamiento (s)",
    "freeze_depth": "grupos congelados", "depth": "grupos congelados",
    "lr_ratio": "razón entre tasas", "ratio": "razón entre tasas", "lr": "tasa de aprendizaje",
    "method": "método", "seed": "semilla", "model": "modelo", "epochs": "épocas",
    "trainable": "parámetros entrenables",
}


class LabFigure(Figure):
    """Una figura de matplotlib que Jupyter muestra por sí sola, sin pasar por ``pyplot``.

    Se comporta como cualquier ``Figure`` (``savefig``, ``axes``…); además sabe dibujarse como
    PNG cuando es el valor de una celda o se pasa a ``display``.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def new_figure(figsize: tuple[float, float], dpi: int = DPI) -> LabFigure:
    """Crea una figura vacía con diseño ajustado (``constrained``) fuera de ``pyplot``.

    Args:
        figsize: ancho y alto en pulgadas.
        dpi: resolución.

    Returns:
        La figura, lista para ``fig.subplots()``.
    """
    return LabFigure(figsize=figsize, dpi=dpi, layout="constrained")


def text_figure(message: str, figsize: tuple[float, float] = (6.0, 1.4)) -> LabFigure:
    """Una figura que solo muestra un mensaje (p. ej. cuando no hay nada que dibujar).

    Args:
        message: el texto, en español.
        figsize: ancho y alto en pulgadas.

    Returns:
        La figura con el mensaje centrado.
    """
    fig = new_figure(figsize)
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=11)
    return fig


def axis_label(key: str) -> str:
    """El nombre en español de una columna de resultados (``n_train`` → imágenes de entrenamiento).

    Args:
        key: nombre de la columna.

    Returns:
        Un rótulo legible; las columnas desconocidas se muestran con espacios en vez de ``_``.
    """
    return _LABELS.get(key, key.replace("_", " "))


def format_lr(value: float) -> str:
    """Una tasa de aprendizaje corta y legible: ``1e-6``, ``3.2e-5``.

    Args:
        value: la tasa (positiva).

    Returns:
        El texto con mantisa de un decimal como mucho y exponente sin ceros de relleno.
    """
    exponent = math.floor(math.log10(value))
    mantissa = round(value / 10**exponent, 1)
    if mantissa >= 10:
        mantissa, exponent = 1.0, exponent + 1
    text = f"{mantissa:.1f}".rstrip("0").rstrip(".")
    return f"{text}e{exponent}"
