"""Las afirmaciones de la prosa: avisan al alumno, paran la regeneración de los cuadernos."""

import warnings

import pytest

from labkit import LabkitError
from labkit.base import count, pct, points
from labkit.experiments import ClaimError, ClaimWarning, claim
from labkit.experiments._claims import STRICT_ENV, strict_claims
from labkit.teacher import write_notebooks


def test_a_claim_that_holds_is_silent(monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert claim(0.9 > 0.8, "la extracción supera el 80 %") is True


def test_a_broken_claim_only_warns_the_learner(monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)
    assert not strict_claims()
    with pytest.warns(ClaimWarning, match="no se cumple «la curva sube».*val 0.41"):
        assert claim(False, "la curva sube", "val 0.41") is False


def test_a_broken_claim_stops_the_regenerating_run(monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    assert strict_claims()
    with pytest.raises(ClaimError, match="«la curva sube» ya no se cumple"):
        claim(False, "la curva sube")


@pytest.mark.parametrize("value", ["0", "", "no"])
def test_strict_mode_needs_an_explicit_yes(monkeypatch, value):
    monkeypatch.setenv(STRICT_ENV, value)
    assert not strict_claims()


def test_a_claim_needs_its_statement():
    with pytest.raises(LabkitError, match="afirmación"):
        claim(True, "  ")


def test_one_number_format():
    assert pct(0.9123) == "91.2 %"
    assert pct(1) == "100.0 %"
    assert pct(0.5, digits=0) == "50 %"
    assert points(0.031) == "+3.1 puntos"
    assert points(-0.01) == "-1.0 punto"
    assert points(0.02, sign=False) == "2.0 puntos"
    assert count(1, "época", "épocas") == "1 época" and count(2, "época", "épocas") == "2 épocas"


def _claim_notebook(path, holds: bool):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        f"import labkit\nlabkit.claim({holds}, 'la curva de validación sube', 'val 0.41')")]
    write_notebooks({path: nb})
    return path.read_bytes()


def test_make_notebooks_refuses_to_save_a_notebook_whose_claim_broke(tmp_path, monkeypatch):
    """El núcleo hereda LABKIT_STRICT_CLAIMS: la celda falla y el cuaderno queda como estaba."""
    from labkit.teacher import run_notebook

    monkeypatch.setenv(STRICT_ENV, "1")
    path = tmp_path / "cuaderno.ipynb"
    before = _claim_notebook(path, holds=False)
    with pytest.raises(LabkitError, match="ClaimError.*la curva de validación sube"):
        run_notebook(path, timeout=120)
    assert path.read_bytes() == before
    _claim_notebook(path, holds=True)
    run_notebook(path, timeout=120)
    assert '"execution_count": 1' in path.read_text()


def test_the_makefile_regenerates_notebooks_in_strict_mode():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = makefile.split("\nnotebooks:", 1)[1].split("\n\n", 1)[0]
    assert f"{STRICT_ENV}=1" in recipe and "labkit ejecutar" in recipe
