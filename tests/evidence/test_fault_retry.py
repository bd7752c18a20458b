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


def _samples(db) -> list[tuple]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT code, point_id, round_id, sampled_at FROM sample ORDER BY id").fetchall()
    finally:
        conn.close()


def test_a_sample_registered_again_after_a_lost_reply_is_refused_unless_again(scenario, capsys):
    """`sample new` shares result add's retry rule (cli/results/commands.py _recent_repeat): same point, round,
    type, sampler and label within 30 minutes is the same command typed again."""
    work, _, steps = scenario
    step = next(s for s in steps if s.name == "sample new")
    db = work / "retry-sample.sqlite"
    fk.snapshot(step.before, db)
    before = _samples(db)
    # the first reply is lost (nobody reads the pipe), but the sample was registered
    killed, rc = fk.run_child(db, step.argv, closed_pipe=True)
    assert (killed, rc) == (False, 0)
    first = _samples(db)
    assert len(first) == len(before) + 1
    code = first[-1][0]
    # typed again a minute later: recognised, refused by the label it already has, nothing stored
    rc, out, err = _cli(capsys, db, *step.argv)
    assert rc == 2 and out == "", err
    assert "the same sample is already registered" in err and code in err and "not registered twice" in err
    assert "--again" in err and "Traceback" not in err
    assert fk.signature(db) == step.after_sig
    # the same parameter by another name is the same label, so the same sample
    argv = [a if a != "nitrobenzene" else "硝基苯" for a in step.argv]
    rc, _, err = _cli(capsys, db, *argv)
    assert rc == 2 and code in err
    # in Chinese too
    rc, _, err = _cli(capsys, db, "--lang", "zh", *step.argv)
    assert rc == 2 and "相同样品已登记" in err and code in err
    # another point, or another sampler, is another sample
    argv = [a if a != "S2" else "S3" for a in step.argv]
    rc, out, _ = _cli(capsys, db, *argv)
    assert rc == 0 and "registered" in out
    rc, out, _ = _cli(capsys, db, *step.argv, "--sampler", "Zhou Lan")
    assert rc == 0 and "registered" in out
    # a second bottle at the same point and round, deliberately
    rc, out, _ = _cli(capsys, db, *step.argv, "--again")
    assert rc == 0 and "registered" in out
    after = _samples(db)
    assert len(after) == len(before) + 4
    assert len({c for c, *_ in after}) == len(after)  # each its own label
    fk._forget_engines()


def test_a_sample_with_an_explicit_time_is_the_same_only_at_that_time(scenario, capsys):
    from datetime import timedelta

    from incident.core.clock import fmt_local, utcnow

    work, _, steps = scenario
    step = next(s for s in steps if s.name == "sample new")
    db = work / "retry-sample-time.sqlite"
    fk.snapshot(step.before, db)
    n = len(_samples(db))
    at = utcnow() - timedelta(hours=1)
    rc, out, err = _cli(capsys, db, *step.argv, "--time", fmt_local(at))
    assert rc == 0, err
    rc, out, err = _cli(capsys, db, *step.argv, "--time", fmt_local(at))
    assert rc == 2 and "already registered" in err
    # taken ten minutes later: a sample of its own
    rc, out, err = _cli(capsys, db, *step.argv, "--time", fmt_local(at + timedelta(minutes=10)))
    assert rc == 0, err
    assert len(_samples(db)) == n + 2
    fk._forget_engines()
