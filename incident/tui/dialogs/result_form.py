"""Result entry (modal): one line per field, each checked on leaving it and again on Save.

Refusals appear in red under the field they concern, with the fix; nothing is
guessed. Save runs the full check (sample, instrument, method) in a worker and
stores the result with ``results.add_result``; the dialog returns the new id.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

import incident.results as results
from incident.core import standards
from incident.core.errors import UserError, ValidationErrors
from incident.core.i18n import t
from incident.core.store.engine import session_scope
from incident.results import parse_number, parse_result_value, unit_factor
from incident.tui.base import Localised, app_state
from incident.tui.dialogs.form import FormKeys
from incident.tui.widgets.plain import Plain

# field id -> (label key, hint key or None, ``where`` names the service uses for it)
FIELDS: list[tuple[str, str, str | None, tuple[str, ...]]] = [
    ("sample", "form.sample", None, ("sample",)),
    ("parameter", "form.parameter", None, ("parameter",)),
    ("value", "form.value", "form.value_hint", ("value", "detected", "value high")),
    ("unit", "form.unit", None, ("unit",)),
    ("dl", "form.dl", None, ("detection limit",)),
    ("method", "form.method", "form.method_hint", ("method", "rapid")),
    ("principle", "form.principle", "form.principle_hint", ("principle",)),
    ("instrument", "form.instrument", "form.instrument_hint", ("instrument",)),
]
WHERE_TO_FIELD = {where: fid for fid, _l, _h, wheres in FIELDS for where in wheres}


class ResultForm(FormKeys, Localised, ModalScreen[int | None]):
    DEFAULT_CSS = """
    ResultForm { align: center middle; }
    ResultForm > VerticalScroll {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    ResultForm .row { height: 3; margin-top: 0; }
    ResultForm .row Label { width: 17; padding-top: 1; }
    ResultForm Input { border: round $primary 60%; height: 3; padding: 0 1; width: 1fr; }
    ResultForm Input:focus { border: round $accent; background: $accent 15%; }
    ResultForm Input.-invalid, ResultForm Input.-invalid:focus { border: round $error; }
    ResultForm .error { color: $error; height: auto; padding-left: 17; }
    ResultForm .hint { color: $text-muted; height: 1; padding-left: 17; }
    ResultForm Checkbox { border: none; height: 1; padding: 0; margin-top: 1; }
    ResultForm Checkbox:focus { border: none; }
    ResultForm #form-body > Static.error { margin: 0; }
    ResultForm #form-status { color: $error; height: auto; }
    ResultForm #form-buttons { height: 3; margin-top: 1; }
    ResultForm #form-buttons Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "key.back", id="form-cancel"),
        Binding("ctrl+s", "save", "key.save", id="form-save"),
    ]

    def __init__(self, code: str, *, sample: str = "", parameter: str = "", medium: str = "water") -> None:
        super().__init__()
        self.code = code
        self.defaults = {"sample": sample, "parameter": parameter, "unit": "mg/L"}
        self.medium = medium

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form-body") as body:
            body.border_title = f"{t('form.title')} · {self.code}"
            for fid, label, hint, _w in FIELDS:
                with Horizontal(classes="row"):
                    yield Label(t(label))
                    yield Input(
                        value=self.defaults.get(fid, ""),
                        id=f"f-{fid}",
                        placeholder=t(hint) if hint else "",
                        select_on_focus=False,
                    )
                yield Plain("", id=f"e-{fid}", classes="error")
            yield Checkbox(t("form.rapid"), id="f-rapid")
            yield Plain("", id="form-status")
            with Horizontal(id="form-buttons"):
                yield Button(t("form.save"), id="form-save", variant="primary")
                yield Button(t("form.cancel"), id="form-cancel")

    def on_mount(self) -> None:
        for fid, *_ in FIELDS:
            self.query_one(f"#e-{fid}").display = False
        first_empty = next((fid for fid, *_ in FIELDS if not self.defaults.get(fid)), "value")
        self.query_one(f"#f-{first_empty}", Input).focus()
        self._initial = self.raw_input()

    # -- field-level checks (no database needed) --------------------------
    def _value(self, fid: str) -> str:
        return self.query_one(f"#f-{fid}", Input).value

    def _set_error(self, fid: str, err: UserError | None) -> None:
        box = self.query_one(f"#e-{fid}", Static)
        inp = self.query_one(f"#f-{fid}", Input)
        if err is None:
            box.update("")
            box.display = False
            inp.remove_class("-invalid")
            return
        text = err.problem + (f"\n→ {err.fix}" if err.fix else "")
        box.update(text)
        box.display = True
        inp.add_class("-invalid")

    def check_field(self, fid: str) -> UserError | None:
        text = self._value(fid)
        try:
            if fid == "value":
                parse_result_value(text, "value")
            elif fid == "dl" and text.strip():
                parse_number(text, "detection limit", allow_zero=False)
            elif fid == "unit":
                unit_factor(text, medium=self.medium, where="unit")
            elif fid == "parameter":
                standards.resolve_parameter(text)
        except UserError as exc:
            return exc
        return None

    @on(Input.Blurred)
    def _blurred(self, event: Input.Blurred) -> None:
        fid = (event.input.id or "").removeprefix("f-")
        if fid in ("value", "dl", "unit", "parameter") and event.input.value.strip():
            self._set_error(fid, self.check_field(fid))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    # -- save ---------------------------------------------------------------
    def raw_input(self) -> results.ResultInput:
        value = self._value("value").strip()
        detected = None
        if value.lower() in ("yes", "no", "是", "否", "检出", "阳性", "阴性"):
            detected, value = value, ""
        return results.ResultInput(
            sample=self._value("sample").strip(),
            parameter=self._value("parameter"),
            value=value or None,
            detected=detected,
            unit=self._value("unit"),
            detection_limit=self._value("dl") or None,
            method=self._value("method"),
            principle=self._value("principle"),
            instrument=self._value("instrument"),
            rapid=self.query_one("#f-rapid", Checkbox).value,
        )

    def action_save(self) -> None:
        for fid, *_ in FIELDS:
            self._set_error(fid, None)
        self.query_one("#form-status", Static).update("")
        self.save(self.raw_input())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "form-save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.cancel_asking(self.raw_input() != self._initial, lambda: self.dismiss(None))

    @work(thread=True, exclusive=True, exit_on_error=False, group="result-form")
    def save(self, raw: results.ResultInput) -> None:
        try:
            with session_scope(app_state(self).engine) as session:
                view = results.add_result(session, self.code, raw, actor=app_state(self).settings.user)
                outcome: tuple = ("ok", view.id, view.text)
        except ValidationErrors as exc:
            outcome = ("errors", exc.problems)
        except UserError as exc:
            outcome = ("errors", [exc])
        self.app.call_from_thread(self._after_save, outcome)

    def _after_save(self, outcome: tuple) -> None:
        if outcome[0] == "ok":
            self.app.notify(t("results.saved", id=outcome[1], text=outcome[2]))
            self.dismiss(outcome[1])
            return
        unplaced = []
        marked = set()
        for p in outcome[1]:
            fid = WHERE_TO_FIELD.get(p.where or "")
            if fid is None:
                unplaced.append(p.render())
                continue
            self._set_error(fid, p)
            marked.add(fid)
        first = next((fid for fid, *_ in FIELDS if fid in marked), None)
        status = t("form.fix_errors") + ("\n" + "\n".join(unplaced) if unplaced else "")
        self.query_one("#form-status", Static).update(status)
        if first:
            self.query_one(f"#f-{first}", Input).focus()
