"""Pruebas de labkit.plots y labkit.plots: cada función devuelve una Figure con lo esperado."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from skimage import data as skdata  # noqa: E402

from labkit.base._errors import LabkitError  # noqa: E402
from labkit.base._figures import axis_label
from labkit.data._data import ImageSet, resize_images  # noqa: E402
from labkit.models._freezing import freeze_to, train_mode  # noqa: E402
from labkit.models._models import create_model  # noqa: E402
from labkit.plots import (
    compare_first_layer_filters,
    feature_maps,
    format_lr,
    plot_accuracy_vs_samples,
    plot_confusion,
    plot_feature_maps,
    plot_first_layer_filters,
    plot_history,
    plot_image_grid,
    plot_lr_groups,
    plot_misclassified,
    plot_predictions,
    plot_sweep,
)
from labkit.plots._viz import filter_images, first_conv
from labkit.training._callbacks import History  # noqa: E402
from labkit.training._optim import group_lrs  # noqa: E402

CLASSES = ["sin defecto", "rayón", "grieta", "mancha"]


def _texts(fig: Figure) -> str:
    """Todo el texto de la figura (títulos, rótulos, anotaciones, leyendas) en una cadena."""
    return " | ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


def _imageset(n: int = 24, classes: list[str] = CLASSES, size: int = 16) -> ImageSet:
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=gen)
    return ImageSet(images, torch.arange(n) % len(classes), list(classes), "prueba")


def _history(epochs: int = 6, phases: bool = True, best: int | None = 4) -> History:
    h = History()
    for e in range(epochs):
        h.train_loss.append(1.0 / (e + 1))
        h.val_loss.append(1.2 / (e + 1))
        h.train_acc.append(0.5 + 0.08 * e)
        h.val_acc.append(0.45 + 0.07 * e)
        h.epoch_seconds.append(0.1)
        h.lr.append(1e-3)
        h.phase.append(("cabeza" if e < 2 else "ajuste fino") if phases else "")
    h.best_epoch = best
    return h


@pytest.fixture(autouse=True)
def _no_pyplot_leaks():
    """Ninguna función debe dejar figuras abiertas en pyplot."""
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before


# --------------------------------------------------------------------------------- utilidades

def test_figure_shows_itself_in_jupyter():
    fig = plot_history(_history())
    assert isinstance(fig, Figure)
    assert fig._repr_png_().startswith(b"\x89PNG")
    assert fig.get_size_inches()[0] <= 10 and fig.get_size_inches()[1] <= 4


@pytest.mark.parametrize("value, text", [(1e-6, "1e-6"), (3.2e-5, "3.2e-5"), (1e-4, "1e-4"),
                                         (0.000999999, "1e-3"), (0.5, "5e-1")])
def test_format_lr(value, text):
    assert format_lr(value) == text


def test_axis_label_is_spanish_or_readable():
    assert axis_label("n_train") == "imágenes de entrenamiento"
    assert axis_label("mi_columna") == "mi columna"


# ---------------------------------------------------------------------------- plot_image_grid

def test_image_grid_one_row_per_class():
    fig = plot_image_grid(_imageset(), per_class=3)
    assert len(fig.axes) == 4 * 3
    assert sum(len(ax.images) for ax in fig.axes) == 12
    for name in CLASSES:
        assert name in _texts(fig)


def test_image_grid_single_class_and_few_images():
    data = _imageset(n=2, classes=["única"])
    fig = plot_image_grid(data, per_class=5, title="Mis fotos")
    assert len(fig.axes) == 5
    assert sum(len(ax.images) for ax in fig.axes) == 2
    assert "Mis fotos" in _texts(fig)


def test_image_grid_is_repeatable_with_seed():
    data = _imageset(n=40)
    a = [ax.images[0].get_array().sum() for ax in plot_image_grid(data, 2, seed=1).axes]
    b = [ax.images[0].get_array().sum() for ax in plot_image_grid(data, 2, seed=1).axes]
    assert a == b


# ------------------------------------------------------------------------------- plot_history

def test_history_two_panels_best_epoch_and_phases():
    fig = plot_history(_history())
    loss, acc = fig.axes
    assert len(loss.lines) == 3  # entrenamiento, validación, mejor época
    assert loss.lines[-1].get_xdata()[0] == 4
    assert len(loss.patches) == 2  # fases "cabeza" y "ajuste fino"
    text = _texts(fig)
    for word in ("Pérdida", "Exactitud", "mejor época", "fase: cabeza", "fase: ajuste fino"):
        assert word in text


def test_history_without_phases_or_validation():
    h = _history(phases=False, best=None)
    h.val_loss.clear()
    h.val_acc.clear()
    fig = plot_history(h)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].lines) == 1
    assert not fig.axes[0].patches
    assert "mejor época" not in _texts(fig)


def test_history_list_compares_runs():
    fig = plot_history([_history(), _history(best=5)], labels=["misma tasa", "discriminativas"])
    assert len(fig.axes[0].lines) == 6
    assert "misma tasa" in _texts(fig) and "discriminativas" in _texts(fig)


def test_history_errors_and_empty():
    with pytest.raises(LabkitError):
        plot_history([_history()], labels=["a", "b"])
    with pytest.raises(LabkitError):
        plot_history([])
    assert "épocas" in _texts(plot_history(History()))


# ----------------------------------------------------------------------------- plot_lr_groups

def test_lr_groups_log_bars_and_values():
    fig = plot_lr_groups(["temprano", "medio", "cabeza"], group_lrs(3, 1e-4, ratio=10))
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert len(ax.patches) == 3
    for label in ("1e-6", "1e-5", "1e-4"):
        assert label in _texts(fig)


def test_lr_groups_frozen_and_mismatch():
    fig = plot_lr_groups(["a", "b", "c"], [None, 0, 1e-3])
    assert len(fig.axes[0].patches) == 1
    assert _texts(fig).count("congelado") == 2
    with pytest.raises(LabkitError):
        plot_lr_groups(["a"], [1e-3, 1e-4])


# ----------------------------------------------------------------------------- plot_confusion

def test_confusion_normalized_and_counts():
    matrix = torch.tensor([[9, 1], [2, 8]])
    fig = plot_confusion(matrix, ["sí", "no"])
    assert len(fig.axes) == 2  # la matriz y su barra de color
    text = _texts(fig)
    assert "90 %" in text and "(9)" in text and "clase real" in text
    raw = _texts(plot_confusion(matrix.numpy(), ["sí", "no"], normalize=False))
    assert "9" in raw and "%" not in raw


def test_confusion_empty_row_and_bad_shape():
    assert "–" in _texts(plot_confusion([[0, 0], [1, 3]], ["a", "b"]))
    with pytest.raises(LabkitError):
        plot_confusion([[1, 2, 3]], ["a", "b"])


# ------------------------------------------------------------------------- plot_misclassified

def test_misclassified_most_confident_first():
    data = _imageset(n=8)
    preds = data.labels.clone()
    preds[[1, 2, 6]] = 0
    probs = torch.full((8,), 0.5)
    probs[6] = 0.99
    fig = plot_misclassified(data, preds, probs)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 3
    assert shown[0].get_title() == "real: grieta\npredicho: sin defecto (99 %)"
    assert "3 de 8" in _texts(fig)


def test_misclassified_full_probs_and_limit():
    data = _imageset(n=20)
    preds = (data.labels + 1) % 4
    probs = torch.softmax(torch.randn(20, 4), dim=1)
    fig = plot_misclassified(data, preds.numpy(), probs, max_images=5)
    assert sum(bool(ax.images) for ax in fig.axes) == 5


def test_misclassified_none_and_mismatch():
    data = _imageset(n=8)
    fig = plot_misclassified(data, data.labels.tolist())
    assert "Ninguna" in _texts(fig)
    with pytest.raises(LabkitError):
        plot_misclassified(data, [0, 1])


# --------------------------------------------------------------------------- plot_predictions

def test_predictions_photo_and_bars():
    photos = [skdata.coffee()[::8, ::8], torch.zeros(3, 10, 10, dtype=torch.uint8),
              np.zeros((12, 12, 3), np.uint8)]
    topk = [[("espresso", 0.9), ("cup", 0.05)], [("a", 0.6)], [("b", 0.3), ("c", 0.2)]]
    fig = plot_predictions(photos, topk, titles=["café", "negro", "otro"])
    assert len(fig.axes) == 6
    assert sum(len(ax.patches) for ax in fig.axes) == 5
    assert "espresso" in _texts(fig) and "90 %" in _texts(fig) and "café" in _texts(fig)
    with pytest.raises(LabkitError):
        plot_predictions(photos, topk[:2])


# ------------------------------------------------------------------ plot_accuracy_vs_samples

def _sweep_rows():
    return [{"n_train": n, "seed": s, "method": m, "test_acc": 0.5 + 0.001 * n + 0.01 * s}
            for n in (8, 32, 128) for s in range(3) for m in ("transferencia", "desde cero")]


def test_accuracy_vs_samples_mean_and_band():
    fig = plot_accuracy_vs_samples(_sweep_rows())
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    assert len(ax.lines) == 2
    assert len(ax.collections) == 4  # puntos de cada ejecución y banda, por método
    assert np.allclose(ax.lines[0].get_ydata(), [0.518, 0.542, 0.638])
    assert "transferencia" in _texts(fig) and "desde cero" in _texts(fig)


def test_accuracy_vs_samples_options_and_errors():
    fig = plot_accuracy_vs_samples(_sweep_rows(), hue=None, band="minmax")
    assert len(fig.axes[0].lines) == 1
    with pytest.raises(LabkitError, match="test_acc"):
        plot_accuracy_vs_samples([{"n_train": 8, "method": "a"}])
    with pytest.raises(LabkitError):
        plot_accuracy_vs_samples(_sweep_rows(), band="mal")
    assert "barrido" in _texts(plot_accuracy_vs_samples([]))


def test_accuracy_vs_samples_draws_the_majority_floor_inside_the_axis():
    fig = plot_accuracy_vs_samples(_sweep_rows(), floor=0.4)
    (ax,) = fig.axes
    assert len(ax.lines) == 3 and list(ax.lines[-1].get_ydata()) == [0.4, 0.4]
    assert ax.get_ylim()[0] < 0.4
    assert "clase mayoritaria (40.0 %)" in _texts(fig)
    with pytest.raises(LabkitError, match="fracción"):
        plot_accuracy_vs_samples(_sweep_rows(), floor=65)


# --------------------------------------------------------------------------------- plot_sweep

def test_sweep_with_secondary_axis():
    rows = [{"freeze_depth": d, "test_acc": 0.7 + 0.02 * d, "seconds": 10.0 - d}
            for d in range(5)]
    fig = plot_sweep(rows, "freeze_depth", secondary="seconds")
    assert len(fig.axes) == 2
    assert fig.axes[1].get_ylabel() == "tiempo (s)"
    assert fig.axes[0].get_xscale() == "linear"


def test_sweep_categorical_hue_and_log():
    rows = [{"grupo": g, "m": m, "test_acc": 0.5} for g in ("stem", "layer1", "fc") for m in "ab"]
    fig = plot_sweep(rows, "grupo", hue="m")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["stem", "layer1", "fc"]
    assert len(ax.lines) == 2
    ratios = [{"lr_ratio": r, "test_acc": 0.5} for r in (1, 10, 100)]
    assert plot_sweep(ratios, "lr_ratio").axes[0].get_xscale() == "log"


# ------------------------------------------------------------------------------------- viz

@pytest.fixture(scope="module")
def lite0():
    return create_model("efficientnet_lite0")


@pytest.fixture(scope="module")
def resnet_random():
    return create_model("resnet18", pretrained=False)


@pytest.fixture(scope="module")
def photo():
    image = torch.as_tensor(skdata.chelsea()).permute(2, 0, 1).unsqueeze(0)
    return resize_images(image, (64, 96))[0]


def test_filter_images_are_scaled_per_filter(resnet_random):
    conv = first_conv(resnet_random)
    assert conv is resnet_random.conv1
    images = filter_images(conv.weight, max_filters=10)
    assert images.shape == (10, 7, 7, 3)
    assert np.allclose(images.reshape(10, -1).min(1), 0)
    assert np.allclose(images.reshape(10, -1).max(1), 1)


def test_first_layer_filters_figure(lite0):
    fig = plot_first_layer_filters(lite0, max_filters=16)
    assert sum(len(ax.images) for ax in fig.axes) == 16
    assert "preentrenado" in _texts(fig) and "3×3" in _texts(fig)


def test_compare_first_layer_filters(lite0, resnet_random, tmp_path):
    fig = compare_first_layer_filters(lite0, resnet_random)
    assert len(fig.subfigs) == 2
    assert sum(len(ax.images) for ax in fig.axes) == 64
    assert "aleatorios" in _texts(fig)
    fig.savefig(tmp_path / "filtros.png")


def test_feature_maps_default_spread(lite0, photo):
    maps = feature_maps(lite0, photo)
    names = [name for name, _ in maps]
    assert names[0] == "stem" and names[-1] == "conv_head" and len(names) == 4
    sizes = [m.shape[1] * m.shape[2] for _, m in maps]
    assert sizes == sorted(sizes, reverse=True)
    assert all(m.ndim == 3 for _, m in maps)


def test_feature_maps_keep_training_modes(resnet_random, photo):
    freeze_to(resnet_random, 2)
    train_mode(resnet_random)
    before = {name: m.training for name, m in resnet_random.named_modules()}
    maps = feature_maps(resnet_random, photo.permute(1, 2, 0).numpy(), groups=[0, 4])
    assert [name for name, _ in maps] == ["conv1", "layer4"]
    assert before == {name: m.training for name, m in resnet_random.named_modules()}
    resnet_random.eval()


def test_feature_maps_rejects_head_and_bad_image(resnet_random, photo):
    with pytest.raises(LabkitError, match="layer4"):
        feature_maps(resnet_random, photo, groups=[5])
    with pytest.raises(LabkitError):
        feature_maps(resnet_random, photo.float())


def test_plot_feature_maps(lite0, photo, tmp_path):
    fig = plot_feature_maps(lite0, photo, groups=[0, 3], channels=4)
    assert len(fig.axes) == 1 + 2 * 4
    assert sum(len(ax.images) for ax in fig.axes) == 1 + 2 * 4
    assert "stem" in _texts(fig) and "blocks.2" in _texts(fig)
    fig.savefig(tmp_path / "mapas.png")
