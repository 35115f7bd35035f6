"""Models and losses: Module, Linear, activations, Sequential, MLP; mse, cross_entropy, ...

    model = MLP([2, 16, 16, 1], activation="relu", seed=0)
    loss = hinge(model(X), y)
    loss.backward()
    model.layers[0].W.grad          # ∂L/∂W of the first layer, shape (2, 16)

A Module finds its parameters by looking at its attributes: every Tensor that requires
grad is a parameter, every Module (or list of Modules) a child. Once a module is built,
each parameter's ``.name`` is its path ("layers.0.W"), and calling the module runs
``forward`` inside ``name_scope("layers.0: Linear(2→16)")`` so that graph drawings can
group each layer's operations.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from . import tensor as _tensor
from . import threads
from .tensor import ShapeError, Tensor

__all__ = ["Module", "Linear", "linear", "ReLU", "Tanh", "Sigmoid", "Sequential", "MLP", "manual_seed",
           "mse", "cross_entropy", "binary_cross_entropy_with_logits", "hinge", "accuracy", "LOSSES", "INITS"]

# The generator used when a layer is built without a seed (reset it with manual_seed).
_default_rng = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Reset the generator that layers built without `seed=` draw from (as torch.manual_seed)."""
    global _default_rng
    _default_rng = np.random.default_rng(seed)


def _rng(seed) -> np.random.Generator:
    return _default_rng if seed is None else _tensor._rng(seed)


# ----- Module -------------------------------------------------------------------------

class _NamesAfterInit(type):
    """Metaclass: once a Module's __init__ returns, name its parameters by their paths."""

    def __call__(cls, *args, **kwargs):
        module = super().__call__(*args, **kwargs)
        module._assign_names(module.__dict__.get("_path", ""))
        object.__setattr__(module, "_built", True)
        return module


class Module(metaclass=_NamesAfterInit):
    """Base class of layers and models. Subclasses set attributes in __init__ and define forward.

    Calling ``super().__init__()`` is optional: the module needs no set-up.
    """

    _path = ""              # qualified name inside the model that holds it ("layers.0"); "" for the root
    _scope = None           # label for name_scope while forward runs
    _built = False

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        # The same as `with name_scope(self._scope): ...`, without a generator per call.
        previous = _tensor._scope
        _tensor._scope = self._scope
        try:
            return self.forward(*args, **kwargs)
        finally:
            _tensor._scope = previous

    def describe(self) -> str:
        """A short description for labels and repr, e.g. "Linear(2→16)"."""
        return type(self).__name__

    # ----- walking the tree --------------------------------------------------------
    def _items(self) -> Iterator[tuple]:
        """(name, Tensor-or-Module) for public attributes, lists and tuples expanded, in definition order."""
        for attr, value in vars(self).items():
            if attr.startswith("_"):
                continue
            if isinstance(value, (Tensor, Module)):
                yield attr, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Tensor, Module)):
                        yield f"{attr}.{i}", item

    def named_modules(self, prefix: str = "") -> Iterator[tuple]:
        """(path, module) for this module (path `prefix`) and every module inside it, depth first."""
        yield prefix, self
        seen = {id(self)}
        for name, item in self._items():
            if isinstance(item, Module) and id(item) not in seen:
                seen.add(id(item))
                yield from item.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple]:
        """(name, Tensor) for every parameter, in a stable order: attributes in the order they were set."""
        seen = set()

        def walk(module, path):
            for name, item in module._items():
                full = f"{path}.{name}" if path else name
                if isinstance(item, Module):
                    yield from walk(item, full)
                elif item.requires_grad and id(item) not in seen:
                    seen.add(id(item))
                    yield full, item
        yield from walk(self, prefix)

    def parameters(self) -> list:
        return [p for _, p in self.named_parameters()]

    def modules(self) -> list:
        return [m for _, m in self.named_modules()]

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def _assign_names(self, path: str) -> None:
        for sub_path, module in self.named_modules(path):
            object.__setattr__(module, "_path", sub_path)
            object.__setattr__(module, "_scope", f"{sub_path}: {module.describe()}" if sub_path else module.describe())
        for name, p in self.named_parameters(path):
            p.name = name

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        # A layer added after construction gets its names too.
        if self._built and not name.startswith("_") and isinstance(value, (Tensor, Module, list, tuple)):
            self._assign_names(self._path)

    # ----- saving and loading ------------------------------------------------------
    def state_dict(self) -> dict:
        """{name: array copy} for every parameter, saveable with np.savez."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, d) -> None:
        """Copy the arrays of `d` (name → array, as ``state_dict()`` returns) into the parameters, in place.

        All or nothing: every entry is checked before any parameter changes. Each parameter needs
        an entry of its exact shape holding finite numbers (a float or integer array; no strings,
        booleans, objects, nan or inf, also none that overflows the parameter's dtype); a missing,
        unexpected or bad entry is a one-line ValueError naming it (a ShapeError for a shape).
        """
        owner = f"{type(self).__name__}.load_state_dict"
        if not hasattr(d, "keys") or not hasattr(d, "__getitem__"):
            raise TypeError(f"{owner}: expected a dict of parameter name → array (as state_dict() returns), "
                            f"got {type(d).__name__}")
        params = dict(self.named_parameters())
        for name, p in params.items():
            if name not in d:
                raise ValueError(f"{owner}: missing entry {name!r} (the model's parameter has shape {p.shape}); "
                                 f"the file was saved from a different model")
        for name in d.keys():
            if name not in params:
                raise ValueError(f"{owner}: unexpected entry {name!r} of shape {np.shape(d[name])}; the model has "
                                 f"no parameter of that name (it has {', '.join(params)})")
        values = {name: _parameter_values(owner, name, d[name], p) for name, p in params.items()}
        for name, p in params.items():     # only now, with every entry valid
            p._data[...] = values[name]    # in place: an optimizer holds the array
        _tensor.mark_changed(*params.values())

    # ----- printing ----------------------------------------------------------------
    def __repr__(self) -> str:
        def own(module):
            shapes = [f"{name} {item.shape}" for name, item in module._items()
                      if isinstance(item, Tensor) and item.requires_grad]
            return ": " + ", ".join(shapes) if shapes else ""

        leaves = [(path, m) for path, m in self.named_modules()
                  if path and not any(isinstance(item, Module) for _, item in m._items())]
        lines = [f"{self.describe()}, {self.num_parameters()} parameters" + ("" if leaves else own(self))]
        lines += [f"  ({path}) {m.describe()}{own(m)}" for path, m in leaves]
        return "\n".join(lines)


_KINDS = {"U": "text", "S": "bytes", "O": "Python objects", "b": "booleans", "c": "complex numbers",
          "M": "dates", "m": "time spans", "V": "raw records"}


def _parameter_values(owner: str, name: str, value, p: Tensor) -> np.ndarray:
    """Entry `name` of a state dict as an array of p's shape and dtype, or a one-line error saying what is wrong."""
    value = value.data if isinstance(value, Tensor) else value
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):           # ragged lists and the like
        arr = np.asarray(value, dtype=object)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{owner}: entry {name!r} holds {_KINDS.get(arr.dtype.kind, str(arr.dtype))}, not "
                         f"numbers; a parameter needs a float or integer array, as state_dict() saves")
    if arr.shape != p.shape:
        raise ShapeError(f"{owner}: entry {name!r} has shape {arr.shape} but the model's parameter has shape "
                         f"{p.shape}; the file was saved from a different model")
    with np.errstate(over="ignore"):          # beyond float32's range becomes inf: refused below
        converted = arr.astype(p.dtype, copy=False)
    if not np.isfinite(converted).all():
        bad = "nan" if np.isnan(converted).any() else "inf"
        if bad == "inf" and np.isfinite(arr).all():
            bad = f"a value beyond {p.dtype}'s range ({float(np.abs(arr).max()):.3g})"
        raise ValueError(f"{owner}: entry {name!r} holds {bad}; a weight must be a finite number (the run it came "
                         f"from diverged, or the file is damaged)")
    return converted


# ----- layers -------------------------------------------------------------------------

def _he(rng, fan_in, fan_out):
    """He et al. (2015): N(0, 2/fan_in) keeps the variance of ReLU activations constant from layer to layer."""
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in), np.zeros(fan_out)


def _glorot(rng, fan_in, fan_out):
    """Glorot & Bengio (2010): U(±√(6/(fan_in + fan_out))), for tanh and sigmoid."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)), np.zeros(fan_out)


def _lecun(rng, fan_in, fan_out):
    """LeCun (1998): N(0, 1/fan_in)."""
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(1.0 / fan_in), np.zeros(fan_out)


def _torch(rng, fan_in, fan_out):
    """PyTorch's nn.Linear default: W and b both U(±1/√fan_in)."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, (fan_in, fan_out)), rng.uniform(-bound, bound, fan_out)


INITS = {"he": _he, "glorot": _glorot, "lecun": _lecun, "torch": _torch}


class Linear(Module):
    """y = x @ W + b, with W of shape (in_features, out_features): W.grad is the tutorials' ∂L/∂W.

    init: "he" (ReLU), "glorot" (tanh, sigmoid), "lecun", or "torch" (PyTorch's default);
    seed: an int or a numpy Generator (None: the module's default generator, see manual_seed).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, init: str = "he", seed=None,
                 dtype=None):
        for what, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"Linear: {what}={n!r} must be a whole number >= 1")
        if init not in INITS:
            raise ValueError(f"Linear: unknown init {init!r}; use one of {', '.join(INITS)}")
        self.in_features, self.out_features, self.init = int(in_features), int(out_features), init
        W, b = INITS[init](_rng(seed), self.in_features, self.out_features)
        self.W = Tensor(W, requires_grad=True, dtype=dtype)
        self.b = Tensor(b, requires_grad=True, dtype=dtype) if bias else None

    def describe(self) -> str:
        return f"Linear({self.in_features}→{self.out_features}{'' if self.b is not None else ', bias=False'})"

    def forward(self, x):
        try:
            return linear(x, self.W, self.b)
        except ShapeError:  # say it in the layer's terms
            raise ShapeError(f"{self.describe()}: input of shape {np.shape(x)} must have {self.in_features} "
                             f"features in its last dimension") from None


def linear(x, W: Tensor, b: Tensor | None = None) -> Tensor:
    """x @ W + b as one op: one node per layer in the graph, as PyTorch records nn.Linear (addmm).

    With g = ∂L/∂y for y = x·W + b, x of shape (N, in), W (in, out), b (out,):

        ∂L/∂x = g·Wᵀ,    ∂L/∂W = xᵀ·g,    ∂L/∂b = Σ over the N rows of g

    Writing ``x @ W + b`` gives the same numbers from two nodes (matmul, then add); one node
    saves the bookkeeping of the second (chapter 3 draws both). An x with other than two
    dimensions is reshaped to rows and back (a 1-D x is one row).
    """
    if not isinstance(x, Tensor):
        x = Tensor._wrap(x, W._data.dtype)
    if x._data.ndim != 2 or W._data.ndim != 2 or x._data.shape[1] != W._data.shape[0] or \
            (b is not None and b._data.shape != W._data.shape[1:]):
        return _linear_other_shapes(x, W, b)
    out = threads.matmul(x._data, W._data)
    if b is not None:
        out += b._data  # in place, in x @ W's dtype

    def backward(g):
        gx = threads.matmul(g, W._data.T) if x.requires_grad else None
        gW = threads.matmul(x._data.T, g) if W.requires_grad else None
        return (gx, gW) if b is None else (gx, gW, g.sum(axis=0) if b.requires_grad else None)
    return Tensor._result(out, (x, W) if b is None else (x, W, b), "linear", backward)


def _linear_other_shapes(x: Tensor, W: Tensor, b) -> Tensor:
    """linear() for an input that is not (N, in): check the shapes, then reshape to rows and back."""
    if W.ndim != 2:
        raise ShapeError(f"linear: input of shape {x.shape} @ W of shape {W.shape}: W must have shape (in, out)")
    if x.ndim == 0 or x.shape[-1] != W.shape[0]:
        raise ShapeError(f"linear: input of shape {x.shape} @ W of shape {W.shape}: the input's last dimension "
                         f"must be {W.shape[0]} (W's rows: the layer's in_features)")
    if b is not None and b.shape != W.shape[1:]:
        raise ShapeError(f"linear: bias of shape {b.shape} with W of shape {W.shape}: the bias must have shape "
                         f"{W.shape[1:]} (one per output)")
    rows = linear(x.reshape(-1, W.shape[0]), W, b)
    return rows.reshape(x.shape[:-1] + (W.shape[1],))


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class ReLU(Module):
    """max(x, 0)"""

    def forward(self, x):
        return _as_tensor(x).relu()


class Tanh(Module):
    """tanh(x)"""

    def forward(self, x):
        return _as_tensor(x).tanh()


class Sigmoid(Module):
    """1/(1 + e⁻ˣ)"""

    def forward(self, x):
        return _as_tensor(x).sigmoid()


ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
_DEFAULT_INIT = {"relu": "he", "tanh": "glorot", "sigmoid": "glorot"}


class Sequential(Module):
    """Modules applied one after the other: Sequential(Linear(2, 8), ReLU(), Linear(8, 1))."""

    def __init__(self, *modules):
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, not a Module")
        self.layers = list(modules)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)


class MLP(Sequential):
    """A multi-layer perceptron: Linear layers with an activation between them (none after the last).

    MLP([2, 16, 16, 1]) is Linear(2→16), ReLU, Linear(16→16), ReLU, Linear(16→1); parameters
    layers.0.W, layers.0.b, layers.2.W, ... Weights: He for relu, Glorot for tanh and sigmoid
    (or `init=`), all drawn from one generator made from `seed`, so the same seed gives the
    same network.
    """

    def __init__(self, sizes, activation: str = "relu", seed=0, dtype=None, init: str | None = None):
        sizes = list(sizes)
        if len(sizes) < 2 or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
            raise ValueError(f"MLP: sizes={sizes!r} must be at least two whole numbers >= 1, e.g. [2, 16, 16, 1]")
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; use one of {', '.join(ACTIVATIONS)}")
        self.sizes, self.activation = [int(n) for n in sizes], activation
        rng = _rng(seed)
        init = init or _DEFAULT_INIT[activation]
        layers = []
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            layers.append(Linear(n_in, n_out, init=init, seed=rng, dtype=dtype))
            if i < len(self.sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
        super().__init__(*layers)

    def describe(self) -> str:
        return f"MLP({'→'.join(map(str, self.sizes))}, {self.activation})"


# ----- losses (mean over the examples) -------------------------------------------------
# An empty batch (N = 0) follows PyTorch's reduction="mean" for every loss: the loss is nan
# (0/0, computed without a warning) and backward gives an empty gradient of the predictions'
# shape, so the layers before it receive zero gradients.

def _values(x) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _fit_target(fn: str, pred: Tensor, target, what: str = "target"):
    """`target` reshaped to pred's shape when one of them has an extra trailing 1 ((N, 1) vs (N,))."""
    t_shape = target._data.shape if isinstance(target, Tensor) else np.shape(target)
    p_shape = pred.shape
    if t_shape == p_shape:
        return target
    if (p_shape[-1:] == (1,) and p_shape[:-1] == t_shape) or (t_shape[-1:] == (1,) and t_shape[:-1] == p_shape):
        return target.reshape(p_shape) if isinstance(target, Tensor) else np.asarray(target).reshape(p_shape)
    raise ShapeError(f"{fn}: prediction of shape {p_shape} and {what}s of shape {t_shape} do not match; "
                     f"pass one {what} per prediction")


def mse(pred, target) -> Tensor:
    """Mean squared error: mean((pred − target)²).   ∂L/∂pred = 2(pred − target)/N, N = pred.size.

    An empty batch: nan, and an empty gradient (as PyTorch).
    """
    pred = _as_tensor(pred)
    target = _fit_target("mse", pred, target if isinstance(target, Tensor) else _values(target))
    diff = pred - target
    return (diff * diff).mean()


def _class_labels(fn: str, labels, n: int) -> np.ndarray:
    """`labels` as n integer class indices (shape and type checked; see _label_positions for the range)."""
    y = _values(labels)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n:
        raise ShapeError(f"{fn}: {n} rows of logits but labels of shape {np.shape(_values(labels))}; "
                         f"pass one integer class label per row")
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError(f"{fn}: labels must be whole class indices, got {float(y[y != np.round(y)][0])!r}")
        return y.astype(np.intp)
    if y.dtype.kind not in "iub":
        raise TypeError(f"{fn}: labels must be integer class indices, got dtype {y.dtype}")
    return y


def _label_positions(fn: str, y: np.ndarray, n_classes: int) -> np.ndarray:
    """The flat index i·C + yᵢ of each row's label in an (N, C) array, for picking and scattering.

    numpy.ravel_multi_index also checks every label against [0, C) in the same pass.
    """
    try:
        return np.ravel_multi_index((np.arange(len(y)), y), (len(y), n_classes))
    except (ValueError, TypeError):
        bad = (y < 0) | (y >= n_classes)
        raise ValueError(f"{fn}: labels must be class indices in [0, {n_classes}); got {y[bad][0]} "
                         f"at position {int(np.argmax(bad))}") from None


def cross_entropy(logits, labels) -> Tensor:
    """Mean over the N rows of −log softmax(logits)[label]; logits (N, C), integer labels (N,).

    One op with its own backward, as in PyTorch: with p = softmax(logits),

        ∂L/∂logits = (p − onehot(labels)) / N

    (the chain log_softmax → pick → mean gives the same numbers with more work). The max of
    each row is subtracted first, so large logits cannot overflow exp.
    An empty batch (N = 0): nan, and an empty gradient of shape (0, C) (as PyTorch).
    """
    logits = _as_tensor(logits)
    if logits.ndim != 2:
        raise ShapeError(f"cross_entropy: logits must have shape (N, classes), got {logits.shape}")
    n, c = logits.shape
    at_label = _label_positions("cross_entropy", _class_labels("cross_entropy", labels, n), c)
    shifted = logits._data - logits._data.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    loss = (np.log(total[:, 0]) - shifted.take(at_label)).sum() / n if n else np.nan

    def backward(g):
        grad = e / total                    # p = softmax(logits)
        grad.reshape(-1)[at_label] -= 1     # p − onehot (reshape of a fresh array is a view)
        grad *= float(g) / max(n, 1)        # (an empty batch has an empty gradient)
        return (grad,)
    return Tensor._result(np.array(loss, dtype=logits._data.dtype), (logits,), "cross_entropy", backward)


def binary_cross_entropy_with_logits(logits, targets) -> Tensor:
    """Mean over the N logits z of −[y·log σ(z) + (1 − y)·log(1 − σ(z))], targets y in [0, 1].

    One op with its own backward, as in PyTorch. −log σ(z) = softplus(z) − z and
    −log(1 − σ(z)) = softplus(z), so

        L = mean(softplus(z) − y·z),    softplus(z) = max(z, 0) + log(1 + e^(−|z|))
        ∂L/∂z = (σ(z) − y) / N

    Both are computed from e^(−|z|) ≤ 1, so no z overflows (|z| = 1e300 is fine). At z = 0 the
    gradient is (½ − y)/N; the chain relu + abs + exp + log gives −y/N there, because relu and
    abs each take derivative 0 at their kink. An empty batch: nan, and an empty gradient (as PyTorch).
    """
    z = _as_tensor(logits)
    y = np.asarray(_fit_target("binary_cross_entropy_with_logits", z, _values(targets)), dtype=z._data.dtype)
    if y.size and (np.min(y) < 0 or np.max(y) > 1):
        raise ValueError("binary_cross_entropy_with_logits: targets must lie in [0, 1] (labels 0 and 1, "
                         "or probabilities)")
    n = z._data.size
    e = np.exp(-np.abs(z._data))                         # in (0, 1]: never overflows
    loss = (np.maximum(z._data, 0) - y * z._data + np.log1p(e)).sum() / n if n else np.nan

    def backward(g):
        sigma = np.where(z._data >= 0, 1 / (1 + e), e / (1 + e))   # σ(z), as ops.sigmoid computes it
        return ((sigma - y) * (g / max(n, 1)),)             # (an empty batch has an empty gradient)
    return Tensor._result(np.array(loss, dtype=z._data.dtype), (z,), "binary_cross_entropy_with_logits", backward)


def _binary_labels(fn: str, labels) -> np.ndarray:
    """Labels in {−1, +1} (or {0, 1}, mapped to {−1, +1})."""
    y = _values(labels)
    if (np.abs(y) == 1).all():
        return y
    if ((y == 0) | (y == 1)).all():
        return 2.0 * y - 1.0
    values = np.unique(y)
    raise ValueError(f"{fn}: labels must be -1/+1 (or 0/1), got values {values[:5].tolist()}")


def hinge(scores, labels) -> Tensor:
    """The max-margin loss: mean(max(0, 1 − y·s)), labels y in {−1, +1} (or {0, 1}), one score per example.

    One op with its own backward: ∂L/∂sᵢ = −yᵢ/N where the margin is violated (1 − yᵢsᵢ > 0),
    and 0 where the example is already classified with room to spare (also at 1 − yᵢsᵢ = 0,
    as relu's derivative at 0). An empty batch: nan, and an empty gradient (as PyTorch).
    """
    s = _as_tensor(scores)
    if s.ndim == 2 and s.shape[1] != 1 or s.ndim > 2:
        raise ShapeError(f"hinge: scores must have shape (N,) or (N, 1), got {s.shape}; "
                         f"use cross_entropy for several classes")
    y = np.asarray(_fit_target("hinge", s, _binary_labels("hinge", labels), "label"), dtype=s._data.dtype)
    margin = 1 - y * s._data
    n = margin.size
    loss = np.maximum(margin, 0).sum() / n if n else np.nan

    def backward(g):
        return ((g / -max(n, 1)) * y * (margin > 0),)     # (an empty batch has an empty gradient)
    return Tensor._result(np.array(loss, dtype=s._data.dtype), (s,), "hinge", backward)


def accuracy(logits_or_scores, labels) -> float:
    """The fraction classified right: argmax for several columns; for one column, the sign
    (score > 0 means class +1, or 1 for 0/1 labels)."""
    out = _values(logits_or_scores)
    y = _values(labels)
    if out.ndim == 2 and out.shape[1] > 1:
        y = _class_labels("accuracy", y, out.shape[0])
        _label_positions("accuracy", y, out.shape[1])   # only its range check: labels in [0, C)
        return float(np.mean(out.argmax(axis=1) == y))
    scores = out.reshape(-1)
    y = y.reshape(-1)
    if len(y) != len(scores):
        raise ShapeError(f"accuracy: {len(scores)} scores but {len(y)} labels")
    y = _binary_labels("accuracy", y)
    return float(np.mean(np.where(scores > 0, 1.0, -1.0) == y))


LOSSES = {"mse": mse, "cross-entropy": cross_entropy, "bce": binary_cross_entropy_with_logits, "hinge": hinge}
