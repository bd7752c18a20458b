"""The sampling-plan screen and the crew board, driven with Pilot at 80×24."""

from __future__ import annotations

from sqlmodel import select

from incident.core.store.engine import session_scope
from incident.core.store.tables import Assignment, CheckIn, PlanRevision
from incident.sampling.layout import forecast_requests
from incident.tui.app import make_app
from incident.tui.screens.sampling import CrewBoardScreen, SamplingPlanScreen
from incident.tui.widgets.river_strip import RiverStrip
from tests.sampling.plume import slug_forecast


def _app(demo_engine, demo_code, settings, demo_river):
    net, src, release = demo_river
    app = make_app(engine=demo_engine, settings=settings, incident_code=demo_code)
    calls = []

    def get_forecast(code, extra_points=None):
        calls.append((code, list(extra_points or [])))
        return slug_forecast(net, src, [*forecast_requests(net, *src), *(extra_points or [])], release=release,
                             with_profiles=(4.0, 10.0, 11.0, 30.0))  # fmt: skip

    app.get_forecast = get_forecast
    app.kit_check = lambda _s, _kit, *, on=None: (True, [])
    return app, calls


async def _wait_for(pilot, predicate, tries=100):
    for _ in range(tries):
        await pilot.pause(0.05)
        if predicate():
            return True
    return False


async def test_plan_screen_propose_step_insert(demo_engine, demo_code, settings, demo_river):
    app, calls = _app(demo_engine, demo_code, settings, demo_river)
    async with app.run_test(size=(80, 24)) as pilot:
        app.action_plan_show()
        assert await _wait_for(pilot, lambda: isinstance(app.screen, SamplingPlanScreen) and app.screen.data)
        screen = app.screen
        assert screen.data.revision is None
        await pilot.press("p")
        assert await _wait_for(pilot, lambda: bool(app.screen.query("#confirm-ok")))
        await pilot.press("y")  # confirm
        assert await _wait_for(pilot, lambda: screen.data is not None and screen.data.revision == 1)
        table = screen.query_one("#plan-table")
        assert table.row_count == len(screen.data.points) >= 10
        strip = screen.query_one(RiverStrip)
        text0 = str(strip.render())
        assert "S1" in text0 and "✖" in text0
        # step the plume: the strip status moves with the time
        screen.at_h = 4.0
        screen.redraw_strip()
        before = strip.model and str(strip.render())
        await pilot.press("right_square_bracket")
        await pilot.press("right_curly_bracket")
        assert screen.at_h == 11.0
        after = str(strip.render())
        assert "+11.0 h" in after and before != after
        # insert a point after S3 through the form
        s3 = screen.data.points[2]
        await pilot.press("n")
        assert await _wait_for(pilot, lambda: bool(app.screen.query("#field-reason")))
        form = app.screen
        form.query_one("#field-km").value = f"{s3.km + 0.4:.2f}"
        form.query_one("#field-after").value = "S3"
        form.query_one("#field-reason").value = "bridge access"
        await pilot.pause()
        await pilot.click("#form-ok")
        ok = await _wait_for(pilot, lambda: screen.data.revision == 2)
        assert ok, [n.message for n in app._notifications] + [str(app.screen)]
        assert "S3-1" in [p.number for p in screen.data.points]
    with session_scope(demo_engine) as s:
        revs = s.exec(select(PlanRevision)).all()
        assert [r.reason for r in revs] == ["initial proposal from the forecast", "bridge access"]
    assert any(label == "UC" for _, extra in calls for label, _, _ in extra)  # asked for the control sections


async def test_crew_board_checkin_and_assign(demo_engine, demo_code, settings, demo_river, make_forecast):
    from incident.sampling.plans import propose_plan

    with session_scope(demo_engine) as s:
        propose_plan(s, demo_code, make_forecast(), actor="tester")
    app, _ = _app(demo_engine, demo_code, settings, demo_river)
    async with app.run_test(size=(80, 24)) as pilot:
        app.action_crew_checkin()  # palette action: opens the board, then the check-in form
        assert await _wait_for(pilot, lambda: bool(app.screen.query("#field-departure")))
        app.screen.query_one("#field-departure").value = "HQ gate 2"
        await pilot.pause()
        await pilot.click("#form-ok")
        board = None
        ok = await _wait_for(pilot, lambda: isinstance(app.screen, CrewBoardScreen))
        assert ok, [n.message for n in app._notifications] + [str(app.screen)]
        board = app.screen
        await pilot.press("a")
        assert await _wait_for(pilot, lambda: bool(app.screen.query("#confirm-ok")))
        await pilot.press("y")
        assert await _wait_for(pilot, lambda: any(c.status == "assigned" for c in board.crews))
        table = board.query_one("#crew-table")
        cells = [str(table.get_cell_at((r, 5))) for r in range(table.row_count)]
        assert any(c.startswith("S") for c in cells)  # the assigned point shows on the board
    with session_scope(demo_engine) as s:
        (ci,) = s.exec(select(CheckIn)).all()
        assert ci.departure_point == "HQ gate 2"
        assert s.exec(select(Assignment)).all()
