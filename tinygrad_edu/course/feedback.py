"""What a failed check tells the student: the numbers, the input, the kind of mistake, the hint.

A check compares the student's answer with the reference's and raises ``CheckFailed`` when they
differ. ``expect_close`` does the comparison for arrays and names the kind of mistake when it is
a common one, so the hint can be the one meant for it:

    sign         got = −expected                     (a minus sign lost or added)
    scale        got = c·expected for one c ≠ 1       (a factor 2, ½, N, η missing or extra)
    transpose    got = expectedᵀ                      (a matrix gradient transposed)
    unbroadcast  got has the broadcast shape and sums to expected (the sum over stretched axes missing)
    shape        got has another shape
    nan          got is nan or inf where expected is finite
    zero         got is all zeros
    wrong        anything else

A shrunk failing input is often one number, and one number is a multiple of any other; so the
checks show the numbers of the shrunk input but name the kind on a fixed *probe* input, rich
enough to tell the kinds apart (``kind_of``). ``chain`` (g ignored: the local derivative alone)
is recognised there too, by calling the answer with g and with 2g.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KINDS = ("sign", "scale", "transpose", "unbroadcast", "shape", "nan", "zero", "chain", "wrong")
RTOL, ATOL = 1e-6, 1e-9


class CheckFailed(AssertionError):
    """One check failed. `kind` picks the hint; the other fields are shown to the student."""

    def __init__(self, message: str, *, kind: str = "wrong", expected=None, got=None, max_diff=None,
                 inputs: dict | None = None, diagnosis: str = "", diagnosis_of=None):
        super().__init__(message)
        self.message, self.kind = message, kind
        self._diagnosis, self._diagnosis_of = diagnosis, diagnosis_of
        self.expected, self.got, self.max_diff = expected, got, max_diff
        self.inputs = dict(inputs or {})

    @property
    def diagnosis(self) -> str:
        """The engine's diagnosis, computed when first read: hypothesis raises a CheckFailed for every
        failing example it tries while shrinking, and only the last one is shown."""
        if self._diagnosis_of is not None:
            self._diagnosis, self._diagnosis_of = self._diagnosis_of(), None
        return self._diagnosis

    def details(self) -> dict:
        """The fields as plain text and numbers (for results.json)."""
        return {"message": self.message, "kind": self.kind, "expected": _text(self.expected),
                "got": _text(self.got), "max_diff": None if self.max_diff is None else float(self.max_diff),
                "inputs": {k: _text(v) for k, v in self.inputs.items()}, "diagnosis": self.diagnosis}


@dataclass
class Comparison:
    equal: bool
    kind: str = ""
    max_diff: float | None = None
    where: tuple | None = None
    notes: list = field(default_factory=list)


def _text(value, limit: int = 400) -> str | None:
    """A short printable form of a value (arrays with 6 significant digits)."""
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiub":
        text = repr(value.item())
    elif isinstance(value, np.ndarray) and value.dtype.kind in "iub":
        text = np.array2string(value, separator=", ", threshold=20)
    elif isinstance(value, np.ndarray) or isinstance(value, (list, tuple)) and value and \
            all(isinstance(v, (int, float, np.floating)) for v in value):
        text = np.array2string(np.asarray(value, dtype=float), precision=6, separator=", ", threshold=20)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def compare(got, expected, rtol: float = RTOL, atol: float = ATOL) -> Comparison:
    """Whether `got` equals `expected` (allclose, nan = nan), and if not, what kind of mistake it looks like."""
    expected = np.asarray(expected, dtype=float)
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return Comparison(False, "wrong", notes=[f"got {type(got).__name__}, not an array of numbers"])
    if got.shape != expected.shape:
        if got.size and expected.size:
            try:
                summed = _sum_to(got, expected.shape)
            except ValueError:
                summed = None
            if summed is not None and _close(summed, expected, rtol, atol):
                return Comparison(False, "unbroadcast", notes=[f"shape {got.shape}, expected {expected.shape}"])
            if got.ndim >= 2 and got.swapaxes(-1, -2).shape == expected.shape and \
                    _close(got.swapaxes(-1, -2), expected, rtol, atol):
                return Comparison(False, "transpose", notes=[f"shape {got.shape}, expected {expected.shape}"])
        return Comparison(False, "shape", notes=[f"shape {got.shape}, expected {expected.shape}"])
    if _close(got, expected, rtol, atol):
        return Comparison(True)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(got - expected)
    finite = np.isfinite(diff)
    where = tuple(int(i) for i in np.unravel_index(np.nanargmax(np.where(finite, diff, np.inf)), diff.shape)) \
        if diff.size else None
    max_diff = float(np.max(np.where(finite, diff, np.inf))) if diff.size else 0.0
    result = Comparison(False, "wrong", max_diff, where)
    if not np.all(np.isfinite(got) | ~np.isfinite(expected)):
        result.kind = "nan"
    elif _close(got, -expected, rtol, atol):
        result.kind = "sign"
    elif not np.any(got) and np.any(expected):
        result.kind = "zero"
    elif got.ndim >= 2 and got.shape[-1] == got.shape[-2] and _close(got.swapaxes(-1, -2), expected, rtol, atol):
        result.kind = "transpose"
    else:
        ratio = _common_ratio(got, expected, rtol, atol)
        if ratio is not None:
            result.kind = "scale"
            result.notes.append(f"got is {ratio:.6g} × expected")
    return result


def kind_of(got, expected) -> str:
    """The kind of mistake `got` shows against `expected` ('' when they agree)."""
    return compare(got, expected).kind


def _sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum g down to `shape` (the reference unbroadcast); ValueError if it cannot be."""
    if len(shape) > g.ndim:
        raise ValueError
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    g = g.sum(axis=axes, keepdims=True) if axes else g
    if g.shape != shape:
        raise ValueError
    return g


def _common_ratio(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> float | None:
    """c if got = c·expected with one c ≠ 1 (judged where expected is not tiny), else None."""
    big = np.abs(expected) > 1e-6 * max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    if np.count_nonzero(big) < 2 or not np.all(np.isfinite(got)):   # one number is a multiple of any other
        return None
    c = float(np.median(got[big] / expected[big]))
    if not np.isfinite(c) or abs(c - 1) < 1e-3 or c == 0:
        return None
    return c if _close(got, c * expected, 1e-4, atol) else None


def expect_close(got, expected, *, what: str, inputs: dict | None = None, rtol: float = RTOL, atol: float = ATOL,
                 kind: str | None = None, diagnosis: str = "", diagnosis_of=None) -> None:
    """Raise CheckFailed (with the numbers, the input and the kind of mistake) unless got ≈ expected.

    `what` names the quantity ("∂L/∂a"); `inputs` are shown as they are (hypothesis shrinks them
    first); `kind` overrides the kind the comparison finds; `diagnosis_of()`, called only on a
    failure, gives the engine's diagnosis (which op, which input, what kind of error).
    """
    result = compare(got, expected, rtol, atol)
    if result.equal:
        return
    where = f" at index {result.where}" if result.where is not None and np.ndim(expected) > 0 else ""
    parts = [f"{what} is wrong"]
    if result.max_diff is not None:
        parts.append(f"largest difference {result.max_diff:.3g}{where}")
    parts.extend(result.notes)
    raise CheckFailed("; ".join(parts), kind=kind or result.kind, expected=np.asarray(expected),
                      got=got if isinstance(got, np.ndarray) else np.asarray(got) if _numeric(got) else got,
                      max_diff=result.max_diff, inputs=inputs, diagnosis=diagnosis, diagnosis_of=diagnosis_of)


def _numeric(value) -> bool:
    try:
        np.asarray(value, dtype=float)
        return True
    except (TypeError, ValueError):
        return False
