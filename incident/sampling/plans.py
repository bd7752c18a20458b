"""The monitoring plan in the store: revisions, never rewritten.

HJ 589 §6.1: the plan is revised as the incident evolves and every revision is
kept. Each change (propose, insert, remove, forecast refresh) writes a new
``PlanRevision`` holding a full copy of the points, with who, when and why,
and appends a log entry. Numbers are never reused or changed: a removed point
stays in later revisions with its removal reason, an inserted point gets a
sub-level number (S3-1).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident, refuse_if_ended
from incident.core.networks import load_network
from incident.core.rivers import RiverNetworkData
from incident.core.store.tables import Incident, PlanRevision, SamplingPoint, row_id
from incident.plume import IncidentForecast
from incident.sampling.layout import (
    PlanSettings,
    Proposal,
    ProposedPoint,
    find_forecast,
    forecast_label,
    forecast_requests,
    generated_name,
    generated_name_zh,
    make_point,
    number_key,
    propose_points,
    sub_number,
)


@dataclass
class RevisionInfo:
    id: int
    revision: int
    created_at: datetime
    created_by: str
    reason: str


@dataclass
class PlanView:
    code: str
    revision: RevisionInfo
    points: list[ProposedPoint]  # every point, removed ones included (removed_reason set)
    revisions: list[RevisionInfo]
    forecast: dict[str, Any]

    @property
    def active_points(self) -> list[ProposedPoint]:
        return [p for p in self.points if p.active]


# ---------------------------------------------------------------- helpers


def incident_river(session: Session, inc: Incident) -> tuple[RiverNetworkData, str, float]:
    """The incident's river network and the source position (reach, offset m)."""
    if inc.river_network_id is None or inc.source_reach is None or inc.source_km is None:
        raise UserError("errors.sampling.incident_has_no_source", where=inc.code, code=inc.code)
    net = load_network(session, inc.river_network_id)
    return net, inc.source_reach, net.offset_for_km(inc.source_reach, inc.source_km)


def forecast_summary(forecast: IncidentForecast | None) -> dict[str, Any]:
    if forecast is None:
        return {}
    return {
        "release_start": forecast.release_start.isoformat(),
        "horizon_h": forecast.horizon_h,
        "method": forecast.method,
        "substance": forecast.substance,
        "standard_mg_l": forecast.standard_mg_l,
        "detection_mg_l": forecast.detection_mg_l,
        **forecast.stored_as,  # the stored forecast the revision was made from (id and hash)
        "points": {
            p.label: [p.leading_edge_h, p.peak_h, p.trailing_edge_h, p.peak_mg_l] for p in forecast.points
        },
        # the ensemble's P10 leading edge: the plume's earliest arrival, which crews must beat
        "earliest_h": {
            p.label: p.leading_edge_band_h[0]
            for p in forecast.points
            if p.leading_edge_band_h is not None and math.isfinite(p.leading_edge_band_h[0])
        },
    }


def _to_row(p: ProposedPoint, revision_id: int) -> SamplingPoint:
    return SamplingPoint(
        revision_id=revision_id,
        number=p.number,
        role=p.role,
        name=p.name,
        reach_id=p.reach_id,
        km=p.km,
        lat=p.lat,
        lon=p.lon,
        distance_from_source_m=p.distance_from_source_m,
        receptor_id=p.receptor_id,
        mandatory=p.mandatory,
        arrival_h=p.arrival_h,
        peak_h=p.peak_h,
        trailing_h=p.trailing_h,
        required_qualification=p.required_qualification,
        removed_reason=p.removed_reason,
        offset_m=p.offset_m,
        verticals=p.verticals,
        points_per_vertical=p.points_per_vertical,
        note=p.note,
    )


def _from_row(row: SamplingPoint, net: RiverNetworkData | None) -> ProposedPoint:
    width = depth = 0.0
    kind = name_zh = None
    if net is not None:
        reach = net.reach(row.reach_id)
        width, depth = reach.width_m, reach.depth_m
        if row.receptor_id:
            rc = next((r for r in net.receptors if r.receptor_id == row.receptor_id), None)
            if rc is not None:
                kind, name_zh = rc.kind, rc.name_zh
    if name_zh is None:
        name_zh = generated_name_zh(row.role, row.name, row.distance_from_source_m, row.km, row.reach_id)
    return ProposedPoint(
        number=row.number,
        role=row.role,
        name=row.name,
        reach_id=row.reach_id,
        offset_m=row.offset_m,
        km=row.km,
        lat=row.lat,
        lon=row.lon,
        distance_from_source_m=row.distance_from_source_m,
        width_m=width,
        depth_m=depth,
        verticals=row.verticals,
        points_per_vertical=row.points_per_vertical,
        receptor_id=row.receptor_id,
        receptor_kind=kind,
        name_zh=name_zh,
        mandatory=row.mandatory,
        arrival_h=row.arrival_h,
        peak_h=row.peak_h,
        trailing_h=row.trailing_h,
        required_qualification=row.required_qualification,
        removed_reason=row.removed_reason,
        note=row.note,
        id=row.id,
    )


def _info(rev: PlanRevision) -> RevisionInfo:
    return RevisionInfo(row_id(rev), rev.revision, rev.created_at, rev.created_by, rev.reason)


def _latest(session: Session, incident_id: int) -> PlanRevision | None:
    return session.exec(
        select(PlanRevision)
        .where(PlanRevision.incident_id == incident_id)
        .order_by(col(PlanRevision.revision).desc())
        .limit(1)
    ).first()


def _write_revision(
    session: Session,
    inc: Incident,
    points: list[ProposedPoint],
    *,
    actor: str,
    reason: str,
    forecast: dict[str, Any],
    kind: str,
    summary: str,
    payload: dict[str, Any],
) -> PlanRevision:
    refuse_if_ended(inc, "a plan change")
    last = _latest(session, row_id(inc))
    number = 1 if last is None else last.revision + 1
    rev = PlanRevision(
        incident_id=row_id(inc),
        revision=number,
        created_at=utcnow(),
        created_by=actor,
        reason=reason,
        forecast_json=json.dumps(forecast, ensure_ascii=False)
        if forecast
        else (last.forecast_json if last else "{}"),
    )
    session.add(rev)
    session.flush()
    for p in sorted(points, key=lambda p: number_key(p.number)):
        session.add(_to_row(p, row_id(rev)))
    session.flush()
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind=kind,
        incident_id=inc.id,
        summary=f"Plan revision {number}: {summary}",
        payload={"revision": number, "reason": reason, **payload},
    )
    return rev


# ---------------------------------------------------------------- reading


def plan_view(session: Session, code: str, revision: int | None = None) -> PlanView:
    inc = get_incident(session, code)
    revs = list(
        session.exec(
            select(PlanRevision)
            .where(PlanRevision.incident_id == inc.id)
            .order_by(col(PlanRevision.revision))
        )
    )
    if not revs:
        raise UserError("errors.sampling.incident_has_no_monitoring", code=inc.code)
    if revision is None:
        rev = revs[-1]
    else:
        chosen = next((r for r in revs if r.revision == revision), None)
        if chosen is None:
            raise UserError(
                "errors.sampling.plan_revision_does_not",
                where=inc.code,
                revision=revision,
                revision2=revs[-1].revision,
            )
        rev = chosen
    net = load_network(session, inc.river_network_id) if inc.river_network_id else None
    rows = session.exec(select(SamplingPoint).where(SamplingPoint.revision_id == rev.id)).all()
    points = sorted((_from_row(r, net) for r in rows), key=lambda p: number_key(p.number))
    return PlanView(
        code=inc.code,
        revision=_info(rev),
        points=points,
        revisions=[_info(r) for r in revs],
        forecast=json.loads(rev.forecast_json or "{}"),
    )


def has_plan(session: Session, code: str) -> bool:
    inc = get_incident(session, code)
    n = session.exec(
        select(func.count()).select_from(PlanRevision).where(PlanRevision.incident_id == inc.id)
    ).one()
    return n > 0


# ---------------------------------------------------------------- changing


def with_plume_extent(session: Session, code: str, settings: PlanSettings | None = None) -> PlanSettings:
    """``settings`` with the plume's upstream P90 extent filled in (in place), for the control section.

    Without a spill mass to run the ensemble on, the extent stays unknown and the
    control section goes at the configured distance (the plan notes say so).
    """
    from incident.plume import incident_upstream_extent

    settings = settings or PlanSettings()
    if settings.plume_upstream_m is None:
        try:
            settings.plume_upstream_m = incident_upstream_extent(session, code).p90_m
        except UserError:
            settings.plume_upstream_m = None
    return settings


def requests_for(session: Session, code: str, settings: PlanSettings | None = None) -> list[Any]:
    """The extra forecast points a proposal needs (pass to the forecast service)."""
    inc = get_incident(session, code)
    net, reach, offset = incident_river(session, inc)
    return forecast_requests(net, reach, offset, with_plume_extent(session, code, settings))


def propose_plan(
    session: Session,
    code: str,
    forecast: IncidentForecast,
    *,
    actor: str,
    reason: str = "initial proposal from the forecast",
    settings: PlanSettings | None = None,
) -> tuple[PlanView, Proposal]:
    """Write revision 1 of the plan from the forecast. Refused if a plan exists."""
    inc = get_incident(session, code)
    last = _latest(session, row_id(inc))
    if last is not None:
        raise UserError("errors.sampling.incident_already_has_plan", code=inc.code, revision=last.revision)
    net, reach, offset = incident_river(session, inc)
    settings = with_plume_extent(session, code, settings)
    proposal = propose_points(
        net, reach, offset, forecast, pollutant_class=inc.pollutant_class, settings=settings
    )
    _write_revision(
        session,
        inc,
        proposal.points,
        actor=actor,
        reason=reason,
        forecast=forecast_summary(forecast),
        kind="plan.proposed",
        summary=f"{len(proposal.points)} points proposed "
        f"({sum(p.mandatory for p in proposal.points)} mandatory)",
        payload={"points": [p.number for p in proposal.points], "notes": proposal.notes},
    )
    return plan_view(session, code), proposal


def _locate(
    net: RiverNetworkData, km: float, reach_id: str | None, source: tuple[str, float]
) -> tuple[str, float]:
    if reach_id:
        return reach_id, net.offset_for_km(reach_id, km)
    hits = [r for r in net.reaches if r.km_start - 1e-9 <= km <= r.km_start + r.length_m / 1000 + 1e-9]
    down = set(net.path_down(source[0]))
    on_path = [r for r in hits if r.reach_id in down] or [
        r for r in hits if r.branch == net.reach(source[0]).branch
    ]
    choice = on_path or hits
    if not choice:
        raise UserError("errors.sampling.no_reach_covers_km", field="km", km=km)
    if len({r.branch for r in choice}) > 1:
        raise UserError(
            "errors.sampling.km_several_branches",
            field="km",
            km=km,
            value=", ".join(r.reach_id for r in choice),
        )
    r = choice[0]
    return r.reach_id, net.offset_for_km(r.reach_id, km)


def insert_point(
    session: Session,
    code: str,
    *,
    km: float,
    reason: str,
    actor: str,
    after: str | None = None,
    reach_id: str | None = None,
    name: str = "",
    requires: str | None = None,
    forecast: IncidentForecast | None = None,
) -> ProposedPoint:
    """Insert a point between two others; it gets a sub-level number and a new revision is written."""
    if not reason.strip():
        raise UserError("errors.sampling.plan_change_needs_reason", field="reason")
    inc = get_incident(session, code)
    view = plan_view(session, code)
    net, src_reach, src_offset = incident_river(session, inc)
    reach_id, offset = _locate(net, km, reach_id, (src_reach, src_offset))
    down = net.distance_downstream_m(src_reach, src_offset, reach_id, offset)
    if down is None:
        up = net.distance_downstream_m(reach_id, offset, src_reach, src_offset)
        if up is None:
            raise UserError(
                "errors.sampling.km_neither_upstream_nor", where="--km/--reach", km=km, reach_id=reach_id
            )
        dist = -up
    else:
        dist = down
    ordered = sorted(view.points, key=lambda p: (p.distance_from_source_m, number_key(p.number)))
    # the point it follows in flow order (removed points still hold their place)
    before = [p for p in ordered if p.distance_from_source_m <= dist]
    natural = before[-1].number if before else None
    if after is None:
        if natural is None:
            raise UserError("errors.sampling.km_lies_above_every", field="km", km=km)
        after = natural
    existing = [p.number for p in view.points]
    if after not in existing:
        raise UserError(
            "errors.sampling.there_no_point", field="after", after=after, value=", ".join(existing)
        )
    # the new point must lie between `after` and the next point that is not one of its sub-levels
    anchor = next(p for p in ordered if p.number == after)
    depth = len(number_key(after))

    def descends(p: ProposedPoint) -> bool:
        return number_key(p.number)[:depth] == number_key(after)

    later = [
        p for p in ordered if p.distance_from_source_m > anchor.distance_from_source_m and not descends(p)
    ]
    hi = later[0].distance_from_source_m if later else float("inf")
    if not anchor.distance_from_source_m <= dist <= hi:
        upper = later[0].number if later else "the end of the plan"
        raise UserError(
            "errors.sampling.km_km_source_not",
            field="after",
            fix=f"use --after {natural}" if natural else "choose a km below the first point",
            km=km,
            value=dist / 1000,
            after=after,
            upper=upper,
        )
    number = sub_number(after, existing)
    pf = find_forecast(forecast, number, reach_id, offset) if forecast else None
    point = make_point(
        net,
        number=number,
        role="inserted",
        name=name or generated_name("inserted", dist, net.km_of(reach_id, offset), reach_id, "en"),
        reach_id=reach_id,
        offset_m=offset,
        distance_from_source_m=dist,
        forecast_point=pf,
        required_qualification=requires or None,
        note=reason,
    )
    _write_revision(
        session,
        inc,
        [*view.points, point],
        actor=actor,
        reason=reason,
        forecast=forecast_summary(forecast) if forecast else {},
        kind="plan.point_inserted",
        summary=f"{number} inserted after {after} at {reach_id} km {point.km:.2f} — {reason}",
        payload={"number": number, "after": after, "reach": reach_id, "km": round(point.km, 3)},
    )
    return point


def remove_point(session: Session, code: str, number: str, *, reason: str, actor: str) -> ProposedPoint:
    """Take a point out of the plan (kept in the revision with its reason; the number is never reused)."""
    view = plan_view(session, code)
    point = next((p for p in view.points if p.number == number), None)
    if point is None:
        raise UserError(
            "errors.sampling.there_no_point_2",
            where=view.code,
            number=number,
            value=", ".join(p.number for p in view.active_points),
        )
    if not point.active:
        raise UserError(
            "errors.sampling.was_already_removed",
            where=view.code,
            number=number,
            removed_reason=point.removed_reason,
        )
    if not reason.strip():
        what = "a mandatory point (a receptor the plume reaches)" if point.mandatory else "a point"
        raise UserError("errors.sampling.removing_needs_reason_log", field="reason", number=number, what=what)
    point.removed_reason = reason
    inc = get_incident(session, code)
    kind = "plan.mandatory_point_removed" if point.mandatory else "plan.point_removed"
    _write_revision(
        session,
        inc,
        view.points,
        actor=actor,
        reason=reason,
        forecast={},
        kind=kind,
        summary=f"{number} removed{' (MANDATORY)' if point.mandatory else ''} — {reason}",
        payload={"number": number, "mandatory": point.mandatory},
    )
    return point


def refresh_plan(
    session: Session,
    code: str,
    forecast: IncidentForecast,
    *,
    actor: str,
    reason: str = "forecast updated",
) -> PlanView:
    """New revision with the forecast times of every point refreshed; numbers unchanged.

    A receptor the new forecast reaches and the plan lacks is inserted with a
    sub-level number after the point above it, so mandatory points are never
    missed when the plume goes farther than first forecast.
    """
    inc = get_incident(session, code)
    view = plan_view(session, code)
    net, src_reach, src_offset = incident_river(session, inc)
    for p in view.points:
        pf = find_forecast(forecast, forecast_label(p), p.reach_id, p.offset_m)
        if pf is not None:
            p.arrival_h, p.peak_h, p.trailing_h = pf.leading_edge_h, pf.peak_h, pf.trailing_edge_h
    have = {p.receptor_id for p in view.points if p.receptor_id}
    added = []
    fresh = propose_points(net, src_reach, src_offset, forecast, pollutant_class=inc.pollutant_class).points
    for cand in fresh:
        if cand.receptor_id and cand.receptor_id not in have:
            ordered = sorted(view.points, key=lambda p: (p.distance_from_source_m, number_key(p.number)))
            before = [p for p in ordered if p.distance_from_source_m <= cand.distance_from_source_m]
            if not before:
                continue
            cand.number = sub_number(before[-1].number, [p.number for p in view.points])
            cand.note = "receptor reached in the refreshed forecast"
            view.points.append(cand)
            added.append(cand.number)
    _write_revision(
        session,
        inc,
        view.points,
        actor=actor,
        reason=reason,
        forecast=forecast_summary(forecast),
        kind="plan.refreshed",
        summary=f"forecast times refreshed{'; added ' + ', '.join(added) if added else ''}",
        payload={"added": added},
    )
    return plan_view(session, code)
