"""Los peores errores (labkit.experiments): orden, campos y figura, con respuesta conocida."""

import math

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import labkit  # noqa: E402
import labkit.experiments._toplosses as tl  # noqa: E402
from labkit.base._errors import LabkitError  # noqa: E402
from tests.helpers import make_set  # noqa: E402


@pytest.fixture
def known(monkeypatch):
    """Seis imágenes con probabilidades fijadas: la 4 y la 1 son errores seguros."""
    data = make_set(6, k=3)  # etiquetas 0 1 2 0 1 2
    probs = torch.tensor([[0.90, 0.05, 0.05],
                          [0.80, 0.10, 0.10],   # real 1, dice 0 con 80 %
                          [0.10, 0.10, 0.80],
                          [0.60, 0.30, 0.10],   # acierta, dudando
                          [0.02, 0.03, 0.95],   # real 1, dice 2 con 95 %: el peor
                          [0.30, 0.30, 0.40]])
    monkeypatch.setattr(tl, "predict", lambda *a, **k: (probs.argmax(1), probs))
    return data


def test_worst_errors_come_first_with_their_classes_and_probabilities(known):
    worst = tl.top_losses(object(), known, k=3)
    assert [t.index for t in worst] == [4, 1, 5]
    first = worst[0]
    assert (first.true, first.predicted) == ("clase1", "clase2")
    assert first.probability == pytest.approx(0.95) and first.true_probability == pytest.approx(0.03)
    assert first.loss == pytest.approx(-math.log(0.03)) and not first.correct
    assert worst[2].correct  # la 5 acierta con 40 %: pérdida alta, pero acierto


def test_k_larger_than_the_set_returns_all_sorted(known):
    every = tl.top_losses(object(), known, k=50)
    assert len(every) == 6
    assert [t.loss for t in every] == sorted((t.loss for t in every), reverse=True)


def test_losses_match_the_cross_entropy_of_evaluate():
    data = make_set(12, k=3, size=32)
    labkit.seed_everything(0)
    model = labkit.create_model("cnn_pequena", num_classes=3, pretrained=False)
    every = tl.top_losses(model, data, k=len(data))
    mean = sum(t.loss for t in every) / len(every)
    assert mean == pytest.approx(labkit.evaluate(model, data)["loss"], rel=1e-4)


def test_plot_top_losses_shows_each_image_with_prediction_and_truth(known):
    worst = tl.top_losses(object(), known, k=4)
    fig = tl.plot_top_losses(worst, known, ncols=2)
    assert isinstance(fig, Figure)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 4
    assert "predice clase2 (95%)" in drawn[0].get_title()
    assert "real: clase1" in drawn[0].get_title()


def test_bad_inputs_get_clear_errors(known):
    with pytest.raises(LabkitError, match="ImageSet"):
        tl.top_losses(object(), torch.zeros(2, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(LabkitError, match="k"):
        tl.top_losses(object(), known, k=0)
    with pytest.raises(LabkitError, match="top_losses"):
        tl.plot_top_losses([], known)
    worst = tl.top_losses(object(), known, k=6)
    with pytest.raises(LabkitError, match="mismo conjunto"):
        tl.plot_top_losses(worst, known.subset([0, 1]))
