"""Controles interactivos (ipywidgets) sobre las funciones del curso.

Cada clase guarda su árbol de widgets en ``self.widget`` y se muestra sola cuando es el último
valor de una celda (o con ``display(objeto)``): implementa ``_repr_mimebundle_`` y delega en su
widget, lo que funciona igual con ipywidgets 8 (JupyterLab, Binder) y 7.7 (Colab). Los métodos y
propiedades son Python normal, así que las pruebas los manejan sin navegador: cambian el
``.value`` de un control o llaman a ``.click()`` de un botón y miran el resultado.

* :class:`LayerPanel` — el panel de capas con el control «Capas congeladas».
* :class:`LRRatioExplorer` — la razón entre tasas y la tasa que recibe cada grupo.
* :class:`TrainingProgress` — el progreso de un entrenamiento en vivo (es un callback de ``fit``).
* :class:`Playground` — el «Playground de Transfer Learning»: elegir, entrenar y ver resultados.

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
from collections.abc import Sequence
from dataclasses import dataclass, field

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn

from .callbacks import Callback, History, TrainState
from .config import default_device, seed_everything
from .data import DataSplits, ImageSet, check_splits
from .errors import LabkitError
from .features import FeatureCache, FeatureSet
from .freezing import freeze_to, frozen_depth
from .groups import layer_groups
from .models import MODELS, available_models, create_model
from .optim import group_lrs
from .plots import plot_confusion, plot_history, plot_lr_groups, plot_misclassified
from .summary import ModelSummary, format_count, summary
from .surfaces import SURFACE_CLASSES, surface_dataset
from .training import confusion_matrix, fit, predict

__all__ = [
    "LayerPanel", "LRRatioExplorer", "TrainingProgress", "Playground", "PlaygroundResult",
    "MODE_EXTRACTION", "MODE_FINE_TUNE", "show_outputs",
]

MODE_EXTRACTION = "Extracción de características"
MODE_FINE_TUNE = "Ajuste fino"
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


def _count(n: int, singular: str, plural: str) -> str:
    """``1 época``, ``5 épocas``."""
    return f"{n} {singular if n == 1 else plural}"


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

    Un control «Capas congeladas» va de 0 (entrena todo) a ``grupos - 1`` (solo la cabeza);
    al moverlo llama a :func:`labkit.freeze_to` sobre el modelo y redibuja la tabla por grupo y
    la línea de totales.

    Args:
        model: un modelo del catálogo (se congela en su sitio al mover el control).
        depth: grupos a congelar al empezar; ``None`` deja el modelo como está y muestra sus
            grupos congelados desde el tallo.
    """

    _title = "Panel de capas"

    def __init__(self, model: nn.Module, depth: int | None = None) -> None:
        self.slider = widgets.IntSlider(description="Capas congeladas", min=0, max=1,
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
        """La línea de totales: ``Total: 3.38M · Entrenables: 5.1K · Congeladas: 3.37M``."""
        s = panel or self.summary
        return (f"Total: {format_count(s.total)} · Entrenables: {format_count(s.trainable)} · "
                f"Congeladas: {format_count(s.frozen)}")

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
    :func:`labkit.plots.plot_lr_groups` con :func:`labkit.optim.group_lrs`. Los grupos
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
        """La tasa de cada grupo, del tallo a la cabeza (:func:`labkit.optim.group_lrs`)."""
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

    Es un :class:`labkit.callbacks.Callback`: pásalo a ``labkit.fit(..., callbacks=[progreso])``
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
        self._done = History()
        self._current: History | None = None
        self._last_draw = 0.0
        self.label.value = "Sin entrenar todavía."
        self.bar.value, self.bar.bar_style = 0, ""
        self.metrics.value = ""
        show_outputs(self.curves)

    @property
    def history(self) -> History:
        """Las épocas vistas hasta ahora (todas las fases desde el último :meth:`reset`)."""
        return _join_histories(self._done, self._current)

    def on_train_begin(self, state: TrainState) -> None:
        if self.auto_display and not self._displayed and _in_kernel():
            from IPython.display import display
            display(self)
        self._current = state.history
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
        finished = state.history.epochs == state.epochs
        self.bar.bar_style = "success" if finished else "warning"
        if finished:
            self.bar.value = self.bar.max
        if state.message:
            self.metrics.value += _note(state.message)
        self.draw()
        self._done = self.history
        self._current = None

    def _metrics_html(self, state: TrainState) -> str:
        """La línea de la última época: pérdida y exactitud de entrenamiento y validación."""
        h = state.history
        phase = f" · fase: {state.phase}" if state.phase else ""
        return (f"<span style='font-size:90%'>Época {h.epochs}{phase} — pérdida "
                f"{h.train_loss[-1]:.3f} (entrenamiento) / {h.val_loss[-1]:.3f} (validación) · "
                f"exactitud {h.train_acc[-1]:.1%} / {h.val_acc[-1]:.1%} · "
                f"{h.epoch_seconds[-1]:.1f} s</span>")

    def draw(self) -> None:
        """Dibuja ahora las curvas de pérdida y exactitud."""
        history = self.history
        self._last_draw = time.perf_counter()
        if history.epochs:
            show_outputs(self.curves, plot_history(history))


# ---------------------------------------------------------------------------------------------
# Playground
# ---------------------------------------------------------------------------------------------

@dataclass
class PlaygroundResult:
    """Lo que dejó el último entrenamiento del :class:`Playground`.

    Attributes:
        model_name: modelo del catálogo.
        mode: :data:`MODE_EXTRACTION` o :data:`MODE_FINE_TUNE`.
        depth: grupos congelados.
        n_train: imágenes de entrenamiento usadas.
        epochs: épocas pedidas.
        ratio: razón entre tasas usada.
        history: el historial por época.
        test_accuracy: exactitud en prueba (0 a 1).
        confusion: matriz de confusión en prueba (fila = clase real).
        classes: nombres de las clases.
        test_name: nombre del conjunto de prueba.
        seconds: segundos de todo el entrenamiento y la evaluación.
        run: número de entrenamiento en este playground (desde 1).
        model: el modelo entrenado.
        preds: clase predicha para cada imagen de prueba.
        probs: probabilidades de cada clase para cada imagen de prueba.
    """

    model_name: str
    mode: str
    depth: int
    n_train: int
    epochs: int
    ratio: float
    history: History
    test_accuracy: float
    confusion: torch.Tensor
    classes: list[str]
    test_name: str
    seconds: float
    run: int
    model: nn.Module = field(repr=False)
    preds: torch.Tensor = field(repr=False)
    probs: torch.Tensor = field(repr=False)

    @property
    def n_test(self) -> int:
        """Imágenes de prueba."""
        return int(self.confusion.sum())

    def accuracy_text(self) -> str:
        """``Exactitud en prueba: 87.5 % (200 imágenes de superficies/test)``."""
        return (f"Exactitud en prueba: {self.test_accuracy * 100:.1f} % "
                f"({self.n_test} imágenes de {self.test_name})")


def _is_scratch(name: str) -> bool:
    """Modelos sin pesos preentrenados: se entrenan desde cero."""
    return MODELS[name].source == "labkit"


def _option_label(name: str, runnable: bool) -> str:
    if _is_scratch(name):
        return f"{name} (desde cero)"
    return name if runnable else f"{name} (sin pesos: necesita red)"


def _layout_model(name: str, num_classes: int) -> nn.Module:
    """El modelo solo para contar parámetros: en el dispositivo ``meta`` (sin memoria ni pesos)."""
    with torch.device("meta"):
        return create_model(name, num_classes=num_classes, pretrained=False)


def _check_models(models: Sequence[str] | None) -> list[str]:
    names = list(MODELS) if models is None else list(models)
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise LabkitError(f"Modelos desconocidos {unknown or '(ninguno)'}: elige entre "
                          f"{', '.join(MODELS)}.")
    return names


def _check_data(data: DataSplits | None) -> None:
    if data is not None:
        check_splits(data, "El playground", "labkit.surface_dataset()")


class Playground(_Shows):
    """El «Playground de Transfer Learning»: elige modelo, modo y ajustes, entrena y mira.

    Controles: modelo, modo (extracción de características o ajuste fino), capas congeladas
    (con el panel de capas), imágenes de entrenamiento, razón entre tasas, épocas y el botón
    «Entrenar». Los límites de cada control impiden combinaciones imposibles; los modelos sin
    pesos en este equipo aparecen marcados y no se pueden entrenar. Al terminar muestra la
    exactitud en prueba, la matriz de confusión y algunas imágenes mal clasificadas. Un error
    se muestra en español en el propio playground, que sigue funcionando.

    :meth:`run` hace lo mismo que el botón; :attr:`result` guarda el último resultado.

    Args:
        data: particiones con ``train``, ``val`` y ``test``; ``None`` = el conjunto de
            superficies (200/100/200 imágenes de 128 px), creado al entrenar por primera vez.
        models: nombres del catálogo que se ofrecen; ``None`` = todos.
        lr: tasa de la cabeza.
        batch_size: tamaño del lote.
        seed: semilla (la misma semilla y los mismos ajustes dan el mismo resultado en CPU).
        device: dispositivo; ``None`` = :func:`labkit.default_device`.
    """

    _title = "Playground de Transfer Learning"

    def __init__(self, data: DataSplits | None = None, models: Sequence[str] | None = None, *,
                 lr: float = 1e-3, batch_size: int = 32, seed: int = 0,
                 device: torch.device | str | None = None) -> None:
        _check_data(data)
        self._data = data
        self.models = _check_models(models)
        self.lr, self.batch_size, self.seed, self.device = lr, batch_size, seed, device
        self.available = {n for n in self.models if _is_scratch(n)} | (
            set(available_models()) & set(self.models))
        self.result: PlaygroundResult | None = None
        self.last_error: BaseException | None = None
        self.runs = 0
        self._running = False
        self._syncing = False
        self._cache = FeatureCache()
        self._build_controls()
        self._build_layout()
        self._on_model()

    # -- construcción ------------------------------------------------------------------------

    def _build_controls(self) -> None:
        """Crea los controles y conecta sus reacciones."""
        self._build_model_controls()
        self._build_training_controls()
        self.message = widgets.HTML()
        self.progress = TrainingProgress(auto_display=False)
        self.result_text = widgets.HTML()
        self.result_plots = widgets.Output()
        self.model_select.observe(lambda _: self._on_model(), names="value")
        self.mode.observe(self._on_mode, names="value")
        self.freeze_slider.observe(self._on_depth, names="value")
        self.button.on_click(lambda _: self.run())

    def _build_model_controls(self) -> None:
        """Modelo, modo y el panel de capas con su control «Capas congeladas»."""
        first = next((n for n in ("efficientnet_lite0", *self.models) if n in self.available),
                     self.models[0])
        self.model_select = widgets.Dropdown(
            description="Modelo", value=first, style=_WIDE,
            options=[(_option_label(n, n in self.available), n) for n in self.models])
        self.mode = widgets.ToggleButtons(description="Modo",
                                          style={**_WIDE, "button_width": "auto"},
                                          options=[MODE_EXTRACTION, MODE_FINE_TUNE])
        self.panel = LayerPanel(_layout_model(first, self.num_classes))
        self.freeze_slider = self.panel.slider

    def _build_training_controls(self) -> None:
        """Imágenes, razón entre tasas, épocas y el botón."""
        k, top = self.num_classes, self._max_samples()
        self.samples = widgets.IntSlider(description="Imágenes de entrenamiento", min=k,
                                         max=top, step=k, value=min(max(100 // k * k, k), top),
                                         continuous_update=False, style=_WIDE,
                                         layout=widgets.Layout(**_SLIDER))
        self.ratio = widgets.FloatLogSlider(description="Razón entre tasas", base=10, min=0,
                                            max=2, step=0.05, value=10, readout_format=".3g",
                                            continuous_update=False, style=_WIDE,
                                            layout=widgets.Layout(**_SLIDER))
        self.epochs = widgets.IntSlider(description="Épocas", min=1, max=30, value=5,
                                        continuous_update=False, style=_WIDE,
                                        layout=widgets.Layout(**_SLIDER))
        self.button = widgets.Button(description="Entrenar", button_style="primary",
                                     icon="play", tooltip="Entrena con estos ajustes")

    def _build_layout(self) -> None:
        title = widgets.HTML("<h3 style='margin:0'>Playground de Transfer Learning</h3>")
        controls = widgets.VBox([self.model_select, self.mode, self.freeze_slider,
                                 self.panel.totals, self.samples, self.ratio, self.epochs,
                                 self.button, self.message],
                                layout=widgets.Layout(min_width="420px", margin="0 16px 0 0"))
        top = widgets.HBox([controls, self.panel.table],
                           layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([title, top, self.progress.widget, self.result_text,
                                    self.result_plots])

    # -- datos y límites ---------------------------------------------------------------------

    @property
    def data(self) -> DataSplits:
        """Las particiones del playground (el conjunto de superficies se crea la primera vez)."""
        if self._data is None:
            self._data = surface_dataset(n_train=200, n_val=100, n_test=200, image_size=128)
        return self._data

    @property
    def num_classes(self) -> int:
        """Clases de los datos."""
        return len(SURFACE_CLASSES) if self._data is None else self._data.train.num_classes

    def _max_samples(self) -> int:
        """El mayor múltiplo del número de clases que cabe en el entrenamiento."""
        n = 200 if self._data is None else len(self._data.train)
        return max(n // self.num_classes * self.num_classes, self.num_classes)

    def is_runnable(self, name: str | None = None) -> bool:
        """Si el modelo (por defecto, el elegido) se puede entrenar aquí sin red."""
        return (name or self.model_select.value) in self.available

    # -- reacciones a los controles -----------------------------------------------------------

    def _on_model(self) -> None:
        self.panel.set_model(_layout_model(self.model_select.value, self.num_classes))
        self._ft_depth = len(layer_groups(self.panel.model)) // 2
        self._sync_controls()

    def _on_mode(self, change: dict) -> None:
        if not self._syncing:
            self._sync_controls()

    def _on_depth(self, change: dict) -> None:
        if not self._syncing and self.mode.value == MODE_FINE_TUNE:
            self._ft_depth = int(change["new"])

    def _target_depth(self) -> int:
        """Grupos congelados que corresponden al modelo y al modo elegidos."""
        last = self.freeze_slider.max
        if _is_scratch(self.model_select.value):
            return 0
        return last if self.mode.value == MODE_EXTRACTION else min(self._ft_depth, last)

    def _sync_controls(self) -> None:
        """Ajusta valores y qué controles están activos según el modelo y el modo."""
        scratch = _is_scratch(self.model_select.value)
        before, self._syncing = self._syncing, True
        try:
            if scratch:
                self.mode.value = MODE_FINE_TUNE
            if self.freeze_slider.value != self._target_depth():
                self.freeze_slider.value = self._target_depth()
        finally:
            self._syncing = before
        extraction = self.mode.value == MODE_EXTRACTION
        self.mode.disabled = scratch
        self.freeze_slider.disabled = scratch or extraction
        self.ratio.disabled = scratch or extraction
        for control in (self.model_select, self.samples, self.epochs):
            control.disabled = False
        self.button.disabled = not self.is_runnable()
        self.message.value = self._explain()

    def _explain(self) -> str:
        """El aviso que corresponde a la elección actual (vacío si no hay nada que decir)."""
        name = self.model_select.value
        if not self.is_runnable(name):
            return _note(f"«{name}» no se puede entrenar aquí: sus pesos preentrenados no están "
                         "en este equipo y descargarlos necesita red. Elige un modelo sin la marca "
                         "«sin pesos» o, con conexión, descárgalos con "
                         f"`python -m labkit descargar {name}`.", error=True)
        if _is_scratch(name):
            return _note("Este modelo no tiene pesos preentrenados: se entrena entero desde cero "
                         "(todas las capas, una sola tasa). Sirve para comparar.")
        return ""

    def _set_busy(self, busy: bool) -> None:
        """Desactiva los controles mientras entrena; al acabar, los deja como corresponde."""
        self._running = busy
        self.button.description = "Entrenando…" if busy else "Entrenar"
        if busy:
            for control in self._controls():
                control.disabled = True
        else:
            self._sync_controls()

    def _controls(self) -> list[widgets.Widget]:
        return [self.model_select, self.mode, self.freeze_slider, self.samples, self.ratio,
                self.epochs, self.button]

    # -- entrenar ------------------------------------------------------------------------------

    def settings(self) -> dict:
        """Los ajustes elegidos ahora mismo (lo que usaría :meth:`run`)."""
        k = self.num_classes
        scratch = _is_scratch(self.model_select.value)
        n = min(max(int(self.samples.value) // k * k, k), self._max_samples())
        return {"model_name": self.model_select.value, "mode": self.mode.value,
                "depth": self._target_depth(), "n_train": n, "epochs": int(self.epochs.value),
                "ratio": 1.0 if scratch else float(self.ratio.value)}

    def run(self, callbacks: Sequence[Callback] = ()) -> PlaygroundResult | None:
        """Entrena con los ajustes de los controles (lo mismo que el botón «Entrenar»).

        Los errores no se lanzan: se muestran en español en el playground y quedan en
        :attr:`last_error`.

        Args:
            callbacks: callbacks adicionales para ``labkit.fit``.

        Returns:
            El :class:`PlaygroundResult` (también en :attr:`result`), o ``None`` si no se pudo.
        """
        if self._running:
            return None
        if not self.is_runnable():
            self.message.value = self._explain()
            return None
        settings = self.settings()
        self._set_busy(True)
        self.message.value = _note(f"Entrenando {settings['model_name']} "
                                   f"({settings['mode'].lower()}, {settings['n_train']} "
                                   f"imágenes, {_count(settings['epochs'], 'época', 'épocas')})…")
        result, self.last_error = None, None
        try:
            result = self._train(settings, callbacks)
            self._show_result(result)
            self.result = result
        except Exception as err:  # cualquier fallo se enseña en la interfaz, no como traza
            self.last_error = err
        finally:  # también tras Ctrl+C: los controles vuelven a funcionar
            self._set_busy(False)
        if self.last_error is not None:
            self.message.value = _note(_error_text(self.last_error), error=True)
            return None
        return result

    def _train(self, s: dict, callbacks: Sequence[Callback]) -> PlaygroundResult:
        """Crea el modelo con cabeza nueva, entrena, evalúa en prueba y arma el resultado."""
        start = time.perf_counter()
        data = self.data
        seed_everything(self.seed)
        model = create_model(s["model_name"], num_classes=self.num_classes,
                             pretrained=not _is_scratch(s["model_name"]))
        model.to(torch.device(self.device) if self.device is not None else default_device())
        freeze_to(model, s["depth"])
        train, val, test = self._inputs(model, data, s["depth"], s["n_train"])
        self.progress.reset()
        history = fit(model, train, val, epochs=s["epochs"], lr=self.lr, ratio=s["ratio"],
                      batch_size=self.batch_size, callbacks=[self.progress, *callbacks],
                      progress=False, seed=self.seed, device=self.device)
        preds, probs = predict(model, test)
        labels = data.test.labels
        self.runs += 1
        return PlaygroundResult(
            **s, history=history, test_accuracy=float((preds == labels).float().mean()),
            confusion=confusion_matrix(labels, preds, self.num_classes),
            classes=list(data.test.classes), test_name=data.test.name or "prueba",
            seconds=time.perf_counter() - start, run=self.runs, model=model, preds=preds,
            probs=probs)

    def _inputs(self, model: nn.Module, data: DataSplits, depth: int,
                n: int) -> tuple[ImageSet | FeatureSet, ...]:
        """Entrenamiento, validación y prueba: características guardadas si hay capas
        congeladas (se reutilizan entre entrenamientos), si no las imágenes."""
        if depth == 0:
            return data.train.take(n, self.seed), data.val, data.test
        sets = [FeatureSet.extract(model, d, depth, cache=self._cache)
                for d in (data.train, data.val, data.test)]
        return sets[0].take(n, self.seed), sets[1], sets[2]

    def _show_result(self, r: PlaygroundResult) -> None:
        """La exactitud en prueba, la matriz de confusión y algunos errores."""
        frozen = ("todas las capas entrenan" if r.depth == 0
                  else _count(r.depth, "grupo congelado", "grupos congelados"))
        ratio = f" · razón {r.ratio:.3g}" if r.mode == MODE_FINE_TUNE and r.ratio != 1 else ""
        self.result_text.value = (
            f"<div style='font-size:120%'><b>{html.escape(r.accuracy_text())}</b></div>"
            f"<div style='color:#555555'>Entrenamiento n.º {r.run}: {r.model_name} · "
            f"{r.mode.lower()} · {frozen} · {r.n_train} imágenes · "
            f"{_count(r.epochs, 'época', 'épocas')}{ratio} · "
            f"{r.seconds:.1f} s</div>")
        show_outputs(self.result_plots, plot_confusion(r.confusion, r.classes),
                     plot_misclassified(self.data.test, r.preds, r.probs, max_images=4))
