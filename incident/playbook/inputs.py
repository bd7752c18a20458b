"""A playbook file (TOML) as pydantic models: the checks of the format, in one place.

``formats.parse_playbook`` reads the TOML, hands the ids and variables the file declares to validation as
its context (:func:`context_of`), so that a step naming an unknown phase, role, step or variable is refused
in the same pass as every other problem; the checks over the whole flow (duplicate ids, cycles, steps
never reached) run once every table is valid. Each problem is a refusal with an ``errors.playbook.*`` key
(or an ``errors.input.*`` one for plain types); ``formats`` places it at its file, line and field.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BeforeValidator,
    Field,
    PlainValidator,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from incident.core.inputs import InputModel, refuse, shown
from incident.playbook.actions import known_action_names
from incident.playbook.registry import ACTION_PARAMS, REQUIRED_PARAMS

LANGS = ("en", "zh")
FieldType = Literal["text", "number", "choice", "bool", "datetime"]
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
PollutantClass = Literal["heavy_metal", "organic", "oil", "other"]
POLLUTANT_CLASSES: tuple[str, ...] = get_args(PollutantClass)
#: variables every run knows from the incident; form fields may set more (``sets = "name"``).
BUILTIN_VARIABLES: dict[str, tuple[Any, ...]] = {
    "pollutant_class": POLLUTANT_CLASSES,
    "intake_threatened": (True, False),
    "medium": ("water", "air", "soil", "other"),
}
MAX_DEADLINE_MIN = 30 * 24 * 60
MAX_VERSION = 1_000_000
_IDENT = re.compile(r"[a-z][a-z0-9_]*")


def suggest(word: str, options: Iterable[str]) -> str:
    """``did you mean 'x'? `` for the closest of ``options``, else nothing."""
    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


# ---------------------------------------------------------------- deadlines and text

_DEADLINE = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")


def parse_deadline(value: Any) -> float:
    """'1h', '90m', '1h30m', '2d' -> minutes after the alert. Anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"{shown(value)} has no unit")
    m = _DEADLINE.match(value) if value.isascii() else None
    if not m or not any(m.groups()):
        raise ValueError(f"{shown(value)} is not a duration")
    if any(g and len(g) > 9 for g in m.groups()):
        raise ValueError(f"{shown(value)} is more than 30 days after the alert")
    days, hours, minutes = (int(g) if g else 0 for g in m.groups())
    total = days * 1440 + hours * 60 + minutes
    if total <= 0:
        raise ValueError(f"{shown(value)} is not after the alert")
    if total > MAX_DEADLINE_MIN:
        raise ValueError(f"{shown(value)} is more than 30 days after the alert")
    return float(total)


def _is_cjk(ch: str) -> bool:
    return "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" or "\u3000" <= ch <= "\u303f"


def reflow(text: str) -> str:
    """Join the lines of each paragraph (blank lines separate paragraphs), so the
    screen can wrap the text to its own width. Chinese lines join without a space."""
    paragraphs = []
    for para in re.split(r"\n\s*\n", text.strip()):
        out = ""
        for line in (ln.strip() for ln in para.splitlines()):
            if not line:
                continue
            if out and not (_is_cjk(out[-1]) or _is_cjk(line[0])):
                out += " "
            out += line
        paragraphs.append(out)
    return "\n\n".join(paragraphs)


# ---------------------------------------------------------------- shared pieces


def _several(problems: list[tuple[tuple[str | int, ...], PydanticCustomError, Any]]) -> ValidationError:
    """Several of a table's problems at once, each at its own place inside the table."""
    details: list[InitErrorDetails] = [
        {"type": err, "loc": loc, "input": value} for loc, err, value in problems
    ]
    return ValidationError.from_exception_data("playbook", details)


def _raise_all(problems: list[tuple[tuple[str | int, ...], PydanticCustomError, Any]]) -> None:
    if len(problems) == 1 and not problems[0][0]:
        raise problems[0][1]
    if problems:
        raise _several(problems)


def _context(info: ValidationInfo) -> dict[str, Any]:
    return info.context if isinstance(info.context, dict) else {}


def _ident(value: object) -> str:
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise refuse("errors.playbook.missing_bad_id", "missing or bad id", value=shown(value))
    return value


#: an id: lower-case letters, digits and underscores, starting with a letter
Ident = Annotated[str, PlainValidator(_ident)]


def _unique(ids_key: str, message_key: str, placeholder: str) -> Callable[[object, ValidationInfo], str]:
    """The id of a ``[[phase]]``, ``[[role]]`` or ``[[step]]``: refused on every table that shares it with
    another (the ids the file declares are the context)."""

    def check(value: object, info: ValidationInfo) -> str:
        ident = _ident(value)
        if ident in _context(info).get(f"{ids_key}_twice", ()):
            raise refuse(message_key, "duplicate", **{placeholder: repr(ident)})
        return ident

    return check


PhaseId = Annotated[str, PlainValidator(_unique("phases", "errors.playbook.duplicate_phase_id", "pid"))]
RoleId = Annotated[str, PlainValidator(_unique("roles", "errors.playbook.duplicate_role_id", "rid"))]
StepId = Annotated[str, PlainValidator(_unique("steps", "errors.playbook.duplicate_step_id", "sid"))]


def _bilingual(value: object, info: ValidationInfo) -> tuple[str, str] | None:
    """A text in both languages: ``title.en = "..."`` and ``title.zh = "..."``."""
    key = info.field_name or "text"
    if value is None:
        raise refuse("errors.playbook.missing", "missing", key_name=repr(key), key_name2=key)
    if isinstance(value, str):
        raise refuse(
            "errors.playbook.given_one_language_only", "one language", key_name=repr(key), key_name2=key
        )
    if not isinstance(value, dict):
        raise refuse("errors.playbook.must_table_texts", "not a table", key_name=repr(key), key_name2=key)
    problems: list[tuple[tuple[str | int, ...], PydanticCustomError, Any]] = []
    texts: dict[str, str] = {}
    for lang in LANGS:
        got = value.get(lang)
        if not isinstance(got, str) or not got.strip():
            problems.append(
                ((lang,), refuse(f"errors.playbook.no_{lang}_text", "no text", key_name=key), got)
            )
        else:
            texts[lang] = got.strip()
    for extra in sorted(str(k) for k in set(value) - set(LANGS)):
        problems.append(
            ((extra,), refuse("errors.playbook.unknown_language", "language", extra=shown(extra)), None)
        )
    _raise_all(problems)
    return texts["en"], texts["zh"]


#: a required text in English and Chinese, as (en, zh)
Bilingual = Annotated[tuple[str, str], PlainValidator(_bilingual)]
#: an optional one (absent: None)
OptionalBilingual = Annotated[tuple[str, str] | None, PlainValidator(_bilingual)]


def _entry_text(value: object, info: ValidationInfo) -> str:
    """One language of a list entry (``{ id = "a", en = "...", zh = "..." }``)."""
    lang = info.field_name or "en"
    if not isinstance(value, str) or not value.strip():
        raise refuse(f"errors.playbook.no_{lang}_text_entry", "no text", key_name=lang)
    return value.strip()


EntryText = Annotated[str, PlainValidator(_entry_text)]


def _tables(message_key: str, empty_key: str | None = None) -> Callable[[object, ValidationInfo], object]:
    """A list of tables (``[[step]]``, ``[[step.form]]``...), refused as a whole when it is not one."""

    def check(value: object, info: ValidationInfo) -> object:
        key = info.field_name or ""
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise refuse(message_key, "not a list of tables", key_name=repr(key), key_name2=key)
        if not value and empty_key:
            raise refuse(empty_key, "none")
        return value

    return check


def _value(value: object) -> object:
    """A value in a parameter or a condition: text, a yes/no, a whole number (64 bits) or a finite
    number, or a list of them."""
    for item in value if isinstance(value, list) else [value]:
        plain = isinstance(item, bool | str) or (isinstance(item, int) and -(2**63) <= item < 2**63)
        if not plain and not (isinstance(item, float) and math.isfinite(item)):
            raise refuse("errors.playbook.bad_value_kind", "not a plain value", value=shown(value))
    return value


#: a value in a TOML file: text, a yes/no, a whole or a finite number (or a list of them)
Value = Annotated[Any, PlainValidator(_value)]


def _check_ref(
    ref: object,
    info: ValidationInfo,
    ids_key: str,
    message_key: str,
    name: str,
    suggest_name: str,
    /,
    **listing: str,
) -> str:
    """A reference to another table by id (a step's ``phase``, ``role``, ``next``...), checked against the
    ids the file declares when they are known (the context); ``listing``: placeholders given those ids."""
    ids: list[str] | None = _context(info).get(ids_key)
    if not isinstance(ref, str) or (ids is not None and ref not in ids):
        params = {name: shown(ref), suggest_name: suggest(str(ref)[:100], ids or ())}
        params.update({k: ", ".join(sorted(ids or ())) or v for k, v in listing.items()})
        raise refuse(message_key, "unknown reference", **params)
    return ref


def _phase(value: object, info: ValidationInfo) -> str:
    return _check_ref(
        value,
        info,
        "phases",
        "errors.playbook.unknown_phase",
        "phase",
        "suggest_str_phase",
        value="(add [[phase]] tables)",
    )


def _role(value: object, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    return _check_ref(
        value,
        info,
        "roles",
        "errors.playbook.unknown_role",
        "role",
        "suggest_str_role",
        value="(add [[role]] tables)",
    )


def _next(value: object, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise refuse("errors.playbook.bad_next", "bad next", nxt=shown(value))
    return _check_ref(value, info, "steps", "errors.playbook.unknown_step_2", "next", "suggest_next")


def _goto(value: object, info: ValidationInfo) -> str:
    if not isinstance(value, str):
        raise refuse("errors.playbook.branch_needs_goto", "no goto")
    return _check_ref(value, info, "steps", "errors.playbook.unknown_step_3", "goto", "suggest_goto")


def _start(value: object, info: ValidationInfo) -> str:
    if value is None:
        steps = _context(info).get("steps") or []
        raise refuse(
            "errors.playbook.missing_start", "no start", first=steps[0] if steps else "<first step id>"
        )
    return _check_ref(value, info, "steps", "errors.playbook.unknown_step", "start", "suggest_str_start")


# ---------------------------------------------------------------- the tables


class PhaseTable(InputModel):
    """A ``[[phase]]``: an id and a title."""

    id: PhaseId = Field(default=None, validate_default=True)
    title: Bilingual = Field(default=None, validate_default=True)


class RoleTable(InputModel):
    """A ``[[role]]``: an id and a title."""

    id: RoleId = Field(default=None, validate_default=True)
    title: Bilingual = Field(default=None, validate_default=True)


class ChecklistEntry(InputModel):
    """``{ id = "a", en = "...", zh = "..." }`` in a step's checklist."""

    id: Annotated[str, Strict(), Field(min_length=1)] = Field(default=None, validate_default=True)
    en: EntryText = Field(default=None, validate_default=True)
    zh: EntryText = Field(default=None, validate_default=True)

    @field_validator("id", mode="before")
    @classmethod
    def _has_id(cls, value: object) -> object:
        if not isinstance(value, str) or not value.strip():
            raise refuse("errors.playbook.checklist_entry_without_id", "no id")
        return value


class ChoiceEntry(InputModel):
    """``{ value = "x", en = "...", zh = "..." }`` in a choice field's ``choices``."""

    value: Annotated[str, Strict(), Field(min_length=1)]
    en: EntryText = Field(default=None, validate_default=True)
    zh: EntryText = Field(default=None, validate_default=True)


def _field_type(value: object) -> object:
    if value not in FIELD_TYPES:
        raise refuse(
            "errors.playbook.unknown_field_type_2",
            "unknown type",
            ftype=shown(value),
            suggest_str_ftype=suggest(str(value)[:40], FIELD_TYPES),
            value=", ".join(FIELD_TYPES),
        )
    return value


def _variable(value: object) -> object:
    if value is not None and (not isinstance(value, str) or not _IDENT.fullmatch(value)):
        raise refuse("errors.playbook.bad_variable_name", "bad variable", sets=shown(value))
    return value


class FormTable(InputModel):
    """A ``[[step.form]]`` field: what the responder fills in; ``sets`` makes the answer a run variable."""

    id: Ident = Field(default=None, validate_default=True)
    type: Annotated[FieldType, BeforeValidator(_field_type)] = "text"
    label: Bilingual = Field(default=None, validate_default=True)
    help: OptionalBilingual = None
    choices: list[ChoiceEntry] = []
    required: Annotated[bool, Strict()] = False
    sets: Annotated[str | None, BeforeValidator(_variable)] = None

    @model_validator(mode="after")
    def _consistent(self) -> FormTable:
        """A choice field has choices; a field setting a built-in variable gives it a value it can take."""
        problems: list[tuple[tuple[str | int, ...], PydanticCustomError, Any]] = []
        if self.type == "choice" and not self.choices:
            problems.append((("choices",), refuse("errors.playbook.choice_field_has_no", "no choices"), []))
        allowed = BUILTIN_VARIABLES.get(self.sets or "")
        if allowed == (True, False) and self.type != "bool":
            problems.append(
                (
                    ("sets",),
                    refuse(
                        "errors.playbook.yes_no_but_field",
                        "not yes/no",
                        sets=repr(self.sets),
                        ftype=repr(self.type),
                    ),
                    self.sets,
                )
            )
        elif allowed not in (None, (True, False)) and (
            self.type != "choice" or any(c.value not in (allowed or ()) for c in self.choices)
        ):
            values = ", ".join(map(str, allowed or ()))
            problems.append(
                (
                    ("sets",),
                    refuse(
                        "errors.playbook.takes", "takes", sets=repr(self.sets), value=values, value2=values
                    ),
                    self.sets,
                )
            )
        _raise_all(problems)
        return self


class ActionTable(InputModel):
    """``action = { name = "report.draft", params = { kind = "flash" } }``."""

    name: Annotated[str, Strict()] = Field(default=None, validate_default=True)
    params: dict[str, Value] = {}

    @field_validator("name", mode="before")
    @classmethod
    def _known(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            raise refuse("errors.playbook.action_needs_name", "no name")
        known = known_action_names()
        if _context(info).get("check_actions", True) and value not in known:
            raise refuse(
                "errors.playbook.unknown_action_2",
                "unknown action",
                name=shown(value),
                suggest_name=suggest(value, known),
                value=", ".join(sorted(known)),
            )
        return value

    @field_validator("params", mode="before")
    @classmethod
    def _table(cls, value: object) -> object:
        if not isinstance(value, dict):
            raise refuse("errors.playbook.params_must_table", "not a table")
        return value

    @model_validator(mode="after")
    def _accepted(self) -> ActionTable:
        spec = ACTION_PARAMS.get(self.name)
        if spec is None:
            return self
        problems: list[tuple[tuple[str | int, ...], PydanticCustomError, Any]] = []
        for key, value in self.params.items():
            if key not in spec:
                problems.append(
                    (
                        ("params", key),
                        refuse(
                            "errors.playbook.takes_no_parameter",
                            "no such parameter",
                            name=self.name,
                            key_name=shown(key),
                            value=", ".join(spec) or "(none)",
                        ),
                        value,
                    )
                )
            elif (accepted := spec[key]) is not None and value not in accepted:
                problems.append(
                    (
                        ("params", key),
                        refuse(
                            "errors.playbook.not_accepted",
                            "not accepted",
                            key_name=key,
                            value=shown(value),
                            name=self.name,
                            value2=", ".join(map(str, accepted)),
                        ),
                        value,
                    )
                )
        for key in REQUIRED_PARAMS.get(self.name, ()):
            if key not in self.params:
                problems.append(
                    (
                        ("params",),
                        refuse(
                            "errors.playbook.needs_parameter",
                            "needs a parameter",
                            name=self.name,
                            key_name=repr(key),
                            key_name2=key,
                            value=", ".join(map(str, spec.get(key) or ())),
                        ),
                        self.params,
                    )
                )
        _raise_all(problems)
        return self


class BranchTable(InputModel):
    """A ``[[step.branch]]``: go to ``goto`` when every variable of ``when`` has one of its values."""

    when: dict[str, Value] = Field(default=None, validate_default=True)
    goto: Annotated[str, PlainValidator(_goto)] = Field(default=None, validate_default=True)

    @field_validator("when", mode="before")
    @classmethod
    def _condition(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, dict) or not value:
            raise refuse("errors.playbook.branch_needs_condition", "no condition")
        variables: dict[str, tuple[Any, ...] | None] | None = _context(info).get("variables")
        if variables is None:
            return value
        problems: list[tuple[tuple[str | int, ...], PydanticCustomError, Any]] = []
        for var, wanted in value.items():
            if var not in variables:
                problems.append(
                    (
                        (),
                        refuse(
                            "errors.playbook.unknown_variable",
                            "unknown variable",
                            var=shown(var),
                            suggest_var=suggest(str(var), set(variables)),
                            value=", ".join(sorted(variables)),
                        ),
                        value,
                    )
                )
                continue
            allowed = variables[var]
            values = wanted if isinstance(wanted, list) else [wanted]
            bad = [v for v in values if allowed is not None and not _among(v, allowed)]
            if bad and allowed is not None:
                problems.append(
                    (
                        (str(var),),
                        refuse(
                            "errors.playbook.never",
                            "never",
                            var=str(var),
                            value=", ".join(map(shown, bad)),
                            value2=", ".join(map(repr, allowed)),
                        ),
                        wanted,
                    )
                )
        _raise_all(problems)
        return value


def _among(value: object, allowed: tuple[Any, ...]) -> bool:
    try:
        return value in allowed
    except TypeError:  # an unhashable value compared with a set-like tuple member
        return False


def _deadline(value: object) -> object:
    if value is None:
        return None
    try:
        parse_deadline(value)
    except ValueError as exc:
        raise refuse("errors.playbook.bad_deadline", "bad deadline", exc=str(exc)) from None
    return value


class StepTable(InputModel):
    """A ``[[step]]``: what to do, by whom, by when, and what comes after."""

    id: StepId = Field(default=None, validate_default=True)
    phase: Annotated[str, PlainValidator(_phase)] = Field(default=None, validate_default=True)
    title: Bilingual = Field(default=None, validate_default=True)
    instructions: Bilingual = Field(default=None, validate_default=True)
    role: Annotated[str | None, PlainValidator(_role)] = None
    deadline: Annotated[str | None, PlainValidator(_deadline)] = None
    next: Annotated[str | None, PlainValidator(_next)] = None
    checklist: Annotated[
        list[ChecklistEntry], BeforeValidator(_tables("errors.playbook.checklist_must_list_entries"))
    ] = []
    form: Annotated[list[FormTable], BeforeValidator(_tables("errors.playbook.form_must_list_step"))] = []
    action: ActionTable | None = None
    branch: Annotated[
        list[BranchTable], BeforeValidator(_tables("errors.playbook.branch_must_step_branch"))
    ] = []

    @field_validator("checklist")
    @classmethod
    def _distinct_items(cls, value: list[ChecklistEntry]) -> list[ChecklistEntry]:
        _raise_all(_twice(value, "id", "errors.playbook.duplicate_checklist_id", "iid", lambda e: e.id))
        return value

    @field_validator("form")
    @classmethod
    def _distinct_fields(cls, value: list[FormTable]) -> list[FormTable]:
        _raise_all(_twice(value, "id", "errors.playbook.duplicate_form_field", "fid", lambda f: f.id))
        return value

    @property
    def targets(self) -> list[str]:
        return ([self.next] if self.next else []) + [b.goto for b in self.branch]


def _twice(
    items: list[Any], key: str, message_key: str, placeholder: str, ident: Callable[[Any], str]
) -> list[tuple[tuple[str | int, ...], PydanticCustomError, Any]]:
    """Each entry of a step's list whose id an earlier one already has."""
    seen: set[str] = set()
    out: list[tuple[tuple[str | int, ...], PydanticCustomError, Any]] = []
    for i, item in enumerate(items):
        name = ident(item)
        if name in seen:
            out.append(((i, key), refuse(message_key, "duplicate", **{placeholder: repr(name)}), name))
        seen.add(name)
    return out


class PlaybookFile(InputModel):
    """The whole file: its id and titles, ``start``, and the ``[[phase]]``, ``[[role]]`` and ``[[step]]``
    tables."""

    id: Ident = Field(default=None, validate_default=True)
    version: Annotated[int, Strict()] = Field(default=1, ge=1, le=MAX_VERSION)
    title: Bilingual = Field(default=None, validate_default=True)
    description: OptionalBilingual = None
    applies_to: list[PollutantClass] = []
    start: Annotated[str, PlainValidator(_start)] = Field(default=None, validate_default=True)
    source: Annotated[str, Strict()] = ""
    phase: Annotated[
        list[PhaseTable],
        BeforeValidator(
            _tables("errors.playbook.must_list_tables", "errors.playbook.playbook_has_no_phases")
        ),
    ] = Field(default_factory=list, validate_default=True)
    role: Annotated[list[RoleTable], BeforeValidator(_tables("errors.playbook.must_list_tables"))] = []
    step: Annotated[
        list[StepTable],
        BeforeValidator(_tables("errors.playbook.must_list_tables", "errors.playbook.playbook_has_no_steps")),
    ] = Field(default_factory=list, validate_default=True)

    @model_validator(mode="after")
    def _whole(self) -> PlaybookFile:
        """The flow runs forwards from ``start`` and reaches every step."""
        problems = self._flow_problems()
        _raise_all(problems)
        return self

    def _flow_problems(self) -> list[tuple[tuple[str | int, ...], PydanticCustomError, Any]]:
        index = {s.id: i for i, s in enumerate(self.step)}
        if self.start not in index:  # no context: the references were not checked
            return []
        problems: list[tuple[tuple[str | int, ...], PydanticCustomError, Any]] = []
        state: dict[str, int] = {}
        stack: list[str] = []
        reported: set[frozenset[str]] = set()
        todo: list[tuple[str, int]] = []  # depth-first without recursion: (step id, next edge to follow)

        def edges(sid: str) -> list[tuple[tuple[str | int, ...], str | None]]:
            i, step = index[sid], self.step[index[sid]]
            out: list[tuple[tuple[str | int, ...], str | None]] = [(("step", i, "next"), step.next)]
            out += [(("step", i, "branch", j, "goto"), b.goto) for j, b in enumerate(step.branch)]
            return out

        for first in [self.start, *index]:
            if first in state:
                continue
            state[first] = 1
            stack.append(first)
            todo.append((first, 0))
            while todo:
                sid, k = todo.pop()
                out = edges(sid)
                if k >= len(out):
                    stack.pop()
                    state[sid] = 2
                    continue
                todo.append((sid, k + 1))
                loc, target = out[k]
                if target not in index:
                    continue
                if state.get(target) == 1:
                    cycle = stack[stack.index(target) :] + [target]
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        problems.append(
                            (
                                loc,
                                refuse("errors.playbook.cycle_flow", "cycle", value=" → ".join(cycle)),
                                target,
                            )
                        )
                elif target not in state:
                    state[target] = 1
                    stack.append(target)
                    todo.append((target, 0))
        if any(t not in index for s in self.step for t in s.targets):
            return problems  # without the file's context: a reference the loader would refuse
        reachable: set[str] = set()
        walk = [self.start]
        while walk:
            sid = walk.pop()
            if sid in reachable or sid not in index:
                continue
            reachable.add(sid)
            walk.extend(self.step[index[sid]].targets)
        for sid, i in index.items():
            if sid not in reachable:
                problems.append(
                    (("step", i), refuse("errors.playbook.step_never_reached_start", "unreached"), sid)
                )
        return problems


# ---------------------------------------------------------------- what the file declares


def context_of(data: object, *, check_actions: bool = True) -> dict[str, Any]:
    """The ids and variables a (possibly broken) file declares: what its references are checked against."""
    doc = data if isinstance(data, dict) else {}

    def tables(node: Any, key: str) -> list[dict[str, Any]]:
        value = node.get(key) if isinstance(node, dict) else None
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

    def ids(key: str) -> list[str]:
        return [t["id"] for t in tables(doc, key) if isinstance(t.get("id"), str)]

    variables: dict[str, tuple[Any, ...] | None] = dict(BUILTIN_VARIABLES)
    for step in tables(doc, "step"):
        for form in tables(step, "form"):
            sets, kind = form.get("sets"), form.get("type", "text")
            if not isinstance(sets, str) or sets in variables:
                continue
            if kind == "bool":
                variables[sets] = (True, False)
            elif kind == "choice":
                variables[sets] = tuple(
                    c["value"] for c in tables(form, "choices") if isinstance(c.get("value"), str)
                )
            else:
                variables[sets] = None
    declared = {key: ids(table) for key, table in (("phases", "phase"), ("roles", "role"), ("steps", "step"))}
    twice = {
        f"{key}_twice": {i for i, n in Counter(found).items() if n > 1} for key, found in declared.items()
    }
    return {
        **declared,
        **twice,
        "variables": variables,
        "check_actions": check_actions,
    }
