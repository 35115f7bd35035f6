"""Hypothesis strategies for the checks: small arrays that shrink to readable failing inputs."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def floats(low: float = -5.0, high: float = 5.0):
    """Finite floats in [low, high]; they shrink towards 0 and small integers."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape=None, low: float = -5.0, high: float = 5.0):
    """A float64 array of `shape` (a strategy by default), values in [low, high]."""
    return hnp.arrays(np.float64, shape if shape is not None else shapes(), elements=floats(low, high))


def array_and_cotangent(low: float = -5.0, high: float = 5.0, shape=None):
    """(a, g): an input and an incoming gradient of the same shape."""
    return (shape if shape is not None else shapes()).flatmap(
        lambda s: st.tuples(arrays(s, low, high), arrays(s, -3.0, 3.0)))
