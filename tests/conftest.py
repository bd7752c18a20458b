"""Shared fixtures: a fresh store per test, the demo loaded, app settings."""

from __future__ import annotations

import os
import sqlite3
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from incident.core.config import Settings
from incident.core.i18n import set_language

_TEMPLATE: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _isolate(tmp_path, monkeypatch):
    """No test touches the user's real data folder; language starts as English."""
    monkeypatch.setenv("INCIDENT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("INCIDENT_DB", raising=False)
    monkeypatch.setenv("INCIDENT_USER", "tester")
    monkeypatch.setenv("INCIDENT_KEYRING", "0")
    monkeypatch.delenv("INCIDENT_PASSPHRASE", raising=False)
    set_language("en")
    from incident.cli.shell import context
    from incident.core import signing

    signing.login(None)
    context._acting_installed.clear()
    yield
    signing.login(None)
    set_language("en")


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture
def engine(db_url):
    from incident.core.store.engine import open_store

    eng = open_store(db_url)
    yield eng
    eng.dispose()


def _demo_template(tmp_path_factory) -> str:
    """Build the demo database once per session and copy it for each test (fast)."""
    if "path" not in _TEMPLATE:
        from incident.core.store.engine import open_store
        from incident.demo.seed import ensure_demo

        path = tmp_path_factory.mktemp("template") / "demo.sqlite"
        eng = open_store(f"sqlite:///{path}")
        ensure_demo(eng, actor="tester")
        eng.dispose()
        _TEMPLATE["path"] = str(path)
    return _TEMPLATE["path"]


@pytest.fixture
def demo_engine(tmp_path, tmp_path_factory):
    """A store holding the demo river, roster, inventory and incident INC-YYYY-0001."""
    from incident.core.store.engine import open_store

    target = tmp_path / "demo.sqlite"
    with sqlite3.connect(_demo_template(tmp_path_factory)) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    eng = open_store(f"sqlite:///{target}")
    yield eng
    eng.dispose()


@pytest.fixture
def demo_code(demo_engine) -> str:
    from incident.core.incidents import list_incidents
    from incident.core.store.engine import session_scope

    with session_scope(demo_engine) as s:
        return list_incidents(s)[0].code


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(db_url=db_url, lang="en", user="tester")


@pytest.fixture
def pg_url():
    """A PostgreSQL URL (INCIDENT_TEST_PG_URL); required in CI, skipped locally when unset."""
    url = os.environ.get("INCIDENT_TEST_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("INCIDENT_TEST_PG_URL is not set in CI: .ci/run must start PostgreSQL")
        pytest.skip("INCIDENT_TEST_PG_URL not set (start PostgreSQL as .ci/run does)")
    return url


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
def people(engine):
    """The cast of tests/identities.py registered in ``engine`` (signing on): name -> Person."""
    from tests.identities import register

    return register(engine)


@pytest.fixture
def demo_people(demo_engine):
    """The same cast registered in the demo store."""
    from tests.identities import register

    return register(demo_engine)
