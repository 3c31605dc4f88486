"""El «Playground de Transfer Learning»: elegir modelo, modo y datos, entrenar y ver resultados.

Usa las piezas comunes de :mod:`labkit.widgets` (panel de capas, progreso en vivo, avisos); cada
entrenamiento lo hace :func:`train_once` (``_playtrain.py``). Se importa también como
``labkit.widgets.Playground``.

Ejemplo::

    pg = labkit.widgets.Playground(datos)
    pg                                       # última línea de la celda: se ve el playground
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets
import torch
from torch import nn

from ..base._errors import LabkitError
from ..data._data import DataSplits, check_splits
from ..data._surfaces import SURFACE_CLASSES, surface_dataset
from ..models._freezing import default_fine_tune_depth
from ..models._models import MODELS, available_models, create_model
from ..plots._plots import plot_confusion, plot_misclassified
from ..training._callbacks import Callback
from ..training._features import FeatureCache
from ..training._loop import Metrics
from ..training._recipe import FINE_TUNE_DEFAULTS
from ._playresult import (
    MODE_EXTRACTION,
    MODE_FINE_TUNE,
    PlaygroundResult,
)
from ._playtrain import _is_scratch, _what, train_once
from ._widgets import (
    _SLIDER,
    _WIDE,
    LayerPanel,
    TrainingProgress,
    _count,
    _error_text,
    _note,
    _Shows,
    show_outputs,
)

__all__ = ["Playground"]

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
    exactitud en prueba, la matriz de confusión y algunas imágenes mal clasificadas. El modo
    «ajuste fino» de un modelo preentrenado es la receta del curso (la de ``labkit.fine_tune``):
    primero la cabeza nueva, y después «Épocas» de ajuste fino con la tasa y el calendario de
    :data:`labkit.training.FINE_TUNE_DEFAULTS`, sin aumento; si la mejor época es de la cabeza, lo
    dice. Un error
    se muestra en español en el propio playground, que sigue funcionando.

    :meth:`run` hace lo mismo que el botón; :attr:`result` guarda el último resultado.

    Args:
        data: particiones con ``train``, ``val`` y ``test``; ``None`` = el conjunto de
            superficies (200/100/200 imágenes de 128 px), creado al entrenar por primera vez.
        models: nombres del catálogo que se ofrecen; ``None`` = todos.
        lr: tasa de la cabeza (extracción, fase de cabeza del ajuste fino y modelos desde cero).
        batch_size: tamaño del lote.
        seed: semilla (la misma semilla y los mismos ajustes dan el mismo resultado en CPU).
        device: dispositivo; ``None`` = :func:`labkit.default_device`.
    """

    _title = "Playground de Transfer Learning"

    def __init__(self, data: DataSplits | None = None, models: Sequence[str] | None = None, *,
                 lr: float = FINE_TUNE_DEFAULTS["head_lr"], batch_size: int = 32, seed: int = 0,
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
        self.plan = widgets.HTML().add_class("labkit-plan")
        self.progress = TrainingProgress(auto_display=False)
        self.result_text = widgets.HTML()
        self.result_plots = widgets.Output()
        self.model_select.observe(lambda _: self._on_model(), names="value")
        self.mode.observe(self._on_mode, names="value")
        self.freeze_slider.observe(self._on_depth, names="value")
        for control in (self.samples, self.ratio, self.epochs, self.freeze_slider):
            control.observe(lambda _: self._show_plan(), names="value")
        self.button.on_click(lambda _: self.run())

    def _build_model_controls(self) -> None:
        """Modelo, modo y el panel de capas con su control «Grupos congelados»."""
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
                                 self.button, self.plan, self.message],
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
        self._ft_depth = default_fine_tune_depth(self.panel.model)
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
        self._show_plan()

    def _show_plan(self) -> None:
        """Lo que entrenará «Entrenar» con los controles de ahora (calculado en Python: es
        también la confirmación de que el núcleo recibió cada cambio)."""
        s = self.settings()
        self.plan.value = ("<div style='color:#555555'>Al pulsar «Entrenar»: "
                           f"{html.escape(_what(s))}</div>")

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

    def run(self, callbacks: Sequence[Callback] = (),
            metrics: Metrics | None = None) -> PlaygroundResult | None:
        """Entrena con los ajustes de los controles (lo mismo que el botón «Entrenar»).

        Los errores no se lanzan: se muestran en español en el playground y quedan en
        :attr:`last_error`.

        Args:
            callbacks: callbacks adicionales para ``labkit.fit``.
            metrics: métricas de validación para ``labkit.fit`` (:data:`labkit.training.Metrics`;
                ``None`` = entropía cruzada y exactitud).

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
            result = self._train(settings, callbacks, metrics)
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

    def _train(self, s: dict, callbacks: Sequence[Callback],
               metrics: Metrics | None = None) -> PlaygroundResult:
        """Entrena una vez con los ajustes ``s`` (ver :func:`train_once`)."""
        self.progress.reset()
        result = train_once(self.data, s, run=self.runs + 1, seed=self.seed, device=self.device,
                            lr=self.lr, batch_size=self.batch_size, cache=self._cache,
                            callbacks=[self.progress, *callbacks], metrics=metrics)
        self.runs = result.run
        return result

    def _show_result(self, r: PlaygroundResult) -> None:
        """La exactitud en prueba, la matriz de confusión y algunos errores."""
        what = _what({k: getattr(r, k) for k in ("model_name", "mode", "depth", "n_train",
                                                      "epochs", "ratio")})
        self.result_text.value = (
            f"<div style='font-size:120%'><b>{html.escape(r.accuracy_text())}</b></div>"
            f"<div style='color:#555555'>Entrenamiento n.º {r.run}: {html.escape(what)} · "
            f"{r.seconds:.1f} s</div>"
            + "".join(f"<div style='color:#8a4b00'>{html.escape(n)}</div>"
                      for n in r.history.notes))
        show_outputs(self.result_plots, plot_confusion(r.confusion, r.classes),
                     plot_misclassified(self.data.test, r.preds, r.probs, max_images=4))

