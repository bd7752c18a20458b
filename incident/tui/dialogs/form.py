"""A small keyboard-first form: labelled inputs and checkboxes, OK / Cancel.

Returns a dict of the values (text stripped) or None when cancelled. When
the service refuses the input, the caller opens the form again with the
same values and the refusal, so nothing typed is lost. A refusal
(:class:`UserError`) that names an input field (``err.field``) is shown
inline under that field, which is marked and focused; any other at the top.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from incident.core.errors import UserError
from incident.core.i18n import t
from incident.tui.base import Localised


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    checkbox: bool = False


class FormDialog(Localised, ModalScreen[dict | None]):
    DEFAULT_CSS = """
    FormDialog { align: center middle; }
    FormDialog > VerticalScroll {
        width: 90%; max-width: 78; height: auto; max-height: 22;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    FormDialog .form-row { height: 1; margin-top: 1; }
    FormDialog .form-row Label { width: 28; }
    FormDialog Input { width: 1fr; height: 1; border: none; padding: 0 1; background: $boost; }
    FormDialog Input:focus { border: none; background: $accent 30%; }
    FormDialog Checkbox { height: 1; border: none; padding: 0; margin-top: 1; }
    FormDialog .form-error { color: $error; text-style: bold; height: auto; margin-top: 1; }
    FormDialog Input.form-invalid { background: $error 25%; }
    FormDialog #form-buttons { height: auto; margin-top: 1; }
    FormDialog Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "key.back", id="form-cancel")]

    def __init__(
        self,
        title: str,
        fields: list[FormField],
        *,
        values: dict | None = None,
        error: str | UserError | None = None,
    ) -> None:
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.values = values or {}
        #: the field the refusal is about (marked, focused, error shown under it), if the form has it
        self.error_field = next(
            (f for f in fields if isinstance(error, UserError) and error.field == f.name), None
        )
        if isinstance(error, UserError):
            label = self.error_field.label if self.error_field else None
            error = error.render(field_label=label)
        self.error = error
        self._done = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form-body") as body:
            body.border_title = self.form_title
            if self.error and self.error_field is None:
                yield Static(self.error, classes="form-error", id="form-error")
            for f in self.fields:
                value = self.values.get(f.name, f.value)
                marked = "form-invalid" if f is self.error_field else ""
                if f.checkbox:
                    yield Checkbox(f.label, value=bool(value), id=f"field-{f.name}", classes=marked)
                else:
                    with Horizontal(classes="form-row"):
                        yield Label(f.label)
                        yield Input(
                            value=str(value or ""),
                            placeholder=f.placeholder,
                            id=f"field-{f.name}",
                            classes=marked,
                        )
                if f is self.error_field:
                    yield Static(self.error or "", classes="form-error", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button(t("form.ok"), id="form-ok", variant="primary")
                yield Button(t("form.cancel"), id="form-cancel")

    def on_mount(self) -> None:
        if self.error_field is not None:
            self.query_one(f"#field-{self.error_field.name}").focus()
            return
        first = next(iter(self.query(Input)), None)
        if first is not None:
            first.focus()

    def collect(self) -> dict:
        out: dict = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.name}")
            out[f.name] = widget.value if f.checkbox else widget.value.strip()  # type: ignore[attr-defined]
        return out

    def _finish(self, result: dict | None) -> None:
        # keys typed quickly can submit twice: dismiss once only
        if not self._done:
            self._done = True
            self.dismiss(result)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field; on the last one it submits."""
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
        else:
            self._finish(self.collect())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self._finish(self.collect() if event.button.id == "form-ok" else None)

    def action_cancel(self) -> None:
        self._finish(None)
