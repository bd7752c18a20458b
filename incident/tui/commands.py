"""Command palette entries, named "noun: verb" (e.g. "crew: assign")."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from incident.core.i18n import t

# (label key, help key, app action name). Other features append here.
ENTRIES: list[tuple[str, str, str]] = [
    ("cmd.dashboard_show", "cmd.dashboard_show_help", "dashboard"),
    ("cmd.forecast_run", "cmd.forecast_run_help", "forecast"),
    ("cmd.forecast_ensemble", "cmd.forecast_ensemble_help", "forecast_ensemble"),
    ("cmd.model_calibrate", "cmd.model_calibrate_help", "model_calibrate"),
    ("cmd.source_trace", "cmd.source_trace_help", "source_trace"),
    ("cmd.incident_list", "cmd.incident_list_help", "incidents"),
    ("cmd.incident_new", "cmd.incident_new_help", "incident_new"),
    ("cmd.spill_amend", "cmd.spill_amend_help", "spill_amend"),
    ("cmd.log_show", "cmd.log_show_help", "show_log"),
    ("cmd.readiness_show", "cmd.readiness_show_help", "readiness"),
    ("cmd.readiness_calibrate", "cmd.readiness_calibrate_help", "readiness_calibrate"),
    ("cmd.readiness_checkout", "cmd.readiness_checkout_help", "readiness_checkout"),
    ("cmd.readiness_checkin", "cmd.readiness_checkin_help", "readiness_checkin"),
    ("cmd.playbook_open", "cmd.playbook_open_help", "playbook"),
    ("cmd.step_done", "cmd.step_done_help", "step_done"),
    ("cmd.step_skip", "cmd.step_skip_help", "step_skip"),
    ("cmd.step_undo", "cmd.step_undo_help", "step_undo"),
    ("cmd.step_action", "cmd.step_action_help", "step_action"),
    ("cmd.log_verify", "cmd.log_verify_help", "verify_log"),
    ("cmd.help_show", "cmd.help_show_help", "help"),
    ("cmd.language_switch", "cmd.language_switch_help", "switch_language"),
    ("cmd.app_quit", "cmd.app_quit_help", "quit"),
    # reports (HJ 589 §8) and the ICS 214 export
    ("cmd.reports_show", "cmd.reports_show_help", "reports"),
    ("cmd.report_draft_flash", "cmd.report_draft_flash_help", "report_draft('flash')"),
    ("cmd.report_draft_monitoring", "cmd.report_draft_monitoring_help", "report_draft('monitoring')"),
    ("cmd.report_draft_summary", "cmd.report_draft_summary_help", "report_draft('summary')"),
    ("cmd.report_review", "cmd.report_review_help", "report_review"),
    ("cmd.report_release", "cmd.report_release_help", "report_release"),
    ("cmd.report_export", "cmd.report_export_help", "report_export"),
    ("cmd.log_export_214", "cmd.log_export_214_help", "log_export_214"),
    ("cmd.results_show", "cmd.results_show_help", "results"),
    ("cmd.result_add", "cmd.result_add_help", "result_add"),
    ("cmd.result_import", "cmd.result_import_help", "result_import"),
    ("cmd.termination_check", "cmd.termination_check_help", "termination_check"),
    ("cmd.result_correct", "cmd.result_correct_help", "result_correct"),
    ("cmd.qc_show", "cmd.qc_show_help", "qc_show"),
    ("cmd.custody_handoff", "cmd.custody_handoff_help", "custody_handoff"),
    ("cmd.rounds_show", "cmd.rounds_show_help", "rounds_show"),
    ("cmd.round_mark", "cmd.round_mark_help", "round_mark"),
    ("cmd.rounds_regenerate", "cmd.rounds_regenerate_help", "rounds_regenerate"),
    ("cmd.plan_export", "cmd.plan_export_help", "plan_export"),
    # sampling plan and crews
    ("sampling_cmd.plan_show", "sampling_cmd.plan_show_help", "plan_show"),
    ("sampling_cmd.plan_propose", "sampling_cmd.plan_propose_help", "plan_propose"),
    ("sampling_cmd.plan_insert", "sampling_cmd.plan_insert_help", "plan_insert"),
    ("sampling_cmd.crew_board", "sampling_cmd.crew_board_help", "crew_board"),
    ("sampling_cmd.crew_assign", "sampling_cmd.crew_assign_help", "crew_assign"),
    ("sampling_cmd.crew_checkin", "sampling_cmd.crew_checkin_help", "crew_checkin"),
    ("sampling_cmd.crew_status", "sampling_cmd.crew_status_help", "crew_status"),
    # field work on site: the HJ 589 field survey, photos, ICS 211 (incident/tui/screens/fieldwork.py)
    ("fieldwork_cmd.survey_show", "fieldwork_cmd.survey_show_help", "survey_show"),
    ("fieldwork_cmd.survey_edit", "fieldwork_cmd.survey_edit_help", "survey_edit"),
    ("fieldwork_cmd.photo_attach", "fieldwork_cmd.photo_attach_help", "photo_attach"),
    ("fieldwork_cmd.ics211_show", "fieldwork_cmd.ics211_show_help", "ics211_show"),
    ("fieldwork_cmd.ics211_export", "fieldwork_cmd.ics211_export_help", "ics211_export"),
    # drills (exercises)
    ("drill_cmd.start", "drill_cmd.start_help", "drill_start"),
    ("drill_cmd.screen", "drill_cmd.screen_help", "drill_show"),
    ("drill_cmd.inject_log", "drill_cmd.inject_log_help", "drill_inject_log"),
    ("drill_cmd.evaluate", "drill_cmd.evaluate_help", "drill_evaluate"),
    ("drill_cmd.action", "drill_cmd.action_help", "drill_action"),
    ("drill_cmd.export_aar", "drill_cmd.export_aar_help", "drill_export_aar"),
    ("drill_cmd.sample", "drill_cmd.sample_help", "drill_sample"),
    ("drill_cmd.speed", "drill_cmd.speed_help", "drill_speed"),
    ("cmd.drill_end", "cmd.drill_end_help", "drill_end"),
    # automatic stations and their alerts
    ("stations_tui.cmd_show", "stations_tui.cmd_show_help", "stations"),
    ("stations_tui.cmd_ack", "stations_tui.cmd_ack_help", "alert_ack"),
    ("stations_tui.cmd_dismiss", "stations_tui.cmd_dismiss_help", "alert_dismiss"),
    ("stations_tui.cmd_open", "stations_tui.cmd_open_help", "alert_open"),
]


class IncidentCommands(Provider):
    async def _run(self, action: str) -> None:
        await self.app.run_action(action)

    async def discover(self) -> Hits:
        for label, help_key, action in ENTRIES:
            yield DiscoveryHit(t(label), partial(self._run, action), help=t(help_key))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_key, action in ENTRIES:
            text = t(label)
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._run, action), help=t(help_key))
