"""labkit.compare: medias con intervalo al 95 % y veredicto por el intervalo de la diferencia."""

import math

import pytest

from labkit.compare import arms_from_rows, compare, t_quantile, wilson_interval
from labkit.errors import LabkitError


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


def test_no_fixed_threshold_the_test_size_can_turn_a_win_into_a_tie():
    arms = {"a": [0.800, 0.810, 0.820], "b": [0.803, 0.813, 0.823]}  # +0.3 puntos siempre
    assert compare(arms).verdict("b") == "gana"  # semillas emparejadas: diferencia constante
    assert compare(arms, n_test=200).verdict("b") == "empate"  # ±4 puntos de la prueba


def test_single_run_prints_n_1_and_gives_no_verdict_without_test_size():
    cmp = compare({"a": [0.9], "b": [0.8]})
    assert "n = 1" in cmp.table() and "± 0.0" not in cmp.table()
    assert cmp.verdict("b") is None
    assert "no se puede decidir" in cmp.sentence("b")
    with_test = compare({"a": [0.9], "b": [0.8]}, n_test=200)
    assert with_test.arm("a").kind == "prueba (Wilson)"
    assert with_test.verdict("b") == "pierde"  # 10 puntos sobre 200 imágenes sí es claro
    assert "n = 1" in with_test.sentence("b") and "1 semillas" not in with_test.sentence("b")


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
    ({"a": [0.8], "b": [0.9]}, {"n_test": 0})])
def test_bad_input_is_a_spanish_error(bad, kwargs):
    with pytest.raises(LabkitError):
        compare(bad, **kwargs)


def test_compare_runs_runs_every_arm_with_every_seed_paired():
    from labkit.compare import compare_runs

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
    from labkit.compare import compare_runs

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
