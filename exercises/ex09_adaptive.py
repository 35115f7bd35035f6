"""Chapter 9: adaptive steps: each weight's step divided by a running size of its own gradients.

As in the exercises before, ``update(self, w, g, state)`` changes `w` in place and keeps its
running averages in `state`, one dict per parameter (``self.buffer(state, key, w)`` makes one as
zeros on first use). ``np.sqrt`` works element by element, as do ``*``, ``/`` and ``+``.

Check your work with ``edu check 9.1`` (one exercise) or ``edu check`` (all of them).
"""
import numpy as np

from tinygrad_edu.optim import Hyperparameter, HyperparameterError, Optimizer, learning_rate, non_negative, positive

_BETAS = Hyperparameter("betas", tuple, "0 <= beta1 < 1 and 0 <= beta2 < 1",
                        "(β1, β2): the memories of the averages of g and of g²", lambda v: 0 <= v < 1)


class RMSprop(Optimizer):
    """Exercise 9.1: RMSprop.

    A step divided by the root mean square of the recent gradients:

        s ← α·s + (1 − α)·∇L²          (a running mean of squared gradients; s starts at 0)
        w ← w − η·∇L / (√s + ε)

    A weight whose gradients are large takes small steps, and one whose gradients are small takes
    large ones. ε keeps the division finite where s is 0. (PyTorch's RMSprop can also add momentum
    and centre the average; the engine's ``optim.RMSprop`` has both, this exercise neither.)
    """

    cli_name = "rmsprop"
    formula = "s ← α·s + (1−α)·∇L²;  w ← w − η·∇L/(√s + ε)"
    hyper = (learning_rate(),
             Hyperparameter("alpha", float, "0 <= alpha < 1", "α: how much of the running mean of g² is kept",
                            lambda v: 0 <= v < 1),
             positive("eps", "ε: added to the root mean square to avoid dividing by zero"))
    state_keys = ("square_avg",)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps)

    def update(self, w, g, state):
        """Update the running mean ``state["square_avg"]`` (shaped like w), then w.

        Hint: ε is added to the square root, outside it.
        """
        # BEGIN SOLUTION
        s = self.buffer(state, "square_avg", w)
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        w -= self.lr * g / (np.sqrt(s) + self.eps)
        # END SOLUTION


class Adam(Optimizer):
    """Exercise 9.2: Adam with bias correction.

        g ← ∇L + λ·w                          (L2 weight decay, added to the gradient)
        t ← t + 1                             (this parameter's own count of steps)
        m ← β1·m + (1 − β1)·g                 (exercise 6.3's average of gradients)
        v ← β2·v + (1 − β2)·g²                (exercise 9.1's average of squared gradients)
        m̂ = m / (1 − β1ᵗ),   v̂ = v / (1 − β2ᵗ)
        w ← w − η·m̂ / (√v̂ + ε)

    m and v start at 0, so for the first steps they are too small: after one step m = (1 − β1)·g.
    Dividing by 1 − βᵗ undoes that, and matters less as t grows. (``optim.Adam`` also has AMSGrad;
    not here.)
    """

    cli_name = "adam"
    formula = "m ← β1·m + (1−β1)·∇L;  v ← β2·v + (1−β2)·∇L²;  w ← w − η·m̂/(√v̂ + ε)"
    hyper = (learning_rate(), _BETAS, positive("eps", "ε: added to √v̂ to avoid dividing by zero"),
             non_negative("weight_decay", "λ: adds λ·w to the gradient (L2 regularisation)"))
    state_keys = ("step", "exp_avg", "exp_avg_sq")
    state_counters = ("step",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def update(self, w, g, state):
        """The lines above for one parameter: t is ``state["step"]``, m ``state["exp_avg"]``, v ``state["exp_avg_sq"]``.

        Hint: count t in `state` (``state.get("step", 0) + 1``), not with ``self.step_count``:
        a parameter without a gradient at some step is skipped, and its count must not move.
        ``beta1, beta2 = self.betas``. Do not change g in place: ``g = g + ...`` makes a new array.
        """
        # BEGIN SOLUTION
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        t = state["step"] = state.get("step", 0) + 1
        m = self.buffer(state, "exp_avg", w)
        v = self.buffer(state, "exp_avg_sq", w)
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        # END SOLUTION


class AdamW(Optimizer):
    """Exercise 9.3: AdamW's decoupled weight decay.

    AdamW is Adam with its weight decay taken out of the gradient:

        w ← w·(1 − η·λ)                       (shrink the weights directly, first...)
        then exercise 9.2's step on ∇L alone   (...and leave the gradient alone: no λ·w in it)

    In Adam the decay λ·w joins the gradient and is divided by √v̂ with it, so weights with large
    gradients are barely regularised; decoupled, every weight shrinks by the same factor.
    """

    cli_name = "adamw"
    formula = "w ← w·(1 − η·λ);  then Adam's step on ∇L"
    hyper = (learning_rate(), _BETAS, positive("eps", "ε: added to √v̂ to avoid dividing by zero"),
             non_negative("weight_decay", "λ: shrinks every weight by the factor (1 − η·λ) each step"))
    state_keys = ("step", "exp_avg", "exp_avg_sq")
    state_counters = ("step",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def check_hyperparameters(self):
        if self.lr * self.weight_decay > 1:
            raise HyperparameterError(f"AdamW: weight_decay={self.weight_decay:g} is out of range at lr={self.lr:g}; "
                                      f"use lr*weight_decay <= 1, or each step flips the weights' sign")

    def update(self, w, g, state):
        """The decay, then Adam's step (without its λ·w), for one parameter, with the state keys of exercise 9.2.

        Hint: the decay uses the learning rate of this step, ``self.lr``; write Adam's lines
        again here (this class does not inherit from your Adam).
        """
        # BEGIN SOLUTION
        beta1, beta2 = self.betas
        w *= 1 - self.lr * self.weight_decay
        t = state["step"] = state.get("step", 0) + 1
        m = self.buffer(state, "exp_avg", w)
        v = self.buffer(state, "exp_avg_sq", w)
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        # END SOLUTION
