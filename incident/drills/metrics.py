"""Drill timeline metrics, suggested P/S/M/U ratings, evaluation and the improvement plan.

Metrics are *derived* from the exercise's own records every time they are captured
(start, each tick, evaluation, export), so they never disagree with the evidence.
Times stamped by the system (check-ins, crew status changes, report drafts, log
entries) are wall-clock times and are mapped onto the exercise clock; times typed
by players (sampling time, arrival time) are already exercise times.

- alert: the alert (T+0).
- depart: the first of: a crew set to *assigned* for the drill, a crew check-in
  (ICS 211), a "departed" checklist tick, a ``drill mark depart``.
- on_site: the first of: an ``arrival_time`` answered in a playbook form, a
  ``drill mark on_site``, the first sample (a crew that samples is on site).
- first_sample: the first normal sample's sampling time.
- first_data: the first result available: a synthetic result's availability time
  (sampling + turnaround), or the entry time of a result typed in.
- flash_drafted: the first flash report drafted.
- first_flash_report: the first flash report *released* (sent); a draft is not a
  report until it has been reviewed and released (HJ 589 §9.5).
- forecast_arrival_error:<receptor> / forecast_peak_error:<receptor>: the players'
  *first* logged forecast (made from what was reported) against the truth run, in
  hours (forecast − truth, positive = forecast too late), with ``_pct`` twins relative
  to the true travel time from the real spill start, and forecast_peak_ratio:<receptor>
  (forecast peak / true peak).

Suggested rating (HSEEP P/S/M/U; the evaluator confirms or changes it):
- timeline target "within T min", observed x: P if x ≤ T, S if x ≤ 1.5·T, M if x ≤ 2·T,
  else U; not done yet: no suggestion until the clock passes 2·T (then U), or U at ENDEX;
- forecast target "within E %", observed |e|: P if ≤ E, S if ≤ 1.5·E, M if ≤ 2·E, else U;
  a receptor the truth reaches but the forecast does not: U; no forecast: U at ENDEX.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, exercise_clock, exercise_time, fmt_elapsed, parse_local, utcnow
from incident.core.errors import UserError
from incident.core.store.tables import (
    CheckIn,
    CorrectiveAction,
    CrewStatusChange,
    DrillEvaluation,
    DrillMetric,
    DrillObservation,
    Incident,
    LogEntry,
    PlaybookRun,
    Report,
    Result,
    Sample,
    StepState,
    row_id,
)
from incident.drills.scenario import TIMELINE_METRICS, DrillScenario

RATINGS = ("P", "S", "M", "U")
RATING_NAMES = {
    "P": "Performed without challenges",
    "S": "Performed with some challenges",
    "M": "Performed with major challenges",
    "U": "Unable to be performed",
}
MARKS = ("depart", "on_site")


# ---------------------------------------------------------------- capture


def _ex(inc: Incident, wall: datetime | None) -> datetime | None:
    return None if wall is None else exercise_time(inc, wall)


def _first(*times: datetime | None) -> datetime | None:
    present = [as_utc(t) for t in times if t is not None]
    return min(present) if present else None


def _milestones(session: Session, inc: Incident) -> dict[str, datetime | None]:
    chain = log.incident_chain(inc.code)
    status_changes = session.exec(
        select(CrewStatusChange.at).where(
            CrewStatusChange.incident_id == inc.id, CrewStatusChange.status == "assigned"
        )
    ).all()
    checkins = session.exec(select(CheckIn.at).where(CheckIn.incident_id == inc.id)).all()
    marks: dict[str, list[datetime]] = {m: [] for m in MARKS}
    for entry in session.exec(
        select(LogEntry).where(LogEntry.chain == chain, LogEntry.kind == "drill.milestone")
    ):
        payload = json.loads(entry.payload_json)
        if payload.get("milestone") in marks:
            marks[payload["milestone"]].append(as_utc(datetime.fromisoformat(payload["exercise_time"])))
    ticks: list[datetime] = []
    arrivals: list[datetime] = []
    run = session.exec(select(PlaybookRun).where(PlaybookRun.incident_id == inc.id)).first()
    if run is not None:
        for state in session.exec(select(StepState).where(StepState.run_id == run.id)):
            checked = json.loads(state.checklist_json or "{}")
            if "departed" in checked and checked["departed"].get("at"):
                ticks.append(exercise_time(inc, datetime.fromisoformat(checked["departed"]["at"])))
            answer = json.loads(state.form_json or "{}").get("arrival_time")
            if answer:
                arrivals.append(as_utc(datetime.fromisoformat(answer)))
    samples = session.exec(
        select(Sample.sampled_at).where(Sample.incident_id == inc.id, Sample.sample_type == "normal")
    ).all()
    first_sample = _first(*samples)
    synthetic = {
        o.result_id: o.available_ex_at
        for o in session.exec(
            select(DrillObservation).where(
                DrillObservation.incident_id == inc.id, col(DrillObservation.result_id).is_not(None)
            )
        )
    }
    data_times = [
        synthetic[r.id] if r.id in synthetic else exercise_time(inc, r.entered_at)
        for r in session.exec(select(Result).where(Result.incident_id == inc.id))
    ]
    flash = list(session.exec(select(Report).where(Report.incident_id == inc.id, Report.kind == "flash")))
    return {
        "alert": as_utc(inc.alert_at),
        "depart": _first(
            *(_ex(inc, t) for t in status_changes),
            *(_ex(inc, t) for t in checkins),
            *ticks,
            *marks["depart"],
        ),
        "on_site": _first(*arrivals, *marks["on_site"], first_sample),
        "first_sample": first_sample,
        "first_data": _first(*data_times),
        "flash_drafted": _first(*(_ex(inc, r.created_at) for r in flash)),
        "first_flash_report": _first(*(_ex(inc, r.released_at) for r in flash)),
    }


def _forecast_errors(
    session: Session, inc: Incident, sc: DrillScenario
) -> dict[str, tuple[float | None, str]]:
    """metric name -> (value, note) for every receptor the truth reaches."""
    from incident.drills.exercise import _network, truth_forecast, truth_start
    from incident.plume import first_forecast, receptor_points

    player = first_forecast(session, inc.code)  # the players' first stored forecast
    if player is None:
        return {}
    net = _network(session, inc)
    truth = truth_forecast(net, inc, sc, receptor_points(net))
    t0 = truth_start(inc, sc)
    p0 = as_utc(player.release_start)
    forecast = {
        p.label: {"leading_edge_h": p.leading_edge_h, "peak_h": p.peak_h, "peak_mg_l": p.peak_mg_l}
        for p in player.points
    }
    out: dict[str, tuple[float | None, str]] = {}
    for tp in truth.points:
        if tp.leading_edge_h is None:
            continue
        fp = forecast.get(tp.label)
        label = tp.label
        pairs = (
            ("forecast_arrival_error", tp.leading_edge_h, fp.get("leading_edge_h") if fp else None),
            ("forecast_peak_error", tp.peak_h, fp.get("peak_h") if fp else None),
        )
        for name, truth_h, fc_h in pairs:
            if truth_h is None:
                continue
            if fc_h is None:
                out[f"{name}:{label}"] = (None, "the forecast did not reach it")
                out[f"{name}_pct:{label}"] = (None, "the forecast did not reach it")
                continue
            err_h = ((p0 + timedelta(hours=fc_h)) - (t0 + timedelta(hours=truth_h))).total_seconds() / 3600
            pct = 100 * err_h / truth_h if truth_h > 0 else None
            note = (
                f"forecast {fc_h:.1f} h after its release start, truth {truth_h:.1f} h after the real start"
            )
            out[f"{name}:{label}"] = (err_h, note)
            out[f"{name}_pct:{label}"] = (pct, note)
        fp_peak = fp.get("peak_mg_l") if fp else None
        if fp_peak and tp.peak_mg_l:
            out[f"forecast_peak_ratio:{label}"] = (
                fp_peak / tp.peak_mg_l,
                f"forecast peak {fp_peak:.4g} mg/L, true peak {tp.peak_mg_l:.4g} mg/L",
            )
    return out


def capture_metrics(session: Session, code: str) -> dict[str, DrillMetric]:
    """Derive every metric from the records, store them, and refresh the suggested ratings."""
    from incident.drills.exercise import require_exercise

    inc, sc = require_exercise(session, code)
    alert = as_utc(inc.alert_at)
    existing = {m.name: m for m in session.exec(select(DrillMetric).where(DrillMetric.incident_id == inc.id))}
    values: dict[str, tuple[datetime | None, float | None, str]] = {}
    for name, at in _milestones(session, inc).items():
        if at is not None:
            values[name] = (at, (at - alert).total_seconds() / 60, "")
    for name, (value, note) in _forecast_errors(session, inc, sc).items():
        values[name] = (None, value, note)
    for name, (at, value, note) in values.items():
        row = existing.get(name) or DrillMetric(incident_id=row_id(inc), name=name)
        if (row.at, row.value, row.note) != (at, value, note):
            row.at, row.value, row.note = at, value, note
            session.add(row)
        existing[name] = row
    session.flush()
    _suggest(session, inc, sc, existing)
    return existing


# ---------------------------------------------------------------- ratings


def _band(ratio: float) -> str:
    return "P" if ratio <= 1 else "S" if ratio <= 1.5 else "M" if ratio <= 2 else "U"


def suggest_rating(
    target: dict, metric: str, metrics: dict[str, DrillMetric], *, elapsed_min: float, ended: bool
) -> tuple[str | None, str]:
    """(suggested rating or None, basis) for one capability target (rule in the module docstring)."""
    within, max_err = target.get("within_min"), target.get("max_error_pct")
    if within is not None:
        m = metrics.get(metric)
        if m is None or m.value is None:
            if ended or elapsed_min > 2 * within:
                return "U", f"not done by {fmt_elapsed(elapsed_min)} (target {within:g} min)"
            return None, f"not done yet (target {within:g} min)"
        return _band(m.value / within), f"{fmt_elapsed(m.value)} against a target of {within:g} min"
    if max_err is not None:
        base, _, receptor = metric.partition(":")
        m = metrics.get(f"{base}_pct:{receptor}")
        if m is None:
            if ended:
                return "U", "no forecast was made"
            return None, "no forecast yet"
        if m.value is None:
            return "U", m.note or "the forecast missed it"
        return _band(abs(m.value) / max_err), f"error {m.value:+.0f} % against ±{max_err:g} %"
    return None, "no target"


def _suggest(session: Session, inc: Incident, sc: DrillScenario, metrics: dict[str, DrillMetric]) -> None:
    clock = exercise_clock(inc)
    elapsed = clock.elapsed_min() if clock else 0.0
    ended = inc.status == "closed"
    for ev in session.exec(select(DrillEvaluation).where(DrillEvaluation.incident_id == inc.id)):
        rating, basis = suggest_rating(
            json.loads(ev.target_json or "{}"), ev.metric, metrics, elapsed_min=elapsed, ended=ended
        )
        if (ev.suggested_rating, ev.basis) != (rating, basis):
            ev.suggested_rating, ev.basis = rating, basis
            session.add(ev)
    session.flush()


# ---------------------------------------------------------------- evaluation and improvement plan


def _evaluation(session: Session, inc: Incident, capability: str) -> DrillEvaluation:
    rows = list(session.exec(select(DrillEvaluation).where(DrillEvaluation.incident_id == inc.id)))
    wanted = capability.strip().casefold()
    for ev in rows:
        zh = json.loads(ev.target_json or "{}").get("zh") or ""
        if wanted in (ev.capability.casefold(), zh.casefold()):
            return ev
    raise UserError(
        "errors.drills.no_capability_drill",
        where="capability",
        capability=repr(capability),
        value=", ".join(ev.capability for ev in rows),
    )


def rate(
    session: Session,
    code: str,
    capability: str,
    rating: str,
    *,
    evaluator: str,
    strengths: str | None = None,
    improvements: str | None = None,
) -> DrillEvaluation:
    """The evaluator confirms or changes the suggested rating (P/S/M/U) and notes what was seen."""
    from incident.drills.exercise import require_exercise

    inc, _sc = require_exercise(session, code)
    rating = (rating or "").strip().upper()
    problems = []
    if rating not in RATINGS:
        problems.append(UserError("errors.drills.rating_not_p_s", where="rating", rating=repr(rating)))
    if not evaluator or not evaluator.strip():
        problems.append(UserError("errors.drills.empty", where="evaluator"))
    ev = _evaluation(session, inc, capability)
    if problems:
        if len(problems) == 1:
            raise problems[0]
        from incident.core.errors import ValidationErrors

        raise ValidationErrors("rating", problems, outcome="errors.outcome.nothing_saved")
    capture_metrics(session, inc.code)
    ev.rating, ev.evaluator, ev.rated_at = rating, evaluator.strip(), utcnow()
    if strengths is not None:
        ev.strengths = strengths.strip()
    if improvements is not None:
        ev.improvements = improvements.strip()
    session.add(ev)
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=evaluator.strip(),
        kind="drill.rated",
        incident_id=inc.id,
        summary=f"{ev.capability}: rated {rating}"
        + (
            f" (suggested {ev.suggested_rating})"
            if ev.suggested_rating and ev.suggested_rating != rating
            else ""
        ),
        payload={
            "capability": ev.capability,
            "rating": rating,
            "suggested": ev.suggested_rating,
            "basis": ev.basis,
            "strengths": ev.strengths,
            "improvements": ev.improvements,
        },
    )
    session.flush()
    return ev


def parse_due(text: str | date, *, where: str = "due") -> date:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise UserError("errors.drills.not_date", where=where, text=repr(text)) from None


def add_corrective_action(
    session: Session, code: str, capability: str, action: str, *, owner: str, due: str | date, actor: str
) -> CorrectiveAction:
    """An improvement-plan line: what will be done, by whom, by when."""
    from incident.drills.exercise import require_exercise

    inc, _sc = require_exercise(session, code)
    problems = []
    if not action or not action.strip():
        problems.append(UserError("errors.drills.empty_2", where="action"))
    if not owner or not owner.strip():
        problems.append(UserError("errors.drills.empty_3", where="owner"))
    due_on = None
    try:
        due_on = parse_due(due)
    except UserError as exc:
        problems.append(exc)
    ev = None
    try:
        ev = _evaluation(session, inc, capability)
    except UserError as exc:
        problems.append(exc)
    if problems:
        if len(problems) == 1:
            raise problems[0]
        from incident.core.errors import ValidationErrors

        raise ValidationErrors("corrective action", problems, outcome="errors.outcome.nothing_saved")
    assert ev is not None and due_on is not None
    row = CorrectiveAction(
        incident_id=row_id(inc),
        capability=ev.capability,
        action=action.strip(),
        owner=owner.strip(),
        due_on=due_on,
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="drill.corrective_action",
        incident_id=inc.id,
        summary=f"Corrective action for {ev.capability}: {row.action} (owner {row.owner}, due {due_on})",
        payload={"capability": ev.capability, "action": row.action, "owner": row.owner, "due_on": due_on},
    )
    return row


def mark(
    session: Session, code: str, milestone: str, *, actor: str, at: str | None = None, note: str = ""
) -> datetime:
    """An evaluator records an observed milestone (crew departed / on site) on the exercise clock."""
    from incident.drills.exercise import require_exercise

    inc, _sc = require_exercise(session, code)
    if milestone not in MARKS:
        raise UserError(
            "errors.drills.unknown_milestone",
            where="milestone",
            milestone=repr(milestone),
            value=" or ".join(MARKS),
        )
    clock = exercise_clock(inc)
    when = parse_local(at) if at else (clock.now() if clock else utcnow())
    if when < as_utc(inc.alert_at):
        raise UserError("errors.drills.before_alert", field="at")
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="drill.milestone",
        incident_id=inc.id,
        summary=f"Observed: {milestone.replace('_', ' ')} at {fmt_elapsed((when - as_utc(inc.alert_at)).total_seconds() / 60)}"
        + (f" ({note})" if note else ""),
        payload={"milestone": milestone, "exercise_time": when, "note": note},
    )
    capture_metrics(session, inc.code)
    return when


# ---------------------------------------------------------------- the status view


@dataclass
class MetricView:
    name: str
    at: datetime | None
    value: float | None
    note: str


@dataclass
class EvaluationView:
    capability: str
    capability_zh: str | None
    metric: str
    target: str
    within_min: float | None
    max_error_pct: float | None
    suggested: str | None
    basis: str
    rating: str | None
    evaluator: str | None
    strengths: str
    improvements: str


@dataclass
class ActionView:
    capability: str
    action: str
    owner: str
    due_on: date
    status: str


@dataclass
class DrillStatus:
    code: str
    title: str
    title_zh: str | None
    scenario: str
    scenario_zh: str | None
    status: str
    alert_at: datetime
    now: datetime
    elapsed_min: float
    speed: float
    ended: bool
    injects: list  # InjectView, delivered only (all with controller=True)
    metrics: list[MetricView]
    evaluations: list[EvaluationView]
    actions: list[ActionView]
    pending_results: int
    upcoming_injects: int = 0
    timeline: list[MetricView] = field(default_factory=list)  # the TIMELINE_METRICS in order


def _target_text(target: dict, metric: str) -> str:
    if target.get("within_min") is not None:
        return f"≤ {target['within_min']:g} min"
    if target.get("max_error_pct") is not None:
        return f"±{target['max_error_pct']:g} %"
    return "—"


def drill_status(session: Session, code: str, *, controller: bool = False) -> DrillStatus:
    """The drill as the players see it; ``controller=True`` (exercise control, the AAR) adds the
    injects still to come and the forecast-against-truth metrics, which would give the truth away
    while the drill runs (they are shown to everyone after ENDEX)."""
    from incident.drills.exercise import injects, pending_results, require_exercise

    inc, sc = require_exercise(session, code)
    metrics = capture_metrics(session, code)
    clock = exercise_clock(inc)
    assert clock is not None
    reveal = controller or inc.status == "closed"
    views = [
        MetricView(m.name, m.at, m.value, m.note)
        for m in metrics.values()
        if reveal or not m.name.startswith("forecast_")
    ]
    order = {n: i for i, n in enumerate(TIMELINE_METRICS)}
    views.sort(key=lambda m: (order.get(m.name, len(order)), m.name))
    evs = []
    for ev in session.exec(
        select(DrillEvaluation).where(DrillEvaluation.incident_id == inc.id).order_by(col(DrillEvaluation.id))
    ):
        target = json.loads(ev.target_json or "{}")
        hidden = not reveal and target.get("max_error_pct") is not None
        evs.append(
            EvaluationView(
                capability=ev.capability,
                capability_zh=target.get("zh"),
                metric=ev.metric,
                target=_target_text(target, ev.metric),
                within_min=target.get("within_min"),
                max_error_pct=target.get("max_error_pct"),
                suggested=None if hidden else ev.suggested_rating,
                basis="compared with the truth at ENDEX" if hidden else ev.basis,
                rating=ev.rating,
                evaluator=ev.evaluator,
                strengths=ev.strengths,
                improvements=ev.improvements,
            )
        )
    actions = [
        ActionView(a.capability, a.action, a.owner, a.due_on, a.status)
        for a in session.exec(
            select(CorrectiveAction)
            .where(CorrectiveAction.incident_id == inc.id)
            .order_by(col(CorrectiveAction.id))
        )
    ]
    all_injects = injects(session, code, include_pending=True)
    by_name = {m.name: m for m in views}
    return DrillStatus(
        code=inc.code,
        title=inc.title,
        title_zh=inc.title_zh,
        scenario=sc.name,
        scenario_zh=sc.name_zh,
        status=inc.status,
        alert_at=as_utc(inc.alert_at),
        now=clock.now(),
        elapsed_min=clock.elapsed_min(),
        speed=clock.speed,
        ended=inc.status == "closed",
        injects=[i for i in all_injects if controller or i.delivered],
        metrics=views,
        evaluations=evs,
        actions=actions,
        pending_results=pending_results(session, code),
        upcoming_injects=sum(1 for i in all_injects if not i.delivered),
        timeline=[by_name.get(n) or MetricView(n, None, None, "") for n in TIMELINE_METRICS],
    )


# ---------------------------------------------------------------- comparing drills


def compare(session: Session, *, year: int | None = None) -> list[dict]:
    """One row per drill (exercise incident) of the year: timeline minutes and ratings."""
    from incident.core.clock import to_local

    rows = []
    q = select(Incident).where(
        col(Incident.is_exercise).is_(True), col(Incident.exercise_scenario_json).is_not(None)
    )
    for inc in session.exec(q.order_by(col(Incident.alert_at))):
        if year is not None and to_local(inc.alert_at).year != year:
            continue
        status = drill_status(session, inc.code, controller=True)
        row: dict[str, Any] = {
            "code": inc.code,
            "date": to_local(inc.alert_at).date().isoformat(),
            "scenario": status.scenario,
            "speed": clock.segments[0][2] if (clock := exercise_clock(inc)) else None,
            "ended": status.ended,
        }
        for m in status.timeline:
            row[m.name] = None if m.value is None else round(m.value, 1)
        row["ratings"] = {ev.capability: ev.rating or ev.suggested for ev in status.evaluations}
        counts = {r: 0 for r in RATINGS}
        for ev in status.evaluations:
            final = ev.rating or ev.suggested
            if final in counts:
                counts[final] += 1
        row["rating_counts"] = counts
        rows.append(row)
    return rows
