"""A small keyboard-first form dialog: labelled inputs, OK / Cancel (Enter / Esc)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from incident.core.i18n import t
from incident.tui.base import Localised
from incident.tui.widgets.plain import Plain


class FormDialog(Localised, ModalScreen[dict | None]):
    """Fields are (key, label, default, required); ``choices`` adds one radio set (key, options)."""

    DEFAULT_CSS = """
    FormDialog { align: center middle; }
    FormDialog > VerticalScroll {
        width: 70; max-width: 95%; height: auto; max-height: 22;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    FormDialog Label { color: $text-muted; }
    FormDialog #form-message { margin-bottom: 1; }
    FormDialog #form-error { color: $error; }
    FormDialog Horizontal { height: auto; margin-top: 1; }
    FormDialog Button { margin-right: 2; }
    FormDialog RadioSet { width: 100%; }
    """
    BINDINGS = [Binding("escape", "cancel", "key.back", id="form-cancel")]

    def __init__(
        self,
        title: str,
        fields: list[tuple[str, str, str, bool]],
        *,
        message: str = "",
        ok_label: str | None = None,
        choices: tuple[str, list[tuple[str, str]], str] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.message = message
        self.ok_label = ok_label or t("sampling_form.ok")
        self.choices = choices

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = self.title_text
            if self.message:
                yield Plain(self.message, id="form-message")
            if self.choices:
                key, options, default = self.choices
                with RadioSet(id=f"choice-{key}", compact=True):
                    for value, label in options:
                        yield RadioButton(label, value=value == default, name=value)
            for key, label, default, _required in self.fields:
                yield Label(label)
                yield Input(value=default, id=f"field-{key}", compact=True)
            yield Plain("", id="form-error")
            with Horizontal():
                yield Button(self.ok_label, id="form-ok", variant="primary", compact=True)
                yield Button(t("sampling_form.cancel"), id="form-cancel", compact=True)

    def on_mount(self) -> None:
        if self.choices:
            self.query_one(RadioSet).focus()
            return
        inputs = self.query(Input)
        (inputs.first() if inputs else self.query_one("#form-ok")).focus()

    def _values(self) -> dict | None:
        values: dict[str, str] = {}
        for key, label, _default, required in self.fields:
            value = self.query_one(f"#field-{key}", Input).value.strip()
            if required and not value:
                self.query_one("#form-error", Static).update(t("sampling_form.required", field=label))
                self.query_one(f"#field-{key}", Input).focus()
                return None
            values[key] = value
        if self.choices:
            radio = self.query_one(f"#choice-{self.choices[0]}", RadioSet)
            pressed = radio.pressed_button
            values[self.choices[0]] = pressed.name if pressed is not None else self.choices[2]
        return values

    def on_input_submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        i = inputs.index(event.input)
        if i + 1 < len(inputs):
            inputs[i + 1].focus()
        else:
            self._submit()

    def _submit(self) -> None:
        values = self._values()
        if values is not None:
            self.dismiss(values)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "form-ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(Localised, ModalScreen[bool]):
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
            yield Plain(self.body, id="confirm-body")
            with Horizontal():
                yield Button(self.ok_label, id="confirm-ok", variant="warning", compact=True)
                yield Button(t("sampling_form.cancel"), id="confirm-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-ok").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-ok")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
