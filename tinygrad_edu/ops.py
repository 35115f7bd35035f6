"""The operations: each forward, with its backward right next to it.

Pattern of every op (as in micrograd, but on arrays):

    def op(a, b):
        out_data = <forward with NumPy>
        def backward(g):              # g = ∂L/∂out, same shape as out
            return ∂L/∂a, ∂L/∂b       # chain rule: g times the local derivative
        return Tensor._result(out_data, (a, b), "op", backward)

An op reads its inputs' arrays as ``a._data``: the same array as ``a.data``, without a call of
the property that counts in-place changes (see tensor.py); ops run many times every step.
A backward returns None for an input that does not require grad, to skip useless work.
Broadcasting: an input that was stretched in forward receives the *sum* of the gradient
over the stretched dimensions, via the one helper `unbroadcast`.

At its edge points an op returns the IEEE value, as PyTorch does, and without NumPy's
warnings: log 0 = −inf, 1/0 = inf, e^1000 = inf, and the derivative of √a at 0 is inf.
`detect_anomaly()` stops at the first op that makes such a value.
"""
from __future__ import annotations

import numpy as np

from . import threads
from .tensor import ShapeError, Tensor

_result = Tensor._result


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` back to `shape`, undoing NumPy broadcasting.

    Broadcasting prepends dimensions and stretches size-1 dimensions; a value used n
    times receives the sum of its n gradients, so we sum over exactly those axes.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
        if grad.shape == shape:
            return grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True)


def _spread(g: np.ndarray, shape: tuple) -> np.ndarray:
    """A new array of `shape` filled by broadcasting g (cheaper than np.broadcast_to + copy)."""
    out = np.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


def _ieee():
    """NumPy's floating-point warnings off: inf and nan at an op's edge points are its results."""
    return np.errstate(divide="ignore", over="ignore", invalid="ignore")


def _operands(a, b):
    """Both operands as Tensors; a number or array takes the dtype of the Tensor beside it."""
    if not isinstance(a, Tensor):
        a = Tensor._wrap(a, b._data.dtype)
    elif not isinstance(b, Tensor):
        b = Tensor._wrap(b, a._data.dtype)
    return a, b


def _broadcast(ufunc, a: Tensor, b: Tensor, op: str, symbol: str) -> np.ndarray:
    try:
        return ufunc(a._data, b._data)
    except ValueError:
        raise ShapeError(f"{op}: {a.shape} {symbol} {b.shape}: shapes cannot be broadcast; trailing dimensions "
                         f"must be equal or 1 (reshape one operand)") from None


# ----- arithmetic ---------------------------------------------------------------

def add(a, b) -> Tensor:
    """a + b.   ∂/∂a = 1,  ∂/∂b = 1."""
    a, b = _operands(a, b)

    def backward(g):
        return (unbroadcast(g, a._data.shape) if a.requires_grad else None,
                unbroadcast(g, b._data.shape) if b.requires_grad else None)
    return _result(_broadcast(np.add, a, b, "add", "+"), (a, b), "add", backward)


def sub(a, b) -> Tensor:
    """a − b.   ∂/∂a = 1,  ∂/∂b = −1."""
    a, b = _operands(a, b)

    def backward(g):
        return (unbroadcast(g, a._data.shape) if a.requires_grad else None,
                unbroadcast(-g, b._data.shape) if b.requires_grad else None)
    return _result(_broadcast(np.subtract, a, b, "sub", "-"), (a, b), "sub", backward)


def mul(a, b) -> Tensor:
    """a · b.   ∂/∂a = b,  ∂/∂b = a."""
    a, b = _operands(a, b)

    def backward(g):
        return (unbroadcast(g * b._data, a._data.shape) if a.requires_grad else None,
                unbroadcast(g * a._data, b._data.shape) if b.requires_grad else None)
    return _result(_broadcast(np.multiply, a, b, "mul", "*"), (a, b), "mul", backward)


def div(a, b) -> Tensor:
    """a / b.   ∂/∂a = 1/b,  ∂/∂b = −a/b²   (±inf, or nan for 0/0, where b = 0)."""
    a, b = _operands(a, b)

    def backward(g):
        with _ieee():
            return (unbroadcast(g / b._data, a.shape) if a.requires_grad else None,
                    unbroadcast(-g * a._data / (b._data * b._data), b.shape) if b.requires_grad else None)
    with _ieee():
        out = _broadcast(np.divide, a, b, "div", "/")
    return _result(out, (a, b), "div", backward)


def pow(a, b) -> Tensor:  # noqa: A001  (shadows the builtin only inside this module)
    """a ** b.   ∂/∂a = b·a^(b−1),  ∂/∂b = a^b·ln a.

    At a = 0 we follow PyTorch: ∂/∂a = 0 where b = 0 (a⁰ = 1 is flat; the formula gives 0·∞),
    and ∂/∂b = 0 where b ≥ 0 (0^b = 0 for every b > 0, where the formula gives 0·(−∞); at
    b = 0, where 0^b jumps from 1 to 0, PyTorch takes 0 too). Elsewhere at a = 0 the
    formulas stand: ∂/∂a = 1 for b = 1, 0 for b > 1, +inf for 0 < b < 1, −inf for b < 0;
    ∂/∂b = −inf for b < 0. For a < 0, ln a is nan, and so is ∂/∂b.
    """
    a, b = _operands(a, b)
    with _ieee():
        out = _broadcast(np.power, a, b, "pow", "**")

    def backward(g):
        with _ieee():
            ga = gb = None
            if a.requires_grad:
                ga = unbroadcast(np.where(b._data == 0, 0.0, g * b._data * a._data ** (b._data - 1)), a.shape)
            if b.requires_grad:
                gb = unbroadcast(np.where((a._data == 0) & (b._data >= 0), 0.0, g * out * np.log(a._data)), b.shape)
            return ga, gb
    return _result(out, (a, b), "pow", backward)


def neg(a: Tensor) -> Tensor:
    """−a.   ∂/∂a = −1."""
    return _result(-a._data, (a,), "neg", lambda g: (-g,))


def matmul(a, b) -> Tensor:
    """a @ b, for 1-D, 2-D and batched (N-D) operands, as numpy.matmul.

    For 2-D C = A·B:  ∂L/∂A = ∂L/∂C · Bᵀ,  ∂L/∂B = Aᵀ · ∂L/∂C.
    A 1-D operand is promoted to a matrix (a row on the left, a column on the right),
    and batch dimensions broadcast, so their gradients are summed back by `unbroadcast`.
    """
    a, b = _operands(a, b)
    a_shape, b_shape = a._data.shape, b._data.shape
    if not a_shape or not b_shape:
        raise ShapeError(f"matmul: {a_shape} @ {b_shape}: operands must have at least one dimension; use * for scalars")
    k_a, k_b = a_shape[-1], b_shape[-2 if len(b_shape) > 1 else 0]
    if k_a != k_b:
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: inner dimensions {k_a} and {k_b} differ; "
                         f"transpose or reshape one operand")
    try:
        out = threads.matmul(a._data, b._data)
    except ValueError:
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: batch dimensions cannot be broadcast") from None

    def backward(g):
        if len(a_shape) == 2 and len(b_shape) == 2:  # the common case, kept fast
            return (threads.matmul(g, b._data.T) if a.requires_grad else None,
                    threads.matmul(a._data.T, g) if b.requires_grad else None)
        a2 = a._data if a.ndim > 1 else a._data[None, :]
        b2 = b._data if b.ndim > 1 else b._data[:, None]
        if a.ndim == 1 and b.ndim == 1:
            g = g.reshape(1, 1)
        elif a.ndim == 1:
            g = np.expand_dims(g, -2)
        elif b.ndim == 1:
            g = np.expand_dims(g, -1)
        ga = unbroadcast(threads.matmul(g, b2.swapaxes(-1, -2)), a2.shape) if a.requires_grad else None
        gb = unbroadcast(threads.matmul(a2.swapaxes(-1, -2), g), b2.shape) if b.requires_grad else None
        return (None if ga is None else np.reshape(ga, a.shape),
                None if gb is None else np.reshape(gb, b.shape))
    return _result(out, (a, b), "matmul", backward)


# ----- reductions ---------------------------------------------------------------

def _axes(axis, ndim: int, op: str) -> tuple:
    """Normalise axis (None, int or tuple) to a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis) if isinstance(axis, (tuple, list)) else None
    if axes is None or not all(isinstance(ax, (int, np.integer)) and not isinstance(ax, bool) for ax in axes):
        raise TypeError(f"{op}: axis={axis!r} must be None, an int or a tuple of ints")
    norm = []
    for ax in axes:
        if not ndim:
            raise ShapeError(f"{op}: a 0-dimensional tensor has no axis {ax}; pass axis=None, or reshape it to 1-D first")
        if not -ndim <= ax < ndim:
            raise ShapeError(f"{op}: axis {ax} is out of range for a tensor with {ndim} dimensions; use -{ndim} to {ndim - 1}")
        norm.append(int(ax) % ndim)
    return tuple(sorted(set(norm)))


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    """The shape of a reduction's result with keepdims=True: it broadcasts against the input."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def sum(a: Tensor, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Σ over `axis`.   ∂/∂aᵢ = 1 for every summed element: the gradient is copied back."""
    axes = _axes(axis, a.ndim, "sum")
    kept = _kept_shape(a._data.shape, axes)

    def backward(g):
        return (_spread(g.reshape(kept), a._data.shape),)
    return _result(np.asarray(a._data.sum(axis=axes, keepdims=keepdims)), (a,), "sum", backward)


def mean(a: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over `axis`.   ∂/∂aᵢ = 1/n, n the number of averaged elements.

    The mean of no elements (n = 0) is nan, as in NumPy and PyTorch; its gradient is empty.
    """
    axes = _axes(axis, a.ndim, "mean")
    kept = _kept_shape(a._data.shape, axes)
    n = 1
    for i in axes:
        n *= a._data.shape[i]
    total = a._data.sum(axis=axes, keepdims=keepdims)
    out = np.asarray(total / n) if n else np.full_like(total, np.nan)   # no 0/0 warning

    def backward(g):
        return (_spread(g.reshape(kept) / (n or 1), a._data.shape),)   # n = 0: a is empty, and so is this
    return _result(out, (a,), "mean", backward)


def max(a: Tensor, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over `axis`.   ∂/∂aᵢ = 1/k where aᵢ is one of k tied maxima, else 0.

    Ties share the gradient evenly, as torch.amax does (and torch.max without a dim);
    torch.max(a, dim) gives all of it to one of them instead.
    """
    axes = _axes(axis, a.ndim, "max")
    if any(a._data.shape[i] == 0 for i in axes):
        raise ShapeError(f"max: tensor of shape {a.shape} has no elements along axes {axes}; "
                         f"max needs at least one (reduce over a non-empty axis)")
    top = a._data.max(axis=axes, keepdims=True)

    def backward(g):
        winners = a._data == top
        return (winners * (g.reshape(top.shape) / winners.sum(axis=axes, keepdims=True)),)
    out = top if keepdims else top.reshape([n for i, n in enumerate(a.shape) if i not in axes])
    return _result(out, (a,), "max", backward)


# ----- elementwise functions ----------------------------------------------------

def exp(a: Tensor) -> Tensor:
    """eᵃ.   ∂/∂a = eᵃ (the output itself; inf where eᵃ overflows: a > 709.78 in float64)."""
    with _ieee():
        out = np.exp(a._data)

    def backward(g):
        with _ieee():
            return (g * out,)
    return _result(out, (a,), "exp", backward)


def log(a: Tensor) -> Tensor:
    """ln a.   ∂/∂a = 1/a   (ln 0 = −inf with ∂/∂a = inf; ln of a negative number is nan)."""
    with _ieee():
        out = np.log(a._data)

    def backward(g):
        with _ieee():
            return (g / a._data,)
    return _result(out, (a,), "log", backward)


def sqrt(a: Tensor) -> Tensor:
    """√a.   ∂/∂a = 1/(2√a)   (inf at a = 0, as in PyTorch; √ of a negative number is nan)."""
    with _ieee():
        out = np.sqrt(a._data)

    def backward(g):
        with _ieee():
            return (g / (2 * out),)
    return _result(out, (a,), "sqrt", backward)


def abs(a: Tensor) -> Tensor:  # noqa: A001
    """|a|.   ∂/∂a = sign(a)  (0 at a = 0, as in PyTorch)."""
    return _result(np.abs(a._data), (a,), "abs", lambda g: (g * np.sign(a._data),))


def relu(a: Tensor) -> Tensor:
    """max(a, 0).   ∂/∂a = 1 where a > 0, else 0 (0 at a = 0, as in PyTorch)."""
    out = np.maximum(a._data, 0)
    return _result(out, (a,), "relu", lambda g: (g * (out > 0),))


def tanh(a: Tensor) -> Tensor:
    """tanh a.   ∂/∂a = 1 − tanh²a."""
    out = np.tanh(a._data)
    return _result(out, (a,), "tanh", lambda g: (g * (1 - out * out),))


def sigmoid(a: Tensor) -> Tensor:
    """σ(a) = 1/(1 + e⁻ᵃ).   ∂/∂a = σ(a)(1 − σ(a)).  Computed without overflow for large |a|."""
    e = np.exp(-np.abs(a._data))  # never overflows
    out = np.where(a._data >= 0, 1 / (1 + e), e / (1 + e))
    return _result(out, (a,), "sigmoid", lambda g: (g * out * (1 - out),))


def clip(a: Tensor, low=None, high=None) -> Tensor:
    """a limited to [low, high].   ∂/∂a = 1 where low ≤ a ≤ high, else 0 (as torch.clamp)."""
    if low is not None and high is not None and low > high:
        raise ValueError(f"clip: low={low} is greater than high={high}; pass low <= high")
    inside = np.ones(a.shape, dtype=bool)
    if low is not None:
        inside &= a._data >= low
    if high is not None:
        inside &= a._data <= high
    return _result(np.clip(a._data, low, high), (a,), "clip", lambda g: (g * inside,))


def softmax(a: Tensor, axis: int = -1) -> Tensor:
    """sᵢ = e^(aᵢ−m) / Σⱼ e^(aⱼ−m), m = max a (the shift changes nothing but avoids overflow).

    ∂L/∂aᵢ = sᵢ · (gᵢ − Σⱼ gⱼ sⱼ).
    Over an empty axis there is nothing to normalise: the result is empty, as in PyTorch.
    """
    _axes(axis, a.ndim, "softmax")
    e = np.exp(a._data - a._data.max(axis=axis, keepdims=True, initial=-np.inf))  # initial: an empty axis is fine
    out = e / e.sum(axis=axis, keepdims=True)
    return _result(out, (a,), "softmax", lambda g: (out * (g - (g * out).sum(axis=axis, keepdims=True)),))


def log_softmax(a: Tensor, axis: int = -1) -> Tensor:
    """ln softmax(a) = (a − m) − ln Σⱼ e^(aⱼ−m).   ∂L/∂aᵢ = gᵢ − softmax(a)ᵢ · Σⱼ gⱼ.

    Over an empty axis the result is empty, as in PyTorch.
    """
    _axes(axis, a.ndim, "log_softmax")
    shifted = a._data - a._data.max(axis=axis, keepdims=True, initial=-np.inf)  # initial: an empty axis is fine
    with _ieee():  # ln 0 for an empty axis
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return _result(out, (a,), "log_softmax", lambda g: (g - np.exp(out) * g.sum(axis=axis, keepdims=True),))


# ----- shape and indexing -------------------------------------------------------

def reshape(a: Tensor, *shape) -> Tensor:
    """The same values in a new shape.   Backward: reshape the gradient back."""
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    try:
        out = a._data.reshape(shape)
    except ValueError:
        raise ShapeError(f"reshape: cannot reshape {a.shape} ({a.size} elements) into {shape}; "
                         f"the number of elements must stay {a.size}") from None
    return _result(out, (a,), "reshape", lambda g: (g.reshape(a.shape),))


def transpose(a: Tensor, *axes) -> Tensor:
    """Permute the axes (reverse them when none are given).   Backward: the inverse permutation."""
    axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    axes = axes or tuple(reversed(range(a.ndim)))
    valid = sorted(int(x) % a.ndim for x in axes) == list(range(a.ndim)) if a.ndim else not axes
    if not valid:
        raise ShapeError(f"transpose: axes {axes} are not a permutation of the {a.ndim} axes of a tensor of shape {a.shape}")
    inverse = tuple(int(i) for i in np.argsort([int(x) % a.ndim for x in axes]))
    return _result(a._data.transpose(axes), (a,), "transpose", lambda g: (g.transpose(inverse),))


def _is_basic(index) -> bool:
    """True for slices, ints, None and Ellipsis: no element is picked twice."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (slice, int, np.integer, type(None), type(Ellipsis))) for i in items)


def getitem(a: Tensor, index) -> Tensor:
    """a[index] with slices, integer arrays or boolean masks.

    Backward scatters the gradient into zeros of a's shape; an element picked several
    times receives the sum (numpy.add.at semantics).
    """
    if isinstance(index, Tensor):
        index = index._data.astype(np.intp) if index._data.dtype.kind == "f" else index._data
    elif isinstance(index, tuple):
        index = tuple(i._data.astype(np.intp) if isinstance(i, Tensor) else i for i in index)
    try:
        out = a._data[index]
    except IndexError as exc:
        raise ShapeError(f"getitem: index {index!r} does not fit shape {a.shape}: {exc}") from None
    basic = _is_basic(index)

    def backward(g):
        full = np.zeros_like(a._data)
        if basic:
            full[index] = g
        else:
            np.add.at(full, index, g)
        return (full,)
    return _result(out, (a,), "getitem", backward)


def _tensor_list(tensors, op: str) -> list:
    tensors = [t if isinstance(t, Tensor) else Tensor._wrap(t, np.float64) for t in tensors]
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor")
    return tensors


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.   Backward: split the gradient at the same places."""
    tensors = _tensor_list(tensors, "concatenate")
    try:
        out = np.concatenate([t._data for t in tensors], axis=axis)
    except (ValueError, np.exceptions.AxisError):
        raise ShapeError(f"concatenate: shapes {[t.shape for t in tensors]} must match except along axis {axis}") from None
    ends = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    return _result(out, tuple(tensors), "concatenate", lambda g: tuple(np.split(g, ends, axis=axis)))


def stack(tensors, axis: int = 0) -> Tensor:
    """Join equal-shaped tensors along a new axis.   Backward: take each slice back out."""
    tensors = _tensor_list(tensors, "stack")
    try:
        out = np.stack([t._data for t in tensors], axis=axis)
    except (ValueError, np.exceptions.AxisError):
        raise ShapeError(f"stack: all shapes must be equal, got {[t.shape for t in tensors]}") from None
    return _result(out, tuple(tensors), "stack",
                   lambda g: tuple(np.take(g, i, axis=axis) for i in range(len(tensors))))


# ----- attach to Tensor ---------------------------------------------------------

Tensor.__add__ = add
Tensor.__radd__ = lambda self, other: add(other, self)
Tensor.__sub__ = sub
Tensor.__rsub__ = lambda self, other: sub(other, self)
Tensor.__mul__ = mul
Tensor.__rmul__ = lambda self, other: mul(other, self)
Tensor.__truediv__ = div
Tensor.__rtruediv__ = lambda self, other: div(other, self)
Tensor.__pow__ = pow
Tensor.__rpow__ = lambda self, other: pow(other, self)
Tensor.__neg__ = neg
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
Tensor.__getitem__ = getitem
for _f in (sum, mean, max, exp, log, sqrt, abs, relu, tanh, sigmoid, clip, softmax, log_softmax, reshape, transpose):
    setattr(Tensor, _f.__name__, _f)
Tensor.T = property(lambda self: transpose(self), doc="The transpose (all axes reversed).")
