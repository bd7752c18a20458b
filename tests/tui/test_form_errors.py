"""A refusal that names an input field is shown inline under that field, in the reader's language."""

from __future__ import annotations

import asyncio

from textual.app import App
from textual.widgets import Input, Static

from incident.core.errors import UserError
from incident.core.i18n import set_language
from incident.tui.dialogs.form import FormDialog, FormField

FIELDS = [
    FormField("title", "Title"),
    FormField("mass_kg", "Mass (kg)"),
    FormField("duration_h", "Duration (h)"),
]


class _Host(App):
    def __init__(self, error) -> None:
        super().__init__()
        self.error = error

    def on_mount(self) -> None:
        self.push_screen(FormDialog("New incident", FIELDS, values={"mass_kg": "-5"}, error=self.error))


async def _shown(error) -> tuple[str, list[str], str | None, str]:
    """(error text, ids of marked fields, id of the focused widget, id of the widget above the error)."""
    async with _Host(error).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = pilot.app.screen
        message = form.query_one("#form-error", Static)
        marked = [w.id for w in form.query(Input) if w.has_class("form-invalid")]
        widgets = list(form.query_one("#form-body").children)
        before = widgets[widgets.index(message) - 1]
        return str(message.render()), marked, pilot.app.focused.id, str(before.id or before.classes)


def test_a_refusal_marks_its_field_and_shows_inline_in_english_and_chinese():
    err = UserError("errors.core.mass_kg_negative", field="mass_kg", mass_kg=-5.0)
    text, marked, focused, _ = asyncio.run(_shown(err))
    assert marked == ["field-mass_kg"] and focused == "field-mass_kg"
    assert text.startswith("Mass (kg): mass -5 kg is negative"), text
    set_language("zh")
    text, marked, focused, _ = asyncio.run(_shown(err))
    assert marked == ["field-mass_kg"] and focused == "field-mass_kg"
    assert text.startswith("Mass (kg): 泄漏量 -5 kg 为负数") and "处理办法" in text, text


def test_the_error_sits_under_its_field_not_at_the_top():
    err = UserError("errors.core.mass_kg_negative", field="mass_kg", mass_kg=-5.0)
    *_, above = asyncio.run(_shown(err))
    assert "form-row" in above  # the row of the mass field, not the form's top
    unplaced = UserError("errors.core.incident_has_no_title", field="not_in_this_form")
    text, marked, focused, _ = asyncio.run(_shown(unplaced))
    assert marked == [] and focused == "field-title" and "the incident has no title" in text
