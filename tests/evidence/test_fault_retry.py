"""A command repeated after an unclear failure is recognised and not stored twice without asking."""

from __future__ import annotations

from incident.cli import main
from tests.evidence import faultkit as fk


def _cli(capsys, db, *argv):
    rc = main(["--db", f"sqlite:///{db}", "--user", "tester", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_a_result_typed_again_after_a_lost_reply_is_refused_unless_again(scenario, capsys):
    work, _, steps = scenario
    step = next(s for s in steps if s.name == "result add")
    db = work / "retry.sqlite"
    fk.snapshot(step.before, db)
    before = len(fk.results_digests(db))
    # the first reply is lost (nobody reads the pipe), but the result was stored
    killed, rc = fk.run_child(db, step.argv, closed_pipe=True)
    assert (killed, rc) == (False, 0)
    assert len(fk.results_digests(db)) == before + 1
    # typed again: recognised, refused, nothing more stored
    rc, out, err = _cli(capsys, db, *step.argv)
    assert rc == 2 and out == ""
    assert "the same result is already stored" in err and "not stored twice" in err and "--again" in err
    assert "nothing was saved" in err
    assert len(fk.results_digests(db)) == before + 1
    # the same typed by another name of the parameter is the same result
    argv = [a if a != "nitrobenzene" else "硝基苯" for a in step.argv]
    rc, _, err = _cli(capsys, db, *argv)
    assert rc == 2 and "already stored" in err
    # a different value is a different result
    argv = [a if a != "0.05" else "0.051" for a in step.argv]
    rc, out, _ = _cli(capsys, db, *argv)
    assert rc == 0 and "0.051 mg/L" in out
    # a real repeat measurement, deliberately
    rc, out, _ = _cli(capsys, db, *step.argv, "--again")
    assert rc == 0 and "result #" in out
    assert len(fk.results_digests(db)) == before + 3
    fk._forget_engines()
