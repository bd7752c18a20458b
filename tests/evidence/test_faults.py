"""Faults never lose or half-do work: kill -9 in every writing command, closed pipes, a held lock.

The scenario (tests/evidence/faultkit.py) runs every writing command once on
the demo store; each test then replays commands on copies of their before
state. INCIDENT_FAULT_TRIALS sets the kill trials per command (default 2 here;
bench/bench_faults.py runs 50).
"""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

from tests.evidence import faultkit as fk

TRIALS = int(os.environ.get("INCIDENT_FAULT_TRIALS", "2"))


def test_the_scenario_covers_every_writing_command(scenario):
    _, _, steps = scenario
    names = {s.name for s in steps}
    for needed in (
        "result add",
        "result correct",
        "import results",
        "inventory import",
        "plan propose",
        "rounds",
        "assign --dispatch",
        "report draft",
        "report review",
        "report release",
        "backup import",
        "drill start",
        "drill tick (injects)",
        "drill end (ENDEX)",
        "calibrate",
        "stock",
        "maintain",
        "checkin (kit)",
        "checkout (kit)",
        "sample new",
        "custody",
    ):
        assert needed in names
    imp = next(s for s in steps if s.name == "import results")
    assert imp.after_sig["result"] - imp.before_sig["result"] == 1000  # the 1,000-row import


def test_kill_9_anywhere_in_any_writing_command_leaves_it_whole_or_absent(scenario, capsys):
    work, _, steps = scenario
    rng = random.Random(int(os.environ.get("INCIDENT_FAULT_SEED", "23")))
    problems, trials, half, lost, states = [], 0, 0, 0, {"before": 0, "after": 0}
    for step in steps:
        tally = fk.run_step(step, TRIALS, work, rng)
        trials += tally["trials"]
        half += tally["half"]
        lost += tally["lost"]
        states["before"] += tally["before"]
        states["after"] += tally["after"]
        problems += tally["problems"]
    with capsys.disabled():
        print(
            f"\n[faults] {trials} kill -9 trials over {len(steps)} commands: half-done {half}, "
            f"results lost {lost}; store found as before {states['before']}, as after {states['after']}"
        )
    assert not problems, problems[:5]
    assert half == 0 and lost == 0
    assert states["after"] > 0 and states["before"] > 0  # the kills landed on both sides of commits


def test_the_checker_sees_a_half_done_command(scenario):
    """An extra row in one table (what a second, uncommitted transaction would leave) is caught."""
    work, _, steps = scenario
    step = next(s for s in steps if s.name == "result add")
    db = work / "half.sqlite"
    fk.snapshot(step.before, db)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO custodytransfer (sample_id, at, from_person, to_person, condition, note) "
            "SELECT id, sampled_at, 'x', 'y', 'intact', '' FROM sample LIMIT 1"
        )
    out = fk.check(step, db, killed=True, rc=None, output=None)
    assert out.state == "HALF" and any("half-done" in p for p in out.problems)


def test_every_writing_command_into_a_closed_pipe_exits_0_with_its_write_saved(scenario):
    """`incident plan propose CODE | head -0`: the pipe is closed before the command speaks."""
    work, _, steps = scenario
    db = work / "pipe.sqlite"
    wrong = []
    for step in steps:
        argv, output = step.argv, None
        if step.output:  # report draft -o, backup export -o: written beside, the reference file is kept
            output = work / ("pipe-" + Path(step.output).name)
            output.unlink(missing_ok=True)
            argv = [str(output) if a == step.output else a for a in argv]
        fk.snapshot(step.before, db)
        killed, rc = fk.run_child(db, argv, closed_pipe=True)
        state = fk.signature(db)
        if killed or rc not in step.ok_codes or state != step.after_sig:
            wrong.append((step.name, rc, fk.diff(state, step.after_sig)))
        if output is not None and (not output.exists() or fk._file_problems(output)):
            wrong.append((step.name, rc, f"{output.name} missing or incomplete"))
    assert not wrong


def test_every_writing_command_that_cannot_write_exits_non_zero_even_into_a_closed_pipe(scenario):
    """Another program holds the write lock; --lock-timeout 0.2: each write fails, says so, exit 2."""
    work, _, steps = scenario
    db = work / "locked.sqlite"
    wrong = []
    for step in steps:
        if not step.changes_store:
            continue
        fk.snapshot(step.before, db)
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("PRAGMA journal_mode=WAL")
        holder.execute("BEGIN IMMEDIATE")
        try:
            killed, rc = fk.run_child(db, ["--lock-timeout", "0.2", *step.argv], closed_pipe=True)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        state = fk.signature(db)
        if killed or rc != 2 or state != step.before_sig:
            wrong.append((step.name, rc, fk.diff(state, step.before_sig)))
    assert not wrong
