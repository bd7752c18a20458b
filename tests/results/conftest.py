"""Fixtures for results tests: a plan (points S1–S4) and rounds 1–3 on the demo incident.

The sampling engineer's services fill PlanRevision/SamplingPoint in the app; here
the rows are created directly, as the brief for this feature allows.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta

import pytest

from incident.core.clock import utcnow
from incident.core.store.engine import session_scope
from incident.core.store.tables import PlanRevision, SamplingPoint, SamplingRound

POINTS = [
    ("S1", "upstream_control", -500.0, None),
    ("S2", "downstream_control", 1000.0, None),
    ("S3", "attenuation", 5000.0, None),
    ("S4", "receptor", 20000.0, "W1"),
]


def make_plan(session, incident_id: int, *, revision: int = 1, points=POINTS, rounds: int = 3, start=None):
    start = start or utcnow() - timedelta(hours=4)
    rev = PlanRevision(
        incident_id=incident_id,
        revision=revision,
        created_at=start,
        created_by="tester",
        reason="initial plan",
    )
    session.add(rev)
    session.flush()
    for number, role, dist, receptor in points:
        session.add(
            SamplingPoint(
                revision_id=rev.id,
                number=number,
                role=role,
                reach_id="M03",
                km=45 + dist / 1000,
                lat=24.68,
                lon=109.32,
                distance_from_source_m=dist,
                receptor_id=receptor,
            )
        )
    for n in range(1, rounds + 1):
        session.add(
            SamplingRound(
                incident_id=incident_id, revision_id=rev.id, number=n, planned_at=start + timedelta(hours=n)
            )
        )
    session.flush()
    return rev


_TEMPLATE: dict[str, str] = {}


@pytest.fixture
def demo_engine(tmp_path, tmp_path_factory):
    """Same as tests/conftest.py's demo_engine, whose template build fails: it runs
    ``PRAGMA wal_checkpoint`` through the engine, inside the BEGIN IMMEDIATE that the
    engine's begin hook opens ("database table is locked"). Here the checkpoint runs
    on a plain sqlite3 connection after the engine is disposed."""
    from incident.core.store.engine import open_store
    from incident.demo.seed import ensure_demo

    if "path" not in _TEMPLATE:
        path = tmp_path_factory.mktemp("results-template") / "demo.sqlite"
        eng = open_store(f"sqlite:///{path}")
        ensure_demo(eng, actor="tester")
        eng.dispose()
        with sqlite3.connect(path) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _TEMPLATE["path"] = str(path)
    target = tmp_path / "demo.sqlite"
    shutil.copy(_TEMPLATE["path"], target)
    eng = open_store(f"sqlite:///{target}")
    yield eng
    eng.dispose()


def backdate(session, inc, days: float = 5) -> None:
    """Move the demo incident's alert and release back, so tests can place days of results after it."""
    inc.alert_at = utcnow() - timedelta(days=days)
    inc.release_start = inc.alert_at - timedelta(minutes=10)
    session.add(inc)
    session.flush()


@pytest.fixture
def planned(demo_engine, demo_code):
    """(engine, code) with a plan of four points and rounds 1–3; the alert was 5 days ago."""
    from incident.core.incidents import get_incident

    with session_scope(demo_engine) as s:
        inc = get_incident(s, demo_code)
        backdate(s, inc)
        make_plan(s, inc.id)
    return demo_engine, demo_code


@pytest.fixture
def planned_pg(pg_fresh_url):
    """``planned`` on PostgreSQL (a fresh database, the demo loaded; skipped without a server)."""
    from incident.core.incidents import get_incident
    from incident.core.store.engine import open_store
    from incident.demo.seed import ensure_demo

    engine = open_store(pg_fresh_url)
    code = ensure_demo(engine, actor="tester")
    with session_scope(engine) as s:
        inc = get_incident(s, code)
        backdate(s, inc)
        make_plan(s, inc.id)
    yield engine, code
    engine.dispose()
