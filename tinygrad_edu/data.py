"""Data sets to learn from: toy problems made from a seed, real handwritten digits, or your own file.

>>> data = get_dataset("moons", n=400, seed=0)      # split 75/25 and standardised
>>> data.X_train.shape, data.task, data.n_classes
((300, 2), 'classification', 2)
>>> for xb, yb in batches(data.X_train, data.y_train, batch_size=32, seed=0):
...     pass                                         # one epoch, in a shuffled order

Every function takes a seed (an int, or a numpy Generator) and returns the same numbers,
bit for bit, for the same seed. Features are float64 arrays of shape (n, d). Class labels
are int64 arrays of shape (n,) holding 0, 1, ..., k-1; regression targets are float64
arrays of shape (n, m).

Standardisation (subtract the mean, divide by the standard deviation, per feature) is fitted
on the training part only: the test part must stay unseen, or the test score flatters the model.
"""
from __future__ import annotations

import csv
import difflib
import hashlib
import math
import os
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from .io import load_npz, npz_headers, regular_file
from .limits import FLOAT_BYTES, SizeLimitError, check_bytes, format_bytes, memory_limit
from .tensor import _rng

__all__ = ["Dataset", "DataError", "DataSizeError", "AUTO_TASK_RULE", "MAX_AUTO_CLASSES", "WORKING_COPIES",
           "get_dataset", "dataset_names", "make_moons", "make_circles", "make_spiral",
           "make_xor", "make_blobs", "make_sine", "load_digits", "load_file", "train_test_split", "Standardizer",
           "batches", "closest_names"]


class DataError(ValueError):
    """Data that cannot be used, with a one-line message naming the problem and the fix.

    param names the argument at fault ("name", "n", "noise", "classes"), when there is one.
    """

    def __init__(self, message: str, param: Optional[str] = None):
        super().__init__(message)
        self.param = param


class DataSizeError(DataError, SizeLimitError):
    """A data set too large for the memory limit (``tinygrad_edu.limits``), refused before it is made or loaded."""


MAX_AUTO_CLASSES = 20
AUTO_TASK_RULE = (f"by default the task follows the labels: whole-number labels with at most {MAX_AUTO_CLASSES} "
                  f"distinct values make a classification problem, anything else a regression problem")
# Making or loading a data set, then splitting and standardising it, holds up to this many float64
# copies of X and y at once (the tests measure the peak with tracemalloc); the memory check counts them all.
WORKING_COPIES = 4


def _check_data_bytes(n_values: int, what: str, fix: str, max_bytes: Optional[int], param: Optional[str] = None):
    """Refuse `n_values` numbers (X and y together) when their working copies exceed the memory limit."""
    check_bytes(WORKING_COPIES * FLOAT_BYTES * n_values,
                f"{what} ({n_values:,} numbers, {format_bytes(FLOAT_BYTES * n_values)} as float64, "
                f"up to {WORKING_COPIES} copies while it is prepared)", fix, max_bytes, DataSizeError, param=param)


@dataclass
class Dataset:
    """A train/test split of one data set, ready for training.

    task is "classification" (y holds class indices 0..n_classes-1, int64, shape (n,))
    or "regression" (y holds float64 targets of shape (n, n_outputs); n_classes is 0).
    """
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    n_classes: int
    name: str = ""
    classes: Optional[np.ndarray] = None       # original label of each class index (from a file)
    scaler: Optional["Standardizer"] = field(default=None, repr=False)

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        """Width of the model's last layer for one output per class (or per target)."""
        return self.n_classes if self.task == "classification" else self.y_train.shape[1]

    def describe(self) -> str:
        if self.task == "classification":
            kind = f"{self.n_classes} classes"
        else:
            kind = f"regression, {self.n_outputs} target{'s' if self.n_outputs > 1 else ''}"
        features = f"{self.n_features} feature{'s' if self.n_features > 1 else ''}"
        return f"{self.name or 'data'}: {len(self.X_train)} train + {len(self.X_test)} test samples, {features}, {kind}"


def _check_n(n: int, name: str, columns: int, max_bytes: Optional[int] = None, minimum: int = 4) -> None:
    """n must be a whole number >= minimum, and n samples of `columns` numbers (features + label) must fit in memory."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise DataError(f"{name}: n={n!r} samples is too few; use an integer n >= {minimum}", "n")
    _check_data_bytes(int(n) * columns, f"{name} with n={n} samples", "use a smaller n (--samples)", max_bytes, "n")


def _check_noise(noise: float, name: str) -> None:
    if not (isinstance(noise, (int, float, np.floating)) and math.isfinite(noise) and noise >= 0):
        raise DataError(f"{name}: noise={noise!r} must be a finite number >= 0 (the standard deviation of the noise)",
                        "noise")


def _check_classes(k: int, name: str) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise DataError(f"{name}: classes={k!r} must be an integer >= 2", "classes")


# ----- synthetic data sets ---------------------------------------------------------
# 2-D classification problems: noise is the standard deviation of Gaussian noise added
# to each coordinate. Each returns X (n, 2) float64 and y (n,) int64. An n whose arrays
# would not fit the memory limit (max_bytes, see tinygrad_edu.limits) is refused first.

def make_moons(n: int = 500, noise: float = 0.1, seed=0, max_bytes: Optional[int] = None):
    """Two interleaved half circles: an upper moon (class 0) and a lower one (class 1).

    Not linearly separable: a linear model gets about 85%, a small MLP 100% at low noise.
    """
    _check_n(n, "moons", 3, max_bytes)
    _check_noise(noise, "moons")
    rng = _rng(seed)
    y = np.arange(n) % 2
    t = rng.uniform(0.0, np.pi, n)
    X = np.where(y[:, None] == 0,
                 np.stack([np.cos(t), np.sin(t)], axis=1),              # upper: centred at (0, 0)
                 np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1))  # lower: centred at (1, 0.5)
    X += noise * rng.standard_normal((n, 2))
    return X, y.astype(np.int64)


def make_circles(n: int = 500, noise: float = 0.05, seed=0, factor: float = 0.5, max_bytes: Optional[int] = None):
    """A small circle (class 1, radius `factor`) inside a large one (class 0, radius 1)."""
    _check_n(n, "circles", 3, max_bytes)
    _check_noise(noise, "circles")
    if not 0 < factor < 1:
        raise DataError(f"circles: factor={factor!r} is the inner radius; use 0 < factor < 1")
    rng = _rng(seed)
    y = np.arange(n) % 2
    t = rng.uniform(0.0, 2 * np.pi, n)
    r = np.where(y == 0, 1.0, factor)
    X = r[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)
    X += noise * rng.standard_normal((n, 2))
    return X, y.astype(np.int64)


def make_spiral(n: int = 600, noise: float = 0.05, seed=0, classes: int = 3, max_bytes: Optional[int] = None):
    """`classes` spiral arms wound around the origin, one class per arm (as in CS231n).

    Arm j at radius r in (0, 1] has angle 2πj/k + 4r: each arm turns through 4 radians.
    """
    _check_n(n, "spiral", 3, max_bytes)
    _check_noise(noise, "spiral")
    _check_classes(classes, "spiral")
    rng = _rng(seed)
    y = np.arange(n) % classes
    r = rng.uniform(0.05, 1.0, n)
    angle = 2 * np.pi * y / classes + 4.0 * r
    X = r[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    X += noise * rng.standard_normal((n, 2))
    return X, y.astype(np.int64)


def make_xor(n: int = 500, noise: float = 0.05, seed=0, max_bytes: Optional[int] = None):
    """Points in the square [-1, 1]²; class 1 where x₁ and x₂ have opposite signs (the XOR of the signs).

    The classic problem a single linear layer cannot solve.
    """
    _check_n(n, "xor", 3, max_bytes)
    _check_noise(noise, "xor")
    rng = _rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    X += noise * rng.standard_normal((n, 2))
    return X, y


def make_blobs(n: int = 500, noise: float = 0.6, seed=0, classes: int = 3, max_bytes: Optional[int] = None):
    """`classes` Gaussian clusters of standard deviation `noise`, centred evenly on a circle of radius 2.5."""
    _check_n(n, "blobs", 3, max_bytes)
    _check_noise(noise, "blobs")
    _check_classes(classes, "blobs")
    rng = _rng(seed)
    y = np.arange(n) % classes
    angle = 2 * np.pi * y / classes
    X = 2.5 * np.stack([np.cos(angle), np.sin(angle)], axis=1) + noise * rng.standard_normal((n, 2))
    return X, y.astype(np.int64)


def make_sine(n: int = 400, noise: float = 0.1, seed=0, max_bytes: Optional[int] = None):
    """Regression: x uniform in [-π, π], target sin(x) + Gaussian noise. Returns X (n, 1), y (n, 1)."""
    _check_n(n, "sine", 2, max_bytes)
    _check_noise(noise, "sine")
    rng = _rng(seed)
    X = rng.uniform(-np.pi, np.pi, (n, 1))
    y = np.sin(X) + noise * rng.standard_normal((n, 1))
    return X, y


# ----- real data ---------------------------------------------------------------------

_DIGITS_PATH = Path(__file__).with_name("datasets") / "digits.npz"
DIGITS_SHA256 = "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"  # of X.tobytes() + y.tobytes()


def load_digits():
    """The 8×8 handwritten digits (UCI, Alpaydin & Kaynak 1998; CC BY 4.0): 1,797 images, 10 classes.

    Returns X (1797, 64) float64, pixel counts 0..16 row by row, and y (1797,) int64 digits 0..9.
    See tinygrad_edu/datasets/README.md for the origin and licence.
    """
    arrays = load_npz(_DIGITS_PATH)
    return arrays["X"].astype(np.float64), arrays["y"].astype(np.int64)


# ----- your own file -------------------------------------------------------------------

def load_file(path, task: Optional[str] = None, max_bytes: Optional[int] = None):
    """Load X, y from a .csv or .npz file; returns (X, y, task).

    .csv: numeric columns separated by commas, the last one the label (or target); an
          optional header row is recognised by its non-numeric fields; a UTF-8 byte-order
          mark (as Excel writes) is skipped.
    .npz: arrays named X (n, d) and y (n,) or (n, m); arrays of Python objects are refused
          (they could only be read with pickle).
    task: "classification", "regression", or None for auto: AUTO_TASK_RULE, i.e. whole-number
          labels with at most 20 distinct values make a classification problem, anything else
          regression.
    Only a regular file is opened (not a folder, a FIFO or a device). Before loading, the
    size is checked against the memory limit (`max_bytes`, see ``tinygrad_edu.limits``):
    an .npz by the shapes its headers declare, a CSV by its file size and then line by line.
    Any problem raises DataError naming the file (and line), e.g. a ragged row, text or NaN.
    """
    path = Path(path)
    if task not in (None, "classification", "regression"):
        raise DataError(f"task={task!r}: use 'classification', 'regression' or None (decide from the labels)")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise DataError(f"{path}: unsupported file type '{path.suffix}'; give a .csv file (numeric columns, "
                        f"last = label) or an .npz file with arrays X and y")
    try:
        regular_file(path)
    except (OSError, ValueError) as exc:
        raise DataError(str(exc)) from None
    X, y = _load_csv(path, max_bytes) if suffix == ".csv" else _load_npz(path, max_bytes)
    if task is None:
        task = _guess_task(y)
    if task == "classification":
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or not np.all(y == np.round(y)):
            raise DataError(f"{path}: classification labels must be one integer per row; got non-integer values "
                            f"(for a numeric target use regression: task='regression')")
    else:
        y = y.reshape(len(y), -1).astype(np.float64)
    return X, y, task


def _guess_task(y: np.ndarray) -> str:
    """AUTO_TASK_RULE: whole-number labels with at most MAX_AUTO_CLASSES distinct values → classification."""
    if y.ndim == 1 or y.shape[1] == 1:
        values = np.unique(y)
        if np.all(values == np.round(values)) and len(values) <= MAX_AUTO_CLASSES:
            return "classification"
    return "regression"


# A number as Python or NumPy writes it (repr, or savetxt's "%.18e") takes at most 26 characters
# and a separator, and loading holds WORKING_COPIES float64 copies of it: 32 bytes, more than its
# text. So a file larger than the memory limit cannot fit, and is refused before it is read.
_CSV_BYTES_PER_NUMBER = WORKING_COPIES * FLOAT_BYTES


def _load_csv(path: Path, max_bytes: Optional[int] = None):
    limit = memory_limit(max_bytes)
    size = os.stat(path).st_size
    check_bytes(size, f"{path}: loading this CSV file (at least its own size: {_CSV_BYTES_PER_NUMBER} bytes per "
                      f"number while it is prepared)", "use a smaller file", limit, DataSizeError)
    most_numbers = limit // _CSV_BYTES_PER_NUMBER
    values = array("d")          # 8 bytes per number, filled row by row: never a list of strings
    first_line, width, n_rows, header_checked = None, 0, 0, False
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            for line, row in enumerate(csv.reader(f), start=1):
                fields = [c.strip() for c in row]
                if not any(fields):
                    continue
                if not header_checked:
                    header_checked = True
                    if not any(_is_number(c) for c in fields):
                        continue                  # a header row: names, not a single number
                if first_line is None:
                    first_line, width = line, len(fields)
                    if width < 2:
                        raise DataError(f"{path}, line {line}: 1 column; need at least one feature column and a "
                                        f"label column (separate values with commas)")
                if len(fields) != width:
                    raise DataError(f"{path}, line {line}: {len(fields)} values, but the first data row has {width}; "
                                    f"every row needs the same number of columns")
                if len(values) + width > most_numbers:
                    _check_data_bytes(len(values) + width, f"{path} up to line {line}", "use a smaller file", limit)
                values.extend(_csv_number(path, line, c, text) for c, text in enumerate(fields))
                n_rows += 1
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (cannot decode it as UTF-8); save it as a UTF-8 CSV") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc}); check the path and its permissions") from None
    except csv.Error as exc:
        raise DataError(f"{path}: not a readable CSV ({exc}); save it as plain comma-separated values") from None
    if not n_rows:
        raise DataError(f"{path}: no data rows; a CSV needs rows of numbers, the last column the label")
    table = np.frombuffer(values, dtype=np.float64).reshape(n_rows, width)
    return table[:, :-1], table[:, -1]


def _csv_number(path: Path, line: int, column: int, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = None
    if v is not None and math.isfinite(v):
        return v
    where = f"{path}, line {line}, column {column + 1}"
    if text.lower() in _MISSING:
        raise DataError(f"{where}: missing value ({text!r}); fill it in or drop the row")
    if v is None:
        raise DataError(f"{where}: text {text!r} where a number belongs; the CSV must be all numbers "
                        f"(remove text columns or encode them as numbers)")
    raise DataError(f"{where}: {text!r} is not a finite number; replace it or drop the row")


_MISSING = ("", "nan", "na", "n/a", "null", "none", "?", "-")


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _load_npz(path: Path, max_bytes: Optional[int] = None):
    # Everything that can be told from the .npy headers is checked before any data is read.
    try:
        headers = npz_headers(path)
    except (ValueError, OSError) as exc:
        raise DataError(str(exc).splitlines()[0]) from None
    missing = [k for k in ("X", "y") if headers.get(k) is None]
    if missing:
        found = ", ".join(sorted(k for k, h in headers.items() if h is not None)) or "none"
        raise DataError(f"{path}: no array named {' or '.join(missing)} (arrays found: {found}); "
                        f"save it with numpy.savez(path, X=X, y=y)")
    for key in ("X", "y"):
        shape, dtype = headers[key]
        if dtype.hasobject:
            raise DataError(f"{path}: array {key} holds Python objects (dtype {dtype}), which only pickle could read, "
                            f"and pickle is never used (it can run code); save plain numbers, e.g. "
                            f"numpy.savez(path, X=np.asarray(X, dtype=float), y=np.asarray(y))")
        if dtype.kind not in "biuf":
            raise DataError(f"{path}: array {key} has dtype {dtype}; it must be numeric (int or float)")
        if len(shape) not in (1, 2):
            raise DataError(f"{path}: array {key} has shape {shape}; use (n,) or (n, d)")
    (x_shape, _), (y_shape, _) = headers["X"], headers["y"]
    if x_shape[0] != y_shape[0]:
        raise DataError(f"{path}: X has {x_shape[0]} rows but y has {y_shape[0]}; give one label per row of X")
    if x_shape[0] == 0:
        raise DataError(f"{path}: X and y have 0 rows (shapes {x_shape} and {y_shape}); the file needs at least "
                        f"one sample")
    for key, shape, what in (("X", x_shape, "features"), ("y", y_shape, "targets")):
        if len(shape) == 2 and shape[1] == 0:
            raise DataError(f"{path}: {key} has 0 {what} (shape {shape}); it needs at least one column")
    _check_data_bytes(math.prod(x_shape) + math.prod(y_shape), f"{path}: X {x_shape} and y {y_shape}",
                      "use a smaller file", max_bytes)
    try:
        arrays = load_npz(path, keys=("X", "y"), max_bytes=max_bytes)
    except (ValueError, OSError) as exc:
        raise DataError(str(exc).splitlines()[0]) from None
    X, y = arrays["X"], arrays["y"]
    X = X.reshape(len(X), -1).astype(np.float64)
    y = y.astype(np.float64)
    for key, a in (("X", X), ("y", y.reshape(len(y), -1))):
        bad = np.argwhere(~np.isfinite(a))
        if len(bad):
            r, c = bad[0]
            raise DataError(f"{path}: {key}[{r}, {c}] is {a[r, c]}; fill in or drop samples with missing values")
    return X, y


# ----- split, standardise, batch -----------------------------------------------------------

def train_test_split(X: np.ndarray, y: np.ndarray, test_fraction: float = 0.25, seed=0):
    """Shuffle the samples with `seed`, then put the last `test_fraction` of them aside for testing."""
    if not 0 < test_fraction < 1:
        raise DataError(f"test_fraction={test_fraction!r}: use a fraction strictly between 0 and 1, e.g. 0.25")
    n = len(X)
    n_test = int(round(n * test_fraction))
    if n_test < 1 or n_test >= n:
        raise DataError(f"{n} samples cannot be split into train and test with test_fraction={test_fraction}; "
                        f"use more samples")
    order = _rng(seed).permutation(n)
    train, test = order[:n - n_test], order[n - n_test:]
    return X[train], y[train], X[test], y[test]


class Standardizer:
    """x ↦ (x − mean) / std, per feature, with mean and std measured on the training data.

    A feature that is constant in the training data (std 0, e.g. a border pixel that is
    always blank) is only centred, not divided by zero.
    """

    def __init__(self):
        self.mean: Optional[np.ndarray] = None
        self.std: Optional[np.ndarray] = None

    def fit(self, X: np.ndarray) -> "Standardizer":
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.mean is None:
            raise RuntimeError("Standardizer.transform: call fit(X_train) first")
        return (X - self.mean) / self.std

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)


def batches(X: np.ndarray, y: np.ndarray, batch_size: int, seed=None, shuffle: bool = True,
            start: int = 0) -> Iterator[tuple]:
    """One epoch of minibatches (X[idx], y[idx]); the last batch may be smaller.

    seed: an int, a sequence of ints (e.g. (seed, epoch): a fresh order each epoch that depends on
          nothing else), or a numpy Generator. shuffle=False keeps the stored order.
    start: skip the first `start` batches (to resume in the middle of an epoch).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise DataError(f"batch_size={batch_size!r}: use an integer >= 1")
    n = len(X)
    order = _rng(seed).permutation(n) if shuffle else np.arange(n)
    for i in range(start * batch_size, n, batch_size):
        idx = order[i:i + batch_size]
        yield X[idx], y[idx]


def n_batches(n: int, batch_size: int) -> int:
    """Number of minibatches in one epoch of n samples (the last one may be smaller)."""
    return -(-n // batch_size)


# ----- by name ------------------------------------------------------------------------------

_MAKERS: dict = {
    "moons": make_moons,
    "circles": make_circles,
    "spiral": make_spiral,
    "xor": make_xor,
    "blobs": make_blobs,
    "sine": make_sine,
}
_WITH_CLASSES = ("spiral", "blobs")


def dataset_names() -> list:
    """Names accepted by get_dataset, synthetic ones first."""
    return list(_MAKERS) + ["digits"]


def closest_names(name: str, names, n: int = 3) -> str:
    """'; did you mean X?' for the (at most n) nearest names, or '' when none is close."""
    close = difflib.get_close_matches(name.lower(), list(names), n=n, cutoff=0.5)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def get_dataset(name: str, n: Optional[int] = None, seed=0, noise: Optional[float] = None,
                classes: Optional[int] = None, test_fraction: float = 0.25, standardize: bool = True,
                max_bytes: Optional[int] = None) -> Dataset:
    """A named data set, split into train and test and (by default) standardised on the training part.

    n, noise, classes default to each generator's own defaults. For digits, n picks a random
    subset of the 1,797 images (all of them by default); noise does not apply. An n too large
    for the memory limit (`max_bytes`, see ``tinygrad_edu.limits``) is a DataSizeError, raised
    before anything is made.
    """
    key = str(name).strip().lower()
    if key not in dataset_names():
        raise DataError(f"unknown dataset {name!r}{closest_names(key, dataset_names())} "
                        f"(choose from: {', '.join(dataset_names())})", "name")
    rng = _rng(seed)
    kwargs = {}
    if n is not None:
        kwargs["n"] = n
    if noise is not None:
        if key == "digits":
            raise DataError("digits: noise does not apply to real images; leave it out", "noise")
        kwargs["noise"] = noise
    if classes is not None:
        if key not in _WITH_CLASSES:
            raise DataError(f"{key}: the number of classes is fixed; classes= applies to {' and '.join(_WITH_CLASSES)}",
                            "classes")
        kwargs["classes"] = classes
    if key == "digits":
        X, y = load_digits()
        if n is not None:
            _check_n(n, "digits", X.shape[1] + 1, max_bytes)
            if n > len(X):
                raise DataError(f"digits: n={n} but there are only {len(X)} images; use n <= {len(X)}", "n")
            keep = np.sort(rng.choice(len(X), size=n, replace=False))
            X, y = X[keep], y[keep]
    else:
        X, y = _MAKERS[key](seed=rng, max_bytes=max_bytes, **kwargs)
    task = "regression" if key == "sine" else "classification"
    return make_dataset(X, y, task, name=key, seed=rng, test_fraction=test_fraction, standardize=standardize)


def load_dataset(path, seed=0, task: Optional[str] = None, test_fraction: float = 0.25,
                 standardize: bool = True, max_bytes: Optional[int] = None) -> Dataset:
    """Your own .csv or .npz file (see load_file), split and standardised like the named data sets.

    task: "classification", "regression", or None for AUTO_TASK_RULE.
    """
    X, y, task = load_file(path, task, max_bytes)
    return make_dataset(X, y, task, name=Path(path).name, seed=seed, test_fraction=test_fraction,
                        standardize=standardize)


def make_dataset(X, y, task: str, name: str = "", seed=0, test_fraction: float = 0.25,
                 standardize: bool = True) -> Dataset:
    """Split arrays X, y into a Dataset; class labels of any integer values become 0..k-1."""
    X = np.asarray(X, dtype=np.float64)
    classes = None
    if task == "classification":
        classes, y = np.unique(np.asarray(y), return_inverse=True)
        y = y.astype(np.int64).reshape(-1)
        if len(classes) < 2:
            raise DataError(f"{name or 'data'}: every label is {classes[0]}; classification needs at least 2 classes")
        n_classes = len(classes)
    elif task == "regression":
        y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
        n_classes = 0
    else:
        raise DataError(f"task={task!r}: use 'classification' or 'regression'")
    X_train, y_train, X_test, y_test = train_test_split(X, y, test_fraction, seed)
    scaler = None
    if standardize:
        scaler = Standardizer().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return Dataset(X_train, y_train, X_test, y_test, task, n_classes, name=name, classes=classes, scaler=scaler)


def digits_checksum(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the shipped digits arrays (as uint8), to check the file is the one described in the README."""
    return hashlib.sha256(X.astype(np.uint8).tobytes() + y.astype(np.uint8).tobytes()).hexdigest()
