"""Los controles de ``labkit.widgets`` sin navegador: se cambian valores y se pulsan botones.

``tests/test_widgets_ipyw7.py`` ejecuta este mismo archivo con ipywidgets 7.7 (el de Colab).
"""

import os

import ipywidgets
import pytest
import torch

import labkit.training._loop as lp_loop
import labkit.widgets._playground as lp
from labkit import LabkitError, create_model, fine_tune, fit, layer_groups
from labkit.data import surface_dataset
from labkit.models import format_count
from labkit.plots import plot_history
from labkit.training import Callback, History
from labkit.widgets import LayerPanel, LRRatioExplorer, Playground, TrainingProgress, show_outputs
from labkit.widgets._playresult import MODE_EXTRACTION, MODE_FINE_TUNE

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"



@pytest.fixture(scope="module")
def data():
    """Superficies diminutas: 42 de entrenamiento (no múltiplo de 4 a propósito), 32 px."""
    return surface_dataset(n_train=42, n_val=20, n_test=24, image_size=32)


@pytest.fixture()
def only_lite0(monkeypatch):
    """Finge que solo EfficientNet-Lite0 tiene pesos en este equipo (como sin red)."""
    monkeypatch.setattr(lp, "available_models", lambda: ["efficientnet_lite0"])


def small_cnn(k: int = 4):
    torch.manual_seed(0)
    return create_model("cnn_pequena", num_classes=k, pretrained=False)


class Spy(Callback):
    """Apunta el estado del botón del playground en cada época."""

    def __init__(self, playground):
        self.playground = playground
        self.button_disabled = []
        self.freeze_disabled = []

    def on_epoch_end(self, state):
        self.button_disabled.append(self.playground.button.disabled)
        self.freeze_disabled.append(self.playground.freeze_slider.disabled)


class Boom(Callback):
    def on_epoch_end(self, state):
        raise RuntimeError("explosión de prueba")


def test_records_ipywidgets_version():
    """Deja constancia de con qué ipywidgets corrió (la prueba de 7.7 lo comprueba)."""
    report = os.environ.get("LABKIT_IPYWIDGETS_REPORT")
    if report:
        with open(report, "w") as fh:
            fh.write(ipywidgets.__version__)
    assert ipywidgets.__version__.split(".")[0] in ("7", "8")


# --------------------------------------------------------------------------- piezas comunes


def test_repr_mimebundle_points_to_the_widget():
    panel = LayerPanel(small_cnn())
    bundle = panel._repr_mimebundle_()
    assert bundle[WIDGET_MIME]["model_id"] == panel.widget.model_id
    assert bundle[WIDGET_MIME]["version_major"] == 2
    assert "Panel de capas" in bundle["text/plain"]


def test_show_outputs_replaces_content():
    out = ipywidgets.Output()
    show_outputs(out, "<b>hola</b>", plot_history(History()))
    assert [o["output_type"] for o in out.outputs] == ["display_data"] * 2
    assert out.outputs[0]["data"]["text/html"] == "<b>hola</b>"
    assert "image/png" in out.outputs[1]["data"]
    show_outputs(out)
    assert out.outputs == ()


# --------------------------------------------------------------------------- LayerPanel


def test_layer_panel_slider_freezes_and_updates_numbers():
    model = small_cnn()
    panel = LayerPanel(model)
    groups = layer_groups(model)
    assert (panel.slider.min, panel.slider.max) == (0, len(groups) - 1)
    assert panel.slider.description == "Grupos congelados"
    assert panel.slider.continuous_update is False
    total = sum(p.numel() for p in model.parameters())
    assert panel.depth == 0 and panel.trainable == total
    panel.slider.value = 2
    frozen = sum(g.num_params for g in groups[:2])
    assert panel.trainable == total - frozen
    assert all(not p.requires_grad for g in layer_groups(model)[:2] for _, p in g.params)
    assert all(p.requires_grad for g in layer_groups(model)[2:] for _, p in g.params)
    assert (f"Total: {format_count(total)} · Entrenables: {format_count(total - frozen)} · "
            f"Congelados: {format_count(frozen)}") in panel.totals.value
    assert "congelado" in panel.table.value and "bloque1" in panel.table.value
    assert panel.summary.frozen == frozen


def test_layer_panel_initial_depth_and_model_change():
    model = small_cnn()
    panel = LayerPanel(model, depth=3)
    assert panel.depth == 3 and panel.summary.rows[2].state == "congelado"
    lite = create_model("efficientnet_lite0", num_classes=4, pretrained=False)
    panel.set_model(lite)
    assert panel.slider.max == len(layer_groups(lite)) - 1
    assert panel.depth == 0 and "efficientnet_lite0" in panel.table.value
    assert panel.trainable == sum(p.numel() for p in lite.parameters())


# --------------------------------------------------------------------------- LRRatioExplorer


def test_lr_ratio_explorer_redraws_on_change():
    model = small_cnn()
    explorer = LRRatioExplorer(model, lr=1e-4)
    assert explorer.slider.description == "Razón entre tasas"
    assert (explorer.slider.min, explorer.slider.max) == (0, 2)  # 10**0 … 10**2
    assert explorer.ratio == pytest.approx(10)
    assert explorer.lrs[-1] == pytest.approx(1e-4) and explorer.lrs[0] == pytest.approx(1e-6)
    first = explorer.output.outputs[0]["data"]["image/png"]
    explorer.slider.value = 100
    assert explorer.lrs[0] == pytest.approx(1e-8)
    assert explorer.output.outputs[0]["data"]["image/png"] != first
    assert "1.0e-08" in explorer.text.value
    explorer.slider.value = 1
    assert explorer.lrs == pytest.approx([1e-4] * len(layer_groups(model)))


# --------------------------------------------------------------------------- TrainingProgress


def test_training_progress_follows_fit(data):
    progress = TrainingProgress()
    model = small_cnn()
    train = data.train.take(16)
    fit(model, train, data.val, epochs=2, batch_size=8, progress=False, callbacks=[progress],
        device="cpu")
    assert progress.label.value == "Época actual: 2/2"
    assert progress.bar.value == progress.bar.max == 2 * 2
    assert progress.bar.bar_style == "success"
    assert "pérdida" in progress.metrics.value and "exactitud" in progress.metrics.value
    assert "image/png" in progress.curves.outputs[0]["data"]
    assert progress.history.epochs == 2
    progress.reset()
    assert progress.history.epochs == 0 and progress.curves.outputs == ()


def test_training_progress_joins_fine_tune_phases(data):
    progress = TrainingProgress(redraw_seconds=0)
    model = small_cnn()
    fine_tune(model, data.train.take(16), data.val, head_epochs=1, epochs=2, batch_size=8,
              progress=False, callbacks=[progress], device="cpu")
    assert progress.history.epochs == 3
    assert progress.history.phase == ["cabeza", "ajuste fino", "ajuste fino"]
    assert progress.label.value == "Época actual: 2/2"
    assert "ajuste fino" in progress.metrics.value


# --------------------------------------------------------------------------- Playground


def test_playground_sample_slider_is_bounded_by_the_data(data, only_lite0):
    pg = Playground(data)
    k = data.train.num_classes
    assert (pg.samples.min, pg.samples.max, pg.samples.step) == (k, 40, k)
    assert pg.samples.value % k == 0
    pg.samples.value = 7  # un valor que el control del navegador no daría
    assert pg.settings()["n_train"] == 4
    assert pg.data is data


def test_playground_plan_line_follows_every_control(data, only_lite0):
    pg = Playground(data)
    assert "Al pulsar «Entrenar»: efficientnet_lite0 · extracción de características" in pg.plan.value
    pg.epochs.value = 2
    assert "· 2 épocas" in pg.plan.value
    pg.epochs.value = 1
    assert "· 1 época" in pg.plan.value and "épocas" not in pg.plan.value
    pg.mode.value = MODE_FINE_TUNE
    pg.freeze_slider.value = 2
    pg.samples.value = 8
    assert "ajuste fino · 2 grupos congelados · 8 imágenes" in pg.plan.value
    assert "razón 10" in pg.plan.value


def test_playground_extraction_mode_fixes_the_freeze_slider(data, only_lite0):
    pg = Playground(data)
    last = len(layer_groups(create_model("efficientnet_lite0", pretrained=False))) - 1
    assert pg.model_select.value == "efficientnet_lite0"
    assert pg.mode.value == MODE_EXTRACTION
    assert pg.freeze_slider.value == last and pg.freeze_slider.disabled
    assert pg.ratio.disabled
    head_only = pg.panel.trainable
    pg.mode.value = MODE_FINE_TUNE
    assert not pg.freeze_slider.disabled and not pg.ratio.disabled
    assert pg.freeze_slider.value < last and pg.panel.trainable > head_only
    before = pg.panel.trainable
    before_text = pg.panel.totals.value
    pg.freeze_slider.value = 2
    assert pg.panel.trainable > before and pg.panel.totals.value != before_text
    assert pg.settings()["depth"] == 2
    pg.mode.value = MODE_EXTRACTION
    assert pg.freeze_slider.value == last and pg.panel.trainable == head_only
    pg.mode.value = MODE_FINE_TUNE
    assert pg.freeze_slider.value == 2  # recuerda la profundidad del ajuste fino


def test_playground_unavailable_models_cannot_run(data, only_lite0):
    pg = Playground(data, models=["efficientnet_lite0", "resnet18", "cnn_pequena"])
    labels = dict((v, k) for k, v in pg.model_select.options)
    assert labels["resnet18"] == "resnet18 (sin pesos: necesita red)"
    assert labels["cnn_pequena"] == "cnn_pequena (desde cero)"
    assert not pg.button.disabled
    pg.model_select.value = "resnet18"
    assert pg.button.disabled
    assert "necesita red" in pg.message.value and "descargar resnet18" in pg.message.value
    assert pg.freeze_slider.max == len(layer_groups(create_model("resnet18",
                                                                 pretrained=False))) - 1
    assert "Total: 11.18M" in pg.panel.totals.value  # el panel muestra el modelo elegido
    assert pg.run() is None and pg.result is None
    pg.model_select.value = "efficientnet_lite0"
    assert not pg.button.disabled and pg.message.value == ""


def test_playground_without_any_weights_starts_on_a_runnable_model(data, monkeypatch):
    monkeypatch.setattr(lp, "available_models", lambda: [])
    pg = Playground(data, models=["efficientnet_lite0", "cnn_pequena"])
    assert pg.model_select.value == "cnn_pequena" and not pg.button.disabled
    assert pg.mode.value == MODE_FINE_TUNE and pg.mode.disabled
    assert pg.freeze_slider.value == 0 and pg.freeze_slider.disabled
    assert pg.settings()["ratio"] == 1.0
    assert "desde cero" in pg.message.value


def test_playground_rejects_bad_arguments(data):
    with pytest.raises(LabkitError, match="Modelos desconocidos"):
        Playground(data, models=["alexnet"])
    with pytest.raises(LabkitError, match="DataSplits"):
        Playground(data.train)


def test_playground_button_disabled_while_training(data, only_lite0):
    pg = Playground(data, models=["cnn_pequena"], batch_size=8)
    pg.samples.value, pg.epochs.value = 8, 2
    spy = Spy(pg)
    pg.button.on_click(lambda _: None)  # otro manejador no estorba
    result = pg.run(callbacks=[spy])
    assert spy.button_disabled == [True, True] and spy.freeze_disabled == [True, True]
    assert not pg.button.disabled and pg.button.description == "Entrenar"
    assert result is pg.result and result.history.epochs == 2
    assert pg.progress.label.value == "Época actual: 2/2"


def test_playground_error_is_shown_in_spanish_and_ui_stays_usable(data, only_lite0):
    pg = Playground(data, models=["cnn_pequena"], batch_size=8)
    pg.samples.value, pg.epochs.value = 8, 1
    assert pg.run(callbacks=[Boom()]) is None
    assert "El entrenamiento falló en el callback Boom" in pg.message.value
    assert "explosión de prueba" in pg.message.value and "Traceback" not in pg.message.value
    assert isinstance(pg.last_error, LabkitError)
    assert isinstance(pg.last_error.__cause__, RuntimeError)
    assert not pg.button.disabled and not pg.samples.disabled and pg.result is None
    pg.button.click()  # vuelve a funcionar
    assert pg.result is not None and pg.last_error is None
    assert "salió mal" not in pg.message.value and "desde cero" in pg.message.value


def test_playground_labkit_error_message_is_shown_as_is(data, only_lite0):
    pg = Playground(data, models=["cnn_pequena"], lr=-1.0)
    pg.button.click()
    assert "tasa de aprendizaje" in pg.message.value and "-1.0" in pg.message.value
    assert isinstance(pg.last_error, LabkitError) and not pg.button.disabled


def test_playground_run_extraction_gives_accuracy(data, only_lite0):
    pg = Playground(data, batch_size=16)
    pg.samples.value, pg.epochs.value = 40, 3
    result = pg.run()
    assert result is not None, pg.message.value
    assert result.model_name == "efficientnet_lite0" and result.mode == MODE_EXTRACTION
    assert result.depth == pg.freeze_slider.max and result.n_train == 40
    assert 0.0 <= result.test_accuracy <= 1.0
    assert result.confusion.shape == (4, 4) and int(result.confusion.sum()) == len(data.test)
    assert result.history.cached  # la extracción va sobre características guardadas
    text = pg.result_text.value
    assert "Exactitud en prueba: " in text and "(24 imágenes de superficies/test)" in text
    assert f"{result.test_accuracy * 100:.1f} %" in text and "n.º 1" in text
    assert len(pg.result_plots.outputs) == 2  # matriz de confusión y errores
    again = pg.run()  # la segunda vez reutiliza las características
    assert again.run == 2 and again.test_accuracy == pytest.approx(result.test_accuracy)
    assert pg._cache.hits >= 3


def test_playground_fine_tune_mode_is_the_course_recipe(data, only_lite0):
    from labkit.training import FINE_TUNE_DEFAULTS as D

    pg = Playground(data, batch_size=16)
    pg.mode.value = MODE_FINE_TUNE
    pg.samples.value, pg.epochs.value = 40, 2
    assert f"antes, {D['head_epochs']} épocas de cabeza" in pg.plan.value
    # la cabeza mejora (0.5) y el ajuste fino no: el playground lo dice
    losses = iter([1.0] * (D["head_epochs"] - 1) + [0.5, 0.9, 0.8])
    result = pg.run(metrics=lambda lo, y: (next(losses), lp_loop.loss_and_accuracy(lo, y)[1]))
    assert result is not None, pg.message.value
    assert result.history.phase == ["cabeza"] * D["head_epochs"] + ["ajuste fino"] * 2
    assert result.history.best_phase == "cabeza" and result.depth == pg.freeze_slider.value
    assert "fase «cabeza»" in pg.result_text.value


class StopAtStart(Callback):
    def on_train_begin(self, state):
        raise KeyboardInterrupt


def test_playground_controls_come_back_after_ctrl_c(data, only_lite0):
    pg = Playground(data, models=["cnn_pequena"], batch_size=8)
    pg.samples.value, pg.epochs.value = 8, 1
    assert pg.run(callbacks=[StopAtStart()]) is None  # sin épocas: ningún «0.0 %» como resultado
    assert "interrumpido antes de terminar la primera época" in pg.message.value
    assert "Exactitud en prueba" not in pg.result_text.value
    assert not pg.button.disabled and pg.button.description == "Entrenar"


class StopInSecondEpoch(Callback):
    def on_batch_end(self, state):
        if state.epoch == 2:
            raise KeyboardInterrupt


def test_playground_interrupted_run_says_so_and_which_weights(data, only_lite0):
    pg = Playground(data, models=["cnn_pequena"], batch_size=8)
    pg.samples.value, pg.epochs.value = 8, 3
    result = pg.run(callbacks=[StopInSecondEpoch()])
    assert result is not None and result.interrupted and result.weights_epoch == 1
    assert "interrumpido: 1 de 3 épocas, pesos de la época 1" in pg.result_text.value
    assert not pg.samples.disabled and not pg.epochs.disabled
