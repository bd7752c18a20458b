"""The After-Action Report / Improvement Plan (HSEEP AAR/IP; AQ/T 9009-2015) of a drill.

Built as a report-renderer :class:`~incident.reports.render.Document` with
``exercise=True``, so it is written by the same Markdown and HTML writers as the
incident reports: the same print style, and the "EXERCISE / 演练" marker in a fixed
banner on every printed page, under every section heading and in the footer.
The AAR reveals the hidden truth: it is written after the exercise, for the team.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

from incident import __version__
from incident.core import log
from incident.core.clock import fmt_elapsed, fmt_local, utcnow
from incident.core.errors import UserError
from incident.core.i18n import bilingual, t
from incident.drills.exercise import require_exercise, truth_start
from incident.drills.metrics import RATINGS, drill_status
from incident.reports import (
    KV,
    Block,
    Bullets,
    Cell,
    Document,
    Para,
    Section,
    Stamp,
    Sub,
    Table,
    to_html,
    to_markdown,
)


def _w(lang: str) -> Callable[..., str]:
    def w(key: str, **params: object) -> str:
        return t(f"drill_rpt.{key}", lang=lang, **params)

    return w


def _minutes(value: float | None) -> str:
    return "—" if value is None else fmt_elapsed(value)


def build_aar(session: Session, code: str, *, lang: str = "en", actor: str = "") -> Document:
    inc, sc = require_exercise(session, code)
    st = drill_status(session, code, controller=True)
    w = _w(lang)
    metric_name = {m: w(f"m_{m}") for m in ("alert", "depart", "on_site", "first_sample", "first_data")}
    metric_name |= {"flash_drafted": w("m_flash_drafted"), "first_flash_report": w("m_first_flash_report")}
    by_metric = {m.name: m for m in st.metrics}

    overview = Section(
        "overview",
        w("s_overview"),
        [
            KV(
                [
                    (w("f_exercise"), bilingual(sc.name, sc.name_zh, lang=lang)),
                    (w("f_code"), inc.code),
                    (w("f_date"), fmt_local(inc.alert_at)),
                    (
                        w("f_clock"),
                        w("clock_text", speed=f"{sc.speed:g}", elapsed=fmt_elapsed(st.elapsed_min)),
                    ),
                    (w("f_playbook"), sc.playbook),
                    (w("f_scenario"), f"{Path(sc.source).name} (sha256 {sc.sha256[:12]}…)"),
                    (w("f_status"), w("ended") if st.ended else w("running")),
                ]
            ),
        ],
    )

    rep, tr = sc.reported, sc.truth
    rep_where = (
        f"{rep.position.reach} km {rep.position.km:g}"
        if rep.position.reach
        else f"{rep.position.lat:.5f}, {rep.position.lon:.5f} → {inc.source_reach} km {inc.source_km:.1f}"
    )
    truth_where = (
        f"{tr.position.reach} km {tr.position.km:g}"
        if tr.position.reach
        else f"{tr.position.lat:.5f}, {tr.position.lon:.5f}"
    )
    truth = Section(
        "scenario",
        w("s_scenario"),
        [
            Para(w("scenario_note")),
            Table(
                [w("h_item"), w("h_reported"), w("h_truth")],
                [
                    [Cell(w("r_where")), Cell(rep_where), Cell(truth_where)],
                    [
                        Cell(w("r_when")),
                        Cell(fmt_local(inc.release_start or inc.alert_at)),
                        Cell(f"{fmt_local(truth_start(inc, sc))} ({tr.offset_min:+g} min)"),
                    ],
                    [Cell(w("r_substance")), Cell(rep.substance or "—"), Cell(tr.substance)],
                    [
                        Cell(w("r_mass")),
                        Cell(f"{rep.mass_kg:,.0f} kg" if rep.mass_kg is not None else "—", "num"),
                        Cell(f"{tr.mass_kg:,.0f} kg", "num"),
                    ],
                    [
                        Cell(w("r_duration")),
                        Cell(f"{rep.release_duration_h:g} h" if rep.release_duration_h is not None else "—"),
                        Cell(f"{tr.duration_h:g} h"),
                    ],
                    [Cell(w("r_velocity")), Cell("×1"), Cell(f"×{tr.velocity_factor:g}")],
                ],
            ),
        ],
    )

    timeline_rows = []
    targets = {ev.metric: ev for ev in st.evaluations}
    for m in st.timeline:
        ev = targets.get(m.name)
        timeline_rows.append(
            [
                Cell(metric_name.get(m.name, m.name)),
                Cell(fmt_local(m.at) if m.at else w("not_done")),
                Cell(_minutes(m.value), "num"),
                Cell(ev.target if ev else "—"),
                Cell(ev.rating or ev.suggested or "—" if ev else "—"),
            ]
        )
    timeline = Section(
        "timeline",
        w("s_timeline"),
        [
            Para(w("timeline_note")),
            Table(
                [w("h_milestone"), w("h_time"), w("h_after_alert"), w("h_target"), w("h_rating")],
                timeline_rows,
            ),
        ],
    )

    inject_rows = [
        [
            Cell(fmt_elapsed(i.at_min), "num"),
            Cell(i.sender or "—"),
            Cell(f"{i.title}: {i.message}"),
            Cell(w("delivered") if i.delivered else w("not_delivered")),
        ]
        for i in st.injects
    ]
    inject_sec = Section(
        "injects",
        w("s_injects"),
        [Table([w("h_at"), w("h_from"), w("h_message"), w("h_delivered")], inject_rows)]
        if inject_rows
        else [Para(w("no_injects"))],
    )

    fc_rows = []
    receptors = sorted(
        {m.name.split(":", 1)[1] for m in st.metrics if m.name.startswith("forecast_arrival_error:")}
    )
    for rc in receptors:
        arr, arr_pct = (
            by_metric.get(f"forecast_arrival_error:{rc}"),
            by_metric.get(f"forecast_arrival_error_pct:{rc}"),
        )
        peak = by_metric.get(f"forecast_peak_error:{rc}")
        ratio = by_metric.get(f"forecast_peak_ratio:{rc}")
        fc_rows.append(
            [
                Cell(rc),
                Cell(f"{arr.value:+.1f} h" if arr and arr.value is not None else w("missed"), "num"),
                Cell(f"{arr_pct.value:+.0f} %" if arr_pct and arr_pct.value is not None else "—", "num"),
                Cell(f"{peak.value:+.1f} h" if peak and peak.value is not None else "—", "num"),
                Cell(f"×{ratio.value:.2f}" if ratio and ratio.value is not None else "—", "num"),
            ]
        )
    forecast_sec = Section(
        "forecast",
        w("s_forecast"),
        [
            Para(w("forecast_note")),
            Table(
                [w("h_receptor"), w("h_arrival_err"), w("h_arrival_pct"), w("h_peak_err"), w("h_peak_ratio")],
                fc_rows,
            ),
        ]
        if fc_rows
        else [Para(w("no_forecast"))],
    )

    rating_rows = [
        [
            Cell(bilingual(ev.capability, ev.capability_zh, lang=lang)),
            Cell(ev.target),
            Cell(ev.basis or "—"),
            Cell(ev.suggested or "—"),
            Cell(ev.rating or w("not_rated")),
            Cell(ev.evaluator or "—"),
        ]
        for ev in st.evaluations
    ]
    ratings_blocks: list[Block] = [
        Para(w("ratings_note")),
        Bullets([f"{r}: {w(f'rating_{r}')}" for r in RATINGS]),
        Table(
            [
                w("h_capability"),
                w("h_target"),
                w("h_observed"),
                w("h_suggested"),
                w("h_rating"),
                w("h_evaluator"),
            ],
            rating_rows,
        ),
    ]
    for ev in st.evaluations:
        if ev.strengths or ev.improvements:
            ratings_blocks.append(Sub(bilingual(ev.capability, ev.capability_zh, lang=lang)))
            if ev.strengths:
                ratings_blocks.append(Para(f"{w('strengths')}: {ev.strengths}"))
            if ev.improvements:
                ratings_blocks.append(Para(f"{w('improvements')}: {ev.improvements}"))
    ratings = Section("ratings", w("s_ratings"), ratings_blocks)

    action_rows = [
        [Cell(a.capability), Cell(a.action), Cell(a.owner), Cell(a.due_on.isoformat()), Cell(a.status)]
        for a in st.actions
    ]
    plan = Section(
        "improvement_plan",
        w("s_plan"),
        [Table([w("h_capability"), w("h_action"), w("h_owner"), w("h_due"), w("h_status")], action_rows)]
        if action_rows
        else [Para(w("no_actions"), "missing")],
        page_break=True,
    )

    entries = log.entries(session, log.incident_chain(inc.code))
    head = entries[-1].hash[:16] if entries else "—"
    return Document(
        kind="aar",
        lang=lang,
        title=w("title"),
        subtitle=f"{inc.code} · {bilingual(sc.name, sc.name_zh, lang=lang)}",
        meta=[(w("f_prepared"), fmt_local(utcnow())), (w("f_by"), actor or "—")],
        exercise=True,
        sections=[overview, truth, timeline, inject_sec, forecast_sec, ratings, plan],
        footer=[w("footer", version=__version__, code=inc.code, n=len(entries), head=head)],
    )


def export_aar(session: Session, code: str, path: str | Path, *, actor: str, lang: str = "en") -> Path:
    """Write the AAR/IP as Markdown (.md) or self-contained HTML (.html) and log the export."""
    from incident.reports import write_text

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".md", ".html", ".htm"):
        raise UserError("errors.drills.cannot_tell_format", field="output", name=repr(path.name))
    inc, _sc = require_exercise(session, code)
    from incident.core.incidents import exercise_path

    path = exercise_path(path, True)
    doc = build_aar(session, code, lang=lang, actor=actor)
    stamp = Stamp(state="draft", created_by=actor, created_at=utcnow())
    text = to_markdown(doc, stamp) if suffix == ".md" else to_html(doc, stamp)
    write_text(path, text)
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="drill.aar_exported",
        incident_id=inc.id,
        summary=f"After-action report exported: {path.name}",
        payload={"file": path.name, "format": suffix.lstrip("."), "lang": lang},
    )
    return path
