"""Who goes where: crews assigned to points so they beat the plume.

Travel time is the geodesic distance from the crew's base to the point times a
road factor (roads wind; 1.4 by default) over a driving speed (40 km/h). A
point's required arrival is the forecast leading edge there minus a margin.
Lateness is how far an arrival falls after that; slack is the time to spare.

The assignment is exact: ``scipy.optimize.linear_sum_assignment`` on one
cost matrix that encodes, in strict priority order,
1. leave as few *mandatory* points (receptors the plume reaches) unmet as possible,
2. then as few other points unmet,
3. then the least total lateness,
4. then the least total travel time (tie-break).
Costs are whole seconds scaled so that no amount of a lower priority can buy
a higher one; everything stays below 2**53, so float arithmetic is exact.
Each crew takes at most one point (one round); points nobody can reach are
reported with the reason, loudly.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, fmt_local, incident_now, utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.rivers import geodesic_m
from incident.core.store.tables import Assignment, SamplingRound, row_id
from incident.sampling.crews import KitCheck, eligibility, list_crews, set_status
from incident.sampling.layout import ProposedPoint
from incident.sampling.plans import plan_view

EXACT_LIMIT = 2**53


@dataclass
class AssignSettings:
    road_factor: float = 1.4
    speed_kmh: float = 40.0
    margin_min: float = 30.0  # be on site this long before the leading edge
    include_assigned: bool = False  # also re-plan crews already Assigned
    period_h: float = 12.0  # operational period: points due later wait for the next assignment

    def check(self) -> None:
        if not self.road_factor >= 1:
            raise UserError(
                f"road factor {self.road_factor:g} is below 1",
                where="--road-factor",
                fix="roads are never shorter than the straight line: use ≥ 1 (1.4 is typical)",
            )
        if not self.speed_kmh > 0:
            raise UserError(f"speed {self.speed_kmh:g} km/h", where="--speed", fix="give a speed > 0 km/h")
        if not self.period_h > 0:
            raise UserError(f"period {self.period_h:g} h", where="--period", fix="give hours > 0, e.g. 12")
        if self.margin_min < 0:
            raise UserError(f"margin {self.margin_min:g} min is negative", where="--margin", fix="use ≥ 0")


if TYPE_CHECKING:
    import numpy as np


def travel_minutes(
    from_latlon: tuple[float, float], to_latlon: tuple[float, float], road_factor: float, speed_kmh: float
) -> float:
    """Geodesic km × road factor ÷ speed, in minutes."""
    km = geodesic_m(*from_latlon, *to_latlon) / 1000
    return km * road_factor / speed_kmh * 60


# ---------------------------------------------------------------- the exact core


@dataclass
class Solution:
    pairs: list[tuple[int, int]]  # (crew index, point index)
    unmet: list[int]  # point indices
    objective: tuple[int, int, int, int]  # (mandatory unmet, other unmet, lateness s, travel s)


def objective_of(
    pairs: list[tuple[int, int]],
    travel_s: np.ndarray,
    required_s: np.ndarray,
    mandatory: np.ndarray,
) -> tuple[int, int, int, int]:
    covered = {j for _, j in pairs}
    n_points = travel_s.shape[1]
    unmet_m = sum(1 for j in range(n_points) if j not in covered and mandatory[j])
    unmet_o = sum(1 for j in range(n_points) if j not in covered and not mandatory[j])
    late = sum(lateness_s(int(travel_s[i, j]), required_s[j]) for i, j in pairs)
    travel = sum(int(travel_s[i, j]) for i, j in pairs)
    return unmet_m, unmet_o, late, travel


def lateness_s(travel: int, required: float) -> int:
    return 0 if math.isnan(required) else max(0, travel - int(required))


def solve(
    travel_s: np.ndarray,
    required_s: np.ndarray,
    feasible: np.ndarray,
    mandatory: np.ndarray,
) -> Solution:
    """Optimal crew→point matching.

    ``travel_s`` (crews × points) whole seconds; ``required_s`` per point,
    seconds from now until the required arrival (NaN: no deadline; may be
    negative: already too late); ``feasible`` crews × points; ``mandatory``
    per point.
    """
    import numpy as np  # lazily: the dashboard reads assignments without scipy
    from scipy.optimize import linear_sum_assignment

    travel_s = np.asarray(travel_s, dtype=np.int64)
    n_crews, n_points = travel_s.shape
    if n_crews == 0 or n_points == 0:
        return Solution([], list(range(n_points)), objective_of([], travel_s, required_s, mandatory))
    late = np.zeros_like(travel_s)
    for j in range(n_points):
        if not math.isnan(required_s[j]):
            late[:, j] = np.maximum(0, travel_s[:, j] - int(required_s[j]))
    k = min(n_crews, n_points)
    max_travel = int(travel_s[feasible].max(initial=0))
    max_late = int(late[feasible].max(initial=0))
    kt = k * max_travel + 1  # total travel of any matching is below this
    unmet_w = (k * max_late + 1) * kt  # one unmet point outweighs any lateness + travel
    mand_w = (n_points + 1) * unmet_w  # one unmet mandatory point outweighs all others unmet
    if (n_points + 1) * mand_w >= EXACT_LIMIT:
        raise UserError(
            "the assignment is too large to solve exactly "
            f"({n_crews} crews × {n_points} points, travel up to {max_travel / 3600:.0f} h)",
            fix="assign a subset of the points at a time (--points S1,S2,...)",
        )
    n = n_crews + n_points
    cost = np.full((n, n), np.inf)
    pair_cost = late * kt + travel_s
    cost[:n_crews, :n_points] = np.where(feasible, pair_cost, np.inf)
    cost[:n_crews, n_points:] = 0.0  # a crew may stay idle
    for j in range(n_points):  # dummy row j: point j left unmet
        cost[n_crews + j, j] = mand_w if mandatory[j] else unmet_w
    cost[n_crews:, n_points:] = 0.0
    rows, cols = linear_sum_assignment(cost)
    pairs = [(int(i), int(j)) for i, j in zip(rows, cols, strict=True) if i < n_crews and j < n_points]
    covered = {j for _, j in pairs}
    unmet = [j for j in range(n_points) if j not in covered]
    return Solution(pairs, unmet, objective_of(pairs, travel_s, required_s, mandatory))


# ---------------------------------------------------------------- the incident's assignment


@dataclass
class AssignmentLine:
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
    travel_min: float
    eta: datetime
    required_by: datetime | None
    slack_min: float | None  # None: no deadline (the plume does not reach the point)
    lateness_min: float
    instructions: str


@dataclass
class UnmetPoint:
    point: str
    point_name: str
    mandatory: bool
    required_by: datetime | None
    reasons: list[str]


@dataclass
class AssignmentPlan:
    code: str
    is_exercise: bool
    revision: int
    computed_at: datetime
    settings: AssignSettings
    lines: list[AssignmentLine]
    unmet: list[UnmetPoint]
    idle: list[tuple[str, str]]  # (crew, why not used)
    objective: tuple[int, int, int, int]
    later: list[UnmetPoint] = field(default_factory=list)  # due after this operational period
    warnings: list[str] = field(default_factory=list)

    @property
    def total_lateness_min(self) -> float:
        return sum(line.lateness_min for line in self.lines)


def _instructions(p: ProposedPoint, release: datetime) -> str:
    parts = [f"{p.verticals} vertical(s) × {p.points_per_vertical} depth(s)"]
    if p.arrival_h is not None:
        parts.append(f"plume leading edge {fmt_local(release + timedelta(hours=p.arrival_h))}")
    if p.peak_h is not None:
        parts.append(f"peak {fmt_local(release + timedelta(hours=p.peak_h))}")
    if p.mandatory:
        parts.append("MANDATORY receptor")
    return "; ".join(parts)


def plan_assignment(
    session: Session,
    code: str,
    *,
    settings: AssignSettings | None = None,
    kit_check: KitCheck | None = None,
    now: datetime | None = None,
    on: date | None = None,
    points: list[str] | None = None,
) -> AssignmentPlan:
    """Compute (not save) the best crew→point assignment for the plan's active points."""
    import numpy as np

    settings = settings or AssignSettings()
    settings.check()
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
                f"not active points of the plan: {', '.join(bad)}",
                where="--points",
                fix=f"use some of {', '.join(sorted(known))}",
            )
        targets = [p for p in targets if p.number in points]
    period_end = now + timedelta(hours=settings.period_h)

    def deadline_of(p: ProposedPoint) -> datetime | None:
        if p.arrival_h is None:
            return None
        return release + timedelta(hours=p.arrival_h) - timedelta(minutes=settings.margin_min)

    later: list[UnmetPoint] = []
    if not points:  # points named explicitly are assigned whatever their deadline
        later = [
            UnmetPoint(p.number, p.name, p.mandatory, deadline_of(p), ["due after this operational period"])
            for p in targets
            if (d := deadline_of(p)) is not None and d > period_end
        ]
        targets = [p for p in targets if (d := deadline_of(p)) is None or d <= period_end]
    crews_all = list_crews(session, on=on)
    wanted = ("available", "assigned") if settings.include_assigned else ("available",)
    crews = [c for c in crews_all if c.status in wanted]
    idle = [(c.name, f"status {c.status}") for c in crews_all if c.status not in wanted]

    # eligibility per crew and required qualification (kit checked once per crew)
    reasons: dict[tuple[int, str | None], list[str]] = {}
    for c in crews:
        for q in {p.required_qualification for p in targets}:
            reasons[(c.id, q)] = eligibility(session, c, q, on=on, kit_check=kit_check)
    n_c, n_p = len(crews), len(targets)
    travel_min = np.zeros((n_c, n_p))
    for i, c in enumerate(crews):
        for j, p in enumerate(targets):
            travel_min[i, j] = travel_minutes(
                (c.base_lat, c.base_lon), (p.lat, p.lon), settings.road_factor, settings.speed_kmh
            )
    travel_s = np.rint(travel_min * 60).astype(np.int64)
    required_by: list[datetime | None] = []
    required_s = np.full(n_p, np.nan)
    for j, p in enumerate(targets):
        deadline = deadline_of(p)
        required_by.append(deadline)
        if deadline is None:
            continue
        required_s[j] = math.floor((deadline - now).total_seconds())
    feasible = np.array(
        [[not reasons[(c.id, p.required_qualification)] for p in targets] for c in crews], dtype=bool
    ).reshape(n_c, n_p)
    mandatory = np.array([p.mandatory for p in targets], dtype=bool)
    sol = solve(travel_s, required_s, feasible, mandatory)

    lines = []
    for i, j in sorted(sol.pairs, key=lambda ij: targets[ij[1]].distance_from_source_m):
        c, p = crews[i], targets[j]
        t_s = int(travel_s[i, j])
        slack = None if math.isnan(required_s[j]) else (required_s[j] - t_s) / 60
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
                travel_min=t_s / 60,
                eta=now + timedelta(seconds=t_s),
                required_by=required_by[j],
                slack_min=slack,
                lateness_min=lateness_s(t_s, required_s[j]) / 60,
                instructions=_instructions(p, release),
            )
        )
    used = {crews[i].name for i, _ in sol.pairs}
    idle += [(c.name, "not needed by the optimum") for c in crews if c.name not in used]
    unmet = []
    for j in sol.unmet:
        p = targets[j]
        why = [
            f"{c.name}: {'; '.join(reasons[(c.id, p.required_qualification)])}"
            for c in crews
            if reasons[(c.id, p.required_qualification)]
        ]
        if len(why) < len(crews):
            why.append("every eligible crew is needed at a higher-priority point")
        if not crews:
            why.append("no crew is available")
        unmet.append(UnmetPoint(p.number, p.name, p.mandatory, required_by[j], why))
    return AssignmentPlan(
        code=inc.code,
        is_exercise=inc.is_exercise,
        revision=view.revision.revision,
        computed_at=now,
        settings=settings,
        lines=lines,
        unmet=unmet,
        idle=idle,
        objective=sol.objective,
        later=later,
    )


def dispatch(session: Session, plan: AssignmentPlan, *, actor: str) -> list[Assignment]:
    """Save the assignment (ICS 204 lines) and set each crew Assigned."""
    inc = get_incident(session, plan.code)
    next_round = session.exec(
        select(SamplingRound)
        .where(
            SamplingRound.incident_id == inc.id,
            SamplingRound.status == "planned",
            SamplingRound.planned_at >= plan.computed_at,
        )
        .order_by(col(SamplingRound.planned_at))
    ).first()
    rows = []
    for line in plan.lines:
        if line.point_id is None:
            raise UserError(f"point {line.point} is not stored", fix="re-run the assignment")
        row = Assignment(
            incident_id=row_id(inc),
            crew_id=line.crew_id,
            point_id=line.point_id,
            round_id=next_round.id if next_round else None,
            created_at=utcnow(),
            created_by=actor,
            eta=line.eta,
            required_by=line.required_by or line.eta,
            slack_min=line.slack_min if line.slack_min is not None else 0.0,
        )
        session.add(row)
        rows.append(row)
        set_status(session, line.crew_id, "assigned", actor=actor, code=inc.code, note=f"to {line.point}")
    session.flush()
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="crew.assigned",
        incident_id=inc.id,
        summary=f"ICS 204: {len(plan.lines)} crew(s) assigned"
        + (f"; UNMET: {', '.join(u.point for u in plan.unmet)}" if plan.unmet else ""),
        payload={
            "lines": [
                {"crew": x.crew, "point": x.point, "eta": x.eta, "slack_min": x.slack_min} for x in plan.lines
            ],
            "unmet": [u.point for u in plan.unmet],
            "road_factor": plan.settings.road_factor,
            "speed_kmh": plan.settings.speed_kmh,
            "margin_min": plan.settings.margin_min,
        },
    )
    return rows


def current_assignments(session: Session, code: str) -> dict[str, tuple[str, float | None, datetime]]:
    """Crew name -> (point number, slack min or None without a deadline, ETA) of its live assignment."""
    from incident.core.store.tables import Crew, SamplingPoint

    inc = get_incident(session, code)
    out: dict[str, tuple[str, float | None, datetime]] = {}
    rows = session.exec(
        select(Assignment, Crew, SamplingPoint)
        .where(Assignment.incident_id == inc.id, col(Assignment.status).in_(("assigned", "on_site")))
        .join(Crew, col(Crew.id) == col(Assignment.crew_id))
        .join(SamplingPoint, col(SamplingPoint.id) == col(Assignment.point_id))
        .order_by(col(Assignment.created_at))
    ).all()
    for a, crew, point in rows:
        if crew.status == "assigned":
            slack = (
                None if point.arrival_h is None else a.slack_min
            )  # no deadline: the plume never gets there
            out[crew.name] = (point.number, slack, as_utc(a.eta))
    return out


# ---------------------------------------------------------------- ICS 204 output

CSV_COLUMNS = [
    "crew",
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
    "required_by_local",
    "slack_min",
    "lateness_min",
    "instructions",
]


def _slack_text(slack: float | None) -> str:
    if slack is None:
        return "no deadline"
    return f"{slack:+.0f} min" + ("  LATE" if slack < 0 else "")


def ics204_csv(plan: AssignmentPlan) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for x in plan.lines:
        w.writerow(
            [
                x.crew,
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
                fmt_local(x.required_by) if x.required_by else "",
                "" if x.slack_min is None else f"{x.slack_min:.1f}",
                f"{x.lateness_min:.1f}",
                x.instructions,
            ]
        )
    for u in plan.unmet:
        w.writerow(
            ["UNMET", "", "", "", u.point, u.point_name, "", "", "", "", "", "", "",
             fmt_local(u.required_by) if u.required_by else "", "", "", " | ".join(u.reasons)]
        )  # fmt: skip
    return out.getvalue()


def ics204_markdown(plan: AssignmentPlan) -> str:
    mark = "**EXERCISE — EXERCISE — EXERCISE**\n\n" if plan.is_exercise else ""
    s = plan.settings
    lines = [
        f"{mark}# ICS 204 Assignment list — {plan.code}",
        "",
        f"- Operational period: from {fmt_local(plan.computed_at)} (local, UTC+8)",
        f"- Monitoring plan revision: {plan.revision}",
        f"- Travel: geodesic distance × {s.road_factor:g} ÷ {s.speed_kmh:g} km/h; "
        f"arrive {s.margin_min:g} min before the plume's leading edge",
        f"- Total lateness: {plan.total_lateness_min:.0f} min",
        "",
        "| Crew | Leader (phone) | People | Point | Where | Requires | Travel | ETA | Required by | Slack |",
        "|---|---|---:|---|---|---|---:|---|---|---:|",
    ]
    for x in plan.lines:
        lines.append(
            f"| {x.crew} | {x.leader} ({x.leader_phone}) | {x.headcount} | {x.point}{' ★' if x.mandatory else ''} "
            f"{x.point_name} | {x.reach_id} km {x.km:.2f} ({x.lat:.5f}, {x.lon:.5f}) | {x.requires or '—'} | "
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
    lines += ["## Special instructions", ""]
    for x in plan.lines:
        lines.append(f"- {x.crew} → {x.point}: {x.instructions}")
    if plan.idle:
        lines += ["", "## Crews not assigned", ""]
        lines += [f"- {name}: {why}" for name, why in plan.idle]
    for w in plan.warnings:
        lines.append(f"\n> {w}")
    return "\n".join(lines) + "\n"
