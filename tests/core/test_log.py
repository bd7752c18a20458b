"""The hash chain detects edits and gaps; appends are ordered per chain."""

from __future__ import annotations

from sqlalchemy import text

from incident.core import log
from incident.core.store import guards
from incident.core.store.engine import session_scope


def test_chain_appends_and_verifies(engine):
    with session_scope(engine) as s:
        for i in range(5):
            log.append(s, chain="incident:T-1", actor="a", kind="note", summary=f"n{i}", payload={"i": i})
        log.append(s, chain="centre", actor="a", kind="note", summary="other chain")
    with session_scope(engine) as s:
        rows = log.entries(s, "incident:T-1")
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert rows[0].prev_hash == log.GENESIS_HASH
        assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 5))
        ok, msg = log.verify_chain(rows)
        assert ok, msg


def test_edit_behind_the_apps_back_is_found(engine):
    with session_scope(engine) as s:
        for i in range(3):
            log.append(s, chain="c", actor="a", kind="note", summary=f"n{i}")
    with engine.begin() as conn:
        guards.uninstall(conn)  # someone with sqlite3 drops the append-only triggers first
        conn.execute(text("UPDATE logentry SET summary='forged' WHERE seq=2"))
    with session_scope(engine) as s:
        ok, msg = log.verify_chain(log.entries(s, "c"))
    assert not ok and "seq 2" in msg and "changed" in msg


def test_deleted_entry_is_found(engine):
    with session_scope(engine) as s:
        for i in range(3):
            log.append(s, chain="c", actor="a", kind="note", summary=f"n{i}")
    with engine.begin() as conn:
        guards.uninstall(conn)
        conn.execute(text("DELETE FROM logentry WHERE seq=2"))
    with session_scope(engine) as s:
        ok, msg = log.verify_chain(log.entries(s, "c"))
    assert not ok and "seq 3" in msg


def test_the_database_itself_refuses_to_alter_the_log(engine):
    import pytest
    from sqlalchemy.exc import DatabaseError

    with session_scope(engine) as s:
        log.append(s, chain="c", actor="a", kind="note", summary="n")
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE logentry SET summary='forged'"))
