"""The proposed plan on the demo river: HJ/T 91 sections, receptors, numbering, revisions."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from incident.core import log
from incident.core.errors import UserError
from incident.core.store.engine import session_scope
from incident.core.store.tables import LogEntry
from incident.sampling.layout import (
    PlanSettings,
    number_key,
    points_per_vertical,
    propose_points,
    sub_number,
    verticals_for_width,
)
from incident.sampling.plans import insert_point, plan_view, propose_plan, refresh_plan, remove_point
from tests.sampling.plume import advective_time_h


def _by_role(points, role):
    return [p for p in points if p.role == role]


def test_routine_sections_at_hj_t91_distances(demo_river, demo_forecast):
    net, src, _ = demo_river
    proposal = propose_points(net, *src, demo_forecast, pollutant_class="organic")
    (up,) = _by_role(proposal.points, "upstream_control")
    (dc,) = _by_role(proposal.points, "downstream_control")
    (at,) = _by_role(proposal.points, "attenuation")
    # signed flow distances from the source, checked independently on the network
    assert 100 <= -up.distance_from_source_m <= 600
    assert net.distance_downstream_m(up.reach_id, up.offset_m, *src) == pytest.approx(
        -up.distance_from_source_m
    )
    assert 500 <= dc.distance_from_source_m <= 1000
    assert net.distance_downstream_m(*src, dc.reach_id, dc.offset_m) == pytest.approx(
        dc.distance_from_source_m
    )
    assert at.distance_from_source_m > 1500
    assert net.distance_downstream_m(*src, at.reach_id, at.offset_m) == pytest.approx(
        at.distance_from_source_m
    )
    # lat/lon are on the river line at that km
    for p in (up, dc, at):
        assert (p.lat, p.lon) == pytest.approx(net.point_at(p.reach_id, p.offset_m))
        assert net.snap(p.lat, p.lon).distance_off_m < 5
    # numbered S1… in flow order, upstream control first
    assert [p.number for p in proposal.points] == [f"S{i}" for i in range(1, len(proposal.points) + 1)]
    assert proposal.points[0] is up
    dists = [p.distance_from_source_m for p in proposal.points]
    assert dists == sorted(dists)


def test_every_reached_intake_is_mandatory_with_its_arrival(demo_river, demo_forecast):
    net, src, _ = demo_river
    proposal = propose_points(net, *src, demo_forecast, pollutant_class="organic")
    intakes = {p.receptor_id: p for p in proposal.points if p.receptor_kind == "drinking_water_intake"}
    reached = {pf.label for pf in demo_forecast.points if pf.kind == "drinking_water_intake" and pf.reached}
    assert reached == {"W1", "W2", "W3"}  # the demo spill reaches all three intakes within 72 h
    assert set(intakes) == reached
    for rid, p in intakes.items():
        assert p.mandatory
        assert p.required_qualification == "organic_field_test"
        rc = next(r for r in net.receptors if r.receptor_id == rid)
        # arrival before the advective travel time (dispersion brings the leading edge early) but same order
        t_adv = advective_time_h(net, src, (rc.reach_id, rc.offset_m))
        assert 0.6 * t_adv < p.arrival_h < t_adv < p.peak_h + 0.2
    # upstream receptors (AS1 on M02) and the tributary's station (AS5) are not in the plan
    ids = {p.receptor_id for p in proposal.points}
    assert "AS1" not in ids and "AS5" not in ids


def test_unreached_intake_is_left_out_with_a_note(demo_river, make_forecast):
    net, src, _ = demo_river
    short = make_forecast(horizon_h=40)  # W3 (~60 h away) is not reached within 40 h
    proposal = propose_points(net, *src, short)
    ids = {p.receptor_id for p in proposal.points}
    assert {"W1", "W2"} <= ids and "W3" not in ids
    assert any("W3" in note and "not in the plan" in note for note in proposal.notes)


def test_intermediate_sections_only_where_the_standard_is_exceeded(demo_river, make_forecast):
    net, src, _ = demo_river
    high = propose_points(net, *src, make_forecast())
    assert _by_role(high.points, "intermediate"), "the demo spill exceeds the standard far downstream"
    for p in _by_role(high.points, "intermediate"):
        assert p.exceeds_standard
    # a standard nobody exceeds: no intermediate sections
    low = propose_points(net, *src, make_forecast(standard_mg_l=1e6))
    assert not _by_role(low.points, "intermediate")


def test_verticals_and_depths_follow_hj_t91():
    assert [verticals_for_width(w) for w in (10, 50, 50.1, 100, 100.1, 800)] == [1, 1, 2, 2, 3, 3]
    assert [points_per_vertical(d) for d in (0.5, 5, 5.1, 10, 10.1)] == [1, 1, 2, 2, 3]


def test_settings_outside_hj_t91_ranges_are_refused():
    for kwargs in ({"upstream_control_m": 50}, {"downstream_control_m": 1200}, {"attenuation_m": 1500}):
        with pytest.raises(UserError):
            PlanSettings(**kwargs).check()


def test_sub_numbers():
    assert sub_number("S3", ["S1", "S2", "S3", "S4"]) == "S3-1"
    assert sub_number("S3", ["S3", "S3-1", "S4"]) == "S3-2"
    assert sub_number("S3-1", ["S3", "S3-1", "S3-2"]) == "S3-1-1"
    assert sorted(["S10", "S3-1", "S2", "S3"], key=number_key) == ["S2", "S3", "S3-1", "S10"]


def test_insert_gets_sub_number_and_old_numbers_never_change(demo_engine, demo_code, demo_forecast):
    with session_scope(demo_engine) as s:
        view, _ = propose_plan(s, demo_code, demo_forecast, actor="tester")
    before = {p.number: (p.reach_id, round(p.km, 6)) for p in view.points}
    s3, s4 = view.points[2], view.points[3]
    km = (s3.km + s4.km) / 2 if s3.reach_id == s4.reach_id else s3.km + 0.5
    with session_scope(demo_engine) as s:
        new = insert_point(s, demo_code, km=km, after="S3", reason="bridge access", actor="tester")
    assert new.number == "S3-1"
    with session_scope(demo_engine) as s:
        second = insert_point(s, demo_code, km=km + 0.1, reason="second bridge", actor="tester")
        assert second.number in ("S3-2", "S3-1-1")  # follows S3 or S3-1 by position
        v3 = plan_view(s, demo_code)
        v1 = plan_view(s, demo_code, revision=1)
    assert v3.revision.revision == 3
    after = {p.number: (p.reach_id, round(p.km, 6)) for p in v3.points}
    for number, where in before.items():
        assert after[number] == where  # nothing renumbered or moved
    assert {p.number for p in v1.points} == set(before)  # the old revision is still readable
    assert [r.reason for r in v3.revisions] == [
        "initial proposal from the forecast",
        "bridge access",
        "second bridge",
    ]


def test_insert_in_the_wrong_gap_is_refused_with_the_right_neighbour(demo_engine, demo_code, demo_forecast):
    with session_scope(demo_engine) as s:
        view, _ = propose_plan(s, demo_code, demo_forecast, actor="tester")
        far = view.points[-1]
        with pytest.raises(UserError) as err:
            insert_point(
                s, demo_code, km=far.km - 0.2, reach_id=far.reach_id, after="S2", reason="x", actor="t"
            )
    assert "--after" in str(err.value)


def test_remove_needs_a_reason_and_is_logged(demo_engine, demo_code, demo_forecast):
    with session_scope(demo_engine) as s:
        view, _ = propose_plan(s, demo_code, demo_forecast, actor="tester")
        intake = next(p for p in view.points if p.receptor_id == "W1")
        with pytest.raises(UserError, match="mandatory"):
            remove_point(s, demo_code, intake.number, reason="  ", actor="tester")
    with session_scope(demo_engine) as s:
        remove_point(s, demo_code, intake.number, reason="intake shut and isolated", actor="chief")
        view = plan_view(s, demo_code)
        gone = next(p for p in view.points if p.number == intake.number)
        assert gone.removed_reason == "intake shut and isolated"
        assert intake.number not in {p.number for p in view.active_points}
        entries = [e for e in log.entries(s, log.incident_chain(demo_code)) if e.kind.startswith("plan.")]
        assert [e.kind for e in entries] == ["plan.proposed", "plan.mandatory_point_removed"]
        assert json.loads(entries[-1].payload_json)["reason"] == "intake shut and isolated"
        assert entries[-1].actor == "chief"
        ok, _ = log.verify_chain(log.entries(s, log.incident_chain(demo_code)))
        assert ok


def test_propose_twice_is_refused(demo_engine, demo_code, demo_forecast):
    with session_scope(demo_engine) as s:
        propose_plan(s, demo_code, demo_forecast, actor="tester")
        with pytest.raises(UserError, match="already has a plan"):
            propose_plan(s, demo_code, demo_forecast, actor="tester")


def test_refresh_adds_newly_reached_receptor_with_sub_number(demo_engine, demo_code, make_forecast):
    with session_scope(demo_engine) as s:
        view, _ = propose_plan(s, demo_code, make_forecast(horizon_h=40), actor="tester")
        assert "W3" not in {p.receptor_id for p in view.points}
        numbers = [p.number for p in view.points]
        view2 = refresh_plan(s, demo_code, make_forecast(horizon_h=72), actor="tester")
        w3 = next(p for p in view2.points if p.receptor_id == "W3")
        assert "-" in w3.number and w3.mandatory
        assert [p.number for p in view2.points if p.number in numbers] == numbers
        assert len(s.exec(select(LogEntry).where(LogEntry.kind == "plan.refreshed")).all()) == 1
