"""The engine exercises' references: the engine's own walk, backward pass and zero_grad (no answer key).

The engine's ``Tensor.topological_order`` sorts the tensors by creation stamp, which is one valid
topological order; a student's depth-first order may be another, so the checks compare the
set of tensors and test the order's property (inputs before outputs), not the list itself.
"""
from __future__ import annotations


def topological_order(root):
    """Every tensor root depends on that requires grad, inputs before outputs (Tensor.topological_order)."""
    return root.topological_order()


def backward(root):
    """∂root/∂t into every t.grad, accumulating (Tensor.backward, seeded with 1)."""
    root.backward()


def zero_grad(root):
    """.grad = None for every tensor of root's graph: leaves and op results (Tensor.zero_grad on each)."""
    for t in root.topological_order():
        t.zero_grad()
