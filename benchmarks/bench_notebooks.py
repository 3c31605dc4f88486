"""Ejecuta cada cuaderno como lo haría quien aprende y mide su tiempo y su memoria máxima.

Uso: ``python benchmarks/bench_notebooks.py [CARPETA]``. Por cuaderno imprime el tiempo de pared
y el pico de memoria residente (RSS) del kernel; la última línea es exactamente
``total_s=N worst_notebook_s=N worst_peak_mb=N``. Objetivos con 2 núcleos de CPU: cada cuaderno
≤ 120 s, el curso entero ≤ 15 min y cada pico ≤ 2 GB (el límite de Binder).
Los cuadernos no se modifican: se ejecuta una copia en memoria.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


class PeakRSS:
    """Muestrea el RSS de un proceso (y sus hijos) en un hilo hasta que se le pide parar."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        procs = [self.process, *self.process.children(recursive=True)]
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self._rss())
            except psutil.Error:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_notebook(path: Path) -> tuple[float, float]:
    """Ejecuta un cuaderno y devuelve (segundos, pico de memoria del kernel en MB)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid
        with PeakRSS(pid) as meter:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
    return time.perf_counter() - start, meter.peak / 2**20


def main(folder: str = "notebooks") -> int:
    paths = sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb"))
    print(f"{'cuaderno':<34} {'segundos':>9} {'pico MB':>9}")
    results = []
    for path in paths:
        seconds, peak = run_notebook(path)
        results.append((path.name, seconds, peak))
        flag = "" if seconds <= 120 and peak <= 2048 else "  <- fuera de objetivo"
        print(f"{path.name:<34} {seconds:>9.0f} {peak:>9.0f}{flag}", flush=True)
    total = sum(r[1] for r in results)
    worst = max(results, key=lambda r: r[1])
    heaviest = max(results, key=lambda r: r[2])
    print(f"más lento: {worst[0]}; más memoria: {heaviest[0]}; objetivos: ≤120 s por cuaderno, "
          "≤900 s en total, ≤2048 MB de pico")
    print(f"total_s={total:.0f} worst_notebook_s={worst[1]:.0f} worst_peak_mb={heaviest[2]:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
