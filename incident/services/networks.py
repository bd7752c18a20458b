"""River networks in the store: import a validated file, load it back."""

from __future__ import annotations

import json
from functools import lru_cache

from sqlmodel import Session, select

from incident.services.clock import utcnow
from incident.services.rivers import RiverNetworkData, parse_river
from incident.store.tables import Reach, Receptor, RiverNetwork


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
    for r in net.reaches:
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
                **{k: v for k, v in r.optional.items() if k != "length_m"},
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


@lru_cache(maxsize=16)
def _parse_cached(sha256: str, text: str, source: str) -> RiverNetworkData:
    return parse_river(text, source=source)


def load_network(session: Session, network_id: int) -> RiverNetworkData:
    """The network as stored with the incident (re-parsed from the kept file text)."""
    row = session.get(RiverNetwork, network_id)
    if row is None:
        raise LookupError(f"river network {network_id} not found")
    return _parse_cached(row.sha256, row.geojson, row.source_file)
