"""Crash safety: a separate process works through the playbook, is SIGKILLed mid-run, and a restart
resumes at exactly the same step with every logged entry intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from incident.core import log
from incident.core.store.engine import open_store, session_scope
from incident.playbook.runs import run_view

ROOT = Path(__file__).resolve().parents[2]

DRIVER = textwrap.dedent(
    """
    import sys, time
    from incident.core.store.engine import open_store, session_scope
    from incident.playbook.runs import run_view, complete_step

    url, code = sys.argv[1:3]
    engine = open_store(url)
    while True:
        with session_scope(engine) as s:
            view = run_view(s, code)
            step = view.current_step
            if step is None:
                break
            spec = view.step(step).step
            answers = {}
            for f in spec.form:
                if f.required:
                    answers[f.id] = {"choice": f.choices[0].value if f.choices else "", "bool": "yes"}.get(f.type, "x")
            complete_step(s, code, step, actor="driver", answers=answers, checks=[c.id for c in spec.checklist])
        print(step, flush=True)
        time.sleep(0.01)
    print("END", flush=True)
    time.sleep(120)
    """
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["INCIDENT_USER"] = "restarter"
    return env


def test_sigkill_mid_playbook_then_resume_at_the_same_step(fixed_db, tmp_path):
    code = "INC-2026-0001"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(driver), fixed_db, code],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    printed: list[str] = []
    try:
        while len(printed) < 5:
            line = proc.stdout.readline()
            assert line, f"driver stopped early: {proc.stderr.read()}"
            printed.append(line.strip())
        os.kill(proc.pid, signal.SIGKILL)  # most likely in the middle of the next step's transaction
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert "END" not in printed

    # restart: a fresh process reads the run
    out = subprocess.run(
        [sys.executable, "-m", "incident", "--db", fixed_db, "step", "status", code, "--json"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    history = status["history"]
    # everything the driver reported as done is done, in order; at most one more step may have committed
    assert history[: len(printed)] == printed
    assert len(history) in (len(printed), len(printed) + 1)

    engine = open_store(fixed_db)
    try:
        with session_scope(engine) as s:
            view = run_view(s, code)
            assert view.current_step == status["current_step"]
            # the run is where its last finished step leads, and that step is active
            last = view.step(history[-1]).step
            assert view.current_step == last.following(view.variables)
            assert view.step(view.current_step).status == "active"
            assert sum(sv.status == "active" for sv in view.steps) == 1
            chain = log.entries(s, log.incident_chain(code))
            done = [json.loads(e.payload_json)["step"] for e in chain if e.kind == "step.done"]
            assert done == history  # every logged entry is there, none extra
            ok, message = log.verify_chain(chain)
            assert ok, message
    finally:
        engine.dispose()

    # and work carries on from exactly that step in yet another process
    current = status["current_step"]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "incident",
            "--db",
            fixed_db,
            "step",
            "skip",
            code,
            current,
            "--reason",
            "resumed",
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert f"skipped: {current}" in out.stdout
