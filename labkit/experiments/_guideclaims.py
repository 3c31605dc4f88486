"""La guía, a la vista: sus afirmaciones, dónde las mide el curso y qué dijo tu ejecución.

El curso cita «la guía» (la guía de transfer learning de la que salió) y **comprueba** sus
afirmaciones en los cuadernos. :data:`GUIDE_CLAIMS` las enumera, cada una con la celda que la mide;
:func:`claims_table` lee esa celda en **tus** cuadernos guardados (los ``.ipynb`` de la carpeta)
y copia el veredicto que imprimió (la frase de :mod:`labkit.experiments`, un aviso de
:func:`labkit.claim`…). Un cuaderno que aún no ejecutaste (o no guardaste) sale como «aún no
ejecutado»: la tabla no entrena nada ni inventa un resultado.

Ejemplo::

    import labkit.experiments
    labkit.experiments.claims_table()      # en 00_guia, con los cuadernos al lado
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..base._errors import LabkitError

__all__ = ["GuideClaim", "GUIDE_CLAIMS", "ClaimsTable", "cell_verdict", "claims_table",
           "NOT_RUN"]

NOT_RUN = "aún no ejecutado"
_VERDICT = re.compile(r"«[^»]+» (gana a|empata con|pierde frente a) «")
_MAX_CHARS = 240


@dataclass(frozen=True)
class GuideClaim:
    """Una afirmación de la guía y la celda del curso que la mide.

    Args:
        claim: lo que dice la guía, en una frase.
        notebook: el cuaderno que la mide, sin ``.ipynb`` (``"06_tamano_de_datos"``).
        section: la sección del cuaderno donde está la celda.
        cell_id: el ``id`` de la celda que imprime el veredicto.
        after: si la celda imprime varias cosas, el veredicto es la primera línea «→» que sigue
            a una línea que contiene este texto (``None``: todas las líneas de veredicto).
        line: el veredicto es la línea que contiene este texto (si la celda no imprime «→»).
        checked: si la celda la comprueba con :func:`labkit.claim` (sin aviso = se cumple).
    """

    claim: str
    notebook: str
    section: str
    cell_id: str
    after: str | None = None
    line: str | None = None
    checked: bool = False


GUIDE_CLAIMS: tuple[GuideClaim, ...] = (
    GuideClaim("Un modelo preentrenado en ImageNet sirve de punto de partida aunque las imágenes "
               "sean otras (radiografías)", "01_que_hace",
               "5. La receta paso a paso, con las radiografías", "6c3c4932"),
    GuideClaim("El panel de ResNet-50 con cabeza de 1 salida tiene 25.6M parámetros", "02_modelos_y_capas",
               "5. El panel «Visualización de capas» de la guía", "7dd8bd6c",
               line="El total de la guía"),
    GuideClaim("La receta en seis pasos: tras entrenar la cabeza, descongelar y ajustar con tasas "
               "discriminativas mejora el modelo", "03_como_funciona",
               "¿Ayudó el ajuste fino?", "bd5b1fe0"),
    GuideClaim("Congelar todo frente a descongelar las últimas capas: descongelar ayuda",
               "04_extraccion_vs_ajuste_fino", "1. Las dos estrategias", "432db85f"),
    GuideClaim("Tasas discriminativas (1e-6 / 1e-5 / 1e-4) mejor que la misma tasa en todo",
               "05_tasas_de_aprendizaje", "4. El experimento", "16fc79c3"),
    GuideClaim("Con tasas discriminativas las primeras capas conservan lo aprendido",
               "05_tasas_de_aprendizaje", "4. El experimento", "3f433192", checked=True),
    GuideClaim("Con 100 imágenes, la transferencia da un 85 % o más", "06_tamano_de_datos",
               "5. Lo que dice la guía y lo que medimos", "0e60d4a6", after="con 100 imágenes"),
    GuideClaim("Entrenar desde cero alcanza a la transferencia hacia las 1000 imágenes",
               "06_tamano_de_datos", "5. Lo que dice la guía y lo que medimos", "0e60d4a6",
               after="desde cero alcanza"),
    GuideClaim("Error común: entrenar parte del modelo con una sola tasa alta en todo",
               "07_errores_comunes", "3. La misma tasa para todo", "bdabd593", checked=True),
    GuideClaim("Error común: sobreajuste; la parada temprana lo evita", "07_errores_comunes",
               "2. Entrenar de más y la parada temprana", "75b38c26", checked=True),
    GuideClaim("Error común: BatchNorm de las capas congeladas en modo entrenamiento",
               "07_errores_comunes", "4. La trampa de BatchNorm", "34460d97", checked=True),
)
"""Las afirmaciones de la guía que el curso mide, en el orden del curso."""


def _text(output: dict) -> str:
    """El texto de una salida de celda (``stream`` o ``text/plain``)."""
    text = output.get("text")
    if text is None:
        text = output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def _shorten(line: str) -> str:
    """Una línea de veredicto, sin la flecha ni la letra pequeña del intervalo."""
    line = line.strip().lstrip("→").strip()
    head = line.split(";")[0]
    if head.count("(") > head.count(")"):
        head += ")"
    return head if len(head) <= _MAX_CHARS else head[:_MAX_CHARS - 1] + "…"


def _verdict_lines(stdout: str, after: str | None) -> list[str]:
    """Las líneas de veredicto de la salida; con ``after``, la primera «→» tras cada aviso."""
    found, header, armed = [], "", after is None
    for raw in stdout.splitlines():
        line = raw.strip()
        if line.startswith("== "):
            header = line[3:].split(" (")[0]
        if after is not None and after.lower() in line.lower():
            armed = True
            continue
        if armed and (line.startswith("→") or (after is None and _VERDICT.search(line))):
            found.append(f"{header}: {_shorten(line)}" if header else _shorten(line))
            armed = after is None
    return found


def _error_verdict(outputs: list[dict]) -> str | None:
    """Lo que dice una celda que acabó en error (una afirmación que no se cumplió u otro)."""
    for out in outputs:
        if out.get("output_type") == "error":
            name = str(out.get("ename", "error"))
            if name == "ClaimError":
                return "✗ no se cumple: " + _shorten(str(out.get("evalue", "")))
            return f"la celda dio un error ({name}): vuelve a ejecutar el cuaderno"
    return None


def cell_verdict(cell: dict | None, claim: GuideClaim) -> str:
    """Lo que dice de la afirmación la celda guardada de un cuaderno.

    Args:
        cell: la celda del ``.ipynb`` (un diccionario) o ``None`` si no está.
        claim: la afirmación de la guía.

    Returns:
        El veredicto que la celda imprimió, resumido, o :data:`NOT_RUN` si no se ejecutó.
    """
    if cell is None:
        return "no se encontró la celda (¿cambió el cuaderno?)"
    outputs = list(cell.get("outputs") or [])
    if not outputs and cell.get("execution_count") is None:
        return NOT_RUN
    failed = _error_verdict(outputs)
    if failed:
        return failed
    stdout = "\n".join(_text(o) for o in outputs if o.get("name") != "stderr")
    stderr = "\n".join(_text(o) for o in outputs if o.get("name") == "stderr")
    if claim.line is not None:
        parts = [ln.strip()[:_MAX_CHARS] for ln in stdout.splitlines() if claim.line in ln]
    else:
        parts = _verdict_lines(stdout, claim.after)
    if "no se cumple «" in stderr:
        parts.append("⚠ la comprobación del texto avisa: no se cumple en esta ejecución")
    elif claim.checked:
        parts.append("comprobación del texto: se cumple")
    return " · ".join(parts) if parts else "ejecutado, sin veredicto impreso"


def _read_cells(path: Path) -> dict[str, dict] | str:
    """Las celdas de un cuaderno guardado por id, o el motivo por el que no se pudo leer."""
    if not path.is_file():
        return f"{NOT_RUN} (no está {path.name} en esta carpeta)"
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        return {c.get("id", ""): c for c in nb.get("cells", []) if isinstance(c, dict)}
    except (OSError, ValueError, AttributeError) as err:
        return f"no se pudo leer {path.name} ({type(err).__name__})"


@dataclass
class ClaimsTable:
    """La tabla de afirmaciones de la guía: ``rows`` con ``claim``, ``where``, ``link``,
    ``says``."""

    rows: list[dict[str, str]]
    folder: str

    def markdown(self) -> str:
        """La tabla en markdown, con un enlace a cada cuaderno."""
        lines = ["| La guía dice | Dónde se mide | Lo que dice tu ejecución |", "|---|---|---|"]
        for r in self.rows:
            cells = [r["claim"], f"[{r['where']}]({r['link']})", r["says"]]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return "\n".join(f"- {r['claim']}\n  dónde: {r['where']}\n  tu ejecución: {r['says']}"
                         for r in self.rows)

    def __repr__(self) -> str:
        return str(self)

    def summary(self) -> str:
        """Una línea: cuántas afirmaciones tienen resultado guardado y cuántas faltan."""
        c = self.counts()
        return (f"{len(self.rows)} afirmaciones de la guía: {c['con resultado']} con resultado en "
                f"tus cuadernos guardados, {c[NOT_RUN]} aún sin ejecutar.")

    def counts(self) -> dict[str, int]:
        """Cuántas afirmaciones tienen veredicto guardado y cuántas están sin ejecutar."""
        pending = sum(r["says"].startswith(NOT_RUN) for r in self.rows)
        return {"con resultado": len(self.rows) - pending, NOT_RUN: pending}


def claims_table(folder: str | Path = ".",
                 claims: tuple[GuideClaim, ...] = GUIDE_CLAIMS) -> ClaimsTable:
    """Las afirmaciones de la guía con lo que dicen tus cuadernos guardados en ``folder``.

    No ejecuta nada: lee las salidas guardadas de cada ``.ipynb``. Lo que no ejecutaste (o no
    guardaste) sale como «aún no ejecutado».

    Args:
        folder: la carpeta de los cuadernos (por defecto, la del cuaderno abierto).
        claims: las afirmaciones (por defecto, :data:`GUIDE_CLAIMS`).

    Returns:
        Una :class:`ClaimsTable` (en Jupyter se ve como tabla).

    Raises:
        LabkitError: si ``folder`` no es una carpeta.
    """
    base = Path(folder)
    if not base.is_dir():
        raise LabkitError(f"claims_table necesita la carpeta de los cuadernos; «{folder}» no "
                          "lo es.")
    read: dict[str, dict[str, dict] | str] = {}
    rows = []
    for c in claims:
        if c.notebook not in read:
            read[c.notebook] = _read_cells(base / f"{c.notebook}.ipynb")
        cells = read[c.notebook]
        says = cells if isinstance(cells, str) else cell_verdict(cells.get(c.cell_id), c)
        rows.append({"claim": c.claim, "where": f"{c.notebook[:2]} · {c.section}",
                     "link": f"{c.notebook}.ipynb", "says": says})
    return ClaimsTable(rows, str(base))
