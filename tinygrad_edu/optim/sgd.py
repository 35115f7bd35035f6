"""Stochastic gradient descent, exactly as torch.optim.SGD."""
from __future__ import annotations

from .base import HyperparameterError, Hyperparameter, Optimizer, learning_rate, non_negative, unit_interval
from .registry import register


@register
class SGD(Optimizer):
    """Gradient descent with optional momentum, PyTorch's form (torch.optim.SGD, same results).

        g ← ∇L + λ·w                      (weight decay λ)
        b ← g                             on the first step
        b ← μ·b + (1 − τ)·g               afterwards (dampening τ)
        g ← g + μ·b   if nesterov, else   g ← b
        w ← w − η·g

    The learning rate multiplies the whole buffer b *outside* it, so b is a sum of raw
    gradients and changing η rescales every remembered gradient at once: at η = 0 the
    weights stop dead. Compare ``Momentum``, which puts η inside: at a constant η,
    ``SGD(lr=η, momentum=μ)`` and ``Momentum(lr=η, momentum=μ)`` give the same weights
    (its m is η·b), but they part ways as soon as η changes.
    """

    cli_name = "sgd"
    formula = "b ← μ·b + (1−τ)·∇L;  w ← w − η·b   (torch.optim.SGD; b = ∇L on step 1, plain GD at μ = 0)"
    hyper = (
        learning_rate(),
        unit_interval("momentum", "μ: the fraction of the previous buffer kept (0 = plain gradient descent)"),
        Hyperparameter("dampening", float, "0 <= dampening <= 1", "τ: scales each new gradient by (1 − τ) "
                       "before it enters the buffer", lambda v: 0 <= v <= 1),
        non_negative("weight_decay", "λ: adds λ·w to the gradient (L2 regularisation)"),
        Hyperparameter("nesterov", bool, "true or false (needs momentum > 0 and dampening = 0)",
                       "use the Nesterov form g + μ·b instead of b"),
    )
    state_keys = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov)

    def check_hyperparameters(self):
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise HyperparameterError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                                      f"momentum={self.momentum}, dampening={self.dampening}")

    def update(self, w, g, state):
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        if self.momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()     # b ← g on the first step (torch)
            else:
                b *= self.momentum                          # b ← μ·b + (1 − τ)·g
                b += (1 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        w -= self.lr * g
