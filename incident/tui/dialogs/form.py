"""The one keyboard-first form every dialog uses: bordered, labelled fields, OK / Cancel.

Returns a dict of the values (text stripped) or None when cancelled. What a form promises:

- every field has a visible border and a label; a choice is a drop-down (Enter opens it);
- Tab / Shift+Tab and Enter move between fields and never select the text, so the next key
  types after it instead of replacing it;
- the kinds of field (number, time, required) are checked on OK, and each refusal is shown
  under its field, in the user's language; nothing typed is lost;
- Escape cancels, and asks first when something was changed;
- letters typed while no field has the focus (a button has it) are swallowed: they never
  reach the screen below or the app's shortcuts.

When the service refuses the input, the caller opens the form again with the same values
and the refusal under the field it names (:func:`place_error`), or at the top.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from incident.core.i18n import t
from incident.tui.base import Localised, ScreenMixin
from incident.tui.widgets.plain import Plain


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    checkbox: bool = False
    required: bool = False
    kind: str = "text"  # text | number | whole | time
    minimum: float | None = None  # for numbers: the smallest allowed value
    maximum: float | None = None  # for numbers: the largest allowed value
    choices: tuple[tuple[str, str], ...] = ()  # (value, label): a drop-down instead of text

    def parse(self, text: str) -> float:
        """The number typed into this field, by the project's one rule for typed numbers
        (``incident.core.inputs.parse_number``), or its refusal naming this field."""
        from incident.core.inputs import parse_number

        return parse_number(
            text,
            field=self.name,
            label=self.label,
            minimum=self.minimum,
            maximum=self.maximum,
            whole=self.kind == "whole",
        )


def place_error(exc: Exception, fields: Sequence[FormField]) -> tuple[dict[str, str], str | None]:
    """Split a service refusal into (errors under fields, error at the top).

    A UserError's ``where`` names the field (``mass_kg``, ``source_lat/source_lon``); the
    refusal goes under each field it names, else at the top of the form.
    """
    from incident.tui.base import render_error

    where = str(getattr(exc, "field", None) or getattr(exc, "where", "") or "")
    names = {f.name for f in fields}
    hits = [part.strip().lstrip("-") for part in where.replace(",", "/").split("/")]
    hits = [h.replace("-", "_") for h in hits if h.replace("-", "_") in names]
    text = render_error(exc)
    if hits:
        return {hits[0]: text}, None
    return {}, text


class ConfirmDialog(Localised, ModalScreen[bool]):
    """Yes / no before something that cannot be taken back or that creates a document.

    ``y`` or the focused button answers yes, ``n`` or Escape no.
    """

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > VerticalScroll {
        width: 76; max-width: 98%; height: auto; max-height: 22;
        border: thick $warning; background: $panel; padding: 0 1;
    }
    ConfirmDialog Horizontal { height: auto; margin-top: 1; }
    ConfirmDialog Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("escape,n", "answer(False)", "key.back", id="confirm-no"),
        Binding("y", "answer(True)", "sampling_form.yes", id="confirm-yes"),
    ]

    def __init__(self, title: str, body, ok_label: str | None = None) -> None:
        super().__init__()
        self.title_text, self.body, self.ok_label = title, body, ok_label or t("sampling_form.yes")

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = self.title_text
            yield Static(self.body, id="confirm-body")
            with Horizontal():
                yield Button(self.ok_label, id="confirm-ok", variant="warning", compact=True)
                yield Button(t("sampling_form.cancel"), id="confirm-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-ok").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-ok")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class FormKeys(ScreenMixin):
    """Keys every form shares (mixed into ModalScreen forms): see the module docstring."""

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Arriving in a text field puts the cursor after its text: typing adds, never replaces."""
        widget = event.widget
        if isinstance(widget, Input):
            widget.cursor_position = len(widget.value)

    def on_key(self, event: events.Key) -> None:
        """A printable key with no text field focused goes nowhere (no shortcut fires)."""
        if event.is_printable and event.character != " " and not isinstance(self.focused, Input):
            event.stop()  # Space still presses a button or ticks a box
            event.prevent_default()

    def cancel_asking(self, changed: bool, close: Callable[[], object]) -> None:
        """Close at once when nothing changed; else ask before throwing the changes away."""
        if not changed:
            close()
            return

        def answer(discard: bool | None) -> None:
            if discard:
                close()

        self.app.push_screen(
            ConfirmDialog(t("formui.discard_title"), t("formui.discard_body"), t("formui.discard")), answer
        )


class FormDialog(FormKeys, Localised, ModalScreen[dict | None]):
    DEFAULT_CSS = """
    FormDialog { align: center middle; }
    FormDialog > VerticalScroll {
        width: 100%; max-width: 100; height: auto; max-height: 100%;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    FormDialog #form-message { height: auto; color: $text-muted; }
    FormDialog .form-row { height: auto; }
    FormDialog .form-row > Label { width: 24; padding-top: 1; }
    FormDialog .form-cell { width: 1fr; height: auto; }
    FormDialog Input { width: 1fr; border: round $primary 60%; padding: 0 1; height: 3; }
    FormDialog Input:focus { border: round $accent; background: $accent 15%; }
    FormDialog Input.-invalid { border: round $error; }
    FormDialog Select { width: 1fr; }
    FormDialog Checkbox { height: 3; margin-left: 24; }
    FormDialog .field-error { color: $error; height: auto; padding-left: 1; }
    FormDialog .form-error { color: $error; text-style: bold; height: auto; }
    FormDialog #form-buttons { height: auto; margin-top: 1; }
    FormDialog #form-buttons Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "key.back", id="form-cancel")]

    def __init__(
        self,
        title: str,
        fields: list[FormField],
        *,
        values: dict | None = None,
        error: str | None = None,
        errors: dict[str, str] | None = None,
        message: str = "",
        ok_label: str | None = None,
        check: Callable[[dict], dict[str, str]] | None = None,
    ) -> None:
        """``check`` (optional) sees the values after the field checks and returns more
        refusals by field name (e.g. a km outside the chosen reach)."""
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.values = values or {}
        self.error = error
        self.errors = errors or {}
        self.message = message
        self.ok_label = ok_label or t("form.ok")
        self.check = check
        self._done = False
        self._initial: dict | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form-body") as body:
            body.border_title = self.form_title
            if self.message:
                yield Plain(self.message, id="form-message")
            yield Plain(self.error or "", classes="form-error", id="form-error")
            for f in self.fields:
                value = self.values.get(f.name, f.value)
                if f.checkbox:
                    yield Checkbox(f.label, value=bool(value), id=f"field-{f.name}")
                    continue
                with Horizontal(classes="form-row"):
                    yield Label(f.label + (" *" if f.required else ""), id=f"label-{f.name}")
                    with Vertical(classes="form-cell"):
                        if f.choices:
                            options = [(label, v) for v, label in f.choices]
                            known = {v for v, _ in f.choices}
                            yield Select(
                                options,
                                value=value if value in known else f.choices[0][0],
                                allow_blank=False,
                                id=f"field-{f.name}",
                            )
                        else:
                            yield Input(
                                value=str(value or ""),
                                placeholder=f.placeholder,
                                id=f"field-{f.name}",
                                select_on_focus=False,
                            )
                        yield Static(self.errors.get(f.name, ""), id=f"error-{f.name}", classes="field-error")
            with Horizontal(id="form-buttons"):
                yield Button(self.ok_label, id="form-ok", variant="primary", compact=True)
                yield Button(t("form.cancel"), id="form-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#form-error").display = bool(self.error)
        for f in self.fields:
            if not f.checkbox:
                box = self.query_one(f"#error-{f.name}", Static)
                box.display = bool(self.errors.get(f.name))
                if self.errors.get(f.name):
                    self.query_one(f"#field-{f.name}").add_class("-invalid")
        self._initial = self.collect()
        first_bad = next((f for f in self.fields if f.name in self.errors), None)
        target = (
            self.query_one(f"#field-{first_bad.name}")
            if first_bad is not None
            else next(iter(self.query("Input, Select, Checkbox")), None)
        )
        (target or self.query_one("#form-ok")).focus()

    # ------------------------------------------------------------------ values
    def collect(self) -> dict:
        out: dict = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.name}")
            value = cast("Input | Select[Any] | Checkbox", widget).value  # the field widgets
            out[f.name] = value if f.checkbox else str(value).strip()
        return out

    @property
    def changed(self) -> bool:
        return self._initial is not None and self.collect() != self._initial

    def field_errors(self, values: dict) -> dict[str, str]:
        """The checks every form makes, in the user's language: required, number, whole number, time."""
        from incident.core.clock import parse_local
        from incident.core.errors import UserError

        errors: dict[str, str] = {}
        for f in self.fields:
            text = values.get(f.name)
            if f.checkbox or f.choices:
                continue
            if not text:
                if f.required:
                    errors[f.name] = t("formui.required", field=f.label)
                continue
            if f.kind in ("number", "whole"):
                try:
                    f.parse(text)
                except UserError as exc:
                    errors[f.name] = exc.render(field_label=f.label)
            elif f.kind == "time":
                try:
                    parse_local(text, where=f.name)
                except UserError:
                    errors[f.name] = t("formui.not_a_time", field=f.label, text=text)
        if not errors and self.check is not None:
            errors.update(self.check(values))
        return errors

    def show_errors(self, errors: dict[str, str]) -> None:
        for f in self.fields:
            if f.checkbox:
                continue
            box = self.query_one(f"#error-{f.name}", Static)
            box.update(errors.get(f.name, ""))
            box.display = f.name in errors
            self.query_one(f"#field-{f.name}").set_class(f.name in errors, "-invalid")
        top = self.query_one("#form-error", Static)
        top.update(t("formui.fix_fields") if errors else "")
        top.display = bool(errors)
        first = next((f for f in self.fields if f.name in errors), None)
        if first is not None:
            widget = self.query_one(f"#field-{first.name}")
            widget.focus()
            self.query_one("#form-body", VerticalScroll).scroll_to_widget(widget)

    def submit(self) -> None:
        values = self.collect()
        errors = self.field_errors(values)
        if errors:
            self.show_errors(errors)
            return
        self._finish(values)

    def _finish(self, result: dict | None) -> None:
        # keys typed quickly can submit twice: dismiss once only
        if not self._done:
            self._done = True
            self.dismiss(result)

    # ------------------------------------------------------------------ keys
    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next text field or drop-down; on the last one it submits."""
        event.stop()
        fields = list(self.query("Input, Select"))
        index = fields.index(event.input)
        if index + 1 < len(fields):
            fields[index + 1].focus()
        else:
            self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "form-ok":
            self.submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.cancel_asking(self.changed, lambda: self._finish(None))
