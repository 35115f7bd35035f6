"""The explorers: move a slider (or call update) and the figure's data change as the closed forms say."""
import inspect
import sys
import types

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tinygrad_edu import explore, optim  # noqa: E402
from tinygrad_edu.landscape import LANDSCAPES  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def drawn(explorer, name) -> np.ndarray:
    """The (x, y) pairs of the line `name` as the figure holds them."""
    return np.asarray(explorer.artists[name].get_xydata(), dtype=np.float64)


@pytest.fixture
def widgets():
    return pytest.importorskip("ipywidgets")


@pytest.fixture
def quick_png(monkeypatch):
    """Skip matplotlib's PNG encoding in widget tests: the image widget gets bytes naming the state drawn."""
    monkeypatch.setattr(explore.Explorer, "png", lambda self: self.data["status"].encode())


@pytest.fixture(scope="module")
def static_stability():
    """One static stability explorer, moved to each point in turn (making its map's figure is the slow part)."""
    return explore.stability(interactive=False)


@pytest.fixture
def no_ipywidgets(monkeypatch):
    """`import ipywidgets` fails, as where it is not installed; and we pretend to be in a notebook."""
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    monkeypatch.setattr(explore, "in_kernel", lambda: True)


# ----- the landscape explorer ----------------------------------------------------------------------

def test_sgd_path_on_the_quadratic_is_x0_times_one_minus_eta_lambda_to_the_t():
    """f = ½x² + y²: curvatures λ = 1 and 2, so SGD multiplies x by 1 − η and y by 1 − 2η per step."""
    e = explore.landscape("quadratic", optimizer="sgd", interactive=False)
    assert e.values["momentum"] == 0.0            # SGD's own default: plain gradient descent
    for lr, x0, y0 in [(0.1, -3.0, 2.0), (0.4, 4.5, -1.0), (0.9, -4.0, 3.0)]:
        e.update(lr=lr, x=x0, y=y0, steps=30)
        t = np.arange(31)
        expected = np.column_stack([x0 * (1 - lr) ** t, y0 * (1 - 2 * lr) ** t])
        np.testing.assert_allclose(drawn(e, "path"), expected, rtol=1e-12, atol=1e-300)
        np.testing.assert_array_equal(drawn(e, "start"), [[x0, y0]])
        gap = drawn(e, "gap")
        np.testing.assert_array_equal(gap[:, 0], t)
        np.testing.assert_allclose(gap[:, 1], np.maximum(0.5 * expected[:, 0] ** 2 + expected[:, 1] ** 2, 1e-16),
                                   rtol=1e-12)
    assert (1 - 2 * 0.9) < 0 and e.data["trajectory"].sign_changes(1) == 30   # y overshoots at every step
    assert e.data["status"].startswith("sgd (lr=0.9, momentum=0): f − f* = ")


def test_momentum_slider_redraws_the_heavy_ball_recurrence(widgets, quick_png):
    e = explore.landscape("ravine", interactive=True)
    assert isinstance(e.widget, widgets.VBox) and isinstance(e.controls["momentum"], widgets.FloatSlider)
    e.controls["lr"].value = 0.01
    e.controls["momentum"].value = 0.5
    e.controls["steps"].value = 40
    assert e.values == {"optimizer": "momentum", "lr": 0.01, "momentum": 0.5, "x": -8.0, "y": 1.0, "steps": 40}
    w, m = np.array([-8.0, 1.0]), np.zeros(2)
    expected = [w]
    for _ in range(40):                          # m ← μm + η∇f;  w ← w − m,  ∇f = (x, 100y)
        m = 0.5 * m + 0.01 * np.array([w[0], 100 * w[1]])
        w = w - m
        expected.append(w)
    np.testing.assert_allclose(drawn(e, "path"), expected, rtol=1e-12, atol=1e-15)
    assert e._image.value == e.data["status"].encode()           # the picture was redrawn for it
    assert e._status.value == e.data["status"]
    assert e.data["status"].startswith("momentum (lr=0.01, momentum=0.5):")


def test_choosing_an_optimizer_resets_its_lr_and_mu(widgets, quick_png):
    fn = LANDSCAPES["ravine"]
    e = explore.landscape("ravine", interactive=True)
    computed = []
    compute = e._compute
    e._compute = lambda values: computed.append(values) or compute(values)
    e.controls["optimizer"].value = "adam"
    assert len(computed) == 1            # one redraw: moving the η and μ sliders along does not echo back
    assert e.values["lr"] == fn.lr["adam"] == e.controls["lr"].value
    assert e.values["momentum"] == 0.9 == e.controls["momentum"].value       # β₁
    assert e.hyperparameters() == {"lr": fn.lr["adam"], "betas": (0.9, 0.999)}
    # Adam's first step is η·sign(∇f) per coordinate (m̂/√v̂ = g/|g|), whatever the gradient's size.
    first = drawn(e, "path")[1]
    np.testing.assert_allclose(first, np.array(fn.start) - fn.lr["adam"] * np.sign([-8.0, 100.0]), rtol=1e-7)
    e.controls["momentum"].value = 0.5
    assert e.hyperparameters()["betas"] == (0.5, 0.999)
    e.controls["optimizer"].value = "adagrad"                    # no momentum at all: the μ slider greys out
    assert e.controls["momentum"].disabled and not e.controls["lr"].disabled
    assert e.hyperparameters() == {"lr": fn.lr["adagrad"]}
    e.update(optimizer="sgd", lr=0.01)                           # a value given with the choice is kept
    assert (e.values["lr"], e.values["momentum"], e.controls["lr"].value) == (0.01, 0.0, 0.01)
    assert not e.controls["momentum"].disabled
    np.testing.assert_allclose(drawn(e, "path")[1], [-8.0 * 0.99, 1.0 * (1 - 100 * 0.01)], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_each_landscape_opens_at_its_own_start_and_steps(name):
    fn = LANDSCAPES[name]
    e = explore.landscape(name, optimizer="sgd", interactive=False)
    assert (e.values["x"], e.values["y"], e.values["steps"], e.values["lr"]) == (*fn.start, fn.steps, fn.lr["sgd"])
    np.testing.assert_array_equal(drawn(e, "start"), [fn.start])
    assert len(drawn(e, "path")) == fn.steps + 1
    assert e.figure.axes[0].get_title() == f"{name}: {fn.formula}"


def test_the_dropdown_offers_the_optimizers_with_a_learning_rate_for_the_landscape():
    names = explore.landscape_optimizers("rosenbrock")
    assert set(names) == {"sgd", "momentum", "ema-momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}
    assert all(name in optim.names() for name in names)
    assert {n: explore.momentum_parameter(n) for n in names} == {
        "sgd": "momentum", "momentum": "momentum", "nesterov": "momentum", "rmsprop": "momentum",
        "ema-momentum": "beta", "adam": "betas", "adamw": "betas", "adagrad": None}
    # left out: the one whose learning rate leaves after its first step
    assert "momentum-no-lr" not in names
    assert inspect.signature(optim.MomentumWithoutLR).parameters["warmup_steps"].default == 1
    e = explore.landscape("rosenbrock", optimizer="nesterov", interactive=False)
    assert e.spec["optimizer"].options == names
    assert e.values["lr"] == LANDSCAPES["rosenbrock"].lr["nesterov"]


def test_a_diverging_path_says_where_it_left():
    e = explore.landscape("ravine", optimizer="sgd", lr=0.03, steps=200, interactive=False)   # 1 − 100η = −2
    assert e.data["trajectory"].diverged_at is not None
    assert e.data["status"] == f"sgd (lr=0.03, momentum=0): diverged at step {e.data['trajectory'].diverged_at}"


# ----- the ablation explorer ----------------------------------------------------------------------------

def coasting(delta_w: float, mu: float, j: np.ndarray) -> np.ndarray:
    """|w_{k+j} − w_k| = |Δw|·(μ + μ² + … + μʲ), written out as the sum."""
    return delta_w * np.array([sum(mu ** i for i in range(1, n + 1)) for n in j])


def test_ablation_displacement_is_the_closed_form_and_follows_mu():
    e = explore.ablation(interactive=False)
    assert e.values == {"form": "lr-inside", "momentum": 0.9, "k": 20}
    assert len(e.problem.X) == 150 and e.problem.name == "moons"        # the docstring's 150 moons points
    j = np.arange(61)
    lines = {}
    for mu in (0.9, 0.5, 1.0, 1.03):
        e.update(momentum=mu)
        dw = e.data["last_update"]
        np.testing.assert_allclose(e.data["displacement"], np.outer(coasting(1.0, mu, j), dw), rtol=1e-10,
                                   atol=1e-15)
        closed, measured = drawn(e, "closed_form"), drawn(e, "measured")
        np.testing.assert_array_equal(closed[:, 0], j)
        np.testing.assert_allclose(closed[:, 1], coasting(np.linalg.norm(dw), mu, j), rtol=1e-12)
        np.testing.assert_allclose(measured[:, 1], closed[:, 1], rtol=1e-10, atol=1e-15)
        lines[mu] = closed[:, 1] / np.linalg.norm(dw)
    np.testing.assert_allclose(lines[0.5][-1], 1.0, rtol=1e-12)       # stops after μ/(1 − μ) = 1 step's worth
    np.testing.assert_allclose(lines[0.9][-1], 9 * (1 - 0.9 ** 60), rtol=1e-12)
    np.testing.assert_allclose(lines[1.0], j, rtol=1e-12)             # drifts: j·Δw
    assert lines[1.03][-1] > 60                                        # runs away
    assert e.artists["closed_form"].get_label() == "closed form |Δw|·μ(1 − μʲ)/(1 − μ)"
    assert e.data["status"].endswith("μ = 1.03, k = 20: runs away: steps grow like μᵗ")
    e.update(form="ema")                                               # EMAMomentum takes 0 <= β < 1
    assert "EMAMomentum: beta=1.03 is out of range; use 0 <= beta < 1" in e.data["refused"]


def test_ablation_forms_and_k_through_the_widgets(widgets, quick_png):
    e = explore.ablation(interactive=True)
    assert isinstance(e.controls["form"], widgets.Dropdown) and isinstance(e.controls["k"], widgets.IntSlider)
    e.controls["k"].value = 5
    assert drawn(e, "removal")[0, 0] == 5
    removed, kept = drawn(e, "loss_removed")[:, 1], drawn(e, "loss_kept")[:, 1]
    assert len(removed) == 5 + 60 + 1
    np.testing.assert_array_equal(removed[:6], kept[:6])              # the same run until the removal
    assert removed[-1] > kept[-1]                                      # then the kept one goes on learning

    e.controls["form"].value = "pytorch"                               # η·b = 0: stops dead, at once
    assert np.all(drawn(e, "measured")[:, 1] == 0.0) and np.all(drawn(e, "closed_form")[:, 1] == 0.0)
    loss = drawn(e, "loss_removed")[:, 1]
    assert np.all(loss[5:] == loss[5])
    assert e.artists["closed_form"].get_label() == "closed form: 0 (stops dead)"

    e.controls["momentum"].value = 1.0                                 # SGD takes 0 <= μ < 1
    assert "SGD: momentum=1.0 is out of range; use 0 <= momentum < 1" in e.data["refused"]
    assert e.artists["message"].get_text() == e.data["refused"]
    assert np.all(np.isnan(drawn(e, "measured")[:, 1]))
    assert e._image.value == e.data["status"].encode()

    e.controls["form"].value = "lr-inside"                             # MomentumWithoutLR takes μ = 1: drift
    assert e.artists["message"].get_text() == ""
    dw = np.linalg.norm(e.data["last_update"])
    np.testing.assert_allclose(drawn(e, "measured")[:, 1], dw * np.arange(61), rtol=1e-10, atol=1e-15)
    assert e.artists["closed_form"].get_label() == "closed form j·|Δw|"


# ----- the stability explorer ----------------------------------------------------------------------------

def largest_root(a: float, mu: float) -> float:
    return float(np.max(np.abs(np.roots([1.0, -(1 + mu - a), mu]))))


def hand_recurrence(a: float, mu: float, steps: int, x0: float = 1.0) -> np.ndarray:
    """x_{t+1} = (1 + μ − ηλ)x_t − μx_{t−1}, with x_{−1} = x_0 (the velocity starts at 0)."""
    xs, previous = [x0], x0
    for _ in range(steps):
        xs.append((1 + mu - a) * xs[-1] - mu * previous)
        previous = xs[-2]
    return np.array(xs)


@pytest.mark.parametrize("a", [0.0, 0.01, 0.5, 1.0, 2.0, 3.0, 4.5])
@pytest.mark.parametrize("mu", [0.0, 0.25, 0.5, 0.9, 0.99, 1.0])
def test_spectral_radius_is_the_largest_root(a, mu):
    numpy_roots = np.roots([1.0, -(1 + mu - a), mu]).astype(complex)       # off by √ε at a double root
    assert explore.spectral_radius(a, mu) == pytest.approx(np.max(np.abs(numpy_roots)), abs=1e-7)
    roots = explore.characteristic_roots(a, mu)
    np.testing.assert_allclose(np.sort_complex(roots), np.sort_complex(numpy_roots), atol=1e-7)
    assert abs(roots[0]) == pytest.approx(explore.spectral_radius(a, mu), abs=1e-12)


def test_the_map_is_stable_exactly_where_0_lt_eta_lambda_lt_2_plus_2mu():
    e = explore.stability(interactive=False)
    A, M, rho = (e.map[key] for key in ("eta_lambda", "momentum", "spectral_radius"))
    assert A.shape == M.shape == rho.shape == (101, 181) and A.max() == 4.5 and M.max() == 1.0
    on_an_edge = np.isclose(A, 0) | np.isclose(A, 2 + 2 * M, atol=1e-9) | np.isclose(M, 1)
    formula = (A > 0) & (A < 2 + 2 * M) & (M < 1)
    assert np.array_equal((rho < 1)[~on_an_edge], formula[~on_an_edge])
    b = 1 + M - A
    complex_roots = b * b < 4 * M
    np.testing.assert_allclose(rho[complex_roots], np.sqrt(M[complex_roots]), rtol=1e-15)   # |z| = √μ
    image = e.figure.axes[0].collections[0]
    np.testing.assert_array_equal(np.asarray(image.get_array()).reshape(rho.shape), np.minimum(rho, 1.05))


def test_the_marked_point_and_its_trajectory_follow_the_sliders(widgets, quick_png):
    e = explore.stability(interactive=True)
    for a, mu in [(0.5, 0.6), (0.3, 0.0), (3.0, 0.5), (2.5, 0.2), (1.0, 0.9)]:
        e.controls["eta_lambda"].value = a
        e.controls["momentum"].value = mu
        np.testing.assert_array_equal(drawn(e, "point"), [[a, mu]])
        rho = e.data["spectral_radius"]
        assert rho == pytest.approx(largest_root(a, mu), abs=1e-12)
        x = drawn(e, "trajectory")
        np.testing.assert_array_equal(x[:, 0], np.arange(61))
        np.testing.assert_allclose(x[:, 1], hand_recurrence(a, mu, 60), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(drawn(e, "envelope")[:, 1], rho ** np.arange(61), rtol=1e-12)
        assert e._status.value == f"ηλ = {a:g}, μ = {mu:g}: ρ = {rho:.4f}, {e.data['regime']}"
        if mu == 0:                               # plain gradient descent: x_t = x₀(1 − ηλ)ᵗ
            np.testing.assert_allclose(x[:, 1], (1 - a) ** np.arange(61), rtol=1e-12)
        scale = e.artists["trajectory"].axes.get_yscale()
        assert scale == ("symlog" if rho > 1 else "linear")
    e.controls["eta_lambda"].value, e.controls["momentum"].value = 2.5, 0.2
    x = e.data["x"]
    assert abs(x[60] / x[59]) == pytest.approx(e.data["spectral_radius"], rel=1e-6)   # grows by ρ per step


@pytest.mark.parametrize("a, mu, regime", [
    (3.0, 0.5, "on the edge: |x| neither grows nor shrinks"),          # ηλ = 2 + 2μ
    (2.5, 0.2, "diverges: |x| grows like ρᵗ"),
    (1.0, 0.9, "oscillates: complex roots, ρ = √μ"),
    (0.04, 0.64, "critically damped: a double root"),                  # ηλ = (1 − √μ)²
    (1.0, 0.0, "critically damped: a double root"),                    # z² = 0: there in one step
    (0.1, 0.0, "creeps in without overshooting: real positive roots"),
    (1.9, 0.0, "flips sign every step: real roots, the larger one negative"),
])
def test_each_regime_is_named_by_its_roots(a, mu, regime, static_stability):
    e = static_stability
    e.update(eta_lambda=a, momentum=mu, steps=40)
    assert e.data["regime"] == regime
    x, roots = e.data["x"], e.data["roots"]
    if regime.startswith("oscillates"):
        assert np.all(np.abs(roots) == pytest.approx(np.sqrt(mu), rel=1e-12))
        assert np.count_nonzero(np.diff(np.sign(x)) != 0) > 3
    if regime.startswith("creeps"):
        assert np.all(x > 0) and np.all(np.diff(x) < 0)
    if regime.startswith("flips"):
        assert np.all(np.sign(x[1:]) == -np.sign(x[:-1]))
    if regime.startswith("critically") and mu > 0:              # a double root z: x_t = (c₁ + c₂t)zᵗ
        z, t = (1 + mu - a) / 2, np.arange(41)
        np.testing.assert_allclose(x, (1 + (x[1] / z - 1) * t) * z ** t, rtol=1e-9)
    if regime.startswith("on the edge"):
        assert np.abs(x[-20:]).max() == pytest.approx(np.abs(x[-20:]).min(), rel=0.2) and np.abs(x).max() < 10


def test_the_module_docstring_example():
    e = explore.stability(interactive=False)
    e.update(eta_lambda=3.0, momentum=0.5)
    assert e.data["spectral_radius"] == 1.0 and e.data["regime"].startswith("on the edge")
    assert isinstance(e.figure, matplotlib.figure.Figure) and e.controls == e.values


def test_a_slider_clamps_so_the_explorer_checks_ranges_itself(widgets, quick_png):
    slider = widgets.FloatSlider(min=0.0, max=1.0)
    slider.value = 5.0
    assert slider.value == 1.0                    # silently: why Control.check raises instead
    e = explore.stability(interactive=True)
    with pytest.raises(ValueError, match="out of range"):
        e.update(momentum=5.0)
    assert e.controls["momentum"].value == 0.9


def test_curvature_only_rescales_eta():
    """The trajectory depends on η and λ only through ηλ: the map's axis."""
    one = explore.stability(eta_lambda=1.7, momentum=0.3, interactive=False).data["x"]
    four = explore.stability(eta_lambda=1.7, momentum=0.3, curvature=4.0, x0=-2.0, interactive=False).data["x"]
    np.testing.assert_allclose(four, -2.0 * one, rtol=1e-12, atol=1e-15)


# ----- without a kernel, or without ipywidgets: a static figure ---------------------------------------------

@pytest.mark.parametrize("make", [explore.landscape, explore.ablation, explore.stability])
def test_without_ipywidgets_each_explorer_is_its_static_figure(make, no_ipywidgets):
    e = make()
    assert e.widget is None and not e.interactive
    assert e.controls == e.values and e.figure.axes
    name = "lr" if isinstance(e, explore.LandscapeExplorer) else "momentum"
    before = e.data["status"]
    e.update(**{name: 0.5})                      # the figure still follows update()
    assert e.values[name] == e.controls[name] == 0.5 and e.data["status"] != before
    with pytest.raises(ImportError, match=r"^explore: interactive=True needs ipywidgets; pip install ipywidgets"):
        make(interactive=True)


def test_the_static_figure_displays_inline_as_a_png(no_ipywidgets):
    e = explore.ablation(steps=10)
    bundle = e._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/png"}
    assert bundle["image/png"].startswith(PNG_MAGIC)
    assert bundle["text/plain"].startswith("<AblationExplorer form='lr-inside', momentum=0.9, k=20: Momentum:")


def test_live_only_in_a_kernel_and_the_saved_output_keeps_the_image(widgets, monkeypatch):
    monkeypatch.setattr(explore, "in_kernel", lambda: False)
    assert explore.ablation(steps=10).widget is None                  # a script, or the tests: static
    monkeypatch.setattr(explore, "in_kernel", lambda: True)
    e = explore.ablation(steps=10)
    assert isinstance(e.widget, widgets.VBox) and e.interactive
    assert bytes(e._image.value).startswith(PNG_MAGIC)
    monkeypatch.setattr(explore.Explorer, "png", lambda self: self.data["status"].encode())   # no second encoding
    e.controls["momentum"].value = 0.3
    bundle = e._repr_mimebundle_()
    view = "application/vnd.jupyter.widget-view+json"
    assert bundle[view] == {"version_major": 2, "version_minor": 0, "model_id": e.widget.model_id}
    if hasattr(e.widget, "_repr_mimebundle_"):                         # ipywidgets 8 says the same
        assert e.widget._repr_mimebundle_()[view] == bundle[view]
    assert bundle["image/png"] == bytes(e._image.value) == e.data["status"].encode()   # what GitHub shows: the latest
    assert explore.ablation(steps=10, interactive=False).widget is None


def test_in_kernel_looks_for_a_running_kernel(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert explore.in_kernel() is False                               # plain python, or IPython in a terminal
    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert explore.in_kernel() is True
    monkeypatch.delitem(sys.modules, "IPython")
    assert explore.in_kernel() is False


# ----- bad input: one line that says what to use ----------------------------------------------------------

def test_bad_values_are_one_line_errors_naming_the_range():
    e = explore.stability(interactive=False)
    cases = [
        (lambda: e.update(eta=1.0), r"^StabilityExplorer.update: unknown control 'eta'; the controls are "
                                    r"eta_lambda, momentum, steps$"),
        (lambda: e.update(eta_lambda=5.0), r"^eta_lambda=5.0 is out of range; use 0.01 <= eta_lambda <= 4.5$"),
        (lambda: e.update(momentum=True), r"^momentum=True must be a number; use 0 <= momentum <= 0.99$"),
        (lambda: e.update(steps=2.5), r"^steps=2.5 must be a whole number; use 1 <= steps <= 200$"),
        (lambda: explore.stability(eta_lambda=0), r"^eta_lambda=0 is out of range; use 0.01 <= eta_lambda <= 4.5$"),
        (lambda: explore.stability(x0=0.0), r"^x0=0.0 must be a non-zero number"),
        (lambda: explore.stability(curvature=-1), r"^curvature=-1 must be a number > 0$"),
        (lambda: explore.landscape(lr=20.0), r"^lr=20.0 is out of range; use 0.0001 <= lr <= 10$"),
        (lambda: explore.landscape(optimizer="heavy-ball"), r"^optimizer='heavy-ball' is not offered here; "
                                                            r"choose from: sgd, momentum"),
        (lambda: explore.landscape(optimizers=["sgd", "heavy-ball"], optimizer="sgd"),
         r"^optimizer 'heavy-ball' takes no lr, so the η slider cannot drive it; leave it out of optimizers=$"),
        (lambda: explore.landscape(optimizers=["sgd", "sgdd"], optimizer="sgd"), r"^unknown optimizer 'sgdd'"),
        (lambda: explore.landscape(start=(1.0, 2.0, 3.0)), r"^start=\(1.0, 2.0, 3.0\) must be two numbers \(x, y\)$"),
        (lambda: explore.landscape("ravine", start=(5.0, 0.0)), r"^x=5.0 is out of range; use -9 <= x <= 2$"),
        (lambda: explore.landscape("ravin"), r"^unknown landscape 'ravin'; did you mean 'ravine'\?"),
        (lambda: explore.ablation(form="ema2"),
         r"^form='ema2' is not offered here; choose from: lr-inside, pytorch, ema$"),
        (lambda: explore.ablation(steps=0), r"^steps=0 must be a whole number >= 1$"),
        (lambda: explore.ablation(interactive="yes"), r"^interactive='yes' must be True, False or None"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            call()
        assert "\n" not in str(info.value)
    assert e.values == {"eta_lambda": 1.0, "momentum": 0.9, "steps": 60}     # a refused update changes nothing
