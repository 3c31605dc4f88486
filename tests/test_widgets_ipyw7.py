"""Los controles también funcionan con ipywidgets 7.7, la versión que trae Colab.

``make test`` instala ipywidgets 7.7.1 al lado del 8 en ``.ipywidgets7/``
(``make .ipywidgets7/.instalado``); esta prueba ejecuta ``tests/test_widgets.py`` en otro
proceso con esa carpeta delante en ``PYTHONPATH`` y comprueba que pasó con 7.7.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
W7 = REPO / ".ipywidgets7"


def _require_w7() -> None:
    if (W7 / "ipywidgets").is_dir():
        return
    reason = (f"No está ipywidgets 7.7 en {W7}: instálalo con `make .ipywidgets7/.instalado` "
              "(lo hace `make test`).")
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def test_widgets_pass_on_ipywidgets_7(tmp_path):
    _require_w7()
    report = tmp_path / "version.txt"
    env = dict(os.environ, LABKIT_IPYWIDGETS_REPORT=str(report))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(W7), env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "pytest", str(REPO / "tests" / "test_widgets.py"), "-q",
           "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout[-6000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, f"tests/test_widgets.py falló con ipywidgets 7.7:\n{log}"
    assert report.exists(), f"No se registró la versión de ipywidgets:\n{log}"
    assert report.read_text().startswith("7.7"), (
        f"Se ejecutó con ipywidgets {report.read_text()}, no con 7.7:\n{log}")
