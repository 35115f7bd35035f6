"""Check backward() against central finite differences."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """backward() and finite differences disagree, or one of them is not a finite number."""


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Tensor], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-4, seed: int = 0) -> float:
    """Compare the gradient from ``backward()`` with central finite differences.

    For a random weighting w of the output (fixed by `seed`, so that no component of the
    output can hide), L(x) = Σ w · fn(x), and for every element xᵢ of every input that
    requires grad:

        ∂L/∂xᵢ ≈ (L(x + ε·eᵢ) − L(x − ε·eᵢ)) / 2ε        (error O(ε²))

    Returns the largest absolute difference. Raises GradcheckError naming the input and the
    index where |analytic − numeric| > atol + rtol·|numeric|, and where either gradient is not
    a finite number: a nan or inf from backward ("analytic gradient ... is nan"), or from the
    finite differences, which means the function is not differentiable there (log or √ at 0).
    `fn` must return a Tensor built from the inputs by Tensor operations; inputs must be
    float64: float32 rounding swamps the O(ε²) accuracy.
    """
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(t).__name__}; pass Tensors")
        if t.requires_grad and t.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {t.dtype}; finite differences need float64 (dtype=np.float64)")
    checked = [i for i, t in enumerate(inputs) if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; create them with requires_grad=True")

    saved = [t.grad for t in inputs]
    out = _output(fn, inputs)
    if not out.requires_grad:
        raise ValueError("gradcheck: fn's result is not connected to the inputs that require grad (was it computed "
                         "from .data or .item(), or under no_grad()?); build it from the inputs with Tensor operations")
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    for t in inputs:
        t.grad = None
    out.backward(weights)
    analytic = [inputs[i].grad if inputs[i].grad is not None else np.zeros(inputs[i].shape) for i in checked]
    for t, g in zip(inputs, saved):
        t.grad = g

    def weighted_output() -> float:
        with no_grad():
            return float(np.sum(_output(fn, inputs).data * weights))

    worst = 0.0
    for i, grad in zip(checked, analytic):
        x = inputs[i].data
        where = f"input {i}{f' ({inputs[i].name!r})' if inputs[i].name else ''} at index"
        for idx in np.ndindex(x.shape):
            original = x[idx]
            x[idx] = original + eps
            plus = weighted_output()
            x[idx] = original - eps
            minus = weighted_output()
            x[idx] = original
            numeric = (plus - minus) / (2 * eps)
            if not np.isfinite(grad[idx]):
                raise GradcheckError(f"gradcheck: analytic gradient of {where} {idx} is {grad[idx]} (finite "
                                     f"differences give {numeric:.8g}); backward must give a finite number: check "
                                     f"the op's backward, or test at a point where the function is differentiable")
            if not np.isfinite(numeric):
                raise GradcheckError(f"gradcheck: numeric gradient of {where} {idx} is {numeric}: the function is not "
                                     f"differentiable there (or not defined within eps={eps:g} of it; backward gives "
                                     f"{grad[idx]:.8g}); test at another point")
            diff = abs(grad[idx] - numeric)
            worst = max(worst, diff)
            if diff > atol + rtol * abs(numeric):
                raise GradcheckError(f"gradcheck: {where} {idx}: backward gives {grad[idx]:.8g}, "
                                     f"finite differences give {numeric:.8g} (|difference| {diff:.2e} > "
                                     f"atol + rtol*|numeric| = {atol + rtol * abs(numeric):.2e})")
    return worst


def _output(fn: Callable[..., Tensor], inputs: list) -> Tensor:
    """fn(*inputs), which must be a Tensor."""
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn returned a {type(out).__name__}, not a Tensor; return a Tensor built from "
                        f"the inputs with Tensor operations (not from .data, .item() or NumPy)")
    return out


def __getattr__(name: str):
    """``from tinygrad_edu.gradcheck import diagnose`` (also ``Diagnosis``, ``recording``): the op-by-op
    check lives in ``diagnose.py``, which draws with viz, so it loads only when asked for."""
    if name in ("diagnose", "Diagnosis", "recording"):
        from . import diagnose as module
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
