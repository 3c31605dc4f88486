"""Pesos de torchvision: la caché de torch y una descarga que nunca espera para siempre.

Los pesos se guardan donde los busca torchvision (``torch.hub.get_dir()/checkpoints``): con el
archivo allí no hace falta red. La descarga la hace labkit (no ``torch.hub``, que no tiene límite
de tiempo): con un tiempo máximo por lectura y otro para toda la descarga, un tamaño máximo, a un
archivo ``.part`` que solo se renombra al nombre final si su SHA-256 empieza por el prefijo que
lleva el nombre del archivo (como comprueba torch). Si algo falla, un
:class:`~labkit.base.WeightsUnavailableError` en español dice qué archivo falta y dónde ponerlo.

Límites (segundos), que se pueden cambiar con variables de entorno:
``LABKIT_DOWNLOAD_TIMEOUT`` (toda la descarga, 900 por defecto) y ``LABKIT_READ_TIMEOUT`` (cada
lectura de la red, 30 por defecto).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
from pathlib import Path

import torch
from torch import nn

from ..base._errors import WeightsUnavailableError
from ..base._netfetch import DownloadLimitError, fetch
from ..base._validate import check_float

__all__ = ["tv_weights", "tv_weights_file", "build_torchvision", "load_tv_state_dict",
           "download_tv_weights", "download_limits", "missing_weights_message"]

DEFAULT_TOTAL_S = 900.0
DEFAULT_READ_S = 30.0
_HASH_PREFIX = re.compile(r"-([a-f0-9]+)\.")  # el mismo patrón que torch.hub


class _DownloadFailed(Exception):
    """Motivo (en español) por el que falló una descarga."""


def tv_weights(name: str):
    """Los pesos por defecto de torchvision para ``name`` (el enum de su API de pesos)."""
    from torchvision.models import get_model_weights

    return get_model_weights(name).DEFAULT


def tv_weights_file(name: str) -> Path:
    """Ruta donde la caché de torch guarda (o guardaría) los pesos de ``name``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(tv_weights(name).url)


def _weights_url(name: str) -> str:
    """Dirección de descarga de los pesos (las pruebas la cambian por un servidor local)."""
    return tv_weights(name).url


def _env_seconds(var: str, default: float) -> float:
    """Segundos leídos de una variable de entorno (o el valor por defecto)."""
    raw = os.environ.get(var)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    return check_float(var, value, minimum=0, strict=True,
                       expected=f"un número de segundos mayor que 0 (llegó el texto {raw!r})")


def download_limits(timeout: float | None = None) -> tuple[float, float]:
    """Los límites de una descarga: ``(total, por lectura)`` en segundos.

    Args:
        timeout: tiempo máximo de toda la descarga; ``None`` lee ``LABKIT_DOWNLOAD_TIMEOUT``.

    Returns:
        El tiempo total y el de cada lectura (nunca mayor que el total).
    """
    if timeout is None:
        total = _env_seconds("LABKIT_DOWNLOAD_TIMEOUT", DEFAULT_TOTAL_S)
    else:
        total = check_float("timeout", timeout, minimum=0, strict=True)
    return total, min(total, _env_seconds("LABKIT_READ_TIMEOUT", DEFAULT_READ_S))


def _max_bytes(name: str) -> int:
    """Tamaño máximo admitido: el publicado por torchvision más un margen."""
    mib = float(tv_weights(name).meta.get("_file_size", 2048))
    return int(mib * 1.1 * 2**20) + 2**20


def _fetch(url: str, part: Path, total_s: float, read_s: float, limit: int) -> str:
    """Descarga ``url`` en ``part`` con los límites dados; devuelve el SHA-256 en hexadecimal.

    La descarga acotada (plazo total, plazo por lectura, tamaño máximo) es la de
    :func:`labkit.base.fetch`; aquí solo se traducen sus fallos al motivo del mensaje.
    """
    digest = hashlib.sha256()
    try:
        with open(part, "wb") as fh:
            fetch(url, fh, max_bytes=limit, deadline_s=total_s, on_chunk=digest.update,
                  read_timeout_s=read_s)
    except DownloadLimitError as err:
        raise _DownloadFailed(_limit_reason(err, total_s, limit)) from None
    except TimeoutError:
        raise _DownloadFailed(f"la red no respondió en {read_s:g} s") from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, TimeoutError):
            raise _DownloadFailed(f"la red no respondió en {read_s:g} s") from None
        raise _DownloadFailed("no hay conexión para descargarlos") from None
    except (OSError, ValueError, http.client.HTTPException) as err:  # conexión cortada…
        raise _DownloadFailed(f"la descarga se cortó ({type(err).__name__})") from None
    return digest.hexdigest()


def _limit_reason(err: DownloadLimitError, total_s: float, limit: int) -> str:
    """El motivo en pocas palabras: plazo total agotado o más bytes de los que pesa el archivo."""
    if err.kind == "plazo":
        return f"se agotó el tiempo máximo de la descarga ({total_s:g} s)"
    if err.declared is not None:
        return (f"el servidor anuncia {err.declared // 2**20} MiB, más de lo que pesa "
                "este archivo")
    return f"el servidor envía más de {limit // 2**20} MiB, más de lo que pesa este archivo"


def download_tv_weights(name: str, timeout: float | None = None) -> Path:
    """Descarga los pesos de ``name`` a la caché de torch, con límites de tiempo y tamaño.

    Args:
        name: nombre de un modelo de torchvision.
        timeout: tiempo máximo de toda la descarga en segundos (``None``: el de
            ``LABKIT_DOWNLOAD_TIMEOUT``, 900 por defecto).

    Returns:
        La ruta del archivo en la caché (no se descarga si ya estaba).

    Raises:
        WeightsUnavailableError: sin red, tiempo agotado, tamaño excesivo o hash distinto.
    """
    path = tv_weights_file(name)
    if path.exists():
        return path
    total_s, read_s = download_limits(timeout)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    try:
        sha = _fetch(_weights_url(name), part, total_s, read_s, _max_bytes(name))
        prefix = _HASH_PREFIX.search(path.name)
        if prefix and not sha.startswith(prefix.group(1)):
            raise _DownloadFailed("el archivo descargado no es el esperado (su SHA-256 no "
                                  f"empieza por {prefix.group(1)}); no se guardó")
        os.replace(part, path)
    except _DownloadFailed as err:
        raise WeightsUnavailableError(missing_weights_message(
            name, path, f"no están en la caché y {err}")) from None
    finally:
        part.unlink(missing_ok=True)
    return path


def missing_weights_message(name: str, path: Path, reason: str) -> str:
    """El mensaje que dice por qué faltan los pesos, qué archivo es y dónde ponerlo."""
    return (
        f"No puedo cargar los pesos preentrenados de '{name}': {reason}.\n"
        f"  · Archivo que falta: {path.name}\n"
        f"  · Carpeta donde debe estar: {path.parent}\n"
        f"  · En un equipo con Internet, descárgalo con: python -m labkit descargar {name}\n"
        f"    (y copia el archivo a esa carpeta, o define TORCH_HOME para usar otra).\n"
        "  · Sin red, usa 'efficientnet_lite0', que trae sus pesos instalados, o "
        "pretrained=False para pesos aleatorios."
    )


def load_tv_state_dict(name: str) -> dict:
    """Los pesos de ``name`` leídos de la caché (descargados antes si faltan).

    Returns:
        El ``state_dict`` (leído con ``weights_only=True``).
    """
    path = download_tv_weights(name)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # archivo dañado (EOFError, UnpicklingError, RuntimeError…)
        raise WeightsUnavailableError(missing_weights_message(
            name, path, f"el archivo de la caché está dañado ({type(err).__name__}); "
            "bórralo y vuelve a descargarlo")) from None


def build_torchvision(name: str, pretrained: bool) -> nn.Module:
    """Un modelo de torchvision con su cabeza de ImageNet, con pesos o sin ellos.

    Args:
        name: nombre del modelo en torchvision.
        pretrained: si se cargan los pesos de ImageNet (de la caché o descargados).

    Returns:
        El modelo.
    """
    import torchvision

    model = torchvision.models.get_model(name, weights=None)
    if pretrained:
        state = load_tv_state_dict(name)
        try:
            model.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as err:
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise WeightsUnavailableError(missing_weights_message(
                name, tv_weights_file(name), "el archivo no corresponde a este modelo "
                f"({detail})")) from None
    return model
