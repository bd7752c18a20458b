"""What the stations screen reads: latest value, recent values, status per series; the sparkline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incident.core.store.engine import session_scope
from incident.stations import ingest, sparkline, station_overview


def test_sparkline_scales_between_min_and_max_and_keeps_gaps():
    assert sparkline([0.0, 1.0, None, 0.5], width=4) == "▁█ ▅"
    assert sparkline([2.0, 2.0, 2.0]) == "▁▁▁"  # flat: the lowest bar
    assert sparkline([None, None]) == "  "
    assert sparkline(list(range(100)), width=24) == sparkline(list(range(76, 100)), width=24)
    assert len(sparkline(list(range(100)), width=24)) == 24


def test_overview_status_per_series(engine, stations, tmp_path):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    local = lambda at: (at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    rows = ["mn,time,parameter,value,flag"]
    for i in range(30):  # STA: fresh ammonia readings, the last three over the class III limit (1.0)
        rows.append(
            f"STA,{local(now - timedelta(minutes=30 - i))},ammonia_nitrogen,{1.5 if i >= 27 else 0.3},N"
        )
    rows.append(f"STA,{local(now - timedelta(hours=3))},cod,14.0,N")  # STA cod: late
    rows.append(f"STB,{local(now - timedelta(minutes=2))},cod,,M")  # STB cod: maintenance, no value
    path = tmp_path / "r.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ingest(engine, path, actor="test", detect=False)
    by_engine = {(r["mn"], r["parameter"]): r for r in station_overview(engine)}
    with session_scope(engine) as s:
        by_session = {(r["mn"], r["parameter"]): r for r in station_overview(s)}
    assert by_engine.keys() == by_session.keys() and len(by_engine) == 6
    for key in by_engine:  # the same answer whichever way it is read (bar the clock)
        assert {k: v for k, v in by_engine[key].items()} == by_session[key]
    nh3 = by_engine[("STA", "ammonia_nitrogen")]
    assert nh3["status"] == "over_limit" and nh3["value"] == 1.5 and nh3["unit"] == "mg/L"
    assert len(nh3["recent"]) == 30 and nh3["recent"][-1] == 1.5 and nh3["limit"] == 1.0
    assert by_engine[("STA", "cod")]["status"] == "stale"
    assert by_engine[("STB", "cod")]["value"] is None and by_engine[("STB", "cod")]["flag"] == "M"
    assert by_engine[("STUP", "cod")]["status"] == "no_data"
