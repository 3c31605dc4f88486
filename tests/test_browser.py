"""Los controles de labkit en un navegador de verdad: JupyterLab + Chromium sin pantalla (Playwright).

Un solo servidor de JupyterLab y un solo Chromium para todo el módulo. El curso entero lo ejecuta
nbval una vez por ``make test``; aquí se abre el cuaderno pequeño de controles
(``tests/widget_notebook.py``: cada widget de labkit con datos de 32 px, en segundos), se ejecuta
entero («Run All») y se comprueba lo que solo se ve en un navegador: ningún «Error displaying
widget», ninguna salida de error y cada vista de widget dibujada; luego se usan los controles como
lo haría una persona: el panel de capas y la razón entre tasas cambian su texto al mover el
control, el progreso y las barras de tqdm terminan, el explorador y la comprobación del ejercicio
muestran su resultado, y en el playground «Grupos congelados» cambia los parámetros entrenables y
«Entrenar» termina mostrando la exactitud en prueba. Se guarda una captura en
``salida/capturas/`` (ignorada por git).

Necesita Chromium (``apt-get install chromium``) y Playwright para Python; sin ellos se omite,
salvo con la variable ``CI`` definida, donde falla (CI los instala).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from widget_notebook import CELLS, CONTROLS, NAME, write_notebook

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "salida" / "capturas"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Ajustes de JupyterLab para la prueba: todas las celdas en el DOM y sin avisos de noticias.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}
KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = w && w.sessionContext && w.sessionContext.session
    && w.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""
# Terminó: todas las celdas numeradas, o un error y ninguna celda en marcha («[*]»): JupyterLab
# no ejecuta las que siguen a un error.
RUN_FINISHED = """() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(e => e.textContent);
  const numbered = prompts.length > 0 && prompts.every(t => /\\[\\d+\\]/.test(t));
  const failed = !!document.querySelector('.jp-OutputArea-output[data-mime-type='
    + '"application/vnd.jupyter.stderr"]') && [...document.querySelectorAll(
    '.jp-OutputArea-output')].some(e => e.textContent.includes('Traceback'));
  return numbered || (failed && !prompts.some(t => t.includes('*')));
}"""
# Las salidas de widget son las únicas sin ``data-mime-type`` (JupyterLab 4 + ipywidgets 8).
WIDGET_OUTPUT = ".jp-OutputArea-output:not([data-mime-type])"
# Cada salida de widget: ¿tiene dentro una vista dibujada (con tamaño) o un aviso de error?
WIDGET_VIEWS = """sel => [...document.querySelectorAll(sel)].map(e => {
  const view = e.querySelector('.jupyter-widgets');
  const box = view ? view.getBoundingClientRect() : null;
  return {rendered: !!view && box.width > 0 && box.height > 0,
          error: e.textContent.includes('Error displaying widget')};
})"""


# Los widgets vivos en el kernel (los cerrados, como la barra de tqdm al terminar, ya no se ven).
OPEN_WIDGETS = """async () => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const code = "import ipywidgets.widgets.widget as _w\\n"
    + "print(' '.join(getattr(_w, '_instances', None) or _w.Widget.widgets))";
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = '';
  future.onIOPub = msg => { if (msg.header.msg_type === 'stream') out += msg.content.text; };
  await future.done;
  return out.trim().split(/\\s+/);
}"""


def _require_browser() -> None:
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append("Chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright para Python (pip install playwright)")
    if not missing:
        return
    reason = "Prueba en navegador omitida: falta " + " y ".join(missing) + "."
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_lab_settings(folder: Path) -> None:
    for name, values in LAB_SETTINGS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _server_env(tmp: Path) -> dict:
    """Configuración y datos de ejecución de usar y tirar; las extensiones siguen siendo las
    del entorno (no se toca JUPYTER_DATA_DIR ni JUPYTER_PATH)."""
    env = dict(os.environ)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / sub)
    _write_lab_settings(tmp / "settings")
    # En una CPU de 2 núcleos compartida, 2 hilos OpenMP por proceso se estorban mucho.
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _start_lab(root: Path, tmp: Path, port: int, log_file) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
           "--IdentityProvider.token=", "--ServerApp.disable_check_xsrf=True",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None", "--allow-root"]
    return subprocess.Popen(cmd, env=_server_env(tmp), stdout=log_file,
                            stderr=subprocess.STDOUT, cwd=root)


def _wait_for_server(base: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab terminó al arrancar (código {proc.returncode}).")
        try:
            with urllib.request.urlopen(f"{base}/api/status", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab no respondió en {timeout:.0f} s.")


def _stop_lab(base: str, proc: subprocess.Popen) -> None:
    """Apaga el servidor (y sus kernels): primero por la API, luego terminate y kill."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    try:
        request = urllib.request.Request(f"{base}/api/shutdown", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=10).close()
        proc.wait(timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass


class Lab:
    """El servidor de JupyterLab y el Chromium compartidos por todo el módulo."""

    def __init__(self, root: Path, base: str, browser) -> None:
        self.root, self.base, self.browser = root, base, browser

    def open(self, name: str):
        """Abre un cuaderno en una pestaña nueva, con el kernel listo y sin salidas guardadas."""
        page = self.browser.new_page(viewport={"width": 1400, "height": 2200})
        page.goto(f"{self.base}/lab/tree/{name}?reset")
        page.wait_for_selector(".jp-Notebook", timeout=90_000)
        # Con el kernel listo (si no, JupyterLab pregunta qué kernel usar) y sin las salidas
        # guardadas (sus números de ejecución harían creer que ya se ejecutó).
        page.wait_for_function(KERNEL_IDLE, timeout=90_000, polling=250)
        page.evaluate("() => window.jupyterapp.commands.execute("
                      "'notebook:clear-all-cell-outputs')")
        page.wait_for_function("() => !document.querySelector('.jp-OutputArea-output')",
                               timeout=30_000)
        return page

    def close(self, page) -> None:
        """Cierra la pestaña y apaga los kernels (un cuaderno cada vez: menos memoria)."""
        page.close()
        with urllib.request.urlopen(f"{self.base}/api/kernels", timeout=10) as response:
            kernels = json.load(response)
        for kernel in kernels:
            request = urllib.request.Request(f"{self.base}/api/kernels/{kernel['id']}",
                                             method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require_browser()
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "notebooks"
    root.mkdir()
    write_notebook(root / NAME)
    SHOTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp / "jupyterlab.log"
    with open(log_path, "wb") as log_file:
        proc = _start_lab(root, tmp, port, log_file)
        try:
            _wait_for_server(base, proc)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    yield Lab(root, base, browser)
                finally:
                    browser.close()
        except Exception:
            log_file.flush()
            print("---- registro de JupyterLab ----")
            print(log_path.read_text(errors="replace")[-20_000:])
            raise
        finally:
            _stop_lab(base, proc)


def _run_all(page) -> float:
    """Ejecuta todo el cuaderno («Run All») y espera a que termine; devuelve los segundos."""
    start = time.monotonic()
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_function(RUN_FINISHED, timeout=600_000, polling=500)
    page.wait_for_function(KERNEL_IDLE, timeout=120_000, polling=250)
    return time.monotonic() - start


def _saved_outputs(page, path: Path) -> list[dict]:
    """Guarda el cuaderno desde JupyterLab y devuelve las salidas de sus celdas de código."""
    import nbformat

    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    nb = nbformat.read(path, as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _check_rendered(page, path: Path) -> int:
    """Comprueba el cuaderno ya ejecutado: sin errores y con cada widget dibujado.

    Returns:
        El número de vistas de widget.
    """
    errors = [o for o in _saved_outputs(page, path) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: salida de error: {errors[0].get('ename')}: " \
                       f"{errors[0].get('evalue')}"
    assert page.get_by_text("Error displaying widget").count() == 0, \
        f"{path.name}: JupyterLab dice «Error displaying widget»"
    assert page.get_by_text("Traceback").count() == 0, f"{path.name}: hay un Traceback"
    saved = [o for o in _saved_outputs(page, path) if WIDGET_MIME in o.get("data", {})]
    views = page.evaluate(WIDGET_VIEWS, WIDGET_OUTPUT)
    assert len(views) == len(saved), f"{path.name}: {len(saved)} widgets, {len(views)} vistas"
    if not saved:  # un cuaderno sin widgets: basta con que no haya errores
        return 0
    alive = set(page.evaluate(OPEN_WIDGETS))
    expected = [o["data"][WIDGET_MIME]["model_id"] in alive for o in saved]
    assert any(expected), f"{path.name}: ningún widget sigue abierto en el kernel"
    missing = [i for i, (v, live) in enumerate(zip(views, expected))
               if v["error"] or (live and not v["rendered"])]
    assert not missing, f"{path.name}: vistas de widget sin dibujar: {missing} de {len(views)}"
    return sum(expected)


def _cell(page, source_start: str):
    """La celda de código del cuaderno de controles que empieza por ``source_start``."""
    index = next(i for i, c in enumerate(CELLS) if c.startswith(source_start))
    return page.locator(".jp-CodeCell").nth(index)


def _nudge(page, slider, key: str = "ArrowRight") -> None:
    """Mueve un control deslizante de ipywidgets 8 con el teclado, como una persona."""
    slider.locator(".noUi-handle").first.focus()
    page.keyboard.press(key)


def _drive_layer_controls(page) -> dict:
    """La figura de 00, el panel de capas y la razón entre tasas: mover el control la cambia."""
    from playwright.sync_api import expect

    grid = _cell(page, "import ipywidgets")
    image = grid.locator(".widget-output img").first
    before = image.get_attribute("src")
    _nudge(page, grid.locator(".widget-slider", has_text="Por clase").first)
    expect(image).not_to_have_attribute("src", before, timeout=60_000)  # show_outputs redibujó

    panel = _cell(page, "modelo = ")
    totals = panel.locator(".widget-html", has_text="Entrenables:").first
    before = totals.inner_text()
    _nudge(page, panel.locator(".widget-slider", has_text="Grupos congelados").first)
    expect(totals).not_to_have_text(before, timeout=60_000)
    assert "Entrenables:" in totals.inner_text()

    ratios = _cell(page, "explorador_tasas = ")
    slider = ratios.locator(".widget-slider", has_text="Razón entre tasas").first
    readout = slider.locator(".widget-readout").first
    text = ratios.locator(".widget-html").first
    shown, before_ratio = text.inner_text(), readout.inner_text()
    _nudge(page, slider)
    expect(readout).not_to_have_text(before_ratio, timeout=30_000)
    expect(text).not_to_have_text(shown, timeout=60_000)
    return {"panel": totals.inner_text(), "ratio": readout.inner_text()}


def _check_finished_outputs(page) -> None:
    """El progreso, las barras de tqdm, el explorador y el ejercicio muestran su final."""
    progress = _cell(page, "progreso = ")
    assert "Época actual: 2/2" in progress.inner_text()         # TrainingProgress, al final
    assert progress.locator(".widget-hprogress", has_text="Lotes").count() == 1  # su barra
    assert "2/2" in progress.inner_text()                     # la barra de tqdm de fit, al final
    assert "5/5" in _cell(page, "total = 0").inner_text()     # progress_bar, al final
    explorer = _cell(page, "receta = ")
    assert explorer.locator("button.jupyter-button", has_text="Comparar").count() == 1
    assert "8 imágenes de entrenamiento" in explorer.inner_text()
    assert "✅" in _cell(page, "labkit.checks.").inner_text()


def _drive_playground(page, shot: Path) -> dict:
    """Con el cuaderno ya ejecutado, usa el playground como lo haría una persona."""
    from playwright.sync_api import expect

    timings = {}
    start = time.monotonic()
    playground = page.locator(".widget-vbox", has_text="Playground de Transfer Learning").first
    result = playground.locator(".widget-html", has_text="Entrenamiento n.º").first
    runs = int(re.search(r"n\.º (\d+)", result.inner_text()).group(1))
    totals = playground.locator(".widget-html", has_text="Entrenables:").first

    mode = playground.locator("button.widget-toggle-button", has_text="Ajuste fino").first
    if "mod-active" not in (mode.get_attribute("class") or ""):
        before = totals.inner_text()
        mode.click()
        expect(totals).not_to_have_text(before, timeout=60_000)
    before = totals.inner_text()
    _nudge(page, playground.locator(".widget-slider", has_text="Grupos congelados").first)
    expect(totals).not_to_have_text(before, timeout=60_000)
    after = totals.inner_text()
    assert after != before and "Entrenables:" in after

    epochs = playground.locator(".widget-slider", has_text="Épocas").first  # 2 épocas: rápido
    _nudge(page, epochs, "Home")
    page.keyboard.press("ArrowRight")
    epochs.locator(".widget-readout").filter(has_text=re.compile(r"^\s*2\s*$")).wait_for(
        timeout=30_000)
    # La lectura del control cambia en el navegador; la línea «Al pulsar «Entrenar»» la escribe
    # Python: esperarla asegura que el núcleo tiene las 2 épocas antes del clic (sin esto, el
    # clic podía llegar antes que el valor y entrenar 1 época).
    playground.locator(".labkit-plan", has_text="· 2 épocas").first.wait_for(timeout=30_000)
    # El icono de Font Awesome entra en el nombre accesible: se busca por el texto visible.
    playground.locator("button.jupyter-button", has_text="Entrenar").first.click()
    playground.get_by_text(f"Entrenamiento n.º {runs + 1}:").wait_for(timeout=180_000)
    timings["click_to_result"] = time.monotonic() - start
    accuracy = playground.locator(".widget-html", has_text="Exactitud en prueba").first
    assert re.search(r"Exactitud en prueba: \d+\.\d %", accuracy.inner_text())
    assert "ajuste fino" in result.inner_text() and "· 2 épocas ·" in result.inner_text()
    playground.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    playground.screenshot(path=str(shot))
    return {"before": before, "after": after, "accuracy": accuracy.inner_text(), **timings}


def test_every_labkit_widget_renders_and_responds_in_jupyterlab(lab):
    page = lab.open(NAME)
    shot = SHOTS / NAME.replace(".ipynb", ".png")
    try:
        seconds = _run_all(page)
        views = _check_rendered(page, lab.root / NAME)
        _check_finished_outputs(page)
        controls = _drive_layer_controls(page)
        info = _drive_playground(page, shot)
        assert _check_rendered(page, lab.root / NAME) >= views  # sin errores tras usarlo
    except Exception:
        page.screenshot(path=str(SHOTS / NAME.replace(".ipynb", "_fallo.png")))
        raise
    finally:
        lab.close(page)
    print(f"{NAME}: {seconds:.0f} s, {views} vistas de widget; {controls}; {info}; "
          f"captura en {shot}")
    assert views >= CONTROLS  # los controles vivos y dibujados (las barras de tqdm, cerradas)
    assert shot.stat().st_size > 10_000


def test_the_check_catches_a_widget_that_cannot_be_displayed(lab):
    """La comprobación puede fallar: una vista de un widget que no existe da «Error displaying
    widget» y _check_rendered lo detecta."""
    import nbformat

    broken = {"application/vnd.jupyter.widget-view+json":
              {"model_id": "no-existe", "version_major": 2, "version_minor": 0},
              "text/plain": "roto"}
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(
        f"from IPython.display import display\ndisplay({broken!r}, raw=True)")]
    nbformat.write(nb, lab.root / "roto.ipynb")
    page = lab.open("roto.ipynb")
    try:
        _run_all(page)
        page.get_by_text("Error displaying widget").first.wait_for(timeout=30_000)
        with pytest.raises(AssertionError, match="Error displaying widget"):
            _check_rendered(page, lab.root / "roto.ipynb")
    finally:
        lab.close(page)
