"""Cuánto se gana al no recalcular: entrenamiento con características en caché frente a sin ella.

Mide en una sola ejecución, con el conjunto integrado (128 px, 200 imágenes de entrenamiento y
100 de validación) y EfficientNet-Lite0 preentrenado:

1. Solo la cabeza, 10 épocas: ``fit(cache=True)`` frente a ``fit(cache=False)`` (el bucle clásico
   de los tutoriales, que pasa cada época las imágenes por todo el tronco congelado). Objetivo:
   8 veces más rápido o más, con la misma exactitud (±1 punto).
2. Ajuste fino de las dos últimas etapas, ``freeze_to(modelo, len(grupos) - 3)`` (se entrenan
   ``blocks.6``, ``conv_head`` y la cabeza), 3 épocas, con caché frente a sin ella.
   Objetivo: 2 veces o más.
3. Rendimiento de ``extract_features`` sobre todo el prefijo frente a ``model(x)`` en evaluación
   bajo ``torch.no_grad()`` con los mismos tensores ya normalizados y el mismo tamaño de lote
   (el automático de ``extraction_batch_size``). Objetivo: 0.85 o más.
4. Ajuste fino **con aumento de datos** (la caché se apaga: modelo entero en cada paso), a la
   profundidad por defecto de ``fine_tune``: ``fit(augment=True)`` frente al bucle de los
   tutoriales de PyTorch (``Dataset`` con transformaciones de torchvision imagen a imagen,
   ``DataLoader``, ``model.train()``, ``zero_grad/backward/step`` y una pasada de validación)
   con el mismo modelo, los mismos datos y el mismo tamaño de lote. Se compara el tiempo por
   época. Objetivo: 1.0 o más (labkit al menos igual de rápido).

Los tiempos incluyen la preparación (calcular la caché). La última línea es
``cached_head_speedup=X.X cached_tail_speedup=X.X extraction_efficiency=X.XX
augment_vs_tutorial=X.XX``.

Uso: ``python benchmarks/bench_training.py [--threads N]`` (por defecto, los hilos de torch).
"""

from __future__ import annotations

import argparse
import copy
import time
import warnings

import torch

import labkit
import labkit.models
from labkit.data import normalize, surface_dataset
from labkit.training import extract_features, extraction_batch_size, fit


def timed_fit(model: torch.nn.Module, splits: labkit.data.DataSplits, cache: bool,
              **kwargs: object) -> tuple[float, float, bool]:
    """Entrena una copia del modelo; devuelve segundos, exactitud final de validación y caché."""
    m = copy.deepcopy(model)
    start = time.perf_counter()
    h = fit(m, splits.train, splits.val, cache=cache, progress=False, device="cpu", seed=0,
            **kwargs)
    return time.perf_counter() - start, h.val_acc[-1], h.cached


def compare(name: str, model: torch.nn.Module, splits: labkit.data.DataSplits,
            **kwargs: object) -> float:
    """Con caché frente a sin ella; imprime tiempos y exactitudes, devuelve la aceleración."""
    t_plain, acc_plain, c0 = timed_fit(model, splits, cache=False, **kwargs)
    t_cache, acc_cache, c1 = timed_fit(model, splits, cache=True, **kwargs)
    assert c1 and not c0
    print(f"{name}: sin caché {t_plain:.2f} s (exactitud val {labkit.pct(acc_plain)}), "
          f"con caché {t_cache:.2f} s (exactitud val {labkit.pct(acc_cache)}), "
          f"diferencia {100 * (acc_cache - acc_plain):+.1f} puntos, "
          f"x{t_plain / t_cache:.1f}")
    return t_plain / t_cache


def best_times(fns: list, rounds: int = 3) -> list[float]:
    """El menor tiempo de cada función, alternándolas (el ruido de otros procesos solo suma)."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, bucket in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [min(t) for t in times]


def extraction_efficiency(model: torch.nn.Module, images: torch.Tensor, depth: int) -> float:
    """Imágenes/s de ``extract_features`` sobre imágenes/s de ``model(x)``, con el mismo lote."""
    batch_size = extraction_batch_size(tuple(images.shape[2:]), torch.device("cpu"))
    info = labkit.model_info(model)
    x = normalize(images, info.mean, info.std)
    model.eval()

    def raw() -> None:
        with torch.no_grad():
            for chunk in x.split(batch_size):
                model(chunk)

    def extract() -> None:
        extract_features(model, x, depth, batch_size=batch_size)

    raw()  # calentamiento
    t_raw, t_extract = best_times([raw, extract])
    print(f"extracción: model(x) {len(x) / t_raw:.0f} imágenes/s, extract_features "
          f"{len(x) / t_extract:.0f} imágenes/s (prefijo de {depth} grupos, lotes de "
          f"{batch_size})")
    return t_raw / t_extract


class _TutorialSet(torch.utils.data.Dataset):
    """El ``Dataset`` de los tutoriales: una imagen, sus transformaciones y su etiqueta."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform: object) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.transform(self.images[i]), self.labels[i]


def tutorial_epochs(model: torch.nn.Module, splits: labkit.data.DataSplits, epochs: int,
                    batch_size: int, lr: float) -> float:
    """El bucle clásico de PyTorch con aumento por imagen; devuelve segundos por época."""
    from torchvision.transforms import v2

    info = labkit.model_info(model)
    size = splits.train.image_size
    aug = v2.Compose([v2.RandomResizedCrop(size, scale=(0.64, 1.0), antialias=True),
                      v2.RandomHorizontalFlip(), v2.RandomRotation(10),
                      v2.ColorJitter(brightness=0.2), v2.ToDtype(torch.float32, scale=True),
                      v2.Normalize(info.mean, info.std)])
    plain = v2.Compose([v2.ToDtype(torch.float32, scale=True), v2.Normalize(info.mean, info.std)])
    train = torch.utils.data.DataLoader(_TutorialSet(splits.train.images, splits.train.labels,
                                                     aug), batch_size=batch_size, shuffle=True)
    val = torch.utils.data.DataLoader(_TutorialSet(splits.val.images, splits.val.labels, plain),
                                      batch_size=batch_size)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for x, y in train:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for x, _ in val:
                model(x)
    return (time.perf_counter() - start) / epochs


def augment_vs_tutorial(model: torch.nn.Module, splits: labkit.data.DataSplits,
                        epochs: int = 2, batch_size: int = 32) -> float:
    """Segundos por época del tutorial entre los de ``fit(augment=True)`` (mayor = labkit gana)."""
    depth = labkit.models.default_fine_tune_depth(model)
    labkit.freeze_to(model, depth)
    times = []
    for _ in range(2):  # alternados: el ruido de otros procesos solo suma, se toma el menor
        m = copy.deepcopy(model)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", labkit.training.AugmentCacheWarning)
            h = fit(m, splits.train, splits.val, epochs=epochs, lr=1e-4, augment=True,
                    batch_size=batch_size, progress=False, device="cpu", seed=0)
        assert not h.cached
        t_labkit = (time.perf_counter() - start) / epochs
        t_tutorial = tutorial_epochs(copy.deepcopy(model), splits, epochs, batch_size, 1e-4)
        times.append((t_labkit, t_tutorial))
    t_labkit, t_tutorial = min(t[0] for t in times), min(t[1] for t in times)
    print(f"ajuste fino con aumento (profundidad {depth}, lotes de {batch_size}): labkit "
          f"{t_labkit:.2f} s/época, bucle del tutorial {t_tutorial:.2f} s/época, "
          f"x{t_tutorial / t_labkit:.2f}")
    return t_tutorial / t_labkit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="hilos de torch")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} hilos, CPU")
    splits = surface_dataset(n_train=200, n_val=100, n_test=4, image_size=128)
    print(splits)
    labkit.seed_everything(0)  # la cabeza nueva se inicializa al azar
    model = labkit.create_model("efficientnet_lite0", num_classes=4)
    n_groups = len(labkit.layer_groups(model))
    extract_features(model, splits.val.images[:32], n_groups - 1)  # calentamiento

    labkit.freeze_to(model, n_groups - 1)
    head = compare("solo cabeza, 10 épocas", model, splits, epochs=10, lr=1e-3)
    labkit.freeze_to(model, n_groups - 3)
    trainable = [g.name for g in labkit.layer_groups(model)[n_groups - 3:]]
    tail = compare(f"ajuste fino de {', '.join(trainable)}, 3 épocas", model, splits,
                   epochs=3, lr=1e-4, ratio=10)
    labkit.freeze_to(model, n_groups - 1)
    efficiency = extraction_efficiency(model, splits.train.images, n_groups - 1)
    augmented = augment_vs_tutorial(model, splits)
    print(f"cached_head_speedup={head:.1f} cached_tail_speedup={tail:.1f} "
          f"extraction_efficiency={efficiency:.2f} augment_vs_tutorial={augmented:.2f}")


if __name__ == "__main__":
    main()
