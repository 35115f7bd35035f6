"""A memory budget: refuse, with the size it would need, anything too large to allocate.

A typo such as ``--samples 1000000000`` or ``--hidden 1000000000000``, or a small file that
declares a huge array, would otherwise make NumPy ask for tens of gigabytes: the machine
swaps or the kernel kills the program without a word. So every function that allocates by
a size it is given first works out how many bytes that takes and compares it with one limit:

    the max_bytes= argument, if given; else the environment variable TINYGRAD_EDU_MAX_BYTES
    (a number of bytes, or with a binary suffix: 512M, 8G, 1.5T); else 2 GiB.

The default is a fixed number, not a share of the memory that happens to be free, so the
same command is accepted or refused the same way on every machine.

>>> check_model_size([2, 16, 16, 2])          # 354 parameters: fine
354
>>> format_bytes(2 * 1024 ** 3)
'2 GiB'
"""
from __future__ import annotations

import math
import numbers
import os
import re
from typing import Optional, Sequence

__all__ = ["SizeLimitError", "MAX_BYTES_ENV", "DEFAULT_MAX_BYTES", "FLOAT_BYTES", "TRAINING_COPIES", "memory_limit",
           "parse_bytes", "format_bytes", "check_bytes", "parameter_count", "check_model_size"]

MAX_BYTES_ENV = "TINYGRAD_EDU_MAX_BYTES"
DEFAULT_MAX_BYTES = 2 * 1024 ** 3
FLOAT_BYTES = 8            # float64, the engine's default dtype
TRAINING_COPIES = 4        # weights, gradients and up to two optimizer states (Adam's m and v)

_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4, "P": 1024 ** 5}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGTP]?)(?:I?B)?\s*$", re.IGNORECASE)


class SizeLimitError(ValueError):
    """A request that would need more memory than the limit; the one-line message says how much and the fix.

    ``needed`` and ``limit`` hold the two numbers of bytes (None when the limit itself is malformed).
    """
    needed: Optional[int] = None
    limit: Optional[int] = None


def parse_bytes(text: str) -> int:
    """'2147483648', '512M', '8G', '1.5T' (binary: G = 1024³) → a number of bytes >= 1."""
    match = _SIZE.match(str(text))
    if match:
        value = float(match[1]) * _UNITS[match[2].upper()]
        if 1 <= value < float("inf"):
            return int(value)
    raise SizeLimitError(f"{MAX_BYTES_ENV}={text!r} is not a size; write a number of bytes, "
                         f"e.g. {MAX_BYTES_ENV}=8G, 512M or 2147483648")


def memory_limit(override: Optional[int] = None) -> int:
    """The memory limit in bytes: `override` if given, else $TINYGRAD_EDU_MAX_BYTES, else DEFAULT_MAX_BYTES (2 GiB)."""
    if override is not None:
        if isinstance(override, bool) or not isinstance(override, numbers.Integral) or override < 1:
            raise SizeLimitError(f"max_bytes={override!r} must be a whole number of bytes >= 1, e.g. 8 * 1024**3")
        return int(override)
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    return parse_bytes(text) if text else DEFAULT_MAX_BYTES


def format_bytes(n: float) -> str:
    """A number of bytes in the largest binary unit it fills, to three significant digits: '22.4 GiB'."""
    n = float(n)
    for unit in ("PiB", "TiB", "GiB", "MiB", "KiB"):
        size = _UNITS[unit[0]]
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} bytes"


def _suggested(needed: int) -> str:
    """A round value of the environment variable that would let `needed` bytes through: '30G'."""
    for unit in ("G", "T", "P"):
        amount = math.ceil(needed / _UNITS[unit])
        if amount < 1024 or unit == "P":
            return f"{amount}{unit}"
    return ""  # not reached


def check_bytes(needed: int, what: str, fix: str, max_bytes: Optional[int] = None, error=SizeLimitError,
                **error_args) -> int:
    """Raise `error` (a SizeLimitError by default) when `needed` bytes exceed the limit; else return `needed`.

    The message reads "{what} would need {needed}, more than the memory limit of {limit}; {fix},
    or raise the limit: TINYGRAD_EDU_MAX_BYTES=...". `error_args` go to the error's constructor.
    """
    limit = memory_limit(max_bytes)
    if needed > limit:
        exc = error(f"{what} would need {format_bytes(needed)}, more than the memory limit of {format_bytes(limit)}; "
                    f"{fix}, or raise the limit: {MAX_BYTES_ENV}={_suggested(needed)}", **error_args)
        exc.needed, exc.limit = int(needed), limit
        raise exc
    return int(needed)


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of an MLP with these layer sizes: Σ (n_in·n_out + n_out), in exact integers."""
    sizes = [int(n) for n in sizes]
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def check_model_size(sizes: Sequence[int], max_bytes: Optional[int] = None) -> int:
    """The parameter count of MLP(sizes), after checking that training it fits the memory limit.

    Training holds TRAINING_COPIES = 4 float64 arrays per parameter (the weights, their
    gradients and up to two optimizer states), so the check is 4 × 8 bytes × count; the
    activations come on top (they depend on the batch size). Raises SizeLimitError (a
    ValueError) before anything is allocated.
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1 for n in sizes):
        raise ValueError(f"sizes={sizes!r} must be at least two whole numbers >= 1, e.g. [2, 16, 16, 1]")
    count = parameter_count(sizes)
    check_bytes(TRAINING_COPIES * FLOAT_BYTES * count,
                f"training an MLP {'→'.join(map(str, sizes))} ({count:,} parameters, {TRAINING_COPIES} float64 "
                f"numbers each: weight, gradient, optimizer state)",
                "use smaller layers (e.g. --hidden 64,64)", max_bytes)
    return count
