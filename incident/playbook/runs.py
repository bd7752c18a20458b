"""Running a playbook for an incident: one step at a time, persisted after every action.

The run keeps its own copy of the playbook text (a later edit of the file never
moves a running response), the current step, the branch variables and the
ordered history of finished steps that undo walks back. Every change is one
transaction that also appends to the incident's hash-chained log, so a crash
leaves the run exactly where the last committed action put it.

Only the current step can be worked on (ticked, filled in, run, completed or
skipped): two people on the same incident cannot silently act on different
steps; the second one is told the run moved on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import ExerciseClock, as_utc, exercise_clock, parse_local, utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.store.tables import Incident, PlaybookRun, StepState, row_id
from incident.playbook import actions
from incident.playbook.formats import (
    FormField,
    Phase,
    Playbook,
    Step,
    find_playbook,
    playbook_from_text,
    suggest_playbook_id,
)
from incident.playbook.registry import ActionOutcome

YES = {"yes", "y", "true", "1", "是", "有"}
NO = {"no", "n", "false", "0", "否", "无"}


# ---------------------------------------------------------------- views (plain data for the UI and CLI)


@dataclass
class StepView:
    step: Step
    status: str  # pending | active | done | skipped
    on_path: bool  # on the route the run takes with what is known now
    due_at: datetime | None
    changed_at: datetime | None = None
    changed_by: str | None = None
    reason: str | None = None
    checked: dict[str, dict[str, str]] = field(default_factory=dict)  # item -> {by, at}
    answers: dict[str, Any] = field(default_factory=dict)
    action: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.step.id

    @property
    def finished(self) -> bool:
        return self.status in ("done", "skipped")

    def minutes_left(self, now: datetime) -> float | None:
        if self.due_at is None:
            return None
        return (as_utc(self.due_at) - as_utc(now)).total_seconds() / 60

    def overdue(self, now: datetime) -> bool:
        left = self.minutes_left(now)
        return left is not None and left < 0 and not self.finished

    def missing_required(self) -> list[FormField]:
        return [f for f in self.step.form if f.required and self.answers.get(f.id) in (None, "")]


@dataclass
class RunView:
    code: str
    run_id: int
    playbook: Playbook
    alert_at: datetime
    started_at: datetime
    started_by: str
    current_step: str | None
    finished_at: datetime | None
    variables: dict[str, Any]
    history: list[dict[str, Any]]
    steps: list[StepView]
    clock: ExerciseClock | None = None  # the exercise clock of a drill (None: real time)

    def now(self) -> datetime:
        """ "Now" for this run's countdowns: the exercise clock in a drill, else UTC now."""
        return self.clock.now() if self.clock is not None else utcnow()

    def step(self, step_id: str) -> StepView:
        for sv in self.steps:
            if sv.id == step_id:
                return sv
        raise KeyError(step_id)

    @property
    def current(self) -> StepView | None:
        return self.step(self.current_step) if self.current_step else None

    @property
    def last_finished(self) -> str | None:
        return self.history[-1]["step"] if self.history else None

    @property
    def current_phase(self) -> Phase | None:
        if self.current is not None:
            return self.playbook.phase(self.current.step.phase)
        return None

    def phase_states(self) -> list[tuple[Phase, str]]:
        """Each phase with done | current | pending | skipped (off the route)."""
        out = []
        current_phase = self.current.step.phase if self.current else None
        for phase in self.playbook.phases:
            mine = [sv for sv in self.steps if sv.step.phase == phase.id and (sv.on_path or sv.finished)]
            if phase.id == current_phase:
                state = "current"
            elif not mine:
                state = "skipped"
            elif all(sv.finished for sv in mine):
                state = "done"
            else:
                state = "pending"
            out.append((phase, state))
        return out

    def upcoming_deadlines(self) -> list[StepView]:
        """Open steps on the route that have a deadline, soonest first."""
        return sorted(
            (sv for sv in self.steps if sv.due_at is not None and sv.on_path and not sv.finished),
            key=lambda sv: cast(datetime, sv.due_at),  # not None: filtered above
        )

    def next_deadline(self) -> StepView | None:
        upcoming = self.upcoming_deadlines()
        return upcoming[0] if upcoming else None

    @property
    def progress(self) -> tuple[int, int]:
        """(finished, steps on the route)."""
        route = [sv for sv in self.steps if sv.on_path or sv.finished]
        return sum(sv.finished for sv in route), len(route)


# ---------------------------------------------------------------- reading the run


def find_run(session: Session, inc: Incident) -> PlaybookRun | None:
    return session.exec(
        select(PlaybookRun).where(PlaybookRun.incident_id == inc.id).order_by(col(PlaybookRun.id).desc())
    ).first()


def _playbook_of(run: PlaybookRun) -> Playbook:
    if run.source_toml:
        return playbook_from_text(run.source_toml, run.source_name or run.playbook_id)
    return find_playbook(run.playbook_id)


def _states(session: Session, run: PlaybookRun) -> dict[str, StepState]:
    return {s.step_id: s for s in session.exec(select(StepState).where(StepState.run_id == run.id))}


def route(
    playbook: Playbook, history: list[dict[str, Any]], current: str | None, variables: dict[str, Any]
) -> list[str]:
    """Finished steps, the current one, then what follows with the variables known now."""
    ids = [h["step"] for h in history]
    seen = set(ids)
    step_id = current
    while step_id and step_id not in seen:
        ids.append(step_id)
        seen.add(step_id)
        step_id = playbook.step(step_id).following(variables)
    return ids


def _view(session: Session, inc: Incident, run: PlaybookRun) -> RunView:
    playbook = _playbook_of(run)
    states = _states(session, run)
    history = json.loads(run.history_json or "[]")
    variables = json.loads(run.variables_json or "{}")
    on_route = set(route(playbook, history, run.current_step, variables))
    steps = []
    for step in playbook.steps:
        st = states.get(step.id)
        due = as_utc(inc.alert_at) + timedelta(minutes=step.deadline_min) if step.deadline_min else None
        steps.append(
            StepView(
                step=step,
                status=st.status if st else "pending",
                on_path=step.id in on_route,
                due_at=due,
                changed_at=as_utc(st.changed_at) if st and st.changed_at else None,
                changed_by=st.changed_by if st else None,
                reason=st.reason if st else None,
                checked=json.loads(st.checklist_json) if st else {},
                answers=json.loads(st.form_json) if st else {},
                action=json.loads(st.action_json) if st else {},
            )
        )
    return RunView(
        code=inc.code,
        run_id=row_id(run),
        playbook=playbook,
        alert_at=as_utc(inc.alert_at),
        started_at=as_utc(run.started_at),
        started_by=run.started_by,
        current_step=run.current_step,
        finished_at=as_utc(run.finished_at) if run.finished_at else None,
        variables=variables,
        history=history,
        steps=steps,
        clock=exercise_clock(inc),
    )


def run_view(session: Session, code: str) -> RunView | None:
    inc = get_incident(session, code)
    run = find_run(session, inc)
    return _view(session, inc, run) if run else None


def require_run(session: Session, code: str) -> tuple[Incident, PlaybookRun]:
    inc = get_incident(session, code)
    run = find_run(session, inc)
    if run is None:
        raise UserError("errors.playbook.no_playbook_running", where=inc.code, code=inc.code)
    return inc, run


# ---------------------------------------------------------------- starting


def initial_variables(session: Session, inc: Incident) -> dict[str, Any]:
    """Branch variables known from the incident: pollutant class, medium, intakes downstream."""
    from incident.core.networks import downstream_receptors

    intakes = [r for r in downstream_receptors(session, inc) if r.kind == "drinking_water_intake"]
    return {
        "pollutant_class": inc.pollutant_class,
        "medium": inc.medium,
        "intake_threatened": bool(intakes) if inc.source_reach else None,
    }


def start_run(session: Session, code: str, playbook_ref: str | None, *, actor: str) -> RunView:
    inc = get_incident(session, code)
    existing = find_run(session, inc)
    if existing is not None:
        raise UserError(
            "errors.playbook.already_runs_playbook",
            where=inc.code,
            code=inc.code,
            playbook_id=repr(existing.playbook_id),
        )
    playbook = find_playbook(playbook_ref or suggest_playbook_id(inc.pollutant_class))
    now = utcnow()
    variables = initial_variables(session, inc)
    run = PlaybookRun(
        incident_id=row_id(inc),
        playbook_id=playbook.id,
        playbook_sha256=playbook.sha256,
        started_at=now,
        started_by=actor,
        current_step=playbook.start,
        variables_json=json.dumps(variables, ensure_ascii=False),
        history_json="[]",
        source_toml=playbook.text,
        source_name=playbook.source.rsplit("/", 1)[-1],
    )
    session.add(run)
    session.flush()
    for step in playbook.steps:
        active = step.id == playbook.start
        session.add(
            StepState(
                run_id=row_id(run),
                step_id=step.id,
                status="active" if active else "pending",
                changed_at=now if active else None,
                changed_by=actor if active else None,
            )
        )
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="playbook.started",
        incident_id=inc.id,
        summary=f"Playbook started: {playbook.title.en}",
        payload={
            "playbook": playbook.id,
            "version": playbook.version,
            "sha256": playbook.sha256,
            "start": playbook.start,
            "variables": variables,
        },
    )
    session.flush()
    return _view(session, inc, run)


def ensure_run(session: Session, code: str, playbook_ref: str | None, *, actor: str) -> RunView:
    """The incident's run, started with ``playbook_ref`` if it has none yet."""
    view = run_view(session, code)
    return view if view is not None else start_run(session, code, playbook_ref, actor=actor)


# ---------------------------------------------------------------- working on the current step


def _current_state(
    session: Session, code: str, step_id: str
) -> tuple[Incident, PlaybookRun, Playbook, StepState]:
    inc, run = require_run(session, code)
    playbook = _playbook_of(run)
    try:
        playbook.step(step_id)
    except KeyError:
        raise UserError(
            "errors.playbook.no_step_playbook",
            where="step",
            step_id=repr(step_id),
            id=playbook.id,
            value=", ".join(s.id for s in playbook.steps),
        ) from None
    if run.current_step is None:
        raise UserError("errors.playbook.playbook_finished", where=inc.code, code=inc.code)
    if step_id != run.current_step:
        raise UserError(
            "errors.playbook.step_not_current_step",
            where=f"{inc.code} step {step_id}",
            step_id=repr(step_id),
            current_step=repr(run.current_step),
        )
    state = _states(session, run).get(step_id)
    if state is None:
        state = StepState(run_id=row_id(run), step_id=step_id, status="active")
        session.add(state)
    return inc, run, playbook, state


def _log(
    session: Session, inc: Incident, actor: str, kind: str, summary: str, payload: dict[str, Any]
) -> None:
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind=kind,
        incident_id=inc.id,
        summary=summary,
        payload=payload,
    )


def set_check(
    session: Session, code: str, step_id: str, item_id: str, checked: bool, *, actor: str
) -> RunView:
    """Tick (or untick) a checklist item of the current step.

    Ticks are kept with the step (who, when) and committed to the log by the
    step's ``step.done`` entry, which lists the ticked and the open items; a
    log entry per tick would bury the entries that matter.
    """
    inc, run, playbook, state = _current_state(session, code, step_id)
    step = playbook.step(step_id)
    items = {c.id: c for c in step.checklist}
    if item_id not in items:
        raise UserError(
            "errors.playbook.step_has_no_checklist",
            where=f"{step_id} checklist",
            step_id=repr(step_id),
            item_id=repr(item_id),
            value=", ".join(items) or "(none)",
        )
    ticks = json.loads(state.checklist_json or "{}")
    if checked == (item_id in ticks):
        return _view(session, inc, run)
    now = utcnow()
    if checked:
        ticks[item_id] = {"by": actor, "at": now.isoformat()}
    else:
        ticks.pop(item_id)
    state.checklist_json = json.dumps(ticks, ensure_ascii=False, sort_keys=True)
    session.add(state)
    session.flush()
    return _view(session, inc, run)


def parse_answer(spec: FormField, raw: Any) -> Any:
    """A form answer as stored; refuse what cannot be read (never guess)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    label = f"{spec.label.en} ({spec.id})"
    text = raw.strip() if isinstance(raw, str) else raw
    if spec.type == "text":
        return str(text)
    if spec.type == "number":
        from incident.core.inputs import parse_number  # the one rule for numbers people type

        if isinstance(text, bool) or not isinstance(text, str | int | float):
            raise UserError("errors.playbook.not_number_2", where=label, text=repr(text))
        return parse_number(text, field=spec.id, label=label)
    if spec.type == "bool":
        if isinstance(text, bool):
            return text
        word = str(text).lower()
        if word in YES:
            return True
        if word in NO:
            return False
        raise UserError("errors.playbook.not_yes_no", where=label, text=repr(text))
    if spec.type == "choice":
        for choice in spec.choices:
            if str(text).lower() in (choice.value.lower(), choice.text.en.lower(), choice.text.zh):
                return choice.value
        raise UserError(
            "errors.playbook.not_one_choices",
            where=label,
            text=repr(text),
            value=", ".join(c.value for c in spec.choices),
        )
    if spec.type == "datetime":
        return parse_local(str(text)).isoformat()
    raise UserError(
        "errors.playbook.unknown_field_type", where=label, type=repr(spec.type)
    )  # pragma: no cover - validated


def _apply_answers(step: Step, state: StepState, answers: dict[str, Any]) -> dict[str, Any]:
    fields = {f.id: f for f in step.form}
    unknown = [k for k in answers if k not in fields]
    if unknown:
        raise UserError(
            "errors.playbook.step_has_no_form",
            where=f"{step.id} form",
            id=repr(step.id),
            value=", ".join(map(repr, unknown)),
            value2=", ".join(fields) or "(none)",
        )
    stored = json.loads(state.form_json or "{}")
    changed: dict[str, Any] = {}
    for key, raw in answers.items():
        value = parse_answer(fields[key], raw)
        if stored.get(key) != value:
            changed[key] = value
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
    state.form_json = json.dumps(stored, ensure_ascii=False, sort_keys=True)
    return changed


def save_form(session: Session, code: str, step_id: str, answers: dict[str, Any], *, actor: str) -> RunView:
    """Save answers to the current step's form (only changed values are logged)."""
    inc, run, playbook, state = _current_state(session, code, step_id)
    step = playbook.step(step_id)
    changed = _apply_answers(step, state, answers)
    if changed:
        session.add(state)
        _log(
            session,
            inc,
            actor,
            "step.form",
            f"Form updated: {step.title.en} ({', '.join(changed)})",
            {"step": step_id, "answers": changed},
        )
        session.flush()
    return _view(session, inc, run)


def run_step_action(
    session: Session, code: str, step_id: str, *, actor: str
) -> tuple[RunView, ActionOutcome]:
    """Run the current step's action and keep its outcome with the step."""
    inc, run, playbook, state = _current_state(session, code, step_id)
    step = playbook.step(step_id)
    if step.action is None:
        raise UserError("errors.playbook.step_has_no_action", where=step_id, step_id=repr(step_id))
    outcome = actions.run_action(session, inc.code, step.action.name, step.action.params_dict, actor)
    state.action_json = json.dumps(
        {
            "name": step.action.name,
            "summary": outcome.summary,
            "key": outcome.key,
            "params": outcome.params,
            "data": outcome.data,
            "at": utcnow().isoformat(),
            "by": actor,
        },
        ensure_ascii=False,
        default=str,
    )
    session.add(state)
    _log(
        session,
        inc,
        actor,
        "step.action",
        f"{step.action.name}: {outcome.summary}",
        {
            "step": step_id,
            "action": step.action.name,
            "params": step.action.params_dict,
            "summary": outcome.summary,
        },
    )
    session.flush()
    return _view(session, inc, run), outcome


def _advance(
    session: Session, run: PlaybookRun, playbook: Playbook, step: Step, status: str, actor: str
) -> str | None:
    """Finish the current step, set variables from its form, and activate the next one."""
    states = _states(session, run)
    state = states[step.id]
    now = utcnow()
    variables = json.loads(run.variables_json or "{}")
    before = dict(variables)
    if status == "done":
        answers = json.loads(state.form_json or "{}")
        for f in step.form:
            if f.sets and answers.get(f.id) is not None:
                variables[f.sets] = answers[f.id]
    state.status, state.changed_at, state.changed_by = status, now, actor
    session.add(state)
    nxt = step.following(variables)
    history = json.loads(run.history_json or "[]")
    history.append({"step": step.id, "status": status, "variables_before": before})
    run.history_json = json.dumps(history, ensure_ascii=False)
    run.variables_json = json.dumps(variables, ensure_ascii=False)
    run.current_step = nxt
    if nxt is None:
        run.finished_at = now
    else:
        target = states.get(nxt)
        if target is None:
            target = StepState(run_id=row_id(run), step_id=nxt)
        target.status, target.changed_at, target.changed_by, target.reason = "active", now, actor, None
        session.add(target)
    session.add(run)
    return nxt


def complete_step(
    session: Session,
    code: str,
    step_id: str,
    *,
    actor: str,
    answers: dict[str, Any] | None = None,
    checks: list[str] | None = None,
) -> RunView:
    """Mark the current step done (optionally filling its form and ticking items first)."""
    for item in checks or []:
        set_check(session, code, step_id, item, True, actor=actor)
    if answers:
        save_form(session, code, step_id, answers, actor=actor)
    inc, run, playbook, state = _current_state(session, code, step_id)
    step = playbook.step(step_id)
    stored = json.loads(state.form_json or "{}")
    missing = [f for f in step.form if f.required and stored.get(f.id) in (None, "")]
    if missing:
        raise UserError(
            "errors.playbook.required_form_field_s",
            where=f"{inc.code} step {step_id}",
            value=", ".join(f"{f.label.en} ({f.id})" for f in missing),
        )
    ticks = json.loads(state.checklist_json or "{}")
    unticked = [c.id for c in step.checklist if c.id not in ticks]
    nxt = _advance(session, run, playbook, step, "done", actor)
    _log(
        session,
        inc,
        actor,
        "step.done",
        f"Step done: {step.title.en}",
        {
            "playbook": playbook.id,
            "step": step_id,
            "answers": stored,
            "checklist_ticked": sorted(ticks),
            "checklist_open": unticked,
            "next": nxt,
        },
    )
    session.flush()
    return _view(session, inc, run)


def skip_step(session: Session, code: str, step_id: str, reason: str, *, actor: str) -> RunView:
    """Skip the current step; a reason is required and logged."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError("errors.playbook.skipped_step_needs_reason", where=f"step {step_id}")
    inc, run, playbook, state = _current_state(session, code, step_id)
    step = playbook.step(step_id)
    state.reason = reason
    nxt = _advance(session, run, playbook, step, "skipped", actor)
    _log(
        session,
        inc,
        actor,
        "step.skipped",
        f"Step skipped: {step.title.en} — {reason}",
        {"playbook": playbook.id, "step": step_id, "reason": reason, "next": nxt},
    )
    session.flush()
    return _view(session, inc, run)


def undo_step(session: Session, code: str, step_id: str | None = None, *, actor: str) -> RunView:
    """Reopen the last finished step; the step it had led to goes back to pending.

    Answers, ticks and action outcomes stay with the step: undo moves the run
    back, it does not erase work. The log keeps everything.
    """
    inc, run = require_run(session, code)
    playbook = _playbook_of(run)
    history = json.loads(run.history_json or "[]")
    if not history:
        raise UserError("errors.playbook.nothing_undo_no_step", where=inc.code)
    last = history[-1]
    if step_id is not None and step_id != last["step"]:
        raise UserError(
            "errors.playbook.only_last_finished_step",
            where=f"{inc.code} step {step_id}",
            step=repr(last["step"]),
            step_id=repr(step_id),
            code=inc.code,
            step2=last["step"],
        )
    states = _states(session, run)
    now = utcnow()
    if run.current_step is not None and run.current_step in states:
        leaving = states[run.current_step]
        leaving.status, leaving.changed_at, leaving.changed_by = "pending", now, actor
        session.add(leaving)
    state = states[last["step"]]
    previous_status, previous_reason = state.status, state.reason
    state.status, state.changed_at, state.changed_by, state.reason = "active", now, actor, None
    session.add(state)
    history.pop()
    run.history_json = json.dumps(history, ensure_ascii=False)
    run.variables_json = json.dumps(last.get("variables_before", {}), ensure_ascii=False)
    left = run.current_step
    run.current_step = last["step"]
    run.finished_at = None
    session.add(run)
    step = playbook.step(last["step"])
    _log(
        session,
        inc,
        actor,
        "step.undone",
        f"Step reopened: {step.title.en} (was {previous_status})",
        {
            "playbook": playbook.id,
            "step": step.id,
            "was": previous_status,
            "reason_was": previous_reason,
            "left_step": left,
        },
    )
    session.flush()
    return _view(session, inc, run)
