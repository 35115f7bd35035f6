"""The README stays true: its set-up commands work as root, with sudo and with Homebrew, CI runs the
same test command, each Python example runs on its own and prints what its comments say, and every
number and claim in it is computed here."""
import ast
import importlib.util
import math
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinygrad_edu import Tensor, data, landscape, nn, optim, train
from tinygrad_edu.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_EXAMPLES = re.findall(r"```python\n(.*?)```", README, re.S)
SETUP = [line for line in re.findall(r"```bash\n(.*?)```", README, re.S)[0].splitlines()
         if line and not line.startswith("#")]
TEST_COMMAND = "python -m pytest"


def section(title: str) -> str:
    """The README's text under `## title`, up to the next `## ` heading."""
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def prose(title: str) -> str:
    """A section's text with its line breaks undone, for sentences that wrap."""
    return " ".join(section(title).split())


# ----- the Python examples ------------------------------------------------------------------------

@pytest.mark.parametrize("index", range(len(PYTHON_EXAMPLES)), ids=lambda i: f"example{i + 1}")
def test_each_python_example_runs_alone_and_prints_what_its_comments_say(index, tmp_path):
    code = PYTHON_EXAMPLES[index]
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""                                       # no warnings either
    prints = [line for line in code.splitlines() if line.startswith("print(")]
    assert prints and all("#" in line for line in prints), "every print states what it prints, in its comment"
    printed = done.stdout.splitlines()
    assert len(printed) == len(prints)
    for line, output in zip(prints, printed):
        claim = line.split("#", 1)[1].strip()        # the printed value first, then what it means
        assert claim == output or claim.startswith(output + ":") or claim.startswith(output + " "), (output, claim)


def test_the_examples_are_the_api_taste_and_the_engine_alone(tmp_path):
    assert len(PYTHON_EXAMPLES) == 2
    assert PYTHON_EXAMPLES[1].startswith("from tinygrad_edu import Tensor\n")   # self-contained
    done = subprocess.run([sys.executable, "-c", PYTHON_EXAMPLES[1]], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0 and ((tmp_path / "L.svg").exists() or (tmp_path / "L.dot").exists())


# ----- the set-up commands and CI ------------------------------------------------------------------

def test_both_setup_commands_install_in_editable_mode_and_agree_with_ci():
    assert len(SETUP) == 2
    assert SETUP[0] == "pip install -e . && edu train --optimizer momentum"
    install, rest = SETUP[1].split(" && pip install -e ", 1)
    assert rest == f'".[dev]" && {TEST_COMMAND}'
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^{re.escape(TEST_COMMAND)}$", ci, re.M), "CI must run the README's test command"
    assert re.search(r'^python -m pip install .* -e "\.\[dev\]"$', ci, re.M)


def test_the_first_command_trains_on_moons_with_momentum():
    result = CliRunner().invoke(cli, ["train", "--optimizer", "momentum"])
    assert result.exit_code == 0 and result.output.startswith("moons: ") and "Momentum(lr=0.05" in result.output


def stubs(tmp_path, uid: int, brew: bool, dot: bool, fail: str = "", chromium: bool = False) -> dict:
    """A PATH of fake commands that log their arguments: id, sudo, apt-get (not beside brew: macOS has
    none), brew, dot, chromium, pip, python."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "log"

    def fake(name, body="exit 0"):
        (bin_ / name).write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n{body}\n')
        (bin_ / name).chmod(0o755)
    (bin_ / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (bin_ / "id").chmod(0o755)
    fake("sudo", 'exec "$@"')
    if not brew:
        fake("apt-get", f'[ "$1" = "{fail}" ] && exit 100; exit 0')
    if chromium:
        fake("chromium")
    fake("pip")
    fake("python", f'[ "$*" = "-m pytest" ] && exit {5 if fail == "pytest" else 0}; exit 0')
    if brew:
        fake("brew")
    if dot:
        fake("dot")
    for tool in ("bash", "dirname", "env"):              # what .ci/run needs for real
        (bin_ / tool).symlink_to(shutil.which(tool))
    return {"PATH": str(bin_), "HOME": str(tmp_path), "LOG": str(log)}


def run_line(shell: str, line: str, env: dict, cwd) -> tuple:
    done = subprocess.run([shutil.which(shell), "-c", line], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=30)
    log = Path(env["LOG"])
    return done.returncode, log.read_text().splitlines() if log.exists() else []


APT = ["apt-get update", "apt-get install -y graphviz"]
SUDO_APT = ["sudo apt-get update", "apt-get update", "sudo apt-get install -y graphviz", "apt-get install -y graphviz"]
AFTER = ['pip install -e .[dev]', "python -m pytest"]


@pytest.mark.parametrize("shell", ["bash", "sh"])
@pytest.mark.parametrize("who, uid, brew, dot, calls", [
    ("root without sudo", 0, False, False, APT + AFTER),
    ("a user with sudo", 1000, False, False, SUDO_APT + AFTER),
    ("macOS with Homebrew", 501, True, False, ["brew install graphviz"] + AFTER),
    ("dot already there", 0, False, True, AFTER),
])
def test_command_2_installs_graphviz_for_everyone(tmp_path, shell, who, uid, brew, dot, calls):
    code, log = run_line(shell, SETUP[1], stubs(tmp_path, uid, brew, dot), tmp_path)
    assert code == 0 and log == calls, who


def test_command_2_stops_when_the_install_fails(tmp_path):
    code, log = run_line("bash", SETUP[1], stubs(tmp_path, 0, brew=False, dot=False, fail="update"), tmp_path)
    assert code != 0 and log == ["apt-get update"]                # no install, no pip, no tests


@pytest.mark.parametrize("uid, brew, dot, chromium, calls", [
    (0, False, False, False, ["apt-get update -qq", "apt-get install -y -qq graphviz chromium"]),
    (1000, False, False, False, ["sudo apt-get update -qq", "apt-get update -qq",
                                 "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz chromium",
                                 "apt-get install -y -qq graphviz chromium"]),
    (0, False, True, False, ["apt-get update -qq", "apt-get install -y -qq chromium"]),
    (0, False, True, True, []),
    (501, True, False, False, ["brew install graphviz"]),
], ids=["root", "sudo", "dot-there", "both-there", "brew"])
def test_ci_installs_graphviz_and_chromium_the_same_ways_then_runs_the_tests(tmp_path, uid, brew, dot, chromium,
                                                                             calls):
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")      # it works in its own checkout: this copy
    env = stubs(tmp_path, uid, brew, dot=dot, chromium=chromium)
    code, log = run_line("bash", str(tmp_path / ".ci" / "run"), env, tmp_path)
    assert code == 0
    assert log == calls + ["python -m pip install --quiet --disable-pip-version-check -e .[dev]", "python -m pytest"]


def test_ci_fails_when_pytest_collects_nothing(tmp_path):
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    done = subprocess.run([shutil.which("bash"), str(tmp_path / ".ci" / "run")], env=stubs(tmp_path, 0, False, True, fail="pytest"),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "collected no tests" in done.stderr


# ----- every number and claim ------------------------------------------------------------------------

def test_python_version():
    assert "Python ≥ 3.10" in README
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"] == ">=3.10"


def test_counts_the_readme_states():
    built_in = [n for n in optim.names() if optim.get(n).__module__.startswith("tinygrad_edu.optim")]
    assert "ten optimizers" in README and len(built_in) == 10   # other tests register their own
    chapters = list((ROOT / "tutorials").glob("[0-9][0-9]-*.md"))
    assert "ten tutorial chapters" in README and "ten chapters" in README and len(chapters) == 10
    assert "## Set-up: two commands" in README and len(SETUP) == 2


def test_the_engine_is_two_files_that_import_nothing_else_of_the_package():
    assert "The engine fits in two files" in " ".join(README.split())
    for name in ("tensor.py", "ops.py", "threads.py"):
        tree = ast.parse((ROOT / "tinygrad_edu" / name).read_text(encoding="utf-8"))
        inside = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:      # from .ops import ...; from . import ops
                inside |= {node.module} if node.module else {alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                inside |= {alias.name for alias in node.names if alias.name.startswith("tinygrad_edu")}
        assert inside <= {"tensor", "ops", "threads"}, (name, inside)
    assert ("The core (`tensor.py`, `ops.py`, and `threads.py`, which picks the BLAS threads of each product) "
            "imports nothing else from the package.") in " ".join(README.split())


def test_the_edu_table_lists_every_command():
    from tinygrad_edu.cli import cli
    rows = [line for line in section("The `edu` command").splitlines() if line.startswith("| `edu ")]
    named = {row.split("`edu ")[1].split()[0].rstrip("`") for row in rows}
    assert named == set(cli.commands), (named, set(cli.commands))


def test_the_edu_table_names_every_dataset_and_landscape():
    escaped_bar = "\\|"                                  # a | inside a Markdown table cell
    assert f"`--dataset {escaped_bar.join(data.dataset_names())}`" in README
    assert f"({', '.join(landscape.landscape_names())})" in README


def test_the_divergence_and_overwrite_sentences():
    text = prose("The `edu` command")
    assert "grows past 100 times its first value" in text and train.DIVERGE_FACTOR == 100
    assert "exits with status 1" in text and "exits with status 2" in text        # tested in test_cli_train.py
    assert "continue it with `--resume DIR` or replace it with `--force`" in text


def test_every_file_in_the_code_map_exists():
    rows = [line for line in section("A map of the code").splitlines() if line.startswith("| `")]
    assert rows
    for row in rows:
        where, what = row.split(" | ", 1)
        folder = None
        for name in re.findall(r"`([^`]+)`", where):
            path = ROOT / name if "/" in name or folder is None else folder / name
            assert path.exists(), name
            folder = path if path.is_dir() else path.parent
        if where.rstrip().endswith("/`"):                             # a folder: the files its row lists
            for name in re.findall(r"`(\w+\.py)`", what):
                assert (folder / name).exists() or (ROOT / name).exists(), name
    for path in ("tutorials/README.md", "docs/CONTRIBUTING.md", "bench/bench_step.py", "cli.py", "LICENSE"):
        assert (ROOT / path).exists(), path
    assert "`tinygrad_edu/cli/`" in README and "`cli.py` at the top is a shim" in README


def test_no_link_leaves_the_repository():
    # (that no source document is named anywhere is tests/test_self_contained.py's job)
    assert "../" not in README


def coast(mu: float, last_step: float, steps: int, gradients=None) -> np.ndarray:
    """Momentum without a learning rate on one weight: one driven step of size `last_step`, then `steps`
    steps without the learning rate; the weight after each. `gradients` are fed to the coasting steps."""
    w = Tensor([0.0], requires_grad=True)
    opt = optim.MomentumWithoutLR([w], lr=1.0, momentum=mu, warmup_steps=1)
    w.grad = np.array([-last_step])                    # m = η·g, w ← w − m: a step of +last_step
    opt.step()
    path = [w.item()]
    for t in range(steps):
        w.grad = np.array([gradients[t] if gradients is not None else 0.0])
        opt.step()
        path.append(w.item())
    return np.array(path)


def test_the_question_coasting_drift_and_runaway():
    text = prose("The question behind the project")
    assert "Δw_t = μ·Δw_{t−1}" in text and "Δw₀·μ(1 − μⁿ)/(1 − μ)" in text and "coast μ/(1−μ) times" in text
    for mu in (0.5, 0.9):                              # n steps: Δw₀·μ(1 − μⁿ)/(1 − μ); the limit μ/(1 − μ)
        path = coast(mu, 0.1, 400)
        assert path[10] - path[0] == pytest.approx(0.1 * mu * (1 - mu**10) / (1 - mu), rel=1e-12)
        assert path[-1] - path[0] == pytest.approx(0.1 * mu / (1 - mu), rel=1e-12)
    with pytest.warns(UserWarning, match="drift at constant speed"):
        drift = coast(1.0, 0.1, 50)
    assert np.allclose(np.diff(drift), 0.1, rtol=1e-12, atol=0)          # every step is Δw₀, forever
    with pytest.warns(UserWarning, match="run away"):
        runaway = coast(1.1, 0.1, 50)
    assert np.diff(runaway)[-1] == pytest.approx(0.1 * 1.1**50, rel=1e-9)  # the steps grow like μⁿ
    # "whatever the data": other gradients during the coast give the very same weights
    assert np.array_equal(coast(0.9, 0.1, 30), coast(0.9, 0.1, 30, gradients=np.linspace(-5, 5, 30)))


def test_the_answers_limit_is_corrected_right():
    text = prose("The question behind the project")
    assert ("at μ = 1 the step stays Δw₀ forever, whatever its size, and for μ > 1 it goes to +∞ or −∞ with the "
            "sign of Δw₀ (and stays 0 when Δw₀ = 0)") in text
    with pytest.warns(UserWarning):
        for first in (0.5, 1.0, 2.0):                  # the answer says 0, 1 and ∞
            assert np.allclose(np.diff(coast(1.0, first, 200)), first, rtol=1e-12, atol=0)
    with pytest.warns(UserWarning):
        assert np.diff(coast(1.5, -0.1, 60))[-1] < -1e9 and np.diff(coast(1.5, 0.1, 60))[-1] > 1e9
        assert np.all(coast(1.5, 0.0, 60) == 0.0)
    assert "w ← w − η∇L" in text


def test_the_heavy_ball_keeps_one_minus_eta_eps_over_m():
    text = prose("The question behind the project")
    assert "α = ηε/m (time step η, friction ε, mass m); the ball keeps 1 − ηε/m of its momentum per step" in text
    eta, eps, m = 0.1, 1.0, 1.0
    x = Tensor([0.0], requires_grad=True)
    ball = optim.HeavyBall([x], mass=m, friction=eps, dt=eta)
    x.grad = np.array([-1.0])
    path = [x.item()]
    for _ in range(5):
        ball.step()
        path.append(x.item())
        x.grad = np.array([0.0])                       # no force: only friction acts
    steps = np.diff(path)
    assert np.allclose(steps[1:] / steps[:-1], 1 - eta * eps / m, rtol=1e-12)
    assert not math.isclose(1 - eta * eps / m, eta * eps / m)


def bench():
    spec = importlib.util.spec_from_file_location("bench_step", ROOT / "bench" / "bench_step.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _speed_rows(quiet: bool) -> list:
    """The quiet table (hand, ours, torch in µs, then three ratios) or the busy one (ours quiet, ours busy,
    two ratios, torch on one thread busy, a ratio)."""
    times_at = (2, 3, 4) if quiet else (2, 3, 6)
    rows = []
    for line in section("Speed").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 8 and all(cells[i].endswith("µs") for i in times_at) and cells[4].endswith("µs") == quiet:
            ratios_at = [i for i in range(5 if quiet else 4, 8) if i not in times_at]
            rows.append({"task": cells[0], "dtype": cells[1],
                         "times": [float(cells[i].replace(",", "").removesuffix(" µs")) for i in times_at],
                         "ratios": [float(cells[i]) for i in ratios_at]})
    return rows


def speed_table() -> list:
    return _speed_rows(quiet=True)


def busy_table() -> list:
    return _speed_rows(quiet=False)


def test_the_speed_table_is_what_the_benchmark_measures():
    tasks = bench().TASKS
    rows = speed_table()
    assert len(rows) == 2 * len(tasks) == 8
    labels = [f"{name} {'-'.join(map(str, sizes))} ×{batch}" for name, (sizes, batch, _) in tasks.items()]
    assert [r["task"] for r in rows] == [label for label in labels for _ in (0, 1)]
    assert [r["dtype"] for r in rows] == ["float64", "float32"] * 4
    assert ("| task | dtype | hand NumPy | tinygrad_edu | torch | ours / hand | torch / hand | ours / torch |"
            in README) and "| task | dtype | hand NumPy" in (ROOT / "bench" / "bench_step.py").read_text()
    assert "four networks" in prose("Speed") and len(tasks) == 4
    for r in rows:                                   # each ratio is the quotient of the rounded times shown
        hand, ours, torch_time = r["times"]
        for ratio, (a, b) in zip(r["ratios"], [(ours, hand), (torch_time, hand), (ours, torch_time)]):
            low, high = (a - 0.5) / (b + 0.5), (a + 0.5) / (b - 0.5)
            assert low - 0.005 <= ratio <= high + 0.005, (r["task"], ratio, a, b)


def test_the_goals_sentences_are_the_tables():
    """The README says "met" or "not met" as the numbers in its own tables say, never a goal it missed."""
    quiet, busy = speed_table(), busy_table()
    assert len(busy) == 8 and [r["task"] for r in busy] == [r["task"] for r in quiet]
    for r in busy:                                   # busy / quiet is the quotient of the two times shown
        ours_quiet, ours_busy, torch_busy = r["times"]
        assert abs(r["ratios"][0] - ours_busy / ours_quiet) < 0.01 and abs(r["ratios"][2] - ours_busy / torch_busy) < 0.01
    text = prose("Speed")

    def span(rows, column, tasks="MSDL"):
        values = [r["ratios"][column] for r in rows if r["task"][0] in tasks]
        return min(values), max(values)

    def status(ok):
        return "met" if ok else "not met"
    low, high = span(quiet, 2)
    m = span(quiet, 0, "M")[1]
    spans = {t: span(quiet, 0, t) for t in "SDL"}
    assert (f"faster than PyTorch on every task ({status(high < 1)}: {low:g}–{high:g}× of torch's time)") in text
    assert f"within 2× of hand NumPy on M ({status(m < 2)}: {m:.2f}×)" in text
    assert (f"1.15× on S, D and L ({status(all(b <= 1.15 for _, b in spans.values()))}: "
            + ", ".join(f"{t} {a:.2f}–{b:.2f}" for t, (a, b) in spans.items()) + ")") in text
    low, high = span(busy, 0)
    assert f"every task within 1.3× of its quiet time ({status(high <= 1.3)}: {low:.2f}–{high:.2f}×)" in text
    low, high = span(busy, 2)
    assert f"faster than PyTorch on one thread ({status(high < 1)}: {low:.2f}–{high:.2f}× of its time)" in text
    small, large = span(busy, 0, "MSD"), span(busy, 0, "L")
    assert f"(busy / quiet {small[0]:.2f}–{small[1]:.2f})" in text and f"(busy / quiet {large[0]:.2f}–{large[1]:.2f})" in text
    goals = " ".join(bench().__doc__.split())
    assert "within 2x of hand NumPy on M and 1.15x on S, D and L" in goals and "faster than PyTorch" in goals


def test_the_comments_of_the_api_example():
    code = PYTHON_EXAMPLES[0]
    assert "# 2-D points in two interleaved half-moons" in code and "# Linear → ReLU → Linear → ReLU → Linear" in code
    moons = data.get_dataset("moons", seed=0)
    assert moons.n_features == 2 and moons.n_classes == 2
    layers = nn.MLP([2, 16, 16, 2], seed=0).layers
    assert [type(layer).__name__ for layer in layers] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert "opt.zero_grad()\n    loss = nn.cross_entropy(model(data.X_train), data.y_train)" in code   # full batch


def test_the_code_map_and_the_chapters_it_points_to():
    assert "the 8×8 digits" in README and data.get_dataset("digits").n_features == 8 * 8
    assert "2-D test functions" in README
    assert all(len(landscape.get_landscape(name).start) == 2 for name in landscape.landscape_names())
    chapter = {n: next((ROOT / "tutorials").glob(f"{n:02d}-*.md")).read_text(encoding="utf-8") for n in (3, 6, 7, 10)}
    assert "chapter 3 draws a layer both ways" in prose("Speed") and "the layer: linear    written out: matmul then add" \
        in chapter[3]
    assert chapter[6].startswith("# Chapter 6: Momentum") and "optim.HeavyBall" in chapter[6] and \
        "optim.EMAMomentum" in chapter[6]
    assert chapter[7].startswith("# Chapter 7: Momentum without a learning rate")
    assert "chapter 10 walks through one" in README and chapter[10].startswith("# Chapter 10: Write your own optimizer")
