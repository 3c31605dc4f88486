"""La forma de labkit: subpaquetes en capas, importaciones en un solo sentido y módulos cortos.

Se lee el código con ``ast`` (sin importarlo) y se construye el grafo de importaciones entre
módulos, contando también las importaciones dentro de funciones. Además, como los cuadernos no
se ejecutan en la suite rápida, se comprueba que cada nombre ``labkit.…`` de sus celdas de
código, del README y de docs/ existe de verdad.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "labkit"
# Cada capa importa solo de las anteriores; plots y checks son hermanas (ninguna importa a la
# otra). «labkit» (el __init__ de arriba) y «labkit.__main__» están por encima de todo.
LAYERS = {"base": 0, "data": 1, "models": 2, "training": 3, "experiments": 4,
          "plots": 5, "checks": 5, "widgets": 6, "teacher": 7}
MAX_LINES = 400
# Módulos que hoy pasan de MAX_LINES, con su longitud: la prueba falla si crecen.
LONG_ALLOWANCE: dict[str, int] = {}
_DOTTED = re.compile(r"(?<![\w.])labkit(?:\.[A-Za-z_]\w*)+")
_FROM = re.compile(r"^\s*from\s+(labkit(?:\.\w+)*)\s+import\s+(\([^)]*\)|[^\n#]+)", re.M)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(name: str) -> set[str]:
    """Los módulos de labkit que importa ``name`` (rutas absolutas)."""
    package = name if _is_package(name) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "labkit")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "labkit":
                continue
            for alias in node.names:  # «from . import _x»: el submódulo, si lo es
                if f"{target}.{alias.name}" in MODULES:
                    found.add(f"{target}.{alias.name}")
                else:
                    found.add(target)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _layer(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Componentes fuertemente conexas de más de un módulo (Tarjan, iterativo)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_every_module_lives_in_a_layer():
    loose = [n for n in MODULES if n not in ("labkit", "labkit.__main__") and _layer(n) is None]
    assert loose == [], f"módulos fuera de los subpaquetes: {loose}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_imports_only_go_down_the_layers():
    upward = []
    for name, targets in GRAPH.items():
        here = _layer(name)
        if here is None:
            continue  # labkit/__init__.py y __main__.py están arriba de todo
        for target in targets:
            there = _layer(target)
            if there is None:
                upward.append(f"{name} -> {target} (el paquete de arriba)")
            elif there != here and LAYERS[there] >= LAYERS[here]:
                upward.append(f"{name} -> {target}")
    assert upward == [], "importaciones hacia arriba:\n" + "\n".join(sorted(upward))


def _private_imports(name: str, source: str) -> list[str]:
    """Los nombres ``_privados`` que ``source`` (el módulo ``name``) importa de OTRO subpaquete.

    Importar un ``_módulo`` entero (``from ..base import _cachefiles``) sí vale: es la forma de
    llegar a lo que el subpaquete publica; lo que no vale es sacar un ``_nombre`` de dentro.
    """
    package = name if name in MODULES and _is_package(name) else name.rpartition(".")[0]
    here = _layer(name)
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")
            target = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module
                                                                   else []))
        else:
            target = node.module or ""
        if target.split(".")[0] != "labkit" or _layer(target) == here:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and f"{target}.{alias.name}" not in MODULES:
                found.append(f"{name}: from {target} import {alias.name}")
    return found


def test_the_private_import_finder_finds_one():
    source = ("from ..training._extraction import _eval_mode\n"   # privado de otra capa: mal
              "from ..base import _cachefiles\n"                  # un _módulo entero: bien
              "from ._plots import _as_hwc\n"                     # de su propio subpaquete: bien
              "def f():\n    from labkit.data._imagedecode import _to_rgb\n")  # mal, aunque tarde
    assert _private_imports("labkit.plots._nuevo", source) == [
        "labkit.plots._nuevo: from labkit.training._extraction import _eval_mode",
        "labkit.plots._nuevo: from labkit.data._imagedecode import _to_rgb"]


def test_no_private_name_crosses_subpackages():
    found = [hit for name, path in MODULES.items()
             for hit in _private_imports(name, path.read_text(encoding="utf-8"))]
    assert found == [], ("nombres privados importados desde otro subpaquete (hazlos públicos y "
                         "documentados, o mueve el código):\n" + "\n".join(found))


def test_top_level_imports_the_teacher_tools_only_lazily():
    main = ast.parse(MODULES["labkit.__main__"].read_text(encoding="utf-8"))
    top = [n for n in main.body if isinstance(n, ast.ImportFrom) and n.level
           and (n.module or "").startswith("teacher")]
    assert top == []
    assert not any(t.startswith("labkit.teacher") for t in GRAPH["labkit"])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_short(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= LONG_ALLOWANCE.get(name, MAX_LINES), f"{name}: {lines} líneas"


def _notebook_code(kind: str = "code") -> dict[str, str]:
    """El código de cada celda (``kind="code"``) o el código en línea de su Markdown."""
    out = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == kind == "code":
                out[f"{path.name}[{i}]"] = cell.source
            elif cell.cell_type == kind == "markdown":
                out[f"{path.name}[{i}]"] = "\n".join(re.findall(r"`([^`\n]+)`", cell.source))
    return out


def _markdown_code() -> dict[str, str]:
    out = {}
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        blocks = re.findall(r"```[^\n]*\n(.*?)```", text, re.S)
        spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
        out[path.name] = "\n".join(blocks + spans)
    return out


def test_no_notebook_imports_the_teacher_tools():
    bad = [where for where, src in _notebook_code().items() if "labkit.teacher" in src]
    assert bad == []


def _resolve(dotted: str) -> object:
    """``labkit.a.b``: importa el paquete y sigue los atributos (y los submódulos que falten)."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        if not hasattr(obj, part):
            importlib.import_module(".".join(parts[:i + 1]))
        obj = getattr(obj, part)
    return obj


def _names_used(sources: dict[str, str]) -> dict[str, str]:
    used: dict[str, str] = {}
    for where, src in sources.items():
        for dotted in _DOTTED.findall(src):
            used.setdefault(dotted, where)
        for module, names in _FROM.findall(src):
            for name in re.findall(r"\b(\w+)\b(?:\s+as\s+\w+)?\s*(?:,|$)", names.strip("()\n ")):
                used.setdefault(f"{module}.{name}", where)
    return used


def test_the_resolver_fails_on_a_missing_name():
    with pytest.raises((AttributeError, ImportError)):
        _resolve("labkit.plots.no_such_plot")
    assert _names_used({"x": "from labkit.data import (ImageSet,\n normalize)"}) == {
        "labkit.data": "x", "labkit.data.ImageSet": "x", "labkit.data.normalize": "x"}


@pytest.mark.parametrize("source", ["notebooks", "notebook_markdown", "markdown"])
def test_every_labkit_name_in_notebooks_and_docs_exists(source):
    sources = {"notebooks": _notebook_code, "notebook_markdown": lambda: _notebook_code("markdown"),
               "markdown": _markdown_code}[source]()
    used = _names_used(sources)
    assert used, "no se encontró ningún nombre de labkit: ¿cambió el formato?"
    missing = []
    for dotted, where in sorted(used.items()):
        if dotted.split(".")[1].startswith("teacher") and source == "markdown":
            continue  # la guía docente puede nombrar las herramientas del profesorado
        try:
            _resolve(dotted)
        except (AttributeError, ImportError) as err:
            missing.append(f"{dotted} ({where}): {err}")
    assert missing == [], "nombres que ya no existen:\n" + "\n".join(missing)


def test_import_labkit_leaves_the_heavy_ui_out():
    """``import labkit`` no carga las figuras (ni matplotlib), las comprobaciones, la interfaz ni
    lo docente."""
    import subprocess
    import sys

    code = ("import sys, labkit; print(' '.join(sorted(m for m in sys.modules "
            "if m.startswith(('labkit.', 'matplotlib', 'ipywidgets')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.split()
    assert not [m for m in out if m.startswith(("matplotlib", "ipywidgets"))]
    loaded = {m.split(".")[1] for m in out}
    assert loaded.isdisjoint({"plots", "checks", "widgets", "teacher"}), sorted(loaded)
    assert "_figures" not in " ".join(out)
