"""El motor de entrenamiento: aprende, para a tiempo, respeta lo congelado, se repite y avisa."""

import copy
import io
import math

import pytest
import torch
from helpers import FAST, make_set

import labkit.training._loop as loop_module
import labkit.training._training as training
from labkit import LabkitError, create_model, freeze_to, frozen_depth, layer_groups
from labkit.data import ImageSet
from labkit.models import load_checkpoint, read_checkpoint, save_checkpoint
from labkit.models._checkpointmeta import checksum
from labkit.training import (
    Callback,
    TqdmCallback,
    confusion_matrix,
    evaluate,
    fine_tune,
    fit,
    predict,
)


def small_model(k: int = 3, seed: int = 0):
    torch.manual_seed(seed)
    return create_model("cnn_pequena", num_classes=k, pretrained=False)



@pytest.fixture(scope="module")
def data():
    return make_set(48), make_set(24, seed=1)


class Snapshots(Callback):
    """Guarda una copia de los pesos al final de cada época."""

    def __init__(self):
        self.weights = {}
        self.events = []

    def on_train_begin(self, state):
        self.events.append("begin")

    def on_epoch_end(self, state):  # por época de toda la ejecución (fine_tune: dos fases)
        self.weights[state.history.epochs] = copy.deepcopy(state_of(self.model))

    def on_train_end(self, state):
        self.events.append("end")


def state_of(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same_weights(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def scripted_val_losses(losses):
    """Métricas de validación con la pérdida de cada época fijada (la costura ``metrics=``)."""
    it = iter(losses)

    def metrics(logits, y):
        return next(it), loop_module.loss_and_accuracy(logits, y)[1]

    return metrics


# ---------------------------------------------------------------- aprende


def test_loss_goes_down_on_a_separable_problem(data):
    train, val = data
    model = small_model()
    h = fit(model, train, val, epochs=6, lr=3e-3, **FAST)
    assert h.epochs == 6
    assert h.train_loss[-1] < 0.5 * h.train_loss[0]
    assert h.val_acc[-1] >= 0.9
    assert h.phase == [""] * 6 and len(h.epoch_seconds) == 6
    assert h.lr == pytest.approx([3e-3] * 6)
    assert not model.training


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_other_optimizers_also_learn(data, optimizer):
    train, val = data
    h = fit(small_model(), train, val, epochs=4, lr=3e-2 if optimizer == "sgd" else 3e-3,
            optimizer=optimizer, weight_decay=1e-4, **FAST)
    assert h.train_loss[-1] < h.train_loss[0]


def test_augmentation_runs_and_learns(data):
    train, val = data
    h = fit(small_model(), train, val, epochs=4, lr=3e-3, augment=True, **FAST)
    assert not h.cached
    assert h.train_loss[-1] < h.train_loss[0]


# ---------------------------------------------------------------- parada temprana


def test_early_stopping_stops_at_the_right_epoch_and_restores_best(data):
    train, val = data
    model = small_model()
    snaps = Snapshots()
    snaps.model = model
    metrics = scripted_val_losses([1.0, 0.8, 0.85, 0.9, 0.1, 0.1])
    h = fit(model, train, val, epochs=6, patience=2, callbacks=[snaps], metrics=metrics, **FAST)
    assert h.epochs == 4 and h.stopped_early and h.best_epoch == 2
    assert h.val_loss == [1.0, 0.8, 0.85, 0.9]
    assert same_weights(state_of(model), snaps.weights[2])
    assert not same_weights(state_of(model), snaps.weights[4])
    assert snaps.events == ["begin", "end"]


def test_min_delta_ignores_tiny_improvements(data):
    train, val = data
    metrics = scripted_val_losses([1.0, 0.99, 0.98, 0.5])
    h = fit(small_model(), train, val, epochs=4, patience=2, min_delta=0.05,
            metrics=metrics, **FAST)
    assert h.epochs == 3 and h.best_epoch == 1 and h.stopped_early


def test_restore_best_is_separate_from_patience(data):
    train, val = data
    model = small_model()
    snaps = Snapshots()
    snaps.model = model
    metrics = scripted_val_losses([1.0, 0.5, 0.7])
    h = fit(model, train, val, epochs=3, callbacks=[snaps], metrics=metrics, **FAST)
    assert h.best_epoch == 2 and not h.stopped_early and h.epochs == 3
    assert h.weights_epoch == 2 and same_weights(state_of(model), snaps.weights[2])


def test_without_restore_best_the_weights_are_the_last(data):
    train, val = data
    model = small_model()
    snaps = Snapshots()
    snaps.model = model
    metrics = scripted_val_losses([1.0, 0.5, 0.7])
    h = fit(model, train, val, epochs=3, callbacks=[snaps], restore_best=False,
            metrics=metrics, **FAST)
    assert h.best_epoch == 2 and h.weights_epoch == 3
    assert same_weights(state_of(model), snaps.weights[3])


def test_monitor_val_acc_picks_the_most_accurate_epoch(data):
    train, val = data
    accs = iter([0.5, 0.9, 0.7])

    def fake(logits, y):
        return 1.0, next(accs)  # la pérdida no mejora nunca: manda la exactitud

    h = fit(small_model(), train, val, epochs=3, monitor="val_acc", metrics=fake, **FAST)
    assert h.best_epoch == 2 and h.weights_epoch == 2


def test_callback_can_ask_to_stop(data):
    train, val = data

    class StopAtTwo(Callback):
        def on_epoch_end(self, state):
            state.stop = state.epoch == 2

    h = fit(small_model(), train, val, epochs=5, callbacks=[StopAtTwo()], **FAST)
    assert h.epochs == 2 and not h.stopped_early


# ---------------------------------------------------------------- congelado


def test_frozen_params_and_bn_buffers_stay_bit_identical(data):
    train, val = data
    model = small_model()
    fit(model, train, val, epochs=1, lr=1e-2, optimizer="sgd", weight_decay=0.1, **FAST)
    freeze_to(model, 2)  # nueva profundidad: fit debe construir un optimizador nuevo
    frozen_names = {n for g in layer_groups(model)[:2] for n, _ in g.params}
    before = state_of(model)
    fit(model, train, val, epochs=2, lr=1e-2, optimizer="sgd", weight_decay=0.1, cache=False,
        augment=True, **FAST)
    after = state_of(model)
    frozen_keys = [k for k in before if k.startswith(("features.0.", "features.1."))]
    assert {k for k in frozen_keys if "running" not in k and "num_batches" not in k} \
        >= frozen_names
    assert all(torch.equal(before[k], after[k]) for k in frozen_keys)
    assert not torch.equal(before["features.2.1.running_mean"], after["features.2.1.running_mean"])
    assert not torch.equal(before["classifier.1.weight"], after["classifier.1.weight"])


def test_frozen_params_with_adamw_and_cache_stay_identical(data):
    train, val = data
    model = small_model()
    freeze_to(model, 3)
    before = state_of(model)
    h = fit(model, train, val, epochs=2, optimizer="adamw", weight_decay=0.5, **FAST)
    after = state_of(model)
    assert h.cached
    for k in before:
        if k.startswith(("features.0.", "features.1.", "features.2.")):
            assert torch.equal(before[k], after[k]), k


# ---------------------------------------------------------------- repetible


def test_same_seed_gives_identical_history(data):
    train, val = data
    runs = []
    for _ in range(2):
        h = fit(small_model(seed=1), train, val, epochs=3, augment=True, seed=7, **FAST)
        runs.append((h.train_loss, h.train_acc, h.val_loss, h.val_acc))
    assert runs[0] == runs[1]
    other = fit(small_model(seed=1), train, val, epochs=3, augment=True, seed=8, **FAST)
    assert other.train_loss != runs[0][0]


# ---------------------------------------------------------------- errores


def test_nan_loss_is_a_spanish_error_with_epoch_batch_and_lr(data):
    train, val = data
    with pytest.raises(LabkitError, match=r"época \d+, lote \d+.*tasa de aprendizaje 1e\+12"):
        fit(small_model(), train, val, epochs=5, lr=1e12, optimizer="sgd", **FAST)


def _bad_cases(train, val):
    one_class_val = val.subset(torch.nonzero(val.labels != 1).flatten())
    renamed = ImageSet(val.images, val.labels, ["a", "b", "c"])
    empty = train.subset([])
    return [
        ({"lr": 0}, train, val, "tasa de aprendizaje"),
        ({"lr": math.nan}, train, val, "tasa de aprendizaje"),
        ({"ratio": 0.5}, train, val, "razón"),
        ({"epochs": 0}, train, val, "épocas"),
        ({"batch_size": 0}, train, val, "tamaño del lote"),
        ({"optimizer": "rmsprop"}, train, val, "optimizer"),
        ({"patience": 0}, train, val, "paciencia"),
        ({}, empty, val, "entrenamiento está vacío"),
        ({}, train, val.subset([]), "validación está vacío"),
        ({}, train, one_class_val, "'clase1'"),
        ({}, train, renamed, "no coinciden"),
    ]


def test_bad_inputs_fail_before_training(data):
    train, val = data
    for kwargs, tr, va, message in _bad_cases(train, val):
        model = small_model()
        snaps = Snapshots()
        with pytest.raises(LabkitError, match=message):
            fit(model, tr, va, callbacks=[snaps], **{**FAST, **kwargs})
        assert snaps.events == [], kwargs


def test_head_with_wrong_number_of_outputs_says_how_to_fix(data):
    train, val = data
    with pytest.raises(LabkitError, match=r"num_classes=3"):
        fit(small_model(k=2), train, val, **FAST)


def test_nothing_trainable_is_an_error(data):
    train, val = data
    model = small_model()
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(LabkitError, match="nada que entrenar"):
        fit(model, train, val, **FAST)


# ---------------------------------------------------------------- Ctrl+C


class InterruptAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch
        self.ended = False

    def on_epoch_end(self, state):
        if state.epoch == self.epoch:
            raise KeyboardInterrupt

    def on_train_end(self, state):
        self.ended = True


def test_keyboard_interrupt_stops_cleanly_and_keeps_best_weights(data):
    train, val = data
    model = small_model()
    snaps = Snapshots()
    snaps.model = model
    stop = InterruptAt(2)
    metrics = scripted_val_losses([0.5, 0.9, 0.1])
    h = fit(model, train, val, epochs=5, patience=3, callbacks=[snaps, stop],
            metrics=metrics, **FAST)
    assert h.interrupted and h.epochs == 2 and h.best_epoch == 1 and stop.ended
    assert same_weights(state_of(model), snaps.weights[1])


class InterruptBatch(Callback):
    def on_batch_end(self, state):
        if state.epoch == 2 and state.batch == 2:
            raise KeyboardInterrupt


def test_keyboard_interrupt_mid_epoch_returns_the_completed_epochs(data):
    train, val = data
    h = fit(small_model(), train, val, epochs=4, callbacks=[InterruptBatch()], **FAST)
    assert h.interrupted and h.epochs == 1


def test_interrupt_mid_epoch_with_patience_restores_the_best_epoch(data):
    train, val = data
    model = small_model()
    snaps = Snapshots()
    snaps.model = model
    h = fit(model, train, val, epochs=4, patience=2, callbacks=[snaps, InterruptBatch()],
            **FAST)
    assert h.interrupted and h.epochs == 1 and h.best_epoch == 1
    assert same_weights(state_of(model), snaps.weights[1])


# ---------------------------------------------------------------- fine_tune


def test_fine_tune_runs_two_phases_with_the_right_freezing(data):
    train, val = data
    model = small_model()
    n = len(layer_groups(model))
    seen = []

    class Depth(Callback):
        def on_train_begin(self, state):
            seen.append((state.phase, frozen_depth(model)))

    h = fine_tune(model, train, val, head_epochs=2, epochs=2, unfreeze_to=1, lr=1e-4,
                  callbacks=[Depth()], schedule="constante", augment=False, **FAST)
    assert seen == [("cabeza", n - 1), ("ajuste fino", 1)]
    assert h.phase == ["cabeza", "cabeza", "ajuste fino", "ajuste fino"]
    assert h.lr == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4])
    assert frozen_depth(model) == 1
    assert h.cached  # la fase de cabeza usa la caché


def test_fine_tune_checks_the_second_phase_before_training(data):
    train, val = data
    model = small_model()
    before = state_of(model)
    with pytest.raises(LabkitError, match="unfreeze_to"):
        fine_tune(model, train, val, unfreeze_to=99, **FAST)
    with pytest.raises(LabkitError, match="razón"):
        fine_tune(model, train, val, ratio=0.1, **FAST)
    assert same_weights(before, state_of(model))


# ---------------------------------------------------------------- evaluación


def test_evaluate_predict_and_confusion_matrix_agree(data):
    train, val = data
    model = small_model()
    fit(model, train, val, epochs=2, **FAST)
    result = evaluate(model, val)
    labels, probs = predict(model, val)
    assert probs.shape == (len(val), 3)
    assert torch.allclose(probs.sum(1), torch.ones(len(val)), atol=1e-5)
    assert result["accuracy"] == pytest.approx(float((labels == val.labels).float().mean()))
    cm = confusion_matrix(val.labels, labels, 3)
    assert cm.sum() == len(val) and int(cm.trace()) == int((labels == val.labels).sum())
    assert torch.equal(predict(model, val.images)[0], labels)


def test_confusion_matrix_rows_are_true_classes():
    cm = confusion_matrix([0, 0, 1, 2], [0, 1, 1, 0], 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]
    with pytest.raises(LabkitError):
        confusion_matrix([0, 3], [0, 1], 3)


def test_progress_bar_renders_to_plain_text(data):
    train, val = data
    buf = io.StringIO()
    fit(small_model(), train, val, epochs=3, callbacks=[TqdmCallback(file=buf)], **FAST)
    text = buf.getvalue()
    assert "3/3 épocas" in text and "exactitud" in text
    assert text.count("\n") == 1 and text.count("\r") <= 20


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_roundtrip_by_model_and_by_name(data, tmp_path):
    train, val = data
    model = small_model()
    fit(model, train, val, epochs=1, **FAST)
    path = save_checkpoint(model, tmp_path / "sub" / "m.pt", classes=train.classes, epoch=1)
    assert [p.name for p in path.parent.iterdir()] == ["m.pt"]
    other = load_checkpoint(small_model(seed=5), path)
    assert same_weights(state_of(model), state_of(other))
    assert other.labkit_info.categories == train.classes
    by_name = load_checkpoint("cnn_pequena", path)
    assert same_weights(state_of(model), state_of(by_name))
    assert read_checkpoint(path)["meta"] == {"epoch": 1}


def test_checkpoint_mismatches_are_spanish_errors(tmp_path):
    path = save_checkpoint(small_model(k=4), tmp_path / "m.pt")
    with pytest.raises(LabkitError, match="(?i)el checkpoint es de 4 clases y el modelo tiene 2"):
        load_checkpoint(small_model(k=2), path)
    lite = create_model("efficientnet_lite0", num_classes=4, pretrained=False)
    with pytest.raises(LabkitError, match="'cnn_pequena'"):
        load_checkpoint(lite, path)
    data = read_checkpoint(path)
    data["state_dict"]["classifier.1.weight"] = torch.zeros(4, 7)
    data["checksum"] = checksum(data)  # coherente: solo la forma no encaja
    torch.save(data, tmp_path / "bad.pt")
    with pytest.raises(LabkitError, match="formas distintas"):
        load_checkpoint(small_model(k=4), tmp_path / "bad.pt")
    with pytest.raises(LabkitError, match="No existe"):
        load_checkpoint(small_model(k=4), tmp_path / "nada.pt")
    (tmp_path / "roto.pt").write_bytes(b"esto no es un checkpoint")
    with pytest.raises(LabkitError, match="dañado"):
        load_checkpoint(small_model(k=4), tmp_path / "roto.pt")


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    model = small_model()
    path = save_checkpoint(model, tmp_path / "m.pt", note="primero")

    def boom(*args, **kwargs):
        raise OSError("disco lleno")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(LabkitError, match="No se pudo escribir el checkpoint"):
        save_checkpoint(model, path, note="segundo")
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]
    assert read_checkpoint(path)["meta"] == {"note": "primero"}
    with pytest.raises(LabkitError, match="metadato"):
        save_checkpoint(model, path, note=object())


def test_fit_saves_the_best_epoch_as_checkpoint(data, tmp_path):
    train, val = data
    model = small_model()
    snaps = Snapshots()
    snaps.model = model
    metrics = scripted_val_losses([1.0, 0.4, 0.6])
    fit(model, train, val, epochs=3, checkpoint=tmp_path / "mejor.pt", callbacks=[snaps],
        metrics=metrics, **FAST)
    saved = read_checkpoint(tmp_path / "mejor.pt")
    assert saved["meta"]["epoch"] == 2 and saved["classes"] == train.classes
    assert same_weights(saved["state_dict"], snaps.weights[2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mejor.pt"]


# ---------------------------------------------------------------- una mejor época para dos fases


def test_fine_tune_keeps_the_best_of_both_phases_in_weights_and_checkpoint(data, tmp_path):
    train, val = data
    model = small_model()
    snaps = Snapshots()
    snaps.model = model
    # cabeza: 1.0, 0.5 (la mejor) · ajuste fino: diverge suave, nunca mejora
    metrics = scripted_val_losses([1.0, 0.5, 1.4, 2.0])
    h = fine_tune(model, train, val, head_epochs=2, epochs=2, checkpoint=tmp_path / "m.pt",
                  callbacks=[snaps], metrics=metrics, **FAST)
    assert h.epochs == 4 and h.best_epoch == 2 and h.weights_epoch == 2
    saved = read_checkpoint(tmp_path / "m.pt")
    assert saved["meta"]["epoch"] == 2 and saved["meta"]["val_loss"] == 0.5
    head_phase_weights = snaps.weights[2]  # la época 2 de la fase de cabeza
    assert same_weights(saved["state_dict"], head_phase_weights)
    assert same_weights(state_of(model), head_phase_weights)


def test_fine_tune_counts_best_epoch_over_both_phases(data, capsys):
    train, val = data
    metrics = scripted_val_losses([1.0, 0.9, 0.3, 0.6])
    h = fine_tune(small_model(), train, val, head_epochs=2, epochs=2, metrics=metrics, **FAST)
    assert h.best_epoch == 3 and h.phase[2] == "ajuste fino" and h.best_phase == "ajuste fino"
    assert h.notes == [] and "fase «cabeza»" not in capsys.readouterr().out


def test_fine_tune_says_when_the_best_epoch_is_from_the_head_phase(data, capsys):
    train, val = data
    # cabeza: 1.0, 0.5 (la mejor) · ajuste fino: nunca la mejora
    metrics = scripted_val_losses([1.0, 0.5, 0.7, 0.6, 0.9])
    h = fine_tune(small_model(), train, val, head_epochs=2, epochs=3, metrics=metrics, **FAST)
    assert h.best_epoch == 2 and h.best_phase == "cabeza" and h.weights_epoch == 2
    assert len(h.notes) == 1 and "fase «cabeza»" in h.notes[0] and "3 épocas" in h.notes[0]
    out = capsys.readouterr().out
    assert h.notes[0] in out  # lo dice, no solo lo apunta
    assert f"[semilla {FAST.get('seed', 0)}] Ojo" in out  # y de qué semilla (en un bucle)


def test_fine_tune_defaults_come_from_the_one_recipe(data):
    from labkit.training import FINE_TUNE_DEFAULTS as D

    train, val = data
    seen = []

    class Settings(Callback):
        def on_train_begin(self, state):
            seen.append(state.phase)

    h = fine_tune(small_model(), train, val, callbacks=[Settings()], **FAST)
    assert h.phase == ["cabeza"] * D["head_epochs"] + ["ajuste fino"] * D["epochs"]
    assert seen == ["cabeza", "ajuste fino"]
    tuned = h.lr[D["head_epochs"]:]  # tasa del último lote de cada época
    assert D["lr"] / 2 < max(tuned) <= D["lr"] * (1 + 1e-9)
    assert D["schedule"] == "constante" or tuned[-1] < D["lr"] / 10  # one_cycle baja al final


def test_fine_tune_accepts_data_splits_and_uses_the_default_depth(data):
    from labkit.data import DataSplits
    from labkit.models import default_fine_tune_depth

    train, val = data
    model = small_model()
    h = fine_tune(model, DataSplits(train, val, val), head_epochs=1, epochs=1, **FAST)
    assert h.epochs == 2 and frozen_depth(model) == default_fine_tune_depth(model)
    with pytest.raises(LabkitError, match="DataSplits"):
        fine_tune(model, train, **FAST)


def test_freeze_leaves_only_the_head_and_unfreeze_everything():
    from labkit import freeze, unfreeze

    model = small_model()
    freeze(model)
    assert frozen_depth(model) == len(layer_groups(model)) - 1
    unfreeze(model)
    assert frozen_depth(model) == 0


# ---------------------------------------------------------------- fallos: limpiar y decirlo


class BoomAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, state):
        if state.epoch == self.epoch:
            raise RuntimeError("fallo de prueba")


def test_a_callback_raising_runtime_error_is_cleaned_up_and_reported(data):
    train, val = data
    model = small_model()
    snaps = Snapshots()
    snaps.model = model
    bar = TqdmCallback(file=io.StringIO())
    metrics = scripted_val_losses([0.5, 0.9, 0.7])
    with pytest.raises(LabkitError, match=r"callback BoomAt\.on_epoch_end.*RuntimeError: fallo "
                                          r"de prueba") as info:
        fit(model, train, val, epochs=5, callbacks=[snaps, BoomAt(2), bar], metrics=metrics, **FAST)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert bar.bar is None  # la barra se cerró
    assert not model.training
    assert same_weights(state_of(model), snaps.weights[1])  # la mejor época, restaurada
    assert info.value.history.epochs == 2 and info.value.history.weights_epoch == 1


def test_a_failed_checkpoint_write_is_a_spanish_error_after_cleanup(data, tmp_path,
                                                                    monkeypatch):
    train, val = data
    model = small_model()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No queda espacio en el dispositivo")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(LabkitError, match="guardar el checkpoint"):
        fit(model, train, val, epochs=2, checkpoint=tmp_path / "m.pt", **FAST)
    assert not model.training and list(tmp_path.iterdir()) == []


def test_an_exploding_but_finite_loss_is_divergence(data):
    train, val = data
    metrics = scripted_val_losses([0.9, 5000.0])
    model = small_model()
    snaps = Snapshots()
    snaps.model = model
    with pytest.raises(LabkitError, match=r"(?s)explotó.*vuelve a crear el modelo") as info:
        fit(model, train, val, epochs=4, callbacks=[snaps], metrics=metrics, **FAST)
    assert info.value.history.best_epoch == 1
    assert same_weights(state_of(model), snaps.weights[1])


def test_a_nan_validation_loss_is_divergence(data):
    train, val = data
    metrics = scripted_val_losses([0.9, math.nan])
    with pytest.raises(LabkitError, match="validación dejó de ser un número finito"):
        fit(small_model(), train, val, epochs=3, metrics=metrics, **FAST)


def test_ctrl_c_without_early_stopping_leaves_best_epoch_and_weights_agreeing(data):
    train, val = data
    model = small_model()
    snaps = Snapshots()
    snaps.model = model
    metrics = scripted_val_losses([0.5, 0.9, 0.1])
    h = fit(model, train, val, epochs=5, restore_best=False, callbacks=[snaps, InterruptBatch()],
            metrics=metrics, **FAST)
    assert h.interrupted and h.epochs == 1 and h.best_epoch == h.weights_epoch == 1
    assert same_weights(state_of(model), snaps.weights[1])


# ---------------------------------------------------------------- argumentos (issue 12)


def test_hostile_arguments_fail_before_the_first_epoch(data, tmp_path):
    train, val = data
    blocker = tmp_path / "soy_un_archivo"
    blocker.write_text("x")
    with pytest.raises(LabkitError, match="etiquetas"):  # ImageSet ya lo rechaza al crearse
        ImageSet(train.images, train.labels - 1, train.classes)
    negative = ImageSet(train.images, train.labels.clone(), train.classes)
    negative.labels -= 1  # cambiadas después: fit también lo ve
    cases = [
        ({"seed": 1.5}, train, "seed"),
        ({"seed": -1}, train, "seed"),
        ({"tiers": 0}, train, "tiers"),
        ({"monitor": "val_f1"}, train, "monitor"),
        ({"schedule": "lineal"}, train, "schedule"),
        ({"augment": "mucho"}, train, "augment"),
        ({"checkpoint": blocker / "m.pt"}, train, "es un archivo, no una carpeta"),
        ({"checkpoint": tmp_path}, train, "es una carpeta"),
        ({}, negative, "fuera de rango"),
    ]
    if not torch.cuda.is_available():
        cases.append(({"device": "cuda"}, train, "no tiene ese dispositivo"))
    for kwargs, tr, message in cases:
        snaps = Snapshots()
        with pytest.raises(LabkitError, match=message):
            fit(small_model(), tr, val, callbacks=[snaps], **{**FAST, **kwargs})
        assert snaps.events == [], kwargs


def test_float_labels_are_rejected(data):
    train, val = data
    bad = copy.copy(train)
    bad.labels = train.labels.float() + 0.5
    with pytest.raises(LabkitError, match="enteros"):
        fit(small_model(), bad, val, **FAST)


def test_predict_on_a_float_0_255_tensor_is_a_spanish_error(data):
    _, val = data
    with pytest.raises(LabkitError, match="0–255 sin normalizar"):
        predict(small_model(), val.images.float())


# ---------------------------------------------------------------- receta: aumento y calendarios


def test_augmentation_warns_that_it_turns_the_cache_off(data):
    train, val = data
    model = small_model()
    freeze_to(model, 2)
    with pytest.warns(training.AugmentCacheWarning, match="apaga la caché"):
        h = fit(model, train, val, epochs=1, augment="sin_volteo", **FAST)
    assert not h.cached


@pytest.mark.parametrize("schedule", ["coseno", "one_cycle"])
def test_schedules_warm_up_then_decay(data, schedule):
    train, val = data
    h = fit(small_model(), train, val, epochs=6, lr=3e-3, schedule=schedule, warmup=0.3, **FAST)
    peak = max(h.lr)
    assert peak <= 3e-3 * (1 + 1e-9) and h.lr[-1] < 0.05 * peak
    assert h.lr.index(peak) in (1, 2) and h.lr[0] < peak
    assert h.train_loss[-1] < h.train_loss[0]


def test_a_failure_while_building_the_cache_is_a_spanish_error(data, monkeypatch):
    train, val = data
    model = small_model()
    freeze_to(model, 2)

    def no_memory(*args, **kwargs):
        raise RuntimeError("sin memoria")

    monkeypatch.setattr(training, "extract_features", no_memory)
    with pytest.raises(LabkitError, match="al prepararse.*RuntimeError: sin memoria"):
        fit(model, train, val, epochs=1, **FAST)
    assert not model.training


def test_fine_tune_without_restore_best_ends_with_the_last_epoch(data):
    train, val = data
    metrics = scripted_val_losses([1.0, 0.5, 0.7, 0.9])
    h = fine_tune(small_model(), train, val, head_epochs=2, epochs=2, restore_best=False,
                  metrics=metrics, **FAST)
    assert h.best_epoch == 2 and h.weights_epoch == 4


def test_history_repr_is_readable_spanish():
    from labkit.training import History

    h = History(train_loss=[1.0, 0.5], train_acc=[0.5, 0.8], val_loss=[0.9, 0.7],
                val_acc=[0.6, 0.75], epoch_seconds=[1.0, 1.0], lr=[1e-3] * 2, phase=["", ""],
                best_epoch=1, weights_epoch=1, stopped_early=True)
    text = repr(h)
    assert text.startswith("Historial: 2 épocas") and "80.0 %/75.0 %" in text
    assert "pesos de la época 1" in text and "parada temprana" in text
    assert "History(" not in text and repr(History()).startswith("Historial vacío")
