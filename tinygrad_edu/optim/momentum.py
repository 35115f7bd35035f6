"""The forms of momentum that textbooks, lecture notes and Q&A threads write, one class each.

    Momentum           m ← μ·m + η·∇L;  w ← w − m           learning rate inside the velocity
    EMAMomentum        v ← β·v + (1−β)·∇L;  w ← w − α·v     an average of gradients, times a step size
    HeavyBall          a ball with mass and friction rolling on the loss (symplectic Euler)
    Nesterov           Momentum with the gradient taken at the look-ahead point
    MomentumWithoutLR  the ablation: Momentum whose learning rate is removed after a few steps

(PyTorch's form, b ← μ·b + ∇L;  w ← w − η·b, is ``SGD(momentum=μ)`` in sgd.py.)

At a constant learning rate they are the same algorithm written three ways:
    SGD(lr=η, momentum=μ)  ≡  Momentum(lr=η, momentum=μ)  ≡  EMAMomentum(lr=η/(1−μ), beta=μ)
and the heavy ball is Momentum with η = dt²/mass, μ = 1 − dt·friction/mass. The defaults are one
algorithm in every form: Momentum(0.01, 0.9) = EMAMomentum(0.1, 0.9) = HeavyBall(1, 1, 0.1) =
SGD(0.01, momentum=0.9). They stop agreeing when the learning rate changes during the run: see
``Momentum`` and the tests.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..tensor import mark_changed
from .base import Hyperparameter, HyperparameterError, Optimizer, learning_rate, positive, unit_interval
from .registry import register

_MU_HELP = "μ: the fraction of the previous step kept (0 = plain gradient descent)"


@register
class Momentum(Optimizer):
    """Classical momentum with the learning rate inside the velocity (Polyak; Sutskever et al. 2013).

        m ← μ·m + η·∇L          (m starts at 0)
        w ← w − m

    This is Δw_t = −η·∇L + μ·Δw_{t−1}: the form lecture notes on momentum use, and the one a
    popular Q&A answer uses (written there without the minus sign; a step here goes downhill).
    Unrolled, the velocity is a geometrically weighted sum of all past gradients:

        m_t = η·(g_t + μ·g_{t−1} + μ²·g_{t−2} + …) = η·Σ_k μ^(t−k)·g_k

    so with μ = 0.9 the step at t = 3 takes 100% of the current gradient, 90% of the previous
    one and 81% of the one before, as those lecture notes unroll it. Under a constant gradient g,
    m → η·g/(1 − μ): the effective step is η/(1 − μ), ten times η at μ = 0.9.

    Because η multiplies each gradient as it enters m, changing η changes only the new
    gradients' weight: the speed already built up stays. Set η to 0 and the weights keep
    coasting (the ablation, ``MomentumWithoutLR``); PyTorch's form (``SGD``) stops dead.
    At a constant η, ``Momentum(lr=η, momentum=μ)`` ≡ ``SGD(lr=η, momentum=μ)`` (m = η·b).
    """

    cli_name = "momentum"
    formula = "m ← μ·m + η·∇L;  w ← w − m"
    hyper = (learning_rate(), unit_interval("momentum", _MU_HELP))
    state_keys = ("momentum_buffer",)

    def __init__(self, params, lr=0.01, momentum=0.9):
        super().__init__(params, lr=lr, momentum=momentum)

    def update(self, w, g, state):
        m = self.buffer(state, "momentum_buffer", w)
        m *= self.momentum          # m ← μ·m + η·∇L
        m += self.lr * g
        w -= m                      # w ← w − m


@register
class EMAMomentum(Optimizer):
    """Momentum as an exponential moving average of the gradients, times a step size α.

        v ← β·v + (1 − β)·∇L    (v starts at 0)
        w ← w − α·v

    This is the form in which a popular Q&A question asks why momentum needs a learning rate at
    all, and the one articles on "learning rate vs momentum" write. v is an average of
    gradients (its weights (1−β)·β^(t−k) sum to 1 − βᵗ), so it has the units and the size of a
    gradient: |v| never exceeds the largest |∇L| seen. The step size is set by α alone; β only
    says how long the average remembers. That is why the learning rate cannot be dropped: with
    α = 1 the step is a gradient's size, whatever the scale of the problem requires.

    At a constant α it is ``Momentum(lr=α·(1 − β), momentum=β)``, with m = α·v. The zero start
    biases v towards 0 for the first steps (under a constant g, v_t = (1 − βᵗ)·g); Adam
    divides this bias out, this class does not.
    """

    cli_name = "ema-momentum"
    formula = "v ← β·v + (1−β)·∇L;  w ← w − α·v"
    hyper = (learning_rate("α: the step size; the update is α times an average of gradients"),
             unit_interval("beta", "β: how much of the running average is kept each step (its memory)"))
    state_keys = ("velocity",)

    def __init__(self, params, lr=0.1, beta=0.9):
        super().__init__(params, lr=lr, beta=beta)

    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        v *= self.beta              # v ← β·v + (1 − β)·∇L
        v += (1 - self.beta) * g
        w -= self.lr * v            # w ← w − α·v


@register
class HeavyBall(Optimizer):
    """A ball of mass `mass` rolling on the loss surface with friction: the physics behind momentum.

    Newton's law with the force −∇L and a drag −friction·ẋ:

        mass·ẍ = −∇L(x) − friction·ẋ

    integrated with symplectic (semi-implicit) Euler, time step dt, the new velocity moving x:

        v ← v + (dt/mass)·(−∇L(x) − friction·v)
        x ← x + dt·v

    **Which Momentum it is.** Let m = −dt·v, the distance the step subtracts. Multiply the
    first line by −dt:

        m ← (1 − dt·friction/mass)·m + (dt²/mass)·∇L;   x ← x − m

    which is ``Momentum(lr=dt²/mass, momentum=1 − dt·friction/mass)`` exactly (see
    ``as_momentum``; the inverse is ``from_momentum``: dt = √(η·mass), friction = (1−μ)·mass/dt).
    In the EMA form (``EMAMomentum``, friction > 0), v_ema = −friction·v is the drag force:

        β = 1 − dt·friction/mass,   α = dt/friction   (= η/(1 − μ))

    The mass only sets the memory β; the step α = dt/friction is the distance covered in one
    time step at terminal velocity, where drag balances the slope (friction·v = −∇L).
    Frictionless (friction = 0, μ = 1) the ball never settles; dt·friction/mass > 1 would flip
    the velocity's sign every step, so it is refused.

    **A popular derivation that gets it wrong.** An answer to a Q&A question on what "mass" and
    "velocity" mean in momentum writes the time step as η = Δt, the friction as ε, the mass
    as m and the force as F = γ·∇L, derives p ← (1 − ηε/m)·p + ηγ·∇L, θ ← θ + (η/m)·p, and then
    claims the EMA form p ← α·p + (1−α)·∇L, θ ← θ − β·p with α = ηε/m, β = η/m and
    γ = 1/η − ε/m. But:
      - the fraction of p kept is 1 − ηε/m, so α = 1 − ηε/m (the answer swapped α and
        1 − α; ηε/m is the fraction friction removes per step);
      - the gradient's weight must then be 1 − α = ηε/m, so γ = ε/m, not 1/η − ε/m;
      - the force must point downhill, F = −γ·∇L: with F = +γ·∇L and θ ← θ + ξ·p the ball
        climbs; the last line silently flips the sign to θ − β·p.
    Right: α = 1 − ηε/m, β = η/m, γ = ε/m. For the unscaled force −∇L (γ = 1, this class):
    α = 1 − ηε/m and β = η/ε. The answer's constants give the heavy ball only when ηε/m = ½
    (the tests show both).

    **A schedule changes dt, and dt enters twice.** ``lr`` is an alias of ``dt``, so that a
    learning-rate schedule can drive the ball; but η = dt²/mass and μ = 1 − dt·friction/mass.
    Multiplying "the learning rate" by 0.1 multiplies η by 0.01 and moves μ towards 1: at the
    defaults (mass 1, friction 1, dt 0.1) from Momentum(0.01, 0.9) to Momentum(0.0001, 0.99).
    """

    cli_name = "heavy-ball"
    formula = "v ← v + (dt/mass)·(−∇L − friction·v);  w ← w + dt·v   (= Momentum(dt²/mass, 1 − dt·friction/mass))"
    hyper = (positive("mass", "the ball's inertia: more mass, longer memory (μ = 1 − dt·friction/mass)"),
             Hyperparameter("friction", float, "friction >= 0 (and dt*friction/mass <= 1)",
                            "drag coefficient: slows the ball; its terminal speed is |∇L|/friction",
                            lambda v: v >= 0),
             Hyperparameter("dt", float, "dt > 0", "the time step: plays the learning rate's role "
                            "(η = dt²/mass); a schedule scales dt, so η by its square", lambda v: v > 0,
                            scheduled=True))
    state_keys = ("velocity",)

    def __init__(self, params, mass=1.0, friction=1.0, dt=0.1):
        super().__init__(params, mass=mass, friction=friction, dt=dt)

    def check_hyperparameters(self):
        if self.dt * self.friction / self.mass > 1:
            raise HyperparameterError(f"HeavyBall: dt*friction/mass = {self.dt * self.friction / self.mass:.4g} "
                                      f"is out of range; use dt*friction/mass <= 1 (a smaller dt or friction, "
                                      f"or a larger mass), or the velocity flips sign every step")

    @property
    def lr(self) -> float:
        """The time step dt: what a learning-rate schedule changes for the heavy ball.

        Not Momentum's η: η = dt²/mass and μ = 1 − dt·friction/mass, so scaling lr by s scales
        η by s² and the friction's share dt·friction/mass by s (×0.1: η ×0.01, μ 0.9 → 0.99).
        """
        return self.dt

    @lr.setter
    def lr(self, value: float) -> None:
        self.dt = value

    @staticmethod
    def as_momentum(mass: float, friction: float, dt: float) -> dict:
        """The ``Momentum`` hyperparameters that give the same trajectory."""
        return {"lr": dt * dt / mass, "momentum": 1 - dt * friction / mass}

    @staticmethod
    def as_ema(mass: float, friction: float, dt: float) -> dict:
        """The ``EMAMomentum`` hyperparameters that give the same trajectory (friction > 0)."""
        return {"lr": dt / friction, "beta": 1 - dt * friction / mass}

    @staticmethod
    def from_momentum(lr: float, momentum: float, mass: float = 1.0) -> dict:
        """The physical constants of a ``Momentum(lr, momentum)`` run, for a chosen mass."""
        dt = math.sqrt(lr * mass)
        return {"mass": mass, "friction": (1 - momentum) * mass / dt, "dt": dt}

    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        v += (self.dt / self.mass) * (-g - self.friction * v)   # v ← v + (dt/mass)·(−∇L − friction·v)
        w += self.dt * v                                         # x ← x + dt·v   (the new v)


@register
class Nesterov(Optimizer):
    """Nesterov's accelerated gradient in Sutskever et al.'s (2013) form.

        v ← μ·v − η·∇L(w + μ·v)      (gradient at the look-ahead point w + μ·v)
        w ← w + v

    The look-ahead point is where momentum alone would carry the weights; taking the
    gradient there lets the step correct itself before it overshoots.

    step() only receives ∇L at the weights the model holds, so (as Bengio et al. 2013 and
    torch.optim.SGD(nesterov=True) do) the model holds the look-ahead point w̃ = w + μ·v
    instead of w. Substituting w = w̃ − μ·v into the two lines above gives

        v  ← μ·v − η·∇L(w̃)
        w̃ ← w̃ + μ·v − η·∇L(w̃)       (with the new v)

    which needs only the gradient at w̃. The two agree at the start (v = 0) and wherever the
    velocity has died out; at any time w = w̃ − μ·v. At a constant η this is
    ``SGD(lr=η, momentum=μ, nesterov=True)`` with v = −η·b.
    """

    cli_name = "nesterov"
    formula = "v ← μ·v − η·∇L(w + μ·v);  w ← w + v   (the model holds w + μ·v)"
    hyper = (learning_rate(), unit_interval("momentum", _MU_HELP))
    state_keys = ("velocity",)

    def __init__(self, params, lr=0.01, momentum=0.9):
        super().__init__(params, lr=lr, momentum=momentum)

    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        step = self.lr * g
        v *= self.momentum            # v ← μ·v − η·∇L(w̃)
        v -= step
        w += self.momentum * v        # w̃ ← w̃ + μ·v − η·∇L(w̃)
        w -= step


@register
class MomentumWithoutLR(Optimizer):
    """The ablation: momentum whose learning rate is removed after `warmup_steps` steps.

    Steps 1 … k (k = warmup_steps) are ``Momentum``:   m ← μ·m + η·∇L;   w ← w − m.
    From step k + 1 on, the learning rate is gone, and the gradient with it:

        Δw_t = μ·Δw_{t−1}        (m ← μ·m;  w ← w − m)

    This update never reads a gradient: the weights follow the same path whatever the loss,
    the data, or whether backward() ran at all. Let Δw = −m_k be the last step the gradient
    drove. After n more steps (closed form, see ``coasting_factor``):

        Δw_{k+n} = μⁿ·Δw,    w_{k+n} − w_k = Δw·(μ + μ² + … + μⁿ) = Δw·μ(1 − μⁿ)/(1 − μ)   (n·Δw at μ = 1)

    Limits as n → ∞:
      - 0 ≤ μ < 1: the steps shrink to 0 and the weights stop at w_k + Δw·μ/(1 − μ), that is
        1×, 9× and 99× the last step further at μ = 0.5, 0.9 and 0.99;
      - μ = 1: every step is Δw: the weights drift at constant speed, forever (n·Δw);
      - μ > 1: the steps grow like μⁿ: the weights run away along Δw.
    A popular Q&A answer asks what happens when "only momentum" is left. It writes the update
    without the minus sign, Δw_t = l·∂E/∂w + μ·Δw_{t−1} (this project writes −η·∇L: a step
    goes downhill), and claims that once the learning-rate term is gone, lim Δw_t is 0 when
    μ < 1, or when μ = 1 and Δw₀ < 1; 1 when μ = 1 and Δw₀ = 1; and ∞ otherwise. Since
    Δw_t = μᵗ·Δw₀ (``ablation.step_limit``):
      - μ < 1: 0, as it says;
      - μ = 1: Δw₀ for every t, whatever its size: constant drift. Not 0 for Δw₀ < 1 (unless
        Δw₀ = 0), and not ∞ for Δw₀ > 1, which its "otherwise" gives; 1 only when Δw₀ = 1.
        It reads as if Δw₀, not μ, were raised to the power t (0 below 1, ∞ above);
      - μ > 1: +∞ for Δw₀ > 0, but −∞ for Δw₀ < 0 and 0 for Δw₀ = 0, where it says ∞.
    Its conclusion stands: after the removal the gradient no longer steers. The weights
    follow the geometric series whatever the loss does, so the loss may still fall for a while
    along the coast, then stalls where the weights stop, or rises once they coast past the
    minimum (``tinygrad_edu.ablation`` measures both, and the same run with η kept).

    μ ≥ 1 is allowed here only (with a warning), to show the drift and the runaway.
    Reported: ``removed_at`` (the first step without the gradient), ``last_update`` (Δw),
    ``displacement`` (w − w_k per parameter) and ``predicted_displacement()``.
    """

    cli_name = "momentum-no-lr"
    formula = "steps ≤ k: m ← μ·m + η·∇L;  after: m ← μ·m (no gradient);  w ← w − m"
    hyper = (learning_rate("η: the step size during the first warmup_steps steps; removed afterwards"),
             Hyperparameter("momentum", float, "momentum >= 0 (momentum >= 1 drifts or runs away: allowed here, "
                            "with a warning)", _MU_HELP, lambda v: v >= 0),
             Hyperparameter("warmup_steps", int, "warmup_steps >= 0", "k: how many steps use the learning rate "
                            "(and so the gradient) before it is removed", lambda v: v >= 0))
    state_keys = ("momentum_buffer", "last_update", "removal_point")

    def __init__(self, params, lr=0.01, momentum=0.9, warmup_steps=1):
        super().__init__(params, lr=lr, momentum=momentum, warmup_steps=warmup_steps)

    def check_hyperparameters(self):
        if self.momentum >= 1:
            motion = "drift at constant speed" if self.momentum == 1 else "run away geometrically"
            warnings.warn(f"MomentumWithoutLR: momentum={self.momentum} >= 1: once the learning rate is "
                          f"removed the weights {motion}", stacklevel=4)

    update = Momentum.update                  # while driven: m ← μ·m + η·∇L;  w ← w − m

    def required_state(self, hyper, step_count):
        """momentum_buffer; from the first step without the gradient on, last_update and removal_point too."""
        removed = step_count > hyper["warmup_steps"]
        return ("momentum_buffer",) + ("last_update", "removal_point") * removed

    def divergence_hint(self) -> str:
        """After the removal a momentum >= 1 moves the weights on its own: it, not the learning rate, is the cause."""
        if self.momentum >= 1 and self.removed_at is not None:
            motion = "drift at constant speed" if self.momentum == 1 else f"run away (×{self.momentum:g} per step)"
            return (f"momentum={self.momentum:g} makes the weights {motion} once the learning rate is gone after step "
                    f"{self.warmup_steps}, whatever the learning rate; use momentum < 1")
        return super().divergence_hint()

    def step(self) -> None:
        if self.step_count < self.warmup_steps:
            return super().step()             # the first warmup_steps steps: Momentum, gradient and all
        self.step_count += 1
        moved = []
        for p, state in zip(self.params, self.state):
            w = p._data
            m = state.get("momentum_buffer")
            if m is None:                     # never moved by a gradient: nothing to coast
                continue
            if "last_update" not in state:    # the first step without the gradient
                state["last_update"] = -m
                state["removal_point"] = w.copy()
            m *= self.momentum                # m ← μ·m   (Δw_t = μ·Δw_{t−1}; no gradient)
            w -= m
            moved.append(p)
        mark_changed(*moved)                  # a graph made before this step is stale

    # ----- what the ablation reports --------------------------------------------------
    @property
    def removed_at(self):
        """The number of the first step without the gradient (warmup_steps + 1), or None before it."""
        return self.warmup_steps + 1 if self.step_count > self.warmup_steps else None

    @property
    def steps_since_removal(self) -> int:
        return max(0, self.step_count - self.warmup_steps)

    @property
    def last_update(self) -> list:
        """Δw: each parameter's last gradient-driven step (None where there was none)."""
        return [s.get("last_update") for s in self.state]

    @property
    def displacement(self) -> list:
        """w − w_k for each parameter: how far it moved since the gradient left (None if it never moved)."""
        return [p.data - s["removal_point"] if "removal_point" in s else None for p, s in zip(self.params, self.state)]

    @property
    def displacement_norm(self) -> float:
        """The Euclidean norm of the displacement since removal, over all parameters."""
        return math.sqrt(sum(float(np.sum(d * d)) for d in self.displacement if d is not None))

    @staticmethod
    def coasting_factor(momentum: float, n: float) -> float:
        """μ + μ² + … + μⁿ = μ(1 − μⁿ)/(1 − μ) (n at μ = 1): displacement after n steps in units of Δw.

        n may be math.inf: μ/(1 − μ) for μ < 1, inf otherwise.
        """
        mu = momentum
        if mu == 1:
            return float(n)
        if math.isinf(n):
            return mu / (1 - mu) if mu < 1 else math.inf
        return mu * (1 - mu ** n) / (1 - mu)

    def predicted_displacement(self, n: int | None = None) -> list:
        """The closed form Δw·μ(1 − μⁿ)/(1 − μ) per parameter; n defaults to the steps since removal."""
        n = self.steps_since_removal if n is None else n
        factor = self.coasting_factor(self.momentum, n)
        return [None if d is None else d * factor for d in self.last_update]
