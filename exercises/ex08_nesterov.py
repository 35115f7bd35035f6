"""Chapter 8: Nesterov's momentum, which looks ahead before it steps.

Check your work with ``edu check 8.1`` (or ``edu check`` for all the exercises).
"""
from tinygrad_edu.optim import Optimizer, learning_rate, unit_interval


class Nesterov(Optimizer):
    """Exercise 8.1: Nesterov's momentum.

    Nesterov's accelerated gradient, in Sutskever et al.'s form, takes the gradient at the
    look-ahead point w + μ·v, where momentum alone would carry the weights:

        v ← μ·v − η·∇L(w + μ·v)      (v starts at 0)
        w ← w + v

    But step() only has ∇L at the weights the model holds. So the model holds the look-ahead
    point w̃ = w + μ·v instead; substituting w = w̃ − μ·v gives a rule that needs only ∇L(w̃) = g:

        v  ← μ·v − η·g
        w̃ ← w̃ + μ·v − η·g         (with the new v)

    That is the rule to write: `w` below is w̃. (At a constant η it is PyTorch's
    ``SGD(lr=η, momentum=μ, nesterov=True)``.)
    """

    cli_name = "nesterov"
    formula = "v ← μ·v − η·∇L(w + μ·v);  w ← w + v   (the model holds w + μ·v)"
    hyper = (learning_rate(), unit_interval("momentum", "μ: the fraction of the previous step kept"))
    state_keys = ("velocity",)

    def __init__(self, params, lr=0.01, momentum=0.9):
        super().__init__(params, lr=lr, momentum=momentum)

    def update(self, w, g, state):
        """Update the velocity ``state["velocity"]`` (shaped like w), then the look-ahead weights w.

        Hint: compute η·g once; the weights move by μ times the *new* v, minus η·g.
        """
        # BEGIN SOLUTION
        v = self.buffer(state, "velocity", w)
        step = self.lr * g
        v *= self.momentum
        v -= step
        w += self.momentum * v
        w -= step
        # END SOLUTION
