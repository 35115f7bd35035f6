"""Check backward() against central finite differences."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """backward() and finite differences disagree."""


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Tensor], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-4, seed: int = 0) -> float:
    """Compare the gradient from ``backward()`` with central finite differences.

    For a random weighting w of the output (fixed by `seed`, so that no component of the
    output can hide), L(x) = Σ w · fn(x), and for every element xᵢ of every input that
    requires grad:

        ∂L/∂xᵢ ≈ (L(x + ε·eᵢ) − L(x − ε·eᵢ)) / 2ε        (error O(ε²))

    Returns the largest absolute difference. Raises GradcheckError naming the input and
    the index when |analytic − numeric| > atol + rtol·|numeric| anywhere, and where either
    is nan or only one is infinite (equal infinities agree).
    Inputs must be float64: float32 rounding swamps the O(ε²) accuracy.
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
    out = fn(*inputs)
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    for t in inputs:
        t.grad = None
    out.backward(weights)
    analytic = [inputs[i].grad if inputs[i].grad is not None else np.zeros(inputs[i].shape) for i in checked]
    for t, g in zip(inputs, saved):
        t.grad = g

    def weighted_output() -> float:
        with no_grad():
            return float(np.sum(fn(*inputs).data * weights))

    worst = 0.0
    for i, grad in zip(checked, analytic):
        x = inputs[i].data
        for idx in np.ndindex(x.shape):
            original = x[idx]
            x[idx] = original + eps
            plus = weighted_output()
            x[idx] = original - eps
            minus = weighted_output()
            x[idx] = original
            numeric = (plus - minus) / (2 * eps)
            if grad[idx] == numeric:  # also the same infinity, where the difference would be nan
                continue
            diff = abs(grad[idx] - numeric)
            worst = max(worst, diff)
            if not (np.isfinite(numeric) and diff <= atol + rtol * abs(numeric)):  # a nan fails too
                name = f" ({inputs[i].name!r})" if inputs[i].name else ""
                raise GradcheckError(f"gradcheck: input {i}{name} at index {idx}: backward gives {grad[idx]:.8g}, "
                                     f"finite differences give {numeric:.8g} (|difference| {diff:.2e} > "
                                     f"atol + rtol*|numeric| = {atol + rtol * abs(numeric):.2e})")
    return worst
