"""Descargas acotadas: un plazo total y un tamaño máximo, además del plazo de cada lectura.

``urllib`` solo pone un plazo a cada lectura del socket: un servidor que manda un byte cada 2 s
nunca lo agota, y uno que manda 300 MiB para un archivo de 7.6 kB los manda enteros. Aquí cada
lectura toma lo que haya llegado (``read1``), su plazo es el menor entre el de una lectura y lo
que queda del plazo total, y se corta en cuanto se pasa del tamaño máximo. Los fallos de los
límites son :class:`DownloadLimitError` (un ``LabkitError`` en español); los de red se dejan
pasar tal cual para que quien llama explique qué hacer sin conexión.

Se evaluó ``pooch`` (1.9): su plazo es el de ``requests`` (por lectura, no total), no tiene tamaño
máximo y solo aplica el filtro seguro de ``tarfile`` en Python 3.12 o posterior; por eso labkit
mantiene esta descarga propia (sin dependencias nuevas).
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import BinaryIO

from ._errors import LabkitError
from ._validate import check_str, describe

__all__ = ["DownloadLimitError", "check_url", "fetch", "READ_TIMEOUT_S"]

READ_TIMEOUT_S = 30
_CHUNK = 1 << 20


class DownloadLimitError(LabkitError):
    """La descarga superó su plazo total o su tamaño máximo.

    Attributes:
        kind: ``"plazo"`` (se agotó el plazo total) o ``"tamaño"`` (más bytes de la cuenta).
        declared: los bytes que anunció el servidor en ``Content-Length`` si por eso se cortó;
            ``None`` en otro caso.
    """

    def __init__(self, message: str, kind: str, declared: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.declared = declared


def check_url(url: object, name: str = "url") -> str:
    """Comprueba que ``url`` es una dirección ``http://`` o ``https://`` con servidor.

    Args:
        url: lo que llegó.
        name: nombre del argumento, para el mensaje.

    Returns:
        La dirección.
    """
    check_str(name, url)
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in "\r\n"):
        raise LabkitError(f"{name}: llegó {describe(url)}; se espera una dirección que empiece por "
                          "http:// o https:// (p. ej. https://servidor/archivo.zip).")
    return url.strip()


class _Watchdog:
    """Anota los sockets de la descarga y los cierra cuando vence el plazo total.

    Así el plazo vale también mientras llegan las cabeceras o se siguen redirecciones, donde
    ``urllib`` solo sabe de plazos por lectura.
    """

    def __init__(self, deadline_s: float, read_s: float = READ_TIMEOUT_S) -> None:
        self.read_s = min(read_s, deadline_s)
        self.expired = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(deadline_s, self._expire)
        self._timer.daemon = True

    def add(self, sock: socket.socket | None) -> None:
        with self._lock:
            if sock is not None:
                self._sockets.append(sock)
            if self.expired.is_set():
                self._close_all()

    def _expire(self) -> None:
        with self._lock:
            self.expired.set()
            self._close_all()

    def _close_all(self) -> None:
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _opener(watch: _Watchdog) -> urllib.request.OpenerDirector:
    """Un ``opener`` de urllib cuyas conexiones se apuntan en ``watch`` al abrirse."""
    class _HTTP(http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            watch.add(self.sock)

    class _HTTPS(http.client.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            watch.add(self.sock)

    class _HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(_HTTP, req)

    class _HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(_HTTPS, req, context=self._context)

    return urllib.request.build_opener(_HTTPHandler, _HTTPSHandler)


def _socket_of(response: object) -> socket.socket | None:
    """El socket de una respuesta de ``urllib`` (para acortar su plazo), si se encuentra."""
    raw = getattr(getattr(response, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _too_slow(url: str, deadline_s: float, received: int) -> DownloadLimitError:
    return DownloadLimitError(
        f"La descarga de {url} superó su plazo total de {deadline_s:g} s (llegaron {received} "
        "bytes): el servidor va demasiado lento o no responde. Se borró lo recibido; vuelve a "
        "intentarlo más tarde o usa una réplica.", kind="plazo")


def _too_big(url: str, max_bytes: int, what: str,
             declared: int | None = None) -> DownloadLimitError:
    return DownloadLimitError(
        f"El servidor de {url} {what}, más de los {max_bytes} bytes que mide el archivo esperado: "
        "no es el archivo correcto. Se detuvo la descarga y se borró lo recibido.",
        kind="tamaño", declared=declared)


def _read_all(response: object, out: BinaryIO, url: str, max_bytes: int, deadline_s: float,
              started: float, on_chunk: Callable[[bytes], None] | None,
              watch: _Watchdog) -> int:
    """Copia la respuesta en ``out`` respetando el plazo total y el tamaño máximo."""
    sock, received = _socket_of(response), 0
    while True:
        left = deadline_s - (time.monotonic() - started)
        if left <= 0:
            raise _too_slow(url, deadline_s, received)
        if sock is not None:
            sock.settimeout(min(watch.read_s, left))
        try:
            chunk = response.read1(_CHUNK)  # lo que haya llegado, sin esperar a llenar el trozo
        except TimeoutError:
            if time.monotonic() - started >= deadline_s - 0.05:
                raise _too_slow(url, deadline_s, received) from None
            raise
        if watch.expired.is_set():
            raise _too_slow(url, deadline_s, received)
        if not chunk:
            return received
        received += len(chunk)
        if received > max_bytes:
            raise _too_big(url, max_bytes, f"envió ya {received} bytes")
        out.write(chunk)
        if on_chunk is not None:
            on_chunk(chunk)


def fetch(url: str, out: BinaryIO, *, max_bytes: int, deadline_s: float,
          on_chunk: Callable[[bytes], None] | None = None,
          read_timeout_s: float = READ_TIMEOUT_S) -> int:
    """Descarga ``url`` en ``out`` con un plazo total y un tamaño máximo.

    Args:
        url: la dirección (``http://`` o ``https://``).
        out: archivo abierto en binario donde escribir.
        max_bytes: tamaño máximo; si el servidor anuncia o manda más, se corta.
        deadline_s: plazo total en segundos, conexión incluida.
        on_chunk: función a la que se pasa cada trozo recibido (suma, barra de progreso).
        read_timeout_s: plazo de cada lectura del socket (nunca más que el total).

    Returns:
        Los bytes recibidos.

    Raises:
        DownloadLimitError: si se pasa del plazo o del tamaño.
        OSError, urllib.error.URLError, http.client.HTTPException: fallos de red.
    """
    url = check_url(url)
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"User-Agent": "labkit (curso)"})
    with _Watchdog(deadline_s, read_timeout_s) as watch:
        try:
            return _open_and_read(request, out, url, max_bytes, deadline_s, started, on_chunk,
                                  watch)
        except DownloadLimitError:
            raise
        except (OSError, http.client.HTTPException, ValueError):
            if watch.expired.is_set() or time.monotonic() - started >= deadline_s:
                raise _too_slow(url, deadline_s, 0) from None
            raise


def _open_and_read(request: urllib.request.Request, out: BinaryIO, url: str, max_bytes: int,
                   deadline_s: float, started: float,
                   on_chunk: Callable[[bytes], None] | None, watch: _Watchdog) -> int:
    """Abre la conexión (con el perro guardián) y copia la respuesta."""
    response = _opener(watch).open(request, timeout=watch.read_s)
    with response:
        declared = response.headers.get("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > max_bytes:
            raise _too_big(url, max_bytes, f"anuncia {int(declared)} bytes", int(declared))
        return _read_all(response, out, url, max_bytes, deadline_s, started, on_chunk, watch)
