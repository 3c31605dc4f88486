"""Instalar labkit no cambia lo que Colab o quien aprende ya tiene (torch, torchvision, ipywidgets).

Se construye la rueda (wheel) de labkit y se le pregunta a pip (``pip install --dry-run --report``)
qué haría al instalarla en un entorno que ya tiene esos paquetes. Todo sin red: ``--no-index`` y
sin la configuración de pip de la máquina (``PIP_CONFIG_FILE=/dev/null``), que en esta máquina
añade un límite ``torch<=2.14.1`` (``/etc/xdg/pip/constraints.txt``) y haría la prueba inútil.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent
# Lo que Colab trae de fábrica y labkit nunca debe reemplazar.
PRESERVED = ("torch", "torchvision", "ipywidgets")
# Versiones «del futuro» que el entorno falso dice tener, y las «viejas» que el índice local ofrece
# (si labkit pusiera un techo, pip las elegiría y el informe lo delataría).
FUTURE = {"torch": "9.0.0", "torchvision": "9.0.0", "ipywidgets": "9.0.0", "timm": "9.0.0"}
OLD = {"torch": "2.14.1", "torchvision": "0.29.1", "ipywidgets": "8.1.5", "timm": "1.0.9"}


def _requirements() -> list[Requirement]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in data["dependencies"]]


def pip_env() -> dict[str, str]:
    """Entorno para pip sin la configuración de la máquina (ni límites ni índices extra)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PIP_") and k != "PYTHONPATH"}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INPUT="1")
    return env


def build_wheel(dest: Path) -> Path:
    """Construye la rueda de labkit en ``dest`` (sin red: setuptools del propio entorno).

    Se construye desde una copia del código para no dejar ``build/`` ni ``*.egg-info`` en el
    repositorio."""
    src = dest / "fuente"
    shutil.copytree(REPO / "labkit", src / "labkit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(dest), str(src)],
                   check=True, env=pip_env(), capture_output=True)
    (wheel,) = dest.glob("labkit-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("rueda"))


def _dist_info(site: Path, name: str, version: str) -> None:
    """Un paquete «instalado» de mentira: solo sus metadatos, que es lo que pip mira."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text("")


def _fake_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    """Una rueda vacía e instalable de ``name==version`` (con sus ``Requires-Dist``)."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires)
    files = {f"{info}/METADATA": metadata,
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: prueba\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n"}
    record = []
    with zipfile.ZipFile(path, "w") as zf:
        for arcname, text in files.items():
            data = text.encode()
            zf.writestr(arcname, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{arcname},sha256={digest.decode()},{len(data)}")
        zf.writestr(f"{info}/RECORD", "\n".join(record + [f"{info}/RECORD,,"]) + "\n")
    return path


def _fake_environment(root: Path) -> Path:
    """Un entorno virtual mínimo que «ya tiene» torch, torchvision, ipywidgets y timm del futuro
    y el resto de dependencias de labkit en su cota inferior. Devuelve su intérprete."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    for req in _requirements():
        lower = next((s.version for s in req.specifier if s.operator == ">="), "1.0")
        _dist_info(Path(purelib), req.name, FUTURE.get(req.name, lower))
    return python


def dry_run(python: Path, wheel: Path, find_links: Path, tmp: Path) -> list[dict]:
    """Lo que pip instalaría (entradas ``install`` de su informe) al instalar ``wheel``.

    Args:
        python: el intérprete del entorno de destino.
        wheel: la rueda de labkit.
        find_links: carpeta con las ruedas que pip puede elegir (sin índice en la red).
        tmp: carpeta para el informe.

    Returns:
        La lista ``install`` del informe de pip.
    """
    report = tmp / "informe.json"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--dry-run",
         "--no-index", "--find-links", str(find_links), "--report", str(report), "--quiet",
         str(wheel)], env=pip_env(), capture_output=True, text=True)
    assert result.returncode == 0, f"pip no pudo resolver la instalación:\n{result.stderr}"
    return json.loads(report.read_text())["install"]


def test_no_upper_bound_on_what_colab_already_has():
    for req in _requirements():
        if req.name in (*PRESERVED, "timm"):
            capped = [str(s) for s in req.specifier if s.operator in ("<", "<=", "==", "~=", "===")]
            assert not capped, f"{req.name} no debe llevar techo en pyproject.toml: {capped}"
            assert any(s.operator == ">=" for s in req.specifier), f"{req.name}: falta la cota inferior"


def test_installing_the_wheel_keeps_newer_torch_torchvision_and_ipywidgets(wheel, tmp_path):
    links = tmp_path / "indice"
    links.mkdir()
    for name, version in OLD.items():  # lo que pip elegiría si labkit pusiera un techo
        _fake_wheel(links, name, version)
    python = _fake_environment(tmp_path / "entorno")
    install = dry_run(python, wheel, links, tmp_path)
    names = sorted(item["metadata"]["name"].lower() for item in install)
    assert names == ["labkit"], f"pip instalaría además {names} (cambiaría lo que ya hay)"


def test_the_fake_index_would_catch_a_cap(tmp_path):
    """La prueba anterior puede fallar: con un techo, pip bajaría torch a la versión del índice."""
    links = tmp_path / "indice"
    links.mkdir()
    for name, version in OLD.items():
        _fake_wheel(links, name, version)
    capped = _fake_wheel(tmp_path, "labkitcapped", "0.1.0", requires=("torch<2.15",))
    python = _fake_environment(tmp_path / "entorno")
    install = dry_run(python, capped, links, tmp_path)
    versions = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in install}
    assert versions.get("torch") == OLD["torch"]


def test_installing_the_wheel_here_touches_only_labkit(wheel, tmp_path):
    """En el entorno de las pruebas (torch, torchvision e ipywidgets reales), sin índice."""
    empty = tmp_path / "vacio"
    empty.mkdir()
    install = dry_run(Path(sys.executable), wheel, empty, tmp_path)
    assert [i["metadata"]["name"].lower() for i in install] == ["labkit"]
