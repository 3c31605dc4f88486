"""Datos desbalanceados: exactitud balanceada y recall por clase en evaluate; pesos de clase en fit."""

import math

import pytest
import torch
from helpers import FAST, make_set

import labkit.training._loop as loop
from labkit import LabkitError, create_model
from labkit.experiments import compare
from labkit.training import class_metrics, evaluate, fit, per_image_correct, predict
from labkit.training._evaluation import class_weight_tensor


def small_model(k: int = 3, seed: int = 0):
    torch.manual_seed(seed)
    return create_model("cnn_pequena", num_classes=k, pretrained=False)


def test_class_metrics_by_hand():
    out = class_metrics([0, 0, 0, 1], [0, 0, 1, 1], ["sana", "enferma"])
    assert out["recall"] == pytest.approx({"sana": 2 / 3, "enferma": 1.0})
    assert out["balanced_accuracy"] == pytest.approx(5 / 6)  # la exactitud sería 3/4


def test_class_metrics_ignores_a_class_without_examples():
    out = class_metrics([0, 0, 1], [0, 1, 1], ["a", "b", "c"])
    assert math.isnan(out["recall"]["c"])
    assert out["balanced_accuracy"] == pytest.approx((0.5 + 1.0) / 2)


def test_evaluate_reports_balanced_accuracy_and_recall_consistent_with_predict():
    train, test = make_set(48), make_set(30, seed=1).subset(list(range(30))[:24] + [0, 3])
    model = small_model()
    fit(model, train, make_set(24, seed=2), epochs=2, lr=3e-3, **FAST)
    res = evaluate(model, test)
    pred, _ = predict(model, test)
    expected = class_metrics(test.labels, pred, test.classes)
    assert set(res) >= {"loss", "accuracy", "balanced_accuracy", "recall"}
    assert res["recall"] == pytest.approx(expected["recall"])
    assert res["balanced_accuracy"] == pytest.approx(expected["balanced_accuracy"])
    assert res["accuracy"] == pytest.approx(float((pred == test.labels).float().mean()))
    assert "correct" not in res  # los aciertos por imagen, solo si se piden
    correct = per_image_correct(model, test)
    assert correct.dtype == torch.bool and torch.equal(correct, pred == test.labels)
    assert torch.equal(evaluate(model, test, per_image=True)["correct"], correct)
    # lo que labkit.compare empareja: la exactitud balanceada sale igual de los aciertos
    same = compare({"a": [correct], "b": [correct]}, labels=test.labels,
                   metric="balanced_accuracy")
    assert same.arm("a").mean == pytest.approx(res["balanced_accuracy"])


def test_balanced_weights_follow_the_counts():
    data = make_set(40, k=2).subset(list(range(0, 40, 2)) + [1, 3, 5, 7, 9])  # 20 / 5
    w = class_weight_tensor("balanced", data)
    assert w.tolist() == pytest.approx([25 / (2 * 20), 25 / (2 * 5)])
    assert class_weight_tensor(None, data) is None
    assert class_weight_tensor([1, 3], data).tolist() == [1.0, 3.0]


def test_fit_passes_the_weights_to_the_loss(monkeypatch):
    train, val = make_set(48), make_set(24, seed=1)
    seen = []
    real = loop.F.cross_entropy

    def spy(logits, y, weight=None, **kw):
        seen.append(weight)
        return real(logits, y, weight=weight, **kw)

    plain = fit(small_model(), train, val, epochs=2, lr=3e-3, **FAST)
    same = fit(small_model(), train, val, epochs=2, lr=3e-3, class_weights=[1, 1, 1], **FAST)
    monkeypatch.setattr(loop.F, "cross_entropy", spy)
    other = fit(small_model(), train, val, epochs=2, lr=3e-3, class_weights=[1, 5, 1], **FAST)
    assert same.train_loss == pytest.approx(plain.train_loss)
    assert other.train_loss != pytest.approx(plain.train_loss)
    assert any(w is not None and w.tolist() == [1.0, 5.0, 1.0] for w in seen)


@pytest.mark.parametrize("bad", ["balanceado", [1, 2], [1, -1, 1], [1, float("nan"), 1], ["a"]])
def test_bad_class_weights_are_spanish_errors(bad):
    train, val = make_set(12), make_set(6, seed=1)
    with pytest.raises(LabkitError, match="class_weights"):
        fit(small_model(), train, val, epochs=1, class_weights=bad, **FAST)
