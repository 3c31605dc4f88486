"""La receta por defecto sobre una carpeta de fotos como la de un alumno, frente a solo la cabeza.

Lo que hace quien trae sus fotos: ``labkit.image_folder(carpeta)`` → ``labkit.create_model(...)``
→ ``labkit.fine_tune(modelo, datos)`` sin más argumentos. Este banco lo repite sobre carpetas
reales de unas ``--photos`` fotos (por defecto 250) sacadas del entrenamiento y la validación
fijos de las flores y de los frijoles que lleva el repositorio (``labkit/fotos``), copiadas a una
carpeta temporal con una subcarpeta por clase, y mide cada brazo en la **prueba fija** del
conjunto (fotos que la carpeta no contiene; las mismas para todos los brazos, así que la
comparación va emparejada, imagen a imagen y semilla a semilla):

* ``receta_128``: ``fine_tune`` con sus valores por defecto (``FINE_TUNE_DEFAULTS``) y la
  resolución por defecto de ``image_folder`` (128 px);
* ``cabeza_128`` y ``cabeza_224``: solo la cabeza (extracción de características, 20 épocas
  sobre características en caché) a 128 y a 224 px;
* ``receta_224``: la receta por defecto a 224 px.

Cada semilla cambia el reparto de la carpeta en entrenamiento/validación/prueba propia de
``image_folder`` (70/15/15) y la inicialización. Los segundos son los del entrenamiento (la
carga de la carpeta va aparte: la primera vez decodifica y guarda la caché). El objetivo del
issue 18: la receta por defecto, al menos tan exacta como solo la cabeza a 224 px, en unos 2
minutos para ~250 fotos en 2 núcleos.

Uso: ``python benchmarks/bench_mi_carpeta.py [--sets flores,frijoles] [--photos 250]
[--seeds 0,1,2] [--arms receta_128,cabeza_128,cabeza_224,receta_224] [--threads 2]
[--save filas.json]``. La última línea es ``clave=valor``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from bench_real import parse_ints, parse_names, write_rows  # el banco vecino (misma carpeta)

import labkit
from labkit.experiments import compare

SETS = {"flores": labkit.flowers, "frijoles": labkit.beans}
ARMS = {  # brazo: (resolución, argumentos de fine_tune además de los de por defecto)
    "receta_128": (128, {}),
    "cabeza_128": (128, {"head_epochs": 20, "epochs": 0}),
    "cabeza_224": (224, {"head_epochs": 20, "epochs": 0}),
    "receta_224": (224, {}),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Las opciones de la línea de órdenes."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", type=parse_names, default=list(SETS))
    p.add_argument("--photos", type=int, default=250)
    p.add_argument("--seeds", type=parse_ints, default=(0, 1, 2))
    p.add_argument("--arms", type=parse_names, default=list(ARMS))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--save", default=None)
    args = p.parse_args(argv)
    for bad in [s for s in args.sets if s not in SETS] + [a for a in args.arms if a not in ARMS]:
        p.error(f"desconocido: {bad}")
    return args


def make_folder(name: str, photos: int, dest: Path) -> tuple[Path, list[str], dict]:
    """Copia ``photos`` fotos (estratificadas, semilla 0) del entrenamiento y la validación fijos.

    Devuelve la carpeta, la subcarpeta (clase) de cada foto de la prueba fija, en su orden, y la
    prueba fija cargada a cada resolución (``{px: ImageSet}``).
    """
    base = SETS[name](image_size=64)
    credits = base.train.info["fotos"]          # las fotos de todo el conjunto: train, val, test
    folder, files = credits.folder, list(credits.files)
    n_train, n_val = len(base.train), len(base.val)
    pool = files[:n_train + n_val]
    by_class: dict[str, list[str]] = {}
    for f in pool:
        by_class.setdefault(f.split("/")[0], []).append(f)
    rng = np.random.default_rng(0)
    share = photos / len(pool)
    out = dest / name
    for cls, mine in sorted(by_class.items()):
        chosen = rng.choice(len(mine), size=round(share * len(mine)), replace=False)
        (out / cls).mkdir(parents=True)
        for i in sorted(chosen):
            shutil.copy2(folder / mine[i], out / cls / Path(mine[i]).name)
    test_dirs = [f.split("/")[0] for f in files[n_train + n_val:]]
    pairs = {(int(y), d) for y, d in zip(base.test.labels, test_dirs)}
    assert len(pairs) == len(base.classes), f"las etiquetas no casan con las carpetas: {pairs}"
    tests = {px: SETS[name](image_size=px).test for px in {px for px, _ in ARMS.values()}}
    return out, test_dirs, tests


def run_arm(folder: Path, arm: str, seed: int, test_dirs: list[str], tests: dict) -> dict:
    """Un brazo con una semilla: carga la carpeta, entrena y mide en la prueba fija."""
    px, extra = ARMS[arm]
    start = time.perf_counter()
    data = labkit.image_folder(folder, image_size=px, seed=seed, progress=False)
    load = time.perf_counter() - start
    labkit.seed_everything(seed)
    start = time.perf_counter()
    model = labkit.create_model("efficientnet_lite0", data)
    h = labkit.fine_tune(model, data, seed=seed, progress=False, **extra)
    seconds = time.perf_counter() - start
    pred, _ = labkit.predict(model, tests[px].images)
    correct = torch.tensor([data.classes[int(p)] == d for p, d in zip(pred, test_dirs)])
    return {"test_acc": float(correct.float().mean()), "test_correct": correct,
            "train_seconds": seconds, "load_seconds": load, "n_train": len(data.train),
            "best_phase": h.best_phase or "?"}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    rows: list[dict] = []
    kv: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="mi_carpeta_") as tmp:
        for name in args.sets:
            folder, test_dirs, tests = make_folder(name, args.photos, Path(tmp))
            n = sum(1 for _ in folder.rglob("*.jpg"))
            print(f"{name}: carpeta de {n} fotos; prueba fija de {len(test_dirs)}", flush=True)
            for seed in args.seeds:
                for arm in args.arms:
                    out = run_arm(folder, arm, seed, test_dirs, tests)
                    rows.append({"set": name, "arm": arm, "seed": seed, **out})
                    print(f"  {name:<9} {arm:<11} semilla {seed}: {out['test_acc']:.3f} "
                          f"({out['train_seconds']:.1f} s de entrenamiento, {out['n_train']} "
                          f"fotos; mejor época en {out['best_phase']}; carga "
                          f"{out['load_seconds']:.1f} s)", flush=True)
    if args.save:
        write_rows(args.save, rows)
    print(f"\n{'conjunto':<10}{'brazo':<12}{'sem.':>5}{'media ± desv.':>17}{'IC 95 %':>18}"
          f"{'s/ejec.':>9}")
    for name in args.sets:
        per_arm = {a: {r["seed"]: r["test_correct"] for r in rows
                       if r["set"] == name and r["arm"] == a} for a in args.arms}
        cmp = compare(per_arm)
        for a in args.arms:
            accs = [r["test_acc"] for r in rows if r["set"] == name and r["arm"] == a]
            secs = statistics.mean(r["train_seconds"] for r in rows
                                   if r["set"] == name and r["arm"] == a)
            sd = statistics.stdev(accs) if len(accs) > 1 else float("nan")
            arm = cmp.arm(a)
            ci = f"[{arm.low:.3f}, {arm.high:.3f}]" if arm.low is not None else "n = 1"
            print(f"{name:<10}{a:<12}{len(accs):>5}{statistics.mean(accs):>10.3f} ± {sd:.3f}"
                  f"{ci:>18}{secs:>9.1f}")
            kv[f"{name}_{a}"] = round(statistics.mean(accs), 4)
            kv[f"{name}_{a}_s"] = round(secs, 1)
        if "receta_128" in args.arms:
            for other in [a for a in args.arms if a != "receta_128"]:
                d = cmp.difference("receta_128", other)
                print(f"{name}: receta_128 − {other}: {d.text()}")
                kv[f"{name}_receta_128_vs_{other}"] = d.verdict
    print(" ".join(f"{k}={v}" for k, v in kv.items()) + f" threads={args.threads}")


if __name__ == "__main__":
    main()
