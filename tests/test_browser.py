"""El playground en un navegador de verdad: JupyterLab + Chromium sin pantalla (Playwright).

Comprueba lo que solo se ve en un navegador: que los widgets se dibujan, que mover «Capas
congeladas» cambia los parámetros entrenables en pantalla y que «Entrenar» termina mostrando
la exactitud en prueba. Deja una captura en ``tmp_path / "playground.png"`` (y una copia en
``/tmp/playground.png``).

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

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = "09_playground.ipynb"
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
ALL_CELLS_RUN = """() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(e => e.textContent);
  return prompts.length > 0 && prompts.every(t => /\\[\\d+\\]/.test(t));
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


def _totals(page) -> str:
    return page.locator(".labkit-totals").first.inner_text()


def _drive_playground(page, base: str, shot: Path) -> dict:
    """Abre el cuaderno, lo ejecuta entero y usa el playground como lo haría una persona."""
    timings = {}
    start = time.monotonic()
    page.goto(f"{base}/lab/tree/{NOTEBOOK}")
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    # Con el kernel listo (si no, JupyterLab pregunta qué kernel usar) y sin las salidas
    # guardadas (sus números de ejecución harían creer que ya se ejecutó).
    page.wait_for_function(KERNEL_IDLE, timeout=90_000, polling=250)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.wait_for_function("() => !document.querySelector('.widget-slider')", timeout=30_000)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_selector(".widget-slider", timeout=120_000)
    timings["sliders"] = time.monotonic() - start
    page.wait_for_function(ALL_CELLS_RUN, timeout=300_000, polling=500)
    page.wait_for_function(KERNEL_IDLE, timeout=60_000, polling=250)
    timings["run_all"] = time.monotonic() - start
    assert page.get_by_text("Traceback").count() == 0, "Alguna celda terminó con un error."
    result = page.locator(".widget-html", has_text="Entrenamiento n.º").first
    runs = int(re.search(r"n\.º (\d+)", result.inner_text()).group(1))

    mode = page.locator("button.widget-toggle-button", has_text="Ajuste fino").first
    if "mod-active" not in (mode.get_attribute("class") or ""):
        before = _totals(page)
        mode.click()
        page.wait_for_function(
            "t => document.querySelector('.labkit-totals').textContent !== t", arg=before,
            timeout=60_000)
    before = _totals(page)
    freeze = page.locator(".widget-slider", has_text="Capas congeladas").first
    freeze.locator(".noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "t => document.querySelector('.labkit-totals').textContent !== t", arg=before,
        timeout=60_000)
    after = _totals(page)
    assert after != before and "Entrenables:" in after

    epochs = page.locator(".widget-slider", has_text="Épocas").first  # 2 épocas: rápido
    epochs.locator(".noUi-handle").first.focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    epochs.locator(".widget-readout").filter(has_text=re.compile(r"^\s*2\s*$")).wait_for(
        timeout=30_000)
    # El icono de Font Awesome entra en el nombre accesible: se busca por el texto visible.
    page.locator("button.jupyter-button", has_text="Entrenar").first.click()
    done = page.get_by_text(f"Entrenamiento n.º {runs + 1}:")
    done.wait_for(timeout=180_000)
    timings["click_to_result"] = time.monotonic() - start - timings["run_all"]
    accuracy = page.locator(".widget-html", has_text="Exactitud en prueba").first.inner_text()
    assert re.search(r"Exactitud en prueba: \d+\.\d %", accuracy)
    assert "ajuste fino" in result.inner_text() and "· 2 épocas ·" in result.inner_text()
    playground = page.locator(".widget-vbox", has_text="Playground de Transfer Learning").first
    playground.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    playground.screenshot(path=str(shot))
    return {"before": before, "after": after, "accuracy": accuracy, **timings}


def test_playground_in_jupyterlab(tmp_path):
    _require_browser()
    from playwright.sync_api import sync_playwright

    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(REPO / "notebooks" / NOTEBOOK, root / NOTEBOOK)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "jupyterlab.log"
    shot = tmp_path / "playground.png"
    started = time.monotonic()
    with open(log_path, "wb") as log_file:
        proc = _start_lab(root, tmp_path, port, log_file)
        try:
            _wait_for_server(base, proc)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = None
                try:
                    page = browser.new_page(viewport={"width": 1400, "height": 2200})
                    info = _drive_playground(page, base, shot)
                except Exception:
                    if page is not None:
                        page.screenshot(path=str(tmp_path / "fallo.png"))
                        shutil.copy(tmp_path / "fallo.png", "/tmp/playground_fallo.png")
                    raise
                finally:
                    browser.close()
        except Exception:
            log_file.flush()
            print("---- registro de JupyterLab ----")
            print(log_path.read_text(errors="replace")[-20_000:])
            raise
        finally:
            _stop_lab(base, proc)
    shutil.copy(shot, "/tmp/playground.png")
    print(f"Navegador: {time.monotonic() - started:.1f} s en total; {info}")
    assert shot.stat().st_size > 10_000
