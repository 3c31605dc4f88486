"""Exploradores de experimentos: controles (ipywidgets) sobre :mod:`labkit.experiments`.

* :class:`SampleSizeExplorer` — el control «Imágenes de entrenamiento» y el botón «Comparar»:
  con ese número de imágenes entrena la cabeza sobre el tronco preentrenado congelado y la CNN
  pequeña desde cero, y muestra las dos exactitudes en prueba. Cada comparación se añade a la
  figura, así que probando varios tamaños se dibuja la curva. Con una ejecución de cada método
  no hay veredicto: :func:`labkit.experiments.compare` escribe «n = 1».

Como los controles de :mod:`labkit.widgets`, se muestra solo si es el último valor de una celda
(ipywidgets 7.7 y 8) y las pruebas lo manejan sin navegador: ``explorador.slider.value = 40`` y
``explorador.run()``.

Ejemplo::

    explorador = labkit.widgets.SampleSizeExplorer(datos)
    explorador                                  # se ve el control; pulsa «Comparar»
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from ..base._fmt import pct
from ..data._data import DataSplits, check_splits
from ..experiments._compare import compare
from ..experiments._comparison import Comparison
from ..experiments._results import labeled
from ..experiments._runs import Recipe, run_extraction, run_scratch, scratch_epochs
from ..experiments._transferfeatures import TransferFeatures, transfer_features
from ..plots._sweepplots import plot_accuracy_vs_samples
from ..training._callbacks import Callback
from ._widgets import TrainingProgress, _error_text, _note, _Shows, show_outputs

__all__ = ["SampleSizeExplorer", "SampleSizeResult"]

_WIDE = {"description_width": "initial"}


@dataclass
class SampleSizeResult:
    """Una comparación del :class:`SampleSizeExplorer`.

    Attributes:
        n_train: imágenes de entrenamiento usadas.
        transfer_acc: exactitud en prueba de la extracción de características (0 a 1).
        scratch_acc: exactitud en prueba de la CNN desde cero.
        transfer_seconds: segundos de entrenamiento de la cabeza.
        scratch_seconds: segundos de entrenamiento desde cero.
        scratch_epochs: épocas de la CNN desde cero.
        n_test: imágenes de prueba.
        test_name: nombre del conjunto de prueba.
        transfer_correct: acierto de cada imagen de prueba con la transferencia (o ``None``).
        scratch_correct: acierto de cada imagen de prueba desde cero (o ``None``).
    """

    n_train: int
    transfer_acc: float
    scratch_acc: float
    transfer_seconds: float
    scratch_seconds: float
    scratch_epochs: int
    n_test: int
    test_name: str
    transfer_correct: object = None
    scratch_correct: object = None

    @property
    def gap(self) -> float:
        """Ventaja de la transferencia en puntos de exactitud (negativa si gana desde cero)."""
        return self.transfer_acc - self.scratch_acc

    def text(self) -> str:
        """Una línea con las dos exactitudes y sobre qué datos se midieron."""
        return (f"Con {self.n_train} imágenes de entrenamiento: transferencia (extracción de "
                f"características) {pct(self.transfer_acc)} · desde cero {pct(self.scratch_acc)} "
                f"(exactitud en prueba sobre {self.n_test} imágenes de {self.test_name})")

    def comparison(self) -> Comparison:
        """La comparación por :func:`labkit.experiments.compare`: con una ejecución, «n = 1»."""
        per_image = self.transfer_correct is not None and self.scratch_correct is not None
        arms = ({"desde cero": [self.scratch_correct], "transferencia": [self.transfer_correct]}
                if per_image else {"desde cero": [self.scratch_acc],
                                   "transferencia": [self.transfer_acc]})
        return compare(arms, reference="desde cero")

    def rows(self) -> list[dict]:
        """Las dos ejecuciones como filas de :func:`labkit.experiments.data_size_sweep`."""
        return [{"method": m, "n_train": self.n_train, "seed": 0, "test_acc": acc}
                for m, acc in (("extraccion", self.transfer_acc),
                               ("desde_cero", self.scratch_acc))]


def _check_data(data: DataSplits) -> None:
    check_splits(data, "El explorador", "labkit.surface_dataset(n_train=1000)")


class SampleSizeExplorer(_Shows):
    """¿Cuántas imágenes hacen falta? Transferencia frente a entrenar desde cero.

    El control «Imágenes de entrenamiento» va de una imagen por clase al entrenamiento entero,
    de clase en clase (subconjuntos estratificados). «Comparar» entrena, con ese número:

    1. la cabeza lineal sobre las características del modelo preentrenado (calculadas una vez
       para todo el conjunto: tarda milisegundos);
    2. la CNN pequeña desde cero, con la receta de :mod:`labkit.experiments` (su progreso se ve
       en vivo).

    y muestra las dos exactitudes en prueba. Los errores se muestran en español en el propio
    control, que sigue funcionando. :meth:`run` hace lo mismo que el botón.

    Args:
        data: particiones con ``train``, ``val`` y ``test``.
        model_name: modelo preentrenado de la transferencia.
        value: imágenes al empezar (``None`` = 100, o menos si no hay tantas).
        recipe: recetas de :class:`labkit.experiments.Recipe`.
        features: características ya calculadas (:func:`labkit.experiments.transfer_features`)
            para no repetirlas; ``None`` = se calculan al comparar por primera vez.
        seed: semilla del subconjunto y de los entrenamientos.
        device: dispositivo; ``None`` = :func:`labkit.default_device`.
    """

    _title = "Explorador del tamaño de datos"

    def __init__(self, data: DataSplits, model_name: str = "efficientnet_lite0", *,
                 value: int | None = None, recipe: Recipe | None = None,
                 features: TransferFeatures | None = None, seed: int = 0,
                 device: torch.device | str | None = None) -> None:
        _check_data(data)
        self.data, self.model_name, self.recipe = data, model_name, recipe or Recipe()
        self.features, self.seed, self.device = features, seed, device
        self.result: SampleSizeResult | None = None
        self.results: list[SampleSizeResult] = []
        self.last_error: BaseException | None = None
        self._running = False
        self._build(value)

    def _build(self, value: int | None) -> None:
        k, top = self.data.train.num_classes, self.max_samples
        start = min(top, max(k, (100 if value is None else int(value)) // k * k))
        self.slider = widgets.IntSlider(description="Imágenes de entrenamiento", min=k,
                                        max=top, step=k, value=start,
                                        continuous_update=False, style=_WIDE)
        self.button = widgets.Button(description="Comparar", button_style="primary",
                                     icon="play", tooltip="Entrena los dos métodos con este "
                                                          "número de imágenes")
        self.message = widgets.HTML(_note(self._hint()))
        self.progress = TrainingProgress(auto_display=False)
        self.result_text = widgets.HTML()
        self.plot = widgets.Output()
        self.button.on_click(lambda _: self.run())
        self.slider.observe(lambda _: self._on_value(), names="value")
        self.widget = widgets.VBox([
            widgets.HTML("<h3 style='margin:0'>¿Cuántas imágenes hacen falta?</h3>"),
            widgets.HBox([self.slider, self.button]), self.message, self.progress.widget,
            self.result_text, self.plot])

    @property
    def max_samples(self) -> int:
        """El mayor múltiplo del número de clases que cabe en el entrenamiento."""
        k = self.data.train.num_classes
        return max(len(self.data.train) // k * k, k)

    @property
    def n_train(self) -> int:
        """Imágenes elegidas ahora mismo (múltiplo del número de clases, dentro de los límites)."""
        k = self.data.train.num_classes
        return min(max(int(self.slider.value) // k * k, k), self.max_samples)

    def _hint(self) -> str:
        n = self.n_train
        return (f"Pulsa «Comparar»: la CNN desde cero entrenará {scratch_epochs(n, self.recipe)} "
                f"épocas con {n} imágenes; la cabeza de la transferencia, "
                f"{self.recipe.head_epochs}.")

    def _on_value(self) -> None:
        if not self._running:
            self.message.value = _note(self._hint())

    def run(self, callbacks: Sequence[Callback] = ()) -> SampleSizeResult | None:
        """Compara los dos métodos con el número de imágenes del control (como «Comparar»).

        Args:
            callbacks: callbacks adicionales para el entrenamiento desde cero.

        Returns:
            El :class:`SampleSizeResult` (también en :attr:`result`), o ``None`` si hubo un
            error (se muestra en el control y queda en :attr:`last_error`).
        """
        if self._running:
            return None
        self._set_busy(True)
        self.last_error = None
        try:
            result = self._compare(self.n_train, callbacks)
        except Exception as err:  # el error se enseña en la interfaz, no como traza
            self.last_error = err
            self.message.value = _note(_error_text(err), error=True)
            return None
        finally:
            self._set_busy(False)
        self.result = result
        self.results.append(result)
        self._show(result)
        return result

    def _set_busy(self, busy: bool) -> None:
        self._running = busy
        self.slider.disabled = self.button.disabled = busy
        self.button.description = "Entrenando…" if busy else "Comparar"

    def _compare(self, n: int, callbacks: Sequence[Callback]) -> SampleSizeResult:
        """Entrena los dos métodos con ``n`` imágenes y evalúa en prueba."""
        if self.features is None:
            self.message.value = _note("Calculando una vez las características del modelo "
                                       f"preentrenado ({self.model_name})…")
            self.features = transfer_features(self.data, self.model_name, device=self.device)
        self.message.value = _note(f"Entrenando con {n} imágenes: primero la cabeza, luego la "
                                   "CNN desde cero…")
        transfer = run_extraction(self.features, n, self.seed, self.recipe, self.device)
        self.progress.reset()
        scratch = run_scratch(self.data, n, self.seed, self.recipe, self.device,
                              callbacks=[self.progress, *callbacks])
        self.message.value = ""
        return SampleSizeResult(n, transfer["test_acc"], scratch["test_acc"],
                                transfer["train_seconds"], scratch["train_seconds"],
                                scratch["epochs"], len(self.data.test),
                                self.data.test.name or "prueba", transfer.get("test_correct"),
                                scratch.get("test_correct"))

    def figure(self) -> Figure:
        """Las comparaciones hechas hasta ahora: exactitud en prueba según el tamaño."""
        rows = [row for r in self.results for row in r.rows()]
        return plot_accuracy_vs_samples(labeled(rows), band="none")

    def _show(self, r: SampleSizeResult) -> None:
        diff = r.comparison().difference("transferencia").text()
        self.result_text.value = (
            f"<div style='font-size:115%'><b>{html.escape(r.text())}</b></div>"
            f"<div style='color:#555555'>Transferencia − desde cero: {html.escape(diff)}. "
            "Con una ejecución de cada método no hay veredicto: para decidir hacen falta "
            "varias semillas (labkit.experiments.compare_runs). "
            f"Tiempo de entrenamiento: cabeza {r.transfer_seconds:.1f} s, desde cero "
            f"{r.scratch_seconds:.1f} s ({r.scratch_epochs} épocas).</div>")
        show_outputs(self.plot, self.figure())
