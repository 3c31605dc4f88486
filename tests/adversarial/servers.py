"""Servidores hostiles en 127.0.0.1 para las pruebas de descargas (acotados en el tiempo)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class HostileServer:
    """Un servidor TCP de una sola conexión a la vez cuyo comportamiento decide ``behave``.

    ``behave(conn, server)`` recibe la conexión ya aceptada; el servidor cuenta en ``sent`` los
    bytes que logró enviar y se detiene al salir del ``with`` (como mucho ``lifetime_s``).
    """

    def __init__(self, behave: Callable[[socket.socket, HostileServer], None],
                 lifetime_s: float = 20.0) -> None:
        self.behave = behave
        self.sent = 0
        self.stop = threading.Event()
        self.deadline = time.monotonic() + lifetime_s
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/archivo.zip"

    def alive(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.deadline

    def _serve(self) -> None:
        while self.alive():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.settimeout(1.0)
                    _read_request(conn)
                    self.behave(conn, self)
                except OSError:
                    pass  # el cliente cortó: es lo que se espera


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


@contextmanager
def hostile(behave: Callable[[socket.socket, HostileServer], None],
            monkeypatch, lifetime_s: float = 20.0) -> Iterator[HostileServer]:
    """Arranca el servidor sin proxies de por medio y lo para (y espera a su hilo) al salir."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    server = HostileServer(behave, lifetime_s)
    server.thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.thread.join(timeout=5)
        server.sock.close()


def drip(conn: socket.socket, server: HostileServer) -> None:
    """Anuncia 7600 bytes y manda uno cada 2 s (nunca agota el plazo de una lectura)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7600\r\nConnection: close\r\n\r\n")
    while server.alive():
        conn.sendall(b"x")
        server.sent += 1
        server.stop.wait(2.0)


def silent(conn: socket.socket, server: HostileServer) -> None:
    """Acepta la conexión y no responde nunca."""
    while server.alive():
        server.stop.wait(0.2)


def flood(conn: socket.socket, server: HostileServer, announce: bool = False) -> None:
    """Manda hasta 300 MiB (sin anunciar el tamaño, salvo ``announce``)."""
    total = 300 * 2**20
    length = f"Content-Length: {total}\r\n" if announce else ""
    conn.sendall(f"HTTP/1.1 200 OK\r\n{length}Connection: close\r\n\r\n".encode())
    block = b"y" * 65536
    while server.sent < total and server.alive():
        conn.sendall(block)
        server.sent += len(block)


def flood_announced(conn: socket.socket, server: HostileServer) -> None:
    """Anuncia 300 MiB en Content-Length y empieza a mandarlos."""
    flood(conn, server, announce=True)


def drip_headers(conn: socket.socket, server: HostileServer) -> None:
    """Empieza la respuesta y manda una cabecera sin fin, un byte por segundo."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Lento: ")
    while server.alive():
        conn.sendall(b"z")
        server.sent += 1
        server.stop.wait(1.0)


def redirect_loop(conn: socket.socket, server: HostileServer) -> None:
    """Redirige siempre a sí mismo (urllib corta tras 10 saltos)."""
    conn.sendall(f"HTTP/1.1 302 Found\r\nLocation: {server.url}\r\nContent-Length: 0\r\n"
                 "Connection: close\r\n\r\n".encode())
