"""Crew routing: the solver against brute force, windows honoured, travel times from roads or the fallback."""

from __future__ import annotations

import itertools
import json
import random

import numpy as np
import pytest

from incident.core.errors import UserError, ValidationErrors
from incident.core.rivers import geodesic_m
from incident.sampling.routing import (
    ROAD_CLASS_SPEED_KMH,
    RouteCrew,
    RouteProblem,
    RouteStop,
    TravelSettings,
    _arrivals,
    cost_of,
    load_roads,
    parse_roads,
    solve_routes,
    travel_matrix,
)


def brute_force(problem: RouteProblem) -> tuple[int, int, int]:
    """The least (mandatory dropped, dropped, driving + finish) over every assignment and every order."""
    n_c, n_s = len(problem.crews), len(problem.stops)
    best = None
    for assign in itertools.product(range(-1, n_c), repeat=n_s):
        per_crew = [[k for k in range(n_s) if assign[k] == c] for c in range(n_c)]
        options = []
        for c, ks in enumerate(per_crew):
            feasible = []
            for perm in itertools.permutations(ks):
                times = _arrivals(problem, c, list(perm))
                if times is not None:
                    feasible.append(list(zip(perm, times, strict=True)))
            if not feasible:
                break
            options.append(feasible)
        else:
            for routes in itertools.product(*options):
                cost = cost_of(problem, list(routes))
                best = cost if best is None or cost < best else best
    assert best is not None  # dropping everything is always feasible
    return best


def random_problem(rng: random.Random, n_c: int, n_s: int) -> RouteProblem:
    places = [(rng.uniform(0, 40), rng.uniform(0, 40)) for _ in range(n_c + n_s)]
    travel = np.array(
        [[int(np.hypot(a[0] - b[0], a[1] - b[1]) * 90) for b in places] for a in places], dtype=np.int64
    )
    stops = []
    for k in range(n_s):
        opens = rng.choice([0, 0, rng.randint(0, 3600)])
        stops.append(
            RouteStop(
                key=f"S{k}",
                open_s=opens,
                close_s=opens + rng.randint(600, 5400),
                service_s=rng.choice([0, 600, 1200]),
                mandatory=rng.random() < 0.4,
                crews=[c for c in range(n_c) if rng.random() < 0.8],
            )
        )
    return RouteProblem(travel, [RouteCrew(f"C{i}") for i in range(n_c)], stops)


@pytest.mark.parametrize("seed", range(30))
def test_routes_are_optimal_against_brute_force(seed):
    problem = random_problem(
        random.Random(seed), random.Random(seed).randint(1, 2), random.Random(seed + 99).randint(1, 5)
    )
    sol = solve_routes(problem, search_s=0.2)
    assert cost_of(problem, sol.routes) == brute_force(problem)
    for c, route in enumerate(sol.routes):
        for k, arrive in route:
            stop = problem.stops[k]
            assert c in stop.crews and stop.open_s <= arrive <= stop.close_s


def test_windows_decide_the_order_hand_checked():
    """One crew on a line: A at 10 min, B at 20 min. B closes at 25 min, A opens at 60 min: B first."""
    travel = np.array([[0, 600, 1200], [600, 0, 600], [1200, 600, 0]], dtype=np.int64)
    stops = [
        RouteStop("A", 3600, 7200, 300, True, [0]),
        RouteStop("B", 0, 1500, 300, True, [0]),
    ]
    problem = RouteProblem(travel, [RouteCrew("C")], stops)
    sol = solve_routes(problem)
    # start → B (20 min) + 5 min on site → A (10 min): arrives 35 min, waits for 60 min
    assert sol.routes == [[(1, 1200), (0, 3600)]] and sol.dropped == []
    assert sol.travel_s == 1800 and sol.finish_s == 3900


def test_stop_nobody_may_visit_is_dropped_not_forced():
    travel = np.zeros((3, 3), dtype=np.int64)
    stops = [RouteStop("A", 0, 100, 0, True, []), RouteStop("B", 0, 100, 0, False, [0])]
    sol = solve_routes(RouteProblem(travel, [RouteCrew("C")], stops))
    assert sol.dropped == [0] and sol.routes == [[(1, 0)]]


def test_mandatory_point_wins_over_any_number_of_others():
    """One crew, time for one stop only: the mandatory one is kept although it is farther."""
    travel = np.array(
        [[0, 3000, 600, 600], [3000, 0, 9000, 9000], [600, 9000, 0, 9000], [600, 9000, 9000, 0]]
    )
    stops = [RouteStop("M", 0, 3600, 0, True, [0])] + [
        RouteStop(f"O{i}", 0, 3600, 0, False, [0]) for i in (1, 2)
    ]
    sol = solve_routes(RouteProblem(travel.astype(np.int64), [RouteCrew("C")], stops))
    assert sol.routes == [[(0, 3000)]] and sorted(sol.dropped) == [1, 2]


# ---------------------------------------------------------------- travel times

A, B = (23.951, 109.598), (24.571, 109.381)


def test_fallback_is_geodesic_times_detour_over_speed():
    m = travel_matrix([A, B], TravelSettings(detour_factor=1.3, speed_kmh=50))
    expected = geodesic_m(*A, *B) * 1.3 / (50 / 3.6)
    assert m.seconds[0, 1] == m.seconds[1, 0] == round(expected)
    assert m.seconds[0, 0] == 0 and "× 1.3 at 50 km/h" in m.method


def _road(coords, **props):
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}, "properties": props}


def _roads(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def test_road_network_path_hand_checked():
    """Two roads meeting at a shared vertex; the places sit on the ends, so no off-road leg."""
    p0, p1, p2 = (24.0, 109.0), (24.0, 109.1), (24.1, 109.1)
    roads = parse_roads(
        _roads(
            _road([[p0[1], p0[0]], [p1[1], p1[0]]], speed_kmh=80),
            _road([[p1[1], p1[0]], [p2[1], p2[0]]], road_class="tertiary"),
        )
    )
    m = travel_matrix([p0, p2], TravelSettings(), roads)
    expected = geodesic_m(*p0, *p1) / (80 / 3.6) + geodesic_m(*p1, *p2) / (
        ROAD_CLASS_SPEED_KMH["tertiary"] / 3.6
    )
    assert m.seconds[0, 1] == pytest.approx(expected, abs=1)
    assert m.seconds[1, 0] == m.seconds[0, 1] and not m.warnings and m.fallback_legs == 0


def test_off_road_leg_and_oneway():
    p0, p1 = (24.0, 109.0), (24.0, 109.1)
    off = (24.005, 109.1)  # about 550 m north of the road's end
    roads = parse_roads(_roads(_road([[p0[1], p0[0]], [p1[1], p1[0]]], speed_kmh=60, oneway=True)))
    cfg = TravelSettings(detour_factor=1.2, off_road_speed_kmh=10)
    m = travel_matrix([p0, off], cfg, roads)
    on_road = geodesic_m(*p0, *p1) / (60 / 3.6)
    walk = geodesic_m(*off, *p1) * 1.2 / (10 / 3.6)
    assert m.seconds[0, 1] == pytest.approx(on_road + walk, rel=0.01)  # snap uses the haversine
    # against the one-way road there is no path: the straight line is used, and said
    direct = geodesic_m(*off, *p0) * 1.2 / (40 / 3.6)
    assert m.seconds[1, 0] == pytest.approx(direct, abs=1)
    assert m.fallback_legs == 1 and "no road path" in m.warnings[0]


def test_places_far_from_every_road_use_the_straight_line():
    roads = parse_roads(_roads(_road([[109.0, 24.0], [109.01, 24.0]], speed_kmh=60)))
    m = travel_matrix([A, B], TravelSettings(), roads)
    assert m.seconds[0, 1] == round(geodesic_m(*A, *B) * 1.4 / (40 / 3.6))
    assert "more than 2000 m from every road" in m.warnings[0]


def test_bad_road_file_reports_every_problem_with_where_and_fix(tmp_path):
    doc = _roads(
        _road([[109.0, 24.0], [109.1, 24.0]], name="G323"),  # neither speed nor class
        _road([[109.0, 24.0], [109.1, 24.0]], road_class="highway"),
        _road([[24.0, 109.0], [24.1, 109.0]], speed_kmh=50),  # lat/lon swapped: 109° latitude
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [109, 24]},
            "properties": {"speed_kmh": 5},
        },
    )
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ValidationErrors) as exc:
        load_roads(path)
    text = str(exc.value)
    assert "4 problem(s)" in text
    assert "roads.geojson, feature 1 (G323): the road has neither speed_kmh nor road_class" in text
    assert "feature 2, road_class: unknown road_class 'highway'" in text
    assert "longitude first" in text and "use LineString or MultiLineString" in text
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match="line 1"):
        load_roads(path)
