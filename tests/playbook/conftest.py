"""Fixtures for the playbook tests: a demo store with a fixed alert time, a test action."""

from __future__ import annotations

import shutil
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from incident.core import log
from incident.core.clock import frozen
from incident.core.incidents import get_incident
from incident.playbook import actions
from incident.playbook.actions import ActionOutcome

#: the moment the fixed demo store is built (09:00 local); the demo alert is
#: `alert_minutes_ago` (incident/data/demo/incident.toml) earlier.
BUILT_AT = datetime(2026, 5, 12, 1, 0, tzinfo=UTC)
_DEMO = Path(__file__).resolve().parents[2] / "incident" / "data" / "demo" / "incident.toml"
ALERT_AT = BUILT_AT - timedelta(minutes=tomllib.loads(_DEMO.read_text(encoding="utf-8"))["alert_minutes_ago"])


_TEMPLATE: dict[str, str] = {}


def _fixed_template(tmp_path_factory) -> str:
    """Build the fixed demo store once per session; each test gets a copy (fast)."""
    if "path" not in _TEMPLATE:
        from incident.core.store.engine import open_store
        from incident.demo.seed import ensure_demo

        path = tmp_path_factory.mktemp("playbook-template") / "fixed.sqlite"
        eng = open_store(f"sqlite:///{path}")
        with frozen(BUILT_AT):
            ensure_demo(eng, actor="tester")
        # closing the last connection checkpoints the WAL into the file, so one file is a full copy
        # (an explicit PRAGMA wal_checkpoint fails here: the engine opens every transaction IMMEDIATE)
        eng.dispose()
        _TEMPLATE["path"] = str(path)
    return _TEMPLATE["path"]


@pytest.fixture
def fixed_db(tmp_path, tmp_path_factory) -> str:
    """URL of a copy of the demo (river, roster, incident, river_chemical_spill run) built at BUILT_AT."""
    target = tmp_path / "fixed.sqlite"
    shutil.copy(_fixed_template(tmp_path_factory), target)
    return f"sqlite:///{target}"


@pytest.fixture
def fixed_engine(fixed_db):
    from incident.core.store.engine import open_store

    eng = open_store(fixed_db)
    yield eng
    eng.dispose()


@pytest.fixture
def fixed_code(fixed_engine) -> str:
    return "INC-2026-0001"


def _note(session, code, params, actor) -> ActionOutcome:
    """A real (small) action: writes a log entry, returns what it wrote."""
    inc = get_incident(session, code)
    entry = log.append(
        session,
        chain=log.incident_chain(code),
        actor=actor,
        kind="test.note",
        incident_id=inc.id,
        summary=f"note: {params.get('text', 'hello')}",
    )
    return ActionOutcome(summary=f"noted as entry {entry.seq}", data={"seq": entry.seq, "params": params})


@pytest.fixture
def note_action():
    """Registers ``test.note`` and, standing in for the real one, ``readiness.check``;
    the real registrations are restored afterwards."""
    actions._install_builtins()
    saved = dict(actions._registry)
    actions.register_action("test.note", _note, "actions.readiness_check")
    actions.register_action("readiness.check", _note)
    yield _note
    actions._registry.clear()
    actions._registry.update(saved)
