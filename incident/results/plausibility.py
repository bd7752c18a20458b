"""Plausibility of a result against the stored forecast and the point's history (issue 16).

Run on every result as it is logged (:func:`check_new_result`, from ``entry._store``);
a finding is an append-only ``ResultHold`` committed to the incident's log. A held
result is marked everywhere (the one result record, :mod:`incident.results.record`),
is left out of exceedance counts and conclusions, and a report cannot be released
while one is in its scope, until a person confirms it with a reason
(:func:`confirm_result`, logged) or corrects it (the correction is checked afresh).

The checks, for a detected value of the incident's substance:

- **before_arrival**: sampled before the plume's earliest plausible arrival at the
  point: the ensemble's early edge (P10) when it ran, else the earlier of the model's
  and Jobson's leading edges, less ``ARRIVAL_MARGIN``; or at a point the forecast
  does not reach within its horizon;
- **above_forecast**: more than ``FORECAST_FACTOR`` times the forecast peak there
  (the ensemble's P90 peak when it ran);
- **above_mass**: more than the released mass allows: for a release of duration τ
  into discharge Q, fully mixed and undispersed, C ≤ M / (Q·τ); flagged above
  ``MASS_FACTOR`` times that bound;
- **unit_jump**: ``JUMP_FACTOR`` (100×) or more above or below every detected
  neighbour in time at the same point (a mg/L ↔ µg/L slip);
- **upstream_above_background**: at an upstream control section, more than
  ``BACKGROUND_FACTOR`` times the background (the median of the other upstream
  results, else the result's own detection limit).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.store.tables import (
    HoldReview,
    Incident,
    Result,
    ResultHold,
    Sample,
    SamplingPoint,
    result_is_current,
    row_id,
)
from incident.results.record import ResultRecord, hold_reason, result_record

if TYPE_CHECKING:
    from incident.plume import StoredForecast

ARRIVAL_MARGIN = 0.8  # sampled before 80 % of the earliest leading edge
FORECAST_FACTOR = 10.0
MASS_FACTOR = 2.0
JUMP_FACTOR = 100.0
BACKGROUND_FACTOR = 3.0


@dataclass
class Finding:
    """One plausibility finding: ``key`` names its text in the catalogs (``plausibility.*``),
    ``params`` fill it; stored language-neutral and shown in the reader's language."""

    kind: str
    key: str
    params: dict[str, str] = field(default_factory=dict)

    def stored(self) -> str:
        return json.dumps({"key": self.key, "params": self.params}, ensure_ascii=False, sort_keys=True)

    @property
    def reason(self) -> str:
        return hold_reason(self.stored())

    @property
    def reason_en(self) -> str:
        return hold_reason(self.stored(), lang="en")


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _forecast_findings(
    inc: Incident, row: Result, sample: Sample, point: SamplingPoint, stored: StoredForecast | None
) -> list[Finding]:
    out: list[Finding] = []
    if stored is None or row.value_mg_l is None:
        return out
    if point.distance_from_source_m <= 0:
        return out  # upstream of the source: the background check applies, not the plume's
    fp = stored.point(point.number) or (stored.point(point.receptor_id) if point.receptor_id else None)
    if fp is None:
        return out
    hours = (as_utc(sample.sampled_at) - as_utc(stored.release_start)).total_seconds() / 3600
    if fp.leading_edge_h is None:
        if hours <= stored.horizon_h:
            out.append(
                Finding(
                    "before_arrival",
                    "plausibility.before_arrival_unreached",
                    {
                        "forecast": str(stored.id),
                        "point": point.number,
                        "horizon": f"{stored.horizon_h:g}",
                        "hours": f"{hours:.1f}",
                    },
                )
            )
    else:
        edges = [fp.leading_edge_h]
        if fp.jobson_leading_h is not None:
            edges.append(fp.jobson_leading_h)
        if fp.leading_edge_band_h is not None:
            edges.append(fp.leading_edge_band_h[0])
        earliest = min(edges) * ARRIVAL_MARGIN
        if hours < earliest:
            out.append(
                Finding(
                    "before_arrival",
                    "plausibility.before_arrival",
                    {
                        "hours": f"{hours:.1f}",
                        "point": point.number,
                        "earliest": f"{earliest:.1f}",
                        "forecast": str(stored.id),
                        "edge": f"{min(edges):.1f}",
                    },
                )
            )
    peak = fp.peak_mg_l
    if fp.peak_band_mg_l is not None:
        peak = max(peak or 0.0, fp.peak_band_mg_l[2])
    if peak and row.value_mg_l > FORECAST_FACTOR * peak:
        out.append(
            Finding(
                "above_forecast",
                "plausibility.above_forecast",
                {
                    "value": _fmt(row.value_mg_l),
                    "ratio": f"{row.value_mg_l / peak:.0f}",
                    "peak": _fmt(peak),
                    "point": point.number,
                    "forecast": str(stored.id),
                },
            )
        )
    return out


def _mass_finding(session: Session, inc: Incident, row: Result, point: SamplingPoint) -> Finding | None:
    if (
        not inc.mass_kg
        or not inc.release_duration_h
        or row.value_mg_l is None
        or inc.river_network_id is None
    ):
        return None
    if point.distance_from_source_m <= 0:
        return None
    from incident.core.networks import load_network

    try:
        q = load_network(session, inc.river_network_id).reach(point.reach_id).discharge_m3s
    except UserError:
        return None
    if not q or q <= 0:
        return None
    bound = inc.mass_kg * 1e6 / (q * 1000.0 * inc.release_duration_h * 3600.0)  # mg / L
    if row.value_mg_l > MASS_FACTOR * bound:
        return Finding(
            "above_mass",
            "plausibility.above_mass",
            {
                "value": _fmt(row.value_mg_l),
                "mass": f"{inc.mass_kg:g}",
                "duration": f"{inc.release_duration_h:g}",
                "q": f"{q:g}",
                "bound": _fmt(bound),
            },
        )
    return None


@cache
def _neighbour_stmts() -> tuple[Any, Any]:
    """:func:`_neighbour_values`' two statements, with their values as parameters, built once (every
    checked entry runs them; built anew, they cost about a millisecond)."""
    base = (
        select(Result.value_mg_l)
        .join(Sample, col(Result.sample_id) == Sample.id)
        .where(
            Sample.point_id == bindparam("point_id"),
            Result.incident_id == bindparam("incident_id"),
            Result.parameter == bindparam("parameter"),
            Sample.sample_type != "field_blank",
            col(Result.detected).is_(True),
            col(Result.value_mg_l).is_not(None),
            Result.id != bindparam("result_id"),
            Result.id != bindparam("corrects_id"),
            result_is_current(),
        )
    )
    before = (
        base.where(Sample.sampled_at <= bindparam("at"))
        .order_by(col(Sample.sampled_at).desc(), col(Result.id).desc())
        .limit(1)
    )
    after = (
        base.where(Sample.sampled_at > bindparam("at"))
        .order_by(col(Sample.sampled_at), col(Result.id))
        .limit(1)
    )
    return before, after


def _neighbour_values(session: Session, row: Result, sample: Sample) -> list[float]:
    """The values of the current detected quantitative results of the parameter at the same point
    (not this one) just before (at or before its time) and just after ``sample``: two look-ups by
    the ``sample (point_id, sampled_at)`` index, whatever the point's history (issue 19). Among
    results at one time, the later-entered one is the nearer."""
    params = {
        "point_id": sample.point_id,
        "incident_id": row.incident_id,
        "parameter": row.parameter,
        "result_id": row.id,
        "corrects_id": row.corrects_id or -1,
        "at": sample.sampled_at,
    }
    found = [session.exec(stmt, params=params).first() for stmt in _neighbour_stmts()]
    return [v for v in found if v]


def _jump_finding(session: Session, row: Result, sample: Sample, point: SamplingPoint) -> Finding | None:
    if row.value_mg_l is None or row.value_mg_l <= 0:
        return None
    values = _neighbour_values(session, row, sample)
    if not values:
        return None
    ratios = [row.value_mg_l / v for v in values]
    if all(x >= JUMP_FACTOR for x in ratios) or all(x <= 1 / JUMP_FACTOR for x in ratios):
        around = ", ".join(f"{_fmt(v)}" for v in values)
        return Finding(
            "unit_jump",
            "plausibility.unit_jump",
            {
                "value": _fmt(row.value_mg_l),
                "around": around,
                "point": point.number,
                "ratio": f"{max(max(ratios), 1 / min(ratios)):.0f}",
            },
        )
    return None


def _background_finding(
    session: Session, row: Result, sample: Sample, point: SamplingPoint
) -> Finding | None:
    if point.role != "upstream_control" or row.value_mg_l is None:
        return None
    others = [
        value
        for value, detected in session.exec(
            select(Result.value_mg_l, Result.detected)
            .join(Sample, col(Result.sample_id) == Sample.id)
            .join(SamplingPoint, col(Sample.point_id) == SamplingPoint.id)
            .where(
                Result.incident_id == row.incident_id,
                Result.parameter == row.parameter,
                SamplingPoint.role == "upstream_control",
                Sample.sample_type != "field_blank",
                Result.id != row.id,
                result_is_current(),
            )
        )
        if value is not None and detected
    ]
    background = statistics.median(others) if others else (row.detection_limit_mg_l or 0.0)
    if background > 0 and row.value_mg_l > BACKGROUND_FACTOR * background:
        return Finding(
            "upstream_above_background",
            "plausibility.upstream_above_background",
            {
                "value": _fmt(row.value_mg_l),
                "point": point.number,
                "ratio": f"{row.value_mg_l / background:.0f}",
                "background": _fmt(background),
            },
        )
    return None


def applies(inc: Incident, row: Result, sample: Sample) -> bool:
    """Whether the checks look at ``row`` at all: a detected value of the incident's substance
    at a point (the bulk import stores every other row without reading anything for them)."""
    return not (
        row.detected is not True
        or row.kind == "qualitative"
        or sample.sample_type == "field_blank"
        or sample.point_id is None
        or (inc.substance and row.parameter != inc.substance)
    )


#: "read the incident's latest forecast" (a caller that checks many results reads it once)
LATEST: Any = object()


def latest(session: Session, inc: Incident) -> StoredForecast | None:
    """The incident's newest forecast, per-point figures only, as the checks read it."""
    from incident.plume import latest_forecast

    return latest_forecast(session, inc.code, with_curves=False)


def findings(
    session: Session, inc: Incident, row: Result, sample: Sample, forecast: Any = LATEST
) -> list[Finding]:
    """What is implausible about ``row`` (stored, with its id), in the order of the module docstring.
    ``forecast``: the incident's latest forecast, if the caller has read it (:func:`latest`)."""
    if not applies(inc, row, sample):
        return []
    point = session.get(SamplingPoint, sample.point_id)
    if point is None:
        return []
    stored = latest(session, inc) if forecast is LATEST else forecast
    out = _forecast_findings(inc, row, sample, point, stored)
    for extra in (
        _mass_finding(session, inc, row, point),
        _jump_finding(session, row, sample, point),
        _background_finding(session, row, sample, point),
    ):
        if extra is not None:
            out.append(extra)
    return out


def check_new_result(
    session: Session, inc: Incident, row: Result, sample: Sample, *, actor: str, forecast: Any = LATEST
) -> list[Finding]:
    """Check a just-stored result and record (and log) a hold for each finding. ``forecast``: the
    incident's latest forecast, if the caller has read it (a bulk import reads it once)."""
    if not applies(inc, row, sample):
        return []
    stored = latest(session, inc) if forecast is LATEST else forecast
    found = findings(session, inc, row, sample, stored)
    if not found:
        return []
    for f in found:
        hold = ResultHold(
            incident_id=row_id(inc),
            result_id=row_id(row),
            kind=f.kind,
            reason=f.stored(),  # language-neutral: a catalog key and its values
            forecast_id=stored.id if stored is not None and "forecast" in f.params else None,
            created_at=utcnow(),
            created_by=actor,
        )
        log.record(
            session,
            hold,
            chain=log.incident_chain(inc.code),
            actor=actor,
            kind="result.flagged",
            incident_id=inc.id,
            summary=f"Result #{row.id} flagged ({f.kind}): {f.reason_en}",
        )
    return found


def confirm_result(session: Session, code: str, result_id: int, *, reason: str, actor: str) -> ResultRecord:
    """A person confirms a flagged result anyway, with a reason (logged); it counts from then on."""
    inc = get_incident(session, code)
    reason = (reason or "").strip()
    if not reason:
        raise UserError("errors.records.confirm_no_reason", field="reason")
    rec = result_record(session, inc.code, result_id)
    if not rec.current:
        raise UserError(
            "errors.records.confirm_corrected", field="result", id=result_id, newer=rec.superseded_by
        )
    open_holds = rec.open_holds
    if not open_holds:
        raise UserError("errors.records.confirm_not_flagged", field="result", id=result_id)
    for h in open_holds:
        review = HoldReview(hold_id=h.id, result_id=result_id, reviewed_by=actor, reason=reason, at=utcnow())
        log.record(
            session,
            review,
            chain=log.incident_chain(inc.code),
            actor=actor,
            kind="result.confirmed",
            incident_id=inc.id,
            summary=f"Result #{result_id} confirmed despite {h.kind}: {reason}",
        )
    return result_record(session, inc.code, result_id)


def held_results(session: Session, code: str) -> list[ResultRecord]:
    """Current results with a plausibility flag no person has confirmed."""
    from incident.results.record import result_records

    inc = get_incident(session, code)
    ids = list(session.exec(select(ResultHold.result_id).where(ResultHold.incident_id == inc.id).distinct()))
    if not ids:
        return []
    return [r for r in result_records(session, inc.code, result_ids=ids) if r.current and r.held]
