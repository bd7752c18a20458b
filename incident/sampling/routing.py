"""Crew routes: ordered stops with time windows, solved with OR-Tools' vehicle routing.

A crew leaves from where it is now and visits several points in turn; at each
stop it spends the handling time (HJ/T 91 verticals × depths, bottles, labels,
field tests) before driving on. Each point has a window in which the crew must
*arrive*: before the plume's earliest arrival in the first round, within the
tolerance around the round time in later rounds. The solver is OR-Tools'
routing library (``pywrapcp``) with a time dimension; a point that no route can
reach inside its window is dropped at a penalty (mandatory points at a penalty
larger than any amount of driving), and the caller says which and why.

Travel times form a matrix between every start and every point. With a road
network (GeoJSON lines carrying ``speed_kmh`` or ``road_class``; see
docs/formats/roads.md) a leg is the fastest path on the roads, plus the walk or
drive on or off the road at each end (straight line × detour factor at the
off-road speed). Without one, or when an end is too far from any road, a leg is
the geodesic distance × the detour factor at the driving speed.

Everything here is plain data in, plain data out: numbers and coordinates, no
store, so the solver is testable against brute force and benchmarkable.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incident.core.errors import UserError, ValidationErrors

if TYPE_CHECKING:
    import numpy as np

# Default speeds by road class (km/h) when a road carries no speed_kmh. Chinese
# design speeds for the classes (JTG B01-2014), rounded down for a loaded van.
ROAD_CLASS_SPEED_KMH = {
    "motorway": 90.0,
    "trunk": 70.0,
    "primary": 60.0,
    "secondary": 50.0,
    "tertiary": 40.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "service": 15.0,
    "track": 15.0,
}
DROP_MANDATORY = 10**10  # > any total of driving seconds: a mandatory point is dropped last
DROP_OTHER = 10**7  # > any realistic total of driving seconds (115 days)


@dataclass
class TravelSettings:
    detour_factor: float = 1.4  # road distance ÷ straight line
    speed_kmh: float = 40.0  # driving speed without a road network
    off_road_speed_kmh: float = 15.0  # from a road to a point (track, footpath)
    max_snap_m: float = 2000.0  # farther than this from every road: fall back to the straight line

    def check(self) -> None:
        if not self.detour_factor >= 1:
            raise UserError("errors.routes.detour_below_1", field="road_factor", factor=self.detour_factor)
        for name, value in (("--speed", self.speed_kmh), ("--off-road-speed", self.off_road_speed_kmh)):
            if not value > 0:
                raise UserError("errors.routes.speed", where=name, value=value)
        if not self.max_snap_m > 0:
            raise UserError("errors.routes.snap", field="max_snap", metres=self.max_snap_m)


# ---------------------------------------------------------------- the road network


@dataclass
class RoadNetwork:
    """Road vertices (lat, lon) and directed edges weighted in seconds."""

    source: str
    lat: np.ndarray
    lon: np.ndarray
    edge_from: np.ndarray
    edge_to: np.ndarray
    edge_s: np.ndarray
    n_roads: int

    @property
    def n_vertices(self) -> int:
        return len(self.lat)


def _speed_of(props: dict, where: str) -> float:
    speed = props.get("speed_kmh")
    if speed is not None:
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not speed > 0:
            raise UserError("errors.routes.bad_speed_kmh", where=f"{where}, speed_kmh", speed=repr(speed))
        return float(speed)
    cls = props.get("road_class")
    if cls is None:
        raise UserError("errors.routes.no_speed", where=where, classes=", ".join(ROAD_CLASS_SPEED_KMH))
    if cls not in ROAD_CLASS_SPEED_KMH:
        raise UserError(
            "errors.routes.unknown_class",
            where=f"{where}, road_class",
            road_class=repr(cls),
            classes=", ".join(ROAD_CLASS_SPEED_KMH),
        )
    return ROAD_CLASS_SPEED_KMH[cls]


def _lines_of(geom: object, where: str) -> list[list[Any]]:
    kind = geom.get("type") if isinstance(geom, dict) else None
    coords = geom.get("coordinates") if isinstance(geom, dict) else None
    lines: list[Any] | None
    if kind == "LineString":
        lines = [coords]
    elif kind == "MultiLineString":
        lines = coords if isinstance(coords, list) else None
    else:
        raise UserError("errors.routes.not_a_line", where=f"{where}, geometry", kind=repr(kind))
    if not isinstance(lines, list) or not all(isinstance(line, list) and len(line) >= 2 for line in lines):
        raise UserError("errors.routes.short_line", where=f"{where}, coordinates")
    for line in lines:
        for pos in line:
            ok = isinstance(pos, list) and len(pos) >= 2 and all(isinstance(v, (int, float)) for v in pos[:2])
            if not ok or not (-180 <= pos[0] <= 180 and -90 <= pos[1] <= 90):
                raise UserError("errors.routes.bad_position", where=f"{where}, coordinates", pos=repr(pos))
    return lines


def parse_roads(doc: object, source: str = "roads.geojson") -> RoadNetwork:
    """Build the road graph from a GeoJSON FeatureCollection of road lines (all problems at once).

    Roads connect where they share a vertex (same coordinates to 1e-6°); a road
    with ``"oneway": true`` is driven in the order of its coordinates only.
    """
    import numpy as np

    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise UserError("errors.routes.not_collection", where=source)
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise UserError("errors.routes.no_roads", where=f"{source}, features")
    index: dict[tuple[int, int], int] = {}
    lat: list[float] = []
    lon: list[float] = []
    e_from: list[int] = []
    e_to: list[int] = []
    e_s: list[float] = []
    problems: list[UserError] = []

    def vertex(pos: list) -> int:
        key = (round(pos[0] * 1e6), round(pos[1] * 1e6))
        if key not in index:
            index[key] = len(lat)
            lon.append(float(pos[0]))
            lat.append(float(pos[1]))
        return index[key]

    for n, feat in enumerate(features, start=1):
        props = (feat.get("properties") or {}) if isinstance(feat, dict) else {}
        where = f"{source}, feature {n}" + (f" ({props['name']})" if props.get("name") else "")
        try:
            if not isinstance(feat, dict):
                raise UserError("errors.routes.feature_not_object", where=where)
            speed = _speed_of(props, where)
            lines = _lines_of(feat.get("geometry"), where)
            oneway = props.get("oneway", False)
            if not isinstance(oneway, bool):
                raise UserError("errors.routes.oneway", where=f"{where}, oneway", oneway=repr(oneway))
        except UserError as exc:
            problems.append(exc)
            continue
        for line in lines:
            ids = [vertex(p) for p in line]
            for a, b in zip(ids, ids[1:], strict=False):
                if a == b:
                    continue
                m = _straight_m(lat[a], lon[a], lat[b], lon[b])
                seconds = m / (speed / 3.6)
                e_from.append(a)
                e_to.append(b)
                e_s.append(seconds)
                if not oneway:
                    e_from.append(b)
                    e_to.append(a)
                    e_s.append(seconds)
    if problems:
        raise ValidationErrors(source, problems, outcome="errors.outcome.road_network_unused")
    return RoadNetwork(
        source=source,
        lat=np.array(lat),
        lon=np.array(lon),
        edge_from=np.array(e_from, dtype=np.int64),
        edge_to=np.array(e_to, dtype=np.int64),
        edge_s=np.array(e_s),
        n_roads=len(features),
    )


def load_roads(path: str | Path) -> RoadNetwork:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError("errors.routes.unreadable", field="roads", path=str(p), reason=exc.strerror) from exc
    except json.JSONDecodeError as exc:
        raise UserError(
            "errors.routes.not_json", where=f"{p.name}, line {exc.lineno}", reason=exc.msg
        ) from exc
    return parse_roads(doc, p.name)


# ---------------------------------------------------------------- travel times


def _straight_m(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    from incident.core.rivers import geodesic_m

    return geodesic_m(lat0, lon0, lat1, lon1)


def _haversine_m(lat0, lon0, lat1, lon1):
    """Great-circle metres (vectorised; within 0.5 % of the geodesic — used only to snap to roads)."""
    import numpy as np

    r = 6_371_008.8
    p0, p1 = np.radians(lat0), np.radians(lat1)
    dp, dl = p1 - p0, np.radians(np.asarray(lon1) - np.asarray(lon0))
    a = np.sin(dp / 2) ** 2 + np.cos(p0) * np.cos(p1) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


@dataclass
class TravelMatrix:
    seconds: np.ndarray  # (n, n) whole seconds, row = from, column = to
    method: str  # how the legs were timed
    fallback_legs: int = 0  # legs timed by the straight line although a road network was given
    warnings: list[str] = field(default_factory=list)


def travel_matrix(
    places: list[tuple[float, float]], settings: TravelSettings, roads: RoadNetwork | None = None
) -> TravelMatrix:
    """Driving seconds between every pair of (lat, lon) places."""
    import numpy as np

    settings.check()
    n = len(places)
    straight = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            straight[i, j] = straight[j, i] = _straight_m(*places[i], *places[j])
    direct_s = straight * settings.detour_factor / (settings.speed_kmh / 3.6)
    if roads is None:
        method = f"geodesic distance × {settings.detour_factor:g} at {settings.speed_kmh:g} km/h"
        return TravelMatrix(np.rint(direct_s).astype(np.int64), method)

    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    lats = np.array([p[0] for p in places])
    lons = np.array([p[1] for p in places])
    snap = np.empty(n, dtype=np.int64)
    snap_m = np.empty(n)
    for i in range(n):
        d = _haversine_m(lats[i], lons[i], roads.lat, roads.lon)
        snap[i] = int(np.argmin(d))
        snap_m[i] = float(d[snap[i]])
    access_s = snap_m * settings.detour_factor / (settings.off_road_speed_kmh / 3.6)
    graph = coo_matrix(
        (roads.edge_s, (roads.edge_from, roads.edge_to)), shape=(roads.n_vertices, roads.n_vertices)
    ).tocsr()
    uniq, inverse = np.unique(snap, return_inverse=True)
    dist = dijkstra(graph, directed=True, indices=uniq)[:, snap]  # (unique snaps, n places)
    road_s = access_s[:, None] + dist[inverse] + access_s[None, :]
    near = snap_m <= settings.max_snap_m
    usable = near[:, None] & near[None, :] & np.isfinite(road_s)
    np.fill_diagonal(usable, True)
    seconds = np.where(usable, road_s, direct_s)
    np.fill_diagonal(seconds, 0.0)
    fallback = int((~usable).sum())
    warnings = []
    far = [i for i in range(n) if not near[i]]
    if far:
        warnings.append(
            f"{len(far)} place(s) lie more than {settings.max_snap_m:g} m from every road of {roads.source}: "
            f"their legs use the straight line × {settings.detour_factor:g} at {settings.speed_kmh:g} km/h"
        )
    elif fallback:
        warnings.append(
            f"{fallback} leg(s) have no road path in {roads.source} (disconnected roads): "
            "they use the straight line"
        )
    method = (
        f"fastest path on {roads.source} ({roads.n_roads} roads); off-road ends × {settings.detour_factor:g} "
        f"at {settings.off_road_speed_kmh:g} km/h"
    )
    return TravelMatrix(np.rint(seconds).astype(np.int64), method, fallback, warnings)


# ---------------------------------------------------------------- the solver


@dataclass
class RouteStop:
    key: str
    open_s: int  # the crew may arrive from this many seconds after now
    close_s: int  # ... until this many seconds after now
    service_s: int  # handling time on site
    mandatory: bool
    crews: list[int]  # indices of the crews allowed there (qualification, kit)


@dataclass
class RouteCrew:
    key: str
    ready_s: int = 0  # can leave this many seconds after now


@dataclass
class RouteProblem:
    """``travel_s`` is square over the crews' starts first, then the stops."""

    travel_s: np.ndarray
    crews: list[RouteCrew]
    stops: list[RouteStop]

    @property
    def horizon_s(self) -> int:
        last = max((s.close_s + s.service_s for s in self.stops), default=0)
        return int(last + 1)

    def check(self) -> None:
        n = len(self.crews) + len(self.stops)
        if self.travel_s.shape != (n, n):
            raise ValueError(f"travel matrix {self.travel_s.shape} is not {n}×{n}")
        for s in self.stops:
            if s.close_s < s.open_s or s.service_s < 0:
                raise ValueError(f"stop {s.key}: window {s.open_s}..{s.close_s}, service {s.service_s}")


@dataclass
class RouteSolution:
    routes: list[list[tuple[int, int]]]  # per crew: (stop index, arrival s after now) in visiting order
    dropped: list[int]  # stop indices no route reaches in their window
    travel_s: int  # total driving seconds of the routes
    status: str = ""
    finish_s: int = 0  # when the last crew leaves its last stop


def finish_s(problem: RouteProblem, routes: list[list[tuple[int, int]]]) -> int:
    """When the last crew leaves its last stop (seconds after now; 0 when nobody moves)."""
    ends = [r[-1][1] + problem.stops[r[-1][0]].service_s for r in routes if r]
    return max(ends, default=0)


def cost_of(problem: RouteProblem, routes: list[list[tuple[int, int]]]) -> tuple[int, int, int]:
    """(mandatory stops dropped, stops dropped, driving + finish time): what the solver minimises."""
    seen = {k for r in routes for k, _ in r}
    dropped = [k for k in range(len(problem.stops)) if k not in seen]
    mand = sum(1 for k in dropped if problem.stops[k].mandatory)
    driving = sum(route_travel_s(problem, v, [k for k, _ in r]) for v, r in enumerate(routes))
    return mand, len(dropped), driving + finish_s(problem, routes)


def _arrivals(problem: RouteProblem, crew: int, order: list[int]) -> list[int] | None:
    """Earliest arrival at each stop of ``order`` (waiting for a window to open), None if a window is missed."""
    t = problem.crews[crew].ready_s
    here = crew
    n_c = len(problem.crews)
    out = []
    for k in order:
        stop = problem.stops[k]
        if crew not in stop.crews:
            return None
        t = max(t + int(problem.travel_s[here, n_c + k]), stop.open_s)
        if t > stop.close_s:
            return None
        out.append(t)
        t += stop.service_s
        here = n_c + k
    return out


def route_travel_s(problem: RouteProblem, crew: int, order: list[int]) -> int:
    n_c = len(problem.crews)
    nodes = [crew, *(n_c + k for k in order)]
    return int(sum(int(problem.travel_s[a, b]) for a, b in zip(nodes, nodes[1:], strict=False)))


def solve_routes(problem: RouteProblem, *, search_s: float = 0.0, cap_s: float = 5.0) -> RouteSolution:
    """Routes covering as many stops as possible (mandatory first), then the least cost.

    The cost is the total driving plus the time until the last crew finishes its
    last stop (so one crew is not sent round every point while another idles).

    By default the first solution (parallel cheapest insertion) is improved by
    local search down to a local optimum (deterministic; ``cap_s`` bounds it).
    ``search_s`` > 0 continues with guided local search for that long.
    Open routes: a crew ends at its last stop. Waiting for a window to open is
    allowed. Arrival times are recomputed from the visiting order (earliest
    arrival), so every reported time is checked against its window here, not
    taken on trust from the solver.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    problem.check()
    n_c, n_s = len(problem.crews), len(problem.stops)
    if n_c == 0 or n_s == 0:
        return RouteSolution([[] for _ in range(n_c)], list(range(n_s)), 0, "nothing to route")
    end = n_c + n_s  # one dummy end node: routes are open
    travel = [[int(v) for v in row] for row in problem.travel_s]
    service = [0] * n_c + [s.service_s for s in problem.stops]
    manager = pywrapcp.RoutingIndexManager(n_c + n_s + 1, n_c, list(range(n_c)), [end] * n_c)
    routing = pywrapcp.RoutingModel(manager)

    def drive(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return 0 if b == end or a == end else travel[a][b]

    def busy(i: int, j: int) -> int:  # on site at the stop left, then driving (none to the end)
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        if a == end:
            return 0
        return service[a] + (0 if b == end else travel[a][b])

    drive_cb = routing.RegisterTransitCallback(drive)
    busy_cb = routing.RegisterTransitCallback(busy)
    routing.SetArcCostEvaluatorOfAllVehicles(drive_cb)
    horizon = problem.horizon_s
    routing.AddDimension(busy_cb, horizon, horizon, False, "time")
    time = routing.GetDimensionOrDie("time")
    # the round is done when the last crew has finished: that time counts as much as the driving
    time.SetGlobalSpanCostCoefficient(1)
    for v, crew in enumerate(problem.crews):
        time.CumulVar(routing.Start(v)).SetRange(crew.ready_s, crew.ready_s)
    for k, stop in enumerate(problem.stops):
        index = manager.NodeToIndex(n_c + k)
        time.CumulVar(index).SetRange(stop.open_s, stop.close_s)
        # -1 is "not visited": a stop nobody may go to can only be dropped
        routing.VehicleVar(index).SetValues([-1, *sorted(set(stop.crews))])
        routing.AddDisjunction([index], DROP_MANDATORY if stop.mandatory else DROP_OTHER)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    meta = routing_enums_pb2.LocalSearchMetaheuristic
    if search_s > 0:
        params.local_search_metaheuristic = meta.GUIDED_LOCAL_SEARCH
        params.time_limit.FromMilliseconds(max(1, int(search_s * 1000)))
    else:
        params.local_search_metaheuristic = meta.GREEDY_DESCENT
        params.time_limit.FromMilliseconds(int(cap_s * 1000))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return RouteSolution([[] for _ in range(n_c)], list(range(n_s)), 0, "no solution")
    orders: list[list[int]] = []
    for v in range(n_c):
        order = []
        index = routing.Start(v)
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            if node >= n_c:
                order.append(node - n_c)
            index = solution.Value(routing.NextVar(index))
        orders.append(order)
    routes: list[list[tuple[int, int]]] = []
    for v, order in enumerate(orders):
        times = _arrivals(problem, v, order)
        if times is None:  # never expected: the solver honours windows; refuse to report a wrong time
            raise RuntimeError(f"route of {problem.crews[v].key} misses a window: {order}")
        routes.append(list(zip(order, times, strict=True)))
    visited = {k for order in orders for k in order}
    dropped = [k for k in range(n_s) if k not in visited]
    total = sum(route_travel_s(problem, v, order) for v, order in enumerate(orders))
    return RouteSolution(routes, dropped, total, "solved", finish_s(problem, routes))


def direct_arrival_s(problem: RouteProblem, stop: int) -> tuple[int, int] | None:
    """(crew, earliest arrival) of the allowed crew that could get to ``stop`` soonest on its own."""
    n_c = len(problem.crews)
    best = None
    for c in problem.stops[stop].crews:
        t = problem.crews[c].ready_s + int(problem.travel_s[c, n_c + stop])
        if best is None or t < best[1]:
            best = (c, t)
    return best


def round_up_min(seconds: float) -> int:
    return int(math.ceil(seconds / 60.0))
