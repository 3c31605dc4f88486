"""El panel de capas: por grupo, parámetros totales, entrenables y congelados."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ._groups import layer_groups

__all__ = ["GroupRow", "ModelSummary", "summary", "format_count"]


def format_count(n: int) -> str:
    """Un número de parámetros legible: ``23.51M``, ``9.2K``, ``640``."""
    if n >= 999_950:  # lo que con una cifra decimal en K ya se redondearía a 1000.0K
        return f"{n / 1e6:.2f}M"
    if n >= 1_000:
        return f"{n / 1e3:.1f}K"
    return str(n)


@dataclass(frozen=True)
class GroupRow:
    """Una fila del panel: un grupo de capas."""

    name: str
    params: int
    trainable: int

    @property
    def frozen(self) -> int:
        """Parámetros congelados del grupo."""
        return self.params - self.trainable

    @property
    def state(self) -> str:
        """``entrena``, ``congelado`` o ``mixto``."""
        if self.trainable == 0 and self.params:
            return "congelado"
        return "entrena" if self.trainable == self.params else "mixto"


@dataclass(frozen=True)
class ModelSummary:
    """El panel completo: una fila por grupo y los totales, calculados del modelo real."""

    model_name: str
    rows: tuple[GroupRow, ...]

    @property
    def total(self) -> int:
        """Parámetros en total."""
        return sum(r.params for r in self.rows)

    @property
    def trainable(self) -> int:
        """Parámetros entrenables en total."""
        return sum(r.trainable for r in self.rows)

    @property
    def frozen(self) -> int:
        """Parámetros congelados en total."""
        return self.total - self.trainable

    def __str__(self) -> str:
        lines = [f"{'grupo':<12} {'parámetros':>11} {'entrenables':>12} {'congelados':>11}  estado"]
        for r in self.rows:
            lines.append(f"{r.name:<12} {format_count(r.params):>11} {format_count(r.trainable):>12}"
                         f" {format_count(r.frozen):>11}  {r.state}")
        lines.append(f"{'TOTAL':<12} {format_count(self.total):>11} "
                     f"{format_count(self.trainable):>12} {format_count(self.frozen):>11}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colors = {"congelado": "#dbe9f6", "entrena": "#e3f4e1", "mixto": "#fff3cd"}
        body = "".join(
            f"<tr style='background:{colors[r.state]}'><td>{r.name}</td>"
            f"<td style='text-align:right'>{format_count(r.params)}</td>"
            f"<td style='text-align:right'>{format_count(r.trainable)}</td>"
            f"<td style='text-align:right'>{format_count(r.frozen)}</td><td>{r.state}</td></tr>"
            for r in self.rows)
        foot = (f"<tr style='font-weight:bold'><td>TOTAL</td>"
                f"<td style='text-align:right'>{format_count(self.total)}</td>"
                f"<td style='text-align:right'>{format_count(self.trainable)}</td>"
                f"<td style='text-align:right'>{format_count(self.frozen)}</td><td></td></tr>")
        return (f"<table class='labkit-summary'><caption>{self.model_name}</caption>"
                "<tr><th>grupo</th><th>parámetros</th><th>entrenables</th><th>congelados</th>"
                f"<th>estado</th></tr>{body}{foot}</table>")

    def __repr__(self) -> str:
        return str(self)


def summary(model: nn.Module) -> ModelSummary:
    """Calcula el panel de capas del modelo: por grupo, parámetros, entrenables y congelados.

    Args:
        model: un modelo del catálogo.

    Returns:
        Un :class:`ModelSummary` (se ve como tabla HTML en un cuaderno y como texto fuera).
    """
    info = getattr(model, "labkit_info", None)
    name = info.name if info is not None else type(model).__name__
    rows = tuple(GroupRow(g.name, g.num_params, g.num_trainable) for g in layer_groups(model))
    return ModelSummary(name, rows)
