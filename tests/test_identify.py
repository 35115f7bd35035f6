"""identify: hand-written optimizers in other forms are recognised with their hyperparameters."""
import numpy as np
import pytest

from tinygrad_edu import optim
from tinygrad_edu.optim import Optimizer, learning_rate, positive, unit_interval
from tinygrad_edu.optim.identify import LR_CHANGE_STEP


class Hand(Optimizer):
    """A base for the hand-written rules below: lr, mu, b1, b2, eps, as the student names them."""
    hyper = (learning_rate(), unit_interval("mu", "μ"), unit_interval("b1", "β1"), unit_interval("b2", "β2"),
             positive("eps", "ε"))

    def __init__(self, params, lr=0.01, mu=0.9, b1=0.8, b2=0.99, eps=1e-7):
        super().__init__(params, lr=lr, mu=mu, b1=b1, b2=b2, eps=eps)

    def buf(self, state, key, w):
        return self.buffer(state, key, w)


class TorchForm(Hand):          # v ← μv + g; w ← w − ηv   (b starts at 0: the same as torch's b = g)
    def update(self, w, g, s):
        v = self.buf(s, "v", w); v[:] = self.mu * v + g; w -= self.lr * v


class VelocityForm(Hand):       # v ← μv − ηg; w ← w + v
    def update(self, w, g, s):
        v = self.buf(s, "v", w); v[:] = self.mu * v - self.lr * g; w += v


class EMAForm(Hand):            # v ← v + (1 − β)(g − v); w ← w − αv
    def update(self, w, g, s):
        v = self.buf(s, "v", w); v += (1 - self.mu) * (g - v); w -= self.lr * v


class NesterovM(Hand):          # m ← μm + ηg; w ← w − μm − ηg
    def update(self, w, g, s):
        m = self.buf(s, "m", w); m[:] = self.mu * m + self.lr * g; w -= self.mu * m + self.lr * g


class AdagradForm(Hand):
    def update(self, w, g, s):
        c = self.buf(s, "c", w); c += g * g; w -= self.lr * g / (np.sqrt(c) + self.eps)


class RMSForm(Hand):
    def update(self, w, g, s):
        c = self.buf(s, "c", w); c += (1 - self.b2) * (g * g - c); w -= self.lr * g / (np.sqrt(c) + self.eps)


class AdamForm(Hand):
    def update(self, w, g, s):
        t = s["t"] = s.get("t", 0) + 1
        m, v = self.buf(s, "m", w), self.buf(s, "v", w)
        m[:] = self.b1 * m + (1 - self.b1) * g
        v[:] = self.b2 * v + (1 - self.b2) * g * g
        w -= self.lr * (m / (1 - self.b1 ** t)) / (np.sqrt(v / (1 - self.b2 ** t)) + self.eps)


class AdamWForm(AdamForm):
    def update(self, w, g, s):
        w -= self.lr * 0.05 * w
        super().update(w, g, s)


class AdamNoBias(Hand):
    def update(self, w, g, s):
        m, v = self.buf(s, "m", w), self.buf(s, "v", w)
        m[:] = self.b1 * m + (1 - self.b1) * g
        v[:] = self.b2 * v + (1 - self.b2) * g * g
        w -= self.lr * m / (np.sqrt(v) + self.eps)


class SignDescent(Hand):
    def update(self, w, g, s):
        w -= self.lr * np.sign(g)


def _close(fitted, expected):
    for k, v in expected.items():
        got = fitted[k]
        if isinstance(v, bool):
            assert got is v or got == v, k
        else:
            assert np.allclose(got, v, rtol=1e-6, atol=1e-9), (k, got, v)


@pytest.mark.parametrize("cls, kw, name, expected", [
    (TorchForm, dict(lr=0.02, mu=0.7), "sgd", dict(lr=0.02, momentum=0.7, dampening=0.0)),
    (VelocityForm, dict(lr=0.05, mu=0.8), "momentum", dict(lr=0.05, momentum=0.8)),
    (EMAForm, dict(lr=0.3, mu=0.6), "ema-momentum", dict(lr=0.3, beta=0.6)),
    (NesterovM, dict(lr=0.01, mu=0.9), "nesterov", dict(lr=0.01, momentum=0.9)),
    (AdagradForm, dict(lr=0.1, eps=1e-9), "adagrad", dict(lr=0.1, eps=1e-9)),
    (RMSForm, dict(lr=0.01, b2=0.9, eps=1e-6), "rmsprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    (AdamForm, dict(lr=0.001, b1=0.8, b2=0.99, eps=1e-7), "adam", dict(lr=0.001, betas=(0.8, 0.99), eps=1e-7)),
    (AdamWForm, dict(lr=0.001, b1=0.8, b2=0.99, eps=1e-7), "adamw",
     dict(lr=0.001, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.05)),
], ids=lambda x: x.__name__ if isinstance(x, type) else None)
def test_hand_written_forms_are_recognised(cls, kw, name, expected):
    m = optim.identify(cls, asked=name, **kw)
    assert m.exact and m.step is None and m.deviation <= 1e-9, m.sentence
    assert m.name == name, m.sentence
    _close(m.hyperparameters, expected)


def test_the_ema_form_is_torchs_form_even_when_the_lr_changes():
    m = optim.identify(EMAForm, lr=0.3, mu=0.6)       # both multiply the whole velocity by the lr
    assert m.exact and {n for n, _ in m.equals} >= {"sgd", "ema-momentum"}
    _close(dict(m.equals)["sgd"], dict(lr=0.3 * 0.4, momentum=0.6))
    assert "even when the learning rate changes" in m.sentence


def test_registered_heavy_ball_and_ablation_are_recognised_as_themselves():
    m = optim.identify(optim.HeavyBall, mass=2.0, friction=1.5, dt=0.1)
    assert m.exact and m.name == "heavy-ball"
    _close(m.hyperparameters, dict(mass=2.0, friction=1.5, dt=0.1))
    m = optim.identify(optim.MomentumWithoutLR, lr=0.05, momentum=0.8, warmup_steps=5)
    assert m.exact and m.name == "momentum-no-lr"
    _close(m.hyperparameters, dict(lr=0.05, momentum=0.8, warmup_steps=5))


def test_three_momentum_forms_are_one_at_constant_lr_and_the_lr_change_tells_them_apart():
    m = optim.identify(TorchForm, asked="momentum", lr=0.01, mu=0.9)
    assert m.name == "sgd" and m.exact
    twins = {n for n, _ in m.same_at_constant_lr}
    assert {"sgd", "momentum", "ema-momentum"} <= twins
    assert "PyTorch's form: the learning rate multiplies the whole velocity" in m.sentence
    assert "one algorithm" in m.sentence
    assert f"departs from it at step {LR_CHANGE_STEP + 1}" in m.sentence
    assert "Momentum(lr=0.01, momentum=0.9)" in m.sentence
    assert "form you were asked for" in optim.identify(VelocityForm, asked="momentum").sentence


def test_rules_that_match_none_are_not_exact_with_the_closest_name():
    m = optim.identify(AdamNoBias, lr=0.001, b1=0.8, b2=0.99, eps=1e-7)
    assert not m.exact and m.name == "adam" and m.step == 1
    m = optim.identify(SignDescent, lr=0.01)
    assert not m.exact and m.name == "adam" and m.step is not None and m.deviation > 1e-6
    assert max(m.hyperparameters["betas"]) < 1e-6          # Adam without memory: sign descent as ε → 0
    assert "sign descent" in m.sentence


def test_bad_input():
    with pytest.raises(TypeError, match="subclass of tinygrad_edu.optim.Optimizer"):
        optim.identify(int)
    with pytest.raises(ValueError, match="not a registered optimizer"):
        optim.identify(TorchForm, asked="momentun")
    with pytest.raises(ValueError, match="cannot build TorchForm"):
        optim.identify(TorchForm, lr=-1)


def test_chapter_section_identify_recognises_a_hand_written_optimizer():
    """The code of the chapter section on identify."""
    class MyMomentum(Optimizer):
        hyper = (learning_rate(), unit_interval("momentum", "μ"))

        def __init__(self, params, lr=0.01, momentum=0.9):
            super().__init__(params, lr=lr, momentum=momentum)

        def update(self, w, g, state):
            v = self.buffer(state, "v", w)
            v[:] = self.momentum * v + g
            w -= self.lr * v

    match = optim.identify(MyMomentum, asked="momentum")
    assert (match.name, match.exact, match.step) == ("sgd", True, None)
    assert "departs from it at step 13" in match.sentence


# ----- rules at the edges: what used to crash identify or lose a hyperparameter --------------------

@pytest.mark.parametrize("name, kw", [
    ("adam", dict(lr=0.01, weight_decay=0.01)),         # L2 decay, which identify does not fit: it must keep it
    ("adam", dict(lr=0.01, amsgrad=True)),
    ("adamw", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
])
def test_the_hyperparameters_identify_does_not_fit_stay_as_given(name, kw):
    m = optim.identify(optim.get(name), asked=name, **kw)
    assert m.exact and m.name == name, m.sentence
    _close(m.hyperparameters, kw)


class Undamped(Hand):           # v ← v + g; w ← w − ηv: momentum 1, where a fitted candidate warns
    def update(self, w, g, s):
        v = self.buf(s, "v", w); v += g; w -= self.lr * v


class LateStart(Hand):          # plain GD, but the first step does nothing (a first update of 0)
    def update(self, w, g, s):
        if s.get("started"):
            w -= self.lr * g
        s["started"] = True


class NoLR(Optimizer):          # a rule with its step size written in: it has no lr to change
    def step(self):
        for p in self.params:
            p.data -= 0.1 * p.grad


class Frozen(Optimizer):        # never moves the weights
    def step(self):
        pass


def test_rules_at_the_edges_get_a_sentence_not_a_crash_or_a_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # a candidate's own warning is identify's business, not the user's
        m = optim.identify(Undamped, lr=0.01)
        assert m.exact and m.name in ("sgd", "momentum", "momentum-no-lr"), m.sentence
        assert not optim.identify(LateStart, lr=0.1).exact      # Δw₁ = 0: no division by it
        m = optim.identify(NoLR)
        assert "NoLR has no lr attribute" in m.sentence and f"after step {LR_CHANGE_STEP}" in m.sentence
        assert m.name == "sgd" and m.step == LR_CHANGE_STEP + 1
    with pytest.raises(ValueError, match=r"Frozen never moved the weights .* its step\(\) must change"):
        optim.identify(Frozen)


def test_equivalent_forms_are_named_once_and_without_least_squares_round_off():
    m = optim.identify(optim.get("adam"), lr=0.01, amsgrad=True)
    assert m.exact and [n for n, _ in m.equals] == ["adam", "adamw"]     # AdamW is fitted twice, named once
    assert m.sentence.count("AdamW(") == 1
    for name, hyper in m.equals + m.same_at_constant_lr:
        for key, value in hyper.items():
            values = value if isinstance(value, tuple) else (value,)
            assert all(v in (0.0, 1.0) or not isinstance(v, float) or abs(v) > 1e-12 or key in ("lr", "eps")
                       for v in values), (name, key, value)
