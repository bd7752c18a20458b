"""The reports screen at 80×24: draft, preview, review (not by the author), release with confirmation."""

from __future__ import annotations

from textual.widgets import DataTable, Markdown

from incident.core.config import Settings
from incident.core.i18n import t
from incident.core.store.engine import session_scope
from incident.reports import lifecycle as reports
from incident.tui.app import make_app
from incident.tui.commands import ENTRIES
from incident.tui.screens.reports import ReportsScreen


def _app(engine, code, user="alice"):
    settings = Settings(db_url=engine.url.render_as_string(hide_password=False), lang="en", user=user)
    return make_app(engine=engine, settings=settings, incident_code=code)


async def _until(pilot, predicate, tries=100):
    for _ in range(tries):
        await pilot.pause(0.05)
        if predicate():
            return
    raise AssertionError("condition not reached")


def test_palette_has_the_report_entries():
    labels = {t(label) for label, _, _ in ENTRIES}
    for wanted in (
        "report: draft flash",
        "report: draft monitoring",
        "report: review",
        "report: release",
        "report: export",
        "log: export ICS 214",
    ):
        assert wanted in labels


async def test_draft_review_release_from_the_screen(records, as_of):
    engine, demo = records
    app = _app(engine, demo.code)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.run_action("report_draft('flash')")
        await pilot.pause()
        # drafting creates a document: it asks first
        await _until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        await pilot.press("y")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        table = screen.query_one(DataTable)
        await _until(pilot, lambda: table.row_count == 1)
        md = screen.query_one("#report-markdown", Markdown)
        await _until(pilot, lambda: "Flash Report No. 1" in md.source)
        assert "DRAFT v1" in md.source

        # review by the author is refused with a notification, nothing changes
        await pilot.press("v")
        await pilot.pause()
        await pilot.press(*"alice", "enter")
        await _until(pilot, lambda: any("cannot also review" in n.message for n in app._notifications))
        # release of a draft is refused too (no confirmation needed to say no)
        await pilot.press("p")
        await _until(pilot, lambda: any("must be reviewed" in n.message for n in app._notifications))

        await pilot.press("v")
        await pilot.pause()
        await pilot.press(*"bob", "enter")
        await _until(pilot, lambda: screen.rows and next(iter(screen.rows.values())).state == "reviewed")

        # release asks first; Escape cancels
        await pilot.press("p")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmReleaseDialog"
        await pilot.press("escape")
        await pilot.pause()
        with session_scope(engine) as s:
            assert reports.list_reports(s, demo.code)[0].state == "reviewed"
        # the author may not release it (issue 18): a third person does
        await pilot.press("p")
        await pilot.pause()
        await pilot.click("#confirm")
        await _until(pilot, lambda: any("cannot also release" in n.message for n in app._notifications))
        app.settings.user = "chief"
        await pilot.press("p")
        await pilot.pause()
        await pilot.click("#confirm")
        await _until(pilot, lambda: next(iter(screen.rows.values())).state == "released")
        with session_scope(engine) as s:
            info = reports.list_reports(s, demo.code)[0]
        assert info.released_by == "chief" and info.content_sha256


async def test_reports_screen_in_chinese_for_an_exercise(exercise_records, as_of):
    engine, demo = exercise_records
    app = _app(engine, demo.code)
    app.settings.lang = "zh"
    async with app.run_test(size=(80, 24)) as pilot:
        from incident.core.i18n import set_language

        set_language("zh")
        await pilot.pause()
        await app.run_action("report_draft('monitoring')")
        await pilot.pause()
        # drafting creates a document: it asks first
        await _until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        await pilot.press("y")
        await pilot.pause()
        screen = app.screen
        md = screen.query_one("#report-markdown", Markdown)
        await _until(pilot, lambda: "应急监测报告(第1期)" in md.source)
        assert "演练" in md.source
        assert screen.query_one("#exercise-banner").display
