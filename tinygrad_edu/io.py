"""Writing files safely: every file is written to a temporary file, then renamed into place.

A crash or Ctrl-C in the middle of a write leaves either the old file or the new one,
never half of one. Arrays are stored as .npz and read back with allow_pickle=False.
"""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Mapping

import numpy as np


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path, data: bytes) -> Path:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_npz(path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Save named arrays as a compressed .npz, atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return atomic_write_bytes(path, buffer.getvalue())


def load_npz(path) -> dict:
    """Load every array of an .npz (never with pickle); a damaged file is a one-line ValueError."""
    path = Path(path)
    try:
        # Open the file here: np.load leaks its own handle when the archive is damaged.
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except Exception as exc:  # damage shows up as many types: BadZipFile, zlib.error, a garbled .npy header, ...
        raise ValueError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc}); "
                         f"it may be corrupt or truncated, write it again") from None
