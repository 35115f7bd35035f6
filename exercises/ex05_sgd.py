"""Chapter 5: gradient descent, the first optimizer.

An optimizer here is a subclass of ``tinygrad_edu.optim.Optimizer``, as every optimizer of the
engine is (read ``tinygrad_edu/optim/base.py``). The base class does the bookkeeping: ``step()``
calls ``update(w, g, state)`` once for every parameter that has a gradient, in order, and skips
the ones whose ``.grad`` is None. You write ``update``:

    w      the parameter's values, a NumPy array: change it IN PLACE (w -= ..., not w = w - ...),
           or the parameter does not move
    g      its gradient ∂L/∂w, an array shaped like w (read it, do not change it)
    state  a dict that belongs to this parameter alone (empty at the first step): keep a
           velocity or a running average there, never on self, which all parameters share

The learning rate is ``self.lr``, read at every step: a schedule may change it between steps.

Check your work with ``edu check 5.1`` (one exercise) or ``edu check`` (all of them).
"""
from tinygrad_edu.optim import Optimizer, learning_rate


class SGD(Optimizer):
    """Exercise 5.1: plain gradient descent.

        w ← w − η·∇L

    Every weight takes a step against its gradient, η (``self.lr``) times as long. This is
    PyTorch's ``torch.optim.SGD(params, lr)`` without momentum.
    """

    cli_name = "sgd"
    formula = "w ← w − η·∇L"
    hyper = (learning_rate(),)

    def __init__(self, params, lr=1e-3):
        super().__init__(params, lr=lr)

    def update(self, w, g, state):
        """Move `w` (in place) by −η·g.

        Shapes: w and g have the parameter's shape. No state is needed.
        Hint: one line, with an in-place operator.
        """
        # BEGIN SOLUTION
        w -= self.lr * g
        # END SOLUTION
