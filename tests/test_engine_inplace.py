"""In-place changes between forward and backward: the version counter, and what backward says.

A closure reads its inputs' .data when backward runs, so a value changed in between would give
the gradient at the new value. PyTorch raises for that; so do we, for every change made
through the library, and inside detect_anomaly for writes into the array too.
"""
import numpy as np
import pytest

from tinygrad_edu import Tensor, detect_anomaly, nn, optim

STALE = r"was changed in place after op '{op}' used it as input {i}.*redo the forward after the change"


def square_loss():
    w = Tensor([1.0, -2.0, 3.0], requires_grad=True, name="w")
    return w, (w * w).sum()          # ∂/∂w = 2w


def test_versions_count_the_library_s_in_place_changes():
    w = Tensor([1.0, 2.0], requires_grad=True)
    assert w._version == 0 and (w * 2.0)._version == 0
    w.data -= 0.5                    # an augmented assignment assigns .data: one change
    w.data = np.zeros(2)
    assert w._version == 2 and w.data.tolist() == [0.0, 0.0]
    w.data[0] = 7.0                  # a write into the array goes around the tensor
    assert w._version == 2
    with pytest.raises(TypeError, match="Tensor data must be numeric"):
        w.data = "abc"
    w.data = [1, 2]                  # converted to the tensor's dtype, as the constructor does
    assert w.data.dtype == np.float64 and w._version == 3


def test_data_minus_equals_between_forward_and_backward_raises_naming_tensor_and_op():
    w, loss = square_loss()
    w.data -= 0.1 * np.ones(3)       # the student's manual step, before backward
    with pytest.raises(RuntimeError, match="^backward: tensor 'w' of shape \\(3,\\) \\(now at version 1\\) "
                                           + STALE.format(op="mul", i=0)) as info:
        loss.backward()
    assert "\n" not in str(info.value) and w.grad is None       # refused before any gradient was stored
    loss = (w * w).sum()             # the fix: redo the forward
    loss.backward()
    np.testing.assert_array_equal(w.grad, 2 * w.data)


def test_what_pytorch_does_in_the_same_case():
    torch = pytest.importorskip("torch")
    w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    loss = (w * w).sum()
    with torch.no_grad():
        w -= 0.1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_without_the_check_the_gradient_would_be_silently_wrong():
    """What the error prevents: backward computes 2w from the new w, not the w the loss was computed at."""
    w, loss = square_loss()
    at_forward = w.data.copy()
    w.data -= 1.0
    w._changed_at = 0                # hide the change, as the engine did before it had versions
    loss.backward()
    assert not np.allclose(w.grad, 2 * at_forward)
    np.testing.assert_array_equal(w.grad, 2 * (at_forward - 1.0))


def test_optimizer_step_between_forward_and_backward_raises():
    model = nn.MLP([2, 3, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = np.ones((4, 2))
    (model(x) ** 2).mean().backward()
    versions = [p._version for p in model.parameters()]
    loss = (model(x) ** 2).mean()
    opt.step()                       # moves every parameter that has a gradient
    assert [p._version for p in model.parameters()] == [v + 1 for v in versions]
    with pytest.raises(RuntimeError, match="^backward: tensor 'layers.0.W' of shape \\(2, 3\\) \\(now at version 1\\) "
                                           + STALE.format(op="linear", i=1)):
        loss.backward()


def test_a_parameter_without_gradient_is_not_moved_and_keeps_its_version():
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a * 3.0).sum().backward()
    opt.step()
    assert (a._version, b._version) == (1, 0) and b.data.tolist() == [2.0]


def test_momentum_without_lr_bumps_while_coasting():
    w = Tensor([1.0], requires_grad=True)
    opt = optim.MomentumWithoutLR([w], lr=0.1, momentum=0.5, warmup_steps=1)
    (w * w).sum().backward()
    opt.step()                       # driven by the gradient
    loss = (w * w).sum()
    opt.step()                       # coasting: no gradient read, but the weight moves
    assert w._version == 2
    with pytest.raises(RuntimeError, match=STALE.format(op="mul", i=0)):
        loss.backward()


def test_load_state_dict_between_forward_and_backward_raises():
    model = nn.MLP([2, 3, 1], seed=0)
    loss = (model(np.ones((2, 2))) ** 2).mean()
    model.load_state_dict(nn.MLP([2, 3, 1], seed=1).state_dict())
    with pytest.raises(RuntimeError, match=STALE.format(op="linear", i=1)):
        loss.backward()


def test_a_changed_intermediate_or_constant_input_is_caught_too():
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = w * 3.0
    loss = (h * h).sum()
    h.data = h.data + 1              # an op's output, changed before the op that used it runs backward
    with pytest.raises(RuntimeError, match="^backward: a tensor of shape \\(2,\\) \\(now at version 1\\) "
                                           + STALE.format(op="mul", i=0)):
        loss.backward()
    x = Tensor([[1.0, 2.0]], name="x")   # data, no gradient: still read by linear's backward for ∂L/∂W
    W = Tensor([[1.0], [1.0]], requires_grad=True)
    loss = nn.linear(x, W).sum()
    x.data = x.data * 2
    with pytest.raises(RuntimeError, match="tensor 'x' .*" + STALE.format(op="linear", i=0)):
        loss.backward()


def test_writes_into_the_array_are_caught_inside_detect_anomaly_only():
    w, loss = square_loss()
    w.data[0] = 5.0                  # no version change: outside detect_anomaly this goes unseen
    loss.backward()
    np.testing.assert_array_equal(w.grad, [10.0, -4.0, 6.0])     # 2w at the new w, not at the forward's
    w.data[0] = 1.0
    w.grad = None
    with detect_anomaly():
        loss = (w * w).sum()
        w.data[1] = 0.0
        with pytest.raises(RuntimeError, match="tensor 'w' of shape \\(3,\\) \\(its values were written into, "
                                               "e.g. t.data\\[...\\] = v\\) " + STALE.format(op="mul", i=0)):
            loss.backward()
        w.data[1] = -2.0             # the same values again: nothing to complain about
        loss.backward()
    np.testing.assert_array_equal(w.grad, [2.0, -4.0, 6.0])


def test_unchanged_inputs_backpropagate_as_before_and_twice():
    w, loss = square_loss()
    print(w.data)                    # reading is not a change
    loss.backward()
    loss.backward()                  # the graph is still valid: nothing changed
    np.testing.assert_array_equal(w.grad, 4 * w.data)
    w.zero_grad()
    w.grad = np.zeros(3)
    w.grad += 1.0                    # .grad is not .data: changing it is fine
    loss.backward()
    np.testing.assert_array_equal(w.grad, 1.0 + 2 * w.data)


def test_the_documented_limits_every_input_is_checked_and_detach_has_its_own_counter():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w + 1.0).sum()           # add's backward does not read w, but a changed input is refused all the same
    w.data = w.data * 2
    with pytest.raises(RuntimeError, match=STALE.format(op="add", i=0)):
        loss.backward()
    loss = (w * w).sum()
    alias = w.detach()               # shares w's array, not its counter
    alias.data -= 1.0                # changes w's values in place, bumps only the alias
    assert alias._version == 1 and w._version == 1 and w.data.tolist() == [1.0, 3.0]
    loss.backward()                  # not seen: 2w at the new values
    np.testing.assert_array_equal(w.grad, [2.0, 6.0])


def test_the_check_runs_only_when_something_changed_since_the_graph_began(monkeypatch):
    """The docstring: while nothing changed since the oldest op was made, backward's look is one comparison."""
    from tinygrad_edu import tensor
    calls = []
    original = tensor._check_inputs_unchanged
    monkeypatch.setattr(tensor, "_check_inputs_unchanged", lambda *a: calls.append(1) or original(*a))
    w = Tensor([1.0, 2.0], requires_grad=True)
    w.data = w.data + 1              # a change before the graph is made: the ops saw the new values
    loss = (w * w).sum()
    loss.backward()
    assert calls == []
    unrelated = Tensor([0.0])
    unrelated.data = np.ones(1)      # a change elsewhere: the full check runs, and finds nothing
    loss.backward()
    assert calls == [1]
    np.testing.assert_array_equal(w.grad, 2 * (2 * w.data))
