"""Atomic writes and pickle-free loading."""
import gc
import os
import stat
import warnings

import numpy as np
import pytest

from tinygrad_edu.io import atomic_save_npz, atomic_write_bytes, atomic_write_text, load_npz


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o666 & ~_umask()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "model.npz"
    atomic_save_npz(target, {"w": np.arange(3.0)})

    def crash(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"half")
    np.testing.assert_array_equal(load_npz(target)["w"], np.arange(3.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_load_npz_round_trip_and_clear_errors(tmp_path):
    path = tmp_path / "a.npz"
    atomic_save_npz(path, {"x": np.eye(2), "step": np.array(3)})
    loaded = load_npz(path)
    np.testing.assert_array_equal(loaded["x"], np.eye(2)) and int(loaded["step"]) == 3
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ValueError, match="not a readable .npz file") as info:
        load_npz(path)
    assert "\n" not in str(info.value)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_npz(tmp_path / "missing.npz")


def test_objects_are_never_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable .npz file"):
        load_npz(path)


def test_a_damaged_archive_leaves_no_file_open(tmp_path):
    path = tmp_path / "half.npz"
    atomic_save_npz(path, {"x": np.arange(1000.0)})
    path.write_bytes(path.read_bytes()[:300])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(ValueError, match="not a readable .npz file"):
            load_npz(path)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
