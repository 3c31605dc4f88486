"""Carpetas grandes: cargar N fotos del alumno a la velocidad de decodificarlas y sin llenar la memoria.

Para cada N (por defecto 1000, 5000 y 20000) crea en /tmp una carpeta sintética de N fotos JPEG de
tamaño realista (500×375 o 375×500, calidad 90), sacadas de las fotos de scikit-image (astronaut,
coffee, chelsea, rocket: una clase por foto) con recortes, tintes y ruido al azar para que
decodificarlas cueste lo que cuesta una foto de verdad. Mide, cada carga en un proceso nuevo:

* el suelo de decodificación: PIL abre, decodifica (con ``draft``), pasa a RGB, reescala y recorta
  los mismos archivos, sin guardar nada, en un proceso (sobre los primeros 2000 archivos) y en un
  grupo de procesos (todos; media de una medida justo antes y otra justo después de la primera
  carga, en el mismo proceso);
* la primera carga con :func:`labkit.image_folder` a ``--image-size`` (224 px), su memoria
  residente máxima (proceso principal y el mayor de los auxiliares) frente al tamaño final de la
  caché, y la segunda carga (de la caché, otro proceso);
* el entrenamiento de la cabeza (EfficientNet-Lite0 congelado, ``--train-size`` 128 px, 3 épocas,
  ``FeatureCache(disk=True)``): ``fit`` completo (extracción + épocas) y, en otro proceso, el
  mismo ``fit`` con las características ya en disco.

Imprime una tabla y, al final, una línea ``clave=valor``. Las carpetas y cachés se crean en /tmp
y se borran al terminar. Los tiempos dependen de la máquina: compáralos como cocientes.

Uso: ``python benchmarks/bench_folders.py [--sizes 1000,5000,20000] [--image-size 224]
[--train-size 128] [--workers N] [--threads 2] [--no-train]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
SINGLE_FLOOR_FILES = 2000


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(t) for t in text.split(",") if t.strip())


def parse_args() -> argparse.Namespace:
    """Las opciones de la línea de órdenes."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=_ints, default=(1000, 5000, 20000))
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--train-size", type=int, default=128)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--threads", type=int, default=1,
                   help="hilos de torch al entrenar (en una máquina compartida, 1 va más rápido)")
    p.add_argument("--no-train", action="store_true", help="sin la parte de entrenamiento")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    return p.parse_args()


# ---------------------------------------------------------------------------------- fotos
def _sources() -> list[np.ndarray]:
    from skimage import data
    return [np.asarray(getattr(data, name)())[..., :3] for name in PHOTOS]


def _make_photo(args: tuple[int, str]) -> None:
    """Una foto: recorte al azar de una foto real, reescalada a 500×375, tinte, ruido, JPEG."""
    index, path = args
    rng = np.random.default_rng(index)
    label = index % len(PHOTOS)
    src = _SOURCES[label]
    h, w = src.shape[:2]
    scale = rng.uniform(0.55, 1.0)
    ch, cw = int(h * scale), int(w * scale)
    top, left = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    size = (500, 375) if rng.random() < 0.75 else (375, 500)
    img = Image.fromarray(src[top:top + ch, left:left + cw]).resize(size, Image.Resampling.BILINEAR)
    arr = np.asarray(img, dtype=np.float32) * rng.uniform(0.8, 1.2, 3).astype(np.float32)
    noise = _NOISE[index % len(_NOISE)]
    arr += np.roll(noise, int(rng.integers(0, 500)), axis=1)[:size[1], :size[0]]
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, quality=90)


_SOURCES: list[np.ndarray] = []
_NOISE: list[np.ndarray] = []


def make_folder(root: Path, n: int, workers: int) -> int:
    """Crea ``n`` fotos en ``root/<clase>/``; devuelve los bytes que ocupan."""
    global _SOURCES, _NOISE
    _SOURCES = _sources()
    rng = np.random.default_rng(0)
    _NOISE = [rng.normal(0, 6, (500, 500, 3)).astype(np.float32) for _ in range(8)]
    for name in PHOTOS:
        (root / name).mkdir(parents=True, exist_ok=True)
    tasks = [(i, str(root / PHOTOS[i % len(PHOTOS)] / f"foto_{i:05d}.jpg")) for i in range(n)]
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        list(pool.map(_make_photo, tasks, chunksize=64))
    return sum(p.stat().st_size for p in root.rglob("*.jpg"))


# ---------------------------------------------------------------------------------- suelo
def _bare_decode(args: tuple[str, int]) -> None:
    """Lo mínimo: abrir, decodificar reducido, RGB, lado corto a S y recorte central."""
    path, size = args
    with Image.open(path) as img:
        img.draft("RGB", (2 * size, 2 * size))
        img = img.convert("RGB")
        w, h = img.size
        nw, nh = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
        img = img.resize((nw, nh), Image.Resampling.BILINEAR)
        left, top = (nw - size) // 2, (nh - size) // 2
        np.asarray(img.crop((left, top, left + size, top + size)))


def single_floor(files: list[str], size: int) -> float:
    """Segundos por imagen del suelo en un solo proceso (sobre los primeros 2000 archivos)."""
    few = files[:SINGLE_FLOOR_FILES]
    start = time.perf_counter()
    for f in few:
        _bare_decode((f, size))
    return (time.perf_counter() - start) / len(few)


def pool_floor(files: list[str], size: int, workers: int) -> float:
    """Segundos por imagen del suelo en un grupo de ``workers`` procesos (todos los archivos).

    Se mide en el mismo proceso que la carga, justo antes y justo después: en una máquina
    compartida, solo así se comparan en las mismas condiciones.
    """
    start = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        chunk = max(1, min(32, len(files) // (workers * 16)))
        list(pool.map(_bare_decode, [(f, size) for f in files], chunksize=chunk))
    return (time.perf_counter() - start) / len(files)


# ---------------------------------------------------------------------------------- procesos hijo
class MemorySampler:
    """Memoria durante un bloque, muestreada con psutil.

    ``before``: RSS del proceso al entrar; ``peak_main``: su RSS máximo dentro del bloque
    (cada 50 ms); ``peak_workers``: el máximo de la suma de la USS (memoria propia, sin las
    páginas compartidas con el padre tras ``fork``) de los procesos hijos, cada segundo: leer la
    USS recorre ``/proc/PID/smaps`` y, más a menudo, le quitaría CPU a la propia carga.
    """

    def __init__(self, interval: float = 0.05, workers_every: int = 20) -> None:
        import psutil
        self.proc = psutil.Process()
        self.interval = interval
        self.workers_every = workers_every
        self.before = self.peak_main = self.peak_workers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self.before = self.peak_main = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_main = max(self.peak_main, self.proc.memory_info().rss)

    def _run(self) -> None:
        import psutil
        tick = 0
        while not self._stop.wait(self.interval):
            self.peak_main = max(self.peak_main, self.proc.memory_info().rss)
            tick += 1
            if tick % self.workers_every:
                continue
            total = 0
            for kid in self.proc.children(recursive=True):
                try:
                    total += kid.memory_full_info().uss
                except psutil.Error:
                    continue
            self.peak_workers = max(self.peak_workers, total)


def child(spec: dict) -> dict:
    """Lo que corre en un proceso nuevo: una carga o un entrenamiento; devuelve las medidas."""
    import warnings

    import torch

    import labkit
    torch.set_num_threads(spec["threads"])
    files = sorted(str(p) for p in Path(spec["root"]).rglob("*.jpg"))
    floors = [pool_floor(files, spec["size"], spec["workers"])] if spec.get("floor") else []
    sampler = MemorySampler()
    start = time.perf_counter()
    with sampler, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        splits = labkit.image_folder(spec["root"], image_size=spec["size"],
                                     workers=spec["workers"], progress=False)
    load_s = time.perf_counter() - start
    if floors:
        floors.append(pool_floor(files, spec["size"], spec["workers"]))
    out = {"load_s": load_s, "floors": floors, "rss_before": sampler.before,
           "rss_main": sampler.peak_main, "uss_workers": sampler.peak_workers,
           "n": len(splits.train) + len(splits.val) + len(splits.test)}
    if spec.get("train"):
        out.update(_train(splits))
    return out


def _train(splits) -> dict:
    """Cabeza de EfficientNet-Lite0 con las características en disco; tiempos de fit."""
    import labkit
    from labkit.training import FeatureCache
    model = labkit.create_model("efficientnet_lite0", num_classes=len(splits.classes))
    labkit.freeze_to(model, len(labkit.layer_groups(model)) - 1)
    cache = FeatureCache(disk=True)
    start = time.perf_counter()
    history = labkit.fit(model, splits.train, splits.val, epochs=3, lr=3e-3, progress=False,
                         cache=cache, device="cpu", seed=0)
    fit_s = time.perf_counter() - start
    return {"fit_s": fit_s, "epochs_s": float(sum(history.epoch_seconds)),
            "extracted": cache.misses, "from_disk": cache.disk_hits,
            "val_acc": float(history.val_acc[-1])}


def run_child(spec: dict, data_dir: Path) -> dict:
    """Corre :func:`child` en un proceso nuevo (``LABKIT_DATA`` = ``data_dir``)."""
    env = {**os.environ, "LABKIT_DATA": str(data_dir), "PYTHONPATH": str(REPO),
           "OMP_NUM_THREADS": str(spec["threads"])}
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"El proceso hijo falló:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------- medir
def measure(n: int, args: argparse.Namespace, workers: int, tmp: Path) -> dict:
    """Todas las medidas para una carpeta de ``n`` fotos."""
    root, data_dir = tmp / f"fotos_{n}", tmp / f"datos_{n}"
    start = time.perf_counter()
    photo_bytes = make_folder(root, n, workers)
    print(f"[{n}] {n} fotos JPEG creadas ({photo_bytes / n / 1024:.0f} KiB de media) en "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    files = sorted(str(p) for p in root.rglob("*.jpg"))
    single = single_floor(files, args.image_size)
    spec = {"root": str(root), "size": args.image_size, "workers": workers,
            "threads": args.threads}
    first = run_child({**spec, "floor": True}, data_dir)
    pooled = sum(first["floors"]) / len(first["floors"])
    second = run_child(spec, data_dir)
    cache_bytes = sum(p.stat().st_size for p in (data_dir / "cache_imagenes").glob("*.u8"))
    row = {"n": n, "floor1_ms": 1000 * single, "floorN_ms": 1000 * pooled,
           "load_ms": 1000 * first["load_s"] / n, "load_s": first["load_s"],
           "second_s": second["load_s"], "rss_before": first["rss_before"],
           "rss_main": first["rss_main"], "uss_workers": first["uss_workers"],
           "cache_bytes": cache_bytes}
    print(f"[{n}] suelo {row['floor1_ms']:.2f} ms/img (1 proceso), {row['floorN_ms']:.2f} "
          f"ms/img ({workers} procesos); carga {row['load_ms']:.2f} ms/img; segunda "
          f"{row['second_s']:.2f} s", flush=True)
    if not args.no_train:
        row.update(_measure_training(spec, args, data_dir, n))
    shutil.rmtree(root)
    shutil.rmtree(data_dir)
    return row


def _measure_training(spec: dict, args: argparse.Namespace, data_dir: Path, n: int) -> dict:
    small = {**spec, "size": args.train_size, "train": True}
    first = run_child(small, data_dir)
    again = run_child(small, data_dir)
    print(f"[{n}] {args.train_size} px: carga {first['load_s']:.1f} s; fit {first['fit_s']:.1f} s "
          f"(épocas {first['epochs_s']:.1f} s); fit con características en disco "
          f"{again['fit_s']:.1f} s", flush=True)
    return {"load128_s": first["load_s"], "fit_s": first["fit_s"],
            "epochs_s": first["epochs_s"], "extract_s": first["fit_s"] - first["epochs_s"],
            "refit_s": again["fit_s"], "refit_extracted": again["extracted"],
            "val_acc": first["val_acc"]}


# ---------------------------------------------------------------------------------- tabla
def _peak(row: dict) -> int:
    return row["rss_main"] + row["uss_workers"]


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def print_table(rows: list[dict], args: argparse.Namespace, workers: int) -> None:
    """La tabla de resultados y la línea ``clave=valor``."""
    print(f"\nCarga a {args.image_size} px con {workers} procesos (máquina compartida: "
          "compara cocientes, no segundos):")
    print(f"{'N':>6} {'suelo 1p':>9} {'suelo Np':>9} {'carga':>8} {'carga/sueloNp':>14} "
          f"{'2.ª carga':>10} {'1.ª/2.ª':>8} {'RSS antes':>10} {'RSS pico':>9} {'USS aux':>8} "
          f"{'caché':>8} {'pico/caché':>11}")
    print(f"{'':>6} {'ms/img':>9} {'ms/img':>9} {'ms/img':>8} {'':>14} {'s':>10} {'':>8} "
          f"{'MiB':>10} {'MiB':>9} {'MiB':>8} {'MiB':>8} {'':>11}")
    for r in rows:
        print(f"{r['n']:>6} {r['floor1_ms']:>9.2f} {r['floorN_ms']:>9.2f} {r['load_ms']:>8.2f} "
              f"{r['load_ms'] / r['floorN_ms']:>14.2f} {r['second_s']:>10.3f} "
              f"{r['load_s'] / r['second_s']:>8.0f} {_mib(r['rss_before']):>10} "
              f"{_mib(r['rss_main']):>9} {_mib(r['uss_workers']):>8} {_mib(r['cache_bytes']):>8} "
              f"{_peak(r) / r['cache_bytes']:>11.2f}")
    print("RSS pico: el proceso que carga (incluye torch y labkit importados: «RSS antes»); USS "
          "aux: la memoria propia de los procesos auxiliares, sumada; pico/caché: (RSS pico + USS "
          "aux) / tamaño final de la caché.")
    if not args.no_train:
        print(f"\nCabeza de EfficientNet-Lite0 a {args.train_size} px, 3 épocas, "
              f"{args.threads} hilo(s):")
        print(f"{'N':>6} {'carga s':>8} {'fit s':>8} {'extracción s':>13} {'épocas s':>9} "
              f"{'fit (disco) s':>14} {'val':>6}")
        for r in rows:
            print(f"{r['n']:>6} {r['load128_s']:>8.1f} {r['fit_s']:>8.1f} {r['extract_s']:>13.1f} "
                  f"{r['epochs_s']:>9.1f} {r['refit_s']:>14.1f} {100 * r['val_acc']:>6.1f} %")
    last = rows[-1]
    pairs = {"n": last["n"], "load_over_floor": round(last["load_ms"] / last["floorN_ms"], 3),
             "second_speedup": round(last["load_s"] / last["second_s"], 1),
             "peak_mib": round(_peak(last) / 2**20),
             "load_growth_mib": round((last["rss_main"] - last["rss_before"]) / 2**20),
             "peak_over_cache": round(_peak(last) / last["cache_bytes"], 3)}
    if not args.no_train:
        pairs["epochs_s"] = round(last["epochs_s"], 1)
        pairs["refit_s"] = round(last["refit_s"], 1)
    print(" ".join(f"{k}={v}" for k, v in pairs.items()))


def main() -> None:
    """Mide cada tamaño pedido e imprime la tabla."""
    args = parse_args()
    if args.child is not None:
        print(json.dumps(child(json.loads(args.child))))
        return
    from labkit.data import default_workers
    workers = args.workers or default_workers()
    tmp = Path(tempfile.mkdtemp(prefix="labkit_bench_folders_", dir="/tmp"))
    try:
        rows = [measure(n, args, workers, tmp) for n in args.sizes]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(rows, args, workers)


if __name__ == "__main__":
    main()
