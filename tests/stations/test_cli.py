"""`incident stations add|list|ingest`, `incident alerts list --json` and acting on an alert
(`alerts ack`, `alerts open`) end to end."""

from __future__ import annotations

import json

from incident.cli import main
from incident.demo.seed import DEMO_RIVER
from tests.stations.conftest import STATIONS, replay_lines


def test_cli_add_ingest_list_and_alerts_json(tmp_path, capsys):
    db = ["--db", f"sqlite:///{tmp_path / 'cli.sqlite'}", "--user", "tester"]
    for mn, (reach, km) in STATIONS.items():
        assert (
            main(
                [
                    *db,
                    "stations",
                    "add",
                    f"ST{mn}",
                    "--river",
                    str(DEMO_RIVER),
                    "--reach",
                    reach,
                    "--km",
                    str(km),
                    "--parameters",
                    "ammonia_nitrogen,cod",
                ]
            )
            == 0
        )
    assert main([*db, "stations", "add", "STX", "--parameters", "lead"]) == 2
    assert "unknown or missing parameters: lead" in capsys.readouterr().err
    lines, _ = replay_lines(spill=True)
    feed = tmp_path / "feed.hj212"
    feed.write_text("".join(lines) + "not a packet\n", encoding="ascii")
    capsys.readouterr()
    assert main([*db, "stations", "ingest", str(feed), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rejected"] == 1 and out["alerts"] == ["ALR-" + out["alerts"][0][4:]]
    assert main([*db, "stations", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["mn"] for s in listed] == ["STA", "STB", "STUP"]
    assert main([*db, "alerts", "list", "--json"]) == 0
    (alert,) = json.loads(capsys.readouterr().out)
    for key in (
        "station_mn",
        "parameter",
        "first_abnormal_at",
        "detected_at",
        "value",
        "baseline",
        "candidates",
        "risk_sources",
    ):
        assert key in alert
    assert alert["station_mn"] == "STA" and {"reach", "km", "release_at"} <= set(alert["candidates"][0])
    assert main([*db, "alerts", "list"]) == 0
    assert "STA" in capsys.readouterr().out

    # act on it: acknowledge (once), then open an incident from it with the top candidate as source
    code = alert["code"]
    assert main([*db, "alerts", "ack", code, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "acknowledged"
    assert main([*db, "alerts", "ack", code]) == 2
    assert f"alert {code} is acknowledged" in capsys.readouterr().err
    assert main([*db, "alerts", "open", code, "--candidate", "9"]) == 2
    assert "no candidate source of rank 9" in capsys.readouterr().err
    assert main([*db, "alerts", "open", code, "--json"]) == 0
    opened = json.loads(capsys.readouterr().out)
    assert opened["incident"].startswith("INC-")
    assert main([*db, "show", opened["incident"], "--json"]) == 0
    inc = json.loads(capsys.readouterr().out)
    top = alert["candidates"][0]
    assert inc["source_reach"] == top["reach"] and abs(inc["source_km"] - top["km"]) < 0.05
    assert inc["substance"] == "ammonia_nitrogen" and abs(inc["mass_kg"] - top["mass_kg"]) < 1e-6
    assert inc["release_start"][:16] == top["release_at"][:16]
    assert main([*db, "alerts", "list", "--json"]) == 0
    (after,) = json.loads(capsys.readouterr().out)
    assert after["status"] == "promoted" and after["incident"] == opened["incident"]
    assert main([*db, "alerts", "dismiss", code, "--reason", "too late"]) == 2  # already promoted
    capsys.readouterr()
    # the alert's evidence is on the incident's log
    from incident.core import log
    from incident.core.store.engine import open_store, session_scope

    engine = open_store(db[1])
    with session_scope(engine) as s:
        entries = log.entries(s, log.incident_chain(opened["incident"]))
        kinds = [e.kind for e in entries]
        payload = json.loads(next(e.payload_json for e in entries if e.kind == "incident.from_alert"))
        ok, _ = log.verify_chain(log.entries(s, "stations"))
    engine.dispose()
    assert kinds[:2] == ["incident.created", "incident.from_alert"]
    assert payload["alert"] == code and payload["evidence"] == alert["evidence"]
    assert payload["candidates"] == alert["candidates"]
    assert ok
