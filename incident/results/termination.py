"""Termination check (HJ 589-2021 §10): may the end of emergency monitoring be proposed?

At every point of the latest plan revision (points removed from it are left out):

- **water incidents**: the results of the last ≥ 48 h must all meet the standard
  or be back to background, continuously: the trailing run of compliant results
  at the point spans at least 48 h from its first to its last result, with no gap
  between consecutive results longer than ``max_gap_h`` (default 24 h; HJ 589
  does not set one, so the check says which it used);
- **other media**: the results of at least 3 consecutive rounds comply.

A result complies when it is at or below the limit (GB 3838-2002 for the class
chosen, or a limit given for the check) or at or below *background*: the median of
the results at the upstream control point(s) for that parameter (detection limit
for non-detects). The median, not the maximum, so one contaminated or mislabelled
upstream result cannot make the check lenient. A non-detect
complies when its detection limit does; a suspected rapid positive above the
limit counts against (it is not yet shown to be wrong); a rapid positive that a
different-principle method did not confirm is left out; field blanks are left out.

Parameters checked: those given, else the incident's substance and every
parameter that exceeded anywhere during the incident.

The check drafts a proposal (plain data and Markdown) for a person to take to the
command body. It never changes the incident's status.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from incident.core import log, standards
from incident.core.clock import fmt_local, utcnow
from incident.core.errors import UserError
from incident.core.i18n import bilingual, t
from incident.core.incidents import get_incident
from incident.results.entry import latest_plan_points
from incident.results.record import ResultRecord, result_records

REQUIRED_HOURS = 48.0
REQUIRED_ROUNDS = 3
DEFAULT_MAX_GAP_H = 24.0


@dataclass
class PointEvidence:
    point: str
    role: str
    parameter: str
    ok: bool
    reason: str
    results: int = 0
    window_start: datetime | None = None
    window_end: datetime | None = None
    hours: float = 0.0
    rounds: list[int] = field(default_factory=list)
    limit_mg_l: float | None = None
    background_mg_l: float | None = None
    max_in_window_mg_l: float | None = None
    last_text: str | None = None
    last_exceedance: datetime | None = None


@dataclass
class TerminationCheck:
    code: str
    medium: str
    rule: str  # water_48h | rounds_3
    parameters: list[str]
    water_class: str
    required_hours: float
    required_rounds: int
    max_gap_h: float
    proposable: bool
    points: list[PointEvidence]
    checked_at: datetime
    markdown: str = ""
    is_exercise: bool = False

    def failing(self) -> list[PointEvidence]:
        return [p for p in self.points if not p.ok]


def _level(v: ResultRecord) -> float | None:
    """Concentration used for compliance: the value, the DL for a non-detect, the low end of a range."""
    if v.detected is False:
        return v.detection_limit_mg_l
    return v.value_mg_l


def _complies(v: ResultRecord, limit: float | None, background: float | None) -> bool:
    level = _level(v)
    if level is None:  # qualitative detection without a value
        return v.detected is False
    if limit is not None and level <= limit:
        return True
    return background is not None and level <= background


def _parameters(views: list[ResultRecord], substance: str | None, wanted: list[str] | None) -> list[str]:
    if wanted:
        return [standards.resolve_parameter(p, where="--param").key for p in wanted]
    found = {v.parameter for v in views if v.exceeds}
    if substance:
        try:
            found.add(standards.resolve_parameter(substance).key)
        except UserError:
            pass
    return sorted(found)


def check_termination(
    session: Session,
    code: str,
    *,
    parameters: list[str] | None = None,
    water_class: str = standards.DEFAULT_CLASS,
    limits: dict[str, float] | None = None,
    required_hours: float = REQUIRED_HOURS,
    required_rounds: int = REQUIRED_ROUNDS,
    max_gap_h: float = DEFAULT_MAX_GAP_H,
    actor: str | None = None,
    lang: str | None = None,
) -> TerminationCheck:
    """Evaluate the §10 rule at every point; logs the check when ``actor`` is given."""
    inc = get_incident(session, code)
    water_class = standards.check_class(water_class)
    limits = {standards.resolve_parameter(k, where="--limit").key: v for k, v in (limits or {}).items()}
    views = [
        v for v in result_records(session, code, water_class=water_class) if v.sample_type != "field_blank"
    ]
    views = [v for v in views if v.status != "not_confirmed"]
    params = _parameters(views, inc.substance, parameters)
    if not params:
        raise UserError("errors.results.no_parameter_check_no", field="param")
    points = latest_plan_points(session, inc)
    if not points:
        raise UserError("errors.results.incident_has_no_sampling_2", code=inc.code)
    water = inc.medium == "water"
    by_point: dict[tuple[str, str], list[ResultRecord]] = defaultdict(list)
    for v in views:
        by_point[(v.point or "", v.parameter)].append(v)
    evidence = []
    for param in params:
        limit = limits.get(param)
        if limit is None and inc.medium in ("water", "other"):
            limit = standards.parameters()[param].limit_for(water_class)
        upstream = [
            lvl
            for p in points
            if p.role == "upstream_control"
            for v in by_point.get((p.number, param), [])
            if (lvl := _level(v)) is not None
        ]
        background = statistics.median(upstream) if upstream else None
        for p in points:
            series = sorted(by_point.get((p.number, param), []), key=lambda v: (v.sampled_at, v.id))
            ev = PointEvidence(
                point=p.number,
                role=p.role,
                parameter=param,
                ok=False,
                reason="",
                results=len(series),
                limit_mg_l=limit,
                background_mg_l=background,
            )
            if limit is None and background is None:
                ev.reason = "no limit for this medium: give one with --limit"
            elif not series:
                ev.reason = "no results at this point"
            else:
                ev.last_text = series[-1].text
                bad = [v for v in series if not _complies(v, limit, background)]
                ev.last_exceedance = bad[-1].sampled_at if bad else None
                if water:
                    _water_rule(ev, series, limit, background, required_hours, max_gap_h)
                else:
                    _rounds_rule(ev, series, limit, background, required_rounds)
            evidence.append(ev)
    check = TerminationCheck(
        is_exercise=inc.is_exercise,
        code=inc.code,
        medium=inc.medium,
        rule="water_48h" if water else "rounds_3",
        parameters=params,
        water_class=water_class,
        required_hours=required_hours,
        required_rounds=required_rounds,
        max_gap_h=max_gap_h,
        proposable=all(e.ok for e in evidence),
        points=evidence,
        checked_at=utcnow(),
    )
    check.markdown = proposal_markdown(check, inc.title, inc.title_zh, lang=lang)
    if actor:
        log.append(
            session,
            chain=log.incident_chain(inc.code),
            actor=actor,
            kind="termination.checked",
            incident_id=inc.id,
            summary=(
                "Termination check: criteria met at all points — proposal drafted for the command body"
                if check.proposable
                else f"Termination check: not yet ({len(check.failing())} point/parameter(s) short)"
            ),
            payload={
                "proposable": check.proposable,
                "parameters": params,
                "failing": [f"{e.point}/{e.parameter}" for e in check.failing()],
                "markdown_sha256": hashlib.sha256(check.markdown.encode()).hexdigest(),
            },
        )
    return check


def _water_rule(
    ev: PointEvidence,
    series: list[ResultRecord],
    limit: float | None,
    background: float | None,
    required_hours: float,
    max_gap_h: float,
) -> None:
    run: list[ResultRecord] = []
    for v in reversed(series):
        if not _complies(v, limit, background):
            break
        if run and (run[-1].sampled_at - v.sampled_at).total_seconds() / 3600 > max_gap_h:
            break
        run.append(v)
    run.reverse()
    if not run:
        ev.reason = f"latest result {series[-1].text} ({fmt_local(series[-1].sampled_at)}) does not comply"
        return
    ev.window_start, ev.window_end = run[0].sampled_at, run[-1].sampled_at
    ev.hours = (ev.window_end - ev.window_start).total_seconds() / 3600
    ev.max_in_window_mg_l = max((lvl for v in run if (lvl := _level(v)) is not None), default=None)
    broke_on_gap = len(run) < len(series) and _complies(series[-len(run) - 1], limit, background)
    if ev.hours + 1e-9 >= required_hours:
        ev.ok = True
        ev.reason = f"{ev.hours:.1f} h of compliant results ({len(run)} results)"
    elif broke_on_gap:
        ev.reason = (
            f"only {ev.hours:.1f} h of {required_hours:g} h: a gap of more than {max_gap_h:g} h "
            f"before {fmt_local(run[0].sampled_at)} breaks continuity"
        )
    else:
        ev.reason = (
            f"only {ev.hours:.1f} h of {required_hours:g} h compliant since {fmt_local(run[0].sampled_at)}"
        )


def _rounds_rule(
    ev: PointEvidence,
    series: list[ResultRecord],
    limit: float | None,
    background: float | None,
    required_rounds: int,
) -> None:
    by_round: dict[int, list[ResultRecord]] = defaultdict(list)
    for v in series:
        if v.round is not None:
            by_round[v.round].append(v)
    if not by_round:
        ev.reason = "no results assigned to rounds"
        return
    run: list[int] = []
    for rnd in sorted(by_round, reverse=True):
        if not all(_complies(v, limit, background) for v in by_round[rnd]):
            break
        if run and run[-1] != rnd + 1:
            break
        run.append(rnd)
    ev.rounds = sorted(run)
    if len(run) >= required_rounds:
        ev.ok = True
        ev.reason = f"{len(run)} consecutive compliant rounds ({', '.join(map(str, ev.rounds))})"
    elif not run:
        ev.reason = f"round {max(by_round)} does not comply"
    else:
        ev.reason = f"only {len(run)} of {required_rounds} consecutive compliant rounds"


def proposal_markdown(
    check: TerminationCheck, title: str, title_zh: str | None, *, lang: str | None = None
) -> str:
    """The draft proposal with its evidence table; a person decides and signs."""

    def tr(key: str, **kw: object) -> str:
        return t(f"termination.{key}", lang=lang, **kw)

    rule = (
        tr("rule_water", hours=f"{check.required_hours:g}", gap=f"{check.max_gap_h:g}")
        if check.rule == "water_48h"
        else tr("rule_rounds", rounds=check.required_rounds)
    )
    lines = [f"EXERCISE — {check.code} — not a real incident", ""] if check.is_exercise else []
    lines += [
        f"# {tr('title')} — {check.code}",
        "",
        f"**{bilingual(title, title_zh, lang)}**",
        "",
        f"- {tr('checked_at')}: {fmt_local(check.checked_at)} (UTC+8)",
        f"- {tr('rule')}: {rule}",
        f"- {tr('standard')}: GB 3838-2002, {tr('class')} {check.water_class}",
        f"- {tr('parameters')}: {', '.join(check.parameters)}",
        "",
        f"## {tr('conclusion')}",
        "",
        tr("proposable") if check.proposable else tr("not_yet", n=len(check.failing())),
        "",
        tr("decision_note"),
        "",
        f"## {tr('evidence')}",
        "",
        f"| {tr('col_point')} | {tr('col_parameter')} | {tr('col_ok')} | {tr('col_window')} | "
        f"{tr('col_results')} | {tr('col_last')} | {tr('col_reason')} |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in check.points:
        window = (
            f"{fmt_local(e.window_start)} → {fmt_local(e.window_end)} ({e.hours:.1f} h)"
            if e.window_start
            else (", ".join(map(str, e.rounds)) or "—")
        )
        lines.append(
            f"| {e.point} | {e.parameter} | {'✔' if e.ok else '✘'} | {window} | {e.results} | "
            f"{e.last_text or '—'} | {e.reason} |"
        )
    return "\n".join(lines) + "\n"
