"""Playbooks: the HJ 589 procedure as data (TOML files in ``playbooks/``).

A playbook is checked as a whole before anyone runs it, by the pydantic models of
:mod:`incident.playbook.inputs` (unknown step/phase/role references, duplicate ids,
cycles in the flow, missing Chinese or English text, unknown actions, bad deadlines),
and read into frozen dataclasses (plain data the UI may hold). Every problem is
reported at once with the file, the line and the field, and how to fix it:
``tomllib`` keeps no positions, so :class:`_Places` finds the lines in the text with
:class:`~incident.core.inputs.SourceMap`.

The format is documented in docs/formats/playbook.md; the shipped
``playbooks/river_chemical_spill.toml`` is the full example.
"""

from __future__ import annotations

import copy
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from incident.core.errors import UserError, ValidationErrors
from incident.core.i18n import bilingual
from incident.core.inputs import Block, SourceMap, refusals, shown
from incident.playbook.inputs import (
    BUILTIN_VARIABLES,
    FIELD_TYPES,
    POLLUTANT_CLASSES,
    PlaybookFile,
    StepTable,
    context_of,
    parse_deadline,
    reflow,
    suggest,
)
from playbooks import PLAYBOOK_DIR

__all__ = [
    "BUILTIN_VARIABLES",
    "FIELD_TYPES",
    "POLLUTANT_CLASSES",
    "parse_deadline",
    "reflow",
]

DEFAULT_PLAYBOOK = "river_chemical_spill"


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class Text:
    """A text in both languages; ``str()`` gives the current language."""

    en: str
    zh: str

    def get(self, lang: str | None = None) -> str:
        return bilingual(self.en, self.zh, lang)

    def __str__(self) -> str:
        return self.get()


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    text: Text


@dataclass(frozen=True)
class Choice:
    value: str
    text: Text


@dataclass(frozen=True)
class FormField:
    id: str
    label: Text
    type: str = "text"
    help: Text | None = None
    choices: tuple[Choice, ...] = ()
    required: bool = False
    sets: str | None = None  # a run variable set from the answer when the step is done


@dataclass(frozen=True)
class Branch:
    when: tuple[tuple[str, tuple[Any, ...]], ...]  # (variable, accepted values); all must hold
    goto: str

    def matches(self, variables: dict[str, Any]) -> bool:
        return all(variables.get(name) in accepted for name, accepted in self.when)


@dataclass(frozen=True)
class StepAction:
    name: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def params_dict(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass(frozen=True)
class Step:
    id: str
    phase: str
    title: Text
    instructions: Text
    role: str | None = None
    deadline: str | None = None  # as written, e.g. "1h"
    deadline_min: float | None = None  # after the alert
    next: str | None = None
    checklist: tuple[ChecklistItem, ...] = ()
    form: tuple[FormField, ...] = ()
    action: StepAction | None = None
    branches: tuple[Branch, ...] = ()

    def following(self, variables: dict[str, Any]) -> str | None:
        """The step after this one: the first branch whose condition holds, else ``next``."""
        for branch in self.branches:
            if branch.matches(variables):
                return branch.goto
        return self.next

    def targets(self) -> list[str]:
        return ([self.next] if self.next else []) + [b.goto for b in self.branches]


@dataclass(frozen=True)
class Phase:
    id: str
    title: Text


@dataclass(frozen=True)
class Role:
    id: str
    title: Text


@dataclass(frozen=True)
class Playbook:
    id: str
    version: int
    title: Text
    description: Text
    applies_to: tuple[str, ...]
    start: str
    phases: tuple[Phase, ...]
    roles: tuple[Role, ...]
    steps: tuple[Step, ...]
    source: str  # file name or label the text came from
    sha256: str
    text: str = field(repr=False)
    reference: str = ""

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)

    def role(self, role_id: str | None) -> Role | None:
        for r in self.roles:
            if r.id == role_id:
                return r
        return None

    def form_variables(self) -> dict[str, FormField]:
        return {f.sets: f for s in self.steps for f in s.form if f.sets}


# ---------------------------------------------------------------- reading and checking


class PlaybookInvalid(ValidationErrors):
    """A playbook with problems; every problem names file:line, the field and the fix."""

    def __init__(self, source: str, problems: list[UserError]) -> None:
        super().__init__(source, problems, outcome="errors.outcome.playbook_refused")


#: fields holding a text in both languages: a language of one reads ``title.zh``
_TEXT_KEYS = {"title", "instructions", "label", "help", "description"}
_TABLES = ("phase", "role", "step")


def _item(node: Any, key: str, index: int) -> Any:
    value = node.get(key) if isinstance(node, dict) else None
    return value[index] if isinstance(value, list) and 0 <= index < len(value) else None


def _keys(parts: tuple[Any, ...]) -> str:
    """The dotted key a location starts with: ``("title", "zh")`` -> ``title.zh``."""
    out: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            break
        out.append(part)
    return ".".join(out)


class _Places:
    """Where a pydantic location is in the file (``tomllib`` keeps no positions, so :class:`SourceMap`
    finds the lines in the text), and the field as a playbook's author names it: ``step "one" next``."""

    def __init__(self, text: str, source: str, data: Any) -> None:
        self.map = SourceMap(text)
        self.source = source
        self.data = data

    def line(self, loc: tuple[Any, ...]) -> int:
        m = self.map
        if len(loc) > 1 and loc[0] in _TABLES and isinstance(loc[1], int):
            block = m.table(loc[0], index=loc[1])
            if block is None:  # written inline: step = [{...}]
                return m.key_line(None, loc[0]) or 1
            return self._in_block(block, loc[2:], _item(self.data, loc[0], loc[1])) or block.start
        return (m.key_line(None, _keys(loc)) if _keys(loc) else None) or 1

    def _in_block(self, block: Block, rest: tuple[Any, ...], raw: Any) -> int | None:
        m = self.map
        if not rest:
            return None
        key = rest[0]
        indexed = len(rest) > 1 and isinstance(rest[1], int)
        if key in ("form", "branch") and indexed:
            subs = [c for c in block.children if c.name == key]
            if rest[1] >= len(subs):
                return m.key_line(block, key)
            sub, more = subs[rest[1]], rest[2:]
            if len(more) > 1 and more[0] == "choices" and isinstance(more[1], int):
                choice = _item(_item(raw, key, rest[1]), "choices", more[1])
                value = choice.get("value") if isinstance(choice, dict) else None
                return (m.text_line(sub, f'"{value}"') if isinstance(value, str) else None) or m.key_line(
                    sub, "choices"
                )
            return (m.key_line(sub, _keys(more)) if _keys(more) else None) or sub.start
        if key == "checklist":
            entry = _item(raw, key, rest[1]) if indexed else None
            ident = entry.get("id") if isinstance(entry, dict) else None
            found = m.text_line(block, f'"{ident}"') if isinstance(ident, str) and ident else None
            return found or m.key_line(block, key)
        if key == "action":
            sub = next((c for c in block.children if c.name == "action"), None)
            if sub is None:
                return m.key_line(block, key)
            return (m.key_line(sub, _keys(rest[1:])) if _keys(rest[1:]) else None) or sub.start
        return m.key_line(block, _keys(rest)) or m.key_line(block, "id")

    def name(self, loc: tuple[Any, ...]) -> str:
        if not loc:
            return "playbook"
        parts: list[str] = [] if loc[0] in _TABLES else ["playbook"]
        node, prev, i = self.data, None, 0
        while i < len(loc):
            part = loc[i]
            if isinstance(part, str) and i + 1 < len(loc) and isinstance(loc[i + 1], int):
                node = _item(node, part, loc[i + 1])
                parts.append(self._entry(part, loc[i + 1], node))
                prev, i = None, i + 2
                continue
            if isinstance(part, str) and prev in _TEXT_KEYS:
                parts[-1] += f".{part}"
            else:
                parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
            prev, i = part, i + 1
        return " ".join(parts)

    @staticmethod
    def _entry(key: str, index: int, raw: Any) -> str:
        """One entry of a list: ``step "one"``, ``form wind``, ``branch #2``, ``checklist sketch``."""
        got = raw.get("value" if key == "choices" else "id") if isinstance(raw, dict) else None
        named = isinstance(got, str) and bool(got) and len(got) <= 60 and got.isprintable()
        if key in _TABLES and named and re.fullmatch(r"[a-z][a-z0-9_]*", str(got)):
            return f'{key} "{got}"'
        if key in ("form", "checklist") and named:
            return f"{key} {got}"
        if key == "choices" and named:
            return f"choice {got}"
        return f"{key} #{index + 1}"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The fields the table at ``loc`` may have (for "did you mean"), by walking the models."""
    model: type[BaseModel] | None = PlaybookFile
    for part in loc:
        if model is None:
            return []
        if isinstance(part, str):
            info = model.model_fields.get(part)
            model = _model_in(info.annotation) if info is not None else None
    return sorted(model.model_fields) if model is not None else []


def _flat(problem: UserError) -> UserError:
    """``bad.toml:21: step "one" next: ...``: the field written after the line, as authors read it."""
    out = copy.copy(problem)
    out.where = f"{problem.where}: {problem.field}" if problem.field else problem.where
    out.field = None
    Exception.__init__(out, out.render())
    return out


def _problems(exc: ValidationError, places: _Places) -> list[UserError]:
    located = refusals(exc, where=lambda loc: f"{places.source}:{places.line(loc)}", field_name=places.name)
    out: list[UserError] = []
    for err, problem in zip(exc.errors(include_url=False), located, strict=True):
        if err.get("type") == "extra_forbidden":
            loc = tuple(err.get("loc", ()))
            allowed = _fields_at(loc[:-1])
            problem = UserError(
                "errors.playbook.unknown_field_2",
                where=problem.where,
                field=problem.field,
                key_name=shown(loc[-1]),
                suggest_key_name=suggest(str(loc[-1])[:100], allowed),
                value=", ".join(allowed),
            )
        elif (message_key := problem.key or "").startswith("errors.playbook.") and err.get("ctx"):
            # the rule's own values, whole: a list of the file's ids or the known actions is the fix
            # (values quoted from the file are already cut short by shown())
            params = {k: v for k, v in dict(err.get("ctx") or {}).items() if k != "field"}
            problem = UserError(message_key, where=problem.where, field=problem.field, **params)
        out.append(_flat(problem))
    return out


def _text(pair: tuple[str, str] | None) -> Text:
    return Text(*pair) if pair else Text("", "")


def _step(s: StepTable) -> Step:
    return Step(
        id=s.id,
        phase=s.phase,
        title=_text(s.title),
        instructions=Text(reflow(s.instructions[0]), reflow(s.instructions[1])),
        role=s.role,
        deadline=s.deadline,
        deadline_min=parse_deadline(s.deadline) if s.deadline is not None else None,
        next=s.next,
        checklist=tuple(ChecklistItem(c.id, Text(c.en, c.zh)) for c in s.checklist),
        form=tuple(
            FormField(
                id=f.id,
                label=_text(f.label),
                type=f.type,
                help=_text(f.help) if f.help else None,
                choices=tuple(Choice(c.value, Text(c.en, c.zh)) for c in f.choices),
                required=f.required,
                sets=f.sets,
            )
            for f in s.form
        ),
        action=StepAction(s.action.name, tuple(sorted(s.action.params.items()))) if s.action else None,
        branches=tuple(
            Branch(
                tuple((var, tuple(v) if isinstance(v, list) else (v,)) for var, v in b.when.items()), b.goto
            )
            for b in s.branch
        ),
    )


def _playbook(doc: PlaybookFile, text: str, source: str) -> Playbook:
    return Playbook(
        id=doc.id,
        version=doc.version,
        title=_text(doc.title),
        description=_text(doc.description),
        applies_to=tuple(doc.applies_to),
        start=doc.start,
        phases=tuple(Phase(p.id, _text(p.title)) for p in doc.phase),
        roles=tuple(Role(r.id, _text(r.title)) for r in doc.role),
        steps=tuple(_step(s) for s in doc.step),
        source=source,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        text=text,
        reference=doc.source,
    )


# ---------------------------------------------------------------- public API


def parse_playbook(text: str, source: str = "<playbook>", *, check_actions: bool = True) -> Playbook:
    """Read and check a playbook; raise :class:`PlaybookInvalid` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        where = f"{source}:{m.group(1) if m else 1}: TOML syntax"
        raise PlaybookInvalid(
            source, [UserError("errors.playbook.not_valid_toml", where=where, exc=exc)]
        ) from None
    places = _Places(text, source, data)
    try:
        doc = PlaybookFile.model_validate(data, context=context_of(data, check_actions=check_actions))
    except ValidationError as exc:
        raise PlaybookInvalid(source, _problems(exc, places)) from None
    return _playbook(doc, text, source)


def load_playbook_file(path: str | Path) -> Playbook:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError("errors.playbook.cannot_read_file", where=str(path), strerror=exc.strerror) from exc
    except UnicodeDecodeError as exc:
        raise UserError("errors.playbook.file_not_utf_text", where=str(path)) from exc
    return parse_playbook(text, str(path))


@lru_cache(maxsize=64)
def _parse_cached(text: str, source: str) -> Playbook:
    return parse_playbook(text, source, check_actions=False)


def playbook_from_text(text: str, source: str) -> Playbook:
    """A playbook already accepted once (e.g. the copy kept with a run): parsed, cached."""
    return _parse_cached(text, source)


def shipped_files(directory: Path = PLAYBOOK_DIR) -> list[Path]:
    return sorted(directory.glob("*.toml"))


def list_playbooks(directory: Path = PLAYBOOK_DIR) -> list[Playbook]:
    return [load_playbook_file(p) for p in shipped_files(directory)]


def find_playbook(ref: str, directory: Path = PLAYBOOK_DIR) -> Playbook:
    """A shipped playbook by id, or a file by path."""
    candidate = Path(ref)
    if candidate.suffix == ".toml" and candidate.exists():
        return load_playbook_file(candidate)
    ids = []
    for path in shipped_files(directory):
        pb = load_playbook_file(path)
        if pb.id == ref:
            return pb
        ids.append(pb.id)
    raise UserError(
        "errors.playbook.no_playbook",
        where="playbook",
        ref=repr(ref),
        suggest_ref=suggest(ref, ids),
        value=", ".join(ids),
    )


def suggest_playbook_id(pollutant_class: str | None, directory: Path = PLAYBOOK_DIR) -> str:
    """The shipped playbook for an incident's pollutant class (the general river spill flow by default)."""
    for pb in list_playbooks(directory):
        if pollutant_class and pollutant_class in pb.applies_to:
            return pb.id
    return DEFAULT_PLAYBOOK
