"""Optimizers refuse what they cannot run, name the hyperparameter at fault, and load all or nothing."""
import math
import warnings

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.optim import Hyperparameter, HyperparameterError, Optimizer, learning_rate


def one_weight(value=1.0, dtype=None):
    return Tensor([value], requires_grad=True, dtype=dtype)


# ----- messages that show a valid example ----------------------------------------------------

@pytest.mark.parametrize("betas", [(0.9, 0.9, 0.9), 0.9, ()])
def test_betas_of_the_wrong_length_show_the_default_as_example(betas):
    with pytest.raises(HyperparameterError, match=r"must be two numbers, e.g. \(0.9, 0.999\); use 0 <= beta1 < 1") as info:
        optim.Adam([one_weight()], betas=betas)
    assert "inspect" not in str(info.value) and "\n" not in str(info.value)


def test_a_tuple_hyperparameter_without_default_gives_no_example():
    class Pair(Optimizer):
        hyper = (learning_rate(), Hyperparameter("pair", tuple, "two numbers in [0, 1)", "a pair", lambda v: 0 <= v < 1))

        def __init__(self, params, lr, pair):
            super().__init__(params, lr=lr, pair=pair)

    with pytest.raises(HyperparameterError, match=r"^Pair: pair=0.5 must be two numbers; use two numbers in \[0, 1\)$"):
        Pair([one_weight()], lr=0.1, pair=0.5)


# ----- weight decay: the hyperparameter at fault is named --------------------------------------

@pytest.mark.parametrize("cls", [optim.Adam, optim.RMSprop, optim.Adagrad])
def test_a_weight_decay_whose_square_overflows_is_refused_by_name(cls):
    with pytest.raises(HyperparameterError, match=rf"^{cls.__name__}: weight_decay=1e\+308 is out of range; use "
                                                  r"0 <= weight_decay < 1.3e\+154 \(") as info:
        cls([one_weight()], weight_decay=1e308)
    assert "lr" not in str(info.value)
    cls([one_weight()], weight_decay=1e150)                     # below the limit: accepted


def test_the_weight_decay_limits_are_where_the_square_overflows():
    """The docstring's numbers: √(largest float) is 1.3e154 in float64 and 1.8e19 in float32, where the square
    of λ·w overflows for |w| ≥ 1; and λ = 1e308 turns a weight of 2 into nan on Adam's first step."""
    for dtype, limit in ((np.float64, 1.3407807929942596e154), (np.float32, 1.844674352395373e19)):
        assert math.sqrt(float(np.finfo(dtype).max)) == pytest.approx(limit, rel=1e-15)
        with np.errstate(over="ignore"):
            assert np.isinf(np.square(np.array(limit * 1.0000001, dtype=dtype)))
            assert np.isfinite(np.square(np.array(limit * 0.9999999, dtype=dtype)))
    with pytest.raises(HyperparameterError, match=r"use 0 <= weight_decay < 1.8e\+19 .* overflows float32"):
        optim.Adam([one_weight(dtype=np.float32)], weight_decay=1e20)
    w = one_weight(2.0)
    opt = optim.Adam([w], weight_decay=1e150)
    opt.weight_decay = 1e308                                    # past the check: what it prevents
    w.grad = np.array([0.1])
    with np.errstate(over="ignore", invalid="ignore"):
        opt.step()
    assert np.isnan(w.data).all()


def test_adamw_refuses_a_decay_factor_that_flips_the_weights():
    with pytest.raises(HyperparameterError, match=r"^AdamW: weight_decay=1e\+308 is out of range at lr=0.001; use "
                                                  r"lr\*weight_decay <= 1 \(weight_decay <= 1000 here\)"):
        optim.AdamW([one_weight()], weight_decay=1e308)
    optim.AdamW([one_weight()], lr=0.01, weight_decay=100.0)    # lr·λ = 1: the weights go to 0, allowed
    w = one_weight(2.0)
    opt = optim.AdamW([w], lr=0.1, weight_decay=10.0)
    opt.weight_decay = 15.0                                     # lr·λ = 1.5, past the check
    w.grad = np.zeros(1)
    opt.step()                                                  # w·(1 − 1.5) with no gradient step (m = 0)
    assert w.data.tolist() == [-1.0]                            # the sign flipped


# ----- divergence: which hyperparameter to change ----------------------------------------------

def test_the_divergence_hint_names_the_learning_rate_by_default():
    assert optim.SGD([one_weight()], lr=0.5).divergence_hint() == "use a smaller learning rate (lr=0.5 now, try 0.05)"
    assert optim.HeavyBall([one_weight()]).divergence_hint() == "make its steps smaller (mass, friction, dt set them)"


def _run_until_diverged(opt, w, steps=200, factor=100.0):
    """Gradient steps on L = Σw² until the loss is 100× its first value; the step it happened at, or None."""
    first = None
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss = (w * w).sum()
        first = loss.item() if first is None else first
        if not loss.item() <= factor * first:
            return step
        loss.backward()
        opt.step()
    return None


def test_momentum_without_lr_above_1_diverges_and_the_hint_blames_momentum():
    w = Tensor([1.0, -0.5], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                        # the class warns about μ >= 1
        opt = optim.MomentumWithoutLR([w], lr=0.05, momentum=1.5, warmup_steps=1)
    assert opt.divergence_hint().startswith("use a smaller learning rate")   # nothing removed yet
    at = _run_until_diverged(opt, w)
    assert at is not None and opt.removed_at == 2
    before = w.data.copy()
    opt.step()
    step_1 = w.data - before
    opt.step()
    np.testing.assert_allclose(w.data - before - step_1, 1.5 * step_1, rtol=1e-12)   # ×1.5 per step, as the hint says
    hint = opt.divergence_hint()
    assert hint == ("momentum=1.5 makes the weights run away (×1.5 per step) once the learning rate is gone after "
                    "step 1, whatever the learning rate; use momentum < 1")
    opt.momentum = 1.0
    assert "drift at constant speed" in opt.divergence_hint()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small_lr = optim.MomentumWithoutLR([Tensor([1.0, -0.5], requires_grad=True)], lr=0.005, momentum=1.5)
    assert _run_until_diverged(small_lr, small_lr.params[0]) is not None      # a smaller lr does not help


# ----- Optimizer.load_state_dict: strict, all or nothing --------------------------------------------

def _blobs():
    rng = np.random.default_rng(9)
    X = np.concatenate([rng.normal(-1, 0.5, (10, 2)), rng.normal(1, 0.5, (10, 2))])
    return X, np.repeat([-1.0, 1.0], 10)


def _trained(name, hp, steps):
    X, y = _blobs()
    model = nn.MLP([2, 4, 1], seed=3)
    opt = optim.get(name)(model.parameters(), **hp)
    for _ in range(steps):
        opt.zero_grad()
        nn.hinge(model(X), y).backward()
        opt.step()
    return opt


def _fresh(name, hp):
    return _trained(name, hp, 0)


def refused(opt_name, hp, d, pattern):
    """`d` is refused with a one-line ValueError matching `pattern`, and the optimizer is unchanged."""
    opt = _trained(opt_name, hp, 1)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=pattern) as info:
        opt.load_state_dict(d)
    assert "\n" not in str(info.value)
    after = opt.state_dict()
    assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)


ADAM = ("adam", {"lr": 0.01})


def test_a_missing_adam_moment_is_refused_not_reset_to_zero():
    good = _trained(*ADAM, 3).state_dict()
    for key in ("state.2.exp_avg_sq", "state.0.exp_avg", "state.1.step"):
        refused(*ADAM, {k: v for k, v in good.items() if k != key},
                f"^Adam.load_state_dict: missing entry '{key}' \\(parameter {key.split('.')[1]} has ")
    ams = _trained("adam", {"amsgrad": True}, 2).state_dict()
    refused("adam", {"amsgrad": True}, {k: v for k, v in ams.items() if k != "state.3.max_exp_avg_sq"},
            "missing entry 'state.3.max_exp_avg_sq'")
    refused(*ADAM, {k: v for k, v in good.items() if not k.startswith("state.2.")},        # all of one parameter
            r"missing entry 'state.2.step' \(parameter 2 has no entries\)")
    refused(*ADAM, {**good, "params_with_state": np.array([0, 1, 3])}, "unexpected entry 'state.2.exp_avg': parameter 2 "
            "is not in params_with_state")
    refused(*ADAM, {**good, "params_with_state": np.array([0, 0, 1])}, "must list distinct parameter indices from 0 to 3")
    refused(*ADAM, {k: v for k, v in good.items() if k != "params_with_state"}, "missing entry 'params_with_state'")
    refused(*ADAM, {**good, "state.0.max_exp_avg_sq": good["state.0.exp_avg_sq"]},      # amsgrad is off
            "unexpected entry 'state.0.max_exp_avg_sq'; with these hyperparameters Adam keeps step, exp_avg, exp_avg_sq")


@pytest.mark.parametrize("key, value, pattern", [
    ("state.0.exp_avg", np.nan, "entry 'state.0.exp_avg' holds nan; optimizer state must be finite"),
    ("state.1.exp_avg_sq", np.inf, "entry 'state.1.exp_avg_sq' holds inf"),
    ("state.0.exp_avg", "0.1", "entry 'state.0.exp_avg' holds <U3 values, not numbers"),
    ("state.0.exp_avg", None, "entry 'state.0.exp_avg' holds object values, not numbers"),
    ("state.0.step", 0, "entry 'state.0.step' = 0 is out of range; it must be from 1 to 3"),
    ("state.0.step", 4, "entry 'state.0.step' = 4 is out of range; it must be from 1 to 3"),
    ("state.0.step", 1.5, "entry 'state.0.step' must be a whole number"),
    ("step_count", -1, "entry 'step_count' = -1 is out of range; it must be >= 0"),
    ("hyper.lr", "0.1", "lr='0.1' must be a number"),
    ("hyper.betas", np.array([0.9, 0.9, 0.9]), r"betas=\(0.9, 0.9, 0.9\) must be two numbers, e.g. \(0.9, 0.999\)"),
])
def test_bad_values_are_refused_and_nothing_changes(key, value, pattern):
    good = _trained(*ADAM, 3).state_dict()
    if key.startswith("state.") and not key.endswith(".step") and isinstance(value, float):
        value = np.full_like(good[key], value)                  # one bad element in a full array
    refused(*ADAM, {**good, key: value}, pattern)


def test_the_saved_hyperparameters_must_pass_the_cross_checks_too():
    good = _trained("heavy-ball", {}, 2).state_dict()
    refused("heavy-ball", {}, {**good, "hyper.friction": 30.0}, r"dt\*friction/mass = 3 is out of range")


@pytest.mark.parametrize("name, hp, key", [
    ("sgd", {"momentum": 0.9}, "state.1.momentum_buffer"),
    ("rmsprop", {"centered": True, "momentum": 0.5}, "state.2.grad_avg"),
    ("rmsprop", {"centered": True, "momentum": 0.5}, "state.0.momentum_buffer"),
    ("adagrad", {}, "state.3.sum"),
    ("momentum-no-lr", {"warmup_steps": 1}, "state.0.removal_point"),     # removed at step 2 of 3
])
def test_every_state_entry_the_optimizer_uses_is_required(name, hp, key):
    good = _trained(name, hp, 3).state_dict()
    assert key in good
    refused(name, hp, {k: v for k, v in good.items() if k != key}, f"missing entry '{key}'")


def test_a_parameter_never_updated_has_no_state_and_that_loads():
    w, frozen_out = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    opt = optim.Adam([w, frozen_out], lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()                               # frozen_out never gets a gradient
        opt.step()
    d = opt.state_dict()
    assert not any(k.startswith("state.1.") for k in d)
    fresh = optim.Adam([Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0], requires_grad=True)], lr=0.1)
    fresh.load_state_dict(d)
    assert fresh.state[1] == {} and fresh.state[0]["step"] == 2


@pytest.mark.parametrize("name, hp", [("sgd", {"momentum": 0.9}), ("momentum", {}), ("ema-momentum", {}),
                                      ("heavy-ball", {}), ("nesterov", {}), ("momentum-no-lr", {"warmup_steps": 2}),
                                      ("adagrad", {}), ("rmsprop", {"centered": True, "momentum": 0.5}),
                                      ("adam", {"amsgrad": True}), ("adamw", {})])
def test_a_good_state_round_trips_through_npz(tmp_path, name, hp):
    d = _trained(name, hp, 3).state_dict()
    np.savez(tmp_path / "s.npz", **d)
    fresh = _fresh(name, hp)
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        fresh.load_state_dict(f)
    again = fresh.state_dict()
    assert again.keys() == d.keys() and all(np.array_equal(again[k], d[k]) for k in d)


# ----- Module.load_state_dict: strict, all or nothing ----------------------------------------------

@pytest.mark.parametrize("value, pattern", [
    (np.array(["1.5", "2"]), "entry 'layers.2.b' holds text, not numbers"),     # numeric strings were accepted
    ("0.5", "entry 'layers.2.b' holds text"),
    (np.array([np.nan]), "entry 'layers.2.b' holds nan; a weight must be a finite number"),
    (np.array([-np.inf]), "entry 'layers.2.b' holds inf"),
    (np.array([True]), "entry 'layers.2.b' holds booleans"),
    (np.array([object()]), "entry 'layers.2.b' holds Python objects"),
    (np.array([1 + 2j]), "entry 'layers.2.b' holds complex numbers"),
    ([[1.0], [2.0, 3.0]], "entry 'layers.2.b' holds Python objects"),
])
def test_module_load_refuses_a_bad_last_entry_and_changes_nothing(value, pattern):
    model = nn.MLP([2, 4, 1], seed=0)
    before = model.state_dict()
    versions = [p._version for p in model.parameters()]
    d = {k: v + 1.0 for k, v in before.items()}             # every other entry is good and different
    d["layers.2.b"] = value                                 # the last one is bad
    with pytest.raises(ValueError, match=f"^MLP.load_state_dict: {pattern}") as info:
        model.load_state_dict(d)
    assert "\n" not in str(info.value)
    after = model.state_dict()
    assert all(np.array_equal(after[k], before[k]) for k in before)                     # the first layers too
    assert [p._version for p in model.parameters()] == versions


def test_module_load_refuses_values_beyond_a_float32_parameter():
    model = nn.MLP([2, 4, 1], seed=0, dtype=np.float32)
    d = {k: v.astype(np.float64) for k, v in model.state_dict().items()}
    d["layers.0.W"] = np.full((2, 4), 1e300)
    with pytest.raises(ValueError, match=r"entry 'layers.0.W' holds a value beyond float32's range \(1e\+300\)"):
        model.load_state_dict(d)


def test_module_load_accepts_integers_and_tensors_and_copies_in_place():
    model = nn.MLP([2, 4, 1], seed=0)
    W = model.layers[0].W.data
    d = {k: np.ones(v.shape, dtype=np.int64) for k, v in model.state_dict().items()}
    d["layers.2.b"] = Tensor([0.25])
    model.load_state_dict(d)
    assert model.layers[0].W.data is W and W.tolist() == [[1.0] * 4] * 2
    assert model.layers[2].b.data.tolist() == [0.25]
    with pytest.raises(TypeError, match="^MLP.load_state_dict: expected a dict of parameter name → array"):
        model.load_state_dict([("layers.0.W", W)])
