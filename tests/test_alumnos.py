"""La versión del alumno (``alumnos/``) es la que se abre: sin soluciones, al día y sin errores.

- ``alumnos/`` es exactamente lo que escribe ``make alumnos`` a partir de ``notebooks/``.
- Ningún cuaderno que abren las insignias (README y primera celda de cada cuaderno) ni ``make lab``
  tiene una solución o un «✅» guardado.
- Las pruebas de los cuadernos (nbval) ejecutan ``notebooks/``, nunca ``alumnos/``.
- Cada ejercicio de la versión del alumno, sin responder, dice «sin responder» y no lanza errores.
  No se ejecuta el curso: solo las celdas de ejercicio, con ``labkit`` importado; lo que traen de
  celdas anteriores (datos, historiales, paneles) se sustituye por un comodín (:class:`_Stub`),
  porque con la respuesta en blanco la comprobación no llega a usarlo.
"""

from __future__ import annotations

import ast
import builtins
import re
import shutil
import tomllib
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest
import torch

import labkit
import labkit.checks
from labkit.teacher import list_notebooks, read_notebook, write_notebooks, write_student_versions
from labkit.teacher._course import STUDENT_FOLDER, TEACHER_FOLDER
from labkit.teacher._exercises import CODE_PLACEHOLDER, MANIFEST_NAME

ROOT = Path(__file__).resolve().parent.parent
STUDENT = ROOT / STUDENT_FOLDER
TEACHER = ROOT / TEACHER_FOLDER
STUDENT_NOTEBOOKS = list_notebooks(STUDENT)
_BADGE_LINK = re.compile(
    r"\]\((https://(?:colab\.research\.google\.com/github/[^/]+/[^/]+/blob/[^/]+/|"
    r"mybinder\.org/v2/gh/[^?]+\?labpath=))([^)\s]+)\)")


def _read(path: Path) -> nbformat.NotebookNode:
    return read_notebook(path)


def test_student_folder_is_exactly_what_the_generator_writes(tmp_path):
    fresh = tmp_path / "alumnos"
    write_student_versions(TEACHER, fresh)
    expected = [p.name for p in list_notebooks(fresh)]
    assert [p.name for p in STUDENT_NOTEBOOKS] == expected, "alumnos/ no tiene los mismos cuadernos"
    stale = [name for name in expected
             if (STUDENT / name).read_bytes() != (fresh / name).read_bytes()]
    assert not stale, f"alumnos/ está desactualizado ({stale}): ejecuta `make alumnos`"
    assert (STUDENT / MANIFEST_NAME).read_text() == (fresh / MANIFEST_NAME).read_text()


def test_the_comparison_catches_a_stale_student_notebook(tmp_path):
    """La prueba de arriba falla si un cuaderno del profesor cambia y alumnos/ no."""
    teacher = tmp_path / "notebooks"
    shutil.copytree(TEACHER, teacher)
    first = teacher / STUDENT_NOTEBOOKS[0].name
    nb = _read(first)
    nb.cells[0].source += "\n\nUna frase nueva."
    write_notebooks({first: nb})
    fresh = tmp_path / "alumnos"
    write_student_versions(teacher, fresh)
    assert (fresh / first.name).read_bytes() != (STUDENT / first.name).read_bytes()


def _solution_lines(path: Path) -> set[str]:
    """Las líneas de las soluciones de un cuaderno del profesor que no aparecen fuera de ellas."""
    inside, outside, solution = False, set(), set()
    for cell in _read(path).cells:
        for line in cell.source.splitlines():
            if re.match(r"\s*(#|=)+\s*(BEGIN|END) SOLUTION", line):
                inside = "BEGIN" in line
            elif len(line.strip()) >= 6:
                (solution if inside else outside).add(line.strip())
    assert solution, f"{path.name} no tiene soluciones"
    return solution - outside


def _badge_targets() -> dict[str, set[str]]:
    """Cada cuaderno que abre una insignia (README y primera celda de cada cuaderno) → dónde."""
    sources = {"README.md": (ROOT / "README.md").read_text(encoding="utf-8")}
    for path in list_notebooks(TEACHER) + STUDENT_NOTEBOOKS:
        sources[str(path.relative_to(ROOT))] = _read(path).cells[0].source
    targets: dict[str, set[str]] = {}
    for where, text in sources.items():
        for line in text.splitlines():
            if "[![" not in line:  # solo insignias (imagen con enlace), no enlaces de texto
                continue
            for _, target in _BADGE_LINK.findall(line):
                targets.setdefault(unquote(target), set()).add(where)
    return targets


def test_every_badge_opens_a_student_notebook_without_solutions():
    targets = _badge_targets()
    assert "alumnos/00_guia.ipynb" in targets and len(targets) >= len(STUDENT_NOTEBOOKS)
    for target, where in targets.items():
        assert target.startswith(f"{STUDENT_FOLDER}/"), f"{sorted(where)}: la insignia abre {target}"
        path = ROOT / target
        assert path.exists(), f"{sorted(where)}: la insignia abre {target}, que no existe"
        nb = _read(path)
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text, f"{target} tiene soluciones"
        sources = {ln.strip() for c in nb.cells for ln in c.source.splitlines()}
        leaked = _solution_lines(TEACHER / path.name) & sources
        assert not leaked, f"{target} enseña líneas de las soluciones: {sorted(leaked)[:3]}"
        assert "✅" not in text, f"{target} guarda un «✅»"
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_make_lab_opens_the_student_version():
    recipe = (ROOT / "Makefile").read_text().split("\nlab:", 1)[1].split("\n\n", 1)[0]
    opened = re.search(r"jupyter lab (\S+\.ipynb)", recipe).group(1)
    assert opened == f"{STUDENT_FOLDER}/00_guia.ipynb"


def test_teachers_readme_links_the_solution_notebooks():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in list_notebooks(TEACHER):
        assert f"/blob/main/{TEACHER_FOLDER}/{path.name})" in readme, path.name


def test_nbval_runs_the_solution_notebooks_and_never_the_student_ones():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert TEACHER_FOLDER in config["testpaths"] and STUDENT_FOLDER not in config["testpaths"]
    assert STUDENT_FOLDER in config["norecursedirs"]  # ni con `pytest .`
    recipe = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "--nbval" in recipe and STUDENT_FOLDER not in recipe


# --- Los ejercicios de la versión del alumno, en blanco --------------------------------------

class _Stub(float):
    """Comodín para lo que un ejercicio toma de celdas anteriores (vale 2 como número, tiene
    cualquier atributo, se llama, se indexa y se recorre)."""

    def __new__(cls) -> _Stub:
        return super().__new__(cls, 2.0)

    def __getattr__(self, name: str) -> _Stub:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Stub()

    def __call__(self, *args: object, **kwargs: object) -> _Stub:
        return _Stub()

    def __getitem__(self, key: object) -> _Stub:
        return _Stub()

    def __len__(self) -> int:
        return 2

    def __iter__(self):
        return iter([_Stub(), _Stub()])

    def __eq__(self, other: object) -> bool:  # cualquier filtro (``r.name == "fc8"``) lo acepta
        return True

    __hash__ = float.__hash__


class _Namespace(dict):
    """Variables de la celda: lo que no definió ella ni labkit ni Python es un :class:`_Stub`."""

    def __init__(self, globals_: dict) -> None:
        super().__init__()
        self.globals_ = globals_
        self.stubbed: set[str] = set()

    def __missing__(self, name: str) -> object:
        if name in self.globals_ or hasattr(builtins, name):
            raise KeyError(name)
        self.stubbed.add(name)
        return _Stub()


def _resnet50_guide() -> object:
    model = labkit.create_model("resnet50", pretrained=False)  # como «modelo_guia» en 02
    labkit.replace_head(model, 1)
    labkit.freeze_to(model, 3)
    return model


# Lo que la comprobación valida aunque la respuesta esté en blanco (argumentos del profesor): un
# objeto real y pequeño con la forma del de la celda anterior, no un comodín.
_GIVEN = {
    "modelo_guia": _resnet50_guide,
    "historial": lambda: labkit.training.History(train_loss=[0.9, 0.5, 0.3, 0.2],
                                        val_loss=[0.8, 0.6, 0.55, 0.6], best_epoch=3),
    "filas": lambda: {nombre: [
        {"method": "extraccion", "n_train": n, "seed": s, "test_acc": acc,
         "test_correct": torch.arange(2) < round(2 * acc)}  # n_test: el comodín vale 2
        for n, acc in ((10, 0.7), (100, 0.8), (1000, 0.85)) for s in (0, 1)]
        for nombre in ("PneumoniaMNIST", "ELPV")},
}


def _exercise_cells() -> list[tuple[str, int, str]]:
    cells = []
    for path in STUDENT_NOTEBOOKS:
        for index, cell in enumerate(_read(path).cells):
            if cell.cell_type == "code" and CODE_PLACEHOLDER in cell.source:
                cells.append((path.name, index, cell.source))
    return cells


EXERCISES = _exercise_cells()


def test_the_student_version_has_every_exercise_blank():
    teacher = sum("### BEGIN SOLUTION" in c.source for p in list_notebooks(TEACHER)
                  for c in _read(p).cells if c.cell_type == "code")
    assert len(EXERCISES) == teacher >= 30


@pytest.mark.parametrize("name,index,source", EXERCISES,
                         ids=[f"{n[:2]}-celda{i}" for n, i, _ in EXERCISES])
def test_blank_exercise_says_unanswered_and_never_fails(name, index, source, monkeypatch):
    shown: list[labkit.checks.CheckResult] = []
    monkeypatch.setattr(labkit.checks._verdicts, "_display", shown.append)
    code = compile(ast.parse(source), f"{name}, celda {index}", "exec")
    globals_ = {"__builtins__": builtins, "labkit": labkit, "np": pytest.importorskip("numpy")}
    names = _Namespace(globals_)
    names.update({k: make() for k, make in _GIVEN.items() if re.search(rf"\b{k}\b", source)})
    exec(code, globals_, names)  # una excepción aquí es un ejercicio roto
    assert shown, "el ejercicio no mostró ningún veredicto"
    for result in shown:
        assert result.passed is None, result.message
        assert result.message.startswith("✏️ Ejercicio sin responder"), result.message
