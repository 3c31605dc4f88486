"""Controles interactivos (ipywidgets) sobre las funciones del curso.

Cada clase guarda su árbol de widgets en ``self.widget`` y se muestra sola cuando es el último
valor de una celda (o con ``display(objeto)``): implementa ``_repr_mimebundle_`` y delega en su
widget, lo que funciona igual con ipywidgets 8 (JupyterLab, Binder) y 7.7 (Colab). Los métodos y
propiedades son Python normal, así que las pruebas los manejan sin navegador: cambian el
``.value`` de un control o llaman a ``.click()`` de un botón y miran el resultado.

* :class:`LayerPanel` — el panel de capas con el control «Grupos congelados».
* :class:`LRRatioExplorer` — la razón entre tasas y la tasa que recibe cada grupo.
* :class:`TrainingProgress` — el progreso de un entrenamiento en vivo (es un callback de ``fit``).
* :class:`Playground` — el «Playground de Transfer Learning»: elegir, entrenar y ver resultados
  (vive en :mod:`labkit.widgets`; ``labkit.widgets.Playground`` sigue funcionando).

Ejemplo::

    panel = labkit.widgets.LayerPanel(modelo)
    panel                                   # última línea de la celda: se ve el panel
    progreso = labkit.widgets.TrainingProgress()
    labkit.fit(modelo, datos.train, datos.val, callbacks=[progreso], progress=False)
"""

from __future__ import annotations

import base64
import html
import io
import time

import ipywidgets as widgets
from matplotlib.figure import Figure
from torch import nn

from ..base._errors import LabkitError
from ..base._fmt import count, pct
from ..models._freezing import freeze_to, frozen_depth
from ..models._groups import layer_groups
from ..models._summary import ModelSummary, format_count, summary
from ..plots._curveplots import plot_history, plot_lr_groups
from ..training._callbacks import Callback, History, TrainState
from ..training._optim import group_lrs

__all__ = ["LayerPanel", "LRRatioExplorer", "TrainingProgress", "show_outputs"]

_WIDE = {"description_width": "initial"}
_SLIDER = {"width": "420px"}
_ERROR_STYLE = "color:#b00020;border-left:4px solid #b00020;padding:2px 8px"
_INFO_STYLE = "color:#555555;border-left:4px solid #0072B2;padding:2px 8px"


# ---------------------------------------------------------------------------------------------
# Piezas comunes: mostrarse en un cuaderno y llenar una salida sin depender del kernel
# ---------------------------------------------------------------------------------------------

class _Shows:
    """Base de los controles: se muestran como su ``self.widget`` en ipywidgets 7.7 y 8."""

    widget: widgets.Widget
    _title = "control de labkit"

    def _repr_mimebundle_(self, include: object = None, exclude: object = None,
                          **kwargs: object) -> dict:
        """El paquete de formatos de Jupyter: la vista del widget y un texto corto."""
        self._displayed = True
        return {
            "text/plain": f"{self._title} (ábrelo en Jupyter para usar los controles)",
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id},
        }


def _display_data(item: object) -> dict:
    """Una salida de tipo ``display_data`` para una figura o un texto HTML."""
    if isinstance(item, Figure):
        buffer = io.BytesIO()
        item.savefig(buffer, format="png", bbox_inches="tight")
        data = {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                "text/plain": "<figura>"}
    else:
        data = {"text/html": str(item), "text/plain": html.unescape(str(item))}
    return {"output_type": "display_data", "data": data, "metadata": {}}


def show_outputs(output: widgets.Output, *items: object) -> None:
    """Reemplaza de una vez lo que muestra un ``Output`` (figuras o HTML), sin parpadeo.

    Equivale a ``clear_output(wait=True)`` seguido de ``display``, pero no necesita un kernel:
    funciona igual en un cuaderno, en una prueba y en ipywidgets 7.7 u 8.

    Args:
        output: el widget de salida.
        *items: figuras de matplotlib o textos HTML, en orden.
    """
    output.outputs = tuple(_display_data(item) for item in items)


def _in_kernel() -> bool:
    """Si corremos dentro de un kernel de Jupyter (donde ``display`` llega a un cuaderno)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _note(text: str, error: bool = False) -> str:
    """Un aviso en HTML (rojo si es un error), con el texto escapado."""
    style = _ERROR_STYLE if error else _INFO_STYLE
    body = html.escape(text).replace("\n", "<br>")
    return f"<div style='{style}'>{'⚠️ ' if error else ''}{body}</div>"


_count = count  # «1 época», «5 épocas»: labkit.base.count


def _error_text(err: BaseException) -> str:
    """El mensaje en español de un error: el de labkit tal cual, otros con su tipo y una salida."""
    if isinstance(err, LabkitError):
        return str(err)
    return (f"Algo salió mal durante el entrenamiento ({type(err).__name__}: {err}). "
            "Los controles siguen activos: cambia los ajustes y vuelve a pulsar «Entrenar».")


# ---------------------------------------------------------------------------------------------
# Panel de capas
# ---------------------------------------------------------------------------------------------

class LayerPanel(_Shows):
    """El panel de capas: cuántos parámetros entrenan y cuántos están congelados.

    Un control «Grupos congelados» va de 0 (entrena todo) a ``grupos - 1`` (solo la cabeza);
    al moverlo llama a :func:`labkit.freeze_to` sobre el modelo y redibuja la tabla por grupo y
    la línea de totales.

    Args:
        model: un modelo del catálogo (se congela en su sitio al mover el control).
        depth: grupos a congelar al empezar; ``None`` deja el modelo como está y muestra sus
            grupos congelados desde el tallo.
    """

    _title = "Panel de capas"

    def __init__(self, model: nn.Module, depth: int | None = None) -> None:
        self.slider = widgets.IntSlider(description="Grupos congelados", min=0, max=1,
                                        continuous_update=False, style=_WIDE,
                                        layout=widgets.Layout(**_SLIDER))
        self.totals = widgets.HTML()
        self.table = widgets.HTML()
        self.widget = widgets.VBox([self.slider, self.totals, self.table])
        self._syncing = False
        self.slider.observe(self._on_depth, names="value")
        self.set_model(model, depth)

    def set_model(self, model: nn.Module, depth: int | None = None) -> None:
        """Cambia el modelo del panel (el control se ajusta a sus grupos).

        Args:
            model: el nuevo modelo.
            depth: grupos a congelar; ``None`` respeta la congelación actual del modelo.
        """
        self.model = model
        last = len(layer_groups(model)) - 1
        if depth is not None:
            freeze_to(model, depth)
        self._set_slider(last, min(frozen_depth(model), last))
        self.refresh()

    def _set_slider(self, high: int, value: int) -> None:
        """Pone el máximo y el valor sin congelar nada por el camino."""
        self._syncing = True
        try:
            self.slider.value = 0
            self.slider.max = max(high, 0)
            self.slider.value = value
        finally:
            self._syncing = False

    def _on_depth(self, change: dict) -> None:
        if self._syncing:
            return
        freeze_to(self.model, int(change["new"]))
        self.refresh()

    @property
    def depth(self) -> int:
        """Grupos congelados según el control."""
        return int(self.slider.value)

    @property
    def summary(self) -> ModelSummary:
        """El panel calculado ahora mismo del modelo (:func:`labkit.summary`)."""
        return summary(self.model)

    @property
    def trainable(self) -> int:
        """Parámetros entrenables ahora mismo."""
        return self.summary.trainable

    def totals_text(self, panel: ModelSummary | None = None) -> str:
        """La línea de totales: ``Total: 3.38M · Entrenables: 5.1K · Congelados: 3.37M``."""
        s = panel or self.summary
        return (f"Total: {format_count(s.total)} · Entrenables: {format_count(s.trainable)} · "
                f"Congelados: {format_count(s.frozen)}")

    def refresh(self) -> None:
        """Vuelve a calcular la tabla y los totales del modelo."""
        panel = self.summary
        self.totals.value = f"<b class='labkit-totals'>{self.totals_text(panel)}</b>"
        self.table.value = panel._repr_html_()


# ---------------------------------------------------------------------------------------------
# Razón entre tasas
# ---------------------------------------------------------------------------------------------

class LRRatioExplorer(_Shows):
    """La razón entre tasas y la tasa de aprendizaje que recibe cada grupo de capas.

    Al mover «Razón entre tasas» (de 1 a 100, escala logarítmica) redibuja las barras de
    :func:`labkit.plots.plot_lr_groups` con :func:`labkit.training.group_lrs`. Los grupos
    congelados del modelo aparecen como «congelado»: el optimizador no los recibe.

    Args:
        model: un modelo del catálogo.
        lr: tasa de la cabeza.
        ratio: razón inicial.
    """

    _title = "Explorador de la razón entre tasas"

    def __init__(self, model: nn.Module, lr: float = 1e-4, ratio: float = 10.0) -> None:
        self.model = model
        self.lr = lr
        self.group_names = [g.name for g in layer_groups(model)]
        self.slider = widgets.FloatLogSlider(description="Razón entre tasas", base=10, min=0,
                                             max=2, step=0.05, value=ratio,
                                             readout_format=".3g", continuous_update=False,
                                             style=_WIDE, layout=widgets.Layout(**_SLIDER))
        self.text = widgets.HTML()
        self.output = widgets.Output()
        self.widget = widgets.VBox([self.slider, self.text, self.output])
        self.slider.observe(lambda _: self.refresh(), names="value")
        self.refresh()

    @property
    def ratio(self) -> float:
        """La razón elegida."""
        return float(self.slider.value)

    @property
    def lrs(self) -> list[float]:
        """La tasa de cada grupo, del tallo a la cabeza (:func:`labkit.training.group_lrs`)."""
        return group_lrs(len(self.group_names), self.lr, self.ratio)

    def refresh(self) -> None:
        """Redibuja las barras y la línea de texto con la razón actual."""
        lrs = self.lrs
        frozen = [g.frozen for g in layer_groups(self.model)]
        shown = [None if f else v for v, f in zip(lrs, frozen, strict=True)]
        self.text.value = (f"Razón {self.ratio:.3g}: primer grupo ({self.group_names[0]}) "
                           f"{lrs[0]:.1e} · cabeza ({self.group_names[-1]}) {lrs[-1]:.1e}")
        show_outputs(self.output, plot_lr_groups(self.group_names, shown))


# ---------------------------------------------------------------------------------------------
# Progreso del entrenamiento
# ---------------------------------------------------------------------------------------------

def _join_histories(*histories: History) -> History:
    """Un historial nuevo con las épocas de todos, en orden (no modifica los originales)."""
    joined = History()
    for h in histories:
        if h is not None and h.epochs:
            joined.extend(h)
    return joined


class TrainingProgress(Callback, _Shows):
    """El entrenamiento en vivo: época actual, barra de lotes, últimas métricas y curvas.

    Es un :class:`labkit.training.Callback`: pásalo a ``labkit.fit(..., callbacks=[progreso])``
    (con ``progress=False`` para no ver además la barra de texto). Si no lo has mostrado antes,
    se muestra solo al empezar. Con ``fine_tune`` junta las dos fases en las mismas curvas;
    :meth:`reset` lo deja listo para otro entrenamiento.

    Args:
        redraw_seconds: segundos mínimos entre dos dibujos de las curvas (se dibujan siempre
            al terminar).
        auto_display: mostrarse solo al empezar si aún no se ha mostrado.
    """

    _title = "Progreso del entrenamiento"

    def __init__(self, redraw_seconds: float = 0.5, auto_display: bool = True) -> None:
        self.redraw_seconds = redraw_seconds
        self.auto_display = auto_display
        self._displayed = False
        self.label = widgets.Label("Sin entrenar todavía.")
        self.bar = widgets.IntProgress(value=0, min=0, max=1, description="Lotes")
        self.metrics = widgets.HTML()
        self.curves = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.label, self.bar]), self.metrics,
                                    self.curves])
        self.reset()

    def reset(self) -> None:
        """Olvida los entrenamientos anteriores (las curvas empiezan de cero)."""
        self._parts: list[History] = []
        self._start = 0
        self._last_draw = 0.0
        self.label.value = "Sin entrenar todavía."
        self.bar.value, self.bar.bar_style = 0, ""
        self.metrics.value = ""
        show_outputs(self.curves)

    @property
    def history(self) -> History:
        """Las épocas vistas hasta ahora (todas las fases desde el último :meth:`reset`)."""
        return _join_histories(*self._parts)

    def on_train_begin(self, state: TrainState) -> None:
        if self.auto_display and not self._displayed and _in_kernel():
            from IPython.display import display
            display(self)
        if not any(part is state.history for part in self._parts):  # fine_tune comparte uno
            self._parts.append(state.history)
        self._start = state.history.epochs
        self.label.value = f"Época actual: {max(state.epoch, 1)}/{state.epochs}"
        self.bar.max, self.bar.value, self.bar.bar_style = max(state.epochs, 1), 0, "info"

    def on_batch_end(self, state: TrainState) -> None:
        total = max(state.epochs * state.batches, 1)
        if self.bar.max != total:
            self.bar.max = total
        self.bar.value = min((state.epoch - 1) * state.batches + state.batch, total)
        self.label.value = f"Época actual: {state.epoch}/{state.epochs}"

    def on_epoch_end(self, state: TrainState) -> None:
        self.label.value = f"Época actual: {state.epoch}/{state.epochs}"
        self.metrics.value = self._metrics_html(state)
        if time.perf_counter() - self._last_draw >= self.redraw_seconds:
            self.draw()

    def on_train_end(self, state: TrainState) -> None:
        finished = state.history.epochs - self._start == state.epochs
        self.bar.bar_style = "success" if finished else "warning"
        if finished:
            self.bar.value = self.bar.max
        if state.message:
            self.metrics.value += _note(state.message)
        self.draw()

    def _metrics_html(self, state: TrainState) -> str:
        """La línea de la última época: pérdida y exactitud de entrenamiento y validación."""
        h = state.history
        phase = f" · fase: {state.phase}" if state.phase else ""
        return (f"<span style='font-size:90%'>Época {h.epochs}{phase} — pérdida "
                f"{h.train_loss[-1]:.3f} (entrenamiento) / {h.val_loss[-1]:.3f} (validación) · "
                f"exactitud {pct(h.train_acc[-1])} / {pct(h.val_acc[-1])} · "
                f"{h.epoch_seconds[-1]:.1f} s</span>")

    def draw(self) -> None:
        """Dibuja ahora las curvas de pérdida y exactitud."""
        history = self.history
        self._last_draw = time.perf_counter()
        if history.epochs:
            show_outputs(self.curves, plot_history(history))
