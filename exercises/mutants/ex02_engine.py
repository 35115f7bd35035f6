"""Realistic wrong answers to the exercises of ex02_engine.py (instructor's edition only).

Each mutant is what a student plausibly writes; the test suite proves that the checks fail it
and show the hint meant for its kind of mistake.
"""
import numpy as np

from tinygrad_edu.course.mutants import mutant


# ----- 2.15: topological_order ---------------------------------------------------------------------

@mutant("2.15", kind="recursion", why="the recursive depth-first walk of micrograd: fine until the recursion limit")
def topological_order(root):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for inp in node.inputs:
                if inp.requires_grad:
                    visit(inp)
            order.append(node)
    visit(root)
    return order


@mutant("2.15", kind="duplicate", why="no set of visited tensors: a tensor reached twice is listed twice")
def topological_order(root):  # noqa: F811  (each mutant is a separate wrong answer)
    order, stack = [], [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        stack.append((node, True))
        for inp in node.inputs:
            if inp.requires_grad:
                stack.append((inp, False))
    return order


@mutant("2.15", kind="order", why="a tensor appended when first reached (preorder): outputs before inputs")
def topological_order(root):  # noqa: F811
    order, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(inp for inp in node.inputs if inp.requires_grad)
    return order


@mutant("2.15", kind="missing", why="only the results of ops walked: the leaves (the parameters) left out")
def topological_order(root):  # noqa: F811
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for inp in node.inputs:
            if inp.requires_grad and inp.inputs and inp not in seen:
                stack.append((inp, False))
    return order


@mutant("2.15", kind="extra", why="every input pushed, constants and data included")
def topological_order(root):  # noqa: F811
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for inp in node.inputs:
            if inp not in seen:
                stack.append((inp, False))
    return order


# ----- 2.16: backward ------------------------------------------------------------------------------
# (topological_order below is the engine's while 2.16 and 2.17 are checked: the workbook binds it here too)

@mutant("2.16", kind="overwrite", why="inp.grad = g: a tensor used twice keeps only the last share")
def backward(root):
    root.grad = np.ones_like(root.data)
    for node in reversed(topological_order(root)):
        if node._backward is None or node.grad is None:
            continue
        for inp, g in zip(node.inputs, node._backward(node.grad)):
            if g is not None and inp.requires_grad:
                inp.grad = g


@mutant("2.16", kind="order", why="the topological order walked forwards: no gradient has arrived yet")
def backward(root):  # noqa: F811
    root.grad = np.ones_like(root.data)
    for node in topological_order(root):
        if node._backward is None or node.grad is None:
            continue
        for inp, g in zip(node.inputs, node._backward(node.grad)):
            if g is not None and inp.requires_grad:
                inp.grad = g if inp.grad is None else inp.grad + g


@mutant("2.16", kind="chain", why="each local backward called with ones, not with the node's gradient")
def backward(root):  # noqa: F811
    root.grad = np.ones_like(root.data)
    for node in reversed(topological_order(root)):
        if node._backward is None or node.grad is None:
            continue
        for inp, g in zip(node.inputs, node._backward(np.ones_like(node.data))):
            if g is not None and inp.requires_grad:
                inp.grad = g if inp.grad is None else inp.grad + g


@mutant("2.16", kind="accumulate", why="every .grad reset to zeros first, so gradients never add up across calls")
def backward(root):  # noqa: F811
    order = topological_order(root)
    for node in order:
        node.grad = np.zeros_like(node.data)
    root.grad = np.ones_like(root.data)
    for node in reversed(order):
        if node._backward is None:
            continue
        for inp, g in zip(node.inputs, node._backward(node.grad)):
            if g is not None and inp.requires_grad:
                inp.grad = inp.grad + g


# ----- 2.17: zero_grad -----------------------------------------------------------------------------

@mutant("2.17", kind="leaves_only", why="only the leaves cleared, as an optimizer's zero_grad does")
def zero_grad(root):
    for t in topological_order(root):
        if t.is_leaf:
            t.grad = None


@mutant("2.17", kind="zeros", why="gradients set to arrays of zeros instead of None")
def zero_grad(root):  # noqa: F811
    for t in topological_order(root):
        t.grad = np.zeros_like(t.data)


@mutant("2.17", kind="missing", why="only the root and its direct inputs cleared, not the whole graph")
def zero_grad(root):  # noqa: F811
    root.grad = None
    for t in root.inputs:
        t.grad = None
