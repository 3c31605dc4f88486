"""`make lab` abre el curso: lo arranca el Makefile de verdad y se pide la página del curso.

La prueba ejecuta ``make lab`` con el entorno que corre las pruebas (``VENV=sys.prefix``, sin
reinstalar: ``-o`` da la marca por buena), en un puerto libre y sin navegador, y pide a Jupyter el
primer cuaderno de la versión del alumno. Si el Makefile deja de arrancar JupyterLab (por ejemplo,
como root sin ``--allow-root``), la prueba falla.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
JUPYTER = VENV / "bin" / "jupyter"

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or not JUPYTER.exists(),
    reason=f"hace falta `make` y JupyterLab en {VENV} (`make lab` lo instala)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_lab(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        ["make", "--no-print-directory", "-o", str(VENV / ".lab"), "lab", f"VENV={VENV}", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # su propio grupo: se para entero (make y jupyter)
    )


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    return out


def _get(url: str, token: str) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status, resp.read()


def test_makefile_lab_options_follow_the_user_and_the_screen():
    """Las opciones salen del usuario y de la pantalla: root → --allow-root; sin pantalla → sin
    navegador; y el curso que se abre es la versión del alumno."""
    # --no-print-directory: dentro de `make test` (MAKELEVEL > 0) make escribiría además
    # «Entering/Leaving directory» alrededor de la orden.
    out = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.lab", "lab"],
                         cwd=ROOT, text=True, capture_output=True, check=True).stdout
    command = [line for line in out.splitlines() if "jupyter lab" in line][-1]
    assert "jupyter lab alumnos/00_guia.ipynb" in command
    for extension in ("formgrader", "assignment_list", "course_list", "validate_assignment"):
        assert f"nbgrader.server_extensions.{extension}=False" in command
    env = {"PATH": os.environ["PATH"]}
    # La parte de la orden que decide (el shell la evalúa como lo haría make).
    opts = command.split(".ipynb", 1)[1]
    flags = subprocess.run(["bash", "-c", f"echo {opts}"], env=env, text=True,
                           capture_output=True, check=True).stdout.split()
    assert ("--allow-root" in flags) == (os.getuid() == 0)
    assert ("--no-browser" in flags) == (os.uname().sysname == "Linux")
    for screen in ({"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"}, {"BROWSER": "firefox"}):
        with_screen = subprocess.run(["bash", "-c", f"echo {opts}"], env={**env, **screen},
                                     text=True, capture_output=True, check=True).stdout.split()
        assert "--no-browser" not in with_screen, screen


@pytest.mark.slow
def test_make_lab_serves_the_student_course(tmp_path):
    assert (ROOT / "alumnos" / "00_guia.ipynb").exists(), "falta alumnos/ (make alumnos)"
    port, token = _free_port(), "prueba-make-lab"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "BROWSER")}
    env.update(JUPYTER_TOKEN=token, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "d"),
               IPYTHONDIR=str(tmp_path / "ipython"))
    proc = _make_lab([f"LAB_ARGS=--port={port} --ServerApp.port_retries=0 --ip=127.0.0.1"], env)
    base = f"http://127.0.0.1:{port}"
    status, body, last_error = None, b"", None
    try:
        deadline = time.monotonic() + 120  # arranque de Jupyter en una máquina cargada
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body = _get(f"{base}/api/contents/00_guia.ipynb?content=0", token)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
                last_error = err
                time.sleep(1)
        page_status = _get(f"{base}/lab/tree/00_guia.ipynb", token)[0] if status else None
    finally:
        log = _stop(proc)
    assert status == 200, f"JupyterLab no respondió ({last_error}); su salida:\n{log[-3000:]}"
    model = json.loads(body)
    assert model["type"] == "notebook" and model["path"] == "00_guia.ipynb"
    assert page_status == 200
    assert "Running as root is not recommended" not in log
    assert "nbgrader_config.py" not in log, log[-3000:]
    assert f":{port}/lab" in log  # sin navegador, Jupyter escribe la URL para abrirla a mano
