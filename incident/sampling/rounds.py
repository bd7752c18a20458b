"""When to sample: rounds from the forecast, one round time for every point.

HJ 589 §7.1.2.1 samples all sections at the same time (one round time) and
§6.3 samples densely at first, then less once the pattern is understood. The
schedule therefore starts as soon as crews can be out, spaces rounds at an
interval that grows geometrically (1 h, 1.5 h, 2.25 h … up to a cap), and pins
extra rounds to the moments that matter at the mandatory points: just before
the plume's leading edge, at its peak, and after the trailing edge has passed.

``schedule`` is pure (hours after the release in, rounds out); ``regenerate``
stores it, keeping rounds already sampled or already past.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from incident.core import log
from incident.core.clock import as_utc, incident_now
from incident.core.errors import UserError
from incident.core.incidents import get_incident, refuse_if_ended
from incident.core.store.tables import Assignment, Sample, SamplingRound
from incident.plume import IncidentForecast
from incident.sampling.layout import ProposedPoint, find_forecast, forecast_label
from incident.sampling.plans import plan_view

PURPOSES = ("baseline", "leading_edge", "peak", "tail", "tracking")


@dataclass
class RoundSettings:
    mobilise_h: float = 1.0  # earliest round: now + time to get crews out
    first_interval_h: float = 1.0
    growth: float = 1.5  # each regular interval is this much longer than the last
    max_interval_h: float = 12.0
    before_arrival_h: float = 0.5  # the pre-arrival round at a mandatory point
    after_trailing_h: float = 2.0  # the round that confirms the plume has passed
    min_gap_h: float = 0.5  # rounds closer than this merge
    step_min: int = 5  # round times fall on whole 5 minutes

    def check(self) -> None:
        if self.growth < 1 or self.first_interval_h <= 0 or self.max_interval_h < self.first_interval_h:
            raise UserError(
                "round spacing must start > 0 and never shrink",
                where="round settings",
                fix="first_interval_h > 0, growth ≥ 1, max_interval_h ≥ first_interval_h",
            )


@dataclass
class PlannedRound:
    at_h: float  # hours after the release start
    purpose: str  # one of PURPOSES
    point: str | None = None  # the point whose arrival/peak/tail pinned it
    number: int | None = None
    status: str = "planned"
    at: datetime | None = None
    id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.purpose} {self.point}" if self.point else self.purpose


def _ceil_step(h: float, step_min: int) -> float:
    return math.ceil(round(h * 60 / step_min, 6)) * step_min / 60


def _floor_step(h: float, step_min: int) -> float:
    return math.floor(round(h * 60 / step_min, 6)) * step_min / 60


def schedule(
    points: list[ProposedPoint],
    now_h: float,
    settings: RoundSettings | None = None,
    *,
    not_before_h: float = 0.0,
) -> list[PlannedRound]:
    """Round times (hours after the release) for the active points; dense early, thinning later."""
    settings = settings or RoundSettings()
    settings.check()
    step = settings.step_min
    active = [p for p in points if p.active]
    t0 = _ceil_step(max(now_h + settings.mobilise_h, not_before_h), step)
    reached = [p for p in active if p.arrival_h is not None]
    if not reached:
        return [PlannedRound(t0, "baseline")]
    last_trailing = max((p.trailing_h if p.trailing_h is not None else p.arrival_h) for p in reached)
    end = _ceil_step(max(last_trailing + settings.after_trailing_h, t0), step)

    anchors: list[PlannedRound] = []
    for p in reached:
        if not p.mandatory:
            continue
        before = _floor_step(p.arrival_h - settings.before_arrival_h, step)  # type: ignore[operator]
        anchors.append(PlannedRound(before, "leading_edge", p.number))
        if p.peak_h is not None:
            anchors.append(PlannedRound(_ceil_step(p.peak_h, step), "peak", p.number))
    anchors = sorted((a for a in anchors if t0 <= a.at_h < end), key=lambda a: a.at_h)

    first_arrival = min(p.arrival_h for p in reached if p.distance_from_source_m > 0)  # type: ignore[type-var]
    rounds = [PlannedRound(t0, "baseline" if t0 < first_arrival else "tracking")]
    t, interval = t0, settings.first_interval_h
    while True:
        regular = _ceil_step(t + interval, step)
        # a pinned round due soon after the regular one replaces it
        window = max(settings.min_gap_h, interval / 2)
        pending = [a for a in anchors if t + settings.min_gap_h <= a.at_h <= regular + window]
        if pending:
            nxt = pending[0]
        elif regular < end - settings.min_gap_h:
            nxt = PlannedRound(regular, "tracking")
            interval = min(interval * settings.growth, settings.max_interval_h)
        else:
            break
        rounds.append(nxt)
        t = nxt.at_h
    rounds.append(PlannedRound(end, "tail", max(reached, key=lambda p: p.trailing_h or 0).number))
    # merge rounds too close together, keeping the pinned one
    merged: list[PlannedRound] = []
    for r in rounds:
        if merged and r.at_h - merged[-1].at_h < settings.min_gap_h:
            if merged[-1].purpose in ("tracking",) or r.purpose == "tail":
                merged[-1] = r
            continue
        merged.append(r)
    return merged


def _point_times(points: list[ProposedPoint], forecast: IncidentForecast | None) -> list[ProposedPoint]:
    if forecast is None:
        return points
    for p in points:
        pf = find_forecast(forecast, forecast_label(p), p.reach_id, p.offset_m)
        if pf is not None:
            p.arrival_h, p.peak_h, p.trailing_h = pf.leading_edge_h, pf.peak_h, pf.trailing_edge_h
    return points


def list_rounds(session: Session, code: str) -> list[PlannedRound]:
    inc = get_incident(session, code)
    rows = session.exec(
        select(SamplingRound).where(SamplingRound.incident_id == inc.id).order_by(SamplingRound.number)
    ).all()
    start = as_utc(inc.release_start or inc.alert_at)
    out = []
    for r in rows:
        purpose, _, point = r.purpose.partition(" ")
        out.append(
            PlannedRound(
                at_h=(as_utc(r.planned_at) - start).total_seconds() / 3600,
                purpose=purpose,
                point=point or None,
                number=r.number,
                status=r.status,
                at=as_utc(r.planned_at),
                id=r.id,
            )
        )
    return out


def regenerate(
    session: Session,
    code: str,
    *,
    actor: str,
    forecast: IncidentForecast | None = None,
    now: datetime | None = None,
    settings: RoundSettings | None = None,
) -> list[PlannedRound]:
    """(Re)build the round schedule; rounds sampled or already past are kept as they are."""
    inc = get_incident(session, code)
    refuse_if_ended(inc, "a round schedule")
    view = plan_view(session, code)
    now = as_utc(now or incident_now(inc))
    start = as_utc(forecast.release_start if forecast else (inc.release_start or inc.alert_at))
    now_h = (now - start).total_seconds() / 3600
    rows = session.exec(select(SamplingRound).where(SamplingRound.incident_id == inc.id)).all()
    keep = [r for r in rows if r.status == "sampled" or as_utc(r.planned_at) <= now]
    future = [r for r in rows if r not in keep and r.status != "cancelled"]
    dropped = []
    for r in future:
        used = (
            session.exec(select(Assignment.id).where(Assignment.round_id == r.id)).first()
            or session.exec(select(Sample.id).where(Sample.round_id == r.id)).first()
        )
        dropped.append({"number": r.number, "at": as_utc(r.planned_at), "purpose": r.purpose})
        if used:
            r.status = "cancelled"
            session.add(r)
        else:
            session.delete(r)
    session.flush()
    last_kept = max((as_utc(r.planned_at) for r in keep), default=None)
    not_before = 0.0
    if last_kept is not None:
        not_before = (last_kept - start).total_seconds() / 3600 + (settings or RoundSettings()).min_gap_h
    plan = schedule(_point_times(view.active_points, forecast), now_h, settings, not_before_h=not_before)
    remaining = session.exec(select(SamplingRound.number).where(SamplingRound.incident_id == inc.id)).all()
    number = max(remaining, default=0)
    for pr in plan:
        number += 1
        session.add(
            SamplingRound(
                incident_id=inc.id,  # type: ignore[arg-type]
                revision_id=view.revision.id,
                number=number,
                planned_at=start + timedelta(hours=pr.at_h),
                purpose=pr.label,
                status="planned",
            )
        )
    session.flush()
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="rounds.scheduled",
        incident_id=inc.id,
        summary=f"Sampling rounds scheduled: {len(plan)} new, {len(keep)} kept, {len(dropped)} replaced "
        f"(plan revision {view.revision.revision})",
        payload={
            "kept": [r.number for r in keep],
            "replaced": dropped,
            "new": [{"at_h": round(p.at_h, 3), "purpose": p.label} for p in plan],
        },
    )
    return list_rounds(session, code)


def mark_sampled(session: Session, code: str, number: int, *, actor: str) -> None:
    inc = get_incident(session, code)
    row = session.exec(
        select(SamplingRound).where(SamplingRound.incident_id == inc.id, SamplingRound.number == number)
    ).first()
    if row is None:
        raise UserError(f"there is no round {number}", where=inc.code, fix="see `incident rounds CODE`")
    if row.status == "sampled":
        return
    row.status = "sampled"
    session.add(row)
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="round.sampled",
        incident_id=inc.id,
        summary=f"Round {number} marked sampled",
        payload={"number": number},
    )
