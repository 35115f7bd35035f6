"""Each op's forward and gradient against PyTorch's, on the same float64 inputs (1e-10)."""
import numpy as np
import pytest

from tinygrad_edu import Tensor, concatenate, stack

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
A, B = rng.uniform(0.5, 2.0, (3, 4)), rng.standard_normal((4,))
M, N = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
IDX = np.array([0, 2, 2, 1])
MASK = rng.random((3, 4)) > 0.5

# name: (function of our Tensors / torch tensors, inputs); the same code runs on both libraries
CASES = {
    "add": (lambda a, b: a + b, (A, B)), "sub": (lambda a, b: 2.0 - a - b, (A, B)),
    "mul": (lambda a, b: a * b * 3.0, (A, B)), "div": (lambda a, b: a / b + 1.0 / a, (A, B)),
    "pow": (lambda a, b: a ** b + a ** 2.5, (A, B)), "neg": (lambda a: -a, (A,)),
    "matmul_batched": (lambda m, n: m @ n, (M, N)), "matmul_vec": (lambda a, b: a @ b, (A, B)),
    "vec_vec": (lambda b: b @ b, (B,)),
    "sum": (lambda m: m.sum(axis=(0, 2), keepdims=True) if isinstance(m, Tensor) else m.sum(dim=(0, 2), keepdim=True), (M,)),
    "mean": (lambda m: m.mean(axis=1) if isinstance(m, Tensor) else m.mean(dim=1), (M,)),
    "max": (lambda m: m.max(axis=2) if isinstance(m, Tensor) else m.amax(dim=2), (M,)),
    "exp": (lambda a: a.exp(), (A,)), "log": (lambda a: a.log(), (A,)), "sqrt": (lambda a: a.sqrt(), (A,)),
    "abs": (lambda m: m.abs(), (M,)), "relu": (lambda m: m.relu(), (M,)), "tanh": (lambda m: m.tanh(), (M,)),
    "sigmoid": (lambda m: m.sigmoid(), (M,)), "clip": (lambda m: m.clip(-0.5, 0.5), (M,)),
    "softmax": (lambda m: m.softmax(1) if isinstance(m, Tensor) else m.softmax(dim=1), (M,)),
    "log_softmax": (lambda m: m.log_softmax(-1) if isinstance(m, Tensor) else m.log_softmax(dim=-1), (M,)),
    "reshape": (lambda m: m.reshape(6, 4), (M,)), "transpose": (lambda m: m.transpose(2, 0, 1) if isinstance(m, Tensor) else m.permute(2, 0, 1), (M,)),
    "T": (lambda a: a.T, (A,)), "slice": (lambda a: a[1:, ::2], (A,)),
    "int_index": (lambda a: a[IDX if isinstance(a, Tensor) else torch.from_numpy(IDX)], (A,)),
    "bool_mask": (lambda a: a[MASK if isinstance(a, Tensor) else torch.from_numpy(MASK)], (A,)),
    "concatenate": (lambda a, b: concatenate([a, b.reshape(1, 4)], axis=0) if isinstance(a, Tensor) else torch.cat([a, b.reshape(1, 4)], dim=0), (A, B)),
    "stack": (lambda a, b: stack([a[0], b], axis=1) if isinstance(a, Tensor) else torch.stack([a[0], b], dim=1), (A, B)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_and_gradient_equal_pytorch(name):
    fn, arrays = CASES[name]
    ours = [Tensor(x, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in arrays]
    out, ref = fn(*ours), fn(*theirs)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(upstream)
    ref.backward(torch.from_numpy(upstream))
    for t, r in zip(ours, theirs):
        np.testing.assert_allclose(t.grad, r.grad.numpy(), rtol=1e-10, atol=1e-10)
