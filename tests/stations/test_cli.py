"""`incident stations add|list|ingest` and `incident alerts list --json` end to end."""

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
