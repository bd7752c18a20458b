"""What the incident dashboard shows, as plain data (no ORM objects leave here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, exercise_speed, incident_now
from incident.core.incidents import get_incident
from incident.core.networks import ReceptorLine, downstream_receptors
from incident.core.store.tables import Crew, Incident, RiverNetwork
from incident.plume import latest_forecast


@dataclass
class CrewLine:
    name: str
    status: str  # available | assigned | out_of_service
    point: str | None = None  # sampling point of its live assignment
    slack_min: float | None = None


@dataclass
class ResultLine:
    point: str | None
    parameter: str
    text: str  # value as entered, with unit
    status: str  # final | suspected | confirmed | not_confirmed
    exceeds: bool
    multiple: float | None
    qc_flagged: bool
    sampled_at: datetime


@dataclass
class DashboardData:
    code: str
    title: str
    title_zh: str | None
    is_exercise: bool
    status: str
    alert_at: datetime
    elapsed_min: float
    substance: str | None
    mass_kg: float | None
    source_reach: str | None
    source_km: float | None
    river_name: str | None
    phase: str | None = None  # from the playbook run (current step's phase)
    next_deadline: tuple[str, datetime] | None = None  # (step title, due) of the soonest open deadline
    current_step: str | None = None  # title of the playbook's current step
    playbook_progress: tuple[int, int] | None = None  # (finished, steps on the route)
    receptors: list[ReceptorLine] = field(default_factory=list)
    crews: list[CrewLine] = field(default_factory=list)
    latest_results: list[ResultLine] = field(default_factory=list)
    exceedances: int = 0  # current results over the evaluation standard
    log_tail: list[tuple[datetime, str, str]] = field(default_factory=list)
    log_entries: int = 0
    release_start: datetime | None = None
    substance_zh: str | None = None
    forecast_at: datetime | None = None  # when the forecast shown was run
    forecast_id: int | None = None  # the stored forecast shown (incident.plume.latest_forecast)
    forecast_sha256: str | None = None
    now: datetime | None = None  # "now" for countdowns: the exercise clock in a drill
    exercise_speed: float | None = None  # the exercise clock's speed (×N; 0 = paused)
    preplan: list[PreplanLine] = field(default_factory=list)  # pre-plan rows of a source at/near this one


@dataclass
class PreplanLine:
    """One pre-plan row of a registered risk source at or near the incident's source."""

    source_id: str
    source_name: str
    intake_id: str
    intake_name: str
    flow: str
    arrival_p10_h: float | None
    arrival_p50_h: float | None
    arrival_p90_h: float | None
    peak_mg_l: float
    hours_above_standard: float
    reserve_h: float
    first_interception: str | None
    hours_to_act: float | None


def fill_from_playbook(session: Session, data: DashboardData) -> None:
    """Phase, current step and next deadline come from the incident's playbook run."""
    from incident.playbook import run_view

    view = run_view(session, data.code)
    if view is None:
        return
    phase = view.current_phase
    data.phase = str(phase.title) if phase else None
    data.current_step = str(view.current.step.title) if view.current else None
    nxt = view.next_deadline()
    data.next_deadline = (str(nxt.step.title), nxt.due_at) if nxt and nxt.due_at else None
    data.playbook_progress = view.progress


def fill_preplan(session: Session, inc: Incident, data: DashboardData) -> None:
    """The pre-plan rows of the registered source the incident is at (numbers known the day before)."""
    from incident.preplan import preplan_rows_near

    for r in preplan_rows_near(session, inc):
        ips = r.get("interception_points") or []
        data.preplan.append(
            PreplanLine(
                source_id=r["source_id"],
                source_name=r["source_name"],
                intake_id=r["intake_id"],
                intake_name=r["intake_name"],
                flow=r["flow"],
                arrival_p10_h=r["arrival_p10_h"],
                arrival_p50_h=r["arrival_p50_h"],
                arrival_p90_h=r["arrival_p90_h"],
                peak_mg_l=r["peak_mg_l"],
                hours_above_standard=r["hours_above_standard"],
                reserve_h=r["reserve_h"],
                first_interception=ips[0]["id"] if ips else None,
                hours_to_act=ips[0]["hours_to_act"] if ips else None,
            )
        )


def dashboard(session: Session, code: str) -> DashboardData:
    inc = get_incident(session, code)
    now = incident_now(inc)
    net_name = None
    if inc.river_network_id is not None:
        net = session.get(RiverNetwork, inc.river_network_id)
        net_name = net.name if net is not None else None
    data = DashboardData(
        code=inc.code,
        title=inc.title,
        title_zh=inc.title_zh,
        is_exercise=inc.is_exercise,
        status=inc.status,
        alert_at=inc.alert_at,
        elapsed_min=(now - inc.alert_at).total_seconds() / 60,
        now=now,
        exercise_speed=exercise_speed(inc),
        substance=inc.substance,
        mass_kg=inc.mass_kg,
        source_reach=inc.source_reach,
        source_km=inc.source_km,
        river_name=net_name,
    )
    if inc.substance:
        from incident.core import standards
        from incident.core.errors import UserError

        try:
            parameter = standards.resolve_parameter(inc.substance)
            data.substance, data.substance_zh = parameter.name, parameter.name_zh
        except UserError:
            pass  # not in the standards table: shown as recorded
    fill_from_playbook(session, data)
    fill_preplan(session, inc, data)
    data.receptors = downstream_receptors(session, inc)
    data.release_start = inc.release_start or inc.alert_at
    stored = latest_forecast(session, inc.code)
    if stored is not None:
        data.forecast_at = stored.made_at
        data.forecast_id, data.forecast_sha256 = stored.id, stored.content_sha256
        # hours after the incident's release start (a calibrated forecast moves its own time zero)
        shift_h = (as_utc(stored.release_start) - as_utc(data.release_start)).total_seconds() / 3600
        arrivals = stored.arrivals_h()
        for line in data.receptors:
            h = arrivals.get(line.receptor_id)
            line.arrival_h = None if h is None else h + shift_h
    from incident.results import result_records
    from incident.sampling import current_assignments

    live = current_assignments(session, inc.code)
    data.crews = [
        CrewLine(c.name, c.status, *(live[c.name][:2] if c.name in live else (None, None)))
        for c in session.exec(select(Crew).order_by(col(Crew.name)))
    ]
    views = [v for v in result_records(session, inc.code) if v.sample_type == "normal"]
    data.exceedances = sum(v.counts_as_exceedance for v in views)
    data.latest_results = [
        ResultLine(v.point, v.parameter, v.text, v.status, v.exceeds, v.multiple, v.flagged, v.sampled_at)
        for v in sorted(views, key=lambda v: (v.sampled_at, v.id), reverse=True)[:4]
    ]
    chain = log.incident_chain(inc.code)
    entries = log.entries(session, chain)
    data.log_entries = len(entries)
    from incident.overview.log_text import describe

    data.log_tail = [(e.at, e.actor, describe(e.kind, e.payload_json, e.summary)) for e in entries[-5:]][::-1]
    return data
