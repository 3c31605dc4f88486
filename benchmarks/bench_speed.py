"""Cuánto rinde la CPU con cada camino de labkit, frente a lo que sus núcleos pueden hacer.

Mide en una sola ejecución, alternando los caminos (el ruido de otros procesos cae por igual),
con EfficientNet-Lite0 preentrenado (pesos de su paquete de PyPI, sin red):

1. **Límite de la máquina**: GFLOP/s de una multiplicación de matrices ``float32`` grande con
   los hilos de torch, y los FLOP por imagen del prefijo que se usa para extraer (todo el modelo
   salvo la cabeza), contados con ``torch.utils.flop_counter``. Su cociente es el techo de
   imágenes/s (optimista: las convoluciones por canal de Lite0 están limitadas por la memoria).
2. **Extracción** a 128, 160 y 224 px: imágenes/s de ``extract_features`` con el camino de antes
   (NCHW, sin compilar, lote de la regla antigua), con *channels-last*, y con *channels-last* y el
   prefijo compilado (``labkit.speed``); el mismo lote en los tres. Luego, para los caminos
   nuevos, un barrido del tamaño de lote (2…32) para elegir el mejor en CPU.
3. **Coste de compilar**: segundos de la primera llamada (trazar y congelar) y cuántas imágenes
   hacen falta para amortizarlo.
4. **Un paso de entrenamiento** (lote de 32 a 160 px): la cola que se entrena en el ajuste fino
   por defecto, sobre características en caché, y el modelo entero, NCHW frente a
   *channels-last*. labkit entrena en NCHW (ver ``labkit.base.place``): aquí se ve lo que
   cuesta esa decisión y el error del gradiente frente a ``float64`` que la motiva.

La última línea es ``key=value`` (cocientes; ``*_x`` = veces el camino de antes).

Uso: ``python benchmarks/bench_speed.py [--threads N] [--quick]``.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

import labkit
import labkit.base._speed as speed
import labkit.training
from labkit.models import layer_groups, split_at
from labkit.training import extract_features

SIZES = (128, 160, 224)
BATCHES = (2, 4, 8, 16, 32)


def old_batch(size: int) -> int:
    """La regla de lote de antes (medida para NCHW sin compilar): ~8 imágenes a 128 px."""
    return int(min(64, max(1, 8 * 128 * 128 // (size * size))))


def matmul_gflops(n: int = 1024, reps: int = 20) -> float:
    """GFLOP/s de ``a @ b`` en ``float32`` (el mejor de varios intentos)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 * reps / best / 1e9


def prefix_gflops(model: torch.nn.Module, depth: int, size: int) -> float:
    """GFLOP por imagen del prefijo (multiplicar y sumar cuentan como 2)."""
    prefix, _ = split_at(model, depth)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        prefix.eval()(torch.randn(1, 3, size, size))
    return counter.get_total_flops() / 1e9


def interleaved(fns: dict, reps: int) -> dict[str, float]:
    """Mediana de segundos de cada función, alternándolas ``reps`` veces."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def extractor(model: torch.nn.Module, x: torch.Tensor, depth: int, batch: int, cl: bool,
              compiled: bool):
    """Una función que extrae ``x`` con el camino pedido."""
    def run() -> None:
        with speed.override(channels_last=cl, compile=compiled):
            extract_features(model, x, depth, batch_size=batch)
    return run


def compile_cost(model: torch.nn.Module, x: torch.Tensor, depth: int, batch: int) -> float:
    """Segundos de compilar el prefijo (trazar, congelar y las llamadas de calentamiento)."""
    speed._GRAPHS.pop(model, None)
    before = speed.compile_stats()["seconds"]
    extractor(model, x, depth, batch, True, True)()
    return speed.compile_stats()["seconds"] - before


def bench_extraction(model: torch.nn.Module, depth: int, size: int, n: int, reps: int,
                     limit: float) -> dict[str, float]:
    """Imágenes/s de cada camino a ``size`` px; imprime la tabla y devuelve los cocientes."""
    x = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8,
                      generator=torch.Generator().manual_seed(size))
    b = old_batch(size)
    cost = compile_cost(model, x, depth, b)
    t = interleaved({"antes": extractor(model, x, depth, b, False, False),
                     "cl": extractor(model, x, depth, b, True, False),
                     "comp": extractor(model, x, depth, b, True, True)}, reps)
    ips = {k: n / v for k, v in t.items()}
    print(f"\n{size} px, lote {b} (regla de antes): antes {ips['antes']:.1f} img/s · "
          f"channels-last {ips['cl']:.1f} ({ips['cl'] / ips['antes']:.2f}×) · compilado "
          f"{ips['comp']:.1f} ({ips['comp'] / ips['antes']:.2f}×) · techo por FLOP "
          f"{limit:.0f} img/s")
    print(f"  compilar cuesta {cost:.1f} s: se amortiza a partir de unas "
          f"{cost / max(1e-9, 1 / ips['cl'] - 1 / ips['comp']):.0f} imágenes")
    sweep = {}
    for batch in BATCHES:
        s = interleaved({"cl": extractor(model, x, depth, batch, True, False),
                         "comp": extractor(model, x, depth, batch, True, True)}, reps)
        sweep[batch] = {k: n / v for k, v in s.items()}
        print(f"  lote {batch:>2}: channels-last {sweep[batch]['cl']:.1f} img/s, compilado "
              f"{sweep[batch]['comp']:.1f} img/s")
    now = n / interleaved({"ahora": lambda: extract_features(model, x, depth)}, reps)["ahora"]
    print(f"  labkit ahora (lote automático {labkit.training.extraction_batch_size((size, size), torch.device('cpu'))}, "
          f"channels-last y compilado): {now:.1f} img/s, {now / ips['antes']:.2f}× el camino de antes")
    best_cl = max(sweep, key=lambda k: sweep[k]["cl"])
    best_comp = max(sweep, key=lambda k: sweep[k]["comp"])
    best = sweep[best_comp]["comp"]
    print(f"  mejor lote: channels-last {best_cl}, compilado {best_comp} ({best:.1f} img/s, "
          f"{best / ips['antes']:.2f}× el camino de antes; el techo es {limit / best:.1f}× eso)")
    return {"cl_x": ips["cl"] / ips["antes"], "comp_x": ips["comp"] / ips["antes"],
            "now_x": now / ips["antes"],
            "best_x": best / ips["antes"], "limit_over_best": limit / best,
            "best_batch_cl": best_cl, "best_batch_comp": best_comp, "compile_s": cost}


def grad_error(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Error relativo del gradiente de la primera capa en channels-last frente a float64."""
    grads = []
    for dtype, fmt in ((torch.float64, torch.contiguous_format),
                       (torch.float32, torch.channels_last)):
        m = copy.deepcopy(model).to(dtype=dtype, memory_format=fmt).train()
        torch.manual_seed(1)
        torch.nn.functional.cross_entropy(m(x.to(dtype).contiguous(memory_format=fmt)),
                                          y).backward()
        grads.append(next(m.parameters()).grad.double().contiguous())
    return ((grads[1] - grads[0]).abs().max() / grads[0].abs().max()).item()


def bench_training(model: torch.nn.Module, reps: int) -> dict[str, float]:
    """Pasos de entrenamiento por segundo (lote 32, 160 px): cola y modelo entero."""
    groups = len(layer_groups(model))
    x = labkit.normalize(torch.randint(0, 256, (32, 3, 160, 160), dtype=torch.uint8),
                         (0.5,) * 3, (0.5,) * 3)
    y = torch.arange(32) % 5
    tail_depth = groups - 3
    feats = extract_features(model, x, tail_depth)
    out = {}
    for label, depth, inputs in (("cola", tail_depth, feats), ("entero", 0, x)):
        fns = {}
        for fmt_name, fmt in (("nchw", torch.contiguous_format), ("cl", torch.channels_last)):
            m = copy.deepcopy(model)
            labkit.freeze_to(m, depth)
            _, tail = split_at(m, depth)
            tail = tail.to(memory_format=fmt)
            labkit.models.train_mode(m)
            opt = torch.optim.AdamW([p for p in tail.parameters() if p.requires_grad], lr=1e-4)
            xin = inputs.contiguous(memory_format=fmt) if inputs.ndim == 4 else inputs

            def step(tail=tail, opt=opt, xin=xin) -> None:
                opt.zero_grad()
                torch.nn.functional.cross_entropy(tail(xin), y).backward()
                opt.step()
            step()
            fns[fmt_name] = step
        t = interleaved(fns, reps)
        out[label] = t["nchw"] / t["cl"]
        print(f"entrenar ({label}, lote 32, 160 px): NCHW {32 / t['nchw']:.1f} img/s, "
              f"channels-last {32 / t['cl']:.1f} img/s ({out[label]:.2f}×)")
    err = grad_error(model, x[:4], y[:4])
    print(f"error relativo del gradiente en channels-last frente a float64 (lote 4, "
          f"{torch.get_num_threads()} hilos): {err:.1e} — labkit entrena en NCHW")
    return {"train_tail_cl_x": out["cola"], "train_full_cl_x": out["entero"],
            "cl_grad_error": err}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="solo 224 px y menos repeticiones")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    speed.MIN_COMPILE_IMAGES = 1  # se mide el camino compilado aunque el lote de prueba sea corto
    load0 = os.getloadavg()[0]
    model = labkit.create_model("efficientnet_lite0", num_classes=5)
    depth = len(layer_groups(model)) - 1
    gflops = matmul_gflops()
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} hilos, carga media al empezar "
          f"{load0:.2f}; matmul float32: {gflops:.0f} GFLOP/s")
    sizes, reps = ((224,), 3) if args.quick else (SIZES, 3)
    results = {}
    for size in sizes:
        per_image = prefix_gflops(model, depth, size)
        print(f"prefijo de Lite0 a {size} px: {per_image:.3f} GFLOP por imagen")
        results[size] = bench_extraction(model, depth, size, 64 if size > 128 else 96, reps,
                                         gflops / per_image)
    train = bench_training(model, reps)
    load1 = os.getloadavg()[0]
    print(f"\ncarga media al terminar {load1:.2f} (2 núcleos: por encima de ~0.5 la máquina "
          "no estaba tranquila)")
    r = results[224]
    fields = {"extract224_cl_x": r["cl_x"], "extract224_compiled_x": r["comp_x"],
              "extract224_labkit_now_x": r["now_x"], "extract128_labkit_now_x": results.get(128, r)["now_x"],
              "extract224_best_x": r["best_x"], "extract224_limit_over_best": r["limit_over_best"],
              "compile224_s": r["compile_s"], "best_batch224": r["best_batch_comp"], **train,
              "matmul_gflops": gflops, "load_start": load0, "load_end": load1}
    print(" ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                   for k, v in fields.items()))


if __name__ == "__main__":
    main()
