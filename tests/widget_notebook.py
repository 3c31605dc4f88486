"""Un cuaderno pequeño con todos los controles de labkit, para las pruebas en navegador y Colab.

El curso se ejecuta entero una sola vez por ``make test`` (nbval). Las pruebas que necesitan un
kernel de verdad (JupyterLab en Chromium, el entorno tipo Colab con ipywidgets 7.7) usan este
cuaderno: datos integrados diminutos (32 px) y pocas épocas, así que corre en segundos, y muestra
cada control de labkit que dibuja un widget:

- un ``IntSlider`` que redibuja una figura con ``labkit.widgets.show_outputs`` (00),
- ``labkit.widgets.LayerPanel`` y ``labkit.widgets.LRRatioExplorer`` (02, 04, 05),
- ``labkit.widgets.TrainingProgress`` durante ``fit`` (03, 08),
- la barra de ``tqdm`` de ``fit(progress=True)`` y ``labkit.base.progress_bar``,
- ``labkit.widgets.SampleSizeExplorer`` (06),
- ``labkit.widgets.Playground`` (09), que la prueba en navegador maneja como una persona,
- la salida de una comprobación de ejercicio (``labkit.checks``: ✅/❌).

(El control de subir imágenes, ``FileUpload``, tiene su propia prueba en navegador.)
No hay ``.ipynb`` versionado: nbval recoge todo cuaderno bajo ``tests/`` y lo ejecutaría otra vez.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

__all__ = ["CELLS", "CHECKS", "CONTROLS", "NAME", "VIEWS", "write_notebook"]

NAME = "controles.ipynb"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

CELLS = [
    # La preparación, como la de los cuadernos del curso (sin la línea de instalación).
    """import labkit
import labkit.widgets
import labkit.widgets
from labkit.base import progress_bar
labkit.seed_everything(0)
datos = labkit.surface_dataset(n_train=24, n_val=12, n_test=12, image_size=32)
print("labkit", labkit.__version__, "·", len(datos.train), "imágenes de entrenamiento")""",
    # 00: un control de ipywidgets que redibuja una figura con labkit.widgets.show_outputs.
    """import ipywidgets as widgets
from IPython.display import display

import labkit.plots

por_clase = widgets.IntSlider(value=2, min=1, max=4, description="Por clase",
                              continuous_update=False)
salida = widgets.Output()

def dibujar(_=None):
    labkit.widgets.show_outputs(salida, labkit.plots.plot_image_grid(datos.train,
                                                                      per_class=por_clase.value))

por_clase.observe(dibujar, names="value")
dibujar()
display(widgets.VBox([por_clase, salida]))""",
    # 02 y 04: el panel de capas (la CNN pequeña, sin pesos que descargar).
    """modelo = labkit.create_model("cnn_pequena", num_classes=len(datos.classes), pretrained=False)
panel = labkit.widgets.LayerPanel(modelo, depth=1)
panel""",
    # 05: las tasas por grupo.
    """explorador_tasas = labkit.widgets.LRRatioExplorer(modelo, lr=1e-3)
explorador_tasas""",
    # 03 y 08: el progreso durante fit (y la barra de tqdm de fit con progress=True).
    """progreso = labkit.widgets.TrainingProgress()
historial = labkit.fit(modelo, datos.train, datos.val, epochs=2, batch_size=8,
                       callbacks=[progreso], progress=True, device="cpu")
print(historial.epochs, "épocas")""",
    """total = 0
for x in progress_bar(range(5), desc="sumando"):
    total += x
print("suma", total)""",
    # 06: el explorador de tamaños (receta mínima).
    """receta = labkit.experiments.Recipe(head_epochs=1, fine_tune_epochs=1, scratch_steps=2,
                                   scratch_min_epochs=1, scratch_max_epochs=1, batch_size=8)
explorador = labkit.widgets.SampleSizeExplorer(datos, recipe=receta, value=8, device="cpu")
explorador.run()
explorador""",
    # 09: el playground (la prueba en navegador lo maneja después).
    """pg = labkit.widgets.Playground(datos, batch_size=8, device="cpu")
pg.epochs.value = 1
pg.run()
pg""",
    # Un ejercicio: la comprobación muestra su veredicto.
    """labkit.checks.check_value(panel.trainable, labkit.summary(modelo).trainable, tol=0)""",
]

#: Cuántas comprobaciones de ejercicio hay (cada una debe mostrar ✅).
CHECKS = sum("labkit.checks." in c for c in CELLS)
#: Los controles de labkit que el cuaderno muestra (siguen vivos en el kernel al terminar).
CONTROLS = 6  # figura de 00, panel, tasas, progreso, explorador y playground
#: Todas las vistas de widget que deja el cuaderno: los controles y dos barras de tqdm.
VIEWS = CONTROLS + 2


def write_notebook(path: str | Path) -> Path:
    """Escribe el cuaderno (sin ejecutar, con ``kernelspec`` para que JupyterLab no pregunte).

    Args:
        path: dónde escribirlo (``.ipynb``).

    Returns:
        La ruta escrita.
    """
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    path = Path(path)
    nbformat.write(nb, path)
    return path
