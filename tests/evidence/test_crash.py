"""Crash safety: a writer SIGKILLed in the middle of a burst of results loses nothing it reported.

Each trial forks a child (cheap: the parent has already imported everything)
that opens its own engine and logs Sample + Result pairs through
``log.record``, one transaction each, advancing a playbook run in the same
transaction, and writes ``sample_id result_id digest`` to its stdout (a pipe)
after each commit. The parent kills it with SIGKILL after a random delay, then
checks that every reported row is present and unchanged, ``PRAGMA
integrity_check`` is ok, ``incident verify`` is clean and the playbook run is
consistent and can carry on.

INCIDENT_CRASH_TRIALS sets the number of trials (default 50, 10-15 s);
``INCIDENT_CRASH_TRIALS=1000 pytest tests/evidence/test_crash.py`` is the long run.
"""

from __future__ import annotations

import json
import os
import random
import select as io_select
import signal
import sqlite3
import time

from sqlmodel import select

from incident.core import log
from incident.core.store.engine import make_engine, session_scope
from incident.core.store.tables import PlaybookRun, Result, StepState
from incident.evidence import integrity
from tests.evidence.evidence import log_result, start_playbook

TRIALS = int(os.environ.get("INCIDENT_CRASH_TRIALS", "50"))
STEPS = 5


def advance(session, run_id: int) -> None:
    """Move the run's active step on by one, numbering the move in the run and the step's form."""
    run = session.get(PlaybookRun, run_id)
    n = json.loads(run.variables_json).get("last_n", 0) + 1
    steps = {s.step_id: s for s in session.exec(select(StepState).where(StepState.run_id == run_id))}
    current = steps[run.current_step]
    current.status = "done"
    current.form_json = json.dumps({"n": n})
    nxt = steps[f"s{int(run.current_step[1:]) % STEPS + 1}"]
    nxt.status = "active"
    run.current_step = nxt.step_id
    run.variables_json = json.dumps({"last_n": n})


def child(db_url: str, code: str, run_id: int, trial: int) -> None:  # pragma: no cover - runs in the child
    engine = make_engine(db_url)  # never the parent's connections
    deadline = time.monotonic() + 10
    n = 0
    while time.monotonic() < deadline:
        n += 1
        with session_scope(engine) as s:
            sid, rid = log_result(s, code, f"K{trial}-{n}", round(random.uniform(0, 5), 4))
            advance(s, run_id)
            digest = log.evidence_digest(s.get(Result, rid))
        os.write(1, f"{sid} {rid} {digest}\n".encode())


def run_trial(
    db_url: str, code: str, run_id: int, trial: int, delay_s: float, mid_burst: bool
) -> list[tuple[int, int, str]]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 0
        try:
            os.close(read_fd)
            os.dup2(write_fd, 1)
            child(db_url, code, run_id, trial)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    data = b""
    if mid_burst:  # wait for the first commit, so the kill lands in the burst even on a loaded machine
        deadline = time.monotonic() + 10
        while b"\n" not in data and time.monotonic() < deadline:
            ready, _, _ = io_select.select([read_fd], [], [], 0.5)
            if ready:
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    break
                data += chunk
    time.sleep(delay_s)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    while chunk := os.read(read_fd, 65536):
        data += chunk
    os.close(read_fd)
    reported = []
    for line in data.decode().split("\n")[:-1]:  # a line cut by the kill has no newline: ignore it
        sid, rid, digest = line.split()
        reported.append((int(sid), int(rid), digest))
    return reported


def check_store(engine, db_path: str, code: str, run_id: int, reported) -> int:
    """Rows lost or changed among those reported; asserts everything else."""
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    lost = 0
    with session_scope(engine) as s:
        for sid, rid, digest in reported:
            row = s.get(Result, rid)
            if row is None or row.sample_id != sid or log.evidence_digest(row) != digest:
                lost += 1
        report = integrity.verify(s, code)
        assert report.ok, report.first_problem.render()
        run = s.get(PlaybookRun, run_id)
        steps = list(s.exec(select(StepState).where(StepState.run_id == run_id)))
        assert len(steps) == STEPS
        active = [st.step_id for st in steps if st.status == "active"]
        assert active == [run.current_step], (active, run.current_step)
        last_n = json.loads(run.variables_json).get("last_n", 0)
        done_forms = [json.loads(st.form_json).get("n", 0) for st in steps]
        assert max(done_forms) == last_n  # the step and the run moved in the same transaction
    # the run can carry on where it stopped
    with session_scope(engine) as s:
        advance(s, run_id)
    return lost


def test_sigkill_during_result_burst_loses_nothing(demo_engine, demo_code, capsys):
    db_path = demo_engine.url.database
    db_url = f"sqlite:///{db_path}"
    with session_scope(demo_engine) as s:
        run_id = start_playbook(s, demo_code, STEPS)
        s.get(PlaybookRun, run_id).variables_json = json.dumps({"last_n": 0})
    demo_engine.dispose()
    rng = random.Random(int(os.environ.get("INCIDENT_CRASH_SEED", "589")))
    trials = lost = reported_total = 0
    committed_before_kill = []
    started = time.monotonic()
    for trial in range(TRIALS):
        # mostly mid-burst (after the first commit, at a random moment); every tenth during start-up
        mid_burst = trial % 10 != 0
        delay = rng.uniform(0.0, 0.15) if mid_burst else rng.uniform(0.0, 0.01)
        reported = run_trial(db_url, demo_code, run_id, trial, delay, mid_burst)
        lost += check_store(demo_engine, db_path, demo_code, run_id, reported)
        demo_engine.dispose()
        trials += 1
        reported_total += len(reported)
        committed_before_kill.append(len(reported))
    with session_scope(demo_engine) as s:
        report = integrity.verify(s)
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\n[crash] {trials} SIGKILL trials in {elapsed:.1f} s, {reported_total} results reported committed, "
            f"rows lost: {lost}; kills mid-burst: {sum(1 for n in committed_before_kill if n)}, "
            f"verify: {'intact' if report.ok else 'BROKEN'}"
        )
    assert lost == 0
    assert report.ok
    assert sum(1 for n in committed_before_kill if n) >= trials * 0.9 - 1  # the kills did land mid-burst
