"""The upstream control section sits outside the plume: above the ensemble's upstream P90 extent, ≥ 500 m."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.plume import forecast_incident, incident_upstream_extent
from incident.sampling import propose_plan, requests_for
from incident.sampling.assignment import earliest_arrival_h
from incident.sampling.layout import LABEL_UPSTREAM, PlanSettings, position_upstream
from incident.sampling.plans import incident_river


def test_control_distance_is_the_largest_of_setting_minimum_and_extent():
    assert PlanSettings().control_distance_m() == 500  # no extent known: the 500 m minimum
    assert PlanSettings(upstream_control_m=200).control_distance_m() == 500
    assert PlanSettings(upstream_control_m=600).control_distance_m() == 600
    assert PlanSettings(plume_upstream_m=120).control_distance_m() == 500  # a short extent: the minimum rules
    assert PlanSettings(plume_upstream_m=5021.2).control_distance_m() == 5150  # + 100 m, up to whole 50 m
    assert PlanSettings(control_min_m=0, upstream_control_m=100).control_distance_m() == 100


def test_demo_control_section_is_above_the_plume(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        extent = incident_upstream_extent(s, demo_code)
        net, reach, offset = incident_river(s, get_incident(s, demo_code))
        old_reach, old_offset, _ = position_upstream(net, reach, offset, 500.0)
        extra = [*requests_for(s, demo_code), ("HJT91-500", old_reach, old_offset)]
        forecast = forecast_incident(s, demo_code, extra_points=extra, horizon_h=72)
        view, proposal = propose_plan(s, demo_code, forecast, actor="tester")
    assert 0 < extent.p50_m < extent.p90_m <= extent.max_m
    (control,) = [p for p in view.points if p.role == "upstream_control"]
    above = -control.distance_from_source_m
    assert above >= 500 and above > extent.p90_m
    assert above == PlanSettings(plume_upstream_m=extent.p90_m).control_distance_m()
    # the transport model's own forecast never sees the plume there within the 72 h horizon...
    assert forecast.point(LABEL_UPSTREAM).leading_edge_h is None and control.arrival_h is None
    # ...while HJ/T 91's 500 m section is inside it from the start (the issue's complaint)
    assert forecast.point("HJT91-500").leading_edge_h is not None
    assert any("beyond HJ/T 91's 100–600 m" in n for n in proposal.notes)


def test_earliest_arrival_uses_the_ensemble_p10_when_stored(demo_engine, demo_code):
    from incident.sampling.layout import ProposedPoint

    p = ProposedPoint(
        "S4", "receptor", "W1", "M04", 0, 0, 0, 0, 1, 1, 1, 1, 1, receptor_id="W1", arrival_h=6.0
    )
    assert earliest_arrival_h(p, {}) == 6.0
    assert earliest_arrival_h(p, {"earliest_h": {"W1": 4.5}}) == 4.5
    assert earliest_arrival_h(p, {"earliest_h": {"W1": 7.5}}) == 6.0
    assert timedelta(hours=earliest_arrival_h(p, {"earliest_h": {"W1": 4.5}})) == timedelta(hours=4.5)


@pytest.mark.parametrize("km", [0.0, 1e-9, 0.4])
def test_intermediate_sections_closer_than_half_a_km_are_refused(km):
    """A plan proposal with sections 1e-9 km apart ran for minutes (found by the CLI fuzz)."""
    from incident.core.errors import UserError

    with pytest.raises(UserError) as refused:
        PlanSettings(intermediate_spacing_km=km).check()
    assert refused.value.where == "intermediate_spacing_km" and "0.5 km" in refused.value.render()
    PlanSettings(intermediate_spacing_km=0.5).check()
