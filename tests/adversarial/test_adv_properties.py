"""Propiedades (Hypothesis) sobre las firmas públicas: un resultado válido o un ``LabkitError``,
nunca otra excepción, nunca un cuelgue.

Ejemplos acotados y deterministas (``derandomize``), sin plazo por ejemplo (la máquina de CI tiene
2 núcleos compartidos) pero con pocos ejemplos: todo el archivo tarda unos segundos.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit.checks as checks
from labkit.base import LabkitError, check_url, data_dir, extract_archive
from labkit.base import _validate as validate
from labkit.data import DatasetEntry, ImageSet, download_dataset, normalize, resize_images
from labkit.data._catalog import DATASETS, dataset_entry
from labkit.teacher import read_notebook, strip_solutions

BOUNDED = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
FEW = settings(BOUNDED, max_examples=20)

ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.binary(max_size=6), st.lists(st.integers(), max_size=3),
    st.tuples(st.integers(), st.integers()), st.just(Ellipsis), st.just(np.int64(3)),
    st.just(np.float32(0.5)), st.just(np.bool_(True)), st.just(torch.tensor([1.0, 2.0])),
    st.just(Path("x")), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _valid_or_labkit(call, *args, **kwargs):
    """Llama y devuelve el resultado, o ``None`` si fue un ``LabkitError`` (otra cosa falla)."""
    try:
        return call(*args, **kwargs)
    except LabkitError as err:
        assert str(err).strip(), "un LabkitError sin mensaje"
        return None


# ------------------------------------------------------------------------- validate
@BOUNDED
@given(value=ANYTHING, minimum=st.none() | st.integers(-5, 5), maximum=st.none() | st.integers(5, 50))
def test_check_int_property(value, minimum, maximum):
    out = _valid_or_labkit(validate.check_int, "x", value, minimum=minimum, maximum=maximum)
    if out is not None:
        assert type(out) is int and (minimum is None or out >= minimum)
        assert maximum is None or out <= maximum


@BOUNDED
@given(value=ANYTHING, strict=st.booleans())
def test_check_float_and_fraction_property(value, strict):
    out = _valid_or_labkit(validate.check_float, "x", value, minimum=0, strict=strict)
    if out is not None:
        assert np.isfinite(out) and out >= 0 and (out > 0 or not strict)
    frac = _valid_or_labkit(validate.check_fraction, "x", value)
    assert frac is None or 0 <= frac < 1


@BOUNDED
@given(value=ANYTHING)
def test_other_validators_property(value):
    assert _valid_or_labkit(validate.check_bool, "x", value) in (None, True, False)
    _valid_or_labkit(validate.check_str, "x", value)
    _valid_or_labkit(validate.check_path, "x", value)
    _valid_or_labkit(validate.check_seed, value)
    _valid_or_labkit(validate.check_choice, "x", value, ["a", 1, None])


# ------------------------------------------------------------------------- catálogo y red
URLISH = st.one_of(ANYTHING, st.text(alphabet="htps:/.xa\\\r\n ", max_size=20),
                   st.sampled_from(["http://", "https://x", "ftp://x/y", "file:///etc", "notaurl",
                                    "http://a b", "http://x/\r\nX: y"]))


@BOUNDED
@given(url=URLISH)
def test_check_url_property(url):
    out = _valid_or_labkit(check_url, url)
    if out is not None:
        assert out.startswith(("http://", "https://")) and "\n" not in out


PATHISH = st.text(alphabet="ab./\\:_-\x00 ", min_size=0, max_size=10)


@BOUNDED
@given(name=PATHISH, filename=PATHISH, subfolder=PATHISH, size=ANYTHING)
def test_dataset_entry_fields_property(name, filename, subfolder, size):
    entry = _valid_or_labkit(
        DatasetEntry, name=name, title="t", url="https://x/y.zip", filename=filename,
        license="l", size_bytes=size, checksum="0" * 64, archive_format="zip",
        subfolder=subfolder, application="a", description="d", checksum_source="s")
    if entry is not None:
        for part in [entry.name, entry.filename, *entry.subfolder.split("/")]:
            assert part not in ("", ".", "..") and "\\" not in part and "/" not in part
            assert not part.startswith("/") and ":" not in part and "\x00" not in part


@BOUNDED
@given(name=ANYTHING | st.text(max_size=12))
def test_dataset_lookup_and_download_never_reach_the_network(name, tmp_path_factory):
    if isinstance(name, str) and name in DATASETS:
        return
    assert _valid_or_labkit(dataset_entry, name) is None
    dest = tmp_path_factory.mktemp("dl")
    assert _valid_or_labkit(download_dataset, name, dest, progress=False) is None


# ------------------------------------------------------------------------- extracción
MEMBER_NAMES = st.lists(st.sampled_from(["a", "b", "l", "..", ".", "d"]), min_size=1,
                        max_size=4).map("/".join)
LINK_TARGETS = st.lists(st.sampled_from(["..", ".", "a", "b", "l", "d"]), min_size=1,
                        max_size=4).map("/".join)
MEMBERS = st.lists(st.tuples(MEMBER_NAMES, st.sampled_from(["file", "dir", "sym", "hard"]),
                             LINK_TARGETS), min_size=1, max_size=8)


def _tar_bytes(members) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        for name, kind, target in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = 4
                bundle.addfile(info, io.BytesIO(b"dato"))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE}[kind]
            info.linkname = target if kind != "dir" else ""
            bundle.addfile(info)
    return buffer.getvalue()


def _listing(root: Path, skip: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if skip != p and skip not in p.parents)


@settings(BOUNDED, max_examples=60)
@given(members=MEMBERS, no_filter=st.booleans())
def test_extraction_never_writes_outside(members, no_filter):
    saved = getattr(tarfile, "data_filter", None)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        target = root / "c1" / "c2" / "c3" / "c4" / "dentro"
        target.mkdir(parents=True)
        (root / "tar").write_bytes(_tar_bytes(members))
        before = _listing(root, target)
        if no_filter and saved is not None:
            del tarfile.data_filter  # como en Python 3.10.0–3.10.11 y 3.11.0–3.11.3
        try:
            _valid_or_labkit(extract_archive, root / "tar", target, "tar")
        finally:
            if saved is not None:
                tarfile.data_filter = saved
        assert _listing(root, target) == before, "se escribió fuera de la carpeta"
        real = os.path.realpath(target)
        for path in target.rglob("*"):
            if path.is_symlink():
                assert os.path.realpath(path).startswith(real)


# ------------------------------------------------------------------------- versión del alumno
SEGMENT = st.one_of(
    st.sampled_from(["x = 1", "    y = 2", "print('PUBLICO')", "", "# comentario"]),
    st.tuples(st.sampled_from(["", "    "]), st.lists(st.sampled_from(
        ["SECRETO_A = 1", "    SECRETO_B()", "SECRETO_C"]), min_size=1, max_size=3),
        st.sampled_from(["ok", "sin_end", "sin_begin", "mal_escrito", "markdown"])),
)


def _render(segments) -> str:
    lines = []
    for seg in segments:
        if isinstance(seg, str):
            lines.append(seg)
            continue
        indent, body, mode = seg
        begin = {"mal_escrito": "## BEGIN  SOLUTON", "markdown": "=== BEGIN SOLUTION"}.get(
            mode, "### BEGIN SOLUTION")
        end = "=== END SOLUTION" if mode == "markdown" else "### END SOLUTION"
        lines += ([] if mode == "sin_begin" else [indent + begin]) + body + (
            [] if mode == "sin_end" else [indent + end])
    return "\n".join(lines)


@BOUNDED
@given(cells=st.lists(st.tuples(st.sampled_from(["code", "markdown", "raw"]),
                                st.lists(SEGMENT, max_size=4), st.booleans()), max_size=4))
def test_strip_solutions_property(cells):
    nb = nbformat.v4.new_notebook()
    for kind, segments, solution_meta in cells:
        maker = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
                 "raw": nbformat.v4.new_raw_cell}[kind]
        cell = maker(_render(segments))
        if solution_meta:
            cell.metadata["nbgrader"] = {"solution": True, "nota": "SECRETO_META"}
            cell.metadata["otra"] = "SECRETO_META"
        nb.cells.append(cell)
    student = _valid_or_labkit(strip_solutions, nb, "p.ipynb")
    if student is not None:
        text = nbformat.writes(student)
        for token in ("SECRETO_A", "SECRETO_B", "SECRETO_C", "BEGIN SOL", "END SOL"):
            assert token not in text


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 5) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["cells", "metadata", "nbformat",
                                                       "nbformat_minor", "cell_type", "source",
                                                       "outputs", "x"]), inner, max_size=5),
                    max_leaves=12)


@BOUNDED
@given(doc=JSON)
def test_read_notebook_property(doc):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "n.ipynb"
        path.write_text(json.dumps(doc), encoding="utf-8")
        nb = _valid_or_labkit(read_notebook, path)
        if nb is not None:
            _valid_or_labkit(strip_solutions, nb, "n.ipynb")


# ------------------------------------------------------------------------- datos
@BOUNDED
@given(n=st.integers(0, 4), channels=st.sampled_from([1, 3]), dtype=st.sampled_from(["u8", "f"]),
       labels=st.lists(st.one_of(st.integers(-2, 4), st.floats(0, 2), st.booleans()), max_size=4),
       classes=st.lists(st.text(max_size=3), max_size=3) | ANYTHING)
def test_imageset_property(n, channels, dtype, labels, classes):
    images = torch.zeros(n, channels, 4, 4, dtype=torch.uint8 if dtype == "u8" else torch.float32)
    data = _valid_or_labkit(ImageSet, images, labels, classes)
    if data is not None:
        assert data.labels.dtype == torch.int64 and len(data) == n
        assert all(0 <= int(v) < data.num_classes for v in data.labels)


@BOUNDED
@given(size=ANYTHING | st.integers(-3, 40), mean=ANYTHING, take=ANYTHING, seed=ANYTHING)
def test_data_helpers_property(size, mean, take, seed):
    images = torch.zeros(4, 3, 6, 6, dtype=torch.uint8)
    out = _valid_or_labkit(resize_images, images, size)
    assert out is None or out.dtype == torch.uint8
    _valid_or_labkit(normalize, images, mean, (0.5, 0.5, 0.5))
    data = ImageSet(images, [0, 1, 0, 1], ["a", "b"])
    sub = _valid_or_labkit(data.take, take, seed)
    assert sub is None or len(sub) == int(take)


@FEW
@given(name=st.text(alphabet="ab._", min_size=1, max_size=6), as_file=st.booleans())
def test_data_dir_property(name, as_file):
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "sub" / name
        if as_file:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.name not in (".", ".."):
                target.write_text("x", encoding="utf-8")
        before = os.environ.get("LABKIT_DATA")
        os.environ["LABKIT_DATA"] = str(target)
        try:
            out = _valid_or_labkit(data_dir)
        finally:
            if before is None:
                os.environ.pop("LABKIT_DATA", None)
            else:
                os.environ["LABKIT_DATA"] = before
        assert out is None or out.is_dir()


# ------------------------------------------------------------------------- comprobaciones
@BOUNDED
@given(answer=ANYTHING, expected=ANYTHING, tol=ANYTHING, threshold=ANYTHING, n=ANYTHING)
def test_checks_never_raise(answer, expected, tol, threshold, n):
    results = [
        checks.check_value(answer, expected, tol),
        checks.check_accuracy_at_least(answer, threshold),
        checks.check_lr_ratio(answer, n_groups=n),
        checks.check_lr_ratio(answer, head_lr=expected, ratio=tol),
        checks.check_mode_choice(answer, n_images=n),
        checks.check_overfitting_answer(answer),
    ]
    for result in results:
        assert isinstance(result, checks.CheckResult) and result.passed in (True, False, None)


@BOUNDED
@given(answer=ANYTHING, expected=st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=3))
def test_a_bad_expected_never_blames_the_student(answer, expected):
    result = checks.check_value(answer, expected)
    if isinstance(expected, str) or not np.isfinite(expected):
        assert result.passed is None and "enunciado" in result.message


# ------------------------------------------------------------------------- módulos de otros
@settings(FEW, max_examples=12)
@given(num_classes=ANYTHING, depth=ANYTHING, head=ANYTHING)
def test_model_entry_points_property(num_classes, depth, head):
    from labkit.models import create_model, freeze_to, replace_head, split_at

    model = _valid_or_labkit(create_model, "cnn_pequena", num_classes=num_classes,
                             pretrained=False)
    model = model or create_model("cnn_pequena", num_classes=3, pretrained=False)
    _valid_or_labkit(freeze_to, model, depth)
    _valid_or_labkit(split_at, model, depth)
    _valid_or_labkit(replace_head, model, head)


# ------------------------------------------------------------------------- nada se pierde
FOLDERS = st.sampled_from(["curso", "alumnos", "curso/alumnos", "otro", "curso/."])
STEPS = st.lists(st.one_of(st.tuples(st.just("escribir"), FOLDERS, FOLDERS),
                           st.tuples(st.just("editar"), FOLDERS, st.just(""))),
                 min_size=1, max_size=5)


@FEW
@given(steps=STEPS)
def test_no_sequence_of_commands_loses_solutions_or_student_work(steps):
    from labkit.teacher import write_student_versions

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "curso").mkdir()
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            "r = None\n### BEGIN SOLUTION\nr = 'SECRETO'\n### END SOLUTION")])
        nbformat.write(nb, root / "curso" / "01.ipynb")
        teacher = (root / "curso" / "01.ipynb").read_bytes()
        edited: dict[Path, bytes] = {}
        for action, first, second in steps:
            if action == "editar":
                path = root / first / "01.ipynb"
                if path.is_file() and b"SECRETO" not in path.read_bytes():
                    path.write_text(path.read_text(encoding="utf-8").replace(
                        "TU RESPUESTA", "MI RESPUESTA"), encoding="utf-8")
                    edited[path.resolve()] = path.read_bytes()
                continue
            written = _valid_or_labkit(write_student_versions, root / first, root / second)
            for path in written or []:
                assert path.resolve() not in edited, "se pisó el trabajo de un alumno"
        assert (root / "curso" / "01.ipynb").read_bytes() == teacher
        for path, data in edited.items():
            assert path.read_bytes() == data
