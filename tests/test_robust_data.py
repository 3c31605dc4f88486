"""Datos sin sorpresas (issue 22, lado de los datos): cachés que comprueban lo que leen, carpetas
sin permiso de escritura o compartidas, solo archivos normales, enlaces entre clases, carpetas de
particiones con los nombres de los sitios de datos, nombres Latin-1 y dos mensajes.

Las carpetas son diminutas (imágenes de 16 px): cada prueba tarda poco.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from labkit.base import LabkitError
from labkit.base import _cachefiles as cachefiles
from labkit.data import _datasets as datasets
from labkit.data import _imagecache as imagecache
from labkit.data import _imagecachestore as imagecachestore
from labkit.data import _imagedecode as imagedecode
from labkit.data import clear_image_cache, folder_report, image_folder
from labkit.data._imagecachestore import cache_dir
from labkit.training import _featurestore as featurestore

SIZE = 16


def _corrupted(data: bytes, at: float, mode: str, value: int) -> bytes:
    """``data`` con un byte invertido («flip»), cortado («truncate») o cambiado por ``value``
    en la posición relativa ``at`` (0–1)."""
    raw = bytearray(data)
    pos = min(len(raw) - 1, int(at * len(raw)))
    if mode == "flip":
        raw[pos] ^= 0xFF
    elif mode == "truncate":
        raw = raw[:pos]
    else:
        raw[pos] = value
    return bytes(raw)


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "labkit_data"))
    imagecachestore.VERIFIED.clear()  # cada prueba es un kernel nuevo
    return tmp_path / "labkit_data"


def make_folder(root: Path, counts: dict, size: int = 20) -> Path:
    for c, (name, n) in enumerate(counts.items()):
        folder = root / name if isinstance(name, str) else Path(os.fsdecode(bytes(root) + b"/" + name))
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            arr = np.random.default_rng(100 * c + i).integers(0, 256, (size, size + 3, 3),
                                                              dtype=np.uint8)
            Image.fromarray(arr).save(folder / f"f{i}.png")
    return root


def load(*args, **kwargs):
    """Carga y devuelve también los avisos (texto)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = image_folder(*args, image_size=SIZE, **kwargs)
    return splits, [str(w.message) for w in caught]


def all_images(splits) -> torch.Tensor:
    return torch.cat([splits.train.images, splits.val.images, splits.test.images])


def all_labels(splits) -> torch.Tensor:
    return torch.cat([splits.train.labels, splits.val.labels, splits.test.labels])


def same(a, b) -> bool:
    return (torch.equal(all_images(a), all_images(b)) and torch.equal(all_labels(a), all_labels(b))
            and [len(a.train), len(a.val), len(a.test)] == [len(b.train), len(b.val), len(b.test)])


def only_manifest() -> Path:
    (meta,) = sorted(cache_dir().glob("*.json"))
    return meta


def rewrite_manifest(edit, keep_digest: bool = False) -> None:
    """Cambia el manifiesto; con ``keep_digest`` recalcula su resumen (un manifiesto fabricado)."""
    meta = only_manifest()
    manifest = json.loads(meta.read_text())
    edit(manifest)
    if keep_digest:
        manifest["manifest_sha256"] = imagecachestore.manifest_digest(manifest)
    meta.write_text(json.dumps(manifest))


@pytest.fixture
def photos(tmp_path):
    return make_folder(tmp_path / "fotos", {"gato": 7, "perro": 7})


# ---------------------------------------------------------------------------------- caché de imágenes
def test_inverted_pixel_bytes_are_never_served(photos):
    fresh, _ = load(photos)
    fresh_images = all_images(fresh).clone()
    data = only_manifest().with_suffix(".u8")
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2: len(raw) // 2 + 50] = bytes(255 - b for b in raw[len(raw) // 2:
                                                                      len(raw) // 2 + 50])
    data.write_bytes(bytes(raw))
    stamp = data.stat().st_mtime_ns + 10**9  # el mismo proceso: la fecha cambia con la escritura
    os.utime(data, ns=(stamp, stamp))
    again, messages = load(photos)
    assert torch.equal(all_images(again), fresh_images)
    assert any("dañada" in m and "SHA-256" in m for m in messages), messages


def test_truncated_pixel_file_is_rebuilt_with_a_warning(photos):
    fresh, _ = load(photos)
    fresh_images = all_images(fresh).clone()
    data = only_manifest().with_suffix(".u8")
    with open(data, "r+b") as fh:
        fh.truncate(data.stat().st_size - 7)
    again, messages = load(photos)
    assert torch.equal(all_images(again), fresh_images)
    assert any("truncado" in m for m in messages), messages


@pytest.mark.parametrize("edit", [
    lambda m: m["labels"].__setitem__(0, 1 - m["labels"][0]),            # una etiqueta cambiada
    lambda m: m["ranges"]["train"].__setitem__(1, m["ranges"]["train"][1] + 2),  # más train
    lambda m: m.pop("labels"),                                          # falta una clave
    lambda m: m["report"].__setitem__("skipped", [1, 2]),               # omitidos mal formados
], ids=["etiqueta", "rango", "sin_clave", "omitidos"])
def test_edited_manifest_is_detected_and_rebuilt(photos, edit):
    fresh, _ = load(photos)
    reference = (all_images(fresh).clone(), all_labels(fresh).clone())
    rewrite_manifest(edit)
    again, messages = load(photos)
    assert torch.equal(all_images(again), reference[0])
    assert torch.equal(all_labels(again), reference[1])
    assert any("dañada" in m and "manifiesto" in m for m in messages), messages


@pytest.mark.parametrize("edit", [
    lambda m: m["labels"].__setitem__(0, 7),                 # clase que no existe
    lambda m: m["ranges"]["val"].__setitem__(0, 0),          # val se solapa con train
    lambda m: m.pop("report"),
    lambda m: m["report"].__setitem__("skipped", "nada"),
    lambda m: m.__setitem__("ranges", [0, 1]),
], ids=["etiqueta_fuera", "solape", "sin_informe", "omitidos_texto", "rangos_lista"])
def test_forged_manifest_with_a_valid_digest_is_never_a_raw_error(photos, edit):
    fresh, _ = load(photos)
    reference = all_labels(fresh).clone()
    rewrite_manifest(edit, keep_digest=True)
    again, messages = load(photos)
    assert torch.equal(all_labels(again), reference)
    assert any("dañada" in m for m in messages), messages


@pytest.mark.parametrize("text", ["{no es json", "[1, 2, 3]", "", "\udcff"[:0] + "nul\x00"])
def test_unreadable_manifest_is_rebuilt(photos, text):
    fresh, _ = load(photos)
    reference = all_images(fresh).clone()
    only_manifest().write_text(text)
    again, messages = load(photos)
    assert torch.equal(all_images(again), reference)
    assert any("dañada" in m for m in messages), messages


def test_random_corruption_never_gives_other_data_without_a_warning(photos):
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    fresh, _ = load(photos)
    reference = (all_images(fresh).clone(), all_labels(fresh).clone(),
                 [len(fresh.train), len(fresh.val), len(fresh.test)])
    meta = only_manifest()
    data = meta.with_suffix(".u8")
    pristine = {meta: meta.read_bytes(), data: data.read_bytes()}
    clock = [time.time()]

    @hypothesis.settings(max_examples=40, deadline=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(which=st.sampled_from([meta, data]), at=st.floats(0, 1),
                      mode=st.sampled_from(["flip", "truncate", "byte"]),
                      value=st.integers(0, 255))
    def corrupt(which, at, mode, value):
        for path, content in pristine.items():
            path.write_bytes(content)
        raw = _corrupted(pristine[which], at, mode, value)
        which.write_bytes(raw)
        clock[0] += 1  # otra fecha: como si lo hubiera cambiado otro proceso
        for path in pristine:
            os.utime(path, (clock[0], clock[0]))
        again, messages = load(photos)
        changed = raw != pristine[which]
        good = (torch.equal(all_images(again), reference[0])
                and torch.equal(all_labels(again), reference[1])
                and [len(again.train), len(again.val), len(again.test)] == reference[2])
        assert good, "datos distintos de una decodificación nueva"
        if changed and which == data:
            assert any("dañada" in m for m in messages), messages

    corrupt()


# ---------------------------------------------------------------------------------- sin permiso
def file_in_the_way(tmp_path: Path, monkeypatch) -> Path:
    """LABKIT_DATA bajo un archivo: nada se puede crear ahí (también como root)."""
    blocker = tmp_path / "soy_un_archivo"
    blocker.write_text("x")
    monkeypatch.setenv("LABKIT_DATA", str(blocker / "datos"))
    return blocker


def test_unwritable_data_dir_loads_in_memory_with_one_warning(photos, tmp_path, monkeypatch):
    from labkit.data import _folders as folders
    reference, _ = load(photos)
    reference_images = all_images(reference).clone()
    file_in_the_way(tmp_path, monkeypatch)
    monkeypatch.setattr(folders, "_ESTIMATE_FROM", 1)  # también con la estimación previa
    splits, messages = load(photos)
    assert torch.equal(all_images(splits), reference_images)
    about = [m for m in messages if "caché de imágenes" in m]
    assert len(about) == 1, messages
    assert "LABKIT_DATA" in about[0] and "soy_un_archivo" in about[0]
    assert "Libera espacio" not in about[0]
    assert folder_report(splits).total == 14
    assert clear_image_cache() == 0  # nada que borrar, y sin error


def test_unwritable_in_a_pool_of_workers_too(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "muchas", {"a": 40, "b": 40}, size=12)
    reference, _ = load(root, workers=1)
    reference_images = all_images(reference).clone()
    file_in_the_way(tmp_path, monkeypatch)
    splits, messages = load(root, workers=2)
    assert torch.equal(all_images(splits), reference_images)
    assert sum("LABKIT_DATA" in m for m in messages) == 1


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="como root chmod no quita el permiso de escritura")
def test_read_only_data_dir_with_chmod(photos, own_data_dir):
    own_data_dir.mkdir(parents=True)
    own_data_dir.chmod(0o500)
    try:
        splits, messages = load(photos)
    finally:
        own_data_dir.chmod(0o700)
    assert folder_report(splits).total == 14
    assert sum("LABKIT_DATA" in m for m in messages) == 1


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS, errno.EPERM])
def test_cache_that_cannot_be_placed_degrades_to_memory(photos, monkeypatch, code):
    reference, _ = load(photos)
    reference_images = all_images(reference).clone()
    clear_image_cache()

    def refuse(src, dst):
        raise OSError(code, os.strerror(code), str(dst))
    monkeypatch.setattr(imagecache.os, "replace", refuse)
    splits, messages = load(photos)
    assert torch.equal(all_images(splits), reference_images)
    (message,) = [m for m in messages if "caché de imágenes" in m]
    assert "LABKIT_DATA" in message and "Libera espacio" not in message
    assert not [p for p in cache_dir().iterdir()]  # ni temporales ni manifiesto


def test_only_a_full_disk_is_called_a_full_disk(photos, monkeypatch):
    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
    monkeypatch.setattr(imagecache.os, "replace", full)
    with pytest.raises(LabkitError, match="Libera espacio en disco"):
        load(photos)


def test_clear_image_cache_that_cannot_delete_warns(photos, monkeypatch):
    load(photos)
    real = Path.unlink

    def refuse(self, missing_ok=False):
        if self.parent == cache_dir():
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, missing_ok=missing_ok)
    monkeypatch.setattr(Path, "unlink", refuse)
    with pytest.warns(UserWarning, match="LABKIT_DATA"):
        assert clear_image_cache() == 0


def test_clear_image_cache_leaves_foreign_files(photos):
    load(photos)
    mine = cache_dir() / "notas_del_alumno.txt"
    mine.write_text("no me borres")
    assert clear_image_cache() > 0
    assert [p.name for p in cache_dir().iterdir()] == [mine.name]


# ---------------------------------------------------------------------------------- compartida
def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_dead_writers_are_removed_and_live_ones_kept(photos):
    cache_dir().mkdir(parents=True, exist_ok=True)
    key, old = "0" * 32, time.time() - 2 * cachefiles.STALE_SECONDS
    dead = cache_dir() / f".{key}.{dead_pid()}-{cachefiles.HOST_TAG}.staging"
    live = cache_dir() / f".{key}.{os.getpid()}-{cachefiles.HOST_TAG}.staging"
    other_host_young = cache_dir() / f".{key}.{dead_pid()}-ffffffff.staging"
    other_host_old = cache_dir() / f".{key}.12345-eeeeeeee.tmp"
    mkstemp_old = cache_dir() / f".{key}.json.ab_cd123.tmp"
    user = cache_dir() / ".mi_archivo.txt"
    for path in (dead, live, other_host_young, other_host_old, mkstemp_old, user):
        path.write_bytes(b"x")
    for path in (other_host_old, mkstemp_old, user):
        os.utime(path, (old, old))
    load(photos)
    left = {p.name for p in cache_dir().iterdir() if p.name.startswith(".")}
    assert left == {live.name, other_host_young.name, user.name}


def test_pixels_without_manifest_are_evicted_only_when_stale(tmp_path, photos):
    cache_dir().mkdir(parents=True, exist_ok=True)
    stale, young = cache_dir() / f"{'1' * 32}.u8", cache_dir() / f"{'2' * 32}.u8"
    for path in (stale, young):
        path.write_bytes(b"\0" * 100)
    old = time.time() - 2 * cachefiles.STALE_SECONDS
    os.utime(stale, (old, old))
    load(photos)
    assert not stale.exists() and young.exists()


def test_eviction_keeps_caches_of_folders_seen_only_by_another_machine(photos):
    load(photos)
    meta = only_manifest()
    manifest = json.loads(meta.read_text())
    foreign = cache_dir() / f"{'3' * 32}.json"
    foreign.write_text(json.dumps({**manifest, "root": "/otro/contenedor/fotos",
                                   "host": "abcdef12"}))
    (cache_dir() / "basura.json").write_text("[1, 2]")  # manifiesto raro: se ignora
    clear = make_folder(photos.parent / "otra", {"x": 3, "y": 3})
    load(clear)
    assert foreign.exists()


_TWIN = """
import sys, warnings, hashlib
sys.path.insert(0, {repo!r})
from labkit.data import image_folder
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    s = image_folder({root!r}, image_size={size}, workers=1)
import torch
blob = torch.cat([s.train.images, s.val.images, s.test.images]).numpy().tobytes()
print(hashlib.sha256(blob).hexdigest(), len(caught))
"""


def test_two_kernels_loading_the_same_folder_at_once_both_succeed(photos, own_data_dir):
    repo = str(Path(__file__).resolve().parent.parent)
    script = _TWIN.format(repo=repo, root=str(photos), size=SIZE)
    env = {**os.environ, "LABKIT_DATA": str(own_data_dir), "OMP_NUM_THREADS": "1"}
    twins = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT) for _ in range(2)]
    outs = [t.communicate(timeout=300)[0].decode() for t in twins]
    assert all(t.returncode == 0 for t in twins), outs
    digests = {out.split()[-2] for out in outs}
    assert len(digests) == 1 and all(out.split()[-1] == "0" for out in outs), outs
    here, messages = load(photos)  # la caché que dejaron vale: sin avisos
    assert not messages and len(list(cache_dir().glob("*.u8"))) == 1
    blob = all_images(here).numpy().tobytes()
    assert digests == {hashlib.sha256(blob).hexdigest()}


def test_elpv_cache_leftovers_are_removed(tmp_path, monkeypatch, own_data_dir):
    fake_elpv(monkeypatch)
    cache = datasets._elpv_cache_path(16)
    cache.parent.mkdir(parents=True)
    half = cache.parent / f".{cache.name}.{dead_pid()}-{cachefiles.HOST_TAG}.tmp"
    half.write_bytes(b"\0" * 1000)
    old_style = cache.parent / f".{cache.name}.k3j_x9a2.tmp"
    old_style.write_bytes(b"\0" * 1000)
    old = time.time() - 2 * cachefiles.STALE_SECONDS
    os.utime(old_style, (old, old))
    datasets._load_elpv_images(Path("."), ["n"] * 5, 16)
    assert sorted(p.name for p in cache.parent.iterdir()) == [cache.name]


# ---------------------------------------------------------------------------------- ELPV
def fake_elpv(monkeypatch) -> list:
    """Sustituye la decodificación de los PNG (segundos) por una determinista (milisegundos)."""
    calls = []

    def decode(base, names, size):
        calls.append(size)
        return np.random.default_rng(size).integers(0, 256, (len(names), size, size),
                                                    dtype=np.uint8)
    monkeypatch.setattr(datasets, "_decode_elpv", decode)
    return calls


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "old_format"])
def test_damaged_elpv_cache_is_rebuilt_with_a_warning(monkeypatch, damage):
    calls = fake_elpv(monkeypatch)
    names = ["n"] * 6
    first = datasets._load_elpv_images(Path("."), names, 16)
    cache = datasets._elpv_cache_path(16)
    raw = bytearray(cache.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip":
        start = raw.index(bytes(first[0, 0, :8]))  # dentro de los píxeles guardados
        raw[start] ^= 0xFF
    elif damage == "garbage":
        raw = bytearray(b"PK\x03\x04" + b"\0" * 50)
    else:
        buf = io.BytesIO()
        np.savez(buf, images=first, source_md5=np.array(datasets._ELPV_LABELS_MD5))
        raw = bytearray(buf.getvalue())
    cache.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="caché de ELPV"):
        again = datasets._load_elpv_images(Path("."), names, 16)
    assert np.array_equal(again, first) and len(calls) == 2
    assert np.array_equal(datasets._load_elpv_images(Path("."), names, 16), first)
    assert len(calls) == 2  # rehecha: la tercera vez ya no decodifica


def test_elpv_with_unwritable_data_dir_returns_images_and_warns(tmp_path, monkeypatch):
    fake_elpv(monkeypatch)
    file_in_the_way(tmp_path, monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = datasets.elpv(16)
    messages = [str(w.message) for w in caught]
    assert len(splits.train) > 1000
    assert len(messages) == 1 and "LABKIT_DATA" in messages[0]
    assert "Libera espacio" not in messages[0]


def test_elpv_on_a_full_disk_says_so_and_still_returns(monkeypatch):
    fake_elpv(monkeypatch)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(np, "savez", full)
    with pytest.warns(UserWarning, match="Libera espacio"):
        images = datasets._load_elpv_images(Path("."), ["n"] * 3, 16)
    assert images.shape == (3, 16, 16)
    assert not list(datasets._elpv_cache_path(16).parent.iterdir())  # sin temporales


# ---------------------------------------------------------------------------------- características
def test_feature_cache_detects_flipped_bytes(tmp_path):
    path = tmp_path / "f.npz"
    feats = torch.arange(24, dtype=torch.float32).reshape(6, 4)
    featurestore.save_features(path, feats)
    assert torch.equal(featurestore.load_features(path, 6), feats)
    raw = bytearray(path.read_bytes())
    raw[raw.index(np.float32(5.0).tobytes())] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="dañadas"):
        assert featurestore.load_features(path, 6) is None
    path.write_bytes(bytes(raw[:40]))
    with pytest.warns(UserWarning, match="dañadas"):
        assert featurestore.load_features(path, 6) is None


@pytest.mark.parametrize("kind", ["caracteristicas", "elpv"])
def test_random_corruption_of_npz_caches_is_caught(tmp_path, monkeypatch, kind):
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    fake_elpv(monkeypatch)
    if kind == "caracteristicas":
        path = tmp_path / "f.npz"
        original = torch.randn(12, 5)
        featurestore.save_features(path, original)
        read = lambda: featurestore.load_features(path, 12)  # noqa: E731
    else:
        original = torch.from_numpy(datasets._load_elpv_images(Path("."), ["n"] * 6, 16))
        path = datasets._elpv_cache_path(16)
        read = lambda: torch.from_numpy(  # noqa: E731
            datasets._load_elpv_images(Path("."), ["n"] * 6, 16))
    pristine = path.read_bytes()

    @hypothesis.settings(max_examples=60, deadline=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(at=st.floats(0, 1), mode=st.sampled_from(["flip", "truncate", "byte"]),
                      value=st.integers(0, 255))
    def corrupt(at, mode, value):
        path.write_bytes(_corrupted(pristine, at, mode, value))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = read()
        if got is None:  # características: se vuelven a calcular, con aviso
            assert caught
        else:
            assert torch.equal(got, original) or caught
            assert torch.equal(got, original), "datos distintos de los guardados"

    corrupt()


def test_feature_cache_that_cannot_be_written_never_stops_fit(photos, tmp_path, monkeypatch):
    from labkit import create_model, freeze_to, layer_groups
    from labkit.training import fit
    file_in_the_way(tmp_path, monkeypatch)
    featurestore._WARNED.clear()
    splits, _ = load(photos)
    torch.manual_seed(0)
    model = create_model("cnn_pequena", num_classes=2, pretrained=False)
    freeze_to(model, len(layer_groups(model)) - 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(model, splits.train, splits.val, epochs=1, batch_size=4, progress=False)
    about = [str(w.message) for w in caught if "características" in str(w.message)]
    assert history.cached and len(about) == 1 and "LABKIT_DATA" in about[0]


def test_feature_path_with_data_dir_that_is_a_file(tmp_path, monkeypatch):
    blocker = tmp_path / "archivo"
    blocker.write_text("x")
    monkeypatch.setenv("LABKIT_DATA", str(blocker))
    path = featurestore.feature_path(("h",), 1, "k:0:1", torch.device("cpu"))
    featurestore._WARNED.clear()
    with pytest.warns(UserWarning, match="LABKIT_DATA"):
        featurestore.save_features(path, torch.zeros(2, 3))
    assert featurestore.load_features(path, 2) is None


# ---------------------------------------------------------------------------------- archivos raros
@pytest.fixture
def alarm():
    """Si algo se cuelga, la prueba falla en vez de esperar para siempre."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def hung(*args):
        raise AssertionError("image_folder se quedó esperando")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="sin FIFO en este sistema")
def test_fifo_with_an_image_name_is_skipped_not_waited_for(photos, alarm):
    os.mkfifo(photos / "gato" / "tuberia.jpg")
    splits, messages = load(photos)
    skipped = {s.path: s.reason for s in folder_report(splits).skipped}
    assert "gato/tuberia.jpg" in skipped and "archivo normal" in skipped["gato/tuberia.jpg"]
    assert any("gato/tuberia.jpg" in m for m in messages)
    assert folder_report(splits).total == 14


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="sin FIFO en este sistema")
def test_read_image_never_opens_a_fifo(tmp_path, alarm):
    fifo = tmp_path / "foto.png"
    os.mkfifo(fifo)
    with pytest.raises(imagedecode.Skip, match="archivo normal"):
        imagedecode.read_image(fifo, SIZE, 10**6)


def test_broken_symlink_is_reported(photos):
    (photos / "gato" / "rota.jpg").symlink_to(photos / "no_existe.jpg")
    splits, _ = load(photos)
    skipped = {s.path: s.reason for s in folder_report(splits).skipped}
    assert "enlace roto" in skipped["gato/rota.jpg"]


@pytest.mark.parametrize("target", ["perro", "."], ids=["otra_clase", "raiz"])
def test_class_folder_linked_to_another_class_or_the_root_is_skipped(photos, target):
    (photos / "zorro").symlink_to((photos / target).resolve(), target_is_directory=True)
    splits, messages = load(photos)
    report = folder_report(splits)
    assert report.classes == ["gato", "perro"] and report.total == 14
    assert any(s.path == "zorro/" and "enlace" in s.reason for s in report.skipped)
    assert any("zorro/" in m for m in messages)


def test_class_folder_linked_elsewhere_is_still_a_class(photos, tmp_path):
    other = make_folder(tmp_path / "fuera", {"zorro": 3})
    (photos / "zorro").symlink_to(other / "zorro", target_is_directory=True)
    splits, _ = load(photos)
    assert folder_report(splits).classes == ["gato", "perro", "zorro"]


# ---------------------------------------------------------------------------------- particiones
@pytest.mark.parametrize("names", [
    ("training_set", "test_set"), ("Training", "Testing"), ("train", "valid"),
    ("train", "val", "test"), ("seg_train", "seg_test"), ("Train Set", "Validation Set"),
    ("train_images", "test-images"),
])
def test_split_folders_under_the_names_of_data_set_sites(tmp_path, names):
    root = tmp_path / "descarga"
    for name in names:
        make_folder(root / name, {"gato": 4, "perro": 4})
    splits, messages = load(root)
    report = folder_report(splits)
    assert report.classes == ["gato", "perro"], report.classes
    assert all(f"{name}/" in report.layout for name in names), report.layout
    assert not any("se llaman como particiones" in m for m in messages)


@pytest.mark.parametrize("names", [("train", "gatos"), ("test", "valid"), ("Testing", "otra")])
def test_classes_named_like_splits_are_pointed_out(tmp_path, names):
    root = make_folder(tmp_path / "descarga", {n: 4 for n in names})
    splits, messages = load(root)
    assert folder_report(splits).classes == sorted(names)
    assert any("se llaman como particiones" in m for m in messages), messages
    assert any("particiones" in n for n in folder_report(splits).notes)


# ---------------------------------------------------------------------------------- nombres Latin-1
def test_latin1_folder_names_load_and_print(tmp_path):
    root = tmp_path / "zip_viejo"
    root.mkdir()
    make_folder(root, {b"caf\xe9": 4, b"ni\xf1o": 4})
    (Path(os.fsdecode(bytes(root) + b"/caf\xe9")) / "roto.jpg").write_bytes(b"no")
    splits, messages = load(root)
    report = folder_report(splits)
    assert report.classes == ["café", "niño"] and splits.train.classes == ["café", "niño"]
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    print(report, repr(report), report._repr_html_(), splits, *messages, file=out)
    out.flush()
    assert "café/roto.jpg" in str(report)
    again, _ = load(root)  # desde la caché, igual
    assert folder_report(again).classes == ["café", "niño"]


def test_latin1_names_in_errors_are_printable(tmp_path):
    root = tmp_path / "zip_viejo"
    make_folder(root, {"perro": 3})
    os.mkdir(bytes(root) + b"/vac\xedo")
    with pytest.raises(LabkitError) as err:
        load(root)
    assert "vacío" in str(err.value)
    str(err.value).encode("utf-8")


def test_damaged_surface_cache_is_regenerated_with_a_warning(monkeypatch):
    from labkit.data import _surfaces as surfaces
    monkeypatch.setattr(surfaces, "_CACHE_MIN_IMAGES", 8)
    first = surfaces.surface_images(8, image_size=16)
    (path,) = (Path(os.environ["LABKIT_DATA"]) / "cache").glob("superficies-*.pt")
    blob = torch.load(path, weights_only=True)
    blob["images"][0, 0, 0, 0] ^= 0xFF  # píxel cambiado, resumen viejo
    torch.save(blob, path)
    with pytest.warns(UserWarning, match="superficies"):
        again = surfaces.surface_images(8, image_size=16)
    assert torch.equal(again.images, first.images)


def test_surface_cache_in_an_unwritable_data_dir_warns(tmp_path, monkeypatch):
    from labkit.data import _surfaces as surfaces
    monkeypatch.setattr(surfaces, "_CACHE_MIN_IMAGES", 8)
    file_in_the_way(tmp_path, monkeypatch)
    with pytest.warns(UserWarning, match="LABKIT_DATA"):
        assert len(surfaces.surface_images(8, image_size=16)) == 8


# ---------------------------------------------------------------------------------- mensajes
def test_surface_dataset_negative_seed_is_a_spanish_error():
    from labkit.data import surface_dataset
    from labkit.data._surfaces import surface_images
    with pytest.raises(LabkitError, match="seed"):
        surface_dataset(seed=-1)
    with pytest.raises(LabkitError, match="seed"):
        surface_images(4, seed=-1)


@pytest.mark.parametrize("frozen", [False, True], ids=["entero", "prefijo_congelado"])
def test_small_cnn_on_8_px_asks_for_bigger_images(frozen):
    from labkit import create_model, freeze_to, layer_groups
    from labkit.data import ImageSet
    from labkit.training import fit
    x = torch.randint(0, 255, (8, 3, 8, 8), dtype=torch.uint8)
    data = ImageSet(x, torch.arange(8) % 2, ["a", "b"], "diminutas", {})
    model = create_model("cnn_pequena", num_classes=2, pretrained=False)
    if frozen:  # las características del prefijo se calculan aparte
        freeze_to(model, len(layer_groups(model)) - 1)
    with pytest.raises(LabkitError, match="al menos 16") as err:
        fit(model, data, data, epochs=1, progress=False)
    assert "image_size=16" in str(err.value) and "pequeñ" not in str(err.value).split("(")[-1]
