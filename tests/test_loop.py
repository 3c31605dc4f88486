"""El único bucle: los mismos números de siempre, una regla de «mejor época» y la costura de métricas.

``GOLDEN`` son historiales medidos en CPU con el bucle de antes de unificarlo (``fit``, ``fit``
con aumento, razón, calendario y paciencia, ``fine_tune`` y ``lr_find``): el bucle único debe
consumir los números aleatorios en el mismo orden y dar los mismos números, para que las salidas
de los cuadernos no cambien.
"""

import pytest
import torch
from helpers import make_set

from labkit import create_model, fine_tune, fit, freeze_to, lr_find

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
