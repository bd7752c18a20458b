"""Readiness actions reachable from the palette and from the readiness screens.

Each opens a form; the service call runs in a thread worker with its own
short session. A refusal (e.g. an instrument out of calibration without an
override) reopens the form with the values kept and the reason on top.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from textual.app import App

from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.store.engine import session_scope
from incident.tui.base import app_state
from incident.tui.dialogs.form import FormDialog, FormField


class _ShowsReadiness(Protocol):
    SHOWS_READINESS: bool

    def load(self) -> object: ...


def _refresh(app: App) -> None:
    # Screens that show readiness say so (``SHOWS_READINESS``); no import of them here,
    # since they import these actions.
    for screen in app.screen_stack:
        if getattr(screen, "SHOWS_READINESS", False):
            cast(_ShowsReadiness, screen).load()  # every SHOWS_READINESS screen has load()


def _form(app: App, title: str, fields: list[FormField], apply: Callable[[Any, dict], str]) -> None:
    """Open the form; on OK run ``apply(session, values)`` in a worker; on refusal reopen it."""

    def submitted(values: dict | None, error: str | None = None) -> None:
        if values is None:
            return

        def run() -> None:
            try:
                with session_scope(app_state(app).engine) as session:
                    message = apply(session, values)
            except UserError as exc:
                app.call_from_thread(
                    app.push_screen, FormDialog(title, fields, values=values, error=exc.render()), submitted
                )
                return
            app.call_from_thread(app.notify, message)
            app.call_from_thread(_refresh, app)

        app.run_worker(run, thread=True, exit_on_error=False, group="readiness-write")

    app.push_screen(FormDialog(title, fields), submitted)


def _day(text: str, where: str):
    from incident.readiness import parse_day_arg, today_local

    return parse_day_arg(text, where=where) if text else today_local()


def open_calibrate(app: App, tag: str = "") -> None:
    from incident.readiness import record_calibration, today_local

    def apply(session, v: dict) -> str:
        if not v["tag"]:
            raise UserError("errors.tui.no_asset_tag", where=t("readiness.form.tag"))
        out = record_calibration(
            session,
            v["tag"],
            schedule=v["schedule"],
            done_on=_day(v["on"], t("readiness.form.on")),
            by=v["by"],
            passed=not v["failed"],
            certificate=v["certificate"],
            actor=app_state(app).settings.user,
        )
        key = "readiness.done.calibrated" if out["passed"] else "readiness.done.calibration_failed"
        return t(key, tag=out["asset_tag"], schedule=out["schedule"], due=out["next_due"])

    fields = [
        FormField("tag", t("readiness.form.tag"), tag, "INS-HM-01"),
        FormField("schedule", t("readiness.form.schedule"), _first_schedule(app, tag)),
        FormField("on", t("readiness.form.on"), str(today_local()), "YYYY-MM-DD"),
        FormField("by", t("readiness.form.by"), app_state(app).settings.user),
        FormField("certificate", t("readiness.form.certificate")),
        FormField("failed", t("readiness.form.failed"), "", checkbox=True),
    ]
    _form(app, t("cmd.readiness_calibrate"), fields, apply)


def _first_schedule(app: App, tag: str) -> str:
    """The schedule falling due first: the one most likely being recorded."""
    if not tag:
        return ""
    from sqlmodel import select

    from incident.core.store.tables import CalibrationSchedule, Equipment

    with session_scope(app_state(app).engine) as s:
        eq = s.exec(select(Equipment).where(Equipment.asset_tag == tag)).first()
        if eq is None:
            return ""
        rows = list(s.exec(select(CalibrationSchedule).where(CalibrationSchedule.equipment_id == eq.id)))
    rows.sort(key=lambda r: (r.next_due is not None, r.next_due))
    return rows[0].name if rows else ""


def open_maintain(app: App, tag: str = "") -> None:
    from incident.readiness import record_maintenance, today_local

    def apply(session, v: dict) -> str:
        out = record_maintenance(
            session,
            v["tag"],
            done_on=_day(v["on"], t("readiness.form.on")),
            by=v["by"],
            kind=v["kind"] or "service",
            notes=v["notes"],
            condition_after=v["condition"] or None,
            actor=app_state(app).settings.user,
        )
        return t("readiness.done.maintained", tag=out["asset_tag"], condition=out["condition"])

    fields = [
        FormField("tag", t("readiness.form.tag"), tag, "VEH-04"),
        FormField("on", t("readiness.form.on"), str(today_local()), "YYYY-MM-DD"),
        FormField("by", t("readiness.form.by"), app_state(app).settings.user),
        FormField("kind", t("readiness.form.kind"), "service", "service | repair | inspection"),
        FormField("condition", t("readiness.form.condition"), "", "working | degraded | broken | lost"),
        FormField("notes", t("readiness.form.notes")),
    ]
    _form(app, t("readiness.key.maintain"), fields, apply)


def open_checkout(app: App, target: str = "", crew: str = "") -> None:
    from incident.readiness import check_out

    def apply(session, v: dict) -> str:
        out = check_out(
            session,
            v["target"],
            crew=v["crew"],
            actor=app_state(app).settings.user,
            incident=v["incident"] or None,
            override=v["override"] or None,
        )
        key = (
            "readiness.done.checked_out_override" if out["override_reason"] else "readiness.done.checked_out"
        )
        return t(key, target=out["target"], crew=out["crew"], reason=out["override_reason"])

    fields = [
        FormField("target", t("readiness.form.target"), target, "KIT-HM-1 / INS-HM-01"),
        FormField("crew", t("readiness.form.crew"), crew, "Crew A"),
        FormField("incident", t("readiness.form.incident"), getattr(app, "incident_code", None) or ""),
        FormField("override", t("readiness.form.override"), "", t("readiness.form.override_hint")),
    ]
    _form(app, t("cmd.readiness_checkout"), fields, apply)


def open_checkin(app: App, target: str = "") -> None:
    from incident.readiness import check_in

    def apply(session, v: dict) -> str:
        out = check_in(
            session,
            v["target"],
            actor=app_state(app).settings.user,
            condition=v["condition"] or None,
            notes=v["notes"],
        )
        return t("readiness.done.checked_in", target=out["target"], crew=out["crew"])

    fields = [
        FormField("target", t("readiness.form.target"), target, "KIT-HM-1 / INS-HM-01"),
        FormField("condition", t("readiness.form.condition"), "", "working | degraded | broken | lost"),
        FormField("notes", t("readiness.form.notes")),
    ]
    _form(app, t("cmd.readiness_checkin"), fields, apply)
