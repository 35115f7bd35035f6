"""Atomic writes and pickle-free loading."""
import errno
import gc
import io
import os
import pickle
import stat
import threading
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu.io import (NPZ_DATE_TIME, FileKindError, atomic_save_npz, atomic_write_bytes, atomic_write_text,
                             describe_os_error, load_npz, npz_bytes, npz_headers, regular_file)
from tinygrad_edu.limits import SizeLimitError


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


def test_objects_are_never_unpickled_and_the_message_says_why(tmp_path, monkeypatch):
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("pickle.loads was called"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("pickle.load was called"))
    with pytest.raises(ValueError, match=r"array 'x' holds Python objects \(dtype object\), which only pickle could "
                                         r"read, and pickle is never used .*save plain numeric arrays") as info:
        load_npz(path)
    assert "\n" not in str(info.value) and "corrupt" not in str(info.value)


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


# ----- the writer: the same arrays give the same bytes -------------------------------------------

def test_the_same_arrays_in_any_insertion_order_give_the_same_bytes(tmp_path):
    arrays = {"model/layers.0.W": np.arange(6.0).reshape(2, 3), "optimizer/step_count": np.array(3),
              "meta": np.array('{"a": 1}'), "a": np.ones(4, dtype=np.float32)}
    forward, backward = dict(arrays), dict(reversed(list(arrays.items())))
    assert list(forward) != list(backward)
    first = atomic_save_npz(tmp_path / "a.npz", forward).read_bytes()
    second = atomic_save_npz(tmp_path / "b.npz", backward).read_bytes()
    assert first == second == npz_bytes(arrays)
    with zipfile.ZipFile(tmp_path / "a.npz") as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["a.npy", "meta.npy", "model/layers.0.W.npy", "optimizer/step_count.npy"]
    assert {i.date_time for i in infos} == {NPZ_DATE_TIME} and {i.create_system for i in infos} == {3}
    loaded = np.load(tmp_path / "b.npz", allow_pickle=False)               # still an ordinary .npz
    for k, v in arrays.items():
        assert np.array_equal(loaded[k], v) and loaded[k].dtype == v.dtype


def test_saving_an_object_array_is_refused():
    with pytest.raises(ValueError, match="allow_pickle=False"):
        npz_bytes({"x": np.array([{}], dtype=object)})


# ----- the reader looks at the headers before it loads -------------------------------------------

def _npz_declaring(path, shape, dtype="<f8", data=b""):
    """An .npz whose X.npy header declares `shape` but holds only `data` (what a tampered file can do)."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("X.npy", buffer.getvalue() + data)
    return path


def test_headers_are_read_without_the_data(tmp_path):
    path = _npz_declaring(tmp_path / "big.npz", (750000, 1000))
    assert npz_headers(path) == {"X": ((750000, 1000), np.dtype("<f8"))}


def test_a_small_file_declaring_gigabytes_is_refused_before_loading(tmp_path, monkeypatch):
    path = _npz_declaring(tmp_path / "big.npz", (750000, 1000))
    assert path.stat().st_size < 1000
    monkeypatch.delenv("TINYGRAD_EDU_MAX_BYTES", raising=False)
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("np.load was called"))
    with pytest.raises(SizeLimitError) as info:
        load_npz(path)
    message = str(info.value)
    assert info.value.needed == 750000 * 1000 * 8
    assert "its arrays (X (750000, 1000)) would need 5.59 GiB, more than the memory limit of 2 GiB" in message
    assert "TINYGRAD_EDU_MAX_BYTES=6G" in message and "\n" not in message


def test_the_limit_counts_only_the_arrays_asked_for(tmp_path):
    path = tmp_path / "two.npz"
    atomic_save_npz(path, {"small": np.zeros(10), "large": np.zeros(1000)})
    assert load_npz(path, keys=["small"], max_bytes=80)["small"].shape == (10,)
    assert sorted(load_npz(path, max_bytes=8080)) == ["large", "small"]          # exactly at the limit
    with pytest.raises(SizeLimitError, match="would need 7.89 KiB"):
        load_npz(path, max_bytes=8079)


# ----- only regular files are opened -------------------------------------------------------------

def _in_thread(fn, fifo=None):
    """Run fn() in a thread; if it is still blocked after 5 s, unblock it by opening the FIFO, then fail."""
    outcome = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as exc:   # the outcome is inspected by the test
            outcome["error"] = exc
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():
        if fifo is not None:
            with open(fifo, "wb"):
                pass
        thread.join(5)
        pytest.fail("blocked on the FIFO")
    return outcome


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    outcome = _in_thread(lambda: load_npz(fifo), fifo)
    assert isinstance(outcome.get("error"), FileKindError)
    assert str(outcome["error"]) == (f"{fifo}: is a FIFO (named pipe), not a regular file (reading it could wait or "
                                     f"run forever); save the data to a file and give that")


def test_folders_devices_and_over_long_names_are_one_line_errors(tmp_path):
    with pytest.raises(FileKindError, match="is a folder, not a file"):
        regular_file(tmp_path)
    if os.path.exists("/dev/zero"):
        with pytest.raises(FileKindError, match="is a character device, not a regular file"):
            regular_file("/dev/zero")
    long_name = tmp_path / ("x" * 296 + ".npz")
    with pytest.raises(FileKindError) as info:
        load_npz(long_name)
    assert str(info.value) == (f"cannot read {tmp_path / ('x' * 40)}…(300 characters): a name in the path is 300 "
                               f"bytes long, more than the 255 most file systems allow; use a shorter name")
    assert regular_file(_npz_declaring(tmp_path / "ok.npz", (1,))) == tmp_path / "ok.npz"


@pytest.mark.parametrize("code, fix", [
    (errno.EACCES, "permission denied; choose a place you can write to, or change its permissions"),
    (errno.EROFS, "the file system is read-only; choose a folder on a writable disk"),
    (errno.ENOSPC, "the disk is full; free some space or choose another disk"),
    (errno.EISDIR, "it is a folder; give a file name (inside it, e.g. /out/g.svg/graph.svg)"),
    (errno.ENOENT, "no such file or folder; check the path (create the folder first)"),
    (errno.EIO, "Input/output error; check the path and the disk"),
])
def test_os_errors_are_described_in_one_line_with_the_fix(code, fix):
    exc = OSError(code, os.strerror(code))
    assert describe_os_error(exc, Path("/out/g.svg")) == f"cannot write /out/g.svg: {fix}"
