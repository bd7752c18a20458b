"""The sampling CLI end to end on the demo store (the forecast is the test slug, patched in)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from incident.cli import main
from incident.sampling.layout import forecast_requests
from tests.sampling.plume import slug_forecast


@pytest.fixture
def cli(demo_engine, demo_code, demo_river, monkeypatch, capsys):
    net, src, release = demo_river
    url = str(demo_engine.url)

    def fake_forecast(session, code, extra_points, horizon_h, *, actor=""):
        fc = slug_forecast(net, src, [*forecast_requests(net, *src), *extra_points], release=release,
                           horizon_h=horizon_h, with_profiles=(10.0,))  # fmt: skip
        return fc

    monkeypatch.setattr("incident.cli.sampling.commands.run_forecast", fake_forecast)

    def run(*argv):
        code = main(["--db", url, "--user", "chief", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run, demo_code


def test_plan_propose_show_insert_remove(cli):
    run, code = cli
    rc, out, err = run("plan", "propose", code)
    assert rc == 0, err
    assert "revision 1 of 1" in out and "upstream_control" in out and "S1" in out
    rc, out, _ = run("plan", "show", code, "--json")
    points = json.loads(out)["points"]
    s3, s4 = points[2], points[3]
    rc, out, err = run("plan", "insert", code, "--km", str(round(s3["km"] + 0.3, 2)), "--after", "S3",
                       "--reason", "bridge access")  # fmt: skip
    assert rc == 0, err
    assert "inserted S3-1" in err and "S3-1" in out
    rc, out, err = run("plan", "remove", code, "S4", "--reason", "")
    assert rc == 2 and "reason" in err
    rc, out, err = run("plan", "remove", code, "S4", "--reason", "intake isolated")
    assert rc == 0 and "MANDATORY" in out
    rc, out, _ = run("plan", "show", code, "--revision", "1", "--json")
    assert [p["no"] for p in json.loads(out)["points"]] == [p["no"] for p in points]
    rc, out, _ = run("plan", "show", code, "--json")
    latest = json.loads(out)
    assert latest["revision"]["revision"] == 3 and "S4" not in [p["no"] for p in latest["points"]]
    assert s4["no"] == "S4"


def test_rounds_crews_assign_export(cli, tmp_path):
    run, code = cli
    assert run("plan", "propose", code)[0] == 0
    rc, out, err = run("rounds", code, "--json")
    assert rc == 0, err
    rounds = json.loads(out)
    assert rounds and rounds[0]["round"] == 1
    rc, out, err = run("crew", "checkin", code, "A", "--from", "HQ gate")
    assert rc == 0 and "HQ gate" in out
    rc, out, err = run("crew", "status", "D", "out_of_service")
    assert rc == 2 and "reason" in err
    rc, out, err = run("crew", "list", "--incident", code, "--json")
    crews = {c["crew"]: c for c in json.loads(out)}
    assert crews["Crew A"]["checked_in"] is not None
    rc, out, err = run("assign", code, "--csv", "--skip-kit-check")
    assert rc in (0, 1), err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {r["crew"] for r in rows} <= {"Crew A", "Crew B", "Crew C", "Crew D", "UNMET"}
    rc, out, err = run("assign", code, "--md", "--skip-kit-check", "--dispatch")
    assert rc == 2 and "dispatch refused, NOT READY" in err  # Crews C and D are not ready in the demo
    rc, out, err = run(
        "assign", code, "--md", "--dispatch", "--override", "exercise of the gate", "--lead", "Li Wei"
    )
    assert rc in (0, 1), err
    assert "# ICS 204 Assignment list" in out
    rc, out, err = run("crew", "list", "--json")
    assert "assigned" in {c["status"] for c in json.loads(out)}
    target = tmp_path / "plan.geojson"
    rc, out, err = run("export", "geojson", code, "--at", "10", "-o", str(target))
    assert rc == 0, err
    doc = json.loads(target.read_text())
    assert doc["type"] == "FeatureCollection"
    assert {f["properties"]["layer"] for f in doc["features"]} == {
        "reach",
        "receptor",
        "sampling_point",
        "plume",
    }


def test_assign_without_readiness_service_says_how(cli):
    run, code = cli
    run("plan", "propose", code)
    rc, out, err = run("assign", code)
    try:
        import incident.readiness.rules  # noqa: F401
    except ImportError:
        assert rc == 2 and "--skip-kit-check" in err
    else:
        assert rc in (0, 1)
