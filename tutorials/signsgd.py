"""Sign-SGD, the worked example of tutorials/10-your-own-optimizer.md, as a module `edu` can import.

From this folder:

    edu train --optimizer signsgd:SignSGD --lr 0.01 --epochs 10

The class is the one the chapter builds. It is not registered: `signsgd:SignSGD` names it
directly, and a short name registered in one Python process means nothing to the new
process that `edu` starts (the chapter explains how to publish one with an entry point).
"""
import numpy as np

from tinygrad_edu import optim


class SignSGD(optim.Optimizer):
    """Sign descent: every weight moves by exactly η per step, against the sign of its gradient.

        w ← w − η·sign(∇L)

    The size of the gradient is thrown away; only its sign is kept. A weight whose gradient is
    exactly 0 does not move. With a constant η the weights end up hopping around a minimum by
    ±η: shrink η (a schedule) to settle.
    """

    cli_name = "sign-sgd"
    formula = "w ← w − η·sign(∇L)"
    hyper = (optim.learning_rate("η: how far every weight moves per step"),)

    def __init__(self, params, lr=0.01):
        super().__init__(params, lr=lr)

    def update(self, w, g, state):
        w -= self.lr * np.sign(g)          # w ← w − η·sign(∇L)
