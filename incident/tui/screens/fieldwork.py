"""Field work on site (issue 17): the HJ 589 Appendix A field survey with the photos, and ICS 211.

Two screens and their palette entries, calling only the rooms' public APIs:

- the field survey (palette "survey: show"): every Appendix A field with its value and where it
  came from (entered, or filled from the incident), and the photos kept with the incident, each
  with its SHA-256 (the hash the log holds). ``e`` edits the survey (a new revision, logged),
  ``p`` attaches a photo from a file path (copied into the store, its hash logged);
- ICS 211, the check-in list (palette "ics 211: show"): one row per check-in with the form's
  columns; ``x`` exports it as CSV or Markdown (an exercise's file name carries EXERCISE).

A refusal from the service opens the form again with the same values and the refusal under the
field it names.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from incident.core.clock import fmt_local
from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.store.engine import session_scope
from incident.tui.base import AppMixin, Localised, app_state
from incident.tui.dialogs.form import FormDialog, FormField, place_error
from incident.tui.widgets.exercise_banner import ExerciseBanner
from incident.tui.widgets.plain import Plain, PlainTable


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------- dialogs (used by the screens and the palette)


def photo_fields() -> list[FormField]:
    return [
        FormField("file", t("fieldwork.photo_file"), required=True, placeholder="/path/to/photo.jpg"),
        FormField("caption", t("fieldwork.photo_caption")),
        FormField("point", t("fieldwork.photo_point")),
    ]


def attach_photo(node, code: str, *, values: dict | None = None, error=None, done=None) -> None:
    """Ask for a photo's path (caption, point) and keep it with the incident; the hash goes into the log."""
    fields = photo_fields()
    errors, top = place_error(error, fields) if error is not None else ({}, None)

    def submitted(result: dict | None) -> None:
        if result is None:
            return
        from incident.reports import add_photo

        try:
            with session_scope(app_state(node).engine) as s:
                photo = add_photo(
                    s,
                    code,
                    result["file"],
                    actor=app_state(node).settings.user,
                    caption=result.get("caption") or "",
                    point=result.get("point") or None,
                )
        except UserError as exc:
            attach_photo(node, code, values=result, error=exc, done=done)
            return
        node.app.notify(
            t("fieldwork.photo_added", n=photo.number, name=photo.original_name, sha=photo.sha256[:16])
        )
        if done is not None:
            done()

    node.app.push_screen(
        FormDialog(
            t("fieldwork.photo_title", code=code),
            fields,
            values=values,
            errors=errors,
            error=top,
            message=t("fieldwork.photo_message"),
            ok_label=t("fieldwork.photo_ok"),
        ),
        submitted,
    )


def edit_survey(node, code: str, *, values: dict | None = None, error=None, done=None) -> None:
    """The Appendix A form with its current values; only the fields changed are stored (a new revision)."""
    from incident.reports import SURVEY_ENTERED_FIELDS, survey_form

    with session_scope(app_state(node).engine) as s:
        current = {f.name: f.value for f in survey_form(s, code).fields}
    fields = [FormField(name, t(f"survey.f_{name}"), current.get(name, "")) for name in SURVEY_ENTERED_FIELDS]
    errors, top = place_error(error, fields) if error is not None else ({}, None)

    def submitted(result: dict | None) -> None:
        if result is None:
            return
        changed = {k: v for k, v in result.items() if (v or "") != (current.get(k) or "")}
        if not changed:
            node.app.notify(t("fieldwork.survey_unchanged"))
            return
        from incident.reports import set_survey

        try:
            with session_scope(app_state(node).engine) as s:
                survey = set_survey(s, code, changed, actor=app_state(node).settings.user)
        except UserError as exc:
            edit_survey(node, code, values=result, error=exc, done=done)
            return
        node.app.notify(t("fieldwork.survey_saved", n=len(changed), rev=survey.revision))
        if done is not None:
            done()

    node.app.push_screen(
        FormDialog(
            t("fieldwork.survey_title", code=code),
            fields,
            values=values,
            errors=errors,
            error=top,
            message=t("fieldwork.survey_message"),
            ok_label=t("fieldwork.survey_ok"),
        ),
        submitted,
    )


def export_ics211_dialog(node, code: str, *, values: dict | None = None, error=None) -> None:
    """Ask where to write ICS 211 (.csv or .md) and write it; the export is logged."""
    fields = [
        FormField("output", t("fieldwork.ics211_file"), f"ics211-{code}.csv", required=True),
        FormField("position", t("fieldwork.ics211_position")),
    ]
    errors, top = place_error(error, fields) if error is not None else ({}, None)

    def submitted(result: dict | None) -> None:
        if result is None:
            return
        from incident.sampling import export_ics211

        try:
            with session_scope(app_state(node).engine) as s:
                form, path = export_ics211(
                    s,
                    code,
                    result["output"],
                    actor=app_state(node).settings.user,
                    position=result.get("position") or "",
                )
        except UserError as exc:
            export_ics211_dialog(node, code, values=result, error=exc)
            return
        node.app.notify(t("fieldwork.ics211_written", n=len(form.rows), path=path))

    node.app.push_screen(
        FormDialog(
            t("fieldwork.ics211_export_title", code=code),
            fields,
            values=values,
            errors=errors,
            error=top,
            ok_label=t("fieldwork.ics211_export_ok"),
        ),
        submitted,
    )


# ---------------------------------------------------------------- the screens


class FieldSurveyScreen(Localised, Screen):
    """The HJ 589 Appendix A record of the incident, and its photos."""

    DEFAULT_CSS = """
    FieldSurveyScreen #survey-table { height: 2fr; }
    FieldSurveyScreen #photo-head { height: 1; padding: 0 1; background: $boost; }
    FieldSurveyScreen #photo-table { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="survey-back"),
        Binding("e", "edit", "fieldwork.key_edit", id="survey-edit"),
        Binding("p", "photo", "fieldwork.key_photo", id="survey-photo"),
        Binding("r", "reload", "key.refresh", id="survey-reload", show=False),
    ]

    def __init__(self, code: str, then: str | None = None) -> None:
        super().__init__()
        self.code = code
        self.then = then

    def rebuild(self) -> FieldSurveyScreen:
        return FieldSurveyScreen(self.code)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        yield PlainTable(id="survey-table", cursor_type="row", zebra_stripes=True)
        yield Plain("", id="photo-head")
        yield PlainTable(id="photo-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.code} · {t('fieldwork.survey_sub')}"
        self.query_one("#survey-table", DataTable).add_columns(
            t("fieldwork.col_field"), t("fieldwork.col_source"), t("fieldwork.col_value")
        )
        self.query_one("#photo-table", DataTable).add_columns(
            "#", t("fieldwork.col_file"), "SHA-256", t("fieldwork.col_point"), t("fieldwork.col_caption")
        )
        self.load()
        if self.then:
            getattr(self, f"action_{self.then}")()

    def load(self) -> None:
        from incident.reports import list_photos, survey_form

        with session_scope(app_state(self).engine) as s:
            survey = survey_form(s, self.code)
            photos = list_photos(s, self.code)
        table = self.query_one("#survey-table", DataTable)
        table.clear()
        for f in survey.fields:
            source = t(f"fieldwork.source_{f.source}") if f.source else "—"
            table.add_row(f.label(), source, _short(f.value, 60) or "—")
        head = t("fieldwork.photos_head", n=len(photos))
        if survey.revision:
            head += "  ·  " + t(
                "fieldwork.survey_rev", rev=survey.revision, at=survey.recorded_at, by=survey.recorded_by
            )
        self.query_one("#photo-head", Plain).update(head)
        ptable = self.query_one("#photo-table", DataTable)
        ptable.clear()
        for p in photos:
            ptable.add_row(
                str(p.number),
                _short(p.original_name, 28),
                p.sha256[:16] + "…",
                p.point or "—",
                _short(p.caption, 40),
            )

    def action_reload(self) -> None:
        self.load()

    def action_edit(self) -> None:
        edit_survey(self, self.code, done=self.load)

    def action_photo(self) -> None:
        attach_photo(self, self.code, done=self.load)


class Ics211Screen(Localised, Screen):
    """ICS 211, the check-in list: one row per crew checked in to the incident."""

    DEFAULT_CSS = """
    Ics211Screen #ics211-head { height: auto; padding: 0 1; background: $boost; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="ics211-back"),
        Binding("x", "export", "fieldwork.key_export", id="ics211-export"),
        Binding("r", "reload", "key.refresh", id="ics211-reload", show=False),
    ]

    def __init__(self, code: str, then: str | None = None) -> None:
        super().__init__()
        self.code = code
        self.then = then

    def rebuild(self) -> Ics211Screen:
        return Ics211Screen(self.code)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        yield Plain("", id="ics211-head")
        yield PlainTable(id="ics211-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.code} · {t('fieldwork.ics211_sub')}"
        self.query_one(DataTable).add_columns(
            t("fieldwork.col_resource"),
            t("fieldwork.col_leader"),
            t("fieldwork.col_persons"),
            t("fieldwork.col_status"),
            t("fieldwork.col_checked_in"),
            t("fieldwork.col_departure"),
            t("fieldwork.col_assignment"),
            t("fieldwork.col_home"),
            t("fieldwork.col_travel"),
            t("fieldwork.col_quals"),
        )
        self.load()
        if self.then:
            getattr(self, f"action_{self.then}")()

    def load(self) -> None:
        from incident.sampling import build_ics211

        with session_scope(app_state(self).engine) as s:
            form = build_ics211(s, self.code, prepared_by=app_state(self).settings.user)
        self.query_one("#ics211-head", Plain).update(
            t(
                "fieldwork.ics211_head",
                name=form.incident_name,
                location=form.location or "—",
                n=len(form.rows),
            )
        )
        table = self.query_one(DataTable)
        table.clear()
        for r in form.rows:
            table.add_row(
                r.resource,
                r.leader,
                str(r.total_persons),
                r.state,
                fmt_local(r.checked_in_at, with_date=False),
                r.departure_point or "—",
                _short(r.assignment, 40),
                r.home_unit,
                r.travel_method,
                _short(r.qualifications, 30) or "—",
            )
        if not form.rows:
            self.notify(t("fieldwork.ics211_empty"), severity="warning")

    def action_reload(self) -> None:
        self.load()

    def action_export(self) -> None:
        export_ics211_dialog(self, self.code)


# ---------------------------------------------------------------- app actions (palette)


class FieldworkActions(AppMixin):
    """Mixed into the App: "survey: …", "photo: attach" and "ics 211: …" in the palette."""

    def _fieldwork(self, screen_type, then: str | None = None) -> None:
        self._open(screen_type, then)  # the sampling mixin's: open it, or run ``then`` on it if shown

    def action_survey_show(self) -> None:
        self._fieldwork(FieldSurveyScreen)

    def action_survey_edit(self) -> None:
        self._fieldwork(FieldSurveyScreen, "edit")

    def action_photo_attach(self) -> None:
        self._fieldwork(FieldSurveyScreen, "photo")

    def action_ics211_show(self) -> None:
        self._fieldwork(Ics211Screen)

    def action_ics211_export(self) -> None:
        self._fieldwork(Ics211Screen, "export")
