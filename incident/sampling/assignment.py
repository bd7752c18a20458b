"""Who goes where: a route of ordered stops per crew, so every point is reached in time.

Each crew leaves from where it is now (the point of its latest sample in this
incident, or where it checked in, else its home base) and visits points in
turn, spending the handling time at each (HJ/T 91 verticals × depths). Every
point has an arrival window from the stored forecast of the plan:

- round 1 (the first pass): from now until the plume's earliest arrival there
  (the ensemble's P10 leading edge when stored, else the forecast leading
  edge) minus a margin. Where the plume gets there before any crew possibly
  can — its earliest arrival is before the notification (alert) time plus the
  fastest travel from any crew's position, ready or not — the point is "in
  plume on arrival": the crew samples it while the plume passes, before its
  trailing edge, and the plan says why (``PlumeFirst``). A point the plume
  reached only because the plan was made late gets the same window with that
  reason instead;
- a later round: the round time ± a tolerance (HJ 589 §7.1.2.1: one time for
  every section);
- a point the plume does not reach: any time within the operational period.

Routes are solved in ``routing`` (OR-Tools, time windows); points no route can
reach in time are reported with the reason and what would fix it: one more
crew, or a later round.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, fmt_local, incident_now, utcnow
from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.incidents import get_incident, refuse_if_ended
from incident.core.rivers import geodesic_m
from incident.core.store.tables import (
    Assignment,
    CheckIn,
    Incident,
    Sample,
    SamplingPoint,
    SamplingRound,
    row_id,
)
from incident.sampling.crews import (
    CrewCheck,
    CrewInfo,
    KitCheck,
    default_crew_check,
    eligibility,
    list_crews,
    set_status,
)
from incident.sampling.ics_forms import SIGNATURE_LINE, Ics204Form, ics204_form
from incident.sampling.layout import ProposedPoint, forecast_label
from incident.sampling.plans import plan_view
from incident.sampling.routing import (
    RoadNetwork,
    RouteCrew,
    RouteProblem,
    RouteStop,
    TravelSettings,
    direct_arrival_s,
    load_roads,
    solve_routes,
    travel_matrix,
)

#: the window kinds in English (the catalogs hold them as ``assign_window.<kind>`` in en and zh)
WINDOW_KINDS = {
    "before_arrival": "before the plume's earliest arrival",
    "in_plume": "in plume on arrival — sample while the plume passes (window: before the trailing edge)",
    "after_plume": "the plume has passed: any time in the period",
    "no_plume": "the plume is not forecast there: any time in the period",
    "round": "at the round time ± tolerance",
}


@dataclass
class AssignSettings:
    road_factor: float = 1.4  # road distance ÷ straight line
    speed_kmh: float = 40.0  # driving speed without a road network
    off_road_speed_kmh: float = 15.0  # from the nearest road to a point
    roads: str | None = None  # road-network GeoJSON (docs/formats/roads.md)
    margin_min: float = 30.0  # be on site this long before the plume's earliest arrival
    handling_min: float = 15.0  # on site per point: one sample, labels, field test
    per_sample_min: float = 5.0  # each further vertical or depth at the point
    tolerance_min: float = 30.0  # later rounds: arrive within the round time ± this
    round_no: int | None = None  # None or 1: the first pass; N: stored round N
    include_assigned: bool = False  # also re-plan crews already Assigned
    period_h: float = 12.0  # points the plume does not reach: within this operational period
    search_s: float = 1.0  # guided local search for this long (0: stop at the first local optimum)

    def travel(self) -> TravelSettings:
        return TravelSettings(
            detour_factor=self.road_factor,
            speed_kmh=self.speed_kmh,
            off_road_speed_kmh=self.off_road_speed_kmh,
        )

    def check(self) -> None:
        self.travel().check()
        if not self.period_h > 0:
            raise UserError("errors.sampling.period_h", field="period", period_h=self.period_h)
        for name, value in (
            ("--margin", self.margin_min),
            ("--handling", self.handling_min),
            ("--per-sample", self.per_sample_min),
            ("--tolerance", self.tolerance_min),
            ("--search-seconds", self.search_s),
        ):
            if not value >= 0:
                raise UserError("errors.dispatch.negative", where=name, name=name, value=value)
        if self.round_no is not None and self.round_no < 1:
            raise UserError("errors.dispatch.round_below_1", field="round", n=self.round_no)


def travel_minutes(
    from_latlon: tuple[float, float], to_latlon: tuple[float, float], road_factor: float, speed_kmh: float
) -> float:
    """Geodesic km × road factor ÷ speed, in minutes (the fallback without a road network)."""
    km = geodesic_m(*from_latlon, *to_latlon) / 1000
    return km * road_factor / speed_kmh * 60


# ---------------------------------------------------------------- the incident's routes


@dataclass
class AssignmentLine:
    """One stop of a crew's route (an ICS 204 work assignment)."""

    crew: str
    crew_id: int
    leader: str
    leader_phone: str
    headcount: int
    point: str
    point_id: int | None
    point_name: str
    reach_id: str
    km: float
    lat: float
    lon: float
    mandatory: bool
    requires: str | None
    travel_min: float  # the leg from the previous stop (or the start)
    eta: datetime  # arrival
    required_by: datetime | None  # the window closes
    slack_min: float | None  # window close − arrival; None: no plume deadline
    lateness_min: float
    instructions: str
    stop: int = 1
    window_open: datetime | None = None
    window_kind: str = "before_arrival"
    handling_min: float = 0.0
    from_place: str = ""
    window_reason: str | None = None  # why the window is what it is (in_plume: the physics, or a late plan)
    plume_at: datetime | None = None  # the plume's earliest arrival (P10 when stored)
    earliest_crew_at: datetime | None = None  # alert + the fastest travel from any crew's position

    @property
    def departs(self) -> datetime:
        return self.eta + timedelta(minutes=self.handling_min)


@dataclass
class UnmetPoint:
    point: str
    point_name: str
    mandatory: bool
    required_by: datetime | None
    reasons: list[str]
    fixes: list[str] = field(default_factory=list)
    window_open: datetime | None = None


@dataclass
class PlumeFirst:
    """When the plume and the first possible crew can be at a point (round 1)."""

    plume_at: datetime | None  # release + the earliest arrival (P10 when stored); None: not forecast there
    crew_at: datetime | None  # alert + the fastest travel from any crew's position; None: no crew
    crew: str | None = None  # the crew that could be there first
    place: str | None = None  # where it starts

    @property
    def unreachable(self) -> bool:
        """The plume is there before any crew possibly can be: no plan can beat it."""
        return self.plume_at is not None and (self.crew_at is None or self.plume_at < self.crew_at)


@dataclass
class CrewStart:
    crew: str
    place: str
    lat: float
    lon: float


@dataclass
class AssignmentPlan:
    code: str
    is_exercise: bool
    revision: int
    computed_at: datetime
    settings: AssignSettings
    lines: list[AssignmentLine]  # every stop of every route, by crew then stop order
    unmet: list[UnmetPoint]
    idle: list[tuple[str, str]]  # (crew, why not used)
    objective: tuple[int, int, int, int]  # (mandatory unmet, other unmet, 0, driving s)
    later: list[UnmetPoint] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    starts: list[CrewStart] = field(default_factory=list)
    round_no: int = 1
    round_at: datetime | None = None
    travel_method: str = ""
    incident_title: str = ""
    form: Ics204Form | None = None  # ICS 204's header and sign-off blocks (see ics204_sign)

    @property
    def total_lateness_min(self) -> float:
        return sum(line.lateness_min for line in self.lines)

    @property
    def routes(self) -> dict[str, list[AssignmentLine]]:
        out: dict[str, list[AssignmentLine]] = {}
        for line in self.lines:
            out.setdefault(line.crew, []).append(line)
        return out


def _instructions(p: ProposedPoint, release: datetime) -> str:
    parts = [f"{p.verticals} vertical(s) × {p.points_per_vertical} depth(s)"]
    if p.arrival_h is not None:
        parts.append(f"plume leading edge {fmt_local(release + timedelta(hours=p.arrival_h))}")
    if p.peak_h is not None:
        parts.append(f"peak {fmt_local(release + timedelta(hours=p.peak_h))}")
    if p.mandatory:
        parts.append("MANDATORY receptor")
    return "; ".join(parts)


ROUTINE_MUST = ("upstream_control", "downstream_control", "attenuation")


def must_cover(p: ProposedPoint) -> bool:
    """Routed as mandatory: receptors, the control section and the near-source sections."""
    return p.mandatory or p.role in ROUTINE_MUST


def earliest_arrival_h(p: ProposedPoint, forecast: dict) -> float | None:
    """The plume's earliest arrival (hours after the release): P10 of the ensemble when stored."""
    p10 = (forecast.get("earliest_h") or {}).get(forecast_label(p))
    values = [v for v in (p.arrival_h, p10) if v is not None and math.isfinite(v)]
    return min(values) if values else None


def crew_start(session: Session, inc: Incident, crew: CrewInfo) -> CrewStart:
    """Where the crew is now: its latest sample's point, or where it checked in, else its home base."""
    best: tuple[datetime, CrewStart] | None = None
    names = [m.name for m in crew.members]
    if names:
        row = session.exec(
            select(Sample, SamplingPoint)
            .join(SamplingPoint, col(SamplingPoint.id) == col(Sample.point_id))
            .where(Sample.incident_id == inc.id, col(Sample.sampler).in_(names))
            .order_by(col(Sample.sampled_at).desc())
        ).first()
        if row is not None:
            sample, point = row
            best = (
                as_utc(sample.sampled_at),
                CrewStart(crew.name, f"{point.number} (sampled)", point.lat, point.lon),
            )
    ci = session.exec(
        select(CheckIn)
        .where(CheckIn.crew_id == crew.id, CheckIn.incident_id == inc.id, col(CheckIn.lat).is_not(None))
        .order_by(col(CheckIn.at).desc())
    ).first()
    if ci is not None and (best is None or as_utc(ci.at) > best[0]):
        best = (as_utc(ci.at), CrewStart(crew.name, ci.departure_point or "check-in", ci.lat, ci.lon))  # type: ignore[arg-type]
    if best is not None:
        return best[1]
    return CrewStart(crew.name, crew.base_name or "home base", crew.base_lat, crew.base_lon)


def _hm(t: datetime) -> str:
    return fmt_local(t, with_date=False)


def plume_first(
    session: Session,
    inc: Incident,
    targets: list[ProposedPoint],
    forecast: dict,
    release: datetime,
    crews: list[CrewInfo],
    settings: AssignSettings,
    roads: RoadNetwork | None = None,
) -> list[PlumeFirst]:
    """Per point: the plume's earliest arrival, and the earliest any crew could possibly be there.

    The earliest crew arrival is the notification (the incident's alert time) plus the fastest
    travel (the same travel model as the routes) from any crew's position, counting every crew of
    the roster whatever its status or readiness: a point is excepted from "before the plume" only
    when no crew at all could have beaten the plume there.
    """
    alert = as_utc(inc.alert_at)
    out: list[PlumeFirst] = []
    starts = [crew_start(session, inc, c) for c in crews]
    seconds = None
    if starts and targets:
        places = [(s.lat, s.lon) for s in starts] + [(p.lat, p.lon) for p in targets]
        seconds = travel_matrix(places, settings.travel(), roads).seconds
    n = len(starts)
    for k, p in enumerate(targets):
        lead = earliest_arrival_h(p, forecast)
        plume_at = release + timedelta(hours=lead) if lead is not None else None
        if seconds is None:
            out.append(PlumeFirst(plume_at, None))
            continue
        legs = [float(seconds[i, n + k]) for i in range(n)]
        i = min(range(n), key=legs.__getitem__)
        out.append(PlumeFirst(plume_at, alert + timedelta(seconds=legs[i]), starts[i].crew, starts[i].place))
    return out


def _windows(
    session: Session,
    inc: Incident,
    targets: list[ProposedPoint],
    forecast: dict,
    release: datetime,
    now: datetime,
    settings: AssignSettings,
    first: list[PlumeFirst] | None = None,
) -> tuple[list[tuple[datetime, datetime, str]], datetime | None, list[str | None]]:
    """(open, close, kind) per point, the round time of a later round, and why each window is so."""
    period_end = now + timedelta(hours=settings.period_h)
    if settings.round_no and settings.round_no > 1:
        row = session.exec(
            select(SamplingRound).where(
                SamplingRound.incident_id == inc.id, SamplingRound.number == settings.round_no
            )
        ).first()
        if row is None or row.status == "cancelled":
            raise UserError("errors.dispatch.no_round", field="round", n=settings.round_no, code=inc.code)
        at = as_utc(row.planned_at)
        tol = timedelta(minutes=settings.tolerance_min)
        if at + tol < now:
            raise UserError(
                "errors.dispatch.round_past", field="round", n=settings.round_no, at=fmt_local(at)
            )
        return [(max(now, at - tol), at + tol, "round") for _ in targets], at, [None for _ in targets]
    out: list[tuple[datetime, datetime, str]] = []
    why: list[str | None] = []
    for k, p in enumerate(targets):
        lead = earliest_arrival_h(p, forecast)
        if lead is None:
            out.append((now, period_end, "no_plume"))
            why.append(None)
            continue
        plume_at = release + timedelta(hours=lead)
        deadline = plume_at - timedelta(minutes=settings.margin_min)
        trailing = release + timedelta(hours=p.trailing_h) if p.trailing_h is not None else None
        pf = first[k] if first else None
        if pf is not None and pf.unreachable and (trailing is None or trailing > now):
            crew_txt = (
                t(
                    "assign_window.crew_first",
                    alert=_hm(as_utc(inc.alert_at)),
                    crew=pf.crew,
                    place=pf.place,
                    at=_hm(pf.crew_at),
                )
                if pf.crew_at is not None
                else t("assign_window.no_crew")
            )
            why.append(
                t("assign_window.physics", plume=_hm(plume_at), crew=crew_txt)
                + (t("assign_window.before_trailing", trailing=_hm(trailing)) if trailing is not None else "")
            )
            out.append((now, trailing or period_end, "in_plume"))
        elif deadline > now:
            out.append((now, deadline, "before_arrival"))
            why.append(None)
        elif trailing is not None and trailing > now:
            out.append((now, trailing, "in_plume"))
            why.append(
                t("assign_window.late", plume=_hm(plume_at), now=_hm(now))
                + t("assign_window.before_trailing", trailing=_hm(trailing))
            )
        else:
            out.append((now, period_end, "after_plume"))
            why.append(None)
    return out, None, why


def roster_crews(session: Session, inc: Incident, *, on: date | None = None) -> list[CrewInfo]:
    """The crews that may work this incident: an exercise's own roster, else the real crews."""
    return list_crews(session, on=on, code=inc.code, roster=inc.id if inc.is_exercise else None)


def plan_assignment(
    session: Session,
    code: str,
    *,
    settings: AssignSettings | None = None,
    kit_check: KitCheck | None = None,
    now: datetime | None = None,
    on: date | None = None,
    points: list[str] | None = None,
    crew_check: CrewCheck | None = None,
) -> AssignmentPlan:
    """Compute (not save) each crew's route over the plan's active points.

    With the default checks (``kit_check`` None) crews that are NOT READY are
    not routed (``incident.readiness.dispatch_refusals``); a ``kit_check`` given
    explicitly (e.g. ``skip_kit_check``) is used alone unless ``crew_check`` is given too.
    """
    if kit_check is None and crew_check is None:
        crew_check = default_crew_check()
    settings = settings or AssignSettings()
    settings.check()
    roads = load_roads(settings.roads) if settings.roads else None
    inc = get_incident(session, code)
    view = plan_view(session, code)
    now = as_utc(now or incident_now(inc))
    release = as_utc(inc.release_start or inc.alert_at)
    if view.forecast.get("release_start"):
        release = as_utc(datetime.fromisoformat(view.forecast["release_start"]))
    targets = view.active_points
    if points:
        known = {p.number for p in targets}
        bad = [n for n in points if n not in known]
        if bad:
            raise UserError(
                "errors.sampling.not_active_points_plan",
                field="points",
                value=", ".join(bad),
                value2=", ".join(sorted(known)),
            )
        targets = [p for p in targets if p.number in points]
    crews_all = roster_crews(session, inc, on=on)
    first = (
        plume_first(session, inc, targets, view.forecast, release, crews_all, settings, roads)
        if not (settings.round_no and settings.round_no > 1)
        else None
    )
    windows, round_at, why_window = _windows(
        session, inc, targets, view.forecast, release, now, settings, first
    )

    wanted = ("available", "assigned") if settings.include_assigned else ("available",)
    crews = [c for c in crews_all if c.status in wanted]
    idle = [(c.name, f"status {c.status}") for c in crews_all if c.status not in wanted]
    reasons: dict[tuple[int, str | None], list[str]] = {}
    for c in crews:
        for q in {p.required_qualification for p in targets}:
            reasons[(c.id, q)] = eligibility(session, c, q, on=on, kit_check=kit_check, crew_check=crew_check)
    starts = [crew_start(session, inc, c) for c in crews]
    places = [(s.lat, s.lon) for s in starts] + [(p.lat, p.lon) for p in targets]
    matrix = travel_matrix(places, settings.travel(), roads)

    def secs(t: datetime) -> int:
        return int(math.floor((t - now).total_seconds()))

    stops = []
    for p, (w_open, w_close, _kind) in zip(targets, windows, strict=True):
        extra = max(0, p.verticals * p.points_per_vertical - 1)
        stops.append(
            RouteStop(
                key=p.number,
                open_s=max(0, secs(w_open)),
                close_s=max(0, secs(w_close)),
                service_s=int(round((settings.handling_min + extra * settings.per_sample_min) * 60)),
                mandatory=must_cover(p),
                crews=[i for i, c in enumerate(crews) if not reasons[(c.id, p.required_qualification)]],
            )
        )
    problem = RouteProblem(matrix.seconds, [RouteCrew(c.name) for c in crews], stops)
    sol = solve_routes(problem, search_s=settings.search_s)

    lines: list[AssignmentLine] = []
    n_c = len(crews)
    for i, route in enumerate(sol.routes):
        c, here = crews[i], i
        for order, (k, arrive_s) in enumerate(route, start=1):
            p, (w_open, w_close, kind) = targets[k], windows[k]
            eta = now + timedelta(seconds=arrive_s)
            lines.append(
                AssignmentLine(
                    crew=c.name,
                    crew_id=c.id,
                    leader=c.leader,
                    leader_phone=c.leader_phone,
                    headcount=c.headcount,
                    point=p.number,
                    point_id=p.id,
                    point_name=p.name,
                    reach_id=p.reach_id,
                    km=p.km,
                    lat=p.lat,
                    lon=p.lon,
                    mandatory=p.mandatory,
                    requires=p.required_qualification,
                    travel_min=int(matrix.seconds[here, n_c + k]) / 60,
                    eta=eta,
                    required_by=w_close if kind in ("before_arrival", "in_plume", "round") else None,
                    slack_min=(w_close - eta).total_seconds() / 60
                    if kind in ("before_arrival", "in_plume", "round")
                    else None,
                    lateness_min=0.0,
                    instructions=_instructions(p, release)
                    + ("; " + t("assign_window.in_plume").upper() if kind == "in_plume" else ""),
                    stop=order,
                    window_open=w_open,
                    window_kind=kind,
                    handling_min=stops[k].service_s / 60,
                    from_place=starts[i].place if order == 1 else targets[route[order - 2][0]].number,
                    window_reason=why_window[k],
                    plume_at=first[k].plume_at if first else None,
                    earliest_crew_at=first[k].crew_at if first else None,
                )
            )
            here = n_c + k
    used = {line.crew for line in lines}
    for i, c in enumerate(crews):
        if c.name in used:
            continue
        if any(i in stop.crews for stop in stops):
            idle.append((c.name, "not needed by the routes"))
        else:
            sets = [set(reasons[(c.id, q)]) for q in {p.required_qualification for p in targets}]
            why = set.intersection(*sets) or set.union(*sets) if sets else set()
            idle.append((c.name, "; ".join(sorted(why)) or "no point to go to"))
    unmet = [
        _unmet(problem, k, targets[k], windows[k], crews, starts, reasons, now, settings) for k in sol.dropped
    ]
    warnings = list(matrix.warnings)
    first_by_point = {p.number: pf for p, pf in zip(targets, first or [], strict=False)}
    for line in lines:
        if line.window_kind != "in_plume":
            continue
        physics = first is not None and first_by_point[line.point].unreachable
        warnings.append(
            t(
                "assign_window.warn_physics" if physics else "assign_window.warn_late",
                point=line.point,
                crew=line.crew,
                eta=_hm(line.eta),
            )
            + (t("assign_window.before_trailing", trailing=_hm(line.required_by)) if line.required_by else "")
        )
    mand_unmet = sum(1 for k in sol.dropped if stops[k].mandatory)
    plan = AssignmentPlan(
        code=inc.code,
        is_exercise=inc.is_exercise,
        revision=view.revision.revision,
        computed_at=now,
        settings=settings,
        lines=lines,
        unmet=unmet,
        idle=idle,
        objective=(mand_unmet, len(sol.dropped) - mand_unmet, 0, sol.travel_s),
        warnings=warnings,
        starts=starts,
        round_no=settings.round_no or 1,
        round_at=round_at,
        travel_method=matrix.method,
        incident_title=inc.title,
    )
    return ics204_sign(session, plan)


def ics204_sign(
    session: Session,
    plan: AssignmentPlan,
    *,
    prepared_by: str = "",
    position: str = "",
    approved_by: str = "",
    operations_chief: str = "",
    branch: str = "",
    division: str = "",
    group: str = "",
    comms_method: str = "mobile phone",
    safety: str = "",
) -> AssignmentPlan:
    """Fill the plan's ICS 204 blocks (incident, operational period, personnel, communications,
    safety message, prepared/approved by) from the incident and the roster; arguments override."""
    inc = get_incident(session, plan.code)
    crews = [(crew, r[0].leader, r[0].leader_phone, r[0].headcount) for crew, r in plan.routes.items()]
    plan.form = ics204_form(
        session,
        inc,
        computed_at=plan.computed_at,
        period_h=plan.settings.period_h,
        crews=crews,
        prepared_by=prepared_by,
        position=position,
        approved_by=approved_by,
        operations_chief=operations_chief,
        branch=branch,
        division=division,
        group=group,
        comms_method=comms_method,
        safety=safety,
    )
    return plan


def _unmet(
    problem: RouteProblem,
    k: int,
    p: ProposedPoint,
    window: tuple[datetime, datetime, str],
    crews: list[CrewInfo],
    starts: list[CrewStart],
    reasons: dict[tuple[int, str | None], list[str]],
    now: datetime,
    settings: AssignSettings,
) -> UnmetPoint:
    """Why nobody reaches the point in its window, and what would fix it."""
    w_open, w_close, kind = window
    why = [
        f"{c.name}: {'; '.join(reasons[(c.id, p.required_qualification)])}"
        for c in crews
        if reasons[(c.id, p.required_qualification)]
    ]
    fixes = []
    best = direct_arrival_s(problem, k)
    if not crews:
        why.append("no crew is available")
    if best is None:
        need = p.required_qualification or "water_sampling"
        fixes.append(f"one more crew: one holding a valid {need} certificate, with a ready kit")
    else:
        crew_i, arrive_s = best
        arrive = now + timedelta(seconds=arrive_s)
        if arrive <= w_close:
            why.append(
                "every eligible crew's route is full: none can also be there by "
                + fmt_local(w_close, with_date=False)
            )
            fixes.append(
                f"one more crew: a crew leaving {starts[crew_i].place} now would arrive "
                f"{fmt_local(arrive, with_date=False)} (window closes {fmt_local(w_close, with_date=False)})"
            )
        else:
            why.append(
                f"the nearest eligible crew ({crews[crew_i].name}) cannot be there before "
                f"{fmt_local(arrive, with_date=False)}; the window closes {fmt_local(w_close, with_date=False)}"
            )
            later = arrive + timedelta(minutes=settings.tolerance_min if kind == "round" else 0)
            fixes.append(
                f"a later round: at {fmt_local(later, with_date=False)} or after, a crew can be there"
            )
    return UnmetPoint(p.number, p.name, must_cover(p), w_close, why, fixes, w_open)


def routes_json(plan: AssignmentPlan) -> dict:
    """Each crew's route as ordered stops, each with its arrival time and window (``assign --json``)."""
    starts = {s.crew: s for s in plan.starts}
    routes = []
    for crew, route in plan.routes.items():
        st = starts.get(crew)
        routes.append(
            {
                "crew": crew,
                "leader": route[0].leader,
                "phone": route[0].leader_phone,
                "headcount": route[0].headcount,
                "start": {"place": st.place, "lat": st.lat, "lon": st.lon} if st else None,
                "stops": [
                    {
                        "stop": x.stop,
                        "point": x.point,
                        "name": x.point_name,
                        "lat": x.lat,
                        "lon": x.lon,
                        "from": x.from_place,
                        "travel_min": round(x.travel_min, 1),
                        "arrival": x.eta,
                        "window": {
                            "open": x.window_open,
                            "close": x.required_by,
                            "kind": x.window_kind,
                            "label": t(f"assign_window.{x.window_kind}"),
                            "reason": x.window_reason,
                        },
                        "plume_earliest": x.plume_at,
                        "earliest_crew_possible": x.earliest_crew_at,
                        "handling_min": round(x.handling_min, 1),
                        "departs": x.departs,
                        "slack_min": None if x.slack_min is None else round(x.slack_min, 1),
                        "mandatory": x.mandatory,
                        "requires": x.requires,
                    }
                    for x in route
                ],
            }
        )
    return {
        "incident": plan.code,
        "exercise": plan.is_exercise,
        "plan_revision": plan.revision,
        "round": plan.round_no,
        "round_at": plan.round_at,
        "computed_at": plan.computed_at,
        "travel": plan.travel_method,
        "ics204": plan.form.as_dict() if plan.form else None,
        "routes": routes,
        "unmet": [
            {
                "point": u.point,
                "name": u.point_name,
                "mandatory": u.mandatory,
                "window": {"open": u.window_open, "close": u.required_by},
                "reasons": u.reasons,
                "fixes": u.fixes,
            }
            for u in plan.unmet
        ],
        "idle": [{"crew": c, "why": why} for c, why in plan.idle],
        "warnings": plan.warnings,
    }


def dispatch(
    session: Session,
    plan: AssignmentPlan,
    *,
    actor: str,
    override: str | None = None,
    lead: str | None = None,
    crew_check: CrewCheck | None = None,
) -> list[Assignment]:
    """Save the routes (one ICS 204 line per stop) and set each routed crew Assigned.

    The readiness gate: dispatch is refused, with every reason, when a routed
    crew is NOT READY or its kit is out, expired, uncalibrated or short of
    consumables. A team lead (a responder whose role is team_lead) may override
    with a reason; the override, who gave it and what it overrode are logged.
    """
    refuse_if_ended(get_incident(session, plan.code), "dispatch")
    refusals = _gate(session, plan, crew_check or default_crew_check())
    override_text = _check_override(session, refusals, override, lead)
    inc = get_incident(session, plan.code)
    query = select(SamplingRound).where(
        SamplingRound.incident_id == inc.id, SamplingRound.status == "planned"
    )
    if plan.round_no > 1:
        the_round = session.exec(query.where(SamplingRound.number == plan.round_no)).first()
    else:
        the_round = session.exec(
            query.where(SamplingRound.planned_at >= plan.computed_at).order_by(col(SamplingRound.planned_at))
        ).first()
    rows = []
    created = utcnow()
    for line in plan.lines:
        if line.point_id is None:
            raise UserError("errors.sampling.point_not_stored", point=line.point)
        row = Assignment(
            incident_id=row_id(inc),
            crew_id=line.crew_id,
            point_id=line.point_id,
            round_id=the_round.id if the_round else None,
            created_at=created,
            created_by=actor,
            eta=line.eta,
            required_by=line.required_by or line.eta,
            slack_min=line.slack_min if line.slack_min is not None else 0.0,
            stop=line.stop,
            window_open=line.window_open,
            override_reason=override_text if line.crew in refusals else None,
        )
        session.add(row)
        rows.append(row)
    for crew, route in plan.routes.items():
        path = " → ".join(x.point for x in route)
        set_status(session, route[0].crew_id, "assigned", actor=actor, code=inc.code, note=f"route {path}")
        if not inc.is_exercise:  # the kit goes out with the crew: readiness counts it as deployed
            _check_out_kit(session, inc, route[0].crew_id, actor, override_text if crew in refusals else None)
    session.flush()
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="crew.assigned",
        incident_id=inc.id,
        summary=f"ICS 204: {len(plan.routes)} crew route(s), {len(plan.lines)} stop(s), round {plan.round_no}"
        + (f"; UNMET: {', '.join(u.point for u in plan.unmet)}" if plan.unmet else ""),
        payload={
            "routes": {
                crew: [
                    {
                        "stop": x.stop,
                        "point": x.point,
                        "eta": x.eta,
                        "window_open": x.window_open,
                        "required_by": x.required_by,
                        "slack_min": x.slack_min,
                    }
                    for x in route
                ]
                for crew, route in plan.routes.items()
            },  # fmt: skip
            "unmet": [u.point for u in plan.unmet],
            "round": plan.round_no,
            "travel": plan.travel_method,
            "margin_min": plan.settings.margin_min,
            "handling_min": plan.settings.handling_min,
        },
    )
    if refusals:
        log.append(
            session,
            chain=log.incident_chain(inc.code),
            actor=actor,
            kind="dispatch.override",
            incident_id=inc.id,
            summary=f"Readiness OVERRIDDEN by team lead {lead} for {', '.join(sorted(refusals))}: {override}",
            payload={"lead": lead, "reason": override, "refusals": refusals},
        )
    return rows


def _check_out_kit(session: Session, inc: Incident, crew_id: int, actor: str, override: str | None) -> None:
    from incident.core.store.tables import Checkout, Crew, Kit
    from incident.readiness import check_out

    crew = session.get(Crew, crew_id)
    if crew is None or crew.kit_id is None:
        return
    out = session.exec(
        select(Checkout).where(Checkout.kit_id == crew.kit_id, col(Checkout.in_at).is_(None))
    ).first()
    if out is not None and out.crew_id == crew_id:
        return  # already out with this crew
    kit = session.get(Kit, crew.kit_id)
    check_out(session, kit.name, crew=crew.name, actor=actor, incident=inc.code, override=override)  # type: ignore[union-attr]


def _gate(session: Session, plan: AssignmentPlan, crew_check: CrewCheck) -> dict[str, list[str]]:
    """Routed crew -> why it may not go (only crews with a refusal)."""
    out = {}
    for crew, route in plan.routes.items():
        why = crew_check(session, route[0].crew_id)
        if why:
            out[crew] = list(why)
    return out


def _check_override(
    session: Session, refusals: dict[str, list[str]], override: str | None, lead: str | None
) -> str | None:
    from incident.core.store.tables import Responder

    if not refusals:
        return None
    listed = "; ".join(f"{crew}: {', '.join(why)}" for crew, why in sorted(refusals.items()))
    if override is None:
        raise UserError("errors.dispatch.not_ready", where="dispatch", listed=listed)
    if not override.strip():
        raise UserError("errors.dispatch.empty_override", field="override")
    if not lead or not lead.strip():
        raise UserError("errors.dispatch.no_lead", field="lead")
    person = session.exec(select(Responder).where(Responder.name == lead.strip())).first()
    if person is None or person.role != "team_lead":
        leads = session.exec(select(Responder.name).where(Responder.role == "team_lead")).all()
        raise UserError(
            "errors.dispatch.not_a_lead",
            field="lead",
            lead=repr(lead),
            leads=", ".join(sorted(leads)) or "-",
        )
    return f"{person.name}: {override.strip()}"


def current_assignments(session: Session, code: str) -> dict[str, tuple[str, float | None, datetime]]:
    """Crew name -> (next point of its route, slack min or None without a deadline, ETA)."""
    from incident.core.store.tables import Crew

    inc = get_incident(session, code)
    rows = session.exec(
        select(Assignment, Crew, SamplingPoint)
        .where(Assignment.incident_id == inc.id, col(Assignment.status).in_(("assigned", "on_site")))
        .join(Crew, col(Crew.id) == col(Assignment.crew_id))
        .join(SamplingPoint, col(SamplingPoint.id) == col(Assignment.point_id))
        .order_by(col(Assignment.created_at), col(Assignment.stop))
    ).all()
    latest: dict[str, datetime] = {}
    for a, crew, _ in rows:
        latest[crew.name] = max(latest.get(crew.name, as_utc(a.created_at)), as_utc(a.created_at))
    out: dict[str, tuple[str, float | None, datetime]] = {}
    for a, crew, point in rows:
        if crew.status != "assigned" or crew.name in out or as_utc(a.created_at) != latest[crew.name]:
            continue
        slack = None if point.arrival_h is None else a.slack_min  # no deadline: the plume never gets there
        out[crew.name] = (point.number, slack, as_utc(a.eta))
    return out


# ---------------------------------------------------------------- ICS 204 output

CSV_COLUMNS = [
    "crew",
    "stop",
    "leader",
    "phone",
    "headcount",
    "point",
    "point_name",
    "reach",
    "km",
    "lat",
    "lon",
    "requires",
    "travel_min",
    "eta_local",
    "window_open_local",
    "required_by_local",
    "slack_min",
    "lateness_min",
    "instructions",
    "comms_method",
]
#: ICS 204's form blocks, repeated on every row so that each line stands on its own
FORM_COLUMNS = [
    "incident_name",
    "period_from_local",
    "period_to_local",
    "branch",
    "division",
    "group",
    "operations_chief",
    "safety_message",
    "prepared_by",
    "prepared_position",
    "prepared_at_local",
    "approved_by",
]


def _form_cells(form: Ics204Form | None) -> list[str]:
    if form is None:
        return [""] * len(FORM_COLUMNS)
    return [
        form.incident_name,
        fmt_local(form.period_from),
        fmt_local(form.period_to),
        form.branch,
        form.division,
        form.group,
        form.operations_chief,
        form.safety_message,
        form.prepared_by,
        form.prepared_position,
        fmt_local(form.prepared_at) if form.prepared_at else "",
        form.approved_by,
    ]


def _slack_text(slack: float | None) -> str:
    if slack is None:
        return "no deadline"
    return f"{slack:+.0f} min" + ("  LATE" if slack < 0 else "")


def ics204_csv(plan: AssignmentPlan) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if plan.is_exercise:
        w.writerow([f"EXERCISE — {plan.code} — not a real incident"])
    w.writerow(CSV_COLUMNS + FORM_COLUMNS)
    form_cells = _form_cells(plan.form)
    method = plan.form.communications[0][2] if plan.form and plan.form.communications else ""
    for x in plan.lines:
        w.writerow(
            [
                x.crew,
                x.stop,
                x.leader,
                x.leader_phone,
                x.headcount,
                x.point,
                x.point_name,
                x.reach_id,
                f"{x.km:.3f}",
                f"{x.lat:.6f}",
                f"{x.lon:.6f}",
                x.requires or "",
                f"{x.travel_min:.1f}",
                fmt_local(x.eta),
                fmt_local(x.window_open) if x.window_open else "",
                fmt_local(x.required_by) if x.required_by else "",
                "" if x.slack_min is None else f"{x.slack_min:.1f}",
                f"{x.lateness_min:.1f}",
                x.instructions,
                method,
                *form_cells,
            ]
        )
    for u in plan.unmet:
        w.writerow(
            ["UNMET", "", "", "", "", u.point, u.point_name, "", "", "", "", "", "", "",
             fmt_local(u.window_open) if u.window_open else "",
             fmt_local(u.required_by) if u.required_by else "", "", "",
             " | ".join(u.reasons + [f"fix: {f}" for f in u.fixes]), "", *form_cells]
        )  # fmt: skip
    return out.getvalue()


def ics204_markdown(plan: AssignmentPlan) -> str:
    mark = "**EXERCISE — EXERCISE — EXERCISE**\n\n" if plan.is_exercise else ""
    s = plan.settings
    f = plan.form
    lines = [f"{mark}# ICS 204 Assignment list — {plan.code}", ""]
    if f is not None:
        lines += [
            f"1. **Incident name:** {f.incident_name}",
            f"2. **Operational period:** from {fmt_local(f.period_from)} to {fmt_local(f.period_to)} (local, UTC+8)",
            f"3. **Branch:** {f.branch}",
            f"4. **Division:** {f.division}",
            f"5. **Group:** {f.group}",
            f"6. **Operations personnel:** Operations section chief {f.operations_chief}; "
            f"supervisors: {'; '.join(f.supervisors) or '—'}",
            "",
        ]
    lines += [
        f"- Monitoring plan revision: {plan.revision}, round {plan.round_no}",
        f"- Travel: {plan.travel_method or f'geodesic distance × {s.road_factor:g} ÷ {s.speed_kmh:g} km/h'}; "
        f"arrive {s.margin_min:g} min before the plume's leading edge",
        f"- Total lateness: {plan.total_lateness_min:.0f} min",
        "",
        "## 7. Resources assigned and 8. work assignments",
        "",
        "| Crew | Leader (contact) | People | Stop | Point | Where | Requires | Travel | ETA | Required by | Slack |",
        "|---|---|---:|---:|---|---|---|---:|---|---|---:|",
    ]
    for x in plan.lines:
        lines.append(
            f"| {x.crew} | {x.leader} ({x.leader_phone or '—'}) | {x.headcount} | {x.stop} | "
            f"{x.point}{' ★' if x.mandatory else ''} {x.point_name} | "
            f"{x.reach_id} km {x.km:.2f} ({x.lat:.5f}, {x.lon:.5f}) | {x.requires or '—'} | "
            f"{x.travel_min:.0f} min | {fmt_local(x.eta, with_date=False)} | "
            f"{fmt_local(x.required_by, with_date=False) if x.required_by else '—'} | {_slack_text(x.slack_min)} |"
        )
    lines += ["", "★ mandatory receptor point.", ""]
    if plan.unmet:
        lines += ["## ⚠ UNMET POINTS — no crew assigned", ""]
        for u in plan.unmet:
            star = " (MANDATORY)" if u.mandatory else ""
            by = f", required by {fmt_local(u.required_by)}" if u.required_by else ""
            lines.append(f"- **{u.point}{star}** {u.point_name}{by}: " + "; ".join(u.reasons))
        lines.append("")
    if plan.later:
        lines += [f"## Next operational period (due after {s.period_h:g} h)", ""]
        for u in plan.later:
            lines.append(f"- {u.point} {u.point_name}: required by {fmt_local(u.required_by)}")
        lines.append("")
    lines += ["## 9. Special instructions", ""]
    for x in plan.lines:
        lines.append(f"- {x.crew} → {x.point}: {x.instructions}")
    if f is not None:
        lines += ["", "### Safety message", "", f.safety_message]
        lines += [
            "",
            "## 10. Communications",
            "",
            "| Name / function | Primary contact | Method |",
            "|---|---|---|",
        ]
        lines += [f"| {n} | {c} | {m} |" for n, c, m in f.communications]
    if plan.idle:
        lines += ["", "## Crews not assigned", ""]
        lines += [f"- {name}: {why}" for name, why in plan.idle]
    for w in plan.warnings:
        lines.append(f"\n> {w}")
    if f is not None:
        at = fmt_local(f.prepared_at) if f.prepared_at else SIGNATURE_LINE
        lines += [
            "",
            f"11. **Prepared by:** {f.prepared_by or SIGNATURE_LINE} · position/title "
            f"{f.prepared_position or SIGNATURE_LINE} · signature {SIGNATURE_LINE} · date/time {at}",
            f"12. **Approved by:** {f.approved_by or SIGNATURE_LINE} · signature {SIGNATURE_LINE} · "
            f"date/time {SIGNATURE_LINE}",
        ]
    return "\n".join(lines) + "\n"
