"""Pruebas de la caché de imágenes en disco de image_folder (labkit.data).

Carpetas reales creadas con PIL en tmp_path; cada prueba usa su propio LABKIT_DATA.
"""

from __future__ import annotations

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
from labkit.data import _folders as folders
from labkit.data import _imagecache as imagecache
from labkit.data import _loadestimate as loadestimate
from labkit.data import clear_image_cache, folder_report, image_cache_key, image_folder
from labkit.data._imagecachestore import cache_dir

SIZE = 24
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "labkit_data"))
    return tmp_path / "labkit_data"


def make_folder(root: Path, counts: dict[str, int], ext: str = "jpg") -> Path:
    for c, (name, n) in enumerate(counts.items()):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            rng = np.random.default_rng(1000 * c + i)
            arr = rng.integers(0, 256, (30 + i % 7, 40, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / name / f"f{i:04d}.{ext}")
    return root


def quiet_load(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return image_folder(*args, **kwargs)


def manifests() -> list[Path]:
    return sorted(cache_dir().glob("*.json"))


def forbid_decoding(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("no debía decodificar: la caché estaba completa")
    monkeypatch.setattr(imagecache, "decode_files", boom)


# ---------------------------------------------------------------------------------- vistas
def test_splits_are_contiguous_views_of_one_memory_mapped_cache(tmp_path):
    root = make_folder(tmp_path / "fotos", {"a": 40, "b": 30})
    splits = quiet_load(root, image_size=SIZE, workers=2)
    parts = [splits.train, splits.val, splits.test]
    storages = {p.images.untyped_storage().data_ptr() for p in parts}
    assert len(storages) == 1  # las tres particiones comparten el mismo archivo mapeado
    row = 3 * SIZE * SIZE
    offsets = [p.images.storage_offset() for p in parts]
    assert offsets == [0, len(parts[0]) * row, (len(parts[0]) + len(parts[1])) * row]
    assert splits.train.images.untyped_storage().nbytes() == 70 * row
    assert (cache_dir() / f"{manifests()[0].stem}.u8").stat().st_size == 70 * row


def test_parallel_and_single_process_loads_are_identical(tmp_path, own_data_dir, monkeypatch):
    root = make_folder(tmp_path / "fotos", {"a": 40, "b": 35})
    (root / "b" / "rota.jpg").write_bytes(b"\xff\xd8\xff\xe0 basura")
    parallel = quiet_load(root, image_size=SIZE, workers=2)
    monkeypatch.setenv("LABKIT_DATA", str(own_data_dir.parent / "otra"))
    single = quiet_load(root, image_size=SIZE, workers=1)
    for name in ("train", "val", "test"):
        assert torch.equal(getattr(parallel, name).images, getattr(single, name).images)
        assert torch.equal(getattr(parallel, name).labels, getattr(single, name).labels)
    assert [s.path for s in folder_report(parallel).skipped] == ["b/rota.jpg"]


def test_cache_order_is_the_same_as_in_memory_file_order(tmp_path):
    """Dentro de cada partición, las imágenes siguen el orden de los archivos (como antes)."""
    root = make_folder(tmp_path / "fotos", {"a": 8, "b": 8}, ext="png")
    splits = quiet_load(root, image_size=SIZE, seed=5)
    from labkit.data._imagedecode import read_image
    files = sorted(root.rglob("*.png"))
    decoded = {bytes(read_image(f, SIZE, 10**8)[0].transpose(2, 0, 1).tobytes()): f for f in files}
    for part in (splits.train, splits.val, splits.test):
        names = [decoded[bytes(img.numpy().tobytes())] for img in part.images]
        keys = [(n.parent.name, n.name) for n in names]
        assert keys == sorted(keys)


# ---------------------------------------------------------------------------------- reutilizar
def test_second_load_reads_the_cache_with_the_same_report_and_warnings(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "fotos", {"a": 12, "b": 10})
    (root / "a" / "notas.txt").write_text("x")
    with pytest.warns(UserWarning, match="notas.txt") as first_warnings:
        first = image_folder(root, image_size=SIZE)
    forbid_decoding(monkeypatch)
    with pytest.warns(UserWarning, match="notas.txt") as second_warnings:
        second = image_folder(root, image_size=SIZE)
    assert [str(w.message) for w in first_warnings] == [str(w.message) for w in second_warnings]
    assert str(folder_report(first)) == str(folder_report(second))
    for name in ("train", "val", "test"):
        assert torch.equal(getattr(first, name).images, getattr(second, name).images)


def test_changed_folder_is_detected_and_rebuilt(tmp_path):
    root = make_folder(tmp_path / "fotos", {"a": 6, "b": 6}, ext="png")
    before = quiet_load(root, image_size=SIZE, val_fraction=0, test_fraction=0)
    target = root / "a" / "f0000.png"
    Image.new("RGB", (40, 40), (255, 0, 0)).save(target)
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 10**9))
    after = quiet_load(root, image_size=SIZE, val_fraction=0, test_fraction=0)
    assert not torch.equal(before.train.images[0], after.train.images[0])
    assert torch.all(after.train.images[0, 0] == 255) and torch.all(after.train.images[0, 1] == 0)
    (root / "b" / "f0005.png").unlink()
    assert len(quiet_load(root, image_size=SIZE, val_fraction=0, test_fraction=0).train) == 11


def test_other_image_size_or_seed_is_another_cache(tmp_path):
    root = make_folder(tmp_path / "fotos", {"a": 6, "b": 6})
    quiet_load(root, image_size=SIZE)
    assert quiet_load(root, image_size=16).train.image_size == (16, 16)
    quiet_load(root, image_size=SIZE, seed=1)
    assert len(manifests()) == 3


def test_only_the_newest_caches_of_a_folder_are_kept(tmp_path):
    root = make_folder(tmp_path / "fotos", {"a": 5, "b": 5})
    for size in (16, 17, 18, 19, 20):
        quiet_load(root, image_size=size)
    kept = [json.loads(m.read_text())["image_size"] for m in manifests()]
    assert sorted(kept) == [18, 19, 20]
    assert len(list(cache_dir().glob("*.u8"))) == 3


def test_clear_image_cache_frees_the_files(tmp_path):
    root = make_folder(tmp_path / "fotos", {"a": 5, "b": 5})
    quiet_load(root, image_size=SIZE)
    assert clear_image_cache() >= 10 * 3 * SIZE * SIZE
    assert not list(cache_dir().iterdir())


# ---------------------------------------------------------------------------------- a medias
def test_data_without_manifest_or_with_wrong_size_is_never_read(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "fotos", {"a": 6, "b": 6})
    good = quiet_load(root, image_size=SIZE).train.images.clone()  # copia: el archivo se pisa
    meta = manifests()[0]
    data = meta.with_suffix(".u8")
    meta.unlink()  # como si el kernel muriera justo antes de escribir el manifiesto
    data.write_bytes(b"\0" * data.stat().st_size)
    rebuilt = quiet_load(root, image_size=SIZE)
    assert torch.equal(rebuilt.train.images, good)
    with open(data, "r+b") as fh:  # archivo truncado con manifiesto: tampoco se lee
        fh.truncate(100)
    calls = []
    real = imagecache.decode_files
    monkeypatch.setattr(imagecache, "decode_files", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = quiet_load(root, image_size=SIZE)
    assert calls and torch.equal(again.train.images, good)


_CHILD = """
import sys, time
sys.path.insert(0, {repo!r})
from labkit.data import _imagecache as imagecache
real = imagecache.decode_into
done = [0]
def slow(task):
    out = real(task)
    done[0] += 1
    if done[0] == 15:
        open({marker!r}, "w").close()
    time.sleep(0.05)
    return out
imagecache.decode_into = slow
from labkit.data import image_folder
image_folder({root!r}, image_size={size}, workers=1)
print("terminó sin que lo mataran")
"""


def test_load_killed_half_way_is_never_read_and_the_next_load_rebuilds(tmp_path, own_data_dir):
    root = make_folder(tmp_path / "fotos", {"a": 40, "b": 40})
    marker = tmp_path / "a_medias"
    script = _CHILD.format(repo=str(REPO), marker=str(marker), root=str(root), size=SIZE)
    env = {**os.environ, "LABKIT_DATA": str(own_data_dir), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marker.exists(), child.communicate()[0].decode(errors="replace")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    leftovers = [p.name for p in cache_dir().iterdir()]
    assert leftovers and all(name.endswith(".staging") for name in leftovers), leftovers
    assert not manifests()
    splits = quiet_load(root, image_size=SIZE, workers=1)
    assert all(p.suffix in (".u8", ".json") for p in cache_dir().iterdir())  # temporal borrado
    assert len(manifests()) == 1
    reference = quiet_load(root, image_size=SIZE, workers=1, seed=0, max_pixels=10**8)
    for name in ("train", "val", "test"):
        assert torch.equal(getattr(splits, name).images, getattr(reference, name).images)


def test_orphan_files_of_live_processes_are_kept(tmp_path):
    root = make_folder(tmp_path / "fotos", {"a": 3, "b": 3})
    cache_dir().mkdir(parents=True, exist_ok=True)
    mine = cache_dir() / f".{'0' * 32}.{os.getpid()}.staging"
    mine.write_bytes(b"x")
    quiet_load(root, image_size=SIZE)
    assert mine.exists()


def test_interrupted_decoding_leaves_nothing(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "fotos", {"a": 5, "b": 5})
    calls = []

    def interrupt(task):
        calls.append(task)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return imagecache.DecodeResult(task.index, "RGB", (1, 1), None)
    monkeypatch.setattr(imagecache, "decode_into", interrupt)
    with pytest.raises(KeyboardInterrupt):
        image_folder(root, image_size=SIZE, workers=1)
    assert not list(cache_dir().iterdir())


# ---------------------------------------------------------------------------------- estimación
def test_long_load_is_announced_with_the_way_out(tmp_path, monkeypatch, capsys):
    root = make_folder(tmp_path / "fotos", {"a": 12, "b": 12})
    monkeypatch.setattr(folders, "_ESTIMATE_FROM", 1)
    monkeypatch.setattr(folders, "_SUGGESTED_TOTAL", 10)
    monkeypatch.setattr(loadestimate, "_ANNOUNCE_SECONDS", 0.0)
    quiet_load(root, image_size=SIZE)
    out = capsys.readouterr().out
    for piece in ("Voy a preparar 24 imágenes", "en disco", "max_per_class=10 (20 imágenes)",
                  "image_size=12", "La memoria no crece"):
        assert piece in out, (piece, out)
    quiet_load(root, image_size=SIZE)
    assert "Voy a preparar" not in capsys.readouterr().out  # de la caché: sin aviso


def test_small_load_is_not_announced(tmp_path, capsys):
    root = make_folder(tmp_path / "fotos", {"a": 4, "b": 4})
    quiet_load(root, image_size=SIZE)
    assert "Voy a preparar" not in capsys.readouterr().out


def test_not_enough_disk_stops_before_decoding(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "fotos", {"a": 6, "b": 6})
    monkeypatch.setattr(folders, "_ESTIMATE_FROM", 1)
    monkeypatch.setattr(loadestimate.shutil, "disk_usage",
                        lambda path: type("U", (), {"free": 1000})())
    forbid_decoding(monkeypatch)
    with pytest.raises(LabkitError, match="No hay sitio en disco.*image_size="):
        image_folder(root, image_size=SIZE)


# ---------------------------------------------------------------------------------- clave
def test_image_cache_key_only_for_intact_splits(tmp_path):
    root = make_folder(tmp_path / "fotos", {"a": 10, "b": 10})
    splits = quiet_load(root, image_size=SIZE)
    keys = [image_cache_key(p) for p in (splits.train, splits.val, splits.test)]
    assert all(keys) and len(set(keys)) == 3
    assert image_cache_key(splits.train.take(4)) is None
    assert image_cache_key(splits.train.subset(list(range(len(splits.train))))) is None
    assert image_cache_key(splits.train.images) is None
    again = quiet_load(root, image_size=SIZE)
    assert image_cache_key(again.train) == keys[0]  # estable entre cargas (y kernels)
    again.val.images[0, 0, 0, 0] += 1  # modificada en memoria: ya no es la de la caché
    assert image_cache_key(again.val) is None


def test_modifying_loaded_images_never_touches_the_cache_file(tmp_path):
    root = make_folder(tmp_path / "fotos", {"a": 5, "b": 5})
    splits = quiet_load(root, image_size=SIZE)
    data = cache_dir() / f"{manifests()[0].stem}.u8"
    before = data.read_bytes()
    splits.train.images.zero_()
    assert data.read_bytes() == before


def test_clean_folder_is_written_in_final_order_without_a_second_copy(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "fotos", {"a": 9, "b": 7})
    made = []
    real = imagecache._staging_path
    monkeypatch.setattr(imagecache, "_staging_path", lambda key, suffix: made.append(suffix)
                        or real(key, suffix))
    clean = quiet_load(root, image_size=SIZE)
    assert made == ["staging"]
    (root / "a" / "rota.jpg").write_bytes(b"\xff\xd8\xff\xe0 basura")
    made.clear()
    with_broken = quiet_load(root, image_size=SIZE)
    assert made == ["staging", "tmp"]  # una omitida: la división cambia y se reordena
    assert folder_report(with_broken).total == folder_report(clean).total
    assert torch.equal(torch.cat([clean.train.images, clean.val.images, clean.test.images]).sort(0)[0],
                       torch.cat([with_broken.train.images, with_broken.val.images,
                                  with_broken.test.images]).sort(0)[0])


def test_caches_of_deleted_folders_are_removed(tmp_path):
    import shutil
    gone = make_folder(tmp_path / "temporal", {"a": 3, "b": 3})
    quiet_load(gone, image_size=SIZE)
    shutil.rmtree(gone)
    kept = make_folder(tmp_path / "fotos", {"a": 3, "b": 3})
    quiet_load(kept, image_size=SIZE)
    roots = [json.loads(m.read_text())["root"] for m in manifests()]
    assert roots == [str(kept.resolve())]
    assert len(list(cache_dir().glob("*.u8"))) == 1


_POOL_CHILD = """
import os, sys, time
sys.path.insert(0, {repo!r})
from labkit.data import _imagecache as imagecache
real = imagecache.decode_into
def slow(task):
    if not os.path.exists({marker!r}):
        open({marker!r}, "w").close()
    time.sleep(0.05)
    return real(task)
imagecache.decode_into = slow
from labkit.data import image_folder
image_folder({root!r}, image_size={size}, workers=2)
"""


def test_workers_exit_when_the_kernel_is_killed(tmp_path, own_data_dir):
    psutil = pytest.importorskip("psutil")
    root = make_folder(tmp_path / "fotos", {"a": 60, "b": 60})
    marker = tmp_path / "trabajando"
    script = _POOL_CHILD.format(repo=str(REPO), marker=str(marker), root=str(root), size=SIZE)
    env = {**os.environ, "LABKIT_DATA": str(own_data_dir), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.monotonic() + 120
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marker.exists()
    workers = psutil.Process(child.pid).children(recursive=True)
    assert workers
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    _, alive = psutil.wait_procs(workers, timeout=15)
    for proc in alive:  # no debería quedar ninguno; si queda, no se deja colgado
        proc.kill()
    assert not alive
    assert not manifests()


def test_a_worker_that_dies_is_a_spanish_error(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "fotos", {"a": 40, "b": 40})

    def broken(*args, **kwargs):
        raise imagecache.BrokenProcessPool("roto")

    class Pool:
        def __init__(self, *args, **kwargs):
            pass

        map = broken

        def shutdown(self, **kwargs):
            pass
    monkeypatch.setattr(imagecache, "ProcessPoolExecutor", Pool)
    with pytest.raises(LabkitError, match="workers=1"):
        image_folder(root, image_size=SIZE, workers=2)
    assert not list(cache_dir().iterdir())
