"""Cuánto recuerda de ImageNet un cuerpo ajustado: la sonda de ImageNet y sus callbacks.

El **olvido** se mide, no se supone. Se guarda aparte la cabeza original de ImageNet (las 1000
clases) de un modelo preentrenado y se anotan sus respuestas para unas fotos reales
(:func:`probe_photos`: fotos de ``scikit-image``, sin red). Durante un ajuste fino, en cada época,
se vuelve a poner esa cabeza encima del cuerpo *actual* y se mide:

- la **concordancia**: la fracción de fotos cuya clase más probable sigue siendo la del modelo
  original (1 = el cuerpo «ve» esas fotos como antes);
- la **confianza**: la probabilidad media que da a esa clase original.

:class:`ProbeCallback` lo apunta por época dentro de :func:`labkit.fit` o
:func:`labkit.fine_tune`; :class:`BestWeights` guarda una copia de los pesos de la mejor época
según la pérdida y según la exactitud de validación (para comparar los dos criterios de parada);
:func:`plot_forgetting` dibuja la tarea y la sonda, época a época.

Ejemplo::

    original = labkit.create_model("efficientnet_lite0")          # con la cabeza de ImageNet
    sonda = ImageNetProbe(original, probe_photos())
    modelo = labkit.replace_head(copy.deepcopy(original), 2)
    registro = ProbeCallback(modelo, sonda)
    historial = labkit.fine_tune(modelo, datos, callbacks=[registro])
    plot_forgetting(historial, registro)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..base._errors import LabkitError
from ..data._data import resize_images
from ..models._freezing import head_depth
from ..models._groups import layer_groups, split_at
from ..models._models import model_info
from ..training._best import MONITORS, improves, score
from ..training._callbacks import Callback, History, TrainState
from ..training._extraction import extract_features

if TYPE_CHECKING:  # matplotlib se carga al dibujar, no con import labkit
    from matplotlib.figure import Figure

__all__ = ["PROBE_PHOTOS", "probe_photos", "ProbeResult", "ImageNetProbe", "ProbeCallback",
           "BestWeights", "stop_epoch", "frozen_batchnorms", "bn_stat_shift", "plot_forgetting",
           "plot_forgetting_runs"]

PROBE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "stereo_motorcycle",
                "coins", "moon", "clock", "brick", "grass", "gravel", "hubble_deep_field")
"""Las fotos de ``skimage.data`` de la sonda (todas viajan con scikit-image, sin red)."""


def _photo(name: str) -> np.ndarray:
    """Una foto de ``skimage.data`` como ``uint8 [H, W, 3]`` (el gris se copia a tres canales)."""
    import skimage.data

    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):  # stereo_motorcycle devuelve (izquierda, derecha, disparidad)
        image = image[0]
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3].astype(np.uint8))


def _views(image: np.ndarray, size: int) -> torch.Tensor:
    """Cuatro vistas ``[4, 3, size, size]``: cuadrado central, acercamiento y sus reflejos."""
    h, w = image.shape[:2]
    side = min(h, w)
    crops = []
    for frac in (1.0, 0.7):
        s = int(side * frac)
        top, left = (h - s) // 2, (w - s) // 2
        crops.append(image[top:top + s, left:left + s])
    tensors = [resize_images(torch.from_numpy(np.ascontiguousarray(c)).permute(2, 0, 1)[None],
                             size) for c in crops]
    views = torch.cat(tensors)
    return torch.cat([views, views.flip(-1)])


def probe_photos(size: int = 128, names: tuple[str, ...] = PROBE_PHOTOS
                 ) -> tuple[torch.Tensor, list[str]]:
    """Las fotos reales de la sonda: cuatro vistas de cada foto de ``scikit-image``.

    Args:
        size: lado de las vistas en píxeles.
        names: qué fotos de ``skimage.data`` usar.

    Returns:
        ``(imágenes uint8 [N, 3, size, size], nombre de la foto de cada imagen)``.
    """
    images, labels = [], []
    for name in names:
        views = _views(_photo(name), size)
        images.append(views)
        labels += [name] * len(views)
    return torch.cat(images), labels


@dataclass(frozen=True)
class ProbeResult:
    """Una medida de la sonda: concordancia con el original y confianza en su clase (0–1)."""

    agreement: float
    confidence: float


class ImageNetProbe:
    """La cabeza de ImageNet de un modelo preentrenado y sus respuestas para unas fotos.

    Args:
        pretrained: un modelo del catálogo **con su cabeza de ImageNet** (1000 salidas).
        images: las fotos de la sonda (``uint8 [N, 3, H, W]``), p. ej. de :func:`probe_photos`.
    """

    def __init__(self, pretrained: nn.Module, images: torch.Tensor) -> None:
        if int(model_info(pretrained).num_classes) != 1000:
            raise LabkitError("La sonda necesita el modelo preentrenado con su cabeza de ImageNet "
                              "(1000 clases): labkit.create_model(nombre) sin num_classes.")
        self.depth = head_depth(pretrained)
        self.head = copy.deepcopy(split_at(pretrained, self.depth)[1]).cpu().eval()
        self.images = images
        probs = self.probabilities(pretrained)
        self.reference = probs.argmax(1)
        self.reference_confidence = float(probs.gather(1, self.reference[:, None]).mean())

    def probabilities(self, model: nn.Module) -> torch.Tensor:
        """Probabilidades de ImageNet ``[N, 1000]``: el cuerpo de ``model`` con la cabeza original.

        Se calcula en evaluación y sin gradientes, y deja los modos del modelo como estaban.
        """
        feats = extract_features(model, self.images, self.depth).float().cpu()
        with torch.no_grad():
            return self.head(feats).softmax(1)

    def measure(self, model: nn.Module) -> ProbeResult:
        """Concordancia y confianza del cuerpo de ``model`` frente al modelo original."""
        probs = self.probabilities(model)
        agree = float((probs.argmax(1) == self.reference).float().mean())
        conf = float(probs.gather(1, self.reference[:, None]).mean())
        return ProbeResult(agree, conf)


class ProbeCallback(Callback):
    """Mide la sonda de ImageNet al empezar (época 0) y al final de cada época.

    Las épocas se cuentan como en el historial (en ``fine_tune``, sobre las dos fases).

    Args:
        model: el modelo que se entrena (el mismo objeto que se pasa a ``fit``).
        probe: la sonda.
    """

    def __init__(self, model: nn.Module, probe: ImageNetProbe) -> None:
        self.model, self.probe = model, probe
        self.epochs: list[int] = []
        self.agreement: list[float] = []
        self.confidence: list[float] = []

    def _record(self, epoch: int) -> None:
        result = self.probe.measure(self.model)
        self.epochs.append(epoch)
        self.agreement.append(result.agreement)
        self.confidence.append(result.confidence)

    def on_train_begin(self, state: TrainState) -> None:
        if not self.epochs:
            self._record(state.history.epochs)

    def on_epoch_end(self, state: TrainState) -> None:
        self._record(state.history.epochs)

    def at(self, epoch: int) -> ProbeResult:
        """La medida de una época (0 = antes de entrenar)."""
        if epoch not in self.epochs:
            raise LabkitError(f"La sonda no tiene la época {epoch} (tiene {self.epochs}).")
        i = self.epochs.index(epoch)
        return ProbeResult(self.agreement[i], self.confidence[i])


class BestWeights(Callback):
    """Guarda (en CPU) los pesos de la mejor época según la pérdida (``"val_loss"``) y según la
    exactitud de validación (``"val_acc"``), con el mismo criterio que ``fit``: la primera época
    que mejora estrictamente. Guarda también los de la última época (``"last"``), que ``fit``
    sustituye por los de la mejor cuando ``restore_best=True``.

    Args:
        model: el modelo que se entrena.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.epoch: dict[str, int] = {}
        self.weights: dict[str, dict] = {}
        self._score: dict[str, float] = {}

    def on_epoch_end(self, state: TrainState) -> None:
        h = state.history
        for monitor in MONITORS:
            value = score(monitor, h.val_loss[-1], h.val_acc[-1])
            if improves(value, self._score.get(monitor, float("inf"))):
                self._score[monitor], self.epoch[monitor] = value, h.epochs
                self.weights[monitor] = self._copy()
        self.epoch["last"], self.weights["last"] = h.epochs, self._copy()

    def _copy(self) -> dict:
        return {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def model_for(self, monitor: str) -> nn.Module:
        """Una copia del modelo con los pesos guardados para ``monitor`` (o ``"last"``)."""
        if monitor not in self.weights:
            raise LabkitError(f"No hay pesos guardados para {monitor!r}: ¿se entrenó alguna "
                              "época con este callback?")
        copy_ = copy.deepcopy(self.model)
        copy_.load_state_dict(self.weights[monitor])
        return copy_.eval()


def stop_epoch(history: History, patience: int, monitor: str = "val_loss",
               min_delta: float = 0.0) -> int | None:
    """La época en la que ``fit`` con ``patience`` habría parado, leída de un historial sin parada.

    Repite la cuenta de ``fit`` (la mejor época mejora estrictamente en más de ``min_delta``; la
    cuenta de épocas sin mejorar vuelve a 0 al empezar cada fase de ``fine_tune``) sobre un
    entrenamiento hecho sin ``patience``. Con la misma semilla, las épocas hasta esa son las mismas
    que habría entrenado ``fit`` con ``patience``.

    Args:
        history: el historial de un entrenamiento sin parada temprana.
        patience: épocas sin mejorar antes de parar.
        monitor: ``"val_loss"`` o ``"val_acc"``.
        min_delta: mejora mínima.

    Returns:
        La época (desde 1) en la que habría parado, o ``None`` si no habría parado.

    Raises:
        LabkitError: si habría parado en una fase que no es la última (en ``fine_tune`` la fase
            siguiente empezaría antes y el resto del historial ya no vale).
    """
    if monitor not in MONITORS:
        raise LabkitError(f"monitor={monitor!r}: usa 'val_loss' o 'val_acc'.")
    values = [score(monitor, v, a) for v, a in zip(history.val_loss, history.val_acc)]
    phases = history.phase or [""] * len(values)
    best, waited = float("inf"), 0
    for i, value in enumerate(values):
        if i > 0 and phases[i] != phases[i - 1]:
            waited = 0
        if improves(value, best, min_delta):
            best, waited = value, 0
        else:
            waited += 1
        if waited >= patience:
            if phases[i] != phases[-1]:
                raise LabkitError(f"Con patience={patience} habría parado en la fase "
                                  f"«{phases[i]}» (época {i + 1}), antes de la última: este "
                                  "historial no dice qué habría pasado después.")
            return i + 1
    return None


def frozen_batchnorms(model: nn.Module) -> list[_BatchNorm]:
    """Las capas BatchNorm de los grupos congelados del modelo."""
    return [m for g in layer_groups(model) if g.frozen for piece in g.pieces
            for m in piece.modules() if isinstance(m, _BatchNorm)]


def bn_stat_shift(before: nn.Module, after: nn.Module) -> dict[str, float]:
    """Cuánto se movieron las estadísticas guardadas de BatchNorm entre dos copias de un modelo.

    Args:
        before: el modelo antes (p. ej. una copia tomada al empezar).
        after: el mismo modelo después.

    Returns:
        ``{"changed": capas con alguna estadística distinta, "layers": capas BatchNorm,
        "mean_shift": cambio medio de la media guardada en desviaciones típicas guardadas de
        antes, "var_ratio": media de |log(var después / var antes)|}``.
    """
    pairs = [(a, b) for a, b in zip(before.modules(), after.modules())
             if isinstance(a, _BatchNorm) and isinstance(b, _BatchNorm)]
    if not pairs:
        raise LabkitError("El modelo no tiene capas BatchNorm.")
    changed, shifts, ratios = 0, [], []
    for a, b in pairs:
        m0, v0 = a.running_mean.detach().cpu(), a.running_var.detach().cpu()
        m1, v1 = b.running_mean.detach().cpu(), b.running_var.detach().cpu()
        changed += int(not (torch.equal(m0, m1) and torch.equal(v0, v1)))
        shifts.append(float(((m1 - m0).abs() / (v0 + a.eps).sqrt()).mean()))
        ratios.append(float(((v1 + a.eps) / (v0 + a.eps)).log().abs().mean()))
    return {"changed": changed, "layers": len(pairs), "mean_shift": float(np.mean(shifts)),
            "var_ratio": float(np.mean(ratios))}


def _mark(ax: object, epoch: int | None, color: str, style: str) -> None:
    if epoch is not None:
        ax.axvline(epoch, color=color, ls=style, lw=1.2)


def plot_forgetting(history: History, probe: ProbeCallback,
                    marks: dict[str, int] | None = None) -> Figure:
    """La tarea y la sonda de ImageNet por época, en dos paneles.

    A la izquierda, la pérdida de entrenamiento y de validación; a la derecha, la exactitud de
    validación y la concordancia de la sonda (con la época 0, antes de entrenar). Las épocas de
    la fase «cabeza» de ``fine_tune`` van sombreadas.

    Args:
        history: el historial del entrenamiento.
        probe: el :class:`ProbeCallback` que lo acompañó.
        marks: épocas a marcar con una línea vertical, ``{"rótulo": época}``.

    Returns:
        La figura.
    """
    from ..base._figures import PALETTE, new_figure

    if history.epochs == 0:
        raise LabkitError("plot_forgetting necesita al menos una época entrenada.")
    fig = new_figure((9.0, 3.6))
    ax_loss, ax_acc = fig.subplots(1, 2)
    x = list(range(1, history.epochs + 1))
    ax_loss.plot(x, history.train_loss, color=PALETTE[0], ls="--", label="pérdida (entrenamiento)")
    ax_loss.plot(x, history.val_loss, color=PALETTE[0], label="pérdida (validación)")
    ax_acc.plot(x, history.val_acc, color=PALETTE[0], marker=".", label="exactitud (validación)")
    ax_acc.plot(probe.epochs, probe.agreement, color=PALETTE[5], marker="o", ms=3,
                label="sonda de ImageNet (concordancia)")
    heads = [i + 1 for i, phase in enumerate(history.phase) if phase == "cabeza"]
    if heads:
        for ax in (ax_loss, ax_acc):
            ax.axvspan(min(heads) - 0.5, max(heads) + 0.5, color=PALETTE[1], alpha=0.12, lw=0)
        ax_loss.fill_between([], [], color=PALETTE[1], alpha=0.12, label="fase de cabeza")
    styles = (":", "-.", (0, (1, 3)))
    for i, (label, epoch) in enumerate((marks or {}).items()):
        for ax in (ax_loss, ax_acc):
            _mark(ax, epoch, PALETTE[6], styles[i % len(styles)])
        ax_loss.plot([], [], color=PALETTE[6], ls=styles[i % len(styles)], label=label)
    _style_axes(((ax_loss, "Tarea: pérdida"), (ax_acc, "Tarea y ImageNet")), percent=ax_acc)
    return fig


def plot_forgetting_runs(runs: dict[str, tuple[History, ProbeCallback]]) -> Figure:
    """Varios entrenamientos, uno por color: la pérdida de validación y la sonda de ImageNet.

    Args:
        runs: ``{"rótulo": (historial, ProbeCallback)}``.

    Returns:
        La figura.
    """
    from ..base._figures import PALETTE, new_figure

    if not runs or any(h.epochs == 0 for h, _ in runs.values()):
        raise LabkitError("plot_forgetting_runs necesita entrenamientos con al menos una época.")
    fig = new_figure((9.0, 3.6))
    ax_loss, ax_probe = fig.subplots(1, 2)
    for i, (label, (history, probe)) in enumerate(runs.items()):
        color = PALETTE[i % len(PALETTE)]
        ax_loss.plot(range(1, history.epochs + 1), history.val_loss, color=color, label=label)
        ax_probe.plot(probe.epochs, probe.agreement, color=color, marker="o", ms=3, label=label)
    _style_axes(((ax_loss, "Pérdida (validación)"), (ax_probe, "Sonda de ImageNet (concordancia)")),
                percent=ax_probe)
    return fig


def _style_axes(titled: tuple, percent: object) -> None:
    """Título, épocas enteras en x, rejilla y leyenda; ``percent`` con su eje de 0 a 100 %."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    for ax, title in titled:
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("época")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
    percent.set_ylim(0, 1.02)
    percent.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0, symbol=" %"))
