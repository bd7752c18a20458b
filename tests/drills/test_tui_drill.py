"""A full drill in the TUI on an accelerated clock (Pilot, 80×24)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlmodel import select
from textual.widgets import Input

from incident.core.store.engine import session_scope
from incident.core.store.tables import Result
from incident.drills.metrics import drill_status
from incident.reports import lifecycle as reports
from incident.reports.render import EXERCISE_MARK
from incident.sampling import crews
from incident.tui.app import make_app
from incident.tui.commands import ENTRIES
from incident.tui.dialogs.form import FormDialog
from incident.tui.screens.drill import DrillScreen, InjectLogDialog
from incident.tui.widgets.exercise_banner import ExerciseBanner

from .conftest import propose


async def _until(pilot, predicate, what: str, tries: int = 200):
    for _ in range(tries):
        await pilot.pause(0.05)
        if predicate():
            return
    raise AssertionError(
        f"{what}: not reached; notifications: {[n.message for n in pilot.app._notifications]}"
    )


async def _fill(pilot, values: dict[str, str]) -> None:
    await _until(pilot, lambda: isinstance(pilot.app.screen, FormDialog), "form open")
    for name, value in values.items():
        pilot.app.screen.query_one(f"#field-{name}", Input).value = value
    await pilot.click("#form-ok")


def _messages(app) -> str:
    return "\n".join(f"{n.title} {n.message}" for n in app._notifications)


def test_palette_has_the_drill_entries():
    from incident.core.i18n import t

    labels = {t(label) for label, _help, _action in ENTRIES}
    assert {
        "drill: start",
        "drill: inject log",
        "drill: evaluate",
        "drill: export AAR",
        "drill: sample",
    } <= labels


async def test_full_drill_on_an_accelerated_clock(demo_engine, settings, wall, tmp_path):
    app = make_app(engine=demo_engine, settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        # -- the scenario is loaded from the palette's "drill: start"
        await app.run_action("drill_start")
        await _fill(pilot, {"speed": "10"})
        await _until(pilot, lambda: isinstance(app.screen, DrillScreen), "drill screen")
        code = app.incident_code
        assert code.startswith("EX-")
        banner = app.screen.query_one(ExerciseBanner)
        await _until(pilot, lambda: banner.display and "×10" in str(banner.render()), "exercise banner")
        assert "EXERCISE / 演练 · T+00:00 · ×10" in str(banner.render())

        # -- injects arrive as the exercise clock passes them (the app's timer callback)
        wall.advance(minutes=0.6)  # T+06
        app._drill_timer()
        await _until(pilot, lambda: "Xishan Waterworks duty operator" in _messages(app), "first inject")
        assert "Reservoir release" not in _messages(app)
        # the players act: forecast + plan, a crew checks in
        propose(demo_engine, code)
        with session_scope(demo_engine) as s:
            crews.check_in(s, code, "Crew A", actor="field lead")
        wall.advance(minutes=3.5)  # T+41
        app._drill_timer()
        await _until(pilot, lambda: "Smelter revises the amount lost" in _messages(app), "third inject")

        # -- a crew samples at the Xishan intake point (S4) from the palette's "drill: sample"
        await app.run_action("drill_sample")
        await _fill(pilot, {"point": "S4", "method": "asv_portable", "sampler": "Zhang Wei"})
        await _until(
            pilot, lambda: "result due at" in _messages(app) or "Sample EX-" in _messages(app), "sampled"
        )
        with session_scope(demo_engine) as s:
            flash = reports.draft_report(s, code, "flash", actor="writer")
            reports.review_report(s, code, flash.id, reviewer="director")
            reports.release_report(s, code, flash.id, by="director")
        wall.advance(minutes=2)  # T+61: the ASV answers 15 min after sampling
        app._drill_timer()
        await _until(pilot, lambda: "Result available" in _messages(app), "synthetic result")
        with session_scope(demo_engine) as s:
            result = s.exec(select(Result).where(Result.incident_id != None)).all()  # noqa: E711
            assert len(result) == 1 and result[0].method_kind == "rapid"

        # -- metrics were captured and show on the drill screen
        screen = app.screen
        assert isinstance(screen, DrillScreen)
        screen.load()
        await _until(
            pilot,
            lambda: screen.status is not None and screen.status.timeline[3].value is not None,
            "metrics on screen",
        )
        got = {m.name: m.value for m in screen.status.timeline}
        assert round(got["depart"]) == 6  # the check-in, 0.6 real minutes in on the ×10 clock
        assert round(got["first_sample"]) == 41 and round(got["first_data"]) == 56
        assert got["first_flash_report"] is not None

        # -- the inject log shows everything received
        await pilot.press("i")
        await _until(pilot, lambda: isinstance(app.screen, InjectLogDialog), "inject log")
        assert len(app.screen.injects) == 3
        await pilot.press("escape")

        # -- the evaluator confirms a rating
        await pilot.press("e")
        await _fill(pilot, {"capability": "Mobilisation", "rating": "P", "evaluator": "Wang Fang"})
        await _until(pilot, lambda: "Mobilisation: P" in _messages(app), "rated")

        # -- the AAR/IP is exported, with the exercise marker on every page
        out = tmp_path / "aar.html"
        await pilot.press("x")
        await _fill(pilot, {"path": str(out), "lang": "en"})
        out = tmp_path / "EXERCISE-aar.html"  # an exercise's export carries EXERCISE in its file name
        await _until(pilot, lambda: out.exists(), "AAR written")
    html = out.read_text()
    root = ET.fromstring(html.split("\n", 1)[1])
    ns = "{http://www.w3.org/1999/xhtml}"
    sections = list(root.iter(ns + "section"))
    assert sections and all(
        any(p.get("class") == "exercise-mark" and p.text == EXERCISE_MARK for p in sec.iter(ns + "p"))
        for sec in sections
    )
    assert 'class="exercise-banner exercise-top"' in html and "position: fixed" in html
    with session_scope(demo_engine) as s:
        st = drill_status(s, code)
    assert {ev.capability: ev.rating for ev in st.evaluations}["Mobilisation"] == "P"


async def test_exercise_banner_on_every_incident_screen(demo_engine, settings, wall, drill):
    from incident.tui.screens.playbook import PlaybookScreen
    from incident.tui.screens.reports import ReportsScreen
    from incident.tui.screens.results import ResultsScreen
    from incident.tui.screens.sampling import CrewBoardScreen, SamplingPlanScreen

    app = make_app(engine=demo_engine, settings=settings, incident_code=drill)
    async with app.run_test(size=(80, 24)) as pilot:
        for screen in (
            PlaybookScreen(drill),
            SamplingPlanScreen(drill),
            CrewBoardScreen(drill),
            ResultsScreen(drill),
            ReportsScreen(drill),
        ):
            await app.push_screen(screen)
            banner = screen.query_one(ExerciseBanner)
            await _until(pilot, lambda b=banner: b.display, f"banner on {type(screen).__name__}")
            assert "EXERCISE / 演练" in str(banner.render())
            await app.pop_screen()


async def test_no_banner_on_a_real_incident(demo_engine, demo_code, settings):
    from incident.tui.screens.playbook import PlaybookScreen

    app = make_app(engine=demo_engine, settings=settings, incident_code=demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = PlaybookScreen(demo_code)
        await app.push_screen(screen)
        banner = screen.query_one(ExerciseBanner)
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert banner.clock is None and not banner.display


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_drill_screen_footer_fits_80_columns(demo_engine, settings, wall, drill, lang):
    """Found in tmux: the drill footer pushed f1 Help off the screen at 80 columns."""
    from tests.tui.test_layout_80x24 import _footer_overflow

    settings.lang = lang
    app = make_app(engine=demo_engine, settings=settings, incident_code=drill)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(DrillScreen(drill))
        await pilot.pause()
        await pilot.pause()
        assert _footer_overflow(app) == []
