"""labkit.compare: medias con intervalo al 95 % y veredicto por el intervalo de la diferencia."""

import math

import numpy as np
import pytest

from labkit.base import LabkitError
from labkit.base._intervals import t_quantile
from labkit.experiments import arms_from_rows, compare, wilson_interval


def test_t_quantiles_and_wilson_match_the_tables():
    assert t_quantile(2) == pytest.approx(4.303)
    assert t_quantile(40) == pytest.approx(2.021, abs=2e-3)
    assert t_quantile(1000) == pytest.approx(1.962, abs=2e-3)
    low, high = wilson_interval(0.9, 200)  # el «±4 puntos» de 200 imágenes al 90 %
    assert (low, high) == pytest.approx((0.8506, 0.9343), abs=1e-3)


def test_mean_interval_is_a_t_interval_over_seeds():
    cmp = compare({"a": [0.80, 0.82, 0.84], "b": [0.8, 0.8, 0.8]})
    a = cmp.arm("a")
    half = 4.303 * 0.02 / math.sqrt(3)
    assert (a.mean, a.low, a.high) == pytest.approx((0.82, 0.82 - half, 0.82 + half), abs=1e-4)


def test_clear_win_tie_and_loss_are_decided_by_the_interval():
    cmp = compare({"extracción": [0.80, 0.82, 0.81], "ajuste fino": [0.85, 0.86, 0.87],
                   "otra": [0.83, 0.79, 0.82], "peor": [0.70, 0.71, 0.72]})
    assert cmp.verdict("ajuste fino") == "gana"
    assert cmp.verdict("otra") == "empate"
    assert cmp.verdict("peor") == "pierde"
    assert cmp.verdict("extracción", "ajuste fino") == "pierde"
    assert "gana a «extracción»" in cmp.sentence("ajuste fino")
    assert "IC 95 %" in cmp.sentence("ajuste fino") and "emparejadas" in cmp.sentence("ajuste fino")


def test_n_test_no_longer_widens_a_paired_difference():
    # Antes se sumaba el error binomial de los dos brazos como si fueran independientes: con la
    # misma prueba eso ahogaba cualquier efecto pequeño. Con números por semilla, la diferencia
    # es la t emparejada; n_test solo ensancha el intervalo de cada brazo.
    arms = {"a": [0.800, 0.810, 0.820], "b": [0.803, 0.813, 0.823]}  # +0.3 puntos siempre
    assert compare(arms).verdict("b") == "gana"  # semillas emparejadas: diferencia constante
    with_test = compare(arms, n_test=200)
    assert with_test.verdict("b") == "gana"
    assert with_test.difference("b").method == "t emparejada"
    assert with_test.arm("a").high - with_test.arm("a").low > compare(arms).arm("a").high - \
        compare(arms).arm("a").low  # el brazo sí cuenta la prueba


def test_per_image_outcomes_count_the_test_images_too():
    # Las mismas 200 imágenes, 3 semillas: «b» acierta una imagen más que «a» en cada semilla.
    # La t por semillas diría «gana»; con los aciertos por imagen se ve que es una sola imagen.
    a = np.zeros((3, 200), dtype=bool)
    a[:, :160] = True
    b = a.copy()
    b[:, 199] = True
    cmp = compare({"a": a, "b": b})
    assert cmp.difference("b").method == "bootstrap"
    assert cmp.difference("b").diff == pytest.approx(0.005)
    assert cmp.verdict("b") == "empate" and cmp.n_test == 200
    assert "bootstrap emparejado" in cmp.table() and "200 imágenes" in cmp.sentence("b")
    assert compare({"a": a.mean(1).tolist(), "b": b.mean(1).tolist()}).verdict("b") == "gana"


def test_single_run_prints_n_1_and_gives_no_verdict():
    cmp = compare({"a": [0.9], "b": [0.8]})
    assert "n = 1" in cmp.table() and "± 0.0" not in cmp.table()
    assert cmp.verdict("b") is None
    assert "no se puede decidir" in cmp.sentence("b")
    # Con n_test el brazo tiene su intervalo de Wilson, pero una ejecución por brazo no decide
    # la diferencia (antes sí: el error de la prueba sin el de las semillas).
    with_test = compare({"a": [0.9], "b": [0.8]}, n_test=200)
    assert with_test.arm("a").kind == "prueba (Wilson)"
    assert with_test.verdict("b") is None and "n = 1" in with_test.sentence("b")
    one_seed = compare({"a": {0: np.ones(50)}, "b": {0: np.zeros(50)}})
    assert one_seed.verdict("b") is None and one_seed.arm("a").kind == "prueba (bootstrap)"


def test_unpaired_arms_use_welch():
    cmp = compare({"a": {0: 0.80, 1: 0.82, 2: 0.81}, "b": {5: 0.90, 6: 0.91, 7: 0.92, 8: 0.9}})
    d = cmp.difference("b")
    assert not d.paired and d.verdict == "gana"


def test_arms_from_sweep_rows_pair_by_seed():
    rows = [{"method": m, "n_train": n, "seed": s, "test_acc": acc}
            for m, base in (("extraccion", 0.8), ("ajuste_fino", 0.85))
            for n in (10, 100) for s, acc in zip((2, 0, 1), (base, base + 0.01, base - 0.01))]
    arms = arms_from_rows(rows, n_train=100)
    assert arms == {"extraccion": {2: 0.8, 0: 0.81, 1: 0.79},
                    "ajuste_fino": {2: 0.85, 0: 0.86, 1: 0.84}}
    assert compare(arms).difference("ajuste_fino").paired


@pytest.mark.parametrize("bad, kwargs", [
    ({"a": [0.8]}, {}), ([0.8, 0.9], {}), ({"a": [], "b": [0.1]}, {}),
    ({"a": [0.8], "b": [float("nan")]}, {}), ({"a": [0.8], "b": [0.9]}, {"reference": "c"}),
    ({"a": [0.8], "b": [0.9]}, {"n_test": 0}),
    ({"a": [[1, 0, 2]], "b": [[1, 0, 1]]}, {}), ({"a": [[1, 0]], "b": [[1, 0, 1]]}, {}),
    ({"a": [[1, 0]], "b": [[1, 0]]}, {"n_test": 3}),
    ({"a": [[1, 0]], "b": [[1, 0]]}, {"metric": "balanced_accuracy"}),
    ({"a": [[1, 0]], "b": [[1, 0]]}, {"metric": "balanced_accuracy", "labels": [0]}),
    ({"a": [[1, 0]], "b": [[1, 0]]}, {"metric": "f1"}), ({"a": [0.8], "b": [0.9]}, {"n_boot": 5}),
    ({"a": [0.8], "b": ["x"]}, {})])
def test_bad_input_is_a_spanish_error(bad, kwargs):
    with pytest.raises(LabkitError):
        compare(bad, **kwargs)


def test_compare_runs_runs_every_arm_with_every_seed_paired():
    from labkit.experiments import compare_runs

    calls = []

    def arm(offset):
        def run(seed):
            calls.append((offset, seed))
            return 0.80 + offset + 0.01 * seed
        return run

    cmp = compare_runs({"base": arm(0.0), "mejor": arm(0.05)}, seeds=(0, 1, 2), progress=False)
    assert sorted(calls) == [(0.0, 0), (0.0, 1), (0.0, 2), (0.05, 0), (0.05, 1), (0.05, 2)]
    assert cmp.verdict("mejor", "base") == "gana"  # emparejado: +5 puntos en cada semilla


def test_compare_runs_refuses_bad_arms_and_values():
    from labkit.experiments import compare_runs

    with pytest.raises(LabkitError, match="dos brazos"):
        compare_runs({"solo": lambda s: 0.5})
    with pytest.raises(LabkitError, match="semillas distintas"):
        compare_runs({"a": lambda s: 0.5, "b": lambda s: 0.6}, seeds=(1, 1))
    with pytest.raises(LabkitError, match="«b» con semilla 0 devolvió nan"):
        compare_runs({"a": lambda s: 0.5, "b": lambda s: float("nan")}, progress=False)


def test_an_accuracy_interval_stays_between_0_and_100_percent():
    cmp = compare({"inestable": [0.38, 0.67, 0.75], "estable": [0.85, 0.87, 0.84]}, n_test=624)
    arm = cmp.arm("inestable")
    assert 0.0 <= arm.low and arm.high == 1.0 and "100.0 %]" in cmp.table()
    assert cmp.verdict("estable", "inestable") == "empate"  # la diferencia no se recorta


def test_compare_runs_accepts_per_image_outcomes_and_run_dicts():
    from labkit.experiments import compare_runs

    rng = np.random.default_rng(0)
    hard = rng.random(300) < 0.3  # imágenes difíciles para los dos brazos

    def base(seed):
        return ~hard & (np.random.default_rng(seed).random(300) < 0.95)

    def better(seed):
        return {"test_acc": 0.0, "test_correct": base(seed) | (hard & (np.arange(300) % 3 == 0))}

    cmp = compare_runs({"base": base, "mejor": better}, seeds=range(5), progress=False)
    assert cmp.difference("mejor").method == "bootstrap" and cmp.verdict("mejor") == "gana"
    assert cmp.arm("base").n == 5 and cmp.n_test == 300


def test_balanced_accuracy_from_outcomes_and_labels():
    labels = np.array([0] * 90 + [1] * 10)
    a = np.zeros((4, 100), dtype=bool)
    a[:, :90] = True  # siempre la clase mayoritaria: exactitud 90 %, balanceada 50 %
    b = np.ones((4, 100), dtype=bool)
    b[:, 80:90] = False  # falla 10 de la mayoritaria y acierta la minoritaria
    plain = compare({"a": a, "b": b})
    balanced = compare({"a": a, "b": b}, labels=labels, metric="balanced_accuracy")
    assert plain.arm("a").mean == pytest.approx(0.9) and plain.arm("b").mean == pytest.approx(0.9)
    assert balanced.arm("a").mean == pytest.approx(0.5)
    assert balanced.arm("b").mean == pytest.approx((80 / 90 + 1) / 2)
    assert plain.verdict("b") == "empate" and balanced.verdict("b") == "gana"


def test_the_bootstrap_is_deterministic():
    rng = np.random.default_rng(3)
    a, b = rng.random((5, 200)) < 0.7, rng.random((5, 200)) < 0.75
    first, second = compare({"a": a, "b": b}), compare({"a": a, "b": b})
    assert (first.difference("b").low, first.difference("b").high) == \
        (second.difference("b").low, second.difference("b").high)


# --- calibración: simulación con una dificultad por imagen compartida por brazos y semillas ---

_DIFFICULTY, _SEED_NOISE, _BASE = 2.5, 0.15, 1.8  # en escala logit: exactitud ≈ 75 %
_EFFECT = 0.28  # en logit: ≈ +3 puntos de exactitud


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _true_difference(effect):
    """La diferencia de exactitud esperada (nuevas semillas y nuevas imágenes), por Monte Carlo."""
    rng = np.random.default_rng(99)
    z, u, v = (rng.normal(0, s, 400_000) for s in (_DIFFICULTY, _SEED_NOISE, _SEED_NOISE))
    return float(_sigmoid(_BASE + effect + z + u).mean() - _sigmoid(_BASE + z + v).mean())


def _experiment(rng, effect, seeds=10, images=600):
    """Dos brazos sobre las mismas imágenes: dificultad compartida, ruido por semilla y brazo."""
    z = rng.normal(0, _DIFFICULTY, images)
    arms = []
    for shift in (0.0, effect):
        p = _sigmoid(_BASE + shift + z + rng.normal(0, _SEED_NOISE, (seeds, 1)))
        arms.append(rng.random((seeds, images)) < p)
    return arms


def _old_interval(a, b, images):
    """El método de antes: t emparejada por semillas + dos binomiales independientes."""
    pa, pb = a.mean(1), b.mean(1)
    d = pb - pa
    seeds_half = t_quantile(len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    binom = 1.96 * math.sqrt(pa.mean() * (1 - pa.mean()) / images
                             + pb.mean() * (1 - pb.mean()) / images)
    half = math.hypot(seeds_half, binom)
    return d.mean() - half, d.mean() + half


@pytest.mark.parametrize("effect", [0.0, _EFFECT])
def test_paired_interval_is_calibrated_and_sees_a_3_point_effect(effect):
    truth = _true_difference(effect)
    rng = np.random.default_rng(7)
    covered = detected = old_detected = 0
    runs = 200
    for _ in range(runs):
        a, b = _experiment(rng, effect)
        d = compare({"a": a, "b": b}, n_boot=500).difference("b")
        covered += d.low <= truth <= d.high
        detected += d.low > 0
        old_detected += _old_interval(a, b, 600)[0] > 0
    assert 0.90 <= covered / runs <= 0.99  # el 95 % cubre la verdad ~95 % de las veces
    if effect:
        assert truth == pytest.approx(0.03, abs=0.002)
        assert detected / runs >= 0.8   # 3 puntos, 600 imágenes, 10 semillas: se ve
        assert old_detected / runs <= 0.1  # el método de antes casi nunca lo veía
    else:
        assert detected / runs <= 0.05  # sin efecto, casi nunca dice «gana»


def test_sentences_name_where_the_arms_were_measured():
    rng = np.random.default_rng(3)
    a = {s: (rng.random(200) < 0.7).astype(float) for s in range(3)}
    b = {s: (rng.random(200) < 0.8).astype(float) for s in range(3)}
    on_test = compare({"a": a, "b": b}, reference="a")
    on_val = compare({"a": a, "b": b}, reference="a", split="validación")
    assert "imágenes de prueba" in on_test.sentence("b")
    assert "imágenes de validación" in on_val.sentence("b")
    assert "prueba" not in on_val.sentence("b") and "prueba" not in on_val.table()
    with pytest.raises(LabkitError, match="validación"):
        compare({"a": a, "b": b}, split="test")


def test_sentences_say_which_seeds_were_paired():
    rng = np.random.default_rng(5)
    a = {s: (rng.random(200) < 0.7).astype(float) for s in range(10)}
    b = {s: (rng.random(200) < 0.8).astype(float) for s in range(3)}
    uneven = compare({"a": a, "b": b}, reference="a").sentence("b")
    assert "3 y 10 semillas" in uneven and "emparejadas" not in uneven.split(";")[1][:25]
    even = compare({"a": {s: a[s] for s in range(3)}, "b": b}, reference="a").sentence("b")
    assert "; 3 semillas, emparejadas" in even


def test_an_imbalanced_test_set_prints_the_majority_floor():
    labels = np.array([0] * 130 + [1] * 70)  # 65 % de la clase 0
    rng = np.random.default_rng(4)
    a = {s: (rng.random(200) < 0.7).astype(float) for s in range(3)}
    b = {s: (rng.random(200) < 0.75).astype(float) for s in range(3)}
    table = compare({"a": a, "b": b}, labels=labels).table()
    assert "clase más frecuente es el 65.0 %" in table and "200 imágenes de prueba" in table
    balanced = compare({"a": a, "b": b}, labels=labels, metric="balanced_accuracy").table()
    assert "exactitud balanceada de ese modelo es 50.0 %" in balanced
    even = np.array([0, 1] * 100)
    assert "clase más frecuente" not in compare({"a": a, "b": b}, labels=even).table()


def test_evaluate_reports_the_majority_baseline():
    from labkit.training import majority_baseline

    out = majority_baseline([1, 1, 1, 0], ["sana", "defectuosa"])
    assert out == {"majority_class": "defectuosa", "majority_accuracy": 0.75}
    assert majority_baseline([], ["a"]) == {}
