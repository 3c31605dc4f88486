"""La barra de progreso en un cuaderno: el texto que se guarda es el estado final.

GitHub y nbviewer no dibujan widgets: muestran el ``text/plain`` guardado. Sin actualizarlo, ese
texto era el de la barra recién creada («0/3 épocas | | [00:00<?]»).
"""

import nbformat

from labkit.teacher import execute_notebook

CODE = """
import torch, labkit
from labkit.data import ImageSet
g = torch.Generator().manual_seed(0)
x = torch.randint(0, 255, (24, 3, 16, 16), dtype=torch.uint8, generator=g)
y = torch.arange(24) % 2
tr = ImageSet(x, y, ["a", "b"]); va = ImageSet(x[:8], y[:8], ["a", "b"])
m = labkit.create_model("cnn_pequena", num_classes=2, pretrained=False)
h = labkit.fit(m, tr, va, epochs=3, lr=1e-3)
"""


def test_saved_progress_text_is_the_final_state():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell(CODE))
    execute_notebook(nb, timeout=180)
    texts = [o["data"]["text/plain"] for o in nb.cells[0].outputs
             if o.output_type == "display_data" and "text/plain" in o.get("data", {})]
    assert len(texts) == 1
    assert "3/3 épocas" in texts[0] and "<?" not in texts[0]
    assert "pérdida" in texts[0] and "exactitud" in texts[0]
    assert "application/vnd.jupyter.widget-view+json" in nb.cells[0].outputs[0]["data"]


def test_a_bar_that_does_not_stay_leaves_no_stale_text():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell(
        "from labkit.base._progress import progress_bar\n"
        "total = sum(progress_bar(range(5), desc='barrido', leave=False))\n"
        "for _ in progress_bar(range(2), desc='queda'):\n    pass"))
    execute_notebook(nb, timeout=180)
    texts = [o["data"].get("text/plain", "") for o in nb.cells[0].outputs
             if o.output_type == "display_data"]
    assert texts[0] == "" and "2/2" in texts[1] and "<?" not in "".join(texts)


def test_progress_bar_speaks_spanish_units():
    """Sin «it/s» de tqdm: la unidad por defecto es «paso» (y quien llama puede dar la suya)."""
    import io

    from labkit.base import progress_bar

    out = io.StringIO()
    for _ in progress_bar(range(3), file=out, mininterval=0):
        pass
    assert "paso/s" in out.getvalue() and "it/s" not in out.getvalue()
    out = io.StringIO()
    for _ in progress_bar(range(2), file=out, unit="ejecución", mininterval=0):
        pass
    assert "ejecución/s" in out.getvalue()
