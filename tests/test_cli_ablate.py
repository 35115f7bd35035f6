"""`edu ablate` and `edu landscape`: tables, files, and every bad input (one line, exit 2, no traceback)."""
import json

import pytest
from click.testing import CliRunner

from tinygrad_edu.cli import cli
from tinygrad_edu import ablation


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_usage_error(result, *needles):
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)          # click's usage error, not a traceback
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.output
    for needle in needles:
        assert needle in error_lines[0], error_lines[0]


# ----- edu ablate --------------------------------------------------------------------------------

def test_ablate_prints_the_tables_and_writes_figure_and_json(tmp_path):
    out = tmp_path / "abl"
    result = run("ablate", "--form", "lr-inside", "--k", 10, "--steps", 20, "--momenta", "0.9,1.0", "--out", out)
    assert result.exit_code == 0, result.output
    for needle in ("[lr-inside]", "stops after 9·Δw", "drifts: every step is Δw", "0 (identical, bit for bit)",
                   "-0.1, -0.2, -0.3"):
        assert needle in result.output, needle
    assert "[pytorch]" not in result.output and "[ema]" not in result.output
    assert "Part 2" not in result.output          # the EMA form's α = 1 experiment runs only for that form
    assert (out / "ablation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "ablation.json").read_text())
    rows = data["coasting"]["rows"]
    assert [r["momentum"] for r in rows] == [0.9, 1.0]
    # the file holds the library's numbers: the same run, the same seed
    library = ablation.momentum_without_lr(["lr-inside"], [0.9, 1.0], k=10, steps=20)
    for saved, row in zip(rows, library.rows):
        assert saved["measured"] == row.measured and saved["predicted"] == pytest.approx(row.measured, rel=1e-10)
        assert saved["gradient_free"] is True
    assert not list(out.glob(".*.tmp"))


def test_ablate_all_forms_to_an_svg_file(tmp_path):
    out = tmp_path / "ablation.svg"
    result = run("ablate", "--k", 5, "--steps", 5, "--momenta", "0.9,1.01", "--out", out)
    assert result.exit_code == 0, result.output
    for form in ablation.FORMS:
        assert f"[{form}]" in result.output
    for needle in ("Part 2", "diverges", "crawls", "-0.1, -0.119, -0.1461"):
        assert needle in result.output, needle
    assert "refused by the optimizer" in result.output and "use 0 <= momentum < 1" in result.output
    assert "<svg" in out.read_text()
    assert f"wrote {out}" in result.output


@pytest.mark.parametrize("args, needles", [
    (["--form", "lr-insde"], ["--form", "did you mean 'lr-inside'?"]),
    (["--form", "pytorh"], ["did you mean 'pytorch'?"]),
    (["--momenta", "0.5,x"], ["--momenta", "not a list of numbers"]),
    (["--momenta", "-1"], ["--momenta", "out of range", "0 <= μ <= 2"]),
    (["--momenta", ","], ["no momentum values"]),
    (["--k", "0"], ["--k"]),
    (["--steps", "x"], ["--steps"]),
    (["--lr", "0"], ["--lr", "must be a number > 0"]),
    (["--lr", "nan"], ["--lr"]),
    (["--out", "figure.pdf"], ["--out", ".png or .svg"]),
])
def test_ablate_bad_usage(tmp_path, monkeypatch, args, needles):
    monkeypatch.chdir(tmp_path)
    assert_usage_error(run("ablate", *args), *needles)


def test_ablate_unwritable_out(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert_usage_error(run("ablate", "--k", 2, "--steps", 2, "--out", blocker / "sub" / "a.png"), "--out")


# ----- edu landscape ------------------------------------------------------------------------------

def test_landscape_table_and_figure(tmp_path):
    out = tmp_path / "ravine.png"
    result = run("landscape", "--function", "ravine", "--optimizers", "sgd,momentum", "--out", out)
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.split()}
    assert "lr=0.0198" in lines["sgd"] and "not within the run" in lines["sgd"]
    assert "lr=0.005" in lines["momentum"] and "step 106" in lines["momentum"]
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_landscape_default_out_and_momentum_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("landscape", "--function", "quadratic", "--optimizers", "momentum", "--momentum", "0.99",
                 "--steps", 30)
    assert result.exit_code == 0, result.output
    assert "momentum=0.99" in result.output
    header = result.output.split("optimizer  ")[0]           # the lines above the table
    assert "μ = 0.99" in header and "μ = 0.9," not in header and "μ = 0.9)" not in header
    assert (tmp_path / "runs" / "landscape-quadratic.png").exists()


def test_landscape_divergence_is_reported_not_a_crash(tmp_path):
    result = CliRunner().invoke(cli, ["landscape", "--optimizers", "sgd", "--lr", "0.05", "--out",
                                      str(tmp_path / "x.svg")])
    assert result.exit_code == 0, result.output
    assert "diverged at step" in result.output
    assert "try a smaller --lr" in result.output          # the note (on stderr, which CliRunner mixes in)


def test_landscape_from_the_ridge_of_the_saddle(tmp_path):
    result = run("landscape", "--function", "saddle", "--optimizers", "sgd", "--start", "1.5,0",
                 "--out", tmp_path / "s.png")
    assert result.exit_code == 0, result.output
    assert "+0.0000)" in result.output and "not within the run" in result.output


@pytest.mark.parametrize("args, needles", [
    (["--function", "ravin"], ["--function", "did you mean 'ravine'?"]),
    (["--function", "rosenbrok"], ["did you mean 'rosenbrock'?"]),
    (["--optimizers", "sgd,adma"], ["--optimizers", "unknown optimizer 'adma'", "'adam'"]),
    (["--optimizers", ","], ["--optimizers", "at least one"]),
    (["--lr", "-1"], ["--lr", "> 0"]),
    (["--momentum", "1.5"], ["--momentum", "0 <= momentum < 1"]),
    (["--start", "1"], ["--start", "two numbers"]),
    (["--start", "a,b"], ["--start"]),
    (["--steps", "0"], ["--steps"]),
    (["--out", "x.pdf"], ["--out", ".png or .svg"]),
])
def test_landscape_bad_usage(tmp_path, monkeypatch, args, needles):
    monkeypatch.chdir(tmp_path)
    assert_usage_error(run("landscape", *args), *needles)


# ----- bounds, overwrites and library errors (issue #11) ------------------------------------------

from tinygrad_edu import landscape                                       # noqa: E402
from tinygrad_edu.cli import ablate as ablate_cli                        # noqa: E402


@pytest.mark.parametrize("args, needles", [
    (["ablate", "--seed", "-1"], ["'--seed'", "-1 is not in the range x>=0"]),
    (["landscape", "--start", "1e308,1e308"], ["--start", "within ±1e+06"]),
    (["landscape", "--lr", "1e308"], ["--lr", "0 < lr <= 1e+06"]),
    (["ablate", "--lr", "1e308"], ["--lr", "0 < lr <= 1e+06"]),
    (["ablate", "--k", "1000000000"], ["--k 1000000000 and --steps 60 make 1000000060 steps",
                                       "needs 335 GiB (45 numbers a step)", "use k + steps <= 100000"]),
    (["ablate", "--steps", "1000000000"], ["make 1000000020 steps", "use k + steps <= 100000"]),
    (["landscape", "--steps", "1000000000000"], ["--steps 1000000000000 make 1000000000000 steps",
                                                 "needs 21.8 TiB (3 numbers a step)", "use --steps <= 100000"]),
    (["ablate", "--out", ""], ["--out", "names no file"]),
    (["landscape", "--out", "a\x00.png"], ["--out", "names no file"]),
    (["landscape", "--out", "x" * 300 + ".png"], ["--out", "File name too long"]),
])
def test_bounds_are_refused_before_running(tmp_path, monkeypatch, args, needles):
    monkeypatch.chdir(tmp_path)
    ran = []
    monkeypatch.setattr(ablation, "run_experiment", lambda *a, **k: ran.append(a))
    monkeypatch.setattr(landscape, "run_trajectories", lambda *a, **k: ran.append(a))
    assert_usage_error(run(*args), *needles)
    assert ran == [] and list(tmp_path.iterdir()) == []


def test_the_help_states_the_bounds_the_code_enforces():
    ablate_help = " ".join(run("ablate", "--help").output.split())
    landscape_help = " ".join(run("landscape", "--help").output.split())
    assert "k + steps <= 100000" in ablate_help and "0 < η <= 1e6" in ablate_help
    assert "at most 100000" in landscape_help and "0 < lr <= 1e6" in landscape_help
    assert "|x| and |y| <= 1e6" in landscape_help
    assert ablate_cli.MAX_STEPS == 100_000 and ablate_cli.MAX_LR == 1e6 == ablate_cli.MAX_COORDINATE
    for text in (ablate_help, landscape_help):
        assert "--force Replace files that already exist at --out; without it, the command refuses to " \
               "overwrite any file." in text


def test_the_limits_let_the_largest_allowed_values_through(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(landscape, "run_trajectories", lambda *a, **k: calls.append(k) or [])
    monkeypatch.setattr(landscape, "header", lambda *a, **k: "")
    monkeypatch.setattr(ablate_cli, "landscape_figure", lambda *a: None)
    monkeypatch.setattr(ablate_cli, "write_figure", lambda fig, path: None)
    result = run("landscape", "--optimizers", "sgd", "--steps", 100_000, "--lr", "1e6", "--start", "1e6,-1e6",
                 "--out", tmp_path / "l.png")
    assert result.exit_code == 0, result.output
    assert calls == [dict(steps=100_000, start=[1e6, -1e6], lr=1e6, momentum=None)]


def test_a_library_size_error_is_one_line(tmp_path, monkeypatch):
    def too_big(*args, **kwargs):
        raise ValueError("steps=10 would need 24 TB\nsecond line of detail")
    monkeypatch.setattr(landscape, "run_trajectories", too_big)
    monkeypatch.setattr(ablation, "run_experiment", too_big)
    for command in ("landscape", "ablate"):
        result = run(command, "--out", tmp_path / f"{command}.png")
        assert_usage_error(result, "would need 24 TB")
        assert "second line" not in result.output


@pytest.mark.parametrize("command, out, written", [
    ("ablate", "figure.svg", ["figure.svg"]),
    ("ablate", "folder", ["folder/ablation.png", "folder/ablation.json"]),
    ("landscape", "ravine.svg", ["ravine.svg"]),
])
def test_existing_files_are_kept_without_force(tmp_path, monkeypatch, command, out, written):
    monkeypatch.chdir(tmp_path)
    small = ["--form", "lr-inside", "--k", 2, "--steps", 2, "--momenta", "0.9"] if command == "ablate" else \
        ["--optimizers", "sgd", "--steps", 3]
    for name in written:
        mine = tmp_path / name
        mine.parent.mkdir(exist_ok=True)
        mine.write_text("made by the user")
        assert_usage_error(run(command, *small, "--out", out), f"{mine.relative_to(tmp_path)} already exists",
                           "add --force")
        assert mine.read_text() == "made by the user"
        mine.unlink()
    for name in written:
        (tmp_path / name).write_text("made by the user")
    result = run(command, *small, "--out", out, "--force")
    assert result.exit_code == 0, result.output
    assert all((tmp_path / name).read_bytes() != b"made by the user" for name in written)
    assert_usage_error(run(command, *small, "--out", out), "already exists")   # its own file, too


def test_a_folder_named_like_a_figure_is_refused(tmp_path):
    (tmp_path / "x.png").mkdir()
    assert_usage_error(run("landscape", "--out", tmp_path / "x.png"), "is a folder")
