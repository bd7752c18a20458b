"""The crew assignment: optimal (vs brute force), hand-checked lateness and slack, qualifications."""

from __future__ import annotations

import itertools
import math
import random
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from incident.core.rivers import geodesic_m
from incident.core.store.engine import session_scope
from incident.core.store.tables import Assignment, Crew, CrewStatusChange
from incident.sampling.assignment import (
    AssignSettings,
    dispatch,
    ics204_csv,
    ics204_markdown,
    objective_of,
    plan_assignment,
    solve,
    travel_minutes,
)
from incident.sampling.crews import list_crews
from incident.sampling.plans import plan_view, propose_plan


def brute_force(travel_s, required_s, feasible, mandatory):
    """The best objective over every matching (pairs only where feasible), by permutations."""
    n_c, n_p = travel_s.shape
    n = max(n_c, n_p)
    best = None
    for perm in itertools.permutations(range(n)):
        pairs = [(i, perm[i]) for i in range(n_c) if perm[i] < n_p and feasible[i, perm[i]]]
        obj = objective_of(pairs, travel_s, required_s, mandatory)
        best = obj if best is None or obj < best else best
    return best


def random_instance(rng: random.Random, n_c: int, n_p: int):
    travel = np.array([[rng.randint(60, 4 * 3600) for _ in range(n_p)] for _ in range(n_c)], dtype=np.int64)
    required = np.array(
        [math.nan if rng.random() < 0.2 else float(rng.randint(-1800, 4 * 3600)) for _ in range(n_p)]
    )
    feasible = np.array([[rng.random() < 0.75 for _ in range(n_p)] for _ in range(n_c)], dtype=bool)
    mandatory = np.array([rng.random() < 0.4 for _ in range(n_p)], dtype=bool)
    # ties on lateness are common in practice (no deadline, all on time): make some
    if rng.random() < 0.5:
        travel[:, :] = travel // 600 * 600
    return travel, required, feasible, mandatory


@pytest.mark.parametrize("seed", range(40))
def test_optimal_equals_brute_force_seeded(seed):
    rng = random.Random(seed)
    n_c, n_p = rng.randint(1, 7), rng.randint(1, 7)
    inst = random_instance(rng, n_c, n_p)
    sol = solve(*inst)
    assert sol.objective == brute_force(*inst)
    crews = [i for i, _ in sol.pairs]
    points = [j for _, j in sol.pairs]
    assert len(set(crews)) == len(crews) and len(set(points)) == len(points)
    assert all(inst[2][i, j] for i, j in sol.pairs)  # never an infeasible pair


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_optimal_equals_brute_force_hypothesis(n_c, n_p, seed):
    inst = random_instance(random.Random(seed), n_c, n_p)
    assert solve(*inst).objective == brute_force(*inst)


def test_lexicographic_priorities_hand_checked():
    # two crews, three points; point 2 is mandatory and only crew 1 can do it.
    travel = np.array([[600, 1200, 9999], [300, 900, 1800]], dtype=np.int64)
    required = np.array([math.nan, 600.0, 1200.0])
    feasible = np.array([[True, True, False], [True, True, True]])
    mandatory = np.array([False, False, True])
    sol = solve(travel, required, feasible, mandatory)
    # crew 1 must take the mandatory point (600 s late); crew 0 then takes point 1 (1200-600 = 600 s late)
    # rather than point 0 (on time): covering counts equal, so lateness decides → point 0 (0 s late).
    assert sorted(sol.pairs) == [(0, 0), (1, 2)]
    assert sol.objective == (0, 1, 600, 600 + 1800)
    assert sol.unmet == [1]


def test_travel_time_formula():
    a, b = (23.951, 109.598), (24.571, 109.381)
    km = geodesic_m(*a, *b) / 1000
    assert 70 < km < 75  # Chengnan HQ → Xishan field office, about 72 km as the crow flies
    assert travel_minutes(a, b, 1.4, 40) == pytest.approx(km * 1.4 / 40 * 60)
    assert travel_minutes(a, b, 1.0, 60) == pytest.approx(km)


@pytest.fixture
def planned(demo_engine, demo_code, demo_forecast):
    with session_scope(demo_engine) as s:
        propose_plan(s, demo_code, demo_forecast, actor="tester")
    return demo_engine, demo_code, demo_forecast


def ready(_session, _kit_id, *, on=None):
    return True, []


def test_slack_and_lateness_hand_checked_on_the_demo(planned):
    engine, code, forecast = planned
    now = forecast.release_start + timedelta(hours=1)
    cfg = AssignSettings(road_factor=1.3, speed_kmh=50, margin_min=20)
    with session_scope(engine) as s:
        view = plan_view(s, code)
        w2 = next(p for p in view.points if p.receptor_id == "W2")
        plan = plan_assignment(s, code, settings=cfg, kit_check=ready, now=now, points=[w2.number])
        crews = {c.name: c for c in list_crews(s)}
    (line,) = plan.lines
    crew = crews[line.crew]
    km = geodesic_m(crew.base_lat, crew.base_lon, w2.lat, w2.lon) / 1000
    travel_min = km * 1.3 / 50 * 60
    deadline = forecast.release_start + timedelta(hours=w2.arrival_h) - timedelta(minutes=20)
    assert line.travel_min == pytest.approx(travel_min, abs=1 / 60)
    assert abs((line.eta - (now + timedelta(minutes=travel_min))).total_seconds()) <= 1
    assert line.required_by == deadline
    expected_slack = (deadline - now).total_seconds() / 60 - travel_min
    assert line.slack_min == pytest.approx(expected_slack, abs=2 / 60)
    assert line.lateness_min == 0 and line.slack_min > 0
    # W2 needs organic_field_test: the nearest qualified crew (A and B share Chengnan HQ, right by W2)
    assert line.crew in ("Crew A", "Crew B")
    # the same point, asked for late: the lateness is exactly the negative slack
    late_now = deadline + timedelta(minutes=45)
    with session_scope(engine) as s:
        late = plan_assignment(s, code, settings=cfg, kit_check=ready, now=late_now, points=[w2.number])
    (l2,) = late.lines
    assert l2.lateness_min == pytest.approx(45 + l2.travel_min, abs=2 / 60)
    assert l2.slack_min == pytest.approx(-l2.lateness_min, abs=1e-9)


def test_crew_without_required_qualification_is_never_assigned(planned):
    engine, code, forecast = planned
    now = forecast.release_start + timedelta(hours=1)
    with session_scope(engine) as s:
        qualified = {c.name for c in list_crews(s) if "organic_field_test" in c.qualifications}
        assert qualified == {"Crew A", "Crew B"}  # from the demo roster
        view = plan_view(s, code)
        needs = {p.number for p in view.points if p.required_qualification == "organic_field_test"}
        assert len(needs) == 3, "the three demo intakes need an organic field test"
        cfg = AssignSettings(period_h=72)
        plan = plan_assignment(s, code, settings=cfg, kit_check=ready, now=now, points=sorted(needs))
    for line in plan.lines:
        if line.point in needs:
            assert line.crew in qualified
    # 3 intakes, 2 qualified crews (C and D are free but unqualified): one intake is unmet, loudly
    unmet_intakes = [u for u in plan.unmet if u.point in needs]
    assert len(unmet_intakes) == 1 and unmet_intakes[0].mandatory
    text = " ".join(unmet_intakes[0].reasons)
    assert "Crew C: nobody holds a valid organic_field_test certificate" in text
    md = ics204_markdown(plan)
    assert "UNMET POINTS" in md and unmet_intakes[0].point in md.split("UNMET POINTS")[1]


def test_kit_not_ready_blocks_the_crew(planned):
    engine, code, forecast = planned
    with session_scope(engine) as s:
        kit_of_a = s.exec(select(Crew).where(Crew.name == "Crew A")).one().kit_id

        def kits(_s, kit_id, *, on=None):
            return (False, ["pH probe calibration overdue"]) if kit_id == kit_of_a else (True, [])

        plan = plan_assignment(s, code, kit_check=kits, now=forecast.release_start)
    assert "Crew A" not in {line.crew for line in plan.lines}
    assert any("Crew A: kit" in r and "overdue" in r for u in plan.unmet for r in u.reasons)


def test_out_of_service_crew_is_not_used_and_dispatch_sets_assigned(planned):
    from incident.sampling.crews import set_status

    engine, code, forecast = planned
    with session_scope(engine) as s:
        set_status(s, "Crew D", "out_of_service", actor="tester", code=code, note="vehicle breakdown")
        plan = plan_assignment(s, code, kit_check=ready, now=forecast.release_start)
        assert "Crew D" not in {line.crew for line in plan.lines}
        assert ("Crew D", "status out_of_service") in plan.idle
        rows = dispatch(s, plan, actor="tester")
        assert len(rows) == len(plan.lines) == 3  # A, B, C; D is out of service
    with session_scope(engine) as s:
        statuses = {c.name: c.status for c in s.exec(select(Crew))}
        assert {statuses[line.crew] for line in plan.lines} == {"assigned"}
        assert len(s.exec(select(Assignment)).all()) == 3
        changes = s.exec(select(CrewStatusChange).where(CrewStatusChange.status == "assigned")).all()
        assert len(changes) == 3 and all(c.at is not None for c in changes)


def test_ics204_csv_has_one_line_per_assignment_and_unmet(planned):
    import csv
    import io

    engine, code, forecast = planned
    with session_scope(engine) as s:
        plan = plan_assignment(s, code, kit_check=ready, now=forecast.release_start)
    rows = list(csv.DictReader(io.StringIO(ics204_csv(plan))))
    assert len(rows) == len(plan.lines) + len(plan.unmet)
    assert sum(r["crew"] == "UNMET" for r in rows) == len(plan.unmet)
    for row, line in zip(rows, plan.lines, strict=False):
        assert row["crew"] == line.crew and row["point"] == line.point
        if line.slack_min is None:
            assert (
                row["slack_min"] == "" and line.required_by is None
            )  # no deadline: the plume never gets there
        else:
            assert float(row["slack_min"]) == pytest.approx(line.slack_min, abs=0.05)
