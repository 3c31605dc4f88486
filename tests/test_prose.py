"""El texto de los cuadernos no escribe a mano resultados: los imprime el código.

Una cifra en markdown solo pasa si es un dato publicado (``<!-- cita: fuente -->``) o un valor
elegido (``<!-- umbral -->``), marcado en su misma línea. Ver ``labkit/prose.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.teacher import list_notebooks, read_notebook, typed_figures

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = list_notebooks(ROOT / "notebooks")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_markdown_has_no_typed_result(path):
    nb = read_notebook(path)
    bad = [f"celda {i}: {hit}" for i, cell in enumerate(nb.cells)
           if cell.cell_type == "markdown" for hit in typed_figures(cell.source)]
    assert not bad, ("cifras escritas a mano en markdown (imprímelas desde el código, o marca "
                     "la línea con <!-- cita: fuente --> o <!-- umbral -->):\n" + "\n".join(bad))


@pytest.mark.parametrize("text", [
    "El ajuste fino gana 7.0 puntos.", "Llega al 91 %.", "Con 100 imágenes: 88,5%.",
    "Es 3 veces más rápido.", "Un 2.5× más lento.", "Sube 1 punto.", "Pierde −4 pts."])
def test_the_scan_catches_typed_results(text):
    assert typed_figures(text)


@pytest.mark.parametrize("text", [
    "MedMNIST v2 publica 88.4 % <!-- cita: Yang et al. 2023, tabla 3 -->",
    "Pide al menos un 60 % de exactitud balanceada. <!-- umbral -->",
    "Usa `check(0.91, '91 %')` para comprobarlo.", "```python\nprint('91 %')\n```",
    "La época 3 y el grupo 4.", "Sin cifras.", "Imágenes de 28 × 28 px.",
    "Lo decide el intervalo al 95 % de la diferencia."])
def test_the_scan_lets_cited_facts_thresholds_and_code_pass(text):
    assert typed_figures(text) == []
