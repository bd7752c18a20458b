"""Numbers typed into forms go through the project's one rule (``incident.core.inputs.parse_number``):
at 80×24, by keys, "1²" (and full-width, NaN, absurd sizes) is refused on the form under the field it
names, in English and Chinese, and nothing is saved."""

from __future__ import annotations

import pytest
from sqlmodel import col, func, select
from textual.widgets import Input, Static

from incident.core.config import Settings
from incident.core.incidents import list_incidents
from incident.core.store.engine import session_scope
from incident.core.store.tables import LogEntry, Sample
from incident.tui.app import make_app
from incident.tui.dialogs.form import FormField
from tests.tui.test_incident_workflow import pick, screen_name, settle, until


def _app(engine, code=None, lang="en"):
    return make_app(
        engine=engine, settings=Settings(db_url="sqlite://", lang=lang, user="tester"), incident_code=code
    )


async def _type_into(pilot, name: str, text: str) -> None:
    box = pilot.app.screen.query_one(f"#field-{name}", Input)
    box.focus()
    await pilot.pause()
    box.value = ""
    await pilot.press(*text)


async def _ok(pilot) -> None:
    while pilot.app.focused is None or pilot.app.focused.id != "form-ok":
        await pilot.press("tab")
    await pilot.press("enter")
    await settle(pilot)


def _error(pilot, name: str) -> str:
    box = pilot.app.screen.query_one(f"#error-{name}", Static)
    return str(box.render()) if box.display else ""


def _count(engine, model, *where) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.mark.parametrize(
    ("lang", "refusal"),
    [("en", "'1²' is not a number"), ("zh", "'1²' 不是数字")],
)
async def test_new_incident_refuses_a_superscript_mass_on_the_form(engine, lang, refusal):
    from incident.core.i18n import t

    app = _app(engine, lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: screen_name(pilot) == "IncidentListScreen")
        await pilot.press("n")
        await until(pilot, lambda: screen_name(pilot) == "NewIncidentForm")
        await settle(pilot)
        await pilot.press(*"Tanker", "tab", "tab")
        await pick(pilot, 3)  # reach M03
        await pilot.press("tab", *"45")
        await _type_into(pilot, "mass_kg", "1²")
        await _ok(pilot)
        assert screen_name(pilot) == "NewIncidentForm"  # the form stays, with the refusal under the field
        text = _error(pilot, "mass_kg")
        assert refusal in text
        assert text.startswith(t("newinc.mass", lang=lang) + ": ")  # names the field as the form shows it
        assert app.focused is pilot.app.screen.query_one("#field-mass_kg", Input)
        await _type_into(pilot, "source_lat", "１２")  # a second bad number: full-width digits
        await _ok(pilot)
        assert "'１２'" in _error(pilot, "source_lat")
        with session_scope(engine) as s:
            assert list_incidents(s) == []  # nothing saved


async def test_a_sample_with_round_1_superscript_2_is_not_registered(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    before = _count(demo_engine, Sample)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")  # results
        await settle(pilot)
        await pilot.press("s")  # register a sample
        await settle(pilot)
        assert screen_name(pilot) == "FormDialog"
        await _type_into(pilot, "point", "S2")
        await _type_into(pilot, "round", "1²")
        await _ok(pilot)
        assert screen_name(pilot) == "FormDialog"
        assert "Round" in _error(pilot, "round") and "'1²' is not a whole number" in _error(pilot, "round")
    assert _count(demo_engine, Sample) == before


async def test_crew_check_in_refuses_a_headcount_that_is_not_a_whole_number(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    before = _count(demo_engine, LogEntry, col(LogEntry.kind).like("crew.%"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await until(pilot, lambda: screen_name(pilot) == "CrewBoardScreen")
        await pilot.press("k")  # check in the selected crew
        await until(pilot, lambda: screen_name(pilot) == "FormDialog")
        for typed, refusal in (("1²", "'1²' is not a whole number"), ("0", "it must be at least 1")):
            await _type_into(pilot, "headcount", typed)
            await _ok(pilot)
            assert screen_name(pilot) == "FormDialog"
            assert refusal in _error(pilot, "headcount")
    assert _count(demo_engine, LogEntry, col(LogEntry.kind).like("crew.%")) == before


@pytest.mark.parametrize(
    "typed",
    ["1²", "１２", "٣", "\u200f12", "12\u200e", "nan", "inf", "-Infinity", "1e999", "1e13", "0x10", "1_000", "1 000",
     "\x00", "\ud800", "1,5", "--1"],
)  # fmt: skip
def test_every_number_field_refuses_hostile_text_by_the_one_rule(typed):
    from incident.core.errors import UserError

    field = FormField("mass_kg", "Mass (kg)", kind="number", minimum=0)
    with pytest.raises(UserError) as err:
        field.parse(typed)
    assert err.value.field == "mass_kg" and err.value.key and err.value.key.startswith("errors.input.")
    for lang in ("en", "zh"):
        assert err.value.render(lang, field_label="Mass (kg)").startswith("Mass (kg): ")


@pytest.mark.parametrize(
    ("typed", "value"), [("2.5", 2.5), ("12,500", 12500.0), (" 8000 ", 8000.0), ("1e3", 1000.0)]
)
def test_ordinary_numbers_are_read(typed, value):
    assert FormField("mass_kg", "Mass (kg)", kind="number", minimum=0).parse(typed) == value


async def test_plan_insert_refuses_a_full_width_km_and_inserts_nothing(demo_engine, demo_code):
    from incident.core.incidents import get_incident
    from incident.sampling import plan_view
    from tests.results.conftest import make_plan

    with session_scope(demo_engine) as s:
        make_plan(s, get_incident(s, demo_code).id)  # points S1–S4 on M03, as the results tests plan
    with session_scope(demo_engine) as s:
        before = len(plan_view(s, demo_code).points)
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await until(pilot, lambda: screen_name(pilot) == "SamplingPlanScreen")
        await pilot.press("n")  # insert a point
        await until(pilot, lambda: screen_name(pilot) == "FormDialog")
        await _type_into(pilot, "km", "４５")
        await _type_into(pilot, "reason", "bridge")
        await _ok(pilot)
        assert screen_name(pilot) == "FormDialog"
        assert "'４５' is not a number" in _error(pilot, "km")
    with session_scope(demo_engine) as s:
        assert len(plan_view(s, demo_code).points) == before
