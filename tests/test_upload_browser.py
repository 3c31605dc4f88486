"""«Tu propia foto» en un navegador de verdad: JupyterLab + Chromium sin pantalla (Playwright).

Abre un cuaderno pequeño hecho para esta prueba (``tests/cuadernos/foto_propia.ipynb``: un modelo
diminuto y :func:`labkit.widgets.photo_uploader`), lo ejecuta, pulsa el botón, elige una foto de
flores en el selector de archivos del navegador (``FileChooser.set_files``) y espera
a ver la predicción: la foto y una barra por clase. Después sube un archivo que no es una imagen
y espera el mensaje en español, sin traza de error. Usa el servidor y el Chromium de
``tests/test_browser.py`` (fixture ``lab``). Colab no se puede probar aquí (necesita una cuenta
de Google y red): de Colab solo se prueba la parte de Python, con su ipywidgets 7.7
(``tests/test_upload.py``), no su interfaz.
"""

import shutil
from pathlib import Path

import pytest
from test_browser import SHOTS, _check_rendered, _run_all, lab  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "tests" / "cuadernos" / "foto_propia.ipynb"
PHOTO = REPO / "labkit" / "fotos" / "flores" / "roses" / "102501987_3cdb8e5394_n.jpg"
RESULT = ".labkit-upload-result"
IMAGE_LOADED = """() => {
  const img = document.querySelector('.labkit-upload-result img');
  return !!img && img.complete && img.naturalWidth > 0;
}"""


def _upload(page, path: Path) -> None:
    """Pulsa «Sube tu foto» y elige el archivo en el selector que abre, como una persona.

    ipywidgets 8 no pone su ``<input type="file">`` en la página (el botón lo abre con un clic):
    por eso se espera el selector de archivos y no se busca el ``input``.
    """
    with page.expect_file_chooser(timeout=30_000) as chooser:
        page.locator(".labkit-upload .widget-upload").first.click()
    chooser.value.set_files(str(path))


def test_upload_a_photo_in_jupyterlab(lab, tmp_path):  # noqa: F811 (fixture)
    name = NOTEBOOK.name
    shutil.copy(NOTEBOOK, lab.root / name)
    not_a_photo = tmp_path / "notas.jpg"
    not_a_photo.write_text("esto no es una foto")
    page = lab.open(name)
    try:
        _run_all(page)
        assert _check_rendered(page, lab.root / name) == 1
        result = page.locator(RESULT).first
        assert "Elige una foto" in result.inner_text()

        _upload(page, PHOTO)
        page.locator(RESULT, has_text="el modelo dice").first.wait_for(timeout=60_000)
        text = result.inner_text()
        assert f"«{PHOTO.name}»: el modelo dice «clase" in text
        assert text.count("%") == 4  # la línea de arriba y una barra por clase
        page.wait_for_function(IMAGE_LOADED, timeout=30_000, polling=250)
        width = result.locator("img").first.evaluate("e => e.naturalWidth")
        assert width == 128  # la foto tal como la ve el modelo (recortada y reescalada)
        page.wait_for_timeout(300)
        page.locator(".labkit-upload").first.screenshot(path=str(SHOTS / "foto_propia.png"))

        _upload(page, not_a_photo)
        page.locator(RESULT, has_text="no es una imagen").first.wait_for(timeout=60_000)
        assert "❌" in result.inner_text() and "Traceback" not in result.inner_text()
        _check_rendered(page, lab.root / name)
    except Exception:
        page.screenshot(path=str(SHOTS / "foto_propia_fallo.png"))
        raise
    finally:
        lab.close(page)
