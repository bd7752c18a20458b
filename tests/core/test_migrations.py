"""Alembic `upgrade head` builds exactly the schema the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from incident.core.store.engine import SCHEMA_HEAD, alembic_config, current_revision, make_engine, upgrade


def _diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, SQLModel.metadata)


def test_upgrade_head_matches_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    upgrade(engine)
    assert _diff(engine) == []
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert current_revision(engine) == head
    assert SCHEMA_HEAD == head, "update SCHEMA_HEAD in incident/core/store/engine.py to the newest revision"


def test_missing_table_would_be_detected(tmp_path):
    """The comparison above can fail: drop a table and it reports it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE drillinject")
    diffs = _diff(engine)
    assert any(d[0] == "add_table" and d[1].name == "drillinject" for d in diffs)


def test_upgrade_is_idempotent_and_pragmas_apply(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    upgrade(engine)
    upgrade(engine)
    assert "incident" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
