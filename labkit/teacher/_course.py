"""Lo que comparten todos los cuadernos: la URL del repositorio, las insignias y la preparación.

La URL del repositorio vive en un solo sitio, ``pyproject.toml`` (``[project.urls] Repository``);
las insignias de Colab y Binder del README y de cada cuaderno se construyen a partir de ella y
``python -m labkit insignias`` las vuelve a escribir si cambia.

Las insignias abren la versión del alumno (``alumnos/``, sin soluciones ni salidas guardadas; la
escribe ``make alumnos``), también las de los cuadernos con soluciones de ``notebooks/``: así la
versión del alumno, que se hace a partir de estos, lleva las mismas. Para docentes,
:func:`colab_url` con ``folder="notebooks"`` da el enlace a la versión con soluciones.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..base._config import REPO_ROOT
from ..base._validate import check_str
from ._notebooks import list_notebooks, read_notebook, write_notebooks

__all__ = ["DEFAULT_REPO_URL", "STUDENT_FOLDER", "TEACHER_FOLDER", "repo_url", "colab_url",
           "binder_url", "badges_markdown", "setup_cell_source", "update_badges", "BADGES_START",
           "BADGES_END"]

DEFAULT_REPO_URL = "https://github.com/curso-transfer-learning/laboratorio-transfer-learning"
BADGES_START = "<!-- insignias -->"
BADGES_END = "<!-- /insignias -->"
STUDENT_FOLDER = "alumnos"
TEACHER_FOLDER = "notebooks"


def repo_url() -> str:
    """La URL del repositorio del curso, leída de ``pyproject.toml`` si está a mano."""
    pyproject = REPO_ROOT / "pyproject.toml"
    if pyproject.exists():
        m = re.search(r'^Repository\s*=\s*"([^"]+)"', pyproject.read_text(encoding="utf-8"),
                      re.MULTILINE)
        if m:
            return m.group(1).rstrip("/")
    return DEFAULT_REPO_URL


def _github_path(url: str) -> str:
    """``https://github.com/org/repo`` -> ``org/repo``."""
    return re.sub(r"^https?://github\.com/", "", url).removesuffix(".git")


def colab_url(notebook: str, url: str | None = None, folder: str = STUDENT_FOLDER) -> str:
    """La URL que abre un cuaderno del repositorio en Colab.

    Args:
        notebook: nombre del archivo, p. ej. ``"00_guia.ipynb"``.
        url: URL del repositorio (por defecto, :func:`repo_url`).
        folder: carpeta del cuaderno: ``"alumnos"`` (sin soluciones) o ``"notebooks"``.

    Returns:
        La URL de Colab.
    """
    gh = _github_path(url or repo_url())
    return f"https://colab.research.google.com/github/{gh}/blob/main/{folder}/{notebook}"


def binder_url(notebook: str, url: str | None = None, folder: str = STUDENT_FOLDER) -> str:
    """La URL que abre un cuaderno del repositorio en Binder (JupyterLab).

    Args:
        notebook: nombre del archivo, p. ej. ``"00_guia.ipynb"``.
        url: URL del repositorio (por defecto, :func:`repo_url`).
        folder: carpeta del cuaderno: ``"alumnos"`` (sin soluciones) o ``"notebooks"``.

    Returns:
        La URL de Binder.
    """
    gh = _github_path(url or repo_url())
    return f"https://mybinder.org/v2/gh/{gh}/HEAD?labpath={folder}%2F{notebook}"


def badges_markdown(notebook: str, url: str | None = None, folder: str = STUDENT_FOLDER) -> str:
    """Las insignias de Colab y Binder para un cuaderno, entre sus marcadores.

    Args:
        notebook: nombre del archivo, p. ej. ``"00_guia.ipynb"``.
        url: URL del repositorio (por defecto, :func:`repo_url`).
        folder: carpeta que abren: la versión del alumno (por defecto) o ``"notebooks"``.

    Returns:
        Tres líneas de Markdown: marcador, insignias y marcador.
    """
    colab, binder = colab_url(notebook, url, folder), binder_url(notebook, url, folder)
    # Los marcadores van en su propia línea: en la misma, JupyterLab trataría la línea entera
    # como HTML y mostraría los enlaces como texto.
    return (f"{BADGES_START}\n[![Abrir en Colab](https://colab.research.google.com/assets/"
            f"colab-badge.svg)]({colab}) [![Abrir en Binder](https://mybinder.org/badge_logo.svg)]"
            f"({binder})\n{BADGES_END}")


def setup_cell_source(url: str | None = None) -> str:
    """El código de la celda de preparación, igual en todos los cuadernos."""
    return (
        "# Preparación: en Colab instala labkit la primera vez (sin tocar torch ni ipywidgets).\n"
        "try:\n"
        "    import labkit\n"
        "except ImportError:\n"
        f'    %pip install -q "labkit @ git+{url or repo_url()}.git"\n'
        "    import labkit\n"
        "labkit.seed_everything(0)\n"
        "DEVICE = labkit.default_device()\n"
        'print("labkit", labkit.__version__, "· dispositivo:", DEVICE)'
    )


_BADGES_RE = re.compile(re.escape(BADGES_START) + ".*?" + re.escape(BADGES_END), re.DOTALL)


def update_badges(folder: str | os.PathLike = "notebooks", url: str | None = None) -> list[Path]:
    """Reescribe las insignias de cada cuaderno de la carpeta con la URL configurada.

    Primero lee y valida todos los cuadernos; luego escribe los que cambian, todos o ninguno,
    así un cuaderno roto no deja la carpeta a medio reescribir.

    Args:
        folder: carpeta de los cuadernos.
        url: URL del repositorio (por defecto, :func:`repo_url`).

    Returns:
        Los cuadernos que cambiaron.
    """
    if url is not None:
        check_str("url", url)
    pending = {}
    for path in list_notebooks(folder):
        nb = read_notebook(path)
        first = nb.cells[0] if nb.cells else None
        if first is None or first.cell_type != "markdown" or BADGES_START not in first.source:
            continue
        badges = badges_markdown(path.name, url)
        new = _BADGES_RE.sub(lambda _m, b=badges: b, first.source)  # sin interpretar «\\»
        if new != first.source:
            first.source = new
            pending[path] = nb
    return write_notebooks(pending)
