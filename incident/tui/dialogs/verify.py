"""Verify the evidence trail of the open incident (palette: "log: verify")."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from incident.core.i18n import t
from incident.tui.base import Localised, app_state
from incident.tui.widgets.plain import Plain


class VerifyDialog(Localised, ModalScreen[None]):
    DEFAULT_CSS = """
    VerifyDialog { align: center middle; }
    VerifyDialog > VerticalScroll {
        width: 90%; max-width: 96; height: auto; max-height: 22;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    VerifyDialog #verify-status.intact { color: $success; text-style: bold; }
    VerifyDialog #verify-status.broken { color: $error; text-style: bold; }
    VerifyDialog Horizontal { height: auto; margin-top: 1; }
    VerifyDialog Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "key.back", id="close-verify"),
        Binding("r", "check", "verify.again", id="verify-again"),
    ]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="verify-body") as v:
            v.border_title = t("verify.title", code=self.code)
            yield Plain(t("verify.running"), id="verify-status")
            yield Plain("", id="verify-details")
            with Horizontal():
                yield Button(t("verify.close"), id="verify-close", variant="primary")
                yield Button(t("verify.again"), id="verify-run")

    def on_mount(self) -> None:
        self.action_check()

    def action_check(self) -> None:
        self.query_one("#verify-status", Static).update(t("verify.running"))
        self.query_one("#verify-status").set_classes("")
        self.run_check()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_check(self) -> None:
        from incident.core.store.engine import session_scope
        from incident.evidence import verify

        try:
            with session_scope(app_state(self).engine) as s:
                report = verify(s, self.code)
            data = report.as_dict()
        except Exception as exc:  # noqa: BLE001 - shown to the user, not swallowed
            data = {"error": f"{type(exc).__name__}: {exc}"}
        self.app.call_from_thread(self.show, data)

    def show(self, data: dict) -> None:
        status = self.query_one("#verify-status", Static)
        details = self.query_one("#verify-details", Static)
        if "error" in data:
            status.update(t("verify.failed", error=data["error"]))
            status.set_classes("broken")
            return
        if data["ok"]:
            status.update(t("verify.intact"))
            status.set_classes("intact")
        else:
            status.update(t("verify.broken", problem=data["first_problem"]))
            status.set_classes("broken")
        lines = [
            t(
                "verify.chain",
                chain=c["chain"],
                entries=c["entries"],
                seq=c["head_seq"],
                hash=c["head_hash"],
            )
            for c in data["chains"]
        ]
        lines.append(t("verify.rows", rows=", ".join(f"{k} {v}" for k, v in data["rows_checked"].items())))
        if len(data["problems"]) > 1:
            lines.append(t("verify.problems", count=len(data["problems"])))
            lines += [f"- {p['where']}: {p['message']}" for p in data["problems"][:10]]
        lines += [t("verify.warning", text=w) for w in data["warnings"]]
        lines.append(t("verify.hint", code=self.code))
        details.update("\n".join(lines))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "verify-run":
            self.action_check()
        else:
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
