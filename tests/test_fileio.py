"""La escritura atómica: el archivo aparece completo o no aparece."""

from __future__ import annotations

import stat

import pytest

from labkit.base import atomic_write


def test_writes_text_and_bytes_readable_by_everyone(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    with atomic_write(target, "w") as fh:
        fh.write("hola\n")
    assert target.read_text(encoding="utf-8") == "hola\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    with atomic_write(tmp_path / "b.bin") as fh:
        fh.write(b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"


def test_failure_keeps_the_previous_file_and_leaves_no_temporaries(tmp_path):
    target = tmp_path / "ckpt.pt"
    target.write_bytes(b"viejo")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write(b"a medias")
        raise RuntimeError("corte de luz")
    assert target.read_bytes() == b"viejo"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]
