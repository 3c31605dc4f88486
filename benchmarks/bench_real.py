"""Transferencia en imágenes reales: PneumoniaMNIST y ELPV con los ajustes de CPU de los cuadernos.

Para cada conjunto real mide la exactitud en prueba (media ± desviación sobre 3 semillas, y el
intervalo al 95 % de :mod:`labkit.compare`) con 100 imágenes de entrenamiento y con todas, para
dos métodos de :mod:`labkit.experiments` (receta :class:`~labkit.experiments.Recipe` por
defecto):

* ``extraccion``: EfficientNet-Lite0 congelado + cabeza lineal (solo la cabeza);
* ``ajuste_fino``: la misma cabeza y después los dos últimos grupos antes de ella.

Con los segundos de cada cosa (características una vez; entrenamiento por ejecución). Comprueba
los objetivos del issue 10 y su última línea son pares ``clave=valor``. Los tiempos dependen de
la máquina: en una compartida, compara solo proporciones dentro de una misma ejecución.

Uso: ``python benchmarks/bench_real.py [--sets pneumonia,elpv] [--seeds 0,1,2]
[--pneumonia-size 64] [--elpv-size 96] [--threads 1] [--methods extraccion,ajuste_fino]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import labkit
from labkit import experiments as ex
from labkit.compare import compare

TARGETS = {("pneumonia", "100"): 0.85, ("pneumonia", "todas"): 0.884, ("elpv", "todas"): 0.90}


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(t) for t in text.split(",") if t.strip())


def parse_args() -> argparse.Namespace:
    """Las opciones de la línea de órdenes."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="pneumonia,elpv")
    p.add_argument("--seeds", type=_ints, default=(0, 1, 2))
    p.add_argument("--pneumonia-size", type=int, default=64)
    p.add_argument("--elpv-size", type=int, default=96)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--methods", default="extraccion,ajuste_fino",
                   help="métodos a medir (solo «extraccion» para probar resoluciones altas)")
    return p.parse_args()


def _load(name: str, args: argparse.Namespace) -> labkit.DataSplits:
    if name == "pneumonia":
        return labkit.pneumonia_mnist(image_size=args.pneumonia_size)
    return labkit.elpv(image_size=args.elpv_size)


def run_set(name: str, args: argparse.Namespace) -> list[dict]:
    """Todas las ejecuciones de un conjunto: 2 tamaños × 2 métodos × semillas."""
    data = _load(name, args)
    print(labkit.dataset_report(data).splitlines()[0], repr(data).splitlines()[0], flush=True)
    model = labkit.create_model("efficientnet_lite0", num_classes=len(data.classes))
    depth = len(labkit.layer_groups(model)) - 3
    feats = ex.transfer_features(data, "efficientnet_lite0", depth=depth)
    print(f"  características ({depth} grupos congelados): {feats.seconds:.1f} s", flush=True)
    rows = []
    for label, n in (("100", 100), ("todas", len(data.train))):
        for method, run in (("extraccion", ex.run_extraction), ("ajuste_fino", ex.run_fine_tune)):
            if method not in args.methods.split(","):
                continue
            for seed in args.seeds:
                # La profundidad va explícita: sin ella run_fine_tune usa la de la receta (la mitad
                # de los grupos), que no cabe en estas características (y con todas las imágenes
                # tardaría horas en CPU). Aquí se ajustan los dos últimos grupos antes de la cabeza.
                extra = {"depth": depth} if method == "ajuste_fino" else {}
                out = run(feats, n, seed, **extra)
                rows.append({"set": name, "n": label, "method": method, "seed": seed, **out,
                             "n_test": len(data.test), "feature_seconds": feats.seconds})
                print(f"  {name:<9} n={label:<5} {method:<11} semilla {seed}: "
                      f"{out['test_acc']:.3f} ({out['train_seconds']:.1f} s)", flush=True)
    return rows


def table(rows: list[dict]) -> list[str]:
    """Una línea por conjunto × tamaño × método, con media ± desviación e IC 95 %."""
    lines = [f"{'conjunto':<10}{'n':>6}  {'método':<12}{'media ± desv.':>16}  {'IC 95 % (semillas)':>19}"
             f"{'s/ejec.':>9}"]
    for key in dict.fromkeys((r["set"], r["n"], r["method"]) for r in rows):
        sel = [r for r in rows if (r["set"], r["n"], r["method"]) == key]
        accs = [r["test_acc"] for r in sel]
        sd = statistics.stdev(accs) if len(accs) > 1 else float("nan")
        arm = compare({"a": accs, "b": accs}).arm("a")
        ci = f"[{arm.low:.3f}, {arm.high:.3f}]" if arm.low is not None else "n = 1"
        secs = statistics.mean(r["train_seconds"] for r in sel)
        lines.append(f"{key[0]:<10}{key[1]:>6}  {key[2]:<12}{statistics.mean(accs):>9.3f} ± "
                     f"{sd:.3f}  {ci:>19}{secs:>9.1f}")
    return lines


def verdicts(rows: list[dict]) -> tuple[list[str], dict[str, object]]:
    """Objetivos del issue y ajuste fino frente a extracción con 100 imágenes."""
    out, kv = [], {}
    for (name, n), target in TARGETS.items():
        best = max(("extraccion", "ajuste_fino"), key=lambda m: _mean(rows, name, n, m))
        mean = _mean(rows, name, n, best)
        if mean != mean:  # nan: no medido
            continue
        ok = mean >= target
        out.append(f"objetivo {name} n={n} ≥ {target}: mejor {best} {mean:.3f} → "
                   f"{'se cumple' if ok else 'NO se cumple'}")
        kv[f"{name}_{n}_best"] = round(mean, 4)
        kv[f"{name}_{n}_ok"] = ok
    for name in dict.fromkeys(r["set"] for r in rows):
        if {r["method"] for r in rows} != {"extraccion", "ajuste_fino"}:
            break  # con un solo método no hay comparación
        # Con los aciertos por imagen, la diferencia es emparejada por semilla y por imagen
        # (bootstrap de labkit.compare); con la exactitud sola, t emparejada por semillas.
        for label, cmp in (("semillas", compare(_arms(rows, name, "test_acc"))),
                           ("semillas+imagenes", compare(_arms(rows, name, "test_correct")))):
            d = cmp.difference("ajuste_fino")
            out.append(f"{name} n=100, ajuste fino − extracción ({label}): {d.text()}")
            kv[f"{name}_100_ft_minus_head_{label.replace('+', '_')}"] = d.verdict
    return out, kv


def _arms(rows: list[dict], name: str, value: str) -> dict:
    """Extracción y ajuste fino con 100 imágenes: ``{método: {semilla: valor}}``."""
    return {m: {r["seed"]: r[value] for r in rows if (r["set"], r["n"], r["method"])
                == (name, "100", m)} for m in ("extraccion", "ajuste_fino")}


def _mean(rows: list[dict], name: str, n: str, method: str) -> float:
    accs = [r["test_acc"] for r in rows if (r["set"], r["n"], r["method"]) == (name, n, method)]
    return statistics.mean(accs) if accs else float("nan")


def main() -> None:
    """Mide cada conjunto e imprime la tabla, los objetivos y la línea ``clave=valor``."""
    args = parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    rows = []
    for name in args.sets.split(","):
        rows += run_set(name.strip(), args)
    print(f"\nExactitud en prueba (EfficientNet-Lite0; PneumoniaMNIST a {args.pneumonia_size} px, "
          f"ELPV binaria a {args.elpv_size} px; {len(args.seeds)} semillas; "
          f"{args.threads} hilo(s)):")
    print("\n".join(table(rows)))
    lines, kv = verdicts(rows)
    print("\n".join(lines))
    kv["total_seconds"] = round(time.perf_counter() - start, 1)
    kv["threads"] = args.threads
    print(" ".join(f"{k}={v}" for k, v in kv.items()))


if __name__ == "__main__":
    main()
