"""What a duty officer does with an alert: acknowledge it, dismiss it with a reason, or open an
incident from it. Each is one logged write; the alert's evidence is never changed.

Statuses: open → acknowledged → (dismissed | promoted); open → dismissed | promoted. A dismissed
alert keeps its events (a rescan never raises them again) but absorbs no new ones: an event after a
dismissal opens a new alert, so a wrong dismissal cannot hide a real spill.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, utcnow
from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.store.tables import Incident, LogEntry, Station, StationAlert
from incident.stations._store import STATIONS_CHAIN

ACTIVE = ("open", "acknowledged")  # an officer may still act on these
STATUSES = ("open", "acknowledged", "dismissed", "promoted", "closed")


def get_alert(session: Session, code: str) -> StationAlert:
    row = session.exec(select(StationAlert).where(StationAlert.code == code.strip())).first()
    if row is None:
        raise UserError("stations.alert.unknown", where="ID", code=code)
    return row


def _require(alert: StationAlert, allowed: tuple[str, ...], action: str) -> None:
    if alert.status not in allowed:
        raise UserError(
            "stations.alert.bad_status",
            where=alert.code,
            code=alert.code,
            status=alert.status,
            action=t(f"stations.alert.action_{action}"),
            allowed=", ".join(allowed),
        )


def acknowledge_alert(session: Session, code: str, *, actor: str) -> StationAlert:
    """Someone has seen it and is looking into it."""
    alert = get_alert(session, code)
    _require(alert, ("open",), "acknowledge")
    alert.status = "acknowledged"
    alert.updated_at = utcnow()
    session.add(alert)
    log.append(
        session,
        chain=STATIONS_CHAIN,
        actor=actor,
        kind="stations.alert.acknowledged",
        summary=f"Alert {alert.code} acknowledged",
        payload={"code": alert.code},
    )
    return alert


def dismiss_alert(session: Session, code: str, *, reason: str, actor: str) -> StationAlert:
    """Not a pollution event (instrument fault, known discharge, …): the reason is logged."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError("stations.alert.no_reason", where="--reason")
    alert = get_alert(session, code)
    _require(alert, ACTIVE, "dismiss")
    before = alert.status
    alert.status = "dismissed"
    alert.updated_at = utcnow()
    session.add(alert)
    log.append(
        session,
        chain=STATIONS_CHAIN,
        actor=actor,
        kind="stations.alert.dismissed",
        summary=f"Alert {alert.code} dismissed: {reason[:120]}",
        payload={"code": alert.code, "reason": reason, "status_before": before},
    )
    return alert


def dismissal_reasons(session: Session) -> dict[str, str]:
    """Alert code → the reason it was dismissed (from the log, the only place it is kept)."""
    rows = session.exec(
        select(LogEntry.payload_json)
        .where(LogEntry.chain == STATIONS_CHAIN)
        .where(LogEntry.kind == "stations.alert.dismissed")
        .order_by(col(LogEntry.seq))
    )
    out: dict[str, str] = {}
    for text in rows:
        payload = json.loads(text)
        out[payload["code"]] = payload["reason"]
    return out


def open_incident_from_alert(session: Session, code: str, *, actor: str, candidate: int = 1) -> Incident:
    """Open an incident with the alert's candidate source (rank `candidate`) as its source: place,
    release time and mass from the source trace. Without a trace (one station), the station that
    saw it first is the place and the first abnormal reading the release time. The alert's
    evidence, candidates and risk sources are logged on the new incident's chain."""
    from incident.core.incidents import NewIncident, create_incident
    from incident.core.networks import load_network

    alert = get_alert(session, code)
    _require(alert, ACTIVE, "open")
    station = session.exec(select(Station).where(Station.mn == alert.station_mn)).first()
    if station is None or station.river_network_id is None or station.reach_id is None or station.km is None:
        raise UserError(
            "stations.alert.no_place", where=alert.station_mn, code=alert.code, mn=alert.station_mn
        )
    candidates = json.loads(alert.candidates_json)
    chosen = None
    if candidates:
        chosen = next((c for c in candidates if c["rank"] == candidate), None)
        if chosen is None:
            raise UserError(
                "stations.alert.no_candidate", where="--candidate", rank=candidate, n=len(candidates)
            )
    elif candidate != 1:
        raise UserError("stations.alert.no_trace", where="--candidate", rank=candidate)
    net = load_network(session, station.river_network_id)
    if chosen is not None:
        reach, km = chosen["reach"], chosen["km"]
        release = datetime.fromisoformat(chosen["release_at"])
        mass = chosen.get("mass_kg")
        source_note = f"trace candidate {chosen['rank']} (weight {chosen['weight']})"
    else:
        reach, km = station.reach_id, station.km
        release = as_utc(alert.first_abnormal_at)
        mass = None
        source_note = f"station {station.mn} (no source trace: one station saw it)"
    lat, lon = net.point_at(reach, net.offset_for_km(reach, km))
    members = json.loads(alert.evidence_json)
    stations = sorted({m["station_mn"] for m in members})
    parameters = sorted({m["parameter"] for m in members})
    incident = create_incident(
        session,
        NewIncident(
            title=f"Station alert {alert.code}: {alert.parameter} at {station.name or station.mn}",
            title_zh=f"自动站预警 {alert.code}:{station.name or station.mn} {alert.parameter}",
            alert_at=as_utc(alert.detected_at),
            river_network_id=station.river_network_id,
            source_lat=lat,
            source_lon=lon,
            substance=alert.parameter,
            mass_kg=mass,
            release_start=release,
            description=(
                f"Opened from station alert {alert.code} ({', '.join(stations)}; {', '.join(parameters)}). "
                f"Source: {reach} km {km:g}, {source_note}."
            ),
        ),
        actor=actor,
    )
    log.append(
        session,
        chain=log.incident_chain(incident.code),
        actor=actor,
        kind="incident.from_alert",
        incident_id=incident.id,
        summary=f"Opened from station alert {alert.code}: source {reach} km {km:g} ({source_note})",
        payload={
            "alert": alert.code,
            "source": {"reach": reach, "km": km, "release_at": release, "mass_kg": mass, "note": source_note},
            "evidence": members,
            "candidates": candidates,
            "risk_sources": json.loads(alert.risk_sources_json),
        },
    )
    alert.status = "promoted"
    alert.incident_id = incident.id
    alert.updated_at = utcnow()
    session.add(alert)
    log.append(
        session,
        chain=STATIONS_CHAIN,
        actor=actor,
        kind="stations.alert.promoted",
        summary=f"Alert {alert.code} → incident {incident.code}",
        payload={"code": alert.code, "incident": incident.code, "source": {"reach": reach, "km": km}},
    )
    return incident
