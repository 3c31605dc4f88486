"""Transferencia en los cuatro conjuntos reales: extracción, ajuste fino y desde cero.

Conjuntos: flores (:func:`labkit.flowers`), frijoles (:func:`labkit.beans`), ELPV binaria
(:func:`labkit.elpv`) y PneumoniaMNIST (:func:`labkit.pneumonia_mnist`). Para cada uno, con 100
imágenes de entrenamiento y con todas, y varias semillas, mide la exactitud en la prueba
completa de:

* ``extraccion``: EfficientNet-Lite0 congelado + cabeza lineal (la fase de cabeza de la receta
  sola, con ``--head-only-epochs`` épocas y la mejor época de validación);
* ``ajuste_fino``: :func:`labkit.fine_tune` (la receta en dos fases) con la variante
  ``--recipe`` (``defecto`` = :data:`labkit.training.FINE_TUNE_DEFAULTS`; otras en
  :data:`VARIANTS`, para elegir los valores por defecto midiendo); se pueden dar varias;
* ``desde_cero``: la misma red con pesos al azar (:func:`labkit.experiments.run_scratch_same`),
  a la misma resolución y con aumento.

Los veredictos son emparejados (mismas imágenes de prueba, mismas semillas) con
:func:`labkit.experiments.compare` sobre los aciertos por imagen: cada variante de ajuste fino
frente a la extracción, y la mejor transferencia frente a desde cero. Da los segundos por
ejecución (en una máquina compartida, compara solo proporciones de una misma ejecución) y la
última línea son pares ``clave=valor``.

Uso: ``python benchmarks/bench_real.py [--sets flores,frijoles,elpv,pneumonia]
[--sizes 100,todas] [--seeds 0,1,2] [--methods extraccion,ajuste_fino,desde_cero]
[--recipe defecto,anterior] [--scratch-seeds 0] [--image-size flores=128] [--threads 2]
[--save filas.json]``. En una máquina compartida se mide por partes (cada una con ``--save``) y
``--merge a.json,b.json`` da la tabla y los veredictos de todas juntas sin volver a entrenar.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

import torch

import labkit
from labkit.experiments import compare, run_scratch_same
from labkit.training import FINE_TUNE_DEFAULTS

SETS = {"flores": labkit.flowers, "frijoles": labkit.beans, "elpv": labkit.elpv,
        "pneumonia": labkit.pneumonia_mnist}
SIZES = {"flores": 128, "frijoles": 128, "elpv": 96, "pneumonia": 64}

VARIANTS = {
    "defecto": {},
    # La receta de antes del issue 18: la segunda fase casi no se mueve.
    "anterior": {"head_epochs": 3, "epochs": 5, "lr": 1e-4, "schedule": "constante",
                 "augment": False},
    "oc8": {"head_epochs": 3, "epochs": 8, "lr": 1e-3, "schedule": "one_cycle",
            "augment": False},
    "oc8_aum": {"head_epochs": 3, "epochs": 8, "lr": 1e-3, "schedule": "one_cycle",
                "augment": "fotos"},
    "oc5_aum": {"head_epochs": 3, "epochs": 5, "lr": 1e-3, "schedule": "one_cycle",
                "augment": "fotos"},
    "oc8_5e4_aum": {"head_epochs": 3, "epochs": 8, "lr": 5e-4, "schedule": "one_cycle",
                    "augment": "fotos"},
}
"""Variantes de :func:`labkit.fine_tune` que se pueden medir (lo que no dan, por defecto)."""

TARGETS = {("flores", "100"): 0.85, ("elpv", "todas"): 0.88, ("pneumonia", "todas"): 0.884}


def parse_ints(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` → ``(0, 1, 2)`` (también lo usa ``bench_mi_carpeta.py``)."""
    return tuple(int(t) for t in text.split(",") if t.strip())


def parse_names(text: str) -> list[str]:
    """``"a, b"`` → ``["a", "b"]``."""
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Las opciones de la línea de órdenes."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", type=parse_names, default=list(SETS))
    p.add_argument("--sizes", type=parse_names, default=["100", "todas"],
                   help="imágenes de entrenamiento: enteros o «todas»")
    p.add_argument("--seeds", type=parse_ints, default=(0, 1, 2))
    p.add_argument("--scratch-seeds", type=parse_ints, default=None,
                   help="semillas de desde cero con «todas» (caro; por defecto, las de --seeds)")
    p.add_argument("--methods", type=parse_names, default=["extraccion", "ajuste_fino", "desde_cero"])
    p.add_argument("--recipe", type=parse_names, default=["defecto"],
                   help=f"variantes del ajuste fino: {', '.join(VARIANTS)}")
    p.add_argument("--head-only-epochs", type=int, default=20,
                   help="épocas de la extracción (sobre características: casi gratis)")
    p.add_argument("--image-size", type=parse_names, default=[],
                   help="resolución por conjunto, p. ej. flores=224,frijoles=160")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--save", default=None, help="guarda las filas en este JSON (para --merge)")
    p.add_argument("--merge", type=parse_names, default=[],
                   help="no mide: une las filas de estos JSON y da la tabla y los veredictos")
    args = p.parse_args(argv)
    unknown = [v for v in args.recipe if v not in VARIANTS]
    if unknown:
        p.error(f"variantes desconocidas {unknown}: usa {', '.join(VARIANTS)}")
    args.px = dict(SIZES)
    for item in args.image_size:
        name, _, px = item.partition("=")
        args.px[name] = int(px)
    return args


def _variant(name: str) -> dict:
    return {**FINE_TUNE_DEFAULTS, **VARIANTS[name]}


def _arms(args: argparse.Namespace) -> list[tuple[str, object]]:
    """``(brazo, qué hace)`` en orden: extracción, cada variante de ajuste fino, desde cero."""
    arms: list[tuple[str, object]] = []
    if "extraccion" in args.methods:
        arms.append(("extraccion", {"head_epochs": args.head_only_epochs, "epochs": 0}))
    if "ajuste_fino" in args.methods:
        arms += [(f"ft_{v}", _variant(v)) for v in args.recipe]
    if "desde_cero" in args.methods:
        arms.append(("desde_cero", None))
    return arms


def _run(arm: object, data: labkit.data.DataSplits, n: int, seed: int) -> dict:
    if arm is None:
        return run_scratch_same(data, n, seed)
    start = time.perf_counter()
    labkit.seed_everything(seed)
    model = labkit.create_model("efficientnet_lite0", num_classes=len(data.classes))
    h = labkit.fine_tune(model, data.train.take(n, seed), data.val, seed=seed, progress=False,
                         **arm)
    scores = labkit.evaluate(model, data.test, per_image=True)
    return {"test_acc": scores["accuracy"], "test_correct": scores["correct"],
            "train_seconds": time.perf_counter() - start,
            "best_phase": getattr(h, "best_phase", None) or _best_phase(h)}


def _best_phase(h: object) -> str:
    """La fase de la mejor época (historiales sin ``best_phase``)."""
    phases = getattr(h, "phase", None)
    best = getattr(h, "best_epoch", None)
    if not phases or best is None:
        return "?"
    return phases[best - 1] if 0 < best <= len(phases) else "?"


def run_set(name: str, args: argparse.Namespace) -> list[dict]:
    """Todas las ejecuciones de un conjunto: tamaños × brazos × semillas."""
    data = SETS[name](image_size=args.px[name])
    print(f"{name}: {len(data.train)}/{len(data.val)}/{len(data.test)} imágenes a "
          f"{args.px[name]} px", flush=True)
    rows = []
    for label in args.sizes:
        n = len(data.train) if label == "todas" else int(label)
        for arm, spec in _arms(args):
            seeds = args.seeds
            if arm == "desde_cero" and label == "todas" and args.scratch_seeds is not None:
                seeds = args.scratch_seeds
            for seed in seeds:
                out = _run(spec, data, n, seed)
                rows.append({"set": name, "n": label, "method": arm, "seed": seed, **out})
                phase = f" mejor época: {out['best_phase']}" if out.get("best_phase") else ""
                print(f"  {name:<9} n={label:<5} {arm:<16} semilla {seed}: "
                      f"{out['test_acc']:.3f} ({out['train_seconds']:.1f} s){phase}", flush=True)
    return rows


def table(rows: list[dict]) -> list[str]:
    """Una línea por conjunto × tamaño × brazo: media ± desviación, IC 95 % y segundos."""
    lines = [f"{'conjunto':<10}{'n':>6}  {'brazo':<17}{'sem.':>4}{'media ± desv.':>16}"
             f"{'IC 95 %':>18}{'s/ejec.':>9}  mejor época en cabeza"]
    for key in dict.fromkeys((r["set"], r["n"], r["method"]) for r in rows):
        sel = [r for r in rows if (r["set"], r["n"], r["method"]) == key]
        accs = [r["test_acc"] for r in sel]
        sd = statistics.stdev(accs) if len(accs) > 1 else float("nan")
        same = {r["seed"]: r["test_correct"] for r in sel}
        arm = compare({"a": same, "b": same}).arm("a")
        ci = f"[{arm.low:.3f}, {arm.high:.3f}]" if arm.low is not None else "n = 1"
        secs = statistics.mean(r["train_seconds"] for r in sel)
        head = sum(r.get("best_phase") == "cabeza" for r in sel)
        phase = f"{head}/{len(sel)}" if key[2].startswith("ft_") else ""
        lines.append(f"{key[0]:<10}{key[1]:>6}  {key[2]:<17}{len(sel):>4}"
                     f"{statistics.mean(accs):>9.3f} ± {sd:.3f}{ci:>18}{secs:>9.1f}  {phase}")
    return lines


def _correct(rows: list[dict], name: str, n: str, method: str) -> dict:
    return {r["seed"]: r["test_correct"] for r in rows
            if (r["set"], r["n"], r["method"]) == (name, n, method)}


def _mean(rows: list[dict], name: str, n: str, method: str) -> float:
    accs = [r["test_acc"] for r in rows if (r["set"], r["n"], r["method"]) == (name, n, method)]
    return statistics.mean(accs) if accs else float("nan")


def verdicts(rows: list[dict]) -> tuple[list[str], dict[str, object]]:
    """Veredictos emparejados y objetivos del issue 18."""
    out, kv = [], {}
    for name, n in dict.fromkeys((r["set"], r["n"]) for r in rows):
        methods = list(dict.fromkeys(r["method"] for r in rows if (r["set"], r["n"]) == (name, n)))
        fts = [m for m in methods if m.startswith("ft_")]
        for ft in fts if "extraccion" in methods else []:
            d = compare({"extraccion": _correct(rows, name, n, "extraccion"),
                         ft: _correct(rows, name, n, ft)}).difference(ft, "extraccion")
            out.append(f"{name} n={n}: {ft} − extracción: {d.text()}")
            kv[f"{name}_{n}_{ft}_vs_extr"] = d.verdict
        for ft in [m for m in fts if m != "ft_anterior"] if "ft_anterior" in fts else []:
            d = compare({"ft_anterior": _correct(rows, name, n, "ft_anterior"),
                         ft: _correct(rows, name, n, ft)}).difference(ft, "ft_anterior")
            out.append(f"{name} n={n}: {ft} − receta anterior: {d.text()}")
            kv[f"{name}_{n}_{ft}_vs_anterior"] = d.verdict
        transfer = [m for m in methods if m == "extraccion" or m.startswith("ft_")]
        if "desde_cero" in methods and transfer:
            best = max(transfer, key=lambda m: _mean(rows, name, n, m))
            d = compare({"desde_cero": _correct(rows, name, n, "desde_cero"),
                         best: _correct(rows, name, n, best)}).difference(best, "desde_cero")
            out.append(f"{name} n={n}: {best} − desde cero: {d.text()}")
            kv[f"{name}_{n}_transfer_vs_scratch"] = d.verdict
    for (name, n), target in TARGETS.items():
        arms = [m for m in dict.fromkeys(r["method"] for r in rows if (r["set"], r["n"]) ==
                                         (name, n)) if m != "desde_cero"]
        if not arms:
            continue
        best = max(arms, key=lambda m: _mean(rows, name, n, m))
        mean = _mean(rows, name, n, best)
        ok = mean >= target
        scratch = _mean(rows, name, n, "desde_cero")
        also = (f" (la misma red desde cero: {scratch:.3f}, "
                f"{'sí' if scratch >= target else 'tampoco'} lo pasa)"
                if not math.isnan(scratch) else "")             # NaN: no se midió
        out.append(f"objetivo {name} n={n} ≥ {target}: mejor transferencia {best} {mean:.3f} → "
                   f"{'se cumple' if ok else 'NO se cumple'}{also}")
        kv[f"{name}_{n}_best"] = round(mean, 4)
        kv[f"{name}_{n}_ok"] = ok
    return out, kv


def write_rows(path: str, rows: list[dict]) -> None:
    """Guarda las filas (los aciertos por imagen como listas de 0/1) de forma atómica."""
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps([{**r, "test_correct": [int(x) for x in r["test_correct"]]}
                               for r in rows]), encoding="utf-8")
    tmp.replace(path)


def _read(path: str) -> list[dict]:
    rows = json.loads(Path(path).read_text(encoding="utf-8"))
    return [{**r, "test_correct": torch.tensor(r["test_correct"], dtype=torch.bool)}
            for r in rows]


def main(argv: list[str] | None = None) -> None:
    """Mide cada conjunto e imprime la tabla, los veredictos y la línea ``clave=valor``."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    rows = [r for path in args.merge for r in _read(path)]
    for name in [] if args.merge else args.sets:
        rows += run_set(name, args)
    if args.save:
        write_rows(args.save, rows)
    px = ", ".join(f"{s} {args.px[s]} px" for s in dict.fromkeys(r["set"] for r in rows))
    used = [m[3:] for m in dict.fromkeys(r["method"] for r in rows) if m.startswith("ft_")]
    print(f"\nExactitud en prueba (EfficientNet-Lite0; {px}; {args.threads} hilo(s); "
          f"extracción = {args.head_only_epochs} épocas de cabeza; desde cero = la misma red "
          "al azar con aumento). Variantes del ajuste fino:")
    for v in used:
        print(f"  {v}: {_variant(v) if v in VARIANTS else '?'}")
    print("\n".join(table(rows)))
    lines, kv = verdicts(rows)
    print("\n".join(lines))
    kv["total_seconds"] = round(time.perf_counter() - start, 1)
    kv["threads"] = args.threads
    print(" ".join(f"{k}={v}" for k, v in kv.items()))


if __name__ == "__main__":
    main()
