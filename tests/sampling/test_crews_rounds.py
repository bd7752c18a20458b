"""Crews (ICS 211 check-in, ICS status) and the round schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from incident.core import log
from incident.core.errors import UserError
from incident.core.store.engine import session_scope
from incident.core.store.tables import CheckIn
from incident.sampling.crews import check_in, list_crews, set_status, status_history
from incident.sampling.layout import propose_points
from incident.sampling.plans import propose_plan
from incident.sampling.rounds import RoundSettings, list_rounds, mark_sampled, regenerate, schedule


def test_check_in_is_evidence_in_the_log(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        row = check_in(s, demo_code, "Crew A", actor="tester", departure_point="Chengnan HQ gate")
        assert row.leader == "Li Wei" and row.headcount == 3
        assert "organic_field_test" in row.qualifications
    with session_scope(demo_engine) as s:
        entry = [e for e in log.entries(s, log.incident_chain(demo_code)) if e.kind == "crew.checked_in"][-1]
        assert '"table":"checkin"' in entry.payload_json
        assert "Chengnan HQ gate" in entry.summary
        assert log.verify_chain(log.entries(s, log.incident_chain(demo_code)))[0]
        (stored,) = s.exec(select(CheckIn)).all()
        assert stored.departure_point == "Chengnan HQ gate"
        crews = {c.name: c for c in list_crews(s, code=demo_code)}
        assert crews["Crew A"].checked_in_at is not None and crews["Crew B"].checked_in_at is None


def test_status_changes_keep_their_times(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        with pytest.raises(UserError, match="reason"):
            set_status(s, "Crew C", "out_of_service", actor="tester")
        with pytest.raises(UserError, match="unknown crew status"):
            set_status(s, "Crew C", "busy", actor="tester")
        set_status(s, "C", "Out of service", actor="tester", code=demo_code, note="flat tyre")
        set_status(s, "Crew C", "available", actor="tester", code=demo_code)
        history = status_history(s, "Crew C")
        assert [h.status for h in history] == ["out_of_service", "available"]
        assert history[0].at <= history[1].at and history[0].note == "flat tyre"
        summaries = [
            e.summary for e in log.entries(s, log.incident_chain(demo_code)) if e.kind == "crew.status"
        ]
        assert summaries == [
            "Crew C: available → out_of_service (flat tyre)",
            "Crew C: out_of_service → available",
        ]


def test_expired_qualification_does_not_count(demo_engine):
    with session_scope(demo_engine) as s:
        crews = {c.name: c for c in list_crews(s)}
    # Mo Jun's hazmat_ppe expired 20 days ago (demo roster); nobody else in Crew C holds one
    assert "hazmat_ppe" not in crews["Crew C"].qualifications
    assert "hazmat_ppe" in crews["Crew C"].members[0].expired


def test_schedule_dense_early_thinning_later_one_time_per_round(demo_river, demo_forecast):
    net, src, _ = demo_river
    points = propose_points(net, *src, demo_forecast).points
    rounds = schedule(points, now_h=0.5)
    times = [r.at_h for r in rounds]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert times[0] == pytest.approx(1.5)  # now + 1 h mobilisation
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    regular = [g for g, r in zip(gaps, rounds[1:], strict=False) if r.purpose == "tracking"]
    assert regular[:3] == sorted(regular[:3])  # regular intervals grow
    assert min(gaps[:3]) < max(gaps)  # denser at first
    mandatory = [p for p in points if p.mandatory and p.arrival_h is not None and p.arrival_h > 2]
    for p in mandatory:
        before = [r for r in rounds if r.point == p.number and r.purpose == "leading_edge"]
        assert before and before[0].at_h <= p.arrival_h  # a round before the plume arrives there
    last = max(p.trailing_h for p in points if p.trailing_h is not None)
    assert rounds[-1].purpose == "tail" and rounds[-1].at_h >= last  # a round after the trailing edge


def test_regenerate_keeps_sampled_rounds(demo_engine, demo_code, make_forecast):
    fc = make_forecast()
    start = fc.release_start
    with session_scope(demo_engine) as s:
        propose_plan(s, demo_code, fc, actor="tester")
        first = regenerate(s, demo_code, actor="tester", forecast=fc, now=start + timedelta(hours=0.5))
        mark_sampled(s, demo_code, first[0].number, actor="tester")
        mark_sampled(s, demo_code, first[1].number, actor="tester")
    slower = make_forecast(dispersion_m2s=20.0)  # a new forecast: different edges
    with session_scope(demo_engine) as s:
        again = regenerate(s, demo_code, actor="tester", forecast=slower, now=start + timedelta(hours=0.6))
        rounds = list_rounds(s, demo_code)
    assert [(r.number, r.at_h, r.status) for r in rounds[:2]] == [
        (first[0].number, first[0].at_h, "sampled"),
        (first[1].number, first[1].at_h, "sampled"),
    ]
    new = [r for r in again if r.status == "planned"]
    assert new and min(r.at_h for r in new) > first[1].at_h
    assert [r.number for r in rounds] == list(range(1, len(rounds) + 1))


def test_round_settings_refuse_shrinking_intervals():
    with pytest.raises(UserError):
        RoundSettings(growth=0.5).check()
