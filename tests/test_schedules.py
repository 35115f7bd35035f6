"""Learning-rate schedules: the formulas, torch's schedulers, and how each form of momentum reacts."""
import math

import numpy as np
import pytest

from tinygrad_edu import Tensor, optim
from tinygrad_edu.optim import schedules


def make(cls=optim.SGD, lr=1.0, **hp):
    return cls([Tensor([0.0], requires_grad=True)], lr=lr, **hp)


def lrs(schedule, n):
    """The learning rate each of the first n optimizer steps uses."""
    out = []
    for _ in range(n):
        out.append(schedule.optimizer.lr)
        schedule.step()
    return out


def test_constant():
    assert lrs(optim.Constant(make(lr=0.3)), 4) == [0.3] * 4


def test_step_lr():
    np.testing.assert_allclose(lrs(optim.StepLR(make(), step_size=2, gamma=0.5), 7),
                               [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125], rtol=1e-15)


def test_exponential_lr():
    np.testing.assert_allclose(lrs(optim.ExponentialLR(make(lr=2.0), gamma=0.9), 4), [2, 1.8, 1.62, 1.458], rtol=1e-15)


def test_cosine_lr():
    got = lrs(optim.CosineLR(make(), total_steps=4, min_lr=0.0), 7)
    # (1 + cos(πt/4))/2 for t = 0..4, then min_lr
    np.testing.assert_allclose(got, [1, (1 + math.sqrt(0.5)) / 2, 0.5, (1 - math.sqrt(0.5)) / 2, 0, 0, 0], atol=1e-15)
    got = lrs(optim.CosineLR(make(lr=1.1), total_steps=2, min_lr=0.1), 4)
    np.testing.assert_allclose(got, [1.1, 0.6, 0.1, 0.1], atol=1e-15)


def test_linear_warmup():
    np.testing.assert_allclose(lrs(optim.LinearWarmup(make(), warmup_steps=4), 6), [0.25, 0.5, 0.75, 1, 1, 1])
    opt = make(lr=2.0)
    warm = optim.LinearWarmup(opt, 2, then=optim.ExponentialLR(opt, gamma=0.5))
    np.testing.assert_allclose(lrs(warm, 5), [1.0, 2.0, 2.0, 1.0, 0.5])


@pytest.mark.parametrize("kind", ["step", "exp", "cosine"])
def test_equals_torch_schedulers(kind):
    torch = pytest.importorskip("torch")
    q = torch.zeros(1, requires_grad=True)
    ref_opt = torch.optim.SGD([q], lr=0.5)
    opt = make(lr=0.5)
    if kind == "step":
        ours, ref = optim.StepLR(opt, 3, 0.7), torch.optim.lr_scheduler.StepLR(ref_opt, 3, 0.7)
    elif kind == "exp":
        ours, ref = optim.ExponentialLR(opt, 0.95), torch.optim.lr_scheduler.ExponentialLR(ref_opt, 0.95)
    else:
        ours, ref = optim.CosineLR(opt, 10, 0.01), torch.optim.lr_scheduler.CosineAnnealingLR(ref_opt, 10, 0.01)
    for _ in range(10):
        assert opt.lr == pytest.approx(ref_opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        ref_opt.step()
        ours.step()
        ref.step()


def test_each_form_uses_lr_where_its_formula_puts_it():
    """lr → 0 after k steps: Momentum (η inside the velocity) coasts; SGD (torch's form), EMAMomentum
    and the heavy ball (dt → 0) stop dead."""
    k, mu = 5, 0.9
    finals = {}
    for cls, hp in [(optim.Momentum, {"lr": 0.1, "momentum": mu}), (optim.SGD, {"lr": 0.1, "momentum": mu}),
                    (optim.EMAMomentum, {"lr": 1.0, "beta": mu}), (optim.HeavyBall, {"friction": 1.0, "dt": 0.1})]:
        p = Tensor([0.0], requires_grad=True)
        opt = cls([p], **hp)
        sched = optim.CosineLR(opt, total_steps=k)     # the lr of step k + 1 onwards is 0
        positions = []
        for _ in range(k + 30):
            p.grad = np.ones(1)
            opt.step()
            sched.step()
            positions.append(p.data[0])
        finals[cls.__name__] = (positions, opt)
    for name in ("SGD", "EMAMomentum", "HeavyBall"):
        positions = finals[name][0]
        assert positions[-1] == positions[k], name          # not one more move once lr is 0
        assert positions[k - 1] != positions[k - 2], name
    positions, opt = finals["Momentum"]
    assert positions[-1] < positions[k] - 0.1                # it keeps going
    m_k = -(positions[k] - positions[k - 1]) / mu            # the last step with lr > 0 was −m_k·...
    # after lr = 0 the steps are μ times each other: the ablation's closed form
    steps = np.diff(positions[k - 1:])
    np.testing.assert_allclose(steps[1:], mu * steps[:-1], rtol=1e-12)
    assert m_k > 0


class DropOnce(optim.Schedule):
    """0.1 for the first step, 0.01 afterwards (a user's own schedule: only lr_at is needed)."""

    def lr_at(self, t):
        return self.base_lr if t < 1 else self.base_lr / 10


def test_lr_drop_parts_the_forms():
    """g = 1, μ = 0.9, lr 0.1 then 0.01: torch's form −0.1, −0.119, −0.1461; η inside −0.1, −0.2, −0.3."""
    out = {}
    for cls in (optim.SGD, optim.Momentum):
        p = Tensor([0.0], requires_grad=True)
        opt = cls([p], lr=0.1, momentum=0.9)
        sched = DropOnce(opt)
        out[cls.__name__] = []
        for _ in range(3):
            p.grad = np.ones(1)
            opt.step()
            sched.step()
            out[cls.__name__].append(p.data[0])
    np.testing.assert_allclose(out["SGD"], [-0.1, -0.119, -0.1461], atol=1e-15)
    np.testing.assert_allclose(out["Momentum"], [-0.1, -0.2, -0.3], atol=1e-15)


def test_heavy_ball_schedule_changes_dt():
    opt = optim.HeavyBall([Tensor([0.0], requires_grad=True)], dt=0.2)
    sched = optim.ExponentialLR(opt, 0.5)
    sched.step()
    assert opt.dt == 0.1 and opt.lr == 0.1


@pytest.mark.parametrize("spec", ["constant", "step:3:0.5", "exp:0.9", "cosine:0.01", "warmup:3",
                                  "warmup:2:cosine", "warmup:2:step:2"])
def test_state_dict_resume(spec):
    def run(steps, state=None):
        p = Tensor([1.0, -1.0], requires_grad=True)
        opt = optim.Momentum([p], lr=0.1, momentum=0.9)
        sched = schedules.parse(spec, opt, total_steps=12)
        if state is not None:
            p.data[...] = state[0]
            opt.load_state_dict(state[1])
            sched.load_state_dict(state[2])
        for _ in range(steps):
            p.grad = np.sin(p.data * 3)
            opt.step()
            sched.step()
        return p, opt, sched

    full, full_opt, _ = run(12)
    half, half_opt, half_sched = run(6)
    d = half_sched.state_dict()
    assert all(isinstance(v, (int, float)) for v in d.values())
    resumed, opt, _ = run(6, (half.data.copy(), half_opt.state_dict(), d))
    np.testing.assert_array_equal(resumed.data, full.data)
    assert opt.lr == full_opt.lr


def test_load_state_dict_missing_entry():
    with pytest.raises(ValueError, match="missing entry 't'"):
        optim.Constant(make()).load_state_dict({"base_lr": 1.0})


def test_parse():
    opt = make(lr=0.5)
    s = schedules.parse("step:100:0.5", opt, 1000)
    assert isinstance(s, optim.StepLR) and (s.step_size, s.gamma, s.base_lr) == (100, 0.5, 0.5)
    assert schedules.parse("step:10", opt).gamma == 0.1
    assert isinstance(schedules.parse("constant", opt), optim.Constant)
    assert schedules.parse("exp:0.99", opt).gamma == 0.99
    c = schedules.parse("cosine", opt, 1000)
    assert isinstance(c, optim.CosineLR) and c.total_steps == 1000 and c.min_lr == 0
    assert schedules.parse("Cosine:1e-4", opt, 10).min_lr == 1e-4
    w = schedules.parse("warmup:50", opt, 1000)
    assert isinstance(w, optim.LinearWarmup) and w.warmup_steps == 50 and w.then is None
    w = schedules.parse("warmup:50:cosine", make(lr=0.5), 1000)
    assert isinstance(w.then, optim.CosineLR) and w.then.total_steps == 950 and w.base_lr == 0.5


@pytest.mark.parametrize("spec,message", [
    ("cosin", "unknown schedule 'cosin' \\(did you mean 'cosine'\\?\\); use one of constant, step:STEP_SIZE"),
    ("linear", "unknown schedule 'linear'"),
    ("step", "expected step:STEP_SIZE\\[:GAMMA\\], e.g. step:100:0.5"),
    ("step:abc", "STEP_SIZE must be a whole number"),
    ("step:0", "StepLR: step_size=0 is out of range; use step_size >= 1"),
    ("step:10:1.5", "StepLR: gamma=1.5 is out of range; use 0 < gamma <= 1"),
    ("exp", "expected exp:GAMMA"),
    ("exp:x", "GAMMA must be a number"),
    ("exp:0", "ExponentialLR: gamma=0.0 is out of range"),
    ("cosine:-1", "CosineLR: min_lr=-1.0 is out of range"),
    ("cosine:1:2", "expected cosine\\[:MIN_LR\\]"),
    ("constant:3", "'constant' takes no arguments"),
    ("warmup", "expected warmup:STEPS"),
    ("warmup:0", "LinearWarmup: warmup_steps=0 is out of range"),
    ("warmup:5:bogus", "unknown schedule 'bogus'"),
])
def test_parse_errors(spec, message):
    with pytest.raises(ValueError, match=message) as info:
        schedules.parse(spec, make(), 100)
    assert "\n" not in str(info.value)


def test_cosine_needs_total_steps():
    with pytest.raises(ValueError, match="needs the total number of steps"):
        schedules.parse("cosine", make())


def test_schedule_needs_an_lr():
    class NoLR:
        pass
    with pytest.raises(TypeError, match="NoLR has no lr attribute"):
        optim.Constant(NoLR())


# ----- every value checked, one line each ----------------------------------------------------

@pytest.mark.parametrize("spec, message", [
    ("cosine:inf", r"^CosineLR: min_lr=inf is out of range; use 0 <= min_lr <= 0.5 \(the floor"),
    ("cosine:nan", r"^CosineLR: min_lr=nan is out of range; use 0 <= min_lr <= 0.5"),
    ("cosine:0.6", r"^CosineLR: min_lr=0.6 is out of range; use 0 <= min_lr <= 0.5"),    # a floor above the start
    ("warmup:10:cosine:1", r"^CosineLR: min_lr=1.0 is out of range; use 0 <= min_lr <= 0.5"),
    ("exp:inf", r"^ExponentialLR: gamma=inf is out of range; use 0 < gamma <= 1"),
    ("step:10:nan", r"^StepLR: gamma=nan is out of range; use 0 < gamma <= 1"),
    ("step:1e3", r"STEP_SIZE must be a whole number"),
])
def test_parse_refuses_values_outside_their_range_naming_the_parameter(spec, message):
    with pytest.raises(ValueError, match=message) as info:
        schedules.parse(spec, make(lr=0.5), 100)
    assert "\n" not in str(info.value) and "try" not in str(info.value)


def test_a_cosine_floor_equal_to_the_base_rate_is_a_constant():
    assert lrs(optim.CosineLR(make(lr=0.5), total_steps=3, min_lr=0.5), 5) == [0.5] * 5


def test_nested_warmups_are_bounded_with_a_short_one_line_message():
    spec = "warmup:5:" * 1500 + "cosine"          # a RecursionError before the bound
    with pytest.raises(ValueError, match=r"^schedule 'warmup:5:warmup.*… \(13506 characters\): 1500 warm-ups "
                                         r"nested in one another; use at most 10$") as info:
        schedules.parse(spec, make(), 10_000)
    assert len(str(info.value)) < 200
    ten = schedules.parse("warmup:2:" * 10 + "constant", make(lr=1.0), 100)    # ten is allowed, and works
    np.testing.assert_allclose(lrs(ten, 21), [0.5, 1.0] * 10 + [1.0], rtol=1e-15)
    with pytest.raises(ValueError, match="11 warm-ups nested"):
        schedules.parse("warmup:2:" * 11 + "constant", make(), 100)
    opt, inner = make(), None
    for _ in range(schedules.MAX_NESTING):
        inner = optim.LinearWarmup(opt, 2, then=inner)
    with pytest.raises(ValueError, match="^LinearWarmup: 11 warm-ups nested in one another; use at most 10$"):
        optim.LinearWarmup(opt, 2, then=inner)


@pytest.mark.parametrize("make_schedule", [
    lambda opt: optim.StepLR(opt, step_size=True), lambda opt: optim.CosineLR(opt, total_steps=True),
    lambda opt: optim.LinearWarmup(opt, warmup_steps=True), lambda opt: optim.ExponentialLR(opt, gamma=True),
    lambda opt: optim.CosineLR(opt, 10, min_lr="0"),
])
def test_booleans_and_strings_are_not_numbers(make_schedule):
    with pytest.raises(ValueError, match="is out of range"):
        make_schedule(make())


def test_warmup_then_must_be_a_schedule():
    with pytest.raises(TypeError, match="^LinearWarmup: then='cosine' must be a Schedule"):
        optim.LinearWarmup(make(), 5, then="cosine")


@pytest.mark.parametrize("entries, message", [
    ({"t": -1}, "entry 't' = -1 must be a whole number >= 0"),
    ({"t": 1.5}, "entry 't' = 1.5 must be a whole number"),
    ({"t": "3"}, "entry 't' = '3' must be a whole number"),
    ({"base_lr": float("nan")}, "entry 'base_lr' = nan must be a finite number > 0"),
    ({"base_lr": 0.0}, "entry 'base_lr' = 0.0 must be a finite number > 0"),
    ({"base_lr": "0.1"}, "entry 'base_lr' = '0.1' must be a finite number"),
    ({"then.t": -2}, "entry 't' = -2 must be a whole number >= 0"),
])
def test_load_state_dict_is_strict_and_all_or_nothing(entries, message):
    opt = make(lr=0.5)
    sched = schedules.parse("warmup:3:step:2", opt, 20)
    for _ in range(4):
        sched.step()
    good = sched.state_dict()
    fresh_opt = make(lr=0.5)
    fresh = schedules.parse("warmup:3:step:2", fresh_opt, 20)
    before = (fresh.state_dict(), fresh_opt.lr)
    with pytest.raises(ValueError, match=message) as info:
        fresh.load_state_dict({**good, **entries})
    assert "\n" not in str(info.value)
    assert (fresh.state_dict(), fresh_opt.lr) == before           # neither level changed
    fresh.load_state_dict(good)
    assert fresh.state_dict() == good and fresh_opt.lr == opt.lr
