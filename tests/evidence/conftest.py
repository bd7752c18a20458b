"""PostgreSQL fixtures: every PG test gets a database of its own, dropped afterwards."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def pg_fresh_url(pg_url):
    """A new, empty PostgreSQL database on the INCIDENT_TEST_PG_URL server."""
    import psycopg

    name = f"incident_t_{uuid.uuid4().hex[:12]}"
    admin_url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_db(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_store(pg_fresh_url):
    """(engine, url, code): a fresh PostgreSQL database with the demo loaded."""
    from incident.core.store.engine import open_store
    from incident.demo.seed import ensure_demo

    engine = open_store(pg_fresh_url)
    code = ensure_demo(engine, actor="tester")
    yield engine, pg_fresh_url, code
    engine.dispose()


@pytest.fixture(scope="session")
def scenario(tmp_path_factory):
    """Every writing command run once on the demo store (tests/evidence/faultkit.py):
    (work folder, incident code, steps with their before state and after signature)."""
    from tests.evidence import faultkit

    work = tmp_path_factory.mktemp("faults")
    code, steps = faultkit.prepare(work)
    yield work, code, steps
    faultkit._forget_engines()
