"""Chapter 6: momentum, in the four forms people write it.

Each class is an ``Optimizer`` whose ``update(self, w, g, state)`` you write, as in exercise 5.1:
change `w` in place, keep the velocity in `state` (one dict per parameter). The helper
``self.buffer(state, "velocity", w)`` returns ``state["velocity"]``, created as zeros shaped like
`w` on the first step: update it in place too (``v *= ...``, ``v += ...``), so that it is still
there at the next step.

At a constant learning rate the first three forms are one algorithm written three ways; they
part as soon as the learning rate changes during a run (a schedule), which is why the checks
change it mid-run. Chapter 6 derives the fourth, the heavy ball, from Newton's law.

Check your work with ``edu check 6.1`` (one exercise) or ``edu check`` (all of them).
"""
from tinygrad_edu.optim import (Hyperparameter, HyperparameterError, Optimizer, learning_rate, non_negative,
                                positive, unit_interval)


class Momentum(Optimizer):
    """Exercise 6.1: momentum with the learning rate inside.

        m ← μ·m + η·∇L        (m starts at 0)
        w ← w − m

    The velocity m is the step itself: η (``self.lr``) scales each gradient as it enters m, and
    μ (``self.momentum``) is the fraction of the previous step kept. So Δw_t = μ·Δw_{t−1} − η·∇L.
    """

    cli_name = "momentum"
    formula = "m ← μ·m + η·∇L;  w ← w − m"
    hyper = (learning_rate(), unit_interval("momentum", "μ: the fraction of the previous step kept"))
    state_keys = ("momentum_buffer",)

    def __init__(self, params, lr=0.01, momentum=0.9):
        super().__init__(params, lr=lr, momentum=momentum)

    def update(self, w, g, state):
        """Update this parameter's velocity ``state["momentum_buffer"]`` (shaped like w), then w.

        Hint: ``m = self.buffer(state, "momentum_buffer", w)``, then two in-place lines for m and
        one for w. Where η goes matters: inside m, changing η later changes only the new
        gradients' weight; the speed already built up stays.
        """
        # BEGIN SOLUTION
        m = self.buffer(state, "momentum_buffer", w)
        m *= self.momentum
        m += self.lr * g
        w -= m
        # END SOLUTION


class TorchMomentum(Optimizer):
    """Exercise 6.2: PyTorch's momentum, dampening and Nesterov.

    torch.optim.SGD, line by line (λ weight_decay, μ momentum, τ dampening):

        g ← ∇L + λ·w
        if μ ≠ 0:
            b ← g                        on this parameter's first step
            b ← μ·b + (1 − τ)·g          on every later step
            g ← g + μ·b   if nesterov,   else g ← b
        w ← w − η·g

    Unlike exercise 6.1 the learning rate is *outside* the buffer b: b sums raw gradients, and
    changing η rescales everything b remembers at once. With μ = 0 this is exercise 5.1.
    """

    cli_name = "torch-momentum"
    formula = "b ← μ·b + (1−τ)·∇L;  w ← w − η·b   (b = ∇L on the first step)"
    hyper = (learning_rate(),
             unit_interval("momentum", "μ: the fraction of the buffer kept (0 = plain gradient descent)"),
             Hyperparameter("dampening", float, "0 <= dampening <= 1", "τ: each new gradient enters b times (1 − τ)",
                            lambda v: 0 <= v <= 1),
             non_negative("weight_decay", "λ: adds λ·w to the gradient"),
             Hyperparameter("nesterov", bool, "true or false (needs momentum > 0 and dampening = 0)",
                            "step along g + μ·b instead of b"))
    state_keys = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                         nesterov=nesterov)

    def check_hyperparameters(self):
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise HyperparameterError(f"TorchMomentum: nesterov=True needs momentum > 0 and dampening = 0, got "
                                      f"momentum={self.momentum}, dampening={self.dampening}")

    def update(self, w, g, state):
        """The lines above, for one parameter; b is ``state["momentum_buffer"]``, shaped like w.

        Hint: the first step is not like the others (b is a copy of g, undampened), so test
        ``state.get("momentum_buffer") is None``; copy g (``g.copy()``) rather than keep it, since
        the caller owns that array. Do not change g in place either: ``g = g + ...`` makes a new one.
        """
        # BEGIN SOLUTION
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        if self.momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= self.momentum
                b += (1 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        w -= self.lr * g
        # END SOLUTION


class EMAMomentum(Optimizer):
    """Exercise 6.3: momentum as an average of gradients.

        v ← β·v + (1 − β)·∇L      (v starts at 0: an exponential moving average of the gradients)
        w ← w − α·v

    v is a weighted average of the gradients seen so far, so it has a gradient's size: α
    (``self.lr``) sets the step, and β (``self.beta``) how long the average remembers.
    """

    cli_name = "ema-momentum"
    formula = "v ← β·v + (1−β)·∇L;  w ← w − α·v"
    hyper = (learning_rate("α: the step size; the update is α times an average of gradients"),
             unit_interval("beta", "β: how much of the running average is kept each step"))
    state_keys = ("velocity",)

    def __init__(self, params, lr=0.1, beta=0.9):
        super().__init__(params, lr=lr, beta=beta)

    def update(self, w, g, state):
        """Update the average ``state["velocity"]`` (shaped like w), then w.

        Hint: β multiplies the *old* average (the memory), 1 − β the new gradient.
        """
        # BEGIN SOLUTION
        v = self.buffer(state, "velocity", w)
        v *= self.beta
        v += (1 - self.beta) * g
        w -= self.lr * v
        # END SOLUTION


class HeavyBall(Optimizer):
    """Exercise 6.4: the heavy ball from mass, friction and dt.

    A ball rolls on the loss surface. Newton's law for a ball of mass m at position x, pushed
    downhill by −∇L and slowed by a drag −friction·v:   m·dv/dt = −∇L(x) − friction·v,   dx/dt = v.
    One time step dt of symplectic Euler (the new velocity moves the ball):

        v ← v + (dt/mass)·(−∇L − friction·v)      (v starts at 0)
        x ← x + dt·v

    Multiplying the first line by −dt shows it is exercise 6.1 with η = dt²/mass and
    μ = 1 − dt·friction/mass. ``self.lr`` is ``self.dt`` (given below), so that a learning-rate
    schedule drives the time step.
    """

    cli_name = "heavy-ball"
    formula = "v ← v + (dt/mass)·(−∇L − friction·v);  w ← w + dt·v"
    hyper = (positive("mass", "the ball's inertia"),
             Hyperparameter("friction", float, "friction >= 0 (and dt*friction/mass <= 1)", "the drag coefficient",
                            lambda v: v >= 0),
             Hyperparameter("dt", float, "dt > 0", "the time step", lambda v: v > 0, scheduled=True))
    state_keys = ("velocity",)

    def __init__(self, params, mass=1.0, friction=1.0, dt=0.1):
        super().__init__(params, mass=mass, friction=friction, dt=dt)

    def check_hyperparameters(self):
        if self.dt * self.friction / self.mass > 1:
            raise HyperparameterError(f"HeavyBall: dt*friction/mass = {self.dt * self.friction / self.mass:.4g} "
                                      f"is out of range; use dt*friction/mass <= 1")

    @property
    def lr(self):
        return self.dt

    @lr.setter
    def lr(self, value):
        self.dt = value

    def update(self, w, g, state):
        """One time step: first the velocity ``state["velocity"]`` (shaped like w), then the position w.

        Hint: the force is −g (downhill) minus friction·v; divide it by the mass to get the
        acceleration. Move the ball with the velocity you just updated, not the old one.
        """
        # BEGIN SOLUTION
        v = self.buffer(state, "velocity", w)
        v += (self.dt / self.mass) * (-g - self.friction * v)
        w += self.dt * v
        # END SOLUTION
