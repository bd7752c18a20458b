"""The feature screens open from the dashboard keys on the real app (no test doubles) and work."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from incident.core.config import Settings
from incident.core.store.engine import session_scope
from incident.sampling.plans import has_plan, plan_view
from incident.tui.app import make_app


async def settle(app, pilot, rounds: int = 3) -> None:
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def test_plan_screen_proposes_a_plan_from_the_real_forecast(demo_engine, demo_code):
    app = make_app(
        engine=demo_engine,
        settings=Settings(db_url="sqlite://", lang="en", user="Li Wei"),
        incident_code=demo_code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("m")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "SamplingPlanScreen"
        assert app.screen.data is not None and app.screen.data.forecast is not None
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("enter")  # confirm the proposal
        await settle(app, pilot, 5)
        with session_scope(demo_engine) as s:
            assert has_plan(s, demo_code)
            numbers = [p.number for p in plan_view(s, demo_code).points]
        table = app.screen.query_one(DataTable)
        assert table.row_count == len(numbers) >= 5
        await pilot.press("c")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "CrewBoardScreen"


async def test_a_failing_background_job_is_shown_to_the_user(demo_engine, demo_code):
    from textual.worker import WorkerFailed

    app = make_app(
        engine=demo_engine,
        settings=Settings(db_url="sqlite://", lang="en", user="x"),
        incident_code=demo_code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        def broken() -> None:
            raise RuntimeError("disk full")

        worker = app.screen.run_worker(broken, thread=True, exit_on_error=False)
        with pytest.raises(WorkerFailed):
            await worker.wait()
        await pilot.pause()
        await pilot.pause()
        assert any("disk full" in str(n.message) for n in app._notifications)
