"""Pre-plans in the store: the register and the rows, every change logged on the centre chain.

Rows are derived numbers: a rebuild replaces a row whose inputs changed, and the log entry of the
build names every replaced row with its old and new input hash, so no change is silent.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import utcnow
from incident.core.store.tables import Incident, PreplanEntry, PreplanRow

if TYPE_CHECKING:
    from incident.preplan.build import BuildReport
    from incident.preplan.inputs import Register
    from incident.preplan.places import PlacedRegister


class _Inputs(Protocol):
    """What the store reads of the placed inputs (the package's PreplanInputs)."""

    @property
    def sources(self) -> Register: ...

    @property
    def intakes(self) -> Register: ...

    @property
    def placed(self) -> PlacedRegister: ...


MAX_KEYS_IN_LOG = 500


def _entries(inputs: _Inputs) -> dict[tuple[str, str], dict[str, Any]]:
    """(role, id) -> the entry's columns, from placed inputs."""
    placed = inputs.placed
    out = {}
    for role, items in (
        ("source", placed.sources),
        ("intake", placed.intakes),
        ("interception", placed.interception_points),
    ):
        for item in items:
            data = item.model.model_dump(mode="json")
            text = log.canonical_json(data)
            out[(role, item.model.id)] = {
                "name": item.model.name,
                "name_zh": item.model.name_zh,
                "kind": getattr(item.model, "kind", ""),
                "reach_id": item.position.reach_id,
                "km": round(item.position.km, 4),
                "lat": item.position.lat,
                "lon": item.position.lon,
                "data_json": text,
                "digest": hashlib.sha256(text.encode()).hexdigest(),
            }
    return out


def save_register(session: Session, inputs: _Inputs, *, actor: str) -> dict[str, list[Any]]:
    """Make the stored register equal the files; log what was added, changed and removed."""
    now = utcnow()
    wanted = _entries(inputs)
    stored = {(e.role, e.entry_id): e for e in session.exec(select(PreplanEntry))}
    added, changed, removed = [], [], []
    for key, cols in wanted.items():
        row = stored.get(key)
        if row is None:
            session.add(PreplanEntry(role=key[0], entry_id=key[1], updated_at=now, updated_by=actor, **cols))
            added.append({"role": key[0], "id": key[1], "digest": cols["digest"]})
        elif row.digest != cols["digest"]:
            changed.append({"role": key[0], "id": key[1], "before": row.digest, "after": cols["digest"]})
            for name, value in cols.items():
                setattr(row, name, value)
            row.updated_at, row.updated_by = now, actor
            session.add(row)
    for key, row in stored.items():
        if key not in wanted:
            removed.append({"role": key[0], "id": key[1], "digest": row.digest})
            session.delete(row)
    session.flush()
    if added or changed or removed:
        log.append(
            session,
            chain=log.CENTRE_CHAIN,
            actor=actor,
            kind="preplan.register",
            summary=f"pre-plan register: {len(added)} added, {len(changed)} changed, {len(removed)} removed",
            payload={
                "sources_file": inputs.sources.source,
                "intakes_file": inputs.intakes.source,
                "added": added,
                "changed": changed,
                "removed": removed,
            },
        )
    return {"added": added, "changed": changed, "removed": removed}


def stored_rows(session: Session) -> dict[str, dict[str, Any]]:
    return {r.key: json.loads(r.row_json) for r in session.exec(select(PreplanRow))}


def save_rows(session: Session, report: BuildReport, *, actor: str) -> None:
    """Write recomputed rows, drop rows no longer planned, and log both with the input hashes."""
    now = utcnow()
    by_key = {r["key"]: r for r in report.rows}
    stored = {r.key: r for r in session.exec(select(PreplanRow))}
    replaced = []
    for key in report.computed:
        row = by_key[key]
        old = stored.get(key)
        if old is not None:
            replaced.append({"key": key, "before": old.input_hash, "after": row["input_hash"]})
            session.delete(old)
            session.flush()
        session.add(
            PreplanRow(
                key=key,
                source_id=row["source_id"],
                intake_id=row["intake_id"],
                flow=row["flow"],
                input_hash=row["input_hash"],
                model_version=row["model_version"],
                row_json=json.dumps(row, ensure_ascii=False, sort_keys=True),
                computed_at=now,
            )
        )
    for key in report.reused:  # names may have changed; numbers have not
        old = stored[key]
        text = json.dumps(by_key[key], ensure_ascii=False, sort_keys=True)
        if old.row_json != text:
            old.row_json = text
            session.add(old)
    for key in report.removed:
        if key in stored:
            session.delete(stored[key])
    session.flush()
    if report.computed or report.removed:
        digest = hashlib.sha256(
            "\n".join(f"{r['key']} {r['input_hash']}" for r in report.rows).encode()
        ).hexdigest()
        log.append(
            session,
            chain=log.CENTRE_CHAIN,
            actor=actor,
            kind="preplan.rows",
            summary=(
                f"pre-plan rows: {len(report.computed)} computed, {len(report.reused)} unchanged, "
                f"{len(report.removed)} removed"
            ),
            payload={
                "computed": report.computed[:MAX_KEYS_IN_LOG],
                "computed_count": len(report.computed),
                "replaced": replaced[:MAX_KEYS_IN_LOG],
                "removed": report.removed[:MAX_KEYS_IN_LOG],
                "removed_count": len(report.removed),
                "rows_digest": digest,
            },
        )


def rows_for_intake(session: Session, intake_id: str) -> list[dict[str, Any]]:
    rows = session.exec(select(PreplanRow).where(PreplanRow.intake_id == intake_id))
    out = [json.loads(r.row_json) for r in rows]
    return sorted(out, key=lambda r: (r["source_id"], r["flow"]))


def entries(session: Session, role: str) -> list[PreplanEntry]:
    return list(
        session.exec(
            select(PreplanEntry).where(PreplanEntry.role == role).order_by(col(PreplanEntry.entry_id))
        )
    )


def _haversine_km(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    p0, p1 = math.radians(lat0), math.radians(lat1)
    dp, dl = p1 - p0, math.radians(lon1 - lon0)
    a = math.sin(dp / 2) ** 2 + math.cos(p0) * math.cos(p1) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


def sources_near(session: Session, incident: Incident, within_km: float) -> list[tuple[float, PreplanEntry]]:
    """Registered sources within `within_km` of the incident's source, nearest first: along the river
    when both are on the same reach, else as the crow flies."""
    return sources_near_place(
        session,
        incident.source_reach,
        incident.source_km,
        incident.source_lat,
        incident.source_lon,
        within_km,
    )


def sources_near_place(
    session: Session,
    reach_id: str | None,
    km: float | None,
    lat: float | None,
    lon: float | None,
    within_km: float,
) -> list[tuple[float, PreplanEntry]]:
    """Registered sources within `within_km` of a place, nearest first: along the river when both
    are on the same reach, else as the crow flies."""
    found = []
    for src in entries(session, "source"):
        d = None
        if reach_id == src.reach_id and km is not None:
            d = abs(km - src.km)
        elif lat is not None and lon is not None:
            d = _haversine_km(lat, lon, src.lat, src.lon)
        if d is not None and d <= within_km:
            found.append((d, src))
    return sorted(found, key=lambda x: (x[0], x[1].entry_id))


def source_summary(src: PreplanEntry, distance_km: float) -> dict[str, Any]:
    """A registered source as a JSON-ready dict: who, what it holds, whom to call."""
    data = json.loads(src.data_json)
    return {
        "id": src.entry_id,
        "name": src.name,
        "name_zh": src.name_zh,
        "kind": src.kind,
        "reach": src.reach_id,
        "km": src.km,
        "distance_km": round(distance_km, 3),
        "substances": [
            {"substance": s.get("substance"), "max_release_kg": s.get("max_release_kg")}
            for s in data.get("substances", [])
        ],
        "contact": data.get("contact") or {},
    }


def rows_near(session: Session, incident: Incident, within_km: float) -> list[dict[str, Any]]:
    rows = []
    for distance, src in sources_near(session, incident, within_km):
        for r in session.exec(select(PreplanRow).where(PreplanRow.source_id == src.entry_id)):
            row = json.loads(r.row_json)
            row["incident_distance_km"] = round(distance, 3)
            rows.append(row)
    order = {"low": 0, "median": 1, "high": 2}
    return sorted(
        rows,
        key=lambda r: (r["incident_distance_km"], r["source_id"], r["intake_id"], order.get(r["flow"], 9)),
    )
