"""Field work in the TUI at 80×24, keys only (issue 17): attach a photo (its hash logged), fill in the
HJ 589 field survey, view and export ICS 211 — each from the command palette's action, through the
rooms' public APIs; refusals land under the field they name. SVG snapshots of the two new screens
at 80×24 and 120×40 (fixed demo, frozen clock)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlmodel import col, select
from textual.widgets import DataTable, Input, Static

from incident.core.clock import frozen
from incident.core.config import Settings
from incident.core.store.engine import session_scope
from incident.core.store.tables import LogEntry
from incident.reports import list_photos, survey_form
from incident.sampling import check_in
from incident.tui.app import make_app
from incident.tui.commands import ENTRIES
from tests.playbook.conftest import BUILT_AT, fixed_db, fixed_engine  # noqa: F401 - fixtures
from tests.reports.test_photos_survey import png


def _app(engine, code, lang="en"):
    return make_app(
        engine=engine, settings=Settings(db_url="sqlite://", lang=lang, user="tester"), incident_code=code
    )


async def _settled(pilot):
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _type_into(pilot, form, name, text, clear=False):
    box = form.query_one(f"#field-{name}", Input)
    box.focus()
    await pilot.pause()
    if clear:
        box.value = ""
    await pilot.press(*text)


async def _ok(pilot):
    app = pilot.app
    while app.focused is None or app.focused.id != "form-ok":
        await pilot.press("tab")
    await pilot.press("enter")
    await _settled(pilot)


def _log_kinds(engine, kind):
    with session_scope(engine) as s:
        return list(s.exec(select(LogEntry).where(LogEntry.kind == kind).order_by(col(LogEntry.seq))))


def test_palette_lists_the_field_work_entries():
    actions = {a for _, _, a in ENTRIES}
    assert {"survey_show", "survey_edit", "photo_attach", "ics211_show", "ics211_export"} <= actions


async def test_attach_a_photo_by_path_its_hash_is_logged_and_listed(demo_engine, demo_code, short_dir):
    tmp_path = short_dir
    photo = png(tmp_path / "IMG_0042.png")
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await app.run_action("photo_attach")
        await _settled(pilot)
        form = app.screen
        assert type(form).__name__ == "FormDialog"
        assert app.focused is form.query_one("#field-file", Input)  # the path field first
        # a file that is not there: refused under the path field, nothing typed lost
        await pilot.press(*str(tmp_path / "missing.png"))
        await _type_into(pilot, form, "caption", "oil sheen below the bridge")
        await _ok(pilot)
        form = app.screen
        assert type(form).__name__ == "FormDialog"
        error = form.query_one("#error-file", Static)
        assert error.display and "missing.png" in str(error.render())
        assert form.query_one("#field-caption", Input).value == "oil sheen below the bridge"
        await _type_into(pilot, form, "file", str(photo), clear=True)
        await _type_into(pilot, form, "point", "S2")
        await _ok(pilot)
        form = app.screen  # the demo has no plan yet: no point S2, refused under the point field
        assert type(form).__name__ == "FormDialog"
        assert "no sampling point S2" in str(form.query_one("#error-point", Static).render())
        assert not form.query_one("#error-file", Static).display
        form.query_one("#field-point", Input).value = ""
        await _ok(pilot)
        assert type(app.screen).__name__ == "FieldSurveyScreen"
        photos = app.screen.query_one("#photo-table", DataTable)
        assert photos.row_count == 1
        assert photos.get_row_at(0)[2] == sha[:16] + "…"
    with session_scope(demo_engine) as s:
        (kept,) = list_photos(s, demo_code)
    assert kept.sha256 == sha and kept.point is None and kept.caption == "oil sheen below the bridge"
    assert kept.path.read_bytes() == photo.read_bytes()
    (entry,) = _log_kinds(demo_engine, "photo.added")
    assert entry.actor == "tester" and json.loads(entry.payload_json)["extra"]["sha256"] == sha


async def test_fill_in_the_field_survey_refusal_under_its_field(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        before = survey_form(s, demo_code)
    assert before.revision == 0 and before.value("pollutants")  # filled from the incident
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await app.run_action("survey_show")
        await _settled(pilot)
        screen = app.screen
        assert type(screen).__name__ == "FieldSurveyScreen"
        table = screen.query_one("#survey-table", DataTable)
        assert table.row_count == 28  # every Appendix A field, photos included
        await pilot.press("e")
        await _settled(pilot)
        form = app.screen
        assert form.query_one("#field-pollutants", Input).value == before.value("pollutants")
        await _type_into(pilot, form, "wind", "NE 3 m/s")
        await _type_into(pilot, form, "temperature_c", "warm")
        await _ok(pilot)
        form = app.screen  # refused: not a number, under the temperature field
        assert type(form).__name__ == "FormDialog"
        assert form.query_one("#error-temperature_c", Static).display
        assert form.query_one("#field-wind", Input).value == "NE 3 m/s"
        await _type_into(pilot, form, "temperature_c", "12.5", clear=True)
        await _ok(pilot)
        assert app.screen is screen
        values = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert "NE 3 m/s" in values and "12.5" in values
    with session_scope(demo_engine) as s:
        after = survey_form(s, demo_code)
    assert (
        after.revision == 1 and after.value("wind") == "NE 3 m/s" and after.value("temperature_c") == "12.5"
    )
    sources = {f.name: f.source for f in after.fields}
    assert sources["wind"] == "entered" and sources["pollutants"] == "incident"  # untouched: not stored
    (entry,) = _log_kinds(demo_engine, "survey.recorded")
    assert "wind set" in entry.summary and "pollutants" not in entry.summary


async def test_view_and_export_ics211(demo_engine, demo_code, short_dir):
    tmp_path = short_dir
    with session_scope(demo_engine) as s:
        check_in(s, demo_code, "Crew A", actor="tester", departure_point="HQ gate")
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await app.run_action("ics211_show")
        await _settled(pilot)
        screen = app.screen
        assert type(screen).__name__ == "Ics211Screen"
        table = screen.query_one(DataTable)
        assert table.row_count == 1
        row = [str(c) for c in table.get_row_at(0)]
        assert row[0].startswith("Crew A") and row[1] == "Li Wei" and row[2] == "3" and row[5] == "HQ gate"
        await pilot.press("x")
        await _settled(pilot)
        form = app.screen
        await _type_into(pilot, form, "output", str(tmp_path / "ics211.pdf"), clear=True)
        await _ok(pilot)
        form = app.screen  # not .csv or .md: refused under the file field
        assert type(form).__name__ == "FormDialog" and form.query_one("#error-output", Static).display
        await _type_into(pilot, form, "output", str(tmp_path / "ics211.csv"), clear=True)
        await _ok(pilot)
        assert app.screen is screen
    text = (tmp_path / "ics211.csv").read_text(encoding="utf-8")
    assert "Crew A" in text and "Li Wei" in text and "HQ gate" in text
    (entry,) = _log_kinds(demo_engine, "ics211.exported")
    assert entry.actor == "tester" and "ics211.csv" in entry.summary


CODE = "INC-2026-0001"
NOW = BUILT_AT + timedelta(minutes=10)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("action", ["survey_show", "ics211_show"])
def test_screen(snap_compare, fixed_engine, fixed_db, action, size):  # noqa: F811
    app = make_app(
        engine=fixed_engine, settings=Settings(db_url=fixed_db, lang="en", user="tester"), incident_code=CODE
    )
    if action == "ics211_show":
        with frozen(NOW), session_scope(fixed_engine) as s:
            check_in(s, CODE, "Crew A", actor="tester", departure_point="HQ gate")
            check_in(s, CODE, "Crew C", actor="tester", departure_point="Pingle sub-station")

    async def run(pilot) -> None:
        for _ in range(3):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.app.run_action(action)
        for _ in range(3):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    with frozen(NOW):
        assert snap_compare(app, terminal_size=size, run_before=run)


async def test_field_work_screens_in_chinese(demo_engine, demo_code):
    app = _app(demo_engine, demo_code, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await app.run_action("survey_show")
        await _settled(pilot)
        table = app.screen.query_one("#survey-table", DataTable)
        assert str(table.get_row_at(0)[0]) == "报告单位"
        assert [str(c.label) for c in table.columns.values()] == ["项目", "来源", "内容"]
        await app.run_action("ics211_show")
        await _settled(pilot)
        assert "ICS 211 报到登记表" in app.screen.sub_title
