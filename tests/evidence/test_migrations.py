"""Migrations at head match the models, on SQLite and PostgreSQL; the guards exist on both."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import incident.core.store.tables  # noqa: F401
from incident.core.store import guards
from incident.core.store.engine import open_store, session_scope
from incident.evidence import integrity
from tests.evidence.evidence import log_result


def diff(engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, SQLModel.metadata)


def test_sqlite_head_matches_models(engine):
    assert diff(engine) == []
    with engine.connect() as conn:
        assert guards.missing(conn) == []


@pytest.mark.postgres
def test_postgres_head_matches_models(pg_fresh_url):
    engine = open_store(pg_fresh_url)
    try:
        assert diff(engine) == []
        with engine.connect() as conn:
            assert guards.missing(conn) == []
        again = open_store(pg_fresh_url)  # idempotent on an up-to-date database
        again.dispose()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_guards_refuse_and_verify_catches_a_dropped_guard(pg_store):
    engine, _url, code = pg_store
    with session_scope(engine) as s:
        _, rid = log_result(s, code, "PG-1", 0.7)
    with engine.connect() as conn, pytest.raises(Exception, match="append-only evidence"):
        conn.execute(text("UPDATE result SET value = 0"))
    with engine.connect() as conn, pytest.raises(Exception, match="append-only evidence"):
        conn.execute(text("TRUNCATE logentry CASCADE"))
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER guard_result_update ON result"))
        conn.execute(text("UPDATE result SET value = 0.07 WHERE id = :id"), {"id": rid})
    with session_scope(engine) as s:
        report = integrity.verify(s, code)
    assert report.first_problem.where == f"result id {rid}"
    assert "guard_result_update" in report.warnings[0]
