"""Como en Colab: un entorno que ya trae torch, torchvision e ipywidgets 7.7.1, labkit instalado
desde su rueda como lo hace la celda de preparación (``pip install``, no editable), y en un kernel
de ese entorno, sin navegador: la celda de preparación de cada cuaderno del curso y el cuaderno
pequeño de controles (``tests/widget_notebook.py``: cada widget de labkit, un entrenamiento y una
comprobación de ejercicio). Los cuadernos enteros ya los ejecuta nbval una vez.

Para no reinstalar 5 GB, el entorno nuevo ve los paquetes del entorno de pruebas a través de un
``.pth`` (que va *detrás* de su propio site-packages): primero ``.ipywidgets7/`` (ipywidgets 7.7.1,
lo que trae Colab) y luego una carpeta de enlaces a los paquetes de ``.venv`` sin labkit ni
ipywidgets 8. pip ve todo eso como ya instalado; antes de instalar de verdad se comprueba con
``--dry-run`` que solo instalaría labkit (así nunca toca los paquetes enlazados). Sin red.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from test_install import build_wheel, pip_env
from widget_notebook import CELLS, CHECKS, VIEWS

from labkit.teacher import list_notebooks, read_notebook, write_notebooks

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
W7 = REPO / ".ipywidgets7"
COURSE = list_notebooks(REPO / "notebooks")
# Lo que no se enlaza desde .venv: labkit (se instala de la rueda) e ipywidgets 8 y compañía.
HIDDEN = re.compile(r"^(_*editable_*\.?labkit|labkit|ipywidgets|widgetsnbextension|"
                    r"jupyterlab_widgets|ipython_genutils)", re.IGNORECASE)
RUN = """
import sys
from labkit.teacher import execute_notebook, read_notebook, write_notebooks
nb = read_notebook(sys.argv[1])
execute_notebook(nb, cwd=sys.argv[2], timeout=600)
write_notebooks({sys.argv[1]: nb})
"""


def _require_w7() -> None:
    if (W7 / "ipywidgets").is_dir():
        return
    reason = f"Falta ipywidgets 7.7 en {W7}: `make .ipywidgets7/.instalado` (lo hace make test)."
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _link_farm(dest: Path) -> Path:
    """Enlaces a cada paquete del site-packages actual, salvo labkit e ipywidgets 8."""
    dest.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        if not HIDDEN.match(entry.name) and entry.suffix != ".pth":
            (dest / entry.name).symlink_to(entry)
    return dest


def _colab_env(root: Path) -> Path:
    """El entorno «Colab»: venv nuevo + .pth a ipywidgets 7.7.1 y a los paquetes enlazados."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    python = root / "venv" / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    farm = _link_farm(root / "base")
    (Path(purelib) / "zz_colab_base.pth").write_text(f"{W7}\n{farm}\n")
    return python


def _kernel_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH")}
    env.update(OMP_NUM_THREADS="1", PYTHONNOUSERSITE="1")
    return env


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "--python", str(python), *args],
                          env=pip_env(), capture_output=True, text=True)


@pytest.fixture(scope="module")
def colab(tmp_path_factory) -> Path:
    _require_w7()
    root = tmp_path_factory.mktemp("colab")
    python = _colab_env(root)
    wheel = build_wheel(root / "rueda")
    report = root / "informe.json"
    dry = _pip(python, "install", "--dry-run", "--no-index", "--report", str(report), str(wheel))
    assert dry.returncode == 0, dry.stderr
    names = [i["metadata"]["name"].lower() for i in json.loads(report.read_text())["install"]]
    assert names == ["labkit"], f"pip cambiaría lo que Colab ya tiene: {names}"
    done = _pip(python, "install", "--no-index", "--quiet", str(wheel))
    assert done.returncode == 0, done.stderr
    subprocess.run([str(python), "-m", "ipykernel", "install", "--sys-prefix"], check=True,
                   env=_kernel_env(), capture_output=True)
    return python


def test_colab_like_environment_has_ipywidgets_7_and_labkit_from_the_wheel(colab):
    out = subprocess.run(
        [str(colab), "-c", "import ipywidgets, labkit, torch; "
         "print(ipywidgets.__version__, labkit.__file__, torch.__version__)"],
        check=True, capture_output=True, text=True, env=_kernel_env(), cwd=colab.parent).stdout
    version, labkit_file, torch_version = out.split()
    assert version == "7.7.1"
    assert labkit_file.startswith(str(colab.parent.parent)) and "site-packages" in labkit_file
    assert "__editable__" not in labkit_file and torch_version


def _setup_cells() -> list[str]:
    """La celda de preparación (la primera de código) de cada cuaderno, sin repetir."""

    cells = []
    for path in COURSE:
        nb = read_notebook(path)
        first = next(c.source for c in nb.cells if c.cell_type == "code")
        assert "import labkit" in first, f"{path.name}: la primera celda no prepara labkit"
        if first not in cells:
            cells.append(first)
    return cells


def test_setup_cells_and_widgets_run_in_the_colab_like_environment(colab, tmp_path):
    import nbformat

    setup = _setup_cells()
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(c) for c in [*setup, *CELLS]]
    path = tmp_path / "colab.ipynb"
    write_notebooks({path: nb})
    result = subprocess.run([str(colab), "-c", RUN, str(path), str(tmp_path)],
                            env=_kernel_env(), cwd=tmp_path, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, f"falló en el entorno tipo Colab:\n{result.stderr[-5000:]}"
    nb = read_notebook(path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # la preparación encontró labkit (instalado de la rueda): no intentó el pip install
    first = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert first.startswith("labkit ") and "pip" not in first.lower()
    views = [o["data"]["application/vnd.jupyter.widget-view+json"] for o in outputs
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    # los controles (figura de 00, panel, tasas, progreso, explorador, playground) y tqdm
    # (con 7.7 cada barra de tqdm queda guardada dos veces, su estado inicial y el final, con el
    # mismo modelo: se cuentan modelos distintos)
    assert len({v["model_id"] for v in views}) == VIEWS
    assert all(v["version_major"] == 2 for v in views)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    assert not state or state.get("version_major") == 2
    text = "".join(str(o.get("data", {}).get("text/plain", o.get("text", ""))) for o in outputs)
    assert text.count("✅") == CHECKS and "❌" not in text, "la comprobación del ejercicio no pasó"
