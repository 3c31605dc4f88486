"""``labkit.strategies``: extracción frente a ajuste fino con la receta, en miniatura.

Datos aleatorios de 32 px sin pesos preentrenados: se prueba la forma del resultado, que las
frases salen de las ejecuciones y los errores de uso, no la exactitud.
"""

import pytest
import torch

from labkit import LabkitError
from labkit.data import DataSplits, ImageSet
from labkit.experiments import StrategyComparison, compare, compare_strategies
from labkit.experiments._strategies import EXTRACTION, FINE_TUNE


def _set(n: int, seed: int, name: str, k: int = 2) -> ImageSet:
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % k
    images = torch.randint(0, 120, (n, 3, 32, 32), generator=gen, dtype=torch.uint8)
    images += (labels * 100).to(torch.uint8).view(-1, 1, 1, 1)
    return ImageSet(images, labels, [f"clase {i}" for i in range(k)], name)


@pytest.fixture(scope="module")
def data() -> DataSplits:
    return DataSplits(_set(16, 1, "mini/train"), _set(8, 2, "mini/val"), _set(8, 3, "mini/test"))


def _row(acc: float, correct: list[int], seconds: float, phase: str | None = None) -> dict:
    row = {"test_acc": acc, "test_correct": torch.tensor(correct), "train_seconds": seconds,
           "val_acc": acc}
    return row if phase is None else {**row, "best_phase": phase}


def _fake(phases: list[str], ft_correct: list[list[int]]) -> StrategyComparison:
    ext = {s: _row(0.5, [1, 0, 1, 0, 1, 0, 1, 0], 0.2) for s in range(5)}
    ft = {s: _row(sum(c) / 8, c, 4.0, p) for s, (p, c) in enumerate(zip(phases, ft_correct))}
    arms = {EXTRACTION: {s: r["test_correct"] for s, r in ext.items()},
            FINE_TUNE: {s: r["test_correct"] for s, r in ft.items()}}
    return StrategyComparison("mini (test)", 16, ext, ft, 1.5, compare(arms, reference=EXTRACTION))


def test_the_two_arms_share_the_test_and_the_fine_tune_seeds(data):
    res = compare_strategies(data, 12, seeds=(0, 1), extraction_seeds=(0, 1, 2),
                             extraction_epochs=2, pretrained=False, progress=False)
    assert set(res.extraction) == {0, 1, 2} and set(res.fine_tune) == {0, 1}
    assert res.n_train == 12 and res.comparison.n_test == len(data.test)
    assert res.comparison.arm(EXTRACTION).n == 3 and res.comparison.arm(FINE_TUNE).n == 2
    assert all(r["best_phase"] in ("cabeza", "ajuste fino") for r in res.fine_tune.values())
    assert res.features_seconds > 0 and res.seconds(FINE_TUNE) > 0
    text = res.report()
    assert text.startswith("mini/test: 12 imágenes") and "Lo que decidió:" in text
    assert f"{len(res.improved_seeds())} de 2 semillas" in text or "ninguna de las 2" in text
    assert "(extracción con 1 semilla más, 2: media" in text


def test_when_the_head_epoch_wins_everywhere_it_says_so():
    res = _fake(["cabeza", "cabeza", "cabeza"], [[1, 0, 1, 0, 1, 0, 1, 0]] * 3)
    assert res.improved_seeds() == []
    phase, cost, test = res.decided()
    assert "no mejoró en ninguna de las 3 semillas" in phase and "cabeza de 3 épocas" in phase
    assert "20" in phase and "quedó igual que la extracción" in phase
    assert "extracción 0.2 s, ajuste fino 4.0 s (20 veces más)" in cost and "1.5 s" in cost
    assert test.startswith("En prueba: diferencia +0.0 puntos") and "no se distinguen" in test
    assert res.seeds_table().count("la 2.ª fase no la mejoró") == 3


def test_a_clear_win_of_the_second_phase_is_reported_as_such():
    res = _fake(["ajuste fino", "ajuste fino", "cabeza"], [[1, 1, 1, 1, 1, 1, 1, 1],
                                                           [1, 1, 1, 1, 1, 1, 1, 0],
                                                           [1, 1, 1, 1, 1, 1, 1, 1]])
    assert res.improved_seeds() == [0, 1]
    phase, _, test = res.decided()
    assert "en 2 de 3 semillas" in phase
    assert "el ajuste fino quedó por delante de la extracción: 95.8 % frente a 50.0 %" in phase
    assert res.comparison.verdict(FINE_TUNE) == "gana" and test.endswith("gana el ajuste fino.")
    assert "(extracción con 2 semillas más, 3, 4: media 50.0 %)" in res.seeds_table()
    with pytest.raises(LabkitError, match="No hay un brazo"):
        res.seconds("otro")


@pytest.mark.parametrize("kwargs, match", [
    ({"n_train": 99}, "n_train"),
    ({"seeds": ()}, "seeds"),
    ({"extraction_epochs": 0}, "extraction_epochs"),
])
def test_bad_settings_get_a_spanish_error(data, kwargs, match):
    with pytest.raises(LabkitError, match=match):
        compare_strategies(data, pretrained=False, progress=False, **kwargs)
