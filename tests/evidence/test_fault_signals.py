"""Ctrl-C during a write leaves the store as before or as after, never between, and says which."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.evidence import faultkit as fk

ROOT = Path(__file__).resolve().parents[2]


def _step(steps, name):
    return next(s for s in steps if s.name == name)


@pytest.mark.parametrize("name", ["import results", "report release"])
def test_ctrl_c_in_the_middle_rolls_back_and_says_so(scenario, name):
    work, _, steps = scenario
    step = _step(steps, name)
    db, err = work / "sigint.sqlite", work / "sigint.err"
    for n in sorted({max(1, step.statements // 3), max(1, step.statements - 2)}):
        fk.snapshot(step.before, db)
        killed, rc = fk.run_child(db, step.argv, "sigint-stmt", n, stderr_to=err)
        said = err.read_text()
        assert (killed, rc) == (False, 130), said
        assert fk.signature(db) == step.before_sig
        assert "interrupted before the change was saved: the store is as it was before" in said
        assert "Traceback" not in said


@pytest.mark.parametrize("name", ["import results", "report release"])
def test_ctrl_c_during_the_commit_waits_for_it_and_says_it_was_saved(scenario, name):
    work, _, steps = scenario
    step = _step(steps, name)
    db, err = work / "sigint.sqlite", work / "sigint.err"
    fk.snapshot(step.before, db)
    killed, rc = fk.run_child(db, step.argv, "sigint-commit", step.commits, stderr_to=err)
    said = err.read_text()
    assert (killed, rc) == (False, 130), said
    assert fk.signature(db) == step.after_sig
    assert "interrupted after the change was saved: the store holds it" in said


def test_ctrl_c_at_random_moments_of_a_real_import_tells_the_truth(scenario):
    """A real process and a real SIGINT (as a terminal sends it), at moments spread over the import."""
    work, _, steps = scenario
    step = _step(steps, "import results")
    db = work / "sigint-real.sqlite"
    seen = set()
    started = time.monotonic()
    # early in the import, about its end (before or after its commit: the racy one) and well after
    # it; the moments in between are the statement and commit trials above, each exact
    for fraction in (0.35, 1.0, 1.6):
        fk.snapshot(step.before, db)
        proc = subprocess.Popen(
            [sys.executable, "-m", "incident", "--db", f"sqlite:///{db}", "--user", "tester", *step.argv],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        # the child's start-up (imports) comes first: measured once, then spread over the import
        time.sleep(0.8 + fraction * step.seconds)
        proc.send_signal(signal.SIGINT)
        _, said = proc.communicate(timeout=120)
        state = fk.signature(db)
        if proc.returncode == 0:
            assert state == step.after_sig  # finished before the signal
            seen.add("finished")
            continue
        assert proc.returncode == 130, said
        assert "Traceback" not in said, said
        if state == step.before_sig:
            assert "the store is as it was before" in said, said
            seen.add("before")
        else:
            assert state == step.after_sig, fk.diff(state, step.after_sig)
            assert "the store holds it" in said, said
            seen.add("after")
    assert seen, time.monotonic() - started
    os.environ.get("INCIDENT_FAULT_VERBOSE") and print(seen)
