"""Ejecuta cada cuaderno como lo haría quien aprende y mide su tiempo y su memoria máxima.

Uso: ``python benchmarks/bench_notebooks.py [CARPETA]``. Por cuaderno imprime el tiempo de pared
y el pico de memoria residente (RSS) del kernel; la última línea es exactamente
``total_s=N worst_notebook_s=N worst_peak_mb=N``. Objetivos con 2 núcleos de CPU: cada cuaderno
≤ 180 s (unos 3 minutos), el curso entero ≤ 12 min y cada pico ≤ 2 GB (el límite de Binder).
Los cuadernos no se modifican: se ejecuta una copia en memoria.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import psutil

from labkit.teacher import execute_notebook, list_notebooks, read_notebook

ROOT = Path(__file__).resolve().parent.parent


class PeakRSS:
    """Muestrea el RSS de los procesos hijos de uno (el kernel y los suyos) en un hilo."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        total = 0
        for proc in self.process.children(recursive=True):
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
    nb = read_notebook(path)
    start = time.perf_counter()
    with PeakRSS(os.getpid()) as meter:  # el kernel es un proceso hijo de este
        execute_notebook(nb, cwd=path.parent, timeout=900, name=path.name)
    return time.perf_counter() - start, meter.peak / 2**20


def main(folder: str = "notebooks") -> int:
    paths = list_notebooks(ROOT / folder)
    print(f"{'cuaderno':<34} {'segundos':>9} {'pico MB':>9}")
    results = []
    for path in paths:
        seconds, peak = run_notebook(path)
        results.append((path.name, seconds, peak))
        flag = "" if seconds <= 180 and peak <= 2048 else "  <- fuera de objetivo"
        print(f"{path.name:<34} {seconds:>9.0f} {peak:>9.0f}{flag}", flush=True)
    total = sum(r[1] for r in results)
    worst = max(results, key=lambda r: r[1])
    heaviest = max(results, key=lambda r: r[2])
    print(f"más lento: {worst[0]}; más memoria: {heaviest[0]}; objetivos: ≤180 s por cuaderno, "
          "≤720 s en total, ≤2048 MB de pico")
    print(f"total_s={total:.0f} worst_notebook_s={worst[1]:.0f} worst_peak_mb={heaviest[2]:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
