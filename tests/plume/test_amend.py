"""Amending the spill: a logged new version, and the forecast before and after side by side."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from incident.core.errors import UserError
from incident.core.incidents import get_incident, spill_version
from incident.core.store.engine import session_scope
from incident.core.store.tables import LogEntry
from incident.plume import amend_and_reforecast


def test_doubling_the_mass_doubles_every_peak_and_is_logged(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        inc = get_incident(s, demo_code)
        start, duration = inc.release_start, inc.release_duration_h
        assert spill_version(s, demo_code) == 1
        out = amend_and_reforecast(
            s,
            demo_code,
            mass_kg=16000,
            release_start=start,
            release_duration_h=duration,
            reason="driver's second call: 16 t",
            actor="li.wei",
        )
    assert out.spill.version == 2
    assert out.spill.before["mass_kg"] == 8000 and out.spill.after["mass_kg"] == 16000
    intakes = [a for a in out.arrivals if a.kind == "drinking_water_intake"]
    assert [a.label for a in intakes] == ["W1", "W2", "W3"]
    for a in out.arrivals:
        if a.before_peak_mg_l:
            # transport is linear in the mass: the peak doubles exactly
            assert a.after_peak_mg_l / a.before_peak_mg_l == pytest.approx(2.0, rel=1e-9)
        if a.before_at is not None:
            assert a.after_at is not None and a.after_at <= a.before_at  # more mass: detected no later
    with session_scope(demo_engine) as s:
        assert get_incident(s, demo_code).mass_kg == 16000
        assert spill_version(s, demo_code) == 2
        entries = s.exec(select(LogEntry).where(LogEntry.kind == "incident.spill_amended")).all()
        assert len(entries) == 1 and entries[0].actor == "li.wei"
        payload = json.loads(entries[0].payload_json)
        assert payload["before"]["mass_kg"] == 8000 and payload["reason"] == "driver's second call: 16 t"
        forecasts = s.exec(select(LogEntry).where(LogEntry.kind == "forecast.run")).all()
        assert forecasts  # the new forecast is the incident's latest


def test_a_later_start_moves_every_arrival_by_the_same_time(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        inc = get_incident(s, demo_code)
        out = amend_and_reforecast(
            s,
            demo_code,
            mass_kg=inc.mass_kg,
            release_start=inc.release_start + timedelta(hours=1),
            release_duration_h=inc.release_duration_h,
            reason="CCTV shows the crash an hour later",
            actor="t",
        )
    reached = [a for a in out.arrivals if a.before_at is not None]
    assert reached
    for a in reached:
        assert a.after_at - a.before_at == timedelta(hours=1)
        assert a.after_peak_mg_l == pytest.approx(a.before_peak_mg_l, rel=1e-12)


@pytest.mark.parametrize(
    "change, says",
    [({"mass_kg": -1.0}, "not a usable amount"), ({"reason": " "}, "no reason"), ({}, "nothing changed")],
)
def test_refusals_change_nothing(demo_engine, demo_code, change, says):
    with session_scope(demo_engine) as s:
        inc = get_incident(s, demo_code)
        args = {
            "mass_kg": inc.mass_kg,
            "release_start": inc.release_start,
            "release_duration_h": inc.release_duration_h,
            "reason": "x",
        } | change
        with pytest.raises(UserError, match=says):
            amend_and_reforecast(s, demo_code, actor="t", **args)
    with session_scope(demo_engine) as s:
        assert get_incident(s, demo_code).mass_kg == 8000 and spill_version(s, demo_code) == 1
