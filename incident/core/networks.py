"""River networks in the store: import a validated file, load it back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlmodel import Session, col, select

from incident.core.clock import utcnow
from incident.core.rivers import RiverNetworkData, parse_river
from incident.core.store.tables import Incident, Reach, Receptor, RiverNetwork, row_id


def import_network(session: Session, net: RiverNetworkData) -> RiverNetwork:
    """Store a validated network (idempotent on identical file content)."""
    existing = session.exec(select(RiverNetwork).where(RiverNetwork.sha256 == net.sha256)).first()
    if existing is not None:
        return existing
    row = RiverNetwork(
        name=net.name,
        name_zh=net.name_zh,
        source_file=net.source,
        sha256=net.sha256,
        geojson=net.text,
        imported_at=utcnow(),
    )
    session.add(row)
    session.flush()
    assert row.id is not None  # the flush gave the network its id
    for r in net.reaches:
        optional: dict[str, Any] = {k: v for k, v in r.optional.items() if k != "length_m"}
        session.add(
            Reach(
                network_id=row.id,
                reach_id=r.reach_id,
                name=r.name,
                downstream_reach_id=r.downstream,
                length_m=r.length_m,
                km_start=r.km_start,
                to_outlet_m=r.to_outlet_m,
                discharge_m3s=r.discharge_m3s,
                width_m=r.width_m,
                depth_m=r.depth_m,
                geometry_json=json.dumps(r.coords),
                **optional,
            )
        )
    for rc in net.receptors:
        session.add(
            Receptor(
                network_id=row.id,
                receptor_id=rc.receptor_id,
                name=rc.name,
                name_zh=rc.name_zh,
                kind=rc.kind,
                lat=rc.lat,
                lon=rc.lon,
                reach_id=rc.reach_id,
                km=rc.km,
                offset_m=rc.distance_off_m,
                population_served=rc.population_served,
            )
        )
    session.flush()
    return row


@dataclass(frozen=True)
class ReachChoice:
    reach_id: str
    name: str
    km_start: float
    km_end: float


@dataclass(frozen=True)
class NetworkChoice:
    id: int
    name: str
    name_zh: str | None
    reaches: tuple[ReachChoice, ...]  # upstream first


def list_networks(session: Session) -> list[NetworkChoice]:
    """The river networks in the store, each with its reaches and their km: what a new incident picks."""
    out = []
    for row in session.exec(select(RiverNetwork).order_by(col(RiverNetwork.id))):
        net = load_network(session, row_id(row))
        out.append(
            NetworkChoice(
                row_id(row),
                row.name,
                row.name_zh,
                tuple(
                    ReachChoice(r.reach_id, r.name, r.km_start, r.km_start + r.length_m / 1000)
                    for r in net.reaches
                ),
            )
        )
    return out


@lru_cache(maxsize=16)
def _parse_cached(sha256: str, text: str, source: str) -> RiverNetworkData:
    return parse_river(text, source=source)


def load_network(session: Session, network_id: int) -> RiverNetworkData:
    """The network as stored with the incident (re-parsed from the kept file text)."""
    row = session.get(RiverNetwork, network_id)
    if row is None:
        raise LookupError(f"river network {network_id} not found")
    return _parse_cached(row.sha256, row.geojson, row.source_file)


@dataclass
class ReceptorLine:
    receptor_id: str
    name: str
    name_zh: str | None
    kind: str
    km: float
    distance_km: float  # flow distance from the source
    arrival_h: float | None = None  # forecast leading edge after release (filled by the forecast service)


def downstream_receptors(session: Session, inc: Incident) -> list[ReceptorLine]:
    """Receptors below the source, with flow distance, from the stored reach table
    (no geometry work: the dashboard must come up fast)."""
    if inc.river_network_id is None or inc.source_reach is None or inc.source_km is None:
        return []
    reaches = {
        r.reach_id: r for r in session.exec(select(Reach).where(Reach.network_id == inc.river_network_id))
    }

    def to_outlet_m(reach_id: str, km: float) -> float:
        r = reaches[reach_id]
        return r.to_outlet_m - (km - r.km_start) * 1000

    below: set[str] = set()
    current: str | None = inc.source_reach
    while current is not None:
        below.add(current)
        current = reaches[current].downstream_reach_id
    source_m = to_outlet_m(inc.source_reach, inc.source_km)
    lines = []
    for rc in session.exec(select(Receptor).where(Receptor.network_id == inc.river_network_id)):
        if rc.reach_id not in below:
            continue
        d = source_m - to_outlet_m(rc.reach_id, rc.km)
        if d >= 0:
            lines.append(ReceptorLine(rc.receptor_id, rc.name, rc.name_zh, rc.kind, rc.km, d / 1000))
    return sorted(lines, key=lambda r: r.distance_km)
