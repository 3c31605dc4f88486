"""Versiones de las dependencias grandes: avisar en vez de imponer.

``pyproject.toml`` no pone cota superior a torch, torchvision, timm ni ipywidgets: en Colab (o en
el entorno de quien aprende) ``pip install labkit`` no debe cambiar lo que ya está instalado. A
cambio, al importar ``labkit`` se comprueba aquí, sin importar esos paquetes (solo se leen sus
metadatos), que sus versiones mayores son las que el curso ha probado; si no, un aviso en español
dice cuál y qué hacer. Nada se rompe por adelantado: el curso sigue y el aviso ayuda a entender un
fallo si llega.
"""

from __future__ import annotations

import warnings
from importlib import metadata

__all__ = ["TESTED_MAJORS", "UntestedVersionWarning", "untested_versions",
           "warn_untested_versions"]

# Paquete -> versiones mayores probadas (el primer número: torchvision 0.29 cuenta como 0).
TESTED_MAJORS: dict[str, tuple[int, ...]] = {
    "torch": (2,),
    "torchvision": (0,),
    "timm": (1,),
    "ipywidgets": (7, 8),
}


class UntestedVersionWarning(UserWarning):
    """Una dependencia tiene una versión mayor con la que el curso no se ha probado."""


def _major(version: str) -> int | None:
    """La versión mayor de un texto de versión (``"2.14.1+cpu"`` -> 2), o None si no se entiende.

    Args:
        version: la versión tal como la dan los metadatos del paquete.

    Returns:
        El primer número, o None.
    """
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def untested_versions() -> dict[str, str]:
    """Las dependencias instaladas cuya versión mayor no está en :data:`TESTED_MAJORS`.

    Returns:
        Nombre del paquete -> versión instalada (vacío si todo está probado). Un paquete que no
        está instalado no cuenta: ya lo dirá el ``import``.
    """
    found = {}
    for name, majors in TESTED_MAJORS.items():
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        major = _major(version)
        if major is not None and major not in majors:
            found[name] = version
    return found


def warn_untested_versions() -> dict[str, str]:
    """Avisa (una vez por paquete) de las dependencias con una versión mayor no probada.

    Returns:
        Lo mismo que :func:`untested_versions`.
    """
    found = untested_versions()
    for name, version in found.items():
        tested = " o ".join(f"{m}.x" for m in TESTED_MAJORS[name])
        warnings.warn(
            f"labkit se ha probado con {name} {tested} y aquí hay {name} {version}. El curso "
            "debería funcionar; si algo falla, dilo al equipo del curso o instala una versión "
            f"probada (pip install '{name}<{TESTED_MAJORS[name][-1] + 1}').",
            UntestedVersionWarning, stacklevel=2)
    return found
