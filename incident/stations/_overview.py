"""What the stations screen shows: per station and parameter the latest reading, the recent values
(for a sparkline) and a status. Plain dicts, read in one short unit of work (a TUI worker)."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from incident.core.clock import as_utc, utcnow
from incident.core.store.tables import Station, StationAlert, StationReading
from incident.stations._hj212 import PARAMETER_CODES, WATER_CODES

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

STALE_AFTER = timedelta(hours=1)  # no reading for this long: the station is late


def station_overview(
    session: Session, *, points: int = 48, now: datetime | None = None
) -> list[dict[str, Any]]:
    """One row per (station, parameter): mn, name, reach, km, parameter, unit, latest_at, value,
    flag, recent (the last `points` values, oldest first, None where not valid), limit, status
    (alert | over_limit | stale | no_data | ok) and alert (the code of an active alert on it)."""
    now = as_utc(now or utcnow())
    active = _active(session)
    out = []
    for st in session.exec(select(Station).order_by(Station.mn)):
        out.extend(_station_rows(session, st, active, points, now))
    return out


def station_overview_engine(
    engine: Engine, *, points: int = 48, now: datetime | None = None
) -> list[dict[str, Any]]:
    """`station_overview` in one short unit of work per station (SQLite sessions take the write
    lock at BEGIN: a screen refreshing 100 stations must not hold up a listener's writes)."""
    from incident.core.store.engine import session_scope

    now = as_utc(now or utcnow())
    with session_scope(engine) as session:
        active = _active(session)
        stations = list(session.exec(select(Station).order_by(Station.mn)))
    out = []
    for st in stations:
        with session_scope(engine) as session:
            out.extend(_station_rows(session, st, active, points, now))
    return out


def _active(session: Session) -> dict[tuple[str, str], str]:
    active: dict[tuple[str, str], str] = {}
    for alert in session.exec(
        select(StationAlert).where(col(StationAlert.status).in_(("open", "acknowledged")))
    ):
        for member in json.loads(alert.evidence_json):
            active.setdefault((member["station_mn"], member["parameter"]), alert.code)
    return active


def _station_rows(
    session: Session, st: Station, active: dict[tuple[str, str], str], points: int, now: datetime
) -> list[dict[str, Any]]:
    from incident.stations._alerts import class_limit

    out = []
    for parameter in json.loads(st.parameters_json):
        rows = session.exec(
            select(StationReading.at, StationReading.value, StationReading.flag)
            .where(StationReading.station_id == st.id)
            .where(StationReading.parameter == parameter)
            .order_by(col(StationReading.at).desc())
            .limit(points)
        ).all()[::-1]
        limit = class_limit(parameter, st.water_class)
        recent = [v if f == "N" and v is not None and math.isfinite(v) else None for _, v, f in rows]
        latest = rows[-1] if rows else None
        value = latest[1] if latest is not None and latest[2] == "N" else None
        code = active.get((st.mn, parameter))
        if code is not None:
            status = "alert"
        elif latest is None:
            status = "no_data"
        elif now - as_utc(latest[0]) > STALE_AFTER:
            status = "stale"
        elif value is not None and limit is not None and _beyond(parameter, value, limit):
            status = "over_limit"
        else:
            status = "ok"
        out.append(
            {
                "mn": st.mn,
                "name": st.name,
                "reach": st.reach_id,
                "km": st.km,
                "parameter": parameter,
                "unit": WATER_CODES[PARAMETER_CODES[parameter]].unit,
                "latest_at": as_utc(latest[0]).isoformat() if latest is not None else None,
                "value": value,
                "flag": latest[2] if latest is not None else None,
                "recent": recent,
                "limit": limit,
                "status": status,
                "alert": code,
            }
        )
    return out


def _beyond(parameter: str, value: float, limit: float) -> bool:
    from incident.stations._alerts import DIRECTION

    return value < limit if DIRECTION.get(parameter, 1) < 0 else value > limit


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None], width: int = 24) -> str:
    """The last `width` values as block characters scaled between their min and max (a space where
    no valid value); a flat series is a row of the lowest bar."""
    tail = values[-width:]
    valid = [v for v in tail if v is not None]
    if not valid:
        return " " * len(tail)
    lo, hi = min(valid), max(valid)
    span = hi - lo
    out = []
    for v in tail:
        if v is None:
            out.append(" ")
        elif span <= 0:
            out.append(BARS[0])
        else:
            out.append(BARS[min(len(BARS) - 1, int((v - lo) / span * len(BARS)))])
    return "".join(out)
