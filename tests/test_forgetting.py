"""Pruebas de labkit.experiments (la sonda de ImageNet) y de la lectura de curvas del ejercicio."""

import copy

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import labkit  # noqa: E402
from labkit.base._errors import LabkitError  # noqa: E402
from labkit.checks import check_overfitting_answer  # noqa: E402
from labkit.experiments import (  # noqa: E402
    BestWeights,
    ImageNetProbe,
    ProbeCallback,
    bn_stat_shift,
    frozen_batchnorms,
    plot_forgetting,
    plot_forgetting_runs,
    probe_photos,
    stop_epoch,
)
from labkit.training._callbacks import History  # noqa: E402
from tests.helpers import FAST, make_set  # noqa: E402


@pytest.fixture(scope="module")
def original():
    return labkit.create_model("efficientnet_lite0")


@pytest.fixture(scope="module")
def probe(original):
    images, _ = probe_photos(64, names=("coffee", "chelsea", "camera"))
    return ImageNetProbe(original, images)


def test_probe_photos_are_four_views_per_photo():
    images, names = probe_photos(32, names=("coffee", "camera"))
    assert images.shape == (8, 3, 32, 32) and images.dtype == torch.uint8
    assert names == ["coffee"] * 4 + ["camera"] * 4
    assert torch.equal(images[0].flip(-1), images[2])  # la tercera vista es la primera reflejada


def test_probe_agrees_with_itself_and_with_a_copy(original, probe):
    assert probe.measure(original).agreement == 1.0
    twin = labkit.replace_head(copy.deepcopy(original), 2)  # otra cabeza, el mismo cuerpo
    assert probe.measure(twin).agreement == 1.0


def test_probe_sees_a_damaged_body(original, probe):
    damaged = copy.deepcopy(original)
    with torch.no_grad():
        for p in damaged.conv_head.parameters():
            p.mul_(-1.0)
    assert probe.measure(damaged).agreement < 1.0


def test_probe_needs_the_imagenet_head(original):
    with pytest.raises(LabkitError, match="1000"):
        ImageNetProbe(labkit.replace_head(copy.deepcopy(original), 2), torch.zeros(1, 3, 32, 32,
                                                                             dtype=torch.uint8))


def test_probe_keeps_model_modes(original, probe):
    model = copy.deepcopy(original)
    labkit.freeze(model)
    labkit.train_mode(model)
    modes = [m.training for m in model.modules()]
    probe.measure(model)
    assert [m.training for m in model.modules()] == modes


def test_callbacks_record_each_epoch_and_keep_best_weights(original, probe):
    data = make_set(24, k=2, size=32)
    model = labkit.replace_head(copy.deepcopy(original), 2)
    labkit.freeze_to(model, 8)
    record, best = ProbeCallback(model, probe), BestWeights(model)
    history = labkit.fit(model, data, data, epochs=3, lr=1e-3, callbacks=[record, best],
                         restore_best=False, **FAST)
    assert record.epochs == [0, 1, 2, 3]
    assert record.agreement[0] == 1.0
    assert record.at(0).agreement == 1.0
    for monitor in ("val_loss", "val_acc"):
        assert 1 <= best.epoch[monitor] <= 3
        copy_ = best.model_for(monitor)
        assert copy_ is not model
    assert best.epoch["val_loss"] == history.best_epoch and best.epoch["last"] == 3
    last = best.model_for("last").state_dict()
    assert all(torch.equal(v, last[k]) for k, v in model.state_dict().items())
    with pytest.raises(LabkitError):
        record.at(7)
    assert isinstance(plot_forgetting(history, record, marks={"mejor": history.best_epoch}),
                      Figure)
    assert isinstance(plot_forgetting_runs({"a": (history, record)}), Figure)
    with pytest.raises(LabkitError):
        plot_forgetting_runs({})


def test_bn_stat_shift_sees_model_train_and_not_train_mode(original):
    model = copy.deepcopy(original)
    labkit.freeze(model)
    assert len(frozen_batchnorms(model)) > 0
    before = copy.deepcopy(model)
    x = torch.randn(4, 3, 32, 32)
    labkit.train_mode(model)
    with torch.no_grad():
        model(x)
    assert bn_stat_shift(before, model)["changed"] == 0
    model.train()
    with torch.no_grad():
        model(x)
    shift = bn_stat_shift(before, model)
    assert shift["changed"] == shift["layers"] and shift["mean_shift"] > 0


@pytest.mark.parametrize("monitor", ["val_loss", "val_acc"])
def test_stop_epoch_matches_fit_with_patience(monitor):
    data, val = make_set(48, k=3, size=16), make_set(24, k=3, size=16, seed=1)

    def run(patience):
        labkit.seed_everything(0)
        model = labkit.create_model("cnn_pequena", num_classes=3, pretrained=False)
        return labkit.fit(model, data, val, epochs=25, lr=3e-2, patience=patience,
                          monitor=monitor, **FAST)

    full = run(None)
    expected = stop_epoch(full, 2, monitor)
    stopped = run(2)
    if expected is None:
        assert not stopped.stopped_early
    else:
        assert stopped.stopped_early and stopped.epochs == expected
        assert stopped.val_loss == full.val_loss[:expected]


def test_stop_epoch_counts_each_phase_and_refuses_an_early_phase():
    h = History()
    h.val_loss = [0.5, 0.4, 0.45, 0.3, 0.35, 0.36]
    h.val_acc = [0.5] * 6
    h.phase = ["cabeza"] * 3 + ["ajuste fino"] * 3
    assert stop_epoch(h, 2) == 6          # la cuenta vuelve a 0 al empezar el ajuste fino
    assert stop_epoch(h, 3) is None
    with pytest.raises(LabkitError, match="cabeza"):
        stop_epoch(h, 1)


# --- check_overfitting_answer leyendo la curva del alumno -----------------------------------------

def _history(train, val):
    h = History()
    h.train_loss, h.val_loss = list(train), list(val)
    return h


OVERFIT = _history([0.6, 0.3, 0.2, 0.1, 0.05], [0.5, 0.4, 0.45, 0.5, 0.6])
STILL_LEARNING = _history([0.6, 0.5, 0.4, 0.35, 0.3], [0.7, 0.6, 0.55, 0.5, 0.48])


def test_overfitting_curve_accepts_b_only():
    assert check_overfitting_answer("b", OVERFIT).passed is True
    assert "época 2" in check_overfitting_answer("b", OVERFIT).message
    for wrong in ("a", "c", "d"):
        assert check_overfitting_answer(wrong, OVERFIT).passed is False


def test_curve_still_improving_never_marks_wrong_what_it_shows():
    assert check_overfitting_answer("a", STILL_LEARNING).passed is True
    assert check_overfitting_answer("c", STILL_LEARNING).passed is True
    assert check_overfitting_answer("b", STILL_LEARNING).passed is False


def test_curve_checker_accepts_dicts_and_reports_teacher_problems():
    assert check_overfitting_answer("b", {"train_loss": OVERFIT.train_loss,
                                          "val_loss": OVERFIT.val_loss}).passed is True
    for broken in (History(), {"val_loss": [1, 2, 3]}, _history([1, 2], [1, 2]), object()):
        result = check_overfitting_answer("b", broken)
        assert result.passed is None and "No se pudo comprobar" in result.message


def test_curve_without_a_pattern_is_not_graded():
    both_rise = _history([0.3, 0.2, 0.4, 0.5], [0.5, 0.4, 0.6, 0.7])
    result = check_overfitting_answer("b", both_rise)
    assert result.passed is None


def test_unanswered_with_history_is_pending():
    assert "sin responder" in check_overfitting_answer(None, OVERFIT).message
