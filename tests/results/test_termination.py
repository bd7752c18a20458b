"""HJ 589 §10 termination check: table-driven, just under/over 48 h, missing point, late exceedance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from incident.core import log
from incident.core.clock import utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.core.store.tables import Incident, SamplingPoint
from incident.results import entry as results
from incident.results.entry import NewSample, ResultInput
from incident.results.termination import check_termination

from .conftest import backdate, make_plan

# nitrobenzene, GB 3838 Table 3 limit 0.017 mg/L
OK, HIGH = "0.005", "0.050"


def _add(s, code, point, hours_ago, value, rnd=None):
    smp = results.create_sample(
        s,
        code,
        NewSample(point=point, round=rnd, sampled_at=utcnow() - timedelta(hours=hours_ago), sampler="Li Wei"),
        actor="t",
    )
    results.add_result(
        s,
        code,
        ResultInput(
            sample=smp.code,
            parameter="nitrobenzene",
            value=value,
            detection_limit=None if value.startswith("<") else "0.0005",
            method="hj648_gc",
        ),
        actor="t",
        view=False,
    )


def _series(hours_span: float, step: float = 12.0, plume: bool = True):
    """Compliant results every `step` hours over `hours_span`, oldest first, after an exceedance (the plume)."""
    start = hours_span + 1.0
    pts = [(start + 12, HIGH)] if plume else []
    h = start
    while h > 1.0 + 1e-9:
        pts.append((h, OK))
        h -= step
    pts.append((1.0, OK))
    return pts


def _series_up(hours_span: float):
    return _series(hours_span, plume=False)  # S1 is the upstream control: the plume never reaches it


CASES = {
    # name: ({point: [(hours_ago, value), ...]}, proposable, failing point or None, reason fragment)
    "49 h everywhere": (
        {"S1": _series_up(49)} | {p: _series(49) for p in ("S2", "S3", "S4")},
        True,
        None,
        "49.0 h",
    ),
    "exactly 48 h": (
        {"S1": _series_up(48)} | {p: _series(48) for p in ("S2", "S3", "S4")},
        True,
        None,
        "48.0 h",
    ),
    "47.9 h at S3": (
        {"S1": _series_up(49), "S2": _series(49), "S3": _series(47.9), "S4": _series(49)},
        False,
        "S3",
        "only 47.9 h",
    ),
    "S4 missing": (
        {"S1": _series_up(60)} | {p: _series(60) for p in ("S2", "S3")},
        False,
        "S4",
        "no results",
    ),
    "late exceedance at S2": (
        {"S1": _series_up(60), "S2": [*_series(60), (0.5, HIGH)], "S3": _series(60), "S4": _series(60)},
        False,
        "S2",
        "does not comply",
    ),
    "exceedance in the middle resets the clock": (
        {"S1": _series_up(60), "S2": [*_series(60), (30, HIGH)], "S3": _series(60), "S4": _series(60)},
        False,
        "S2",
        "only 24.0 h",
    ),
    "gap over 24 h breaks continuity": (
        {"S1": _series_up(60), "S2": [(60, OK), (30, OK), (1, OK)], "S3": _series(60), "S4": _series(60)},
        False,
        "S2",
        "gap of more than 24 h",
    ),
    "non-detects at a DL under the limit comply": (
        {
            "S1": _series_up(49),
            "S2": [(50, "<0.0005"), (30, "<0.0005"), (10, "<0.0005"), (1, "<0.0005")],
            "S3": _series(49),
            "S4": _series(49),
        },
        True,
        None,
        "49.0 h",
    ),
    "non-detect with a DL above the limit does not": (
        {
            "S1": _series_up(49),
            "S2": [(50, OK), (30, OK), (10, OK), (1, "<0.05")],
            "S3": _series(49),
            "S4": _series(49),
        },
        False,
        "S2",
        "does not comply",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_water_rule(planned, name):
    data, proposable, failing, reason = CASES[name]
    engine, code = planned
    with session_scope(engine) as s:
        for point, series in data.items():
            for hours_ago, value in series:
                _add(s, code, point, hours_ago, value)
        check = check_termination(s, code, actor="tester")
        status = get_incident(s, code).status
    assert check.proposable is proposable, [(e.point, e.reason) for e in check.points]
    assert check.rule == "water_48h" and check.parameters == ["nitrobenzene"]
    bad = {e.point for e in check.failing()}
    assert bad == ({failing} if failing else set())
    target = next(e for e in check.points if e.point == (failing or "S2"))
    assert reason in target.reason
    assert status == "active"  # never changed by the check
    assert "| S1 |" in check.markdown and ("PROPOSED" in check.markdown) is proposable


def test_background_above_the_standard_counts_as_compliant(planned):
    engine, code = planned
    with session_scope(engine) as s:
        for h in (49, 30, 10, 1):
            _add(s, code, "S1", h, "0.030")  # upstream control: background above 0.017
            for p in ("S2", "S3", "S4"):
                _add(s, code, p, h, "0.025")
        check = check_termination(s, code)
    assert check.proposable
    assert all(e.background_mg_l == pytest.approx(0.030) for e in check.points)


def test_only_points_of_the_latest_revision_count(planned):
    engine, code = planned
    with session_scope(engine) as s:
        inc = get_incident(s, code)
        for p in ("S1", "S2", "S3", "S4"):
            for h, v in _series(49):
                _add(s, code, p, h, v)
        # revision 2 drops S3 (its number is never reused) and adds S5, which has no results yet
        rev2 = make_plan(
            s,
            inc.id,
            revision=2,
            rounds=0,
            points=[
                ("S1", "upstream_control", -500.0, None),
                ("S2", "downstream_control", 1000.0, None),
                ("S3", "attenuation", 5000.0, None),
                ("S4", "receptor", 20000.0, "W1"),
                ("S5", "intermediate", 12000.0, None),
            ],
        )
        s3 = s.exec(
            select(SamplingPoint).where(SamplingPoint.revision_id == rev2.id, SamplingPoint.number == "S3")
        ).one()
        s3.removed_reason = "access lost"
        s.add(s3)
        s.flush()
        check = check_termination(s, code)
    assert {e.point for e in check.points} == {"S1", "S2", "S4", "S5"}
    assert [e.point for e in check.failing()] == ["S5"]


@pytest.mark.parametrize(
    ("rounds", "proposable", "reason"),
    [
        ({1: HIGH, 2: OK, 3: OK, 4: OK}, True, "3 consecutive"),
        ({1: HIGH, 2: HIGH, 3: OK, 4: OK}, False, "only 2 of 3"),
        ({1: OK, 2: OK, 4: OK}, False, "only 1 of 3"),  # round 3 missed at this point
        ({1: OK, 2: OK, 3: OK, 4: HIGH}, False, "round 4 does not comply"),
    ],
)
def test_other_media_need_three_consecutive_rounds(demo_engine, demo_code, rounds, proposable, reason):
    with session_scope(demo_engine) as s:
        inc = s.exec(select(Incident).where(Incident.code == demo_code)).one()
        inc.medium = "other"
        backdate(s, inc)
        make_plan(s, inc.id, rounds=4, points=[("S1", "downstream_control", 100.0, None)])
        for rnd, value in rounds.items():
            _add(s, demo_code, "S1", 10 - rnd, value, rnd=rnd)
        check = check_termination(s, demo_code)
    assert check.rule == "rounds_3"
    assert check.proposable is proposable
    assert reason in check.points[0].reason


def test_check_is_logged_and_chinese_markdown(planned):
    engine, code = planned
    with session_scope(engine) as s:
        _add(s, code, "S2", 2, HIGH)
        check = check_termination(s, code, actor="Huang Min", lang="zh")
        kinds = [e.kind for e in log.entries(s, log.incident_chain(code))]
    assert "termination.checked" in kinds
    assert "尚不满足" in check.markdown and "应急指挥部门" in check.markdown


def test_no_plan_or_no_parameter_is_refused(demo_engine, demo_code):
    with session_scope(demo_engine) as s, pytest.raises(UserError, match="no sampling plan"):
        check_termination(s, demo_code)
    with session_scope(demo_engine) as s:
        inc = get_incident(s, demo_code)
        inc.substance = None
        s.add(inc)
        make_plan(s, inc.id)
        with pytest.raises(UserError, match="no parameter"):
            check_termination(s, demo_code)
