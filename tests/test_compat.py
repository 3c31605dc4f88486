"""Sin techo en pyproject.toml, labkit avisa de una versión mayor no probada (y no se rompe)."""

from __future__ import annotations

import warnings
from importlib import metadata

import pytest

from labkit.base import _compat as compat


def _fake_versions(monkeypatch, versions: dict[str, str]) -> None:
    real = metadata.version

    def version(name: str) -> str:
        return versions.get(name) or real(name)

    monkeypatch.setattr(compat.metadata, "version", version)


def test_installed_versions_are_tested_ones():
    assert compat.untested_versions() == {}


def test_a_future_major_version_gives_a_spanish_warning(monkeypatch):
    _fake_versions(monkeypatch, {"torch": "3.0.0", "ipywidgets": "9.1.0"})
    with pytest.warns(compat.UntestedVersionWarning) as record:
        found = compat.warn_untested_versions()
    assert found == {"torch": "3.0.0", "ipywidgets": "9.1.0"}
    messages = sorted(str(w.message) for w in record)
    assert "probado con ipywidgets 7.x o 8.x y aquí hay ipywidgets 9.1.0" in messages[0]
    assert "labkit se ha probado con torch 2.x y aquí hay torch 3.0.0" in messages[1]


def test_ipywidgets_7_and_local_builds_are_fine(monkeypatch):
    _fake_versions(monkeypatch, {"ipywidgets": "7.7.1", "torch": "2.15.0+cpu"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compat.warn_untested_versions() == {}
