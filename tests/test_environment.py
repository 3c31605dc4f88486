"""El entorno se declara igual en pyproject.toml (pip) y en environment.yml (conda / Binder)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Nombre en PyPI -> nombre en conda-forge, cuando difieren.
CONDA_NAMES = {"torch": "pytorch-cpu", "matplotlib": "matplotlib-base"}


def _split(requirement: str) -> tuple[str, str]:
    """``"torch>=2.2,<2.15"`` -> ``("torch", ">=2.2,<2.15")``."""
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    return m.group(1).lower(), m.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = data["dependencies"] + data["optional-dependencies"]["lab"]
    return dict(_split(r) for r in reqs)


def _environment() -> tuple[dict[str, str], dict[str, str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.update(_split(r) for r in dep["pip"])
        else:
            name, spec = _split(dep)
            conda[name] = spec
    return conda, pip


def test_environment_lists_the_same_packages_and_ranges():
    conda, pip = _environment()
    for name, spec in _pyproject().items():
        conda_name = CONDA_NAMES.get(name, name)
        got = conda.get(conda_name, pip.get(name))
        assert got is not None, f"{name} está en pyproject.toml pero no en environment.yml"
        assert got == spec, f"{name}: pyproject pide '{spec}' y environment.yml '{got}'"


def test_environment_has_nothing_extra():
    conda, pip = _environment()
    declared = {CONDA_NAMES.get(n, n) for n in _pyproject()} | set(_pyproject())
    extra = (set(conda) | set(pip)) - declared - {"python", "pip"}
    assert not extra, f"environment.yml tiene paquetes que pyproject.toml no declara: {extra}"


def test_pinned_torch_satisfies_the_declared_ranges():
    from packaging.specifiers import SpecifierSet

    deps = _pyproject()
    makefile = (ROOT / "Makefile").read_text()
    torch_pin = re.search(r"torch==([\d.]+)", makefile).group(1)
    vision_pin = re.search(r"torchvision==([\d.]+)", makefile).group(1)
    assert torch_pin == "2.14.1" and vision_pin == "0.29.1"
    assert torch_pin in SpecifierSet(deps["torch"])
    assert vision_pin in SpecifierSet(deps["torchvision"])


def test_binder_postbuild_installs_labkit_without_touching_dependencies():
    text = (ROOT / "postBuild").read_text()
    assert "pip install --no-deps" in text and "-e ." in text


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme.split("##")[1], "el README debe abrir con la orden de pruebas"
    assert "make lab" in readme.split("##")[1]
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip().startswith("make ")]
    assert commands == ["make test"]
