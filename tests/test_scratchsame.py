"""Desde cero con la misma red (labkit.experiments): filas como las del barrido, errores claros."""

import pytest
import torch

import labkit.experiments._experiments as ex
from labkit import LabkitError
from labkit.data import DataSplits, ImageSet
from labkit.experiments import METHOD, describe, run_scratch_same, scratch_same_sweep

TINY = ex.Recipe(scratch_steps=1, scratch_min_epochs=1, scratch_max_epochs=1, batch_size=8)




def _set(n: int, seed: int, name: str) -> ImageSet:
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    images = torch.randint(0, 255, (n, 3, 32, 32), generator=gen, dtype=torch.uint8)
    return ImageSet(images, labels, ["a", "b"], name)


@pytest.fixture(scope="module")
def data() -> DataSplits:
    return DataSplits(_set(8, 1, "mini/train"), _set(4, 2, "mini/val"), _set(6, 3, "mini/test"))


def test_rows_carry_per_image_outcomes_and_the_method(data):
    rows = scratch_same_sweep(data, [4, 8], seeds=(0, 1), recipe=TINY)
    assert [(r["n_train"], r["seed"]) for r in rows] == [(4, 0), (4, 1), (8, 0), (8, 1)]
    assert {r["method"] for r in rows} == {METHOD}
    assert all(r["model"] == "efficientnet_lite0" for r in rows)
    for r in rows:
        assert len(r["test_correct"]) == len(data.test)
        assert r["test_acc"] == pytest.approx(float(torch.as_tensor(r["test_correct"]).float().mean()))


def test_same_seed_same_result(data):
    a = run_scratch_same(data, 4, 0, recipe=TINY)
    b = run_scratch_same(data, 4, 0, recipe=TINY)
    assert torch.equal(torch.as_tensor(a["test_correct"]), torch.as_tensor(b["test_correct"]))


def test_bad_input_is_a_spanish_error(data):
    with pytest.raises(LabkitError, match="DataSplits"):
        run_scratch_same("datos", 4)
    with pytest.raises(LabkitError, match="fuera de rango"):
        scratch_same_sweep(data, [100], seeds=(0,))


def test_describe_names_the_same_network_and_its_own_batch():
    text = describe(ex.Recipe(scratch_steps=22, scratch_augment=False),
                    ex.Recipe(scratch_steps=22, batch_size=64, scratch_augment=False))
    assert "CNN pequeña" not in text
    assert "la misma red (efficientnet_lite0)" in text
    assert "unos 22 pasos" in text and "lotes de 64" in text and "sin aumento" in text
    assert "(lotes de 32)" in text   # la extracción conserva sus lotes


def test_describe_rejects_something_that_is_not_a_recipe():
    with pytest.raises(LabkitError, match="Recipe"):
        describe({"scratch_steps": 3})
