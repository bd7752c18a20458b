"""The dashboard refreshes itself (elapsed time, deadlines, what others logged) while it is shown,
from one app-level timer, and a closed dashboard is not kept alive by it."""

from __future__ import annotations

import asyncio

from incident.core.config import Settings
from incident.tui.app import IncidentApp, make_app


async def test_the_dashboard_reloads_on_its_own_while_shown(demo_engine, demo_code, monkeypatch):
    monkeypatch.setattr(IncidentApp, "AUTO_REFRESH_S", 0.3)
    app = make_app(
        engine=demo_engine,
        settings=Settings(db_url="sqlite://", lang="en", user="t"),
        incident_code=demo_code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "DashboardScreen"
        first = screen.data
        assert first is not None
        for _ in range(40):  # no key pressed: only the timer can reload it
            await asyncio.sleep(0.1)
            await app.workers.wait_for_complete()
            await pilot.pause()
            if screen.data is not first:
                break
        assert screen.data is not first, "the dashboard was not refreshed by the timer"
        # another screen on top: the timer leaves it alone (it has no timed_refresh)
        await pilot.press("v")
        await pilot.pause()
        await asyncio.sleep(0.5)
        await pilot.pause()
        assert type(app.screen).__name__ == "ResultsScreen"
