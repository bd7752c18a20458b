"""The results CLI end to end on the demo incident (exit codes, refusals on stderr)."""

from __future__ import annotations

import json
from datetime import timedelta

from incident.cli import main
from incident.core.clock import fmt_local, utcnow


def run(capsys, url, *argv):
    code = main(["--db", url, "--user", "Li Wei", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_sample_result_custody_results_terminate(planned, capsys):
    engine, code = planned
    url = str(engine.url)
    rc, out, _ = run(
        capsys, url, "sample", "new", code, "--point", "S2", "--round", "1", "--param", "硝基苯", "--json"
    )
    assert rc == 0
    sample = json.loads(out)["code"]
    assert json.loads(out)["label"]["parameters"] == "nitrobenzene"

    rc, out, err = run(
        capsys,
        url,
        "result",
        "add",
        sample,
        "--param",
        "nitrobenzene",
        "--value",
        "O.5",
        "--dl",
        "0.0005",
        "--method",
        "hj648_gc",
    )
    assert rc == 2 and "value" in err and "letter O" in err and "'0.5'" in err

    rc, out, _ = run(
        capsys,
        url,
        "result",
        "add",
        sample,
        "--param",
        "nitrobenzene",
        "--value",
        "595",
        "--unit",
        "ug/L",
        "--dl",
        "0.5",
        "--method",
        "hj648_gc",
    )
    assert rc == 0 and "34.0 times over" in out
    rid = int(out.split("#")[1].split(":")[0])

    rc, out, _ = run(
        capsys, url, "result", "correct", str(rid), "--value", "59.5", "--reason", "dilution factor"
    )
    assert rc == 0 and "59.5 µg/L" in out and "2.5 times over" in out

    rc, out, _ = run(capsys, url, "results", code, "--all", "--json")
    rows = json.loads(out)
    assert [r["superseded_by"] for r in rows] == [rows[1]["id"], None]

    rc, out, _ = run(capsys, url, "results", code)
    assert rc == 0 and "round 1" in out and "(2.5×)" in out

    rc, out, err = run(capsys, url, "custody", sample, "--from", "Mo Jun", "--to", "Lab")
    assert rc == 2 and "does not hold" in err and "Li Wei" in err
    rc, out, _ = run(capsys, url, "custody", sample, "--from", "Li Wei", "--to", "Lab reception")
    assert rc == 0 and "held by Lab reception" in out

    rc, out, _ = run(capsys, url, "terminate", "check", code)
    assert rc == 1 and "Not yet" in out

    rc, out, _ = run(capsys, url, "standards", "--class", "II", "--json")
    assert next(r for r in json.loads(out) if r["key"] == "lead")["limit_mg_l"] == 0.01


def test_import_cli_dry_run_and_bad_rows(planned, capsys, tmp_path):
    engine, code = planned
    url = str(engine.url)
    when = fmt_local(utcnow() - timedelta(days=2))
    f = tmp_path / "station.csv"
    f.write_text(
        "point,sampled_at,parameter,value,unit,detection_limit,method,principle,method_kind\n"
        f"S3,{when},nitrobenzene,0.5,mg/L,0.01,online GC,gc,online\n",
        encoding="utf-8",
    )
    rc, out, _ = run(capsys, url, "import", "results", code, str(f), "--dry-run")
    assert rc == 0 and "would import 1 results" in out and "nothing was imported" in out
    g = tmp_path / "bad.csv"
    g.write_text(
        "point,sampled_at,parameter,value,unit,detection_limit,method,principle,method_kind\n"
        f"S3,{when},nitrobenzene,5e,mg/L,0.01,online GC,gc,online\n"
        f"S9,{when},nitrobenzene,0.5,mg/kg,0.01,online GC,gc,online\n",
        encoding="utf-8",
    )
    rc, out, err = run(capsys, url, "import", "results", code, str(g))
    assert rc == 2
    assert "line 2, column 'value'" in err and "exponent" in err
    assert "line 3, column 'point'" in err and "line 3, column 'unit'" in err
