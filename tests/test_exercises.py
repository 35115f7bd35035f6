"""The workbook's proofs: for every exercise, the reference passes, every mutant fails with the hint
meant for it, and pytest collects exactly the checks the manifest declares."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_edu.course import checking, mutants
from tinygrad_edu.course.manifest import load
from tinygrad_edu.course.workbook import Workbook

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "exercises"
EXERCISES = load()
MUTANTS = mutants.collect(WORKBOOK / "mutants")


def test_every_exercise_lives_where_the_manifest_says_and_has_a_reference():
    for ex in EXERCISES:
        wb = Workbook(WORKBOOK, EXERCISES)
        assert hasattr(wb.module(ex.file), ex.name), f"{ex.id}: {ex.file} has no {ex.name}"
        assert callable(ex.load_reference()), ex.id


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.id)
def test_the_instructor_solution_passes_every_check(ex):
    results = checking.run_exercise(Workbook(WORKBOOK, EXERCISES), ex.id)
    assert len(results) == ex.checks
    assert [(r.check, r.status, r.message) for r in results if r.status != "passed"] == []


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.id)
def test_every_exercise_has_at_least_two_mutants(ex):
    assert len([m for m in MUTANTS if m.exercise == ex.id]) >= 2


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: f"{m.exercise}-{m.kind}-{m.source}")
def test_every_mutant_fails_and_gets_the_hint_meant_for_it(m):
    ex = {e.id: e for e in EXERCISES}[m.exercise]
    results = checking.run_exercise(Workbook(WORKBOOK, EXERCISES, overrides={m.exercise: m.obj}), m.exercise)
    failed = [r for r in results if r.status == "failed"]
    assert failed, f"mutant {m.source} ({m.why}) passes every check of {m.exercise}"
    assert failed[0].kind == m.kind, (m.why, failed[0].message)
    assert failed[0].hint == ex.hint_for(m.kind)
    assert all(r.status in ("passed", "failed") for r in results), [r.message for r in results]


def test_pytest_collects_exactly_the_checks_the_manifest_declares(tmp_path):
    results = tmp_path / "results.json"
    ini = checking.CHECKS_FOLDER / "pytest.ini"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "tinygrad_edu.course.plugin", "-c", str(ini),
                           "--rootdir", str(checking.CHECKS_FOLDER), str(checking.CHECKS_FOLDER),
                           "--workbook", str(WORKBOOK), "--results", str(results), "-q"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    payload = json.loads(results.read_text())
    assert payload["collected"] == {ex.id: ex.checks for ex in EXERCISES}
    assert {r["status"] for r in payload["results"]} == {"passed"}


def test_a_stub_is_recognised_from_its_source_and_its_checks_do_not_run(tmp_path, monkeypatch):
    ex = EXERCISES[0]
    source = (WORKBOOK / ex.file).read_text(encoding="utf-8")
    wb_dir = tmp_path / "wb"
    wb_dir.mkdir()
    from tinygrad_edu.course.edition import strip_python
    (wb_dir / ex.file).write_text(strip_python(source, WORKBOOK / ex.file, EXERCISES), encoding="utf-8")
    stubbed = Workbook(wb_dir, EXERCISES)
    assert stubbed.is_stub(ex.id) and not Workbook(WORKBOOK, EXERCISES).is_stub(ex.id)
    ran = []
    monkeypatch.setattr(checking, "check_functions", lambda exercise_id: [lambda workbook: ran.append(1)])
    assert [r.status for r in checking.run_exercise(stubbed, ex.id)] == ["not_attempted"] and ran == []
    # a stub with something written before its raise is an attempt: its checks run
    text = (wb_dir / ex.file).read_text(encoding="utf-8").replace(
        f'raise NotImplementedError("exercise {ex.id}:', f'x = 1\n    raise NotImplementedError("exercise {ex.id}:', 1)
    (wb_dir / ex.file).write_text(text, encoding="utf-8")
    assert not Workbook(wb_dir, EXERCISES).is_stub(ex.id)
