"""Driving a run headless: incident playbook start, incident step done|skip|undo|status|form|run."""

from __future__ import annotations

import json

from incident.cli import main
from incident.cli.shell.context import _engine


def run(capsys, db, *argv) -> tuple[int, str, str]:
    _engine.cache_clear()
    code = main(["--db", db, "--user", "cli.user", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_step_commands_drive_the_run(fixed_db, capsys):
    code = "INC-2026-0001"
    rc, out, _ = run(capsys, fixed_db, "step", "status", code)
    assert rc == 0 and "CURRENT" in out and "alert_received" in out
    rc, out, _ = run(capsys, fixed_db, "step", "done", code, "alert_received", "--check", "caller")
    assert rc == 0 and out.startswith("done: alert_received → current: mobilise")
    rc, _, err = run(capsys, fixed_db, "step", "skip", code, "mobilise", "--reason", " ")
    assert rc == 2 and "needs a reason" in err
    rc, out, _ = run(capsys, fixed_db, "step", "skip", code, "mobilise", "--reason", "crew on site", "--json")
    data = json.loads(out)
    assert data["current_step"] == "initial_forecast"
    assert data["history"] == ["alert_received", "mobilise"]
    mobilise = next(s for s in data["steps"] if s["id"] == "mobilise")
    assert mobilise["status"] == "skipped" and mobilise["reason"] == "crew on site"
    assert mobilise["changed_by"] == "cli.user"
    rc, out, _ = run(capsys, fixed_db, "step", "run", code, "initial_forecast")
    assert rc == 0 and "Intakes reached" in out and "W1" in out  # the real forecast action ran
    rc, out, _ = run(capsys, fixed_db, "step", "done", code, "initial_forecast")
    rc, out, err = run(capsys, fixed_db, "step", "form", code, "field_survey", "air_temp_c=warm")
    assert rc == 2 and "'warm' is not a number" in err
    rc, out, err = run(
        capsys, fixed_db, "step", "form", code, "field_survey", "air_temp_c=21.5", "surveyor=Li Wei"
    )
    assert rc == 0 and "21.5" in out
    rc, out, err = run(
        capsys, fixed_db, "step", "done", code, "field_survey", "--form", "reporting_unit=Jade"
    )
    assert rc == 2 and "Location and water body (location)" in err
    rc, out, _ = run(capsys, fixed_db, "step", "undo", code)
    assert rc == 0 and "reopened: initial_forecast" in out
    rc, out, _ = run(capsys, fixed_db, "log", code, "--json")
    kinds = [e["kind"] for e in json.loads(out)]
    assert kinds.count("step.done") == 2 and "step.skipped" in kinds and "step.undone" in kinds
    assert "step.form" in kinds


def test_playbook_start_for_a_new_incident(fixed_db, capsys):
    rc, out, _ = run(capsys, fixed_db, "new", "Diesel from a barge", "--class", "oil", "--json")
    new_code = json.loads(out)["code"]
    rc, out, err = run(capsys, fixed_db, "step", "status", new_code)
    assert rc == 2 and "playbook start" in err
    rc, out, _ = run(capsys, fixed_db, "playbook", "start", new_code)
    assert rc == 0 and "started oil_on_river" in out
    rc, out, err = run(capsys, fixed_db, "playbook", "start", new_code, "river_chemical_spill")
    assert rc == 2 and "already runs" in err
