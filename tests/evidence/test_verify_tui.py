"""The "log: verify" dialog shows the same verdict as `incident verify`, at 80x24."""

from __future__ import annotations

import sqlite3

from incident.core.config import Settings
from incident.core.store.engine import session_scope
from incident.tui.app import make_app
from tests.evidence.evidence import log_result


async def open_dialog(engine, code):
    app = make_app(
        engine=engine,
        settings=Settings(db_url=f"sqlite:///{engine.url.database}", lang="en", user="tester"),
        incident_code=code,
    )
    return app


async def wait_status(pilot, app):
    from textual.widgets import Static

    for _ in range(50):
        await pilot.pause(0.05)
        text = str(app.screen.query_one("#verify-status", Static).content)
        if "Checking" not in text:
            return text
    raise AssertionError("the check did not finish")


async def test_dialog_reports_intact_then_names_the_changed_row(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        _, rid = log_result(s, demo_code, "S1-R1", 0.4)
    app = await open_dialog(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.run_action("verify_log")
        assert "INTACT" in await wait_status(pilot, app)

        conn = sqlite3.connect(demo_engine.url.database)
        conn.execute("DROP TRIGGER guard_result_update")
        conn.execute("UPDATE result SET value = 0.04 WHERE id = ?", (rid,))
        conn.commit()
        conn.close()
        await pilot.press("r")
        status = await wait_status(pilot, app)
        assert "BROKEN" in status and f"result id {rid}" in status
        await pilot.press("escape")
        assert app.screen.__class__.__name__ != "VerifyDialog"


async def test_palette_lists_log_verify(demo_engine, demo_code):
    from incident.tui.commands import ENTRIES

    assert ("cmd.log_verify", "cmd.log_verify_help", "verify_log") in ENTRIES
