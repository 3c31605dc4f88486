"""La tabla de la guía (labkit.experiments): lee los veredictos guardados, sin ejecutar nada."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.base import LabkitError
from labkit.experiments import claims_table
from labkit.experiments._guideclaims import GUIDE_CLAIMS, NOT_RUN, GuideClaim, cell_verdict
from labkit.teacher import list_notebooks

ROOT = Path(__file__).resolve().parent.parent
CLAIM = GuideClaim("A gana a B", "01_x", "1. Sección", "c1")


def _cell(text: str = "", stderr: str = "", count: int | None = 1, error: dict | None = None):
    outputs = []
    if text:
        outputs.append({"output_type": "stream", "name": "stdout", "text": text})
    if stderr:
        outputs.append({"output_type": "stream", "name": "stderr", "text": stderr})
    if error:
        outputs.append({"output_type": "error", **error})
    return {"id": "c1", "cell_type": "code", "execution_count": count, "outputs": outputs}


def _write(folder: Path, name: str, cells: list[dict]) -> None:
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    (folder / f"{name}.ipynb").write_text(json.dumps(nb), encoding="utf-8")


def test_una_celda_sin_ejecutar_dice_aun_no_ejecutado():
    assert cell_verdict(_cell(count=None), CLAIM) == NOT_RUN


def test_copia_la_frase_del_veredicto_sin_la_letra_pequena():
    text = ("tabla\n→ «A» gana a «B»: diferencia +3.0 puntos (IC 95 % de +1.0 a +5.0; 5 semillas, "
            "emparejadas).\n")
    assert cell_verdict(_cell(text), CLAIM) == ("«A» gana a «B»: diferencia +3.0 puntos "
                                                "(IC 95 % de +1.0 a +5.0)")


def test_reconoce_el_veredicto_sin_flecha_y_los_tres_desenlaces():
    for word in ("gana a", "empata con", "pierde frente a"):
        said = cell_verdict(_cell(f"«A» {word} «B»: diferencia (IC 95 % de x a y; n)"), CLAIM)
        assert said.startswith(f"«A» {word} «B»")


def test_con_after_toma_la_flecha_que_sigue_a_cada_afirmacion():
    text = ("== Flores (150 imágenes)\nGuía: «con 100 imágenes»\nMedido: 62 %\n  → no se cumple\n"
            "Guía: «desde cero alcanza»\n  → otra cosa\n"
            "== ELPV (581 imágenes)\nGuía: «con 100 imágenes»\n  → se cumple\n")
    claim = GuideClaim("x", "06_x", "6", "c1", after="con 100 imágenes")
    assert cell_verdict(_cell(text), claim) == "Flores: no se cumple · ELPV: se cumple"


def test_un_aviso_de_claim_y_un_error_se_dicen():
    checked = GuideClaim("x", "07_x", "3", "c1", checked=True)
    warned = _cell("→ «A» empata con «B»", stderr="ClaimWarning: no se cumple «algo» (1 frente a 2)")
    assert "no se cumple en esta ejecución" in cell_verdict(warned, checked)
    assert cell_verdict(_cell("nada"), checked).endswith("se cumple")
    failed = _cell(error={"ename": "ClaimError", "evalue": "La afirmación «x» ya no se cumple"})
    assert cell_verdict(failed, checked).startswith("✗ no se cumple")
    other = _cell(error={"ename": "ValueError", "evalue": "boom"})
    assert "error (ValueError)" in cell_verdict(other, CLAIM)
    assert "sin veredicto" in cell_verdict(_cell("solo cifras"), CLAIM)


def test_la_tabla_lee_la_carpeta_y_marca_lo_que_falta(tmp_path):
    _write(tmp_path, "01_x", [_cell("→ «A» gana a «B»: diferencia +3 puntos")])
    missing = GuideClaim("y", "02_y", "2", "c9")
    table = claims_table(tmp_path, (CLAIM, missing))
    assert [r["says"] for r in table.rows][0] == "«A» gana a «B»: diferencia +3 puntos"
    assert table.rows[1]["says"].startswith(NOT_RUN) and "02_y.ipynb" in table.rows[1]["says"]
    assert table.counts() == {"con resultado": 1, NOT_RUN: 1}
    assert table.summary().startswith("2 afirmaciones de la guía: 1 con resultado")
    md = table.markdown()
    assert "[01 · 1. Sección](01_x.ipynb)" in md and md.count("\n") == 3


def test_un_cuaderno_roto_o_sin_la_celda_no_rompe_la_tabla(tmp_path):
    (tmp_path / "01_x.ipynb").write_text("{no es json", encoding="utf-8")
    assert claims_table(tmp_path, (CLAIM,)).rows[0]["says"].startswith("no se pudo leer")
    _write(tmp_path, "01_x", [])
    assert "no se encontró la celda" in claims_table(tmp_path, (CLAIM,)).rows[0]["says"]


def test_una_carpeta_que_no_existe_da_un_error_claro(tmp_path):
    with pytest.raises(LabkitError, match="carpeta"):
        claims_table(tmp_path / "no-existe")


def test_cada_afirmacion_apunta_a_una_celda_que_existe_y_dice_algo():
    """Si un cuaderno cambia la celda de un veredicto, esta prueba avisa de actualizar la tabla."""
    table = claims_table(ROOT / "notebooks")
    for claim, row in zip(GUIDE_CLAIMS, table.rows):
        assert "no se encontró" not in row["says"], (claim.notebook, claim.cell_id)
        assert row["says"] != "ejecutado, sin veredicto impreso", (claim.notebook, claim.cell_id)


def test_en_alumnos_nada_esta_ejecutado():
    table = claims_table(ROOT / "alumnos")
    assert all(r["says"].startswith(NOT_RUN) for r in table.rows)


def test_la_guia_docente_cubre_cada_cuaderno_y_el_readme_la_enlaza():
    guide = (ROOT / "docs" / "guia_docente.md").read_text(encoding="utf-8")
    for nb in list_notebooks(ROOT / "notebooks"):
        assert f"`{nb.stem}`" in guide, nb.stem
    assert "Rúbrica" in guide and "empate" in guide
    assert "docs/guia_docente.md" in (ROOT / "README.md").read_text(encoding="utf-8")
