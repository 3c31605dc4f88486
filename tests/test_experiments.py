"""Barridos de ``labkit.experiments`` y el explorador de ``labkit.explorers``, en miniatura.

Datos aleatorios de 32 px, una semilla, una época: lo que se prueba es la forma de las filas,
la cuenta de los resúmenes y que todo se repite con la misma semilla, no la exactitud.
"""

import math

import pytest
import torch

import labkit
import labkit.experiments._experiments as ex
import labkit.training
from labkit import LabkitError, create_model, freeze_to, layer_groups
from labkit.data import DataSplits, ImageSet
from labkit.training import FeatureSet
from labkit.training._loop import loss_and_accuracy
from labkit.widgets import SampleSizeExplorer

TINY = ex.Recipe(head_epochs=1, fine_tune_epochs=1, scratch_steps=1, scratch_min_epochs=1,
                 scratch_max_epochs=2, batch_size=8)
ROW_KEYS = {"method", "n_train", "seed", "test_acc", "val_acc", "train_seconds", "epochs",
            "model", "test_correct", "best_phase"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Un hilo: en una máquina de 2 núcleos compartida, 2 hilos OpenMP se estorban."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _set(n: int, seed: int, name: str, k: int = 2) -> ImageSet:
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % k
    images = torch.randint(0, 120, (n, 3, 32, 32), generator=gen, dtype=torch.uint8)
    images += (labels * 100).to(torch.uint8).view(-1, 1, 1, 1)  # clases distinguibles
    return ImageSet(images, labels, [f"clase {i}" for i in range(k)], name)


@pytest.fixture(scope="module")
def data() -> DataSplits:
    return DataSplits(_set(16, 1, "mini/train"), _set(8, 2, "mini/val"), _set(8, 3, "mini/test"))


@pytest.fixture(scope="module")
def features(data) -> ex.TransferFeatures:
    """Características de Lite0 sin pesos preentrenados, desde la profundidad del ajuste fino."""
    from labkit.models import default_fine_tune_depth

    with torch.device("meta"):
        depth = default_fine_tune_depth(create_model("efficientnet_lite0", pretrained=False))
    return ex.transfer_features(data, "efficientnet_lite0", depth=depth, pretrained=False)


# ---------------------------------------------------------------- barrido de tamaño


def test_data_size_sweep_one_row_per_method_size_and_seed(data, features):
    done = []
    rows = ex.data_size_sweep(data, sizes=(8, 4), seeds=(0,), recipe=TINY, features=features,
                              progress=lambda i, total, row: done.append((i, total)))
    assert [(r["method"], r["n_train"]) for r in rows] == [
        (m, n) for n in (4, 8) for m in ex.METHODS]
    for row in rows:
        assert set(row) == ROW_KEYS
        assert 0.0 <= row["test_acc"] <= 1.0 and 0.0 <= row["val_acc"] <= 1.0
        assert row["test_correct"].shape == (len(data.test),)  # aciertos por imagen
        assert float(row["test_correct"].float().mean()) == pytest.approx(row["test_acc"])
        assert row["train_seconds"] > 0 and row["epochs"] >= 1
    assert {r["model"] for r in rows if r["method"] == "desde_cero"} == {"cnn_pequena"}
    assert [r["epochs"] for r in rows if r["method"] == "ajuste_fino"] == [2, 2]
    assert done == [(i, 6) for i in range(1, 7)]


def test_sizes_larger_than_training_are_skipped_with_a_warning(data):
    with pytest.warns(UserWarning, match="omiten los tamaños \\[32, 64\\]"):
        rows = ex.data_size_sweep(data, sizes=(4, 32, 64), seeds=(0, 1),
                                  methods=("desde_cero",), recipe=TINY, progress=False)
    assert [(r["n_train"], r["seed"]) for r in rows] == [(4, 0), (4, 1)]


def test_sweep_rejects_bad_sizes_and_methods(data, features):
    with pytest.raises(LabkitError, match="al menos una imagen por clase"):
        ex.data_size_sweep(data, sizes=(1,), methods=("desde_cero",), recipe=TINY)
    with pytest.raises(LabkitError, match="Tamaños no válidos"):
        ex.data_size_sweep(data, sizes=("diez", 4), methods=("desde_cero",), recipe=TINY)
    with pytest.raises(LabkitError, match="Métodos desconocidos"):
        ex.data_size_sweep(data, sizes=(4,), methods=("magia",), features=features)


def test_fine_tune_sizes_limit_the_expensive_method(data, features):
    rows = ex.data_size_sweep(data, sizes=(4, 8), seeds=(0,),
                              methods=("extraccion", "ajuste_fino"), recipe=TINY,
                              features=features, fine_tune_sizes=(8,), progress=False)
    assert [(r["method"], r["n_train"]) for r in rows] == [
        ("extraccion", 4), ("extraccion", 8), ("ajuste_fino", 8)]


def test_sweep_is_reproducible(data, features):
    kwargs = dict(sizes=(8,), seeds=(1,), methods=("extraccion", "desde_cero"), recipe=TINY,
                  features=features, progress=False)
    first = ex.data_size_sweep(data, **kwargs)
    second = ex.data_size_sweep(data, **kwargs)
    assert [r["test_acc"] for r in first] == [r["test_acc"] for r in second]
    assert [r["val_acc"] for r in first] == [r["val_acc"] for r in second]


def test_transfer_sweep_computes_its_own_features(data):
    rows = ex.data_size_sweep(data, sizes=(4,), seeds=(0,), methods=("extraccion", "ajuste_fino"),
                              recipe=TINY, progress=False)
    assert [r["method"] for r in rows] == ["extraccion", "ajuste_fino"]
    assert {r["model"] for r in rows} == {"efficientnet_lite0"}


def test_deepened_features_equal_a_direct_extraction(data, features):
    head = len(layer_groups(features.model)) - 1
    deep = features.at_depth(head)
    direct = FeatureSet.extract(features.model, data.train, head)
    assert deep.depth == head and deep.train.fingerprint == direct.fingerprint
    torch.testing.assert_close(deep.train.features, direct.features, atol=1e-4, rtol=1e-4)
    assert features.at_depth(head) is deep  # se recuerdan
    with pytest.raises(LabkitError, match="no se puede"):
        deep.at_depth(3)


def test_run_fine_tune_leaves_the_shared_model_untouched(data, features):
    before = [p.detach().clone() for p in features.model.parameters()]
    out = ex.run_fine_tune(features, 8, seed=0, recipe=TINY)
    assert set(out) == {"test_acc", "val_acc", "train_seconds", "epochs", "test_correct",
                        "best_phase"}
    after = list(features.model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, after))


def test_scratch_epochs_follow_a_fixed_budget_of_steps():
    r = ex.Recipe(scratch_steps=120, scratch_min_epochs=3, scratch_max_epochs=30, batch_size=32)
    assert labkit.experiments.scratch_epochs(10, r) == 30      # un lote por época: manda el máximo
    assert labkit.experiments.scratch_epochs(400, r) == 10     # 13 lotes por época
    assert labkit.experiments.scratch_epochs(2000, r) == 3     # manda el mínimo
    assert labkit.experiments.scratch_epochs(100) == labkit.experiments.scratch_epochs(100, ex.Recipe())


# ---------------------------------------------------------------- resúmenes


SYNTHETIC = [
    {"method": "desde_cero", "n_train": 10, "seed": s, "test_acc": v}
    for s, v in enumerate((0.30, 0.40, 0.50))
] + [
    {"method": "extraccion", "n_train": 10, "seed": s, "test_acc": v}
    for s, v in enumerate((0.80, 0.82, 0.84))
] + [
    {"method": "desde_cero", "n_train": 100, "seed": 0, "test_acc": 0.79},
    {"method": "extraccion", "n_train": 100, "seed": 0, "test_acc": 0.82},
    {"method": "desde_cero", "n_train": 1000, "seed": 0, "test_acc": 0.90},
    {"method": "extraccion", "n_train": 1000, "seed": 0, "test_acc": 0.88},
]


def test_summarize_mean_std_min_max_count():
    stats = labkit.experiments.summarize(SYNTHETIC)
    assert [(s["method"], s["n_train"]) for s in stats] == [
        ("desde_cero", 10), ("desde_cero", 100), ("desde_cero", 1000),
        ("extraccion", 10), ("extraccion", 100), ("extraccion", 1000)]
    first = stats[0]
    assert math.isclose(first["mean"], 0.40)
    assert math.isclose(first["std"], math.sqrt(0.02 / 3))   # entre n, como las figuras
    assert (first["min"], first["max"], first["count"]) == (0.30, 0.50, 3)
    assert stats[1]["std"] == 0.0 and stats[1]["count"] == 1
    by_size = labkit.experiments.summarize(SYNTHETIC, by=("n_train",))
    assert [s["n_train"] for s in by_size] == [10, 100, 1000]
    assert by_size[0]["count"] == 6
    with pytest.raises(LabkitError, match="no tiene las columnas"):
        labkit.experiments.summarize([{"method": "x"}])


def _curve(gaps, noise=None):
    """Filas de extracción y desde cero en 3 semillas; ``gaps[n]`` = desde cero − extracción."""
    rows = []
    for n, gap in gaps.items():
        for s in range(3):
            wobble = (noise or {}).get(n, 0.0) * (-1) ** s
            rows += [{"method": "extraccion", "n_train": n, "seed": s, "test_acc": 0.8 + 0.01 * s},
                     {"method": "desde_cero", "n_train": n, "seed": s,
                      "test_acc": 0.8 + 0.01 * s + gap + wobble}]
    return rows


def test_crossover_finds_where_scratch_closes_the_gap():
    # Antes: una tolerancia fija de 2 puntos sobre las medias. Ahora decide labkit.compare.
    assert labkit.experiments.crossover(SYNTHETIC) is None  # en 10 pierde; en 100 y 1000, n = 1: no decide
    gaps = {10: -0.30, 100: -0.031, 1000: -0.004}
    assert labkit.experiments.crossover(_curve(gaps)) is None  # la misma diferencia en cada semilla: pierde
    noisy = _curve(gaps, noise={1000: 0.02})
    assert labkit.experiments.crossover(noisy) == 1000  # con 1000 el ruido de las semillas tapa 0.4 puntos
    assert labkit.experiments.crossover(noisy, a="extraccion", b="desde_cero") == 10
    assert labkit.experiments.crossover(SYNTHETIC, a="ajuste_fino") is None  # no medido
    with pytest.warns(UserWarning, match="margin"):
        labkit.experiments.crossover(noisy, margin=0.02)
    same = [{**r, "test_correct": torch.ones(20, dtype=torch.bool)} for r in _curve(gaps)]
    assert labkit.experiments.crossover(same) == 10  # los aciertos por imagen mandan: idénticos, empate


def test_format_table_and_labels():
    rows = SYNTHETIC + [{"method": "ajuste_fino", "n_train": 100, "seed": 0, "test_acc": 0.9}]
    table = labkit.experiments.format_table(rows)
    lines = table.splitlines()
    assert lines[0].split()[1:] == ["extracción", "de", "características", "ajuste", "fino",
                                    "desde", "cero"]
    assert "40.0 ± 8.2" in lines[1] and "—" in lines[1]       # sin ajuste fino en 10
    assert "de 1 a 3 ejecuciones" in lines[-1]
    assert "90.0 (n = 1)" in lines[3] and "± 0.0" not in table   # una ejecución: sin desviación
    assert {r["method"] for r in labkit.experiments.labeled(rows)} == set(labkit.experiments.METHOD_LABELS.values())


# ---------------------------------------------------------------- congelado y razón de tasas


def test_freeze_depth_sweep_rows(data):
    rows = ex.freeze_depth_sweep("efficientnet_lite0", data, depths=(9, 7), seeds=(0,),
                                 n_train=8, epochs=1, pretrained=False, progress=False)
    assert [r["depth"] for r in rows] == [9, 7]
    assert [r["group"] for r in rows] == ["classifier", "blocks.6"]
    assert rows[0]["trainable"] < rows[1]["trainable"]
    for r in rows:
        assert r["n_train"] == 8 and r["seconds"] > 0 and 0 <= r["test_acc"] <= 1
    with pytest.raises(LabkitError, match="Profundidades no válidas"):
        ex.freeze_depth_sweep("efficientnet_lite0", data, depths=(10,), pretrained=False)


def test_freeze_depth_sweep_trains_everything_at_depth_zero(data):
    rows = ex.freeze_depth_sweep("cnn_pequena", data, depths=(0,), epochs=1, pretrained=False,
                                 progress=False)
    assert rows[0]["group"] == "bloque1" and rows[0]["n_train"] == len(data.train)


def test_lr_ratio_sweep_rows(data):
    rows = ex.lr_ratio_sweep("efficientnet_lite0", data, ratios=(1, 10), depth=7, seeds=(0,),
                             head_epochs=1, epochs=1, lr=1e-4, pretrained=False,
                             progress=False)
    assert [r["ratio"] for r in rows] == [1.0, 10.0]
    assert math.isclose(rows[0]["lr_first"], 1e-4)
    # la misma tasa que fit da al primer grupo que entrena (group_lrs sobre los 10 grupos)
    model = create_model("efficientnet_lite0", num_classes=2, pretrained=False)
    freeze_to(model, 7)
    first = labkit.param_groups(model, 1e-4, 10)[0]["lr"]
    assert math.isclose(rows[1]["lr_first"], first) and math.isclose(first, 1e-4 * 10 ** (-4 / 9))
    assert all(r["epochs"] == 2 and r["depth"] == 7 for r in rows)
    with pytest.raises(LabkitError, match=r"ratios\[0\].*razón entre tasas de 1 o más"):
        ex.lr_ratio_sweep("efficientnet_lite0", data, ratios=(0.5,), depth=7, pretrained=False)


# ---------------------------------------------------------------- explorador


def test_sample_size_explorer_slider_bounds_and_run(data, features):
    explorer = SampleSizeExplorer(data, value=5, recipe=TINY, features=features)
    assert (explorer.slider.min, explorer.slider.max, explorer.slider.step) == (2, 16, 2)
    assert explorer.slider.value == 4 and explorer.n_train == 4
    assert explorer.slider.description == "Imágenes de entrenamiento"
    assert explorer.button.description == "Comparar"
    result = explorer.run()
    assert result is explorer.result and result.n_train == 4
    assert 0 <= result.transfer_acc <= 1 and 0 <= result.scratch_acc <= 1
    assert "4 imágenes de entrenamiento" in explorer.result_text.value
    # una ejecución por método: «n = 1», sin «gana» (antes decidía con una sola ejecución)
    assert "n = 1" in explorer.result_text.value and "gana" not in explorer.result_text.value
    assert result.comparison().verdict("transferencia") is None
    assert result.transfer_correct.shape == (len(data.test),)
    assert "8 imágenes de mini/test" in result.text()
    assert explorer.plot.outputs and not explorer.button.disabled
    explorer.slider.value = 8
    explorer.button.click()
    assert [r.n_train for r in explorer.results] == [4, 8]
    bundle = explorer._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"]


def test_sample_size_explorer_shows_errors_in_spanish(data, features, monkeypatch):
    def broken(*args, **kwargs):
        raise LabkitError("Algo concreto falló.")

    monkeypatch.setattr("labkit.widgets._explorers.run_scratch", broken)
    explorer = SampleSizeExplorer(data, recipe=TINY, features=features)
    assert explorer.slider.value == 16                   # 100 no cabe: el máximo
    assert explorer.run() is None
    assert isinstance(explorer.last_error, LabkitError)
    assert "Algo concreto falló" in explorer.message.value
    assert not explorer.slider.disabled and explorer.button.description == "Comparar"


def test_sample_size_explorer_rejects_bad_data():
    with pytest.raises(LabkitError, match="DataSplits"):
        SampleSizeExplorer("datos")



def test_recipe_takes_the_course_recipe_and_says_where_it_deviates():
    from labkit.training import FINE_TUNE_DEFAULTS as D

    r = ex.Recipe()
    assert (r.head_lr, r.fine_tune_epochs, r.fine_tune_lr, r.fine_tune_ratio,
            r.fine_tune_schedule) == (D["head_lr"], D["epochs"], D["lr"], D["ratio"],
                                      D["schedule"])
    devs = r.deviations()
    assert len(devs) == 1 + bool(D["augment"])
    assert "épocas de cabeza 30" in devs[0] and "un solo paso" in devs[0]
    assert not D["augment"] or "sin aumento" in devs[1]  # el barrido reutiliza características
    assert str(r) == r.describe() and "Diferencias con la receta del curso" in str(r)
    same = ex.Recipe(head_epochs=D["head_epochs"])
    assert len(same.deviations()) == bool(D["augment"])
    text = ex.Recipe(fine_tune_lr=3e-4, fine_tune_schedule="constante").describe()
    assert f"tasa del ajuste fino 0.0003 en vez de {D['lr']:g}" in text
    assert D["schedule"] == "constante" or f"constante en vez de {D['schedule']}" in text


def test_sweeps_check_their_data_with_the_shared_check():
    with pytest.raises(LabkitError, match="Cada barrido necesita un DataSplits"):
        ex.data_size_sweep("no son datos", sizes=(10,))


# ---------------------------------------------------------------- una sola receta


def _scripted_val_losses(losses):
    """Métricas con la pérdida de validación de cada época fijada (la exactitud, la real)."""
    it = iter(losses)

    def metrics(logits, y):
        return next(it), loss_and_accuracy(logits, y)[1]

    return metrics


def test_run_fine_tune_keeps_the_best_epoch_of_both_phases(data, features):
    head_only = ex.run_extraction(features, 8, seed=0, recipe=TINY)
    # el ajuste fino no mejora la cabeza
    tuned = ex.run_fine_tune(features, 8, seed=0, recipe=TINY,
                             metrics=_scripted_val_losses([0.5, 0.9]))
    assert tuned["best_phase"] == "cabeza" and tuned["epochs"] == 2
    # se queda con los pesos de la cabeza: los de la extracción, imagen a imagen
    assert torch.equal(tuned["test_correct"], head_only["test_correct"])
    metrics = _scripted_val_losses([0.9, 0.5])
    assert ex.run_fine_tune(features, 8, seed=0, recipe=TINY,
                            metrics=metrics)["best_phase"] == "ajuste fino"


def test_lr_ratio_sweep_keeps_the_best_epoch_of_both_phases(data):
    # cabeza 0.5 · razón 1: 0.9 · razón 10: 0.8 → las dos filas vuelven a la cabeza
    rows = ex.lr_ratio_sweep("efficientnet_lite0", data, ratios=(1, 10), depth=7, seeds=(0,),
                             head_epochs=1, epochs=1, pretrained=False, progress=False,
                             metrics=_scripted_val_losses([0.5, 0.9, 0.8]))
    assert [r["best_phase"] for r in rows] == ["cabeza", "cabeza"]
    assert torch.equal(rows[0]["test_correct"], rows[1]["test_correct"])
    rows = ex.lr_ratio_sweep("efficientnet_lite0", data, ratios=(1, 10), depth=7, seeds=(0,),
                             head_epochs=1, epochs=1, pretrained=False, progress=False,
                             metrics=_scripted_val_losses([0.9, 0.5, 0.95]))
    assert [r["best_phase"] for r in rows] == ["ajuste fino", "cabeza"]


def test_every_caller_runs_the_one_recipe(data, features, monkeypatch):
    import labkit.experiments._runs as runs
    import labkit.training._recipe as recipe
    import labkit.widgets._playtrain as playtrain

    calls = []
    real = recipe.run_phases

    def spy(model, phases, *args, **kwargs):
        calls.append([p.settings.phase for p in phases])
        return real(model, phases, *args, **kwargs)

    for module in (recipe, ex, runs, playtrain):
        monkeypatch.setattr(module, "run_phases", spy)
    labkit.fine_tune(create_model("efficientnet_lite0", num_classes=2, pretrained=False),
                     data, head_epochs=1, epochs=1, batch_size=8, progress=False)
    ex.run_fine_tune(features, 8, seed=0, recipe=TINY)
    ex.lr_ratio_sweep("efficientnet_lite0", data, ratios=(1,), depth=7, head_epochs=1, epochs=1,
                      pretrained=False, progress=False)
    assert calls == [["cabeza", "ajuste fino"], ["cabeza", "ajuste fino"], ["cabeza"],
                     ["ajuste fino"]]
