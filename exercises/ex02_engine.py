"""Chapter 2: the engine itself: the order of the graph, the backward loop, and zero_grad.

Every op's result is a Tensor that remembers how it was made. The attributes you need:

    t.inputs          the tensors t was computed from, in argument order (() for a leaf)
    t.requires_grad   whether t needs a gradient: a leaf made with requires_grad=True, or
                      the result of an op with at least one such input
    t._backward       the op's local backward: g = ∂L/∂t  ↦  one gradient per input, in the
                      order of t.inputs (None for an input that gets none); None for a leaf
    t.grad            the gradient stored in t (an array shaped like t), or None
    t.data            the values (a NumPy array)

Tensors compare and hash by identity, so they can go in a set or be keys of a dict.

Check your work with ``edu check 2.15`` (one exercise) or ``edu check`` (all of them).
"""
import numpy as np


def topological_order(root):
    """Exercise 2.15: the topological order, without recursion.

    Return a list of every tensor that `root` depends on and that requires grad (root itself
    and the leaves included), each exactly once, every tensor after all of its inputs that
    require grad: inputs before outputs. Reversed, it visits each tensor after all its users,
    the order the backward pass needs.

    A tensor reached along two paths (x in x * x, or both sides of a diamond) is listed once.
    A tensor that does not require grad (data, a constant) is left out, and so is everything
    it was computed from.

    Hint: a depth-first walk lists a tensor once all its inputs are listed ("postorder"). A
    recursive walk stops at Python's recursion limit, and a graph can be 100,000 ops deep:
    keep your own stack, a list of (tensor, inputs_done) pairs. Pop one; if its inputs are
    done, append it to the order; else push it back as done, then push each of its inputs
    not seen yet. A set of the tensors already seen keeps each one to a single entry.
    """
    # BEGIN SOLUTION
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:                     # every input is in the order already
            order.append(node)
            continue
        if node in seen:                    # reached along a second path
            continue
        seen.add(node)
        stack.append((node, True))          # comes back after everything pushed above it
        for inp in node.inputs:
            if inp.requires_grad and inp not in seen:
                stack.append((inp, False))
    return order
    # END SOLUTION


def backward(root):
    """Exercise 2.16: the backward loop.

    Compute ∂root/∂t for every tensor t in root's graph and store it in ``t.grad``, for a
    scalar `root` (a loss) whose graph was just built (its ops' results have no .grad yet).

      1. Seed:  ∂root/∂root = 1, so ``root.grad = np.ones_like(root.data)``.
      2. Walk ``topological_order(root)`` in reverse (outputs first): each node's gradient is
         then complete when it is reached, because every user of a node comes after it.
      3. For each node that is the result of an op (``node._backward`` is not None) and has a
         gradient, ``node._backward(node.grad)`` gives one gradient per input, in the order
         of ``node.inputs``; skip a None, and an input that does not require grad.
      4. ACCUMULATE into the input's .grad: ``inp.grad = g`` if it has none yet, else
         ``inp.grad = inp.grad + g``. A tensor used twice (x in x * x) gets a share from each
         use, and a leaf's .grad keeps adding up over several backward() calls, as in
         PyTorch, until zero_grad clears it.

    Every tensor with a gradient keeps it in .grad, the op results too (the drawings show them).

    Hint: ``topological_order`` is exercise 2.15; while this one is checked it is the engine's.
    """
    # BEGIN SOLUTION
    root.grad = np.ones_like(root.data)                 # ∂root/∂root = 1
    for node in reversed(topological_order(root)):      # every user of a node comes before it
        if node._backward is None or node.grad is None:  # a leaf, or every path to it was cut
            continue
        for inp, g in zip(node.inputs, node._backward(node.grad)):
            if g is None or not inp.requires_grad:
                continue
            inp.grad = g if inp.grad is None else inp.grad + g   # several users: add up
    # END SOLUTION


def zero_grad(root):
    """Exercise 2.17: zero_grad for a whole graph.

    Forget every gradient in root's graph: set ``.grad = None`` for every tensor in it, the
    leaves (the parameters) AND the results of ops. In this engine the op results keep their
    gradient too (for the drawings), so clearing only the leaves leaves stale gradients behind,
    which the next backward adds to. None means "no gradient yet", as in PyTorch's zero_grad: an optimizer skips a parameter
    whose .grad is None, whereas an array of zeros is a gradient of 0.

    Hint: ``topological_order(root)`` lists every tensor of the graph that can have a gradient.
    """
    # BEGIN SOLUTION
    for t in topological_order(root):
        t.grad = None
    # END SOLUTION
