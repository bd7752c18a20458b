"""SVG snapshots of every screen of the workflow at 80×24 and 120×40 (issue 16).

Deterministic: the demo is built at a fixed time and the clock is frozen while the app runs
(see tests/playbook/test_snapshots.py). Regenerate with ``--snapshot-update`` and look at the
SVGs in tests/tui/__snapshots__ before committing.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from incident.core.clock import frozen
from incident.core.config import Settings
from incident.tui.app import make_app
from tests.playbook.conftest import BUILT_AT, fixed_db, fixed_engine  # noqa: F401 - fixtures

CODE = "INC-2026-0001"
NOW = BUILT_AT + timedelta(minutes=10)

SCREENS = {
    "dashboard": [],
    "incidents": ["i"],
    "incident_new": ["i", "n"],
    "spill_amend": ["a"],
    "playbook": ["p"],
    "plan": ["m"],
    "crew_board": ["c"],
    "results": ["v"],
    "sample_form": ["v", "s"],
    "qc": ["v", "Q"],
    "rounds": ["v", "o"],
    "termination": ["v", "t"],
    "reports": ["b"],
    "report_draft_confirm": ["b", "f"],
    "stations": ["w"],
    "help": ["f1"],
    "readiness": ["R"],
    "equipment": ["R", "3", "enter"],
    "forecast": ["f"],
    "log": ["action:show_log"],
}


def _run_before(keys: list[str]):
    async def run(pilot) -> None:
        for key in [None, *keys]:
            if key is not None and key.startswith("action:"):
                await pilot.app.run_action(key.removeprefix("action:"))  # a palette entry
            elif key is not None:
                await pilot.press(key)
            for _ in range(3):
                await pilot.app.workers.wait_for_complete()
                await pilot.pause()
        await pilot.pause(0.3)  # screens that load in two steps (the crew board) settle
        await pilot.app.workers.wait_for_complete()
        for field in pilot.app.screen.query("Input"):
            field.cursor_blink = False  # a steady cursor: the picture does not depend on when it is taken
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, fixed_engine, fixed_db, screen, size):  # noqa: F811
    app = make_app(
        engine=fixed_engine, settings=Settings(db_url=fixed_db, lang="en", user="tester"), incident_code=CODE
    )
    with frozen(NOW):
        assert snap_compare(app, terminal_size=size, run_before=_run_before(SCREENS[screen]))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_drill_screen(snap_compare, fixed_engine, fixed_db, size):  # noqa: F811
    """The drill screen of the shipped scenario at ×10, started at the frozen time."""
    from incident.core.store.engine import session_scope
    from incident.drills.control import start_drill
    from tests.drills.conftest import SCENARIO

    with frozen(NOW), session_scope(fixed_engine) as s:
        code = start_drill(s, SCENARIO, actor="controller", speed=10).code
    app = make_app(
        engine=fixed_engine, settings=Settings(db_url=fixed_db, lang="en", user="tester"), incident_code=code
    )
    settle = _run_before([])

    async def open_drill(pilot) -> None:
        await pilot.app.run_action("drill_show")  # the palette's "drill: show"
        await settle(pilot)

    with frozen(NOW):
        assert snap_compare(app, terminal_size=size, run_before=open_drill)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", ["point_plot", "calibration"])
def test_screen_with_results(snap_compare, fixed_engine, fixed_db, screen, size):  # noqa: F811
    """Screens that need results: the point plot of the first point (over its stored forecast) and the
    model calibration, over noisy results from a known truth (tests/plume/test_service.py, fixed
    seed), three days on."""
    import numpy as np
    from sqlmodel import select

    from incident.core.store.engine import session_scope
    from incident.core.store.tables import Result
    from tests.plume.test_service import _add_results

    later = BUILT_AT + timedelta(days=3)
    with frozen(later), session_scope(fixed_engine) as s:
        # without the records it adds for calibration to leave out (a 50 mg/L QC-flagged outlier, a
        # blank, a corrected pair): a plot would scale to them
        _add_results(s, CODE, np.random.default_rng(5), left_out=False)
        # that helper writes the SI columns only; give each row its value as entered, as entry does
        for r in s.exec(select(Result)).all():
            r.value, r.detection_limit, r.unit = r.value_mg_l, r.detection_limit_mg_l, "mg/L"
            s.add(r)
    app = make_app(
        engine=fixed_engine, settings=Settings(db_url=fixed_db, lang="en", user="tester"), incident_code=CODE
    )
    keys = {"point_plot": ["f", "v", "p"], "calibration": ["action:model_calibrate"]}[screen]
    with frozen(later):
        assert snap_compare(app, terminal_size=size, run_before=_run_before(keys))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_trace_screen(snap_compare, fixed_engine, fixed_db, size, tmp_path, monkeypatch):  # noqa: F811
    """The source trace of observations around the demo spill (tests/plume/test_service.py), the
    files given by relative path so the snapshot does not hold this machine's paths."""
    import shutil

    from textual.widgets import Input

    from incident.demo.seed import DEMO_RIVER
    from tests.plume.test_service import _trace_csv

    csv = _trace_csv(tmp_path)
    shutil.copy(DEMO_RIVER, tmp_path / DEMO_RIVER.name)
    monkeypatch.chdir(tmp_path)
    app = make_app(
        engine=fixed_engine, settings=Settings(db_url=fixed_db, lang="en", user="tester"), incident_code=CODE
    )
    settle = _run_before([])

    async def trace(pilot) -> None:
        await settle(pilot)
        await pilot.app.run_action("source_trace")
        await pilot.pause()
        pilot.app.screen.query_one("#trace-csv", Input).value = Path(csv).name
        pilot.app.screen.query_one("#trace-river", Input).value = DEMO_RIVER.name
        pilot.app.screen.query_one("#trace-csv", Input).focus()
        await pilot.press("enter")
        await settle(pilot)

    with frozen(NOW):
        assert snap_compare(app, terminal_size=size, run_before=trace)
