"""Comprobación del ejercicio «escribe el bucle de diez líneas» (cuaderno 03).

El alumno escribe una función ``entrenar(modelo, x, y)`` que entrena la cabeza de un modelo con
grupos congelados. :func:`check_training_loop` la llama sobre un modelo y unas imágenes que pone
el profesor y mira tres cosas, cada una medida y no supuesta:

1. **entrena**: la pérdida sobre esas imágenes baja (y se informa de la exactitud);
2. **lo congelado no se mueve**: ni los pesos de los grupos congelados ni sus ``requires_grad``;
3. **BatchNorm congelada quieta**: sus estadísticas (``running_mean``, ``running_var``) no
   cambian, que es lo que garantiza :func:`labkit.train_mode` y no ``modelo.train()``.

Si lo que pone el profesor no sirve (un modelo sin grupos congelados, sin BatchNorm en ellos, o
imágenes y etiquetas que no casan) el veredicto es «No se pudo comprobar», nunca un ❌.
:func:`labkit.checks.check_training_loop` es esta misma función.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..base._errors import LabkitError
from ..base._fmt import pct
from ._verdicts import _TEACHER, CheckResult, _ok, _pending, _unanswered, _verdict, _wrong

__all__ = ["check_training_loop"]

_HINT = ("dentro de tu función: un optimizador con los parámetros que tienen requires_grad; "
         "en cada época labkit.train_mode(modelo) (no modelo.train(), que pondría a aprender "
         "las BatchNorm congeladas) y, por cada lote, pérdida = F.cross_entropy(modelo(x[lote]), "
         "y[lote]), optimizador.zero_grad(), pérdida.backward() y optimizador.step().")


def _teacher_setup(model: object, images: object, labels: object) -> tuple[list, list, list]:
    """Comprueba lo que pone el profesor; devuelve grupos congelados, sus BatchNorm y
    entrenables."""
    from ..models._groups import layer_groups

    if not isinstance(model, nn.Module):
        raise LabkitError(f"{_TEACHER}: el modelo es {type(model).__name__}, no un nn.Module.")
    if not (isinstance(images, torch.Tensor) and images.is_floating_point()
            and images.dim() == 4 and isinstance(labels, torch.Tensor)
            and labels.dim() == 1 and len(labels) == len(images) > 1):
        raise LabkitError(f"{_TEACHER}: hacen falta imágenes normalizadas [N, 3, H, W] y tantas "
                          "etiquetas como imágenes.")
    groups = layer_groups(model)
    frozen = [g for g in groups if g.frozen]
    trainable = [p for _, p in model.named_parameters() if p.requires_grad]
    bns = [m for g in frozen for piece in g.pieces for m in piece.modules()
           if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not frozen or not trainable or not bns:
        raise LabkitError(f"{_TEACHER}: el modelo necesita grupos congelados con BatchNorm y "
                          "algún grupo entrenable (p. ej. labkit.freeze(modelo)).")
    return frozen, bns, trainable


def _loss_and_accuracy(model: nn.Module, images: torch.Tensor,
                       labels: torch.Tensor) -> tuple[float, float]:
    """Pérdida media y exactitud en modo evaluación, sin tocar nada."""
    was = model.training
    model.eval()
    with torch.no_grad():
        logits = model(images)
    model.train(was)
    loss = float(F.cross_entropy(logits, labels))
    return loss, float((logits.argmax(1) == labels).float().mean())


def _snapshot(frozen: list, bns: list) -> tuple[dict, list]:
    """Copia de los pesos de los grupos congelados y de las estadísticas de sus BatchNorm."""
    weights = {(g.name, n): (p.detach().clone(), p.requires_grad) for g in frozen
               for n, p in g.params}
    stats = [(bn.running_mean.clone(), bn.running_var.clone()) for bn in bns]
    return weights, stats


@_verdict
def check_training_loop(train_fn: object, model: nn.Module, images: torch.Tensor,
                        labels: torch.Tensor) -> CheckResult:
    """Comprueba una función ``train_fn(model, images, labels)`` que entrena la cabeza.

    Args:
        train_fn: la función del alumno (``None`` = sin responder).
        model: un modelo del catálogo con grupos congelados que tengan BatchNorm (lo pone el
            profesor; la función lo entrena en el sitio).
        images: imágenes normalizadas ``[N, 3, H, W]``.
        labels: etiquetas ``[N]``.

    Returns:
        El resultado: ✅ si la pérdida baja, lo congelado no se movió y las BatchNorm congeladas
        conservan sus estadísticas.
    """
    if _unanswered(train_fn):
        return _pending(_HINT)
    if not callable(train_fn):
        return _wrong(f"Tu respuesta debe ser una función y es {type(train_fn).__name__}.", _HINT)
    frozen, bns, trainable = _teacher_setup(model, images, labels)
    before_loss, before_acc = _loss_and_accuracy(model, images, labels)
    weights, stats = _snapshot(frozen, bns)
    start = [p.detach().clone() for p in trainable]
    try:
        train_fn(model, images, labels)
    except Exception as err:  # el código del alumno puede lanzar cualquier cosa
        return _wrong(f"Tu función lanzó un error al llamarla con (modelo, x, y): "
                      f"{type(err).__name__}: {err}", _HINT)
    return _verdict_after(model, images, labels, (frozen, bns, trainable),
                          (weights, stats, start), (before_loss, before_acc))


def _verdict_after(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                   parts: tuple, saved: tuple, before: tuple[float, float]) -> CheckResult:
    """El veredicto tras llamar a la función del alumno (ver :func:`check_training_loop`)."""
    frozen, bns, trainable = parts
    weights, stats, start = saved
    now = {(g.name, n): p for g in frozen for n, p in g.params}
    moved = sorted({key[0] for key, (w, grad) in weights.items()
                    if not torch.equal(now[key].detach(), w) or now[key].requires_grad != grad})
    if moved:
        return _wrong("Se movieron (o se descongelaron) pesos de grupos congelados: "
                      f"{', '.join(moved)}. Congelado significa que no cambia.", _HINT)
    changed_bn = sum(not (torch.equal(bn.running_mean, m) and torch.equal(bn.running_var, v))
                     for bn, (m, v) in zip(bns, stats))
    if changed_bn:
        return _wrong(f"Cambiaron las estadísticas de {changed_bn} de las {len(bns)} BatchNorm "
                      "de los grupos congelados: el modelo estaba en modo entrenamiento entero. "
                      "Usa labkit.train_mode(modelo), que deja lo congelado en evaluación.", _HINT)
    if all(torch.equal(p.detach(), s) for p, s in zip(trainable, start)):
        return _wrong("Ningún peso entrenable cambió: tu bucle no llegó a entrenar "
                      "(¿falta optimizador.step()?).", _HINT)
    loss, acc = _loss_and_accuracy(model, images, labels)
    seen = (f"la pérdida pasó de {before[0]:.3f} a {loss:.3f} y la exactitud en estas "
            f"{len(labels)} imágenes, de {pct(before[1])} a {pct(acc)}")
    if not loss < before[0]:
        return _wrong(f"Tu bucle movió los pesos, pero no aprendió: {seen}.", _HINT)
    return _ok(f"Tu bucle entrena: {seen}. Los grupos congelados no se movieron y sus "
               f"{len(bns)} BatchNorm conservan sus estadísticas.")
