"""Acceptance: a replay with a spill pulse at one station and ~2 h later at the next one downstream
gives one alert, within 3 readings of the pulse's start, with the true reach among the top 3
candidates; a replay of noise only gives none. Plus registry, CSV and refusal counting."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from incident.core.errors import UserError, ValidationErrors
from incident.core.store.engine import session_scope
from incident.stations import add_station, alerts, frame, ingest, list_stations, rejection_counts, station_day
from tests.stations.conftest import INTERVAL_MIN, replay_lines


def _write(tmp_path, lines, *, gz=False):
    path = tmp_path / ("feed.hj212.gz" if gz else "feed.hj212")
    data = "".join(line if line.endswith("\r\n") else line + "\r\n" for line in lines).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _seed_demo_register(engine):
    """The demo river's risk-source register, as `incident demo` stores it."""
    from incident.demo.seed import DEMO_INTAKES, DEMO_RISK_SOURCES, DEMO_RIVER
    from incident.preplan import load_inputs
    from incident.preplan.store import save_register

    with session_scope(engine) as s:
        save_register(s, load_inputs(DEMO_RIVER, DEMO_RISK_SOURCES, DEMO_INTAKES), actor="test")


def test_spill_replay_gives_one_alert_early_with_the_true_reach(engine, stations, tmp_path):
    _seed_demo_register(engine)
    lines, truth = replay_lines(spill=True)
    report, codes = ingest(engine, _write(tmp_path, lines, gz=True), actor="test")
    assert report.n_rejected == 0 and report.stored == report.readings > 0
    with session_scope(engine) as s:
        rows = alerts(s)
    assert len(rows) == 1, [(r["station_mn"], r["parameter"], r["first_abnormal_at"]) for r in rows]
    alert = rows[0]
    assert codes == [alert["code"]]
    # the pulse's start at A: the first reading where the plume adds ≥ 3 noise sd (3 × 0.02 mg/L NH3-N)
    pulse_a = truth["pulse"]["A"]
    start_i = int(np.argmax(pulse_a >= 0.06))
    pulse_start = truth["start"] + timedelta(hours=float(truth["t_h"][start_i]))
    assert alert["station_mn"] == "STA"
    detected = alert["detected_at"]
    from datetime import datetime

    delay = datetime.fromisoformat(detected) - pulse_start
    assert timedelta(0) <= delay <= timedelta(minutes=2 * INTERVAL_MIN), (
        detected,
        pulse_start,
    )  # ≤ 3rd reading
    # deduplicated across parameters and stations: both stations, both parameters, one alert
    assert alert["stations"] == ["STA", "STB"]
    assert alert["parameters"] == ["ammonia_nitrogen", "cod"]
    b_first = min(
        datetime.fromisoformat(e["first_abnormal_at"]) for e in alert["evidence"] if e["station_mn"] == "STB"
    )
    assert (
        timedelta(hours=1)
        < b_first - datetime.fromisoformat(alert["first_abnormal_at"])
        < timedelta(hours=3.5)
    )
    # evidence: readings and detector statistics
    ev = alert["evidence"][0]
    assert ev["readings"] and {"value", "baseline", "z", "cusum"} <= set(ev["readings"][0])
    assert ev["value"] > ev["baseline"] and ev["cusum"] > 8
    # source: the true reach among the top 3 candidate reaches, release time near the truth
    reaches = list(dict.fromkeys(c["reach"] for c in alert["candidates"]))
    assert "M03" in reaches[:3], alert["candidates"]
    best_m03 = next(c for c in alert["candidates"] if c["reach"] == "M03")
    release = datetime.fromisoformat(best_m03["release_at"])
    assert abs(release - truth["spill_at"]) < timedelta(hours=3)
    # the registered risk sources near the top candidates: the pipeline crossing (M03 km 50) and
    # the Qiaotou bridge (M03 km 45) bracket the true spill (M03 km 49); nothing 10+ km away
    listed = {r["id"]: r for r in alert["risk_sources"]}
    assert {"S07", "S01"} <= set(listed), alert["risk_sources"]
    assert all(r["distance_km"] <= 5.0 for r in listed.values())
    assert "S03" not in listed and "S10" not in listed  # M01 km 10, M07 km 125
    assert listed["S07"]["kind"] == "pipeline" and listed["S07"]["contact"]["phone"]
    assert listed["S07"]["substances"] and listed["S07"]["near_candidate"] <= 3
    json.dumps(rows)  # JSON-ready
    # a replay of the same file is idempotent: no new readings, no new alert
    report2, codes2 = ingest(engine, _write(tmp_path, lines, gz=True), actor="test")
    assert report2.stored == 0 and codes2 == []
    with session_scope(engine) as s:
        assert len(alerts(s)) == 1


def test_noise_only_replay_gives_no_alert(engine, stations, tmp_path):
    lines, _ = replay_lines(spill=False)
    report, codes = ingest(engine, _write(tmp_path, lines), actor="test")
    assert report.stored > 5000 and codes == []
    with session_scope(engine) as s:
        assert alerts(s) == []


def test_bad_packets_are_counted_never_stored(engine, stations, tmp_path):
    lines, _ = replay_lines(spill=False)
    good = lines[:3]
    bad = [
        good[0][:-6] + "0000\r\n",  # CRC
        "garbage",
        frame(good[0][6:-6].replace("MN=STUP", "MN=NOPE")),  # unknown station
        frame(good[0][6:-6].replace("DataTime=20", "DataTime=30")),  # far future
        frame("QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=STA;Flag=5;CP=&&RtdInterval=30&&"),
    ]
    report, _ = ingest(engine, _write(tmp_path, good + bad), actor="test")

    assert report.packets == 8 and report.n_rejected == 5
    assert report.stored == 3 * 2  # two parameters per good packet
    with session_scope(engine) as s:
        counts = rejection_counts(s)
        assert sum(counts.values()) == 5 and counts["NOPE"] == 1
        day = station_day(s, "STUP", report.first_at)
        assert {r.parameter for r in day} == {"ammonia_nitrogen", "cod"}


def test_csv_readings_and_refusals(engine, stations, tmp_path):
    path = tmp_path / "readings.csv"
    path.write_text(
        "mn,time,parameter,value,flag\nSTA,2026-01-05 10:00,w21003,0.31,N\nSTA,2026-01-05 10:05,ammonia_nitrogen,0.33,M\n",
        encoding="utf-8",
    )
    report, _ = ingest(engine, path, actor="test")
    assert report.stored == 2
    path.write_text("mn,time,parameter,value\nSTA,2026-01-05 10:10,w21003,O.3\nXX,2026-01-05 10:10,cod,1\n")
    with pytest.raises(ValidationErrors) as err:
        ingest(engine, path, actor="test")
    assert "line 2: value" in str(err.value) and "line 3: mn" in str(err.value)


def test_register_refusals(engine, network_id):
    with session_scope(engine) as s:
        add_station(
            s, "S1", actor="t", river_network_id=network_id, reach_id="M03", km=50, parameters=["cod"]
        )
        assert [x.mn for x in list_stations(s)] == ["S1"]
        for kwargs, where in [
            ({"mn": "S1", "parameters": ["cod"]}, "MN"),
            ({"mn": "S 2", "parameters": ["cod"]}, "MN"),
            (
                {"mn": "S2", "parameters": ["lead"]},
                "parameters",
            ),  # the input field; the CLI shows --parameters
            ({"mn": "S2", "parameters": ["cod"], "reach_id": "M03"}, "--reach/--km"),
            ({"mn": "S2", "parameters": ["cod"], "reach_id": "M03", "km": 10.0}, None),  # km off the reach
        ]:
            mn = kwargs.pop("mn")
            with pytest.raises(UserError) as e:
                add_station(s, mn, actor="t", river_network_id=network_id, **kwargs)
            if where:
                assert where in (e.value.where, e.value.field)


def test_csv_cells_go_through_the_row_model_and_refusals_name_line_and_column(engine, stations, tmp_path):
    """Full-width digits, a superscript, an exponent, NaN and an unknown flag are refused at their
    line and column, in English and Chinese; nothing is stored."""
    path = tmp_path / "readings.csv"
    path.write_text(
        "mn,time,parameter,value,flag\n"
        "STA,2026-01-05 10:00,w21003,０.３,N\n"
        "STA,2026-01-05 10:05,w21003,1²,N\n"
        "STA,2026-01-05 10:10,w21003,nan,N\n"
        "STA,2026-01-05 10:15,w21003,0.3,Q\n"
        "STA,2026-01-05 10:20,lead,0.3,N\n"
        "ST A,2026-01-05 10:25,w21003,0.3,N\n",  # the MN rule of packets and of `stations add`
        encoding="utf-8",
    )
    with pytest.raises(ValidationErrors) as err:
        ingest(engine, path, actor="test")
    wheres = [p.where.split("readings.csv: ", 1)[1] for p in err.value.problems]
    assert wheres == [
        "line 2: value",
        "line 3: value",
        "line 4: value",
        "line 5: flag",
        "line 6: parameter",
        "line 7: mn",
    ]
    first = err.value.problems[0]
    assert "'０.３' is not a plain decimal number" in first.render("en")
    assert "'０.３' 不是普通十进制数" in first.render("zh")
    with session_scope(engine) as s:
        assert station_day(s, "STA", datetime(2026, 1, 5, tzinfo=UTC) - timedelta(hours=8)) == []
