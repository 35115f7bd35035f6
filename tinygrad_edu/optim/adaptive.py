"""Adaptive step sizes: each weight's step is divided by a running size of its own gradients.

Adagrad, RMSprop, Adam and AdamW, with torch.optim's argument names, defaults and update
rules (the tests compare whole trajectories with PyTorch's).
"""
from __future__ import annotations

import math

import numpy as np

from .base import Hyperparameter, HyperparameterError, Optimizer, learning_rate, non_negative, positive, unit_interval
from .registry import register

_WEIGHT_DECAY_HELP = "λ: adds λ·w to the gradient (L2 regularisation)"


def _check_squared_decay(opt: Optimizer) -> None:
    """λ·w joins the gradient, which these optimizers square: refuse a λ whose square overflows.

    For every weight |w| ≥ 1, (λ·w)² is beyond the largest float once λ ≥ √(largest float):
    about 1.3e154 in float64, 1.8e19 in float32. The arithmetic breaks there (λ = 1e308 turns
    a weight of 2 into nan on Adam's first step), so such a λ is refused by name.
    """
    dtype = min((p.dtype for p in opt.params), key=lambda d: np.finfo(d).max)
    limit = math.sqrt(np.finfo(dtype).max)
    if opt.weight_decay >= limit:
        raise HyperparameterError(f"{type(opt).__name__}: weight_decay={opt.weight_decay:g} is out of range; use "
                                  f"0 <= weight_decay < {limit:.2g} (it joins the gradient, which is squared, and "
                                  f"(weight_decay·w)² overflows {dtype} for every weight of size 1 or more)")


@register
class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), as torch.optim.Adagrad.

        g ← ∇L + λ·w
        s ← s + g²                           (s starts at initial_accumulator_value)
        w ← w − η_t · g / (√s + ε),          η_t = η / (1 + (t − 1)·lr_decay)

    Every weight gets its own step size, which only shrinks: weights with large past
    gradients slow down most. Eventually every step becomes tiny.
    """

    cli_name = "adagrad"
    formula = "s ← s + ∇L²;  w ← w − η·∇L/(√s + ε)"
    hyper = (learning_rate(),
             non_negative("lr_decay", "the step size at step t is η/(1 + (t−1)·lr_decay)"),
             non_negative("weight_decay", _WEIGHT_DECAY_HELP),
             non_negative("initial_accumulator_value", "the starting value of the sum of squared gradients s"),
             positive("eps", "ε: added to √s to avoid dividing by zero"))
    state_keys = ("step", "sum")
    state_counters = ("step",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps)

    check_hyperparameters = _check_squared_decay

    def update(self, w, g, state):
        t = state["step"] = state.get("step", 0) + 1
        s = state.get("sum")
        if s is None:
            s = state["sum"] = np.full_like(w, self.initial_accumulator_value)
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        lr_t = self.lr / (1 + (t - 1) * self.lr_decay)
        s += g * g                                      # s ← s + g²
        w -= lr_t * g / (np.sqrt(s) + self.eps)         # w ← w − η_t·g/(√s + ε)


@register
class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture notes, 2012), as torch.optim.RMSprop.

        g ← ∇L + λ·w
        s ← α·s + (1 − α)·g²                  (a running mean of squared gradients)
        centered:  ḡ ← α·ḡ + (1 − α)·g;  d = √(s − ḡ²) + ε      (a running variance)
        else:      d = √s + ε
        momentum μ > 0:  b ← μ·b + g/d;   w ← w − η·b
        else:            w ← w − η·g/d

    Like Adagrad, but the squared gradients are averaged with a decay α instead of summed,
    so the step size does not shrink forever.
    """

    cli_name = "rmsprop"
    formula = "s ← α·s + (1−α)·∇L²;  w ← w − η·∇L/(√s + ε)"
    hyper = (learning_rate(),
             unit_interval("alpha", "α: how much of the running mean of g² is kept each step"),
             positive("eps", "ε: added to the root mean square to avoid dividing by zero"),
             non_negative("weight_decay", _WEIGHT_DECAY_HELP),
             unit_interval("momentum", "μ: momentum on the scaled gradient (0 = none)"),
             Hyperparameter("centered", bool, "true or false",
                            "divide by the running standard deviation instead of the root mean square"))
    state_keys = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered)

    check_hyperparameters = _check_squared_decay

    def required_state(self, hyper, step_count):
        """square_avg always; grad_avg when centered; momentum_buffer when momentum > 0."""
        return ("square_avg",) + ("grad_avg",) * hyper["centered"] + ("momentum_buffer",) * (hyper["momentum"] > 0)

    def update(self, w, g, state):
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        a = self.alpha
        s = self.buffer(state, "square_avg", w)
        s *= a                                  # s ← α·s + (1 − α)·g²
        s += (1 - a) * g * g
        if self.centered:
            g_avg = self.buffer(state, "grad_avg", w)
            g_avg *= a                          # ḡ ← α·ḡ + (1 − α)·g
            g_avg += (1 - a) * g
            d = np.sqrt(s - g_avg * g_avg)
        else:
            d = np.sqrt(s)
        d += self.eps
        if self.momentum > 0:
            b = self.buffer(state, "momentum_buffer", w)
            b *= self.momentum                  # b ← μ·b + g/d
            b += g / d
            w -= self.lr * b                    # w ← w − η·b
        else:
            w -= self.lr * g / d                # w ← w − η·g/d


@register
class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), as torch.optim.Adam: momentum plus a per-weight scale.

        g ← ∇L + λ·w                          (L2 weight decay, added to the gradient)
        m ← β1·m + (1 − β1)·g                 (the EMA of gradients: EMAMomentum's v)
        v ← β2·v + (1 − β2)·g²                (the EMA of squared gradients: RMSprop's s)
        m̂ = m/(1 − β1ᵗ),  v̂ = v/(1 − β2ᵗ)    (undo the bias of starting both at 0)
        amsgrad: v_max ← max(v_max, v), used in place of v
        w ← w − η·m̂/(√v̂ + ε)

    How far a weight moves, |Δw| = η·|m̂|/(√v̂ + ε) (ignoring ε below):
      - under a steady gradient g, m̂ = g and v̂ = g², so each weight moves by η per step (less
        ε's share), whatever the scale of the loss;
      - that is not a bound. A lone spike G after a quiet stretch gives m ≈ (1 − β1)·G and
        v ≈ (1 − β2)·G²: a step of up to (1 − β1)/√(1 − β2)·η ≈ 3.16η at the defaults (Kingma
        and Ba's bound, which holds for this case only), approached late in a run (the bias
        corrections hold it to about 2.5η for a spike at step 1001). A spike on top of a
        steady gradient moves the weight a little further: 3.29η for a gradient of 111 after
        a long run of 1s;
      - no sequence of gradients can push it past (1 − β1)/√((1 − β2)(1 − β1²/β2))·η ≈ 7.27η
        (Cauchy–Schwarz on the two averages), approached by a gradient that grows by β2/β1
        ≈ 1.11 per step after a quiet stretch.
    """

    cli_name = "adam"
    formula = "m ← β1·m + (1−β1)·∇L;  v ← β2·v + (1−β2)·∇L²;  w ← w − η·m̂/(√v̂ + ε)"
    hyper = (learning_rate(),
             Hyperparameter("betas", tuple, "0 <= beta1 < 1 and 0 <= beta2 < 1",
                            "(β1, β2): the memories of the averages of g and of g², e.g. 0.9,0.999",
                            lambda v: 0 <= v < 1),
             positive("eps", "ε: added to √v̂ to avoid dividing by zero"),
             non_negative("weight_decay", _WEIGHT_DECAY_HELP),
             Hyperparameter("amsgrad", bool, "true or false", "divide by the largest v seen so far (AMSGrad)"))
    state_keys = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    state_counters = ("step",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    check_hyperparameters = _check_squared_decay

    def required_state(self, hyper, step_count):
        """step and both moments; max_exp_avg_sq too with amsgrad."""
        return ("step", "exp_avg", "exp_avg_sq") + ("max_exp_avg_sq",) * hyper["amsgrad"]

    def update(self, w, g, state):
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        self.adam_step(w, g, state)

    def adam_step(self, w, g, state):
        """The moment updates and the step, shared with AdamW."""
        beta1, beta2 = self.betas
        t = state["step"] = state.get("step", 0) + 1
        m = self.buffer(state, "exp_avg", w)
        v = self.buffer(state, "exp_avg_sq", w)
        m *= beta1                              # m ← β1·m + (1 − β1)·g
        m += (1 - beta1) * g
        v *= beta2                              # v ← β2·v + (1 − β2)·g²
        v += (1 - beta2) * g * g
        if self.amsgrad:
            v_max = self.buffer(state, "max_exp_avg_sq", w)
            np.maximum(v_max, v, out=v_max)     # v_max ← max(v_max, v)
            v = v_max
        step_size = self.lr / (1 - beta1 ** t)  # η/(1 − β1ᵗ): the bias correction of m
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + self.eps   # √v̂ + ε
        w -= step_size * m / denom              # w ← w − η·m̂/(√v̂ + ε)


@register
class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019), as torch.optim.AdamW: Adam with decoupled weight decay.

        w ← w·(1 − η·λ)                       (shrink the weights directly...)
        then Adam's step on ∇L alone           (...instead of adding λ·w to the gradient)

    In Adam, λ·w added to the gradient is divided by √v̂ like the rest, so weights with large
    gradients are barely regularised; decoupling makes the decay the same for every weight.
    """

    cli_name = "adamw"
    formula = "w ← w·(1 − η·λ);  then Adam's step on ∇L"
    hyper = tuple(h if h.name != "weight_decay" else
                  non_negative("weight_decay", "λ: shrinks every weight by the factor (1 − η·λ) each step")
                  for h in Adam.hyper)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    def check_hyperparameters(self):
        """The factor 1 − η·λ that shrinks the weights must stay in [0, 1]: beyond, each step flips their sign."""
        if self.lr * self.weight_decay > 1:
            raise HyperparameterError(f"AdamW: weight_decay={self.weight_decay:g} is out of range at lr={self.lr:g}; "
                                      f"use lr*weight_decay <= 1 (weight_decay <= {1 / self.lr:.4g} here), or each "
                                      f"step's factor 1 - lr*weight_decay flips the weights' sign")

    def update(self, w, g, state):
        if self.weight_decay != 0:
            w *= 1 - self.lr * self.weight_decay   # decoupled decay: w ← w·(1 − η·λ)
        self.adam_step(w, g, state)
