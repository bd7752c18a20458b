"""PostgreSQL fixtures: every PG test gets a database of its own (``pg_fresh_url``, tests/conftest.py),
dropped afterwards."""

from __future__ import annotations

import pytest


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
