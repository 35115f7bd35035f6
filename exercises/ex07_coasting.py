"""Chapter 7: momentum without a learning rate.

Take momentum (exercise 6.1) and remove its learning rate after k steps. From then on the
update is Δw_t = μ·Δw_{t−1}: it never reads a gradient again, so the weights follow a geometric
series whatever the loss, the data, or whether backward() ran at all. Exercise 7.1 writes that
optimizer; exercise 7.2 predicts, without running it, how far the weights coast.

Check your work with ``edu check 7.1`` (one exercise) or ``edu check`` (all of them).
"""
import math

import numpy as np

from tinygrad_edu.optim import Hyperparameter, Optimizer, learning_rate
from tinygrad_edu.tensor import mark_changed


class MomentumWithoutLR(Optimizer):
    """Exercise 7.1: momentum whose learning rate is removed.

        steps 1 … k:   m ← μ·m + η·∇L;   w ← w − m        (exercise 6.1; k = self.warmup_steps)
        steps k + 1 …: m ← μ·m;          w ← w − m        (no learning rate, so no gradient)

    ``step()`` is given: it counts the steps (``self.step_count`` is the number of the step being
    taken when ``update`` runs) and, once the learning rate is gone, calls ``update`` for every
    parameter that has moved, whether it has a gradient or not. Then `g` may be an array (if
    backward() ran) or None; either way it must not move the weights any more.
    """

    cli_name = "momentum-no-lr"
    formula = "steps ≤ k: m ← μ·m + η·∇L;  after: m ← μ·m (no gradient);  w ← w − m"
    hyper = (learning_rate("η: the step size during the first warmup_steps steps; removed afterwards"),
             Hyperparameter("momentum", float, "momentum >= 0", "μ: the fraction of the previous step kept",
                            lambda v: v >= 0),
             Hyperparameter("warmup_steps", int, "warmup_steps >= 0", "k: how many steps use the learning rate",
                            lambda v: v >= 0))
    state_keys = ("momentum_buffer",)

    def __init__(self, params, lr=0.01, momentum=0.9, warmup_steps=1):
        super().__init__(params, lr=lr, momentum=momentum, warmup_steps=warmup_steps)

    def step(self):
        """One step for every parameter with a gradient while the learning rate lasts, then for every one that moved."""
        self.step_count += 1
        driven = self.step_count <= self.warmup_steps
        moved = []
        for p, state in zip(self.params, self.state):
            if (p.grad is None) if driven else not state:
                continue        # no gradient to learn from yet; after the removal: never moved, nothing to coast
            self.update(p.data, p.grad, state)
            moved.append(p)
        mark_changed(*moved)    # a graph made before this step is stale (see tinygrad_edu/tensor.py)

    def update(self, w, g, state):
        """One step of this parameter: the velocity ``state["momentum_buffer"]`` (shaped like w), then w.

        Hint: exercise 6.1's three lines, where the gradient's line runs only while
        ``self.step_count <= self.warmup_steps``.
        """
        # BEGIN SOLUTION
        m = self.buffer(state, "momentum_buffer", w)
        m *= self.momentum
        if self.step_count <= self.warmup_steps:
            m += self.lr * g
        w -= m
        # END SOLUTION


def coast_distance(last_update, momentum, n):
    """Exercise 7.2: how far the weights coast.

    Once the gradient is gone (exercise 7.1), let Δw = w_k − w_{k−1} be the last step it drove.
    Each later step is μ times the one before it, Δw_{k+j} = μʲ·Δw, so n steps after the removal
    the weights have moved

        w_{k+n} − w_k = Δw·(μ + μ² + … + μⁿ) = Δw·μ(1 − μⁿ)/(1 − μ)     (μ ≠ 1)
                                                = n·Δw                    (μ = 1)

    and as n → ∞ (``n = math.inf``): Δw·μ/(1 − μ) for μ < 1, a stop; for μ ≥ 1 they never stop:
    +∞ or −∞ with the sign of Δw, and 0 where Δw = 0 (a weight that never moved stays put).

    last_update: Δw, an array of any shape (also empty); momentum: μ ≥ 0, a float; n: a whole
    number ≥ 0, or math.inf. Return an array of floats shaped like last_update.

    Hint: the sum starts at μ, not at 1: the step Δw itself was taken before the removal. At
    μ = 1 the closed form divides 0 by 0; ``np.copysign(math.inf, x)`` is ±∞ with x's sign.
    """
    # BEGIN SOLUTION
    last_update = np.asarray(last_update, dtype=float)
    if math.isinf(n):
        if momentum >= 1:
            return np.where(last_update == 0, 0.0, np.copysign(math.inf, last_update))
        return last_update * (momentum / (1 - momentum))
    if momentum == 1:
        return last_update * n
    return last_update * (momentum * (1 - momentum ** n) / (1 - momentum))
    # END SOLUTION
