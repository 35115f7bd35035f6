"""The adapters that make a student's backward an engine op: gradients, and a diagnosis for each op."""
import numpy as np

from tinygrad_edu import Tensor
from tinygrad_edu.course.adapters import binary_op, explain, unary_op
from tinygrad_edu.diagnose import diagnose


def test_each_of_several_student_ops_gets_its_own_diagnosis():
    # diagnose finds the function that made a node by its code: ops made by one factory must not share it
    ops = {name: unary_op(name, forward, lambda g, a, out, d=derivative: -g * d(a, out))
           for name, forward, derivative in [("tanh", np.tanh, lambda a, out: 1 - out * out),
                                             ("exp", np.exp, lambda a, out: out),
                                             ("sin", np.sin, lambda a, out: np.cos(a))]}
    a = np.array([0.3, -0.7, 1.1])
    for name, op in ops.items():
        text = explain(lambda op=op: (op(Tensor(a, requires_grad=True)) * Tensor([1.0, 2.0, 3.0])).sum())
        assert f"op '{name}'" in text and "opposite sign" in text, (name, text)


def test_a_wrong_binary_backward_is_named_even_at_huge_values():
    mul = binary_op("mul", np.multiply, lambda g, a, b: (-g * b, -g * a))
    a, b = np.array([1e300, 2.0]), np.array([1.0, 3.0])
    text = explain(lambda: (mul(Tensor(a, requires_grad=True), Tensor(b, requires_grad=True))
                            * Tensor([1e10, 1.0])).sum())
    assert text.startswith("The backward of op 'mul' is wrong for input 0"), text


def test_a_binary_op_gives_each_input_its_own_gradient():
    mul = binary_op("mul", np.multiply, lambda g, a, b: (g * b, (g * a).sum(0)))
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = Tensor([1.0, -2.0], requires_grad=True)
    (mul(x, w) * Tensor([[1.0, 1.0], [2.0, 2.0]])).sum().backward()
    assert np.array_equal(x.grad, [[1.0, -2.0], [2.0, -4.0]]) and np.array_equal(w.grad, [7.0, 10.0])


def test_an_inf_in_a_wrong_gradient_does_not_hide_the_mistake():
    # ∛a has an infinite derivative at a = 0 and is finite on both sides: in a sign-flipped backward that
    # inf made the random-direction test's tolerance infinite, and the wrong gradient passed
    def cbrt(a):
        out = np.cbrt(a.data)
        return Tensor.from_op(out, (a,), "cbrt", lambda g: (-g / (3 * out * out),))
    with np.errstate(divide="ignore", invalid="ignore"):
        report = diagnose(lambda: cbrt(Tensor([0.0, 8.0], requires_grad=True)).sum())
    assert not report.ok and report.op == "cbrt", str(report)
