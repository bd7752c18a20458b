"""Snapshots of the playbook screen and the dashboard at 80×24, English and Chinese.

Deterministic: the store is built at a fixed time (alert 08:35 local) and the clock is frozen at
09:10 while the app runs, so countdowns and elapsed times never change. Regenerate with
``--snapshot-update`` and look at the SVGs in tests/playbook/__snapshots__ before committing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident.core.clock import frozen
from incident.core.config import Settings
from incident.core.store.engine import session_scope
from incident.playbook.runs import complete_step, set_check
from incident.tui.app import make_app
from tests.playbook.conftest import BUILT_AT

CODE = "INC-2026-0001"
NOW = BUILT_AT + timedelta(minutes=10)  # 09:10 local, 35 min after the alert


@pytest.fixture
def snapshot_app(fixed_engine, fixed_db):
    with frozen(BUILT_AT + timedelta(minutes=2)), session_scope(fixed_engine) as s:
        complete_step(s, CODE, "alert_received", actor="li.wei", checks=["caller", "location", "director"])
        set_check(s, CODE, "mobilise", "kit", True, actor="li.wei")

    def build(lang: str):
        return make_app(
            engine=fixed_engine,
            settings=Settings(db_url=fixed_db, lang=lang, user="tester"),
            incident_code=CODE,
        )

    return build


async def _settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _open_playbook(pilot) -> None:
    await _settle(pilot)
    await pilot.press("p")
    await _settle(pilot)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_playbook_screen(snap_compare, snapshot_app, lang):
    with frozen(NOW):
        assert snap_compare(snapshot_app(lang), terminal_size=(80, 24), run_before=_open_playbook)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dashboard(snap_compare, snapshot_app, lang):
    with frozen(NOW):
        assert snap_compare(snapshot_app(lang), terminal_size=(80, 24), run_before=_settle)
