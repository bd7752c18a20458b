"""Drills: exercise incidents with a hidden truth, an exercise clock, injects and synthetic results.

- :func:`start_drill` opens an exercise incident (code ``EX-YYYY-NNNN``) from a scenario
  file. Its visible fields are only what the caller reported; the truth is kept in
  ``Incident.exercise_scenario_json`` and shown to nobody until the after-action report.
- The exercise clock runs at ×N real time from the alert (the wall-clock start);
  :func:`incident.core.clock.incident_now` gives "now" on it for deadlines.
- :func:`tick` delivers injects whose time has come (log kind ``drill.inject``), hands
  the lab's synthetic results to the results service once their turnaround has passed
  (real evidence rows in the hash chain) and captures the timeline metrics.
- :func:`take_sample` registers a sample at a plan point on the exercise clock and
  draws its result from the truth model (the same transport solver, run on the hidden
  spill): log-normal noise with the method's CV (the geometric mean is the truth; the
  arithmetic coefficient of variation is the CV), the method's detection limit, its
  turnaround, and rapid-style reporting (ranges, detected / not detected).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, exercise_clock, fmt_elapsed, fmt_local, incident_now, utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.rivers import RiverNetworkData
from incident.core.store.tables import DrillInject, DrillObservation, Equipment, Incident, row_id
from incident.drills.scenario import DrillScenario, LabMethod, Position
from incident.plume import (
    ForecastPointSpec,
    ForecastRequest,
    IncidentForecast,
    Spill,
    run_forecast,
    standard_for,
)

EXERCISE_PREFIX = "EX-"


def is_exercise_code(code: str | None) -> bool:
    """Exercise incidents are numbered EX-YYYY-NNNN (incidents.create_incident)."""
    return bool(code) and str(code).upper().startswith(EXERCISE_PREFIX)


# ---------------------------------------------------------------- plain views


@dataclass
class InjectView:
    at_min: float
    title: str
    message: str
    sender: str
    kind: str
    delivered: bool
    delivered_ex_at: datetime | None = None


@dataclass
class ObservationView:
    sample: str
    point: str | None
    parameter: str
    method: str
    sampled_ex_at: datetime
    available_ex_at: datetime
    delivered: bool
    result_text: str | None = None  # once delivered


@dataclass
class TickResult:
    code: str
    now: datetime
    elapsed_min: float
    injects: list[InjectView] = field(default_factory=list)
    results: list[ObservationView] = field(default_factory=list)


# ---------------------------------------------------------------- scenario of an incident


def require_exercise(session: Session, code: str) -> tuple[Incident, DrillScenario]:
    inc = get_incident(session, code)
    if not inc.is_exercise or not inc.exercise_scenario_json:
        raise UserError("errors.drills.not_drill", where=inc.code, code=inc.code)
    return inc, DrillScenario.from_json(inc.exercise_scenario_json)


def _network(session: Session, inc: Incident) -> RiverNetworkData:
    from incident.core.networks import load_network

    assert inc.river_network_id is not None
    return load_network(session, inc.river_network_id)


def _on_river(net: RiverNetworkData, pos: Position) -> tuple[str, float]:
    """(reach, offset from the reach's upstream end) of a scenario position."""
    if pos.reach is not None and pos.km is not None:
        return pos.reach, net.offset_for_km(pos.reach, pos.km)
    assert pos.lat is not None and pos.lon is not None
    snap = net.snap(pos.lat, pos.lon)
    return snap.reach_id, snap.offset_m


# ---------------------------------------------------------------- starting and the clock


def set_speed(session: Session, code: str, speed: float, *, actor: str) -> Incident:
    """Change the exercise clock's speed from now on (0 pauses it); past times keep their mapping."""
    from incident.drills.scenario import MAX_SPEED

    inc, _sc = require_exercise(session, code)
    if not math.isfinite(speed) or not 0 <= speed <= MAX_SPEED:
        raise UserError("errors.drills.speed_not_playable_2", where="speed", speed=speed, max_speed=MAX_SPEED)
    if inc.status in ("terminated", "closed"):
        raise UserError("errors.drills.drill_has_ended", where=inc.code, code=inc.code)
    clock = exercise_clock(inc)
    assert clock is not None
    now = utcnow()
    ex_now = clock.at(now)
    segments = json.loads(inc.exercise_clock_json or "[]")
    segments.append({"wall": now.isoformat(), "ex": ex_now.isoformat(), "speed": float(speed)})
    inc.exercise_clock_json = json.dumps(segments)
    inc.exercise_speed = float(speed)
    session.add(inc)
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="drill.clock",
        incident_id=inc.id,
        summary=(
            f"Exercise clock paused at {fmt_elapsed(clock.elapsed_min(now))}"
            if speed == 0
            else f"Exercise clock ×{speed:g} from {fmt_elapsed(clock.elapsed_min(now))}"
        ),
        payload={"speed": speed, "exercise_time": ex_now},
    )
    session.flush()
    return inc


# ---------------------------------------------------------------- injects


def _inject_view(row: DrillInject) -> InjectView:
    return InjectView(
        at_min=row.at_minutes,
        title=row.title,
        message=row.message,
        sender=row.sender,
        kind=row.kind,
        delivered=row.delivered_at is not None,
        delivered_ex_at=row.delivered_ex_at,
    )


def injects(session: Session, code: str, *, include_pending: bool = False) -> list[InjectView]:
    """Injects the players have received (all of them, for the exercise control)."""
    inc, _sc = require_exercise(session, code)
    rows = session.exec(
        select(DrillInject).where(DrillInject.incident_id == inc.id).order_by(col(DrillInject.at_minutes))
    )
    return [_inject_view(r) for r in rows if include_pending or r.delivered_at is not None]


def _deliver_injects(session: Session, inc: Incident, now_ex: datetime, actor: str) -> list[InjectView]:
    out = []
    rows = session.exec(
        select(DrillInject)
        .where(DrillInject.incident_id == inc.id, col(DrillInject.delivered_at).is_(None))
        .order_by(col(DrillInject.at_minutes))
    )
    for row in rows:
        due = as_utc(inc.alert_at) + timedelta(minutes=row.at_minutes)
        if due > now_ex:
            continue
        row.delivered_at = utcnow()
        row.delivered_ex_at = due
        session.add(row)
        log.append(
            session,
            chain=log.incident_chain(inc.code),
            actor="exercise control",
            kind="drill.inject",
            incident_id=inc.id,
            summary=f"Inject at {fmt_elapsed(row.at_minutes)}"
            + (f" from {row.sender}" if row.sender else "")
            + f": {row.title}",
            payload={
                "at_min": row.at_minutes,
                "kind": row.kind,
                "from": row.sender,
                "title": row.title,
                "message": row.message,
                "delivered_by": actor,
            },
        )
        out.append(_inject_view(row))
    session.flush()
    return out


# ---------------------------------------------------------------- the truth model

_TRUTH_CACHE: dict[tuple, IncidentForecast] = {}
_TRUTH_CACHE_SIZE = 64


def truth_start(inc: Incident, sc: DrillScenario) -> datetime:
    """When the hidden spill really began."""
    return as_utc(inc.alert_at) + timedelta(minutes=sc.truth.offset_min)


def truth_forecast(
    net: RiverNetworkData, inc: Incident, sc: DrillScenario, points: list[ForecastPointSpec]
) -> IncidentForecast:
    """The truth run (cached per scenario, alert time and output points)."""
    key = (
        sc.sha256,
        as_utc(inc.alert_at).isoformat(),
        net.sha256,
        tuple((p.label, p.reach_id, round(p.offset_m, 3)) for p in points),
    )
    hit = _TRUTH_CACHE.get(key)
    if hit is not None:
        return hit
    reach, offset = _on_river(net, sc.truth.position)
    standard, _det = standard_for(sc.truth.substance)
    req = ForecastRequest(
        network=net,
        start=truth_start(inc, sc),
        horizon_h=sc.horizon_h,
        spills=[Spill(reach, offset, mass_kg=sc.truth.mass_kg, duration_h=sc.truth.duration_h)],
        points=points,
        substance=sc.truth.substance,
        decay_per_day=sc.truth.decay_per_day,
        standard_mg_l=standard,
        background_mg_l=sc.truth.background_mg_l,
        velocity_factor=sc.truth.velocity_factor,
        dispersion_factor=sc.truth.dispersion_factor,
        profile_every_h=0,
        name=f"{inc.code} truth",
    )
    fc = run_forecast(req)
    if len(_TRUTH_CACHE) >= _TRUTH_CACHE_SIZE:
        _TRUTH_CACHE.pop(next(iter(_TRUTH_CACHE)))
    _TRUTH_CACHE[key] = fc
    return fc


def truth_concentration(
    net: RiverNetworkData, inc: Incident, sc: DrillScenario, reach_id: str, offset_m: float, at: datetime
) -> float:
    """The truth model's concentration (mg/L) at a river position and exercise time."""
    point = ForecastPointSpec("drill-point", "drill point", reach_id, offset_m)
    fc = truth_forecast(net, inc, sc, [point])
    hours = (as_utc(at) - truth_start(inc, sc)).total_seconds() / 3600
    if hours <= 0:
        return sc.truth.background_mg_l
    if hours > fc.times_h[-1]:
        raise UserError(
            "errors.drills.sampling_time_h_after", where="time", hours=hours, horizon_h=sc.horizon_h
        )
    return float(np.interp(hours, fc.times_h, fc.curves_mg_l[0]))


# ---------------------------------------------------------------- synthetic measurements


def lognormal_sigma(cv: float) -> float:
    """σ of ln(X) for a log-normal X whose arithmetic coefficient of variation is ``cv``."""
    return math.sqrt(math.log1p(cv * cv))


def draw_measurement(truth_mg_l: float, cv: float, rng: np.random.Generator) -> float:
    """One noisy measurement: truth·exp(σ·Z), Z ~ N(0, 1), σ = √ln(1+CV²).

    The median and the geometric mean of the draws equal the truth; their arithmetic
    coefficient of variation equals ``cv``.
    """
    if truth_mg_l <= 0:
        return 0.0
    return truth_mg_l * math.exp(lognormal_sigma(cv) * rng.standard_normal())


def _g(x: float) -> str:
    """A value as the lab writes it: 4 significant figures, no exponent for ordinary values."""
    return f"{x:.4g}" if x >= 1e-4 else f"{x:.6f}".rstrip("0")


def result_fields(measured_mg_l: float, method: LabMethod, parameter: str, sample_code: str) -> dict:
    """The ResultInput fields the lab reports for one measured value, in the method's style."""
    from incident.core import standards

    known = standards.methods().get(method.key)
    base = {
        "sample": sample_code,
        "parameter": parameter,
        "unit": "mg/L",
        "method": method.key,
        "rapid": bool(known and known.kind == "rapid"),
        "instrument": method.instrument,
    }
    dl = method.detection_limit_mg_l
    if method.style == "qualitative":
        return base | {"detected": "yes" if measured_mg_l >= dl else "no", "unit": "mg/L"}
    if method.style == "range":
        edges = method.ranges_mg_l
        if measured_mg_l < max(dl, edges[0]):
            low = max(dl, edges[0])
            return base | {"value": f"<{_g(low)}", "detection_limit": _g(low)}
        for lo, hi in zip(edges, edges[1:], strict=False):
            if lo <= measured_mg_l < hi:
                return base | {"value": _g(lo), "value_high": _g(hi)}
        return base | {"detected": "yes"}  # above the top of the scale: positive, over range
    if measured_mg_l < dl:
        return base | {"value": f"<{_g(dl)}", "detection_limit": _g(dl)}
    return base | {"value": _g(measured_mg_l), "detection_limit": _g(dl)}


def _rng(sc: DrillScenario, sample_id: int, method_key: str) -> np.random.Generator:
    salt = int.from_bytes(method_key.encode()[:8].ljust(8, b"\0"), "little")
    return np.random.default_rng([sc.seed, sample_id, salt])


@dataclass
class SampleTaken:
    sample: str
    point: str
    sampled_ex_at: datetime
    method: str
    available_ex_at: datetime


def take_sample(
    session: Session,
    code: str,
    *,
    point: str,
    sampler: str,
    actor: str,
    method: str | None = None,
    at: datetime | None = None,
    round: int | None = None,
) -> SampleTaken:
    """Register a sample on the exercise clock and schedule its synthetic result."""
    from incident.results import NewSample, create_sample, find_point

    inc, sc = require_exercise(session, code)
    if inc.status == "closed":
        raise UserError("errors.drills.drill_has_ended", where=inc.code, code=inc.code)
    lab = sc.method(method)
    if lab.instrument:
        eq = session.exec(select(Equipment).where(Equipment.asset_tag == lab.instrument)).first()
        if eq is None:
            raise UserError(
                "errors.drills.scenario_s_method_names",
                where=f"{Path(sc.source).name}: [[lab.method]] {lab.key} instrument",
                key_name=lab.key,
                instrument=repr(lab.instrument),
            )
    now_ex = incident_now(inc)
    sampled_at = as_utc(at) if at is not None else now_ex.replace(microsecond=0)
    pt = find_point(session, inc, point, where="--point")
    net = _network(session, inc)
    truth = truth_concentration(net, inc, sc, pt.reach_id, net.offset_for_km(pt.reach_id, pt.km), sampled_at)
    info = create_sample(
        session,
        inc.code,
        NewSample(
            point=pt.number,
            sampled_at=sampled_at,
            sampler=sampler,
            round=round,
            parameters=[sc.truth.substance],
        ),
        actor=actor,
    )
    measured = draw_measurement(truth, lab.cv, _rng(sc, info.id, lab.key))
    available = sampled_at + timedelta(minutes=lab.turnaround_min)
    session.add(
        DrillObservation(
            incident_id=row_id(inc),
            sample_id=info.id,
            parameter=sc.truth.substance,
            method=lab.key,
            truth_mg_l=truth,
            measured_mg_l=measured,
            sampled_ex_at=sampled_at,
            available_ex_at=available,
            input_json=json.dumps(result_fields(measured, lab, sc.truth.substance, info.code)),
            created_at=utcnow(),
        )
    )
    session.flush()
    return SampleTaken(info.code, pt.number, sampled_at, lab.key, available)


def _release_results(
    session: Session, inc: Incident, sc: DrillScenario, now_ex: datetime
) -> list[ObservationView]:
    from incident.results import ResultInput, add_result

    out = []
    rows = session.exec(
        select(DrillObservation)
        .where(DrillObservation.incident_id == inc.id, col(DrillObservation.delivered_at).is_(None))
        .order_by(col(DrillObservation.available_ex_at))
    )
    for obs in rows:
        if as_utc(obs.available_ex_at) > now_ex:
            continue
        fields = json.loads(obs.input_json)
        lab = sc.method(obs.method)
        view = add_result(
            session,
            inc.code,
            ResultInput(**fields, measured_at=as_utc(obs.sampled_ex_at)),
            actor=lab.lab or "drill laboratory",
        )
        obs.delivered_at = utcnow()
        obs.result_id = view.id
        session.add(obs)
        out.append(
            ObservationView(
                sample=view.sample,
                point=view.point,
                parameter=obs.parameter,
                method=obs.method,
                sampled_ex_at=obs.sampled_ex_at,
                available_ex_at=obs.available_ex_at,
                delivered=True,
                result_text=view.text + (" (suspected)" if view.status == "suspected" else ""),
            )
        )
    session.flush()
    return out


def pending_results(session: Session, code: str) -> int:
    inc, _sc = require_exercise(session, code)
    return len(
        session.exec(
            select(DrillObservation.id).where(
                DrillObservation.incident_id == inc.id, col(DrillObservation.delivered_at).is_(None)
            )
        ).all()
    )


# ---------------------------------------------------------------- the tick


def clock_line(inc: Incident) -> str:
    """'T+01:23 · ×10 · 03:53' for CLI headers."""
    clock = exercise_clock(inc)
    if clock is None:
        return "—"
    speed = "paused" if clock.paused else f"×{clock.speed:g}"
    return f"{fmt_elapsed(clock.elapsed_min())} · {speed} · {fmt_local(clock.now(), with_date=False)}"
