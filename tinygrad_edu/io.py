"""Writing files safely, reading them without surprises.

Writes: every file is written to a temporary file, then renamed into place. A crash or
Ctrl-C in the middle of a write leaves either the old file or the new one, never half of one.

Arrays are stored as .npz (a zip of .npy files) and read back with allow_pickle=False. The
writer is deterministic: entries in a fixed order (``entry_order``) with a fixed time stamp, so
the same arrays give the same bytes however the dict was built. The reader looks before it loads: it reads
each array's .npy header (shape and dtype) and refuses, before allocating anything, an array
of Python objects (only pickle could read it) or arrays larger than the memory limit of
``tinygrad_edu.limits`` (a small compressed file can declare gigabytes of zeros).

Reads refuse anything that is not a regular file (a folder, a FIFO, a device) before opening
it: opening a FIFO waits for a writer that may never come.
"""
from __future__ import annotations

import contextlib
import errno
import io
import math
import os
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Iterable, Mapping, Optional

import numpy as np

from .limits import check_bytes

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_save_npz", "npz_bytes", "entry_order", "load_npz",
           "npz_headers", "regular_file", "describe_os_error", "FileKindError", "NPZ_DATE_TIME"]

NPZ_DATE_TIME = (1980, 1, 1, 0, 0, 0)   # the zip format's earliest time stamp: no clock in the bytes
_UNIX = 3                               # zip "made by" system; fixed, so Windows writes the same bytes
_NAME_MAX = 255                         # longest file name most file systems allow, in bytes


class FileKindError(ValueError):
    """A path that cannot be read as a file (a folder, a FIFO, a device, an unreadable name): one line, with the fix."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _short(path) -> str:
    """The path, with an over-long name cut to its first 40 characters (a message stays readable)."""
    path = Path(path)
    if len(path.name) <= 80:
        return str(path)
    return str(path.parent / (path.name[:40] + f"…({len(path.name)} characters)"))


def describe_os_error(exc: OSError, path, action: str = "write") -> str:
    """One line for a failed read or write of `path`: what went wrong and what to do.

    `action` is the verb ("write", "read", "create"). Covers a read-only or forbidden folder,
    a folder where a file should be, a name too long for the file system, and a full disk.
    """
    path = Path(path)
    code = exc.errno
    if code == errno.ENAMETOOLONG:
        longest = max((len(part.encode()) for part in path.parts), default=0)
        if longest > _NAME_MAX:
            reason = (f"a name in the path is {longest} bytes long, more than the {_NAME_MAX} most file systems "
                      f"allow; use a shorter name")
        else:
            reason = f"the path is {len(str(path).encode())} bytes long, too long for the system; use a shorter path"
        return f"cannot {action} {_short(path)}: {reason}"
    fixes = {
        errno.ENOENT: "no such file or folder; check the path (create the folder first)",
        errno.EACCES: f"permission denied; choose a place you can {action} to, or change its permissions",
        errno.EPERM: f"permission denied; choose a place you can {action} to, or change its permissions",
        errno.EROFS: "the file system is read-only; choose a folder on a writable disk",
        errno.EISDIR: "it is a folder; give a file name (inside it, e.g. " + str(path / ("graph" + path.suffix)) + ")",
        errno.ENOTDIR: "a part of the path is a file, not a folder; check the path",
        errno.ENOSPC: "the disk is full; free some space or choose another disk",
        errno.EDQUOT: "the disk quota is used up; free some space or choose another disk",
        errno.EEXIST: "it already exists; choose another name",
    }
    fix = fixes.get(code, f"{exc.strerror or exc}; check the path and the disk")
    return f"cannot {action} {_short(path)}: {fix}"


def regular_file(path) -> Path:
    """`path`, after checking without opening it that it is a regular file (a symlink to one is fine).

    A missing file is a FileNotFoundError; a folder, a FIFO, a device or a socket, and a
    name the system refuses (e.g. longer than 255 bytes), a FileKindError. Both are one line.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{_short(path)}: no such file; check the path") from None
    except OSError as exc:
        raise FileKindError(describe_os_error(exc, path, "read")) from None
    if stat.S_ISREG(mode):
        return path
    if stat.S_ISDIR(mode):
        raise FileKindError(f"{_short(path)}: is a folder, not a file; give the path of a file")
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
            else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")
    raise FileKindError(f"{_short(path)}: is {kind}, not a regular file (reading it could wait or run forever); "
                        f"save the data to a file and give that")


# ----- writing ------------------------------------------------------------------------------

def atomic_write_bytes(path, data: bytes) -> Path:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:200]}.", suffix=".tmp", dir=path.parent)
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


def entry_order(key: str) -> tuple:
    """Sort key of the archive's entries: top-level names ("format", "meta") first, then those under
    a prefix ("model/...", "optimizer/..."), each group by name."""
    return ("/" in key, key)


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The bytes of a compressed .npz holding `arrays`: entries in ``entry_order``, fixed time stamps.

    The same arrays give the same bytes, whatever order the dict was built in (and with the
    same zlib, on any machine). np.load reads it like any .npz.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key in sorted(arrays, key=entry_order):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=NPZ_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = 0o600 << 16          # rw------- inside the archive, as numpy writes
            with archive.open(info, "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asarray(arrays[key]), allow_pickle=False)
    return buffer.getvalue()


def atomic_save_npz(path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Save named arrays as a compressed .npz (see ``npz_bytes``), atomically."""
    return atomic_write_bytes(path, npz_bytes(arrays))


# ----- reading -----------------------------------------------------------------------------------

def _read_header(entry, name: str):
    """(shape, dtype) from the .npy header at the start of `entry`, or None when it is not a .npy."""
    if entry.read(6) != b"\x93NUMPY":
        return None
    version = tuple(entry.read(2))
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f"array {name!r} has .npy format version {version}, which this reader does not know")
    shape, _fortran, dtype = readers[version](entry)
    return tuple(shape), dtype


def _damaged(path, exc) -> ValueError:
    return ValueError(f"{_short(path)}: not a readable .npz file ({type(exc).__name__}: "
                      f"{str(exc).splitlines()[0] if str(exc) else ''}); it may be corrupt or truncated, write it again")


def npz_headers(path) -> dict:
    """name → (shape, dtype) for every array of an .npz, from the headers alone (no data is read).

    An entry that is not a .npy array maps to None. A damaged archive is a one-line ValueError.
    """
    path = regular_file(path)
    try:
        with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
            headers = {}
            for info in archive.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                with archive.open(info) as entry:
                    headers[name] = _read_header(entry, name)
            return headers
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise FileKindError(describe_os_error(exc, path, "read")) from None
    except Exception as exc:  # damage shows up as many types: BadZipFile, zlib.error, a garbled header, ...
        raise _damaged(path, exc) from None


def load_npz(path, keys: Optional[Iterable[str]] = None, max_bytes: Optional[int] = None) -> dict:
    """Load the arrays of an .npz (all of them, or only `keys`), never with pickle.

    Before anything is allocated, the .npy headers are read: an array of Python objects is
    refused (reading it would need pickle), and so are arrays that would take more than the
    memory limit together (``tinygrad_edu.limits``; `max_bytes` overrides it). A missing file
    is a FileNotFoundError, a damaged one a ValueError; every message is one line.
    """
    path = regular_file(path)
    headers = npz_headers(path)
    wanted = list(headers) if keys is None else [k for k in keys if k in headers]
    needed = 0
    for key in wanted:
        header = headers[key]
        if header is None:
            raise ValueError(f"{_short(path)}: entry {key!r} is not a NumPy array; save arrays only "
                             f"(numpy.savez(path, name=array, ...))")
        shape, dtype = header
        if dtype.hasobject:
            raise ValueError(f"{_short(path)}: array {key!r} holds Python objects (dtype {dtype}), which only pickle "
                             f"could read, and pickle is never used (it can run code); save plain numeric arrays, "
                             f"e.g. numpy.savez(path, {key}=np.asarray({key}, dtype=float))")
        needed += math.prod(shape) * dtype.itemsize
    check_bytes(needed, f"{_short(path)}: its arrays ({', '.join(f'{k} {headers[k][0]}' for k in wanted)})",
                "use a smaller file", max_bytes)
    try:
        # Open the file here: np.load leaks its own handle when the archive is damaged.
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as f:
            return {k: f[k] for k in wanted}
    except Exception as exc:
        raise _damaged(path, exc) from None
