"""The demo: an illustrative river, roster, inventory and one ready incident.

``incident`` with no arguments on a fresh machine calls :func:`ensure_demo`
so the TUI opens on something real to look at.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from incident.core import accounts
from incident.core.clock import utcnow
from incident.core.datafiles import read_toml
from incident.core.incidents import NewIncident, create_incident
from incident.core.networks import import_network
from incident.core.rivers import load_river_file
from incident.core.store.engine import session_scope
from incident.core.store.tables import Crew, Equipment, Incident
from incident.readiness import load_inventory
from incident.sampling import load_roster

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
DEMO_RIVER = DEMO_DIR / "jade_river.geojson"
DEMO_ROSTER = DEMO_DIR / "roster.toml"
DEMO_INVENTORY = DEMO_DIR / "inventory.toml"
DEMO_INCIDENT = DEMO_DIR / "incident.toml"
DEMO_RISK_SOURCES = DEMO_DIR / "jade_risk_sources.geojson"
DEMO_INTAKES = DEMO_DIR / "jade_intakes.geojson"


def ensure_demo(engine: Engine, *, actor: str = "demo") -> str | None:
    """Load the demo into an empty store; return the demo incident's code (or the newest one)."""
    with session_scope(engine) as session:
        newest = session.exec(
            select(Incident).where(col(Incident.is_exercise).is_(False)).order_by(col(Incident.id).desc())
        ).first()
        if newest is not None:
            return newest.code
        net_row = import_network(session, load_river_file(DEMO_RIVER))
        # the demo kit (and the crews, who refer to it) only where the person may keep the
        # inventory (docs/roles.md: equipment manager); the demo incident needs neither
        kit = accounts.allows(session, "equipment.update")
        if kit and session.exec(select(Equipment)).first() is None:
            load_inventory(session, DEMO_INVENTORY, actor=actor)
        if kit and session.exec(select(Crew)).first() is None:
            load_roster(session, DEMO_ROSTER, actor=actor)
        spec = read_toml(DEMO_INCIDENT)
        alert = utcnow() - timedelta(minutes=int(spec.get("alert_minutes_ago", 20)))
        row = create_incident(
            session,
            NewIncident(
                title=spec["title"],
                title_zh=spec.get("title_zh"),
                alert_at=alert,
                river_network_id=net_row.id,
                medium=spec.get("medium", "water"),
                source_lat=spec["source_lat"],
                source_lon=spec["source_lon"],
                substance=spec.get("substance"),
                pollutant_class=spec.get("pollutant_class"),
                mass_kg=spec.get("mass_kg"),
                release_start=alert - timedelta(minutes=10),
                release_duration_h=spec.get("release_duration_h"),
                decay_per_day=spec.get("decay_per_day"),
                description=spec.get("description", ""),
            ),
            actor=actor,
        )
        # the demo river's pre-plan register, and the rows of the source the demo incident is at
        # (`incident preplan build` computes the rest)
        from incident.preplan import build_and_store, load_inputs

        build_and_store(
            session, load_inputs(DEMO_RIVER, DEMO_RISK_SOURCES, DEMO_INTAKES), actor=actor, near=row
        )
        if spec.get("playbook"):
            from incident.playbook import start_run

            start_run(session, row.code, spec["playbook"], actor=actor)
        return row.code
