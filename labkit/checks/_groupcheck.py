"""Congelar y agrupar: comprueba los grupos congelados y los grupos de parámetros del alumno.

Se usan desde :mod:`labkit.checks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..base._errors import LabkitError
from ..base._fmt import count as _count  # «1 grupo», «5 grupos»
from ..base._validate import check_int
from ._numbercheck import _schedule_mistake
from ._verdicts import (
    CheckResult,
    _as_number,
    _fmt,
    _ok,
    _pending,
    _setting,
    _unanswered,
    _verdict,
    _wrong,
)

__all__ = ["check_freeze", "check_param_groups"]


_FREEZE_HINT = ("recorre `layer_groups(model)[:depth]` y pon `p.requires_grad_(False)` en cada "
                "parámetro `p` de `grupo.params` (son pares `(nombre, p)`); los grupos siguientes "
                "deben quedar con `requires_grad=True`.")


def _layer_groups(model: object) -> list[Any]:
    """Pide los grupos de capas a ``labkit.groups``, con un mensaje claro si no está disponible."""
    try:
        from ..models._groups import layer_groups
    except ImportError as err:
        raise LabkitError(
            f"el módulo «labkit.groups» no se puede importar ({err}). Actualiza labkit o pasa los "
            "grupos con groups=..."
        ) from err
    return list(layer_groups(model))


def _frozen_counts(group: Any) -> tuple[int, int]:
    """Cuenta los tensores de parámetros congelados de un grupo.

    Args:
        group: un grupo con ``.params``, lista de ``(nombre, parámetro)``.

    Returns:
        ``(congelados, total)``.
    """
    params = [p for _, p in group.params]
    return sum(not p.requires_grad for p in params), len(params)


def _group_errors(groups: list[Any], depth: int) -> list[str]:
    """Una línea por grupo en un estado que no toca (congelado de más o de menos)."""
    errors = []
    for index, group in enumerate(groups):
        frozen, total = _frozen_counts(group)
        if index < depth and frozen < total:
            errors.append(f"«{group.name}» debería estar congelado (tiene {total - frozen} de "
                          f"{total} tensores de parámetros entrenables).")
        elif index >= depth and frozen > 0:
            errors.append(f"«{group.name}» debería ser entrenable (tiene {frozen} de {total} "
                          "tensores de parámetros congelados).")
    return errors


def _freeze_diagnosis(model: object, groups: list[Any], depth: int) -> str:
    """Resume los errores típicos al congelar antes de la lista de grupos mal congelados."""
    counts = [_frozen_counts(g) for g in groups]
    if all(frozen == 0 for frozen, _ in counts):
        return ("Todavía no hay nada congelado. Ojo: `model.requires_grad = False` solo crea un "
                "atributo nuevo y no congela nada; usa `p.requires_grad_(False)` en cada parámetro.")
    if all(frozen == total for frozen, total in counts):
        return "Has congelado todo, también la cabeza: así el modelo no aprende nada."
    leading = next((i for i, (f, t) in enumerate(counts) if t and f < t), len(counts))
    if all(f == 0 for f, _ in counts[leading:]) and leading != depth:
        return (f"Congelaste {_count(leading, 'grupo', 'grupos')} y había que congelar "
                f"{_count(depth, 'grupo', 'grupos')} (los primeros).")
    return "Algunos grupos no están como deberían."


@_verdict
def check_freeze(model: object, depth: int, groups: Sequence[Any] | None = None) -> CheckResult:
    """Comprueba que están congelados los primeros ``depth`` grupos de capas y solo ellos.

    Args:
        model: el modelo que el alumno congeló.
        depth: cuántos grupos (desde la entrada) debían quedar congelados.
        groups: los grupos de capas; por defecto, ``labkit.models.layer_groups(model)``. Cada uno
            tiene ``.name`` y ``.params`` (lista de ``(nombre, parámetro)``).

    Returns:
        El resultado de la comprobación.
    """
    if _unanswered(model):
        return _pending(_FREEZE_HINT)
    groups = list(groups) if groups is not None else _layer_groups(model)
    depth = _setting(check_int, "depth", depth, minimum=0, maximum=len(groups))
    errors = _group_errors(groups, depth)
    untouched = all(_frozen_counts(g)[0] == 0 for g in groups)
    if errors and untouched and getattr(model, "__dict__", {}).get("requires_grad") is not False:
        return _pending(_FREEZE_HINT, "todavía no hay ningún parámetro congelado.")
    if errors:
        lines = "\n".join(f"   • {e}" for e in errors)
        return _wrong(f"{_freeze_diagnosis(model, groups, depth)}\n{lines}", _FREEZE_HINT)
    frozen = ", ".join(g.name for g in groups[:depth]) or "ninguno"
    trainable = sum(p.numel() for g in groups[depth:] for _, p in g.params)
    count = f"{trainable:,}".replace(",", " ")
    return _ok(f"Congelados: {frozen}. Se entrena el resto "
               f"({_count(len(groups) - depth, 'grupo', 'grupos')}, {count} parámetros).")


_PARAM_GROUPS_HINT = ("haz una lista con un diccionario por grupo, del primero a la cabeza, como "
                      "`{\"params\": list(...), \"lr\": ...}`. La cabeza lleva `lr` y el primer "
                      "grupo `lr / ratio**2` (tres niveles); los de en medio se reparten "
                      "geométricamente: las tasas son las de `labkit.group_lrs(n, lr, ratio)`.")


def _group_problem(index: int, group: object) -> str | None:
    """Describe qué le falta a un grupo de parámetros, o ``None`` si tiene buena forma."""
    import torch

    if not isinstance(group, dict):
        return f"El grupo {index} es {type(group).__name__} y debe ser un diccionario."
    if "params" not in group or "lr" not in group:
        missing = " y ".join(f"«{k}»" for k in ("params", "lr") if k not in group)
        return f"Al grupo {index} le falta {missing}."
    params = group["params"]
    if not isinstance(params, (list, tuple, torch.Tensor)):
        return (f"«params» del grupo {index} es {type(params).__name__}: conviértelo con "
                "`list(...)` (un generador como `.parameters()` se gasta al recorrerlo una vez).")
    if isinstance(params, (list, tuple)) and not params:
        return f"El grupo {index} está vacío: su «params» no tiene parámetros."
    if _as_number(group["lr"]) is None:
        return f"La «lr» del grupo {index} debe ser un número y es {group['lr']!r}."
    return None


def _group_tensors(group: dict[str, Any]) -> list[Any]:
    """Los tensores de un grupo (``params`` puede ser un tensor suelto o una lista)."""
    params = group["params"]
    return list(params) if isinstance(params, (list, tuple)) else [params]


def _structure_problem(groups: list[Any], n_groups: int | None) -> str | None:
    """Describe el primer problema de forma de la lista de grupos, o ``None``."""
    import torch

    if not groups:
        return "La lista de grupos está vacía."
    if n_groups is not None and len(groups) != n_groups:
        return f"Hay {len(groups)} grupos y se esperaban {n_groups}."
    owner: dict[int, int] = {}
    for index, group in enumerate(groups):
        problem = _group_problem(index, group)
        if problem:
            return problem
        for tensor in _group_tensors(group):
            if not isinstance(tensor, torch.Tensor):
                return f"El grupo {index} contiene {type(tensor).__name__}, que no es un parámetro."
            if owner.setdefault(id(tensor), index) != index:
                return (f"Un mismo parámetro está en los grupos {owner[id(tensor)]} y {index}: "
                        "cada parámetro debe ir en un solo grupo.")
    return None


@_verdict
def check_param_groups(param_groups: object, lr: float, ratio: float,
                       n_groups: int | None = None,
                       model_groups: int | None = None) -> CheckResult:
    """Comprueba los grupos de parámetros con tasas discriminativas para el optimizador.

    Args:
        param_groups: lista de diccionarios ``{"params": [...], "lr": ...}`` del primer grupo a
            la cabeza (también vale un optimizador de torch: se miran sus ``param_groups``).
        lr: la tasa de la cabeza (el último grupo).
        ratio: razón entre niveles, como en :func:`labkit.training.group_lrs`.
        n_groups: cuántos grupos debe haber (``None``: no se comprueba).
        model_groups: grupos del modelo entero, si los primeros están congelados y no entran
            en la lista (``None``: los de la lista son todos).

    Returns:
        El resultado de la comprobación.
    """
    if _unanswered(param_groups):
        return _pending(_PARAM_GROUPS_HINT)
    param_groups = getattr(param_groups, "param_groups", param_groups)
    if isinstance(param_groups, dict) or not isinstance(param_groups, (list, tuple)):
        return _wrong(f"Pasaste {type(param_groups).__name__}; hace falta una lista de "
                      "diccionarios, uno por grupo.", _PARAM_GROUPS_HINT)
    groups = list(param_groups)
    problem = _structure_problem(groups, n_groups)
    lrs = [] if problem else [float(g["lr"]) for g in groups]
    problem = problem or _schedule_mistake(lrs, float(lr), float(ratio), reveal=True,
                                           total=model_groups)
    if problem:
        return _wrong(problem, _PARAM_GROUPS_HINT)
    frozen = [i for i, g in enumerate(groups) if any(not t.requires_grad for t in _group_tensors(g))]
    note = (f" Nota: los grupos {frozen} incluyen parámetros congelados; no hace falta pasarlos al "
            "optimizador.") if frozen else ""
    return _ok(f"{_count(len(groups), 'grupo', 'grupos')}, de lr={_fmt(lrs[0])} (primero) a lr={_fmt(lrs[-1])} "
               f"(cabeza), con razón {ratio:g} entre niveles.{note}")
