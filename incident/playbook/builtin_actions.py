"""The real implementations of the playbook actions, wired to each feature's service.

Installed on first use by :mod:`incident.playbook.actions` so that a playbook
step "run forecast", "propose plan", "assign crews", "draft report", "check
termination" or "check readiness" calls the same code as the CLI and TUI.
Each runs inside the runner's unit of work and logs its own domain events.
"""

from __future__ import annotations

import math
from typing import Any

from sqlmodel import Session

from incident.core.clock import fmt_local
from incident.core.i18n import get_language
from incident.playbook.registry import ActionOutcome, register_action


def forecast_run(session: Session, code: str, params: dict[str, Any], actor: str) -> ActionOutcome:
    from incident.plume import DEFAULT_HORIZON_H, forecast_incident, store_forecast

    horizon = params.get("horizon_h", DEFAULT_HORIZON_H)
    fc = forecast_incident(session, code, horizon_h=None if horizon is None else float(horizon))
    stored = store_forecast(session, code, fc, actor=actor)
    intakes = sorted(
        (p for p in fc.points if p.reached and p.kind == "drinking_water_intake"),
        key=lambda p: math.inf if p.leading_edge_h is None else p.leading_edge_h,
    )
    parts = [f"{p.label} {fmt_local(fc.at(p.leading_edge_h))} (+{p.leading_edge_h:.1f} h)" for p in intakes]
    key, values = (
        ("outcome.intakes_reached", {"intakes": "; ".join(parts)})
        if parts
        else ("outcome.no_intake_reached", {"horizon": f"{fc.horizon_h:g}"})
    )
    return ActionOutcome.of(
        key,
        {
            "forecast_id": stored.id,
            "content_sha256": stored.content_sha256,
            "points": [
                {
                    "label": p.label,
                    "leading_edge_h": p.leading_edge_h,
                    "peak_h": p.peak_h,
                    "peak_mg_l": p.peak_mg_l,
                    "exceed_start_h": p.exceed_start_h,
                    "exceed_end_h": p.exceed_end_h,
                }
                for p in fc.points
            ],
        },
        **values,
    )


def plan_propose(session: Session, code: str, params: dict[str, Any], actor: str) -> ActionOutcome:
    """Propose the plan (or refresh its forecast times if one exists) and schedule the rounds."""
    from incident.plume import forecast_for
    from incident.sampling import has_plan, plan_view, propose_plan, refresh_plan, regenerate, requests_for

    if has_plan(session, code):
        extra = [(p.number, p.reach_id, p.offset_m) for p in plan_view(session, code).points]
        fc = forecast_for(session, code, actor=actor, extra_points=extra).to_forecast()
        view = refresh_plan(
            session, code, fc, actor=actor, reason=str(params.get("reason") or "forecast updated")
        )
        verb = "refreshed"  # the catalog key's last part
    else:
        fc = forecast_for(session, code, actor=actor, extra_points=requests_for(session, code)).to_forecast()
        view, _proposal = propose_plan(
            session,
            code,
            fc,
            actor=actor,
            reason=str(params.get("reason") or "initial proposal from the forecast"),
        )
        verb = "proposed"
    rounds = regenerate(session, code, actor=actor, forecast=fc)
    view = plan_view(session, code)
    points = [p.number for p in view.active_points]
    return ActionOutcome.of(
        f"outcome.plan_{verb}",
        {"revision": view.revision.revision, "points": points, "rounds": len(rounds)},
        revision=view.revision.revision,
        points=len(points),
        rounds=len(rounds),
    )


def crews_assign(session: Session, code: str, params: dict[str, Any], actor: str) -> ActionOutcome:
    from incident.sampling import dispatch, plan_assignment

    plan = plan_assignment(session, code)
    dispatch(session, plan, actor=actor)
    lines = [f"{line.crew} → {line.point}" for line in plan.lines]
    data = {"assigned": lines, "unmet": [u.point for u in plan.unmet]}
    unmet = ", ".join(u.point for u in plan.unmet)
    if lines:
        key = "outcome.crews_sent_unmet" if unmet else "outcome.crews_sent"
        return ActionOutcome.of(key, data, n=len(plan.lines), lines=", ".join(lines), unmet=unmet)
    key = "outcome.no_crew_unmet" if unmet else "outcome.no_crew"
    return ActionOutcome.of(key, data, unmet=unmet)


def report_draft(session: Session, code: str, params: dict[str, Any], actor: str) -> ActionOutcome:
    from incident.reports import draft_report

    info = draft_report(session, code, str(params["kind"]), actor=actor, lang=get_language())
    return ActionOutcome.of(
        "outcome.report_drafted",
        {"report_id": info.id, "kind": info.kind, "number": info.number},
        title=info.title,
        id=info.id,
        version=info.version,
    )


def termination_check(session: Session, code: str, params: dict[str, Any], actor: str) -> ActionOutcome:
    """HJ 589 §10: drafts a proposal with the evidence; never ends the response by itself."""
    from incident.results import check_termination

    check = check_termination(session, code, actor=actor, lang=get_language())
    failing = [p.point for p in check.failing()]
    data = {"proposable": check.proposable, "failing": failing, "proposal": check.markdown}
    if check.proposable:
        return ActionOutcome.of("outcome.termination_proposable", data)
    return ActionOutcome.of(
        "outcome.termination_not_yet", data, n=len(failing), points=", ".join(failing[:6])
    )


def readiness_check(session: Session, code: str, params: dict[str, Any], actor: str) -> ActionOutcome:
    from incident.readiness import check_readiness_action

    summary, data = check_readiness_action(session, code, params, actor)
    return ActionOutcome(summary, data)


def install() -> None:
    register_action("forecast.run", forecast_run)
    register_action("plan.propose", plan_propose)
    register_action("crews.assign", crews_assign)
    register_action("report.draft", report_draft)
    register_action("termination.check", termination_check)
    register_action("readiness.check", readiness_check)
