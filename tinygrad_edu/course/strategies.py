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


def broadcastable_shapes(max_dims: int = 3, max_side: int = 4):
    """(shape_a, shape_b, shape_out): two shapes NumPy broadcasts together, and the shape they broadcast to.

    Either may have fewer dimensions (NumPy prepends 1s) or a 1 where the other has more (it is
    stretched): the cases a binary op's backward must sum back with `unbroadcast`.
    """
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, max_side=max_side).map(
        lambda s: (s.input_shapes[0], s.input_shapes[1], s.result_shape))


def nonzero_floats(low: float = 0.5, high: float = 5.0):
    """Floats with low ≤ |x| ≤ high, of either sign (a divisor far from 0)."""
    return floats(low, high) | floats(-high, -low)


def grad_and_shape(low: float = -3.0, high: float = 3.0):
    """(grad, shape): a gradient of a broadcast shape, and the shape of an input broadcast to it."""
    return broadcastable_shapes().flatmap(lambda s: st.tuples(arrays(s[2], low, high), st.just(s[0])))


def binary_inputs(a_elements=None, b_elements=None):
    """(a, b, g): two broadcastable inputs and an incoming gradient of their broadcast shape.

    `a_elements` and `b_elements` are element strategies (default: floats in [−5, 5]); g is in [−3, 3].
    """
    a_elements = a_elements if a_elements is not None else floats()
    b_elements = b_elements if b_elements is not None else floats()
    return broadcastable_shapes().flatmap(lambda s: st.tuples(
        hnp.arrays(np.float64, s[0], elements=a_elements), hnp.arrays(np.float64, s[1], elements=b_elements),
        arrays(s[2], -3.0, 3.0)))
