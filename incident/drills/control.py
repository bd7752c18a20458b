"""Exercise control: start, tick and ENDEX. Each step captures the drill metrics, so
these live above both the exercise records and the metrics."""

from __future__ import annotations

import json
import math
from pathlib import Path

from sqlmodel import Session

from incident.core import accounts, log
from incident.core.clock import as_utc, exercise_clock, fmt_elapsed, incident_now, utcnow
from incident.core.errors import UserError
from incident.core.incidents import NewIncident, create_incident
from incident.core.store.tables import DrillEvaluation, DrillInject, Incident, row_id
from incident.drills.exercise import (
    TickResult,
    _deliver_injects,
    _release_results,
    require_exercise,
    set_speed,
)
from incident.drills.metrics import capture_metrics
from incident.drills.scenario import load_drill_scenario


def start_drill(
    session: Session,
    scenario_path: str | Path,
    *,
    actor: str,
    speed: float | None = None,
) -> Incident:
    """Open the exercise incident, schedule its injects and targets, start its playbook."""
    accounts.require(session, "drill.control")
    from incident.core.networks import import_network
    from incident.core.rivers import load_river_file
    from incident.drills.scenario import MAX_SPEED
    from incident.playbook import start_run

    sc = load_drill_scenario(scenario_path)
    if speed is not None:
        if not math.isfinite(speed) or not 0 < speed <= MAX_SPEED:
            raise UserError(
                "errors.drills.speed_not_playable", field="speed", speed=speed, max_speed=MAX_SPEED
            )
        sc.speed = float(speed)
    net = load_river_file(sc.river)
    net_row = import_network(session, net)
    now = utcnow()
    rep = sc.reported
    lat, lon = rep.position.lat, rep.position.lon
    if lat is None and rep.position.reach is not None and rep.position.km is not None:
        lat, lon = net.point_at(rep.position.reach, net.offset_for_km(rep.position.reach, rep.position.km))
    description = rep.description + (f"\n\nCaller: {rep.caller}" if rep.caller else "")
    inc = create_incident(
        session,
        NewIncident(
            title=rep.title,
            title_zh=rep.title_zh,
            alert_at=now,
            river_network_id=net_row.id,
            is_exercise=True,
            source_lat=lat,
            source_lon=lon,
            substance=rep.substance,
            pollutant_class=rep.pollutant_class,
            mass_kg=rep.mass_kg,
            release_duration_h=rep.release_duration_h,
            description=description,
            exercise_scenario_json=sc.to_json(),
        ),
        actor=actor,
    )
    inc.exercise_started_at = now
    inc.exercise_speed = sc.speed
    inc.exercise_clock_json = json.dumps(
        [{"wall": now.isoformat(), "ex": now.isoformat(), "speed": sc.speed}]
    )
    session.add(inc)
    for inj in sc.injects:
        session.add(
            DrillInject(
                incident_id=row_id(inc),
                at_minutes=inj.at_min,
                title=inj.title,
                message=inj.message,
                sender=inj.sender,
                kind=inj.kind,
            )
        )
    for tg in sc.targets:
        session.add(
            DrillEvaluation(
                incident_id=row_id(inc),
                capability=tg.capability,
                metric=tg.metric,
                target_json=json.dumps(
                    {"within_min": tg.within_min, "max_error_pct": tg.max_error_pct, "zh": tg.capability_zh}
                ),
            )
        )
    session.flush()
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="drill.started",
        incident_id=inc.id,
        summary=f"Exercise started: {sc.name} (clock ×{sc.speed:g})",
        payload={
            "scenario": sc.name,
            "scenario_file": Path(sc.source).name,
            "scenario_sha256": sc.sha256,
            "speed": sc.speed,
            "playbook": sc.playbook,
            "injects": len(sc.injects),
            "targets": [t.capability for t in sc.targets],
        },
    )
    # the exercise's own roster: the players are copied from the real roster (real crews stay untouched)
    from incident.sampling import copy_crews_to_exercise

    copy_crews_to_exercise(session, inc.code, None, actor=actor)
    start_run(session, inc.code, sc.playbook, actor=actor)
    capture_metrics(session, inc.code)
    return inc


def end_drill(session: Session, code: str, *, actor: str) -> Incident:
    """Stop the clock (ENDEX) and capture the final metrics; missing milestones become U."""
    accounts.require(session, "drill.control")
    inc, _sc = require_exercise(session, code)
    if inc.status == "closed":
        raise UserError("errors.drills.drill_has_already_ended", where=inc.code, code=inc.code)
    tick(session, code, actor=actor)
    set_speed(session, code, 0.0, actor=actor)
    inc.status = "closed"
    session.add(inc)
    clock = exercise_clock(inc)
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="drill.ended",
        incident_id=inc.id,
        summary=f"ENDEX: exercise ended at {fmt_elapsed(clock.elapsed_min()) if clock else '—'}",
        payload={},
    )
    session.flush()
    capture_metrics(session, inc.code)
    return inc


def tick(session: Session, code: str, *, actor: str) -> TickResult:
    """Bring the exercise up to its clock: injects, lab results, metrics. Idempotent."""
    inc, sc = require_exercise(session, code)
    now_ex = incident_now(inc)
    delivered = _deliver_injects(session, inc, now_ex, actor)
    released = _release_results(session, inc, sc, now_ex)
    capture_metrics(session, inc.code)
    return TickResult(
        code=inc.code,
        now=now_ex,
        elapsed_min=(now_ex - as_utc(inc.alert_at)).total_seconds() / 60,
        injects=delivered,
        results=released,
    )
