"""El único bucle: los mismos números de siempre, una regla de «mejor época» y la costura de métricas.

``GOLDEN`` son historiales medidos en CPU con el bucle de antes de unificarlo (``fit``, ``fit``
con aumento, razón, calendario y paciencia, ``fine_tune`` y ``lr_find``): el bucle único debe
consumir los números aleatorios en el mismo orden y dar los mismos números, para que las salidas
de los cuadernos no cambien.
"""

import dataclasses
import inspect

import pytest
import torch
from helpers import make_set

from labkit import LabkitError, create_model, fine_tune, fit, freeze_to, lr_find
from labkit.experiments import BestWeights, stop_epoch
from labkit.training import (
    DataOptions,
    FitSettings,
    Optimization,
    Output,
    Stopping,
    improves,
    score,
)
from labkit.training._loop import loss_and_accuracy
from labkit.training._lr_finder import RangeTest

GOLDEN = {'aug': [[0.5610504422336817, 0.0038865300361067058, 0.004602250782772899],
         [0.9198110103607178, 0.7552117109298706, 0.6671386361122131], [1.0, 1.0, 1.0],
         [0.003, 0.0015014999999999998, 3e-06]],
 'fine_tune': [[1.0983118295669556, 1.0899610996246338, 0.6285945117473603,
                0.07748002707958221],
               [1.0911797285079956, 1.083713173866272, 1.0277690887451172, 0.982686460018158],
               [0.3333333432674408, 0.3333333432674408, 1.0, 1.0],
               [0.001, 0.001, 0.001, 4e-09]],
 'lr_find': [[1e-07, 2.636650898730358e-07, 6.951927961775605e-07, 1.8329807108324356e-06,
              4.832930238571752e-06, 1.2742749857031334e-05, 3.3598182862837807e-05,
              8.858667904100823e-05, 0.00023357214690901214, 0.000615848211066026,
              0.0016237767391887208, 0.004281332398719396, 0.011288378916846883,
              0.029763514416313194, 0.07847599703514606],
             [1.3343333005905151, 1.2050495147705078, 1.169629454612732, 1.208055853843689,
              1.1200251579284668, 1.1580846309661865, 1.2248263359069824, 0.9738765358924866,
              0.8568329215049744, 0.4592716693878174, 0.08006779104471207, 0.13482944667339325,
              0.01744852587580681, 0.05195607990026474, 0.38244929909706116],
             [3.3598182862837807e-05, 0.007847599703514606, 0.000615848211066026]],
 'plain': [[0.6182617343962192, 0.007369644194841385, 0.010444064438343049],
           [0.2000754177570343, 0.01343205664306879, 0.002116012154147029], [1.0, 1.0, 1.0],
           [0.003, 0.003, 0.003]]}


def _model(seed: int = 0):
    torch.manual_seed(seed)
    return create_model("cnn_pequena", num_classes=3, pretrained=False)


@pytest.fixture(scope="module")
def sets():
    return make_set(40), make_set(18, seed=1)


def _close(got, want):
    assert got == pytest.approx(want, rel=1e-4, abs=1e-6)


def _curves(h):
    return [h.train_loss, h.val_loss, h.val_acc, h.lr]


def test_fit_gives_the_same_numbers_as_before(sets):
    train, val = sets
    h = fit(_model(), train, val, epochs=3, lr=3e-3, seed=1, device="cpu", progress=False,
            batch_size=16)
    for got, want in zip(_curves(h), GOLDEN["plain"]):
        _close(got, want)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_fit_with_augment_schedule_and_ratio_gives_the_same_numbers(sets):
    train, val = sets
    m = _model()
    freeze_to(m, 1)
    h = fit(m, train, val, epochs=3, lr=3e-3, ratio=10, seed=2, device="cpu", progress=False,
            batch_size=16, augment=True, schedule="coseno", patience=2, optimizer="adamw",
            weight_decay=0.01)
    for got, want in zip(_curves(h), GOLDEN["aug"]):
        _close(got, want)


def test_fine_tune_gives_the_same_numbers_as_before(sets, capsys):
    train, val = sets
    h = fine_tune(_model(), train, val, head_epochs=2, epochs=2, seed=3, device="cpu",
                  progress=False, batch_size=16)
    for got, want in zip(_curves(h), GOLDEN["fine_tune"]):
        _close(got, want)


def test_lr_find_gives_the_same_curve_as_before(sets):
    r = lr_find(_model(), sets[0], num_iter=20, batch_size=16, device="cpu", ratio=3)
    lrs, raw, picks = GOLDEN["lr_find"]
    _close(r.lrs, lrs)
    _close(r.raw_losses, raw)
    _close([r.suggestion, r.minimum, r.steepest], picks)


# ---------------------------------------------------------------- opciones en grupos


def test_groups_and_flat_keywords_give_the_same_history(sets):
    train, val = sets
    flat = fit(_model(), train, val, epochs=2, lr=3e-3, patience=3, seed=1, device="cpu",
               progress=False, batch_size=16)
    grouped = fit(_model(), train, val,
                  optimization=Optimization(epochs=2, lr=3e-3, batch_size=16),
                  stopping=Stopping(patience=3), data_options=DataOptions(seed=1, device="cpu"),
                  output=Output(progress=False))
    assert grouped.val_loss == flat.val_loss and grouped.train_loss == flat.train_loss


def test_fit_signature_reads_at_a_glance():
    params = inspect.signature(fit).parameters
    assert list(params) == ["model", "train", "val", "optimization", "stopping",
                            "data_options", "output", "options"]
    assert all(p.kind is p.KEYWORD_ONLY for p in list(params.values())[3:7])


def test_groups_are_frozen_and_built_by_keyword_only():
    with pytest.raises(TypeError):
        Optimization(10, 1e-3)  # por posición, no
    with pytest.raises(dataclasses.FrozenInstanceError):
        Stopping().patience = 3
    s = FitSettings.build(lr=3e-4, patience=2, augment=True, phase="x")
    assert (s.optimization.lr, s.stopping.patience, s.data_options.augment, s.output.phase) == (
        3e-4, 2, True, "x")
    assert s.lr == 3e-4 and s.replace(lr=1e-2).lr == 1e-2 and s.lr == 3e-4


def test_settings_errors_are_spanish(sets):
    train, val = sets
    with pytest.raises(LabkitError, match="Opción desconocida de fit: lrr"):
        fit(_model(), train, val, lrr=1e-3)
    with pytest.raises(LabkitError, match="lr llegó suelto y también dentro de su grupo"):
        fit(_model(), train, val, lr=1e-3, optimization=Optimization(lr=1e-2))
    with pytest.raises(LabkitError, match="stopping: .*Stopping"):
        fit(_model(), train, val, stopping={"patience": 2})
    with pytest.raises(LabkitError, match="metrics: .*función"):
        fit(_model(), train, val, metrics="exactitud")


# ---------------------------------------------------------------- la razón, una vez


@pytest.mark.parametrize("call", ["fit", "group_lrs", "lr_find", "settings"])
def test_the_ratio_is_checked_once_with_one_message(sets, call):
    from labkit.training import group_lrs

    train, val = sets
    calls = {"fit": lambda: fit(_model(), train, val, ratio=0.5),
             "group_lrs": lambda: group_lrs(4, 1e-3, 0.5),
             "lr_find": lambda: lr_find(_model(), train, ratio=0.5),
             "settings": lambda: Optimization(ratio=0.5) and FitSettings.build(
                 optimization=Optimization(ratio=0.5))}
    with pytest.raises(LabkitError, match=r"ratio.*razón entre tasas de 1 o más .*10 es lo "
                                          r"habitual en ajuste fino y lo que usa la receta"):
        calls[call]()


# ---------------------------------------------------------------- una regla de mejor época


def test_one_rule_decides_the_best_epoch_everywhere(sets):
    assert improves(0.8, 1.0) and not improves(1.0, 1.0)  # empate: se queda la primera
    assert not improves(0.96, 1.0, min_delta=0.05) and improves(0.94, 1.0, min_delta=0.05)
    assert score("val_acc", 0.3, 0.9) == -0.9 and score("val_loss", 0.3, 0.9) == 0.3
    train, val = sets
    losses = [1.0, 0.8, 0.8, 0.85, 0.7]
    model = _model()
    probe = BestWeights(model)
    h = fit(model, train, val, epochs=5, metrics=_scripted(losses), callbacks=[probe],
            seed=0, device="cpu", progress=False, batch_size=16)
    assert h.best_epoch == probe.epoch["val_loss"] == 5
    assert stop_epoch(h, patience=2) == 4  # empate en la 3 y peor en la 4: dos sin mejorar
    stopped = fit(_model(), train, val, epochs=5, patience=2, metrics=_scripted(losses),
                  seed=0, device="cpu", progress=False, batch_size=16)
    assert stopped.epochs == 4 and stopped.best_epoch == 2


# ---------------------------------------------------------------- la costura de métricas


def _scripted(losses):
    it = iter(losses)
    return lambda logits, y: (next(it), loss_and_accuracy(logits, y)[1])


def test_the_metrics_seam_sees_the_validation_outputs(sets):
    train, val = sets
    seen = []

    def metrics(logits, y):
        seen.append((tuple(logits.shape), torch.equal(y, val.labels)))
        return 0.5, 0.25

    h = fit(_model(), train, val, epochs=2, metrics=metrics, seed=0, device="cpu",
            progress=False, batch_size=16)
    assert seen == [((len(val), 3), True)] * 2
    assert h.val_loss == [0.5, 0.5] and h.val_acc == [0.25, 0.25] and h.best_epoch == 1


def test_metrics_that_do_not_return_two_numbers_are_a_spanish_error(sets):
    train, val = sets
    with pytest.raises(LabkitError, match=r"métricas de validación devolvieron 0\.5"):
        fit(_model(), train, val, epochs=1, metrics=lambda lo, y: 0.5, device="cpu",
            progress=False)


def test_lr_find_is_a_callback_on_the_one_loop(sets, monkeypatch):
    import labkit.training._lr_finder as finder

    runs = []
    real = finder.supervise
    monkeypatch.setattr(finder, "supervise", lambda run: runs.append(run) or real(run))
    r = lr_find(_model(), sets[0], num_iter=12, batch_size=16, device="cpu")
    (run,) = runs
    assert isinstance(run.callbacks[0], RangeTest) and run.x_val is None
    assert run.state.history.epochs == 0  # sin validación: solo pasos
    assert len(r.raw_losses) <= len(run.callbacks[0].losses) <= 12
