"""Velocidad: el formato de memoria *channels-last* y el prefijo compilado para extraer.

Las redes convolucionales corren bastante más rápido en CPU (y en GPU con precisión mixta) si
los tensores de 4 dimensiones se guardan «canales al final» (NHWC, ``torch.channels_last``) en
vez del orden por defecto (NCHW): las convoluciones de oneDNN y cuDNN trabajan en ese orden y
se ahorran reordenar los datos en cada capa. Los números no cambian (salvo redondeo de
``float32``), solo el orden en memoria. Medido en ``benchmarks/bench_speed.py``.

Para la extracción de características (el prefijo congelado, siempre en evaluación) se puede ir
más lejos: se *traza* el prefijo y se congela el grafo (``torch.jit.trace`` +
``torch.jit.freeze``), que funde cada BatchNorm en su convolución y elimina el intérprete de
Python. Cuesta unos segundos la primera vez para cada modelo, profundidad y tamaño de imagen;
después se reutiliza (caché en memoria, mientras el prefijo tenga los mismos pesos). Si algo
falla al compilar (otra versión de PyTorch, Windows, un modelo raro), se usa el camino normal
sin decir nada: el resultado es el mismo.

Todo se decide aquí, en un solo sitio:

* :func:`place` lleva un modelo al dispositivo y, para inferencia, a *channels-last* si conviene
  (para entrenar, no: ver su documentación).
* :func:`layout` pone un lote en el mismo orden que el modelo que lo recibe.
* :func:`compiled_prefix` devuelve el prefijo compilado (o el normal).

Dos variables de entorno lo apagan para depurar o comparar: ``LABKIT_CHANNELS_LAST=0`` y
``LABKIT_COMPILE=0``; :func:`override` hace lo mismo dentro de un bloque ``with``.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator

import torch
from torch import nn

__all__ = ["channels_last_enabled", "compile_enabled", "has_depthwise", "place",
           "uses_channels_last", "layout", "compiled_prefix", "override", "compile_stats",
           "MIN_COMPILE_IMAGES"]

MIN_COMPILE_IMAGES = 400
"""Con menos imágenes que esto no se compila: no se amortizaría.

Medido en 2 núcleos (``benchmarks/bench_speed.py``, EfficientNet-Lite0): compilar cuesta
0.5–0.9 s y se amortiza a partir de unas 140 imágenes a 224 px, 330 a 128 px y 390 a 160 px.
Un grafo ya compilado se usa siempre, con cualquier número de imágenes."""

_MAX_GRAPHS_PER_MODEL = 4
_OVERRIDE: dict[str, bool] = {}
_GRAPHS: weakref.WeakKeyDictionary[nn.Module, OrderedDict] = weakref.WeakKeyDictionary()
_STATS = {"compiled": 0, "reused": 0, "failed": 0, "seconds": 0.0}


def _env_on(name: str) -> bool:
    """``False`` solo si la variable vale 0, no, false u off (sin distinguir mayúsculas)."""
    return os.environ.get(name, "1").strip().lower() not in {"0", "no", "false", "off"}


def channels_last_enabled(device: torch.device | str) -> bool:
    """Si los modelos y lotes de 4 dimensiones van en *channels-last* en ``device``.

    Sí en CPU y CUDA (donde las convoluciones lo aprovechan); no en MPS ni en otros
    dispositivos, donde no se ha medido. ``LABKIT_CHANNELS_LAST=0`` lo apaga.

    Args:
        device: el dispositivo del cálculo.

    Returns:
        ``True`` si se usa *channels-last*.
    """
    flag = _OVERRIDE.get("channels_last")
    if flag is None:
        flag = _env_on("LABKIT_CHANNELS_LAST")
    return bool(flag) and torch.device(device).type in {"cpu", "cuda"}


def compile_enabled(device: torch.device | str) -> bool:
    """Si la extracción usa el prefijo compilado en ``device`` (solo CPU; ``LABKIT_COMPILE=0`` lo
    apaga).

    En GPU el camino normal ya está limitado por la memoria y la precisión mixta; compilar
    allí no se ha medido.

    Args:
        device: el dispositivo del cálculo.

    Returns:
        ``True`` si se compila.
    """
    flag = _OVERRIDE.get("compile")
    if flag is None:
        flag = _env_on("LABKIT_COMPILE")
    return bool(flag) and torch.device(device).type == "cpu"


@contextlib.contextmanager
def override(channels_last: bool | None = None, compile: bool | None = None) -> Iterator[None]:
    """Fuerza (o quita) *channels-last* y la compilación dentro de un bloque ``with``.

    Args:
        channels_last: ``True``/``False`` para forzarlo; ``None`` = lo que diga el entorno.
        compile: ``True``/``False`` para forzarla; ``None`` = lo que diga el entorno.
    """
    saved = dict(_OVERRIDE)
    for key, value in (("channels_last", channels_last), ("compile", compile)):
        if value is not None:
            _OVERRIDE[key] = bool(value)
    try:
        yield
    finally:
        _OVERRIDE.clear()
        _OVERRIDE.update(saved)


def has_depthwise(model: nn.Module) -> bool:
    """Si el modelo tiene convoluciones *depthwise* (un grupo por canal: EfficientNet,
    MobileNet)."""
    return any(isinstance(m, nn.Conv2d) and m.groups > 1 and m.groups == m.in_channels
               for m in model.modules())


def place(model: nn.Module, device: torch.device | str, train: bool = False) -> nn.Module:
    """Lleva el modelo a ``device`` y sus pesos a *channels-last* cuando conviene.

    Inferencia (``train=False``): *channels-last* siempre que esté activado.

    Entrenamiento (``train=True``): solo si el modelo tiene convoluciones *depthwise*
    (EfficientNet, MobileNet). Medido aquí (PyTorch 2.14, CPU, 2 hilos, lotes de 32, paso completo
    adelante y atrás):

    * EfficientNet-Lite0 con BatchNorm fijas (ajuste fino de un preentrenado): 2,2× más rápido a
      64 px y 2,8× a 128 px; la convolución *depthwise* hacia atrás en NCHW es lenta en CPU. El
      error del gradiente frente a ``float64`` es el mismo en los dos órdenes (~3e-4).
    * La misma red desde cero (BatchNorm que reestiman estadísticas): 1,5–1,9× más rápido; el
      error relativo del gradiente sube de ~0,1–0,3 % (NCHW) a ~0,7–2 % (la suma de BatchNorm en
      ``float32``), del orden del de la precisión mixta que ya se usa en CUDA. Seis épocas desde
      cero con 100 flores a 128 px, dos semillas: misma exactitud en prueba en los dos órdenes,
      20 s frente a 29–37 s.
    * ResNet-18 (sin *depthwise*) no gana (0,35–1,0×): entrena en NCHW.

    Args:
        model: el modelo (se modifica en su sitio, como ``model.to``).
        device: el dispositivo.
        train: si se va a entrenar.

    Returns:
        El mismo modelo.
    """
    fast = channels_last_enabled(device) and (not train or has_depthwise(model))
    fmt = torch.channels_last if fast else torch.contiguous_format
    return model.to(device=torch.device(device), memory_format=fmt)


def uses_channels_last(model: nn.Module) -> bool:
    """Si los pesos de 4 dimensiones del modelo están en *channels-last* (tras :func:`place`)."""
    for p in model.parameters():
        if p.ndim == 4 and p.shape[1] * p.shape[2] * p.shape[3] > 1:
            return p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous()
    return False


def layout(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """Un lote de 4 dimensiones en *channels-last* si se pide; si no, tal cual.

    Args:
        x: el lote.
        channels_last: si el modelo que lo recibe está en *channels-last*
            (:func:`uses_channels_last`): lote y pesos en el mismo orden.

    Returns:
        El lote (una copia reordenada, o el mismo tensor).
    """
    if x.ndim == 4 and channels_last:
        return x.contiguous(memory_format=torch.channels_last)
    return x


def compile_stats() -> dict[str, float]:
    """Cuántos prefijos se compilaron, reutilizaron o fallaron, y los segundos de compilación."""
    return dict(_STATS)


def _trace(prefix: nn.Module, example: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """El prefijo trazado y congelado (en evaluación, sin gradientes)."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # avisos de trazado y de que torch.jit está en desuso
        traced = torch.jit.trace(prefix.eval(), example, check_trace=False)
        frozen = torch.jit.freeze(traced)
        for _ in range(2):  # el ejecutor perfila y optimiza en las primeras llamadas: aquí
            frozen(example)
    return frozen


def compiled_prefix(model: nn.Module, prefix: nn.Module, key: Callable[[], tuple],
                    example: torch.Tensor,
                    n_images: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """El prefijo compilado para este modelo, clave y forma de lote, o ``prefix`` sin compilar.

    Se compila solo en CPU, con :data:`MIN_COMPILE_IMAGES` imágenes o más, y se guarda con el
    modelo (a lo sumo 4 grafos por modelo): mientras la clave (huella de los pesos del
    prefijo, profundidad…) y la forma de las imágenes sean las mismas, se reutiliza. Cualquier
    fallo al compilar devuelve ``prefix`` sin avisar (el resultado es el mismo, solo más lento).

    Args:
        model: el modelo del que sale el prefijo (el grafo vive mientras viva el modelo).
        prefix: el prefijo (``split_at(model, depth)[0]``), en evaluación.
        key: función que da lo que identifica los pesos del prefijo (p. ej. su huella y la
            profundidad); solo se llama si hay algo que compilar o reutilizar (cuesta una pasada
            por los pesos).
        example: un lote de ejemplo, ya normalizado y en su formato.
        n_images: cuántas imágenes se van a extraer.

    Returns:
        Una función lote → características.
    """
    if not compile_enabled(example.device):
        return prefix
    if n_images < MIN_COMPILE_IMAGES and model not in _GRAPHS:
        return prefix  # nada que reutilizar y no compensa compilar: sin calcular la huella
    full_key = (key(), tuple(example.shape[1:]), example.dtype, str(example.device),
                example.is_contiguous(memory_format=torch.channels_last))
    graphs = _GRAPHS.setdefault(model, OrderedDict())
    if full_key in graphs:  # ya pagado: vale también para conjuntos pequeños (validación, prueba)
        _STATS["reused"] += 1
        graphs.move_to_end(full_key)
        return graphs[full_key]
    if n_images < MIN_COMPILE_IMAGES:
        return prefix
    start = time.perf_counter()
    try:
        graph = _trace(prefix, example)
    except Exception:  # noqa: BLE001 — sin compilar el resultado es el mismo
        _STATS["failed"] += 1
        graphs[full_key] = prefix
        return prefix
    _STATS["compiled"] += 1
    _STATS["seconds"] += time.perf_counter() - start
    graphs[full_key] = graph
    while len(graphs) > _MAX_GRAPHS_PER_MODEL:
        graphs.popitem(last=False)
    return graph
