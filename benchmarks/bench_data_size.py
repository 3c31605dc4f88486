"""Cuántos datos necesita cada método: el barrido de tamaño de datos sobre el conjunto integrado.

Mide con :func:`labkit.experiments.data_size_sweep` (recetas de
:class:`labkit.experiments.Recipe`, las mismas para todos los tamaños), sobre las imágenes de
superficies a 96 px con 100 imágenes de validación y 400 de prueba:

* ``extraccion``: EfficientNet-Lite0 preentrenado y congelado + cabeza lineal;
* ``ajuste_fino``: lo anterior y después las dos últimas etapas (solo en algunos tamaños);
* ``desde_cero``: la CNN pequeña con aumento de datos y un presupuesto fijo de pasos.

Imprime una línea por ejecución, la tabla de exactitud en prueba (media ± desviación por
método y tamaño), la de segundos de entrenamiento y dónde alcanza desde cero a la
transferencia (:func:`labkit.experiments.crossover`). Con un hilo tarda del orden de media hora
(casi todo, la CNN desde cero); a 128 px, el doble.

Uso: ``python benchmarks/bench_data_size.py [--image-size 96] [--sizes 10,50,...]
[--seeds 0,1,2] [--fine-tune-sizes 100,1000] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import time

import torch

import labkit
from labkit import experiments as ex


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(t) for t in text.split(",") if t.strip())


def parse_args() -> argparse.Namespace:
    """Las opciones de la línea de órdenes."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image-size", type=int, default=96)
    p.add_argument("--sizes", type=_ints, default=(10, 50, 100, 500, 1000, 2000))
    p.add_argument("--seeds", type=_ints, default=(0, 1, 2))
    p.add_argument("--fine-tune-sizes", type=_ints, default=(100, 1000))
    p.add_argument("--n-val", type=int, default=100)
    p.add_argument("--n-test", type=int, default=400)
    p.add_argument("--threads", type=int, default=1,
                   help="hilos de torch (en una máquina compartida, 1 va más rápido)")
    return p.parse_args()


def report(done: int, total: int, row: dict) -> None:
    """Una línea por ejecución, para seguir el progreso en el registro."""
    print(f"[{done:>3}/{total}] {ex.METHOD_LABELS[row['method']]:<30} n={row['n_train']:<5} "
          f"semilla={row['seed']}  prueba {labkit.pct(row['test_acc'])}  val {labkit.pct(row['val_acc'])}  "
          f"{row['epochs']:>2} épocas  {row['train_seconds']:.1f} s", flush=True)


def main() -> None:
    """Genera los datos, calcula las características una vez, barre e imprime las tablas."""
    args = parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    data = labkit.surface_dataset(n_train=max(args.sizes), n_val=args.n_val,
                                  n_test=args.n_test, image_size=args.image_size)
    print(data, flush=True)
    recipe = ex.Recipe()
    print(recipe, flush=True)
    feats = ex.transfer_features(data, "efficientnet_lite0", depth=7)
    print(f"Características de EfficientNet-Lite0 (7 grupos congelados): {feats.seconds:.1f} s",
          flush=True)
    rows = ex.data_size_sweep(data, args.sizes, args.seeds, recipe=recipe, features=feats,
                              fine_tune_sizes=args.fine_tune_sizes, progress=report)
    print(f"\nExactitud en prueba ({len(data.test)} imágenes de {data.test.name}, "
          f"{args.image_size} px):")
    print(ex.format_table(rows))
    print("\nSegundos de entrenamiento por ejecución (sin calcular características):")
    print(ex.format_table(rows, value="train_seconds", percent=False))
    for b in ("extraccion", "ajuste_fino"):
        n = ex.crossover(rows, "desde_cero", b)
        where = f"desde {n} imágenes" if n is not None else "en ningún tamaño medido"
        print(f"Desde cero deja de perder (por el intervalo de labkit.compare) frente a "
              f"«{ex.METHOD_LABELS[b]}» {where}.")
    print(f"Tiempo total: {time.perf_counter() - start:.0f} s con {args.threads} hilo(s).")


if __name__ == "__main__":
    main()
