"""Playbooks: the HJ 589 procedure as data (TOML files in ``playbooks/``).

A playbook is read into frozen dataclasses (plain data the UI may hold) and
checked as a whole before anyone runs it: unknown step/phase/role references,
cycles in the flow, missing Chinese or English text, unknown actions, bad
deadlines and TOML syntax are all reported at once, each with the file, the
line and the field, and how to fix it. ``tomllib`` keeps no positions, so
:class:`SourceMap` finds the lines in the text itself.

The format is documented in README.md ("Playbooks"); the shipped
``playbooks/river_chemical_spill.toml`` is the full example.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from incident.core.errors import UserError, ValidationErrors
from incident.core.i18n import bilingual
from incident.playbook.actions import ACTION_PARAMS, REQUIRED_PARAMS, known_action_names
from playbooks import PLAYBOOK_DIR

LANGS = ("en", "zh")
FIELD_TYPES = ("text", "number", "choice", "bool", "datetime")
POLLUTANT_CLASSES = ("heavy_metal", "organic", "oil", "other")
#: variables every run knows from the incident; form fields may set more (``sets = "name"``).
BUILTIN_VARIABLES: dict[str, tuple[Any, ...]] = {
    "pollutant_class": POLLUTANT_CLASSES,
    "intake_threatened": (True, False),
    "medium": ("water", "air", "soil", "other"),
}
MAX_DEADLINE_MIN = 30 * 24 * 60
DEFAULT_PLAYBOOK = "river_chemical_spill"

ROOT_KEYS = {
    "id",
    "version",
    "title",
    "description",
    "applies_to",
    "start",
    "source",
    "phase",
    "role",
    "step",
}
PHASE_KEYS = {"id", "title"}
ROLE_KEYS = {"id", "title"}
STEP_KEYS = {
    "id",
    "phase",
    "title",
    "instructions",
    "role",
    "deadline",
    "next",
    "checklist",
    "form",
    "action",
    "branch",
}
FORM_KEYS = {"id", "type", "label", "help", "choices", "required", "sets"}
CHOICE_KEYS = {"value", "en", "zh"}
BRANCH_KEYS = {"when", "goto"}
ACTION_KEYS = {"name", "params"}


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


# ---------------------------------------------------------------- deadlines

_DEADLINE = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")


def parse_deadline(value: Any) -> float:
    """'1h', '90m', '1h30m', '2d' -> minutes after the alert. Anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"{value!r} has no unit")
    m = _DEADLINE.match(value)
    if not m or not any(m.groups()):
        raise ValueError(f"{value!r} is not a duration")
    days, hours, minutes = (int(g) if g else 0 for g in m.groups())
    total = days * 1440 + hours * 60 + minutes
    if total <= 0:
        raise ValueError(f"{value!r} is not after the alert")
    if total > MAX_DEADLINE_MIN:
        raise ValueError(f"{value!r} is more than 30 days after the alert")
    return float(total)


# ---------------------------------------------------------------- where things are in the text

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\- ]+?)\s*\]\]?\s*(#.*)?$")
_ID_LINE = re.compile(r'^\s*id\s*=\s*["\']([^"\']*)["\']')


@dataclass
class Block:
    """One table of the source: ``[[step]]``, ``[[step.form]]``... with its lines (1-based)."""

    name: str
    start: int
    end: int  # last line
    id: str | None = None
    children: list[Block] = field(default_factory=list)


class SourceMap:
    """Finds the line of a table, a key or a value in a TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.root = Block("", 1, max(1, len(self.lines)))
        self.blocks: list[Block] = []  # top-level tables in order
        current: Block | None = None
        for no, line in enumerate(self.lines, start=1):
            m = _HEADER.match(line)
            if m and not line.lstrip().startswith("#"):
                name = m.group(2).replace(" ", "")
                if "." in name and current is not None and name.split(".")[0] == current.name:
                    child = Block(name.split(".", 1)[1], no, no)
                    current.children.append(child)
                else:
                    current = Block(name, no, no)
                    self.blocks.append(current)
        # close the ranges
        for i, block in enumerate(self.blocks):
            block.end = self.blocks[i + 1].start - 1 if i + 1 < len(self.blocks) else len(self.lines)
            for j, child in enumerate(block.children):
                child.end = block.children[j + 1].start - 1 if j + 1 < len(block.children) else block.end
            own_end = block.children[0].start - 1 if block.children else block.end
            block.id = self._first_id(block.start, own_end)
            for child in block.children:
                child.id = self._first_id(child.start, child.end)
        if self.blocks:
            self.root.end = self.blocks[0].start - 1

    def _first_id(self, start: int, end: int) -> str | None:
        for no in range(start, end + 1):
            m = _ID_LINE.match(self.lines[no - 1])
            if m:
                return m.group(1)
        return None

    def table(self, name: str, ident: str | None = None, index: int | None = None) -> Block | None:
        found = [b for b in self.blocks if b.name == name]
        if ident is not None:
            found = [b for b in found if b.id == ident]
        if index is not None:
            return found[index] if index < len(found) else None
        return found[0] if found else None

    def own_range(self, block: Block) -> tuple[int, int]:
        end = block.children[0].start - 1 if block.children else block.end
        return block.start, end

    def key_line(self, block: Block | None, key: str) -> int | None:
        """Line of ``key = ...`` or ``key.sub = ...`` (dotted path allowed) in a block's own lines."""
        start, end = self.own_range(block) if block else (1, self.root.end)
        end = min(end, len(self.lines))  # an empty file has no line 1 to look at
        parts = key.split(".")
        candidates = [r"\s*\.\s*".join(re.escape(p) for p in parts[:n]) for n in range(len(parts), 0, -1)]
        for pattern in candidates:
            rx = re.compile(rf"^\s*{pattern}\s*(=|\.)")
            for no in range(start, end + 1):
                if rx.match(self.lines[no - 1]):
                    return no
        return None

    def text_line(self, block: Block | None, needle: str) -> int | None:
        start, end = (block.start, block.end) if block else (1, len(self.lines))
        for no in range(start, min(end, len(self.lines)) + 1):
            if needle in self.lines[no - 1]:
                return no
        return None


# ---------------------------------------------------------------- reading and checking


class PlaybookInvalid(ValidationErrors):
    """A playbook with problems; every problem names file:line, the field and the fix."""

    def __init__(self, source: str, problems: list[UserError]) -> None:
        super().__init__(source, problems, outcome="errors.outcome.playbook_refused")

    def render(self, lang: str | None = None, *, field_label: str | None = None) -> str:
        lines = [f"{self.source}: {len(self.problems)} problem(s); {self.outcome}"]
        lines += [f"- {p.render(lang)}" for p in self.problems]
        return "\n".join(lines)


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


class _Reader:
    def __init__(self, text: str, source: str, check_actions: bool) -> None:
        self.text = text
        self.source = source
        self.check_actions = check_actions
        self.map = SourceMap(text)
        self.problems: list[UserError] = []

    # -- reporting
    def problem(self, line: int | None, where: str, message_key: str, /, **params: Any) -> None:
        """Note a problem: ``message_key`` is an ``errors.playbook`` catalog key, ``params`` its values."""
        loc = f"{self.source}:{line or 1}"
        self.problems.append(UserError(message_key, where=f"{loc}: {where}", **params))

    # -- small typed readers
    def text_field(
        self, node: dict, key: str, block: Block | None, where: str, required: bool = True
    ) -> Text:
        value = node.get(key)
        if value is None:
            if required:
                self.problem(
                    self.map.key_line(block, "id") or (block.start if block else 1),
                    f"{where} {key}",
                    "errors.playbook.missing",
                    key_name=repr(key),
                    key_name2=key,
                )
            return Text("", "")
        if isinstance(value, str):
            self.problem(
                self.map.key_line(block, key),
                f"{where} {key}",
                "errors.playbook.given_one_language_only",
                key_name=repr(key),
                key_name2=key,
            )
            return Text(value, value)
        if not isinstance(value, dict):
            self.problem(
                self.map.key_line(block, key),
                f"{where} {key}",
                "errors.playbook.must_table_texts",
                key_name=repr(key),
                key_name2=key,
            )
            return Text("", "")
        return self.bilingual(value, block, f"{where} {key}", key)

    def bilingual(
        self, value: dict, block: Block | None, where: str, key: str, needle: str | None = None
    ) -> Text:
        texts: dict[str, str] = {}
        for lang in LANGS:
            got = value.get(lang)
            if not isinstance(got, str) or not got.strip():
                line = None
                if needle:
                    line = self.map.text_line(block, needle)
                line = line or self.map.key_line(block, f"{key}.{lang}") or self.map.key_line(block, key)
                self.problem(
                    line,
                    f"{where}.{lang}" if not needle else f"{where} {lang}",
                    f"errors.playbook.no_{lang}_text"
                    if not needle
                    else f"errors.playbook.no_{lang}_text_entry",
                    key_name=key,
                )
                texts[lang] = ""
            else:
                texts[lang] = got.strip()
        for extra in set(value) - set(LANGS) - {"id", "value"}:
            self.problem(
                (self.map.text_line(block, needle) if needle else None)
                or self.map.key_line(block, f"{key}.{extra}")
                or self.map.key_line(block, key),
                where,
                "errors.playbook.unknown_language",
                extra=repr(extra),
            )
        if key == "instructions":
            texts = {lang: reflow(value) for lang, value in texts.items()}
        return Text(texts["en"], texts["zh"])

    def unknown_keys(self, node: dict, allowed: set[str], block: Block | None, where: str) -> None:
        for key in node:
            if key not in allowed:
                self.problem(
                    self.map.key_line(block, key),
                    f"{where} {key}",
                    "errors.playbook.unknown_field_2",
                    key_name=repr(key),
                    suggest_key_name=_suggest(key, allowed),
                    value=", ".join(sorted(allowed)),
                )

    def ident(self, node: dict, block: Block | None, where: str) -> str:
        value = node.get("id")
        if not isinstance(value, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", value or ""):
            self.problem(
                block.start if block else 1,
                f"{where} id",
                "errors.playbook.missing_bad_id",
                value=repr(value),
            )
            return str(value)
        return value

    def table_list(self, node: dict, key: str, where: str) -> list[dict]:
        value = node.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(
                self.map.key_line(None, key),
                f"{where}{key}",
                "errors.playbook.must_list_tables",
                key_name=repr(key),
                key_name2=key,
            )
            return []
        return value

    # -- the whole file
    def read(self) -> Playbook | None:
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            self.problem(
                int(m.group(1)) if m else 1, "TOML syntax", "errors.playbook.not_valid_toml", exc=exc
            )
            return None
        self.unknown_keys(data, ROOT_KEYS, None, "playbook")
        pid = self.ident(data, None, "playbook")
        version = data.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.problem(
                self.map.key_line(None, "version"),
                "version",
                "errors.playbook.bad_version",
                version=repr(version),
            )
            version = 1
        title = self.text_field(data, "title", None, "playbook")
        description = self.text_field(data, "description", None, "playbook", required=False)
        applies = data.get("applies_to", [])
        if not isinstance(applies, list) or any(a not in POLLUTANT_CLASSES for a in applies):
            self.problem(
                self.map.key_line(None, "applies_to"),
                "applies_to",
                "errors.playbook.bad_pollutant_classes",
                applies=repr(applies),
                value=", ".join(POLLUTANT_CLASSES),
            )
            applies = []
        reference = data.get("source", "")
        phases = self.read_phases(data)
        roles = self.read_roles(data)
        steps = self.read_steps(data, {p.id for p in phases}, {r.id for r in roles})
        step_ids = [s.id for s in steps]
        start = data.get("start")
        if not steps:
            self.problem(1, "step", "errors.playbook.playbook_has_no_steps")
        if start is None:
            self.problem(
                1,
                "start",
                "errors.playbook.missing_start",
                first=step_ids[0] if step_ids else "<first step id>",
            )
        elif start not in step_ids:
            self.problem(
                self.map.key_line(None, "start"),
                "start",
                "errors.playbook.unknown_step",
                start=repr(start),
                suggest_str_start=_suggest(str(start), step_ids),
            )
        self.check_references(steps, variables=self.known_variables(steps))
        if start in step_ids:
            self.check_flow(steps, start)
        if self.problems:
            return None
        return Playbook(
            id=pid,
            version=version,
            title=title,
            description=description,
            applies_to=tuple(applies),
            start=str(start),  # a step id: anything else was refused above
            phases=tuple(phases),
            roles=tuple(roles),
            steps=tuple(steps),
            source=self.source,
            sha256=hashlib.sha256(self.text.encode()).hexdigest(),
            text=self.text,
            reference=str(reference),
        )

    def read_phases(self, data: dict) -> list[Phase]:
        phases: list[Phase] = []
        for i, node in enumerate(self.table_list(data, "phase", "")):
            block = self.map.table("phase", index=i)
            where = f"phase #{i + 1}"
            self.unknown_keys(node, PHASE_KEYS, block, where)
            pid = self.ident(node, block, where)
            where = f'phase "{pid}"'
            if pid in {p.id for p in phases}:
                self.problem(
                    block.start if block else 1,
                    f"{where} id",
                    "errors.playbook.duplicate_phase_id",
                    pid=repr(pid),
                )
            phases.append(Phase(pid, self.text_field(node, "title", block, where)))
        if not phases:
            self.problem(1, "phase", "errors.playbook.playbook_has_no_phases")
        return phases

    def read_roles(self, data: dict) -> list[Role]:
        roles: list[Role] = []
        for i, node in enumerate(self.table_list(data, "role", "")):
            block = self.map.table("role", index=i)
            where = f"role #{i + 1}"
            self.unknown_keys(node, ROLE_KEYS, block, where)
            rid = self.ident(node, block, where)
            where = f'role "{rid}"'
            if rid in {r.id for r in roles}:
                self.problem(
                    block.start if block else 1,
                    f"{where} id",
                    "errors.playbook.duplicate_role_id",
                    rid=repr(rid),
                )
            roles.append(Role(rid, self.text_field(node, "title", block, where)))
        return roles

    def read_steps(self, data: dict, phase_ids: set[str], role_ids: set[str]) -> list[Step]:
        steps: list[Step] = []
        seen: set[str] = set()
        for i, node in enumerate(self.table_list(data, "step", "")):
            block = self.map.table("step", index=i)
            where = f"step #{i + 1}"
            self.unknown_keys(node, STEP_KEYS, block, where)
            sid = self.ident(node, block, where)
            where = f'step "{sid}"'
            if sid in seen:
                self.problem(
                    block.start if block else 1,
                    f"{where} id",
                    "errors.playbook.duplicate_step_id",
                    sid=repr(sid),
                )
            seen.add(sid)
            phase = node.get("phase")
            if not isinstance(phase, str) or phase not in phase_ids:  # a list or table is no phase id
                self.problem(
                    self.map.key_line(block, "phase") or (block.start if block else 1),
                    f"{where} phase",
                    "errors.playbook.unknown_phase",
                    phase=repr(phase),
                    suggest_str_phase=_suggest(str(phase), phase_ids),
                    value=", ".join(sorted(phase_ids)),
                )
            role = node.get("role")
            if role is not None and (not isinstance(role, str) or role not in role_ids):
                self.problem(
                    self.map.key_line(block, "role"),
                    f"{where} role",
                    "errors.playbook.unknown_role",
                    role=repr(role),
                    suggest_str_role=_suggest(str(role), role_ids),
                    value=", ".join(sorted(role_ids)) or "(add [[role]] tables)",
                )
            deadline = node.get("deadline")
            deadline_min = None
            if deadline is not None:
                try:
                    deadline_min = parse_deadline(deadline)
                except ValueError as exc:
                    self.problem(
                        self.map.key_line(block, "deadline"),
                        f"{where} deadline",
                        "errors.playbook.bad_deadline",
                        exc=exc,
                    )
            nxt = node.get("next")
            if nxt is not None and not isinstance(nxt, str):
                self.problem(
                    self.map.key_line(block, "next"),
                    f"{where} next",
                    "errors.playbook.bad_next",
                    nxt=repr(nxt),
                )
                nxt = None
            steps.append(
                Step(
                    id=sid,
                    phase=str(phase),
                    title=self.text_field(node, "title", block, where),
                    instructions=self.text_field(node, "instructions", block, where),
                    role=role,
                    deadline=deadline if isinstance(deadline, str) else None,
                    deadline_min=deadline_min,
                    next=nxt,
                    checklist=self.read_checklist(node, block, where),
                    form=self.read_form(node, block, where),
                    action=self.read_action(node, block, where),
                    branches=self.read_branches(node, block, where),
                )
            )
        return steps

    def read_checklist(self, node: dict, block: Block | None, where: str) -> tuple[ChecklistItem, ...]:
        items: list[ChecklistItem] = []
        raw = node.get("checklist", [])
        if not isinstance(raw, list) or not all(isinstance(v, dict) for v in raw):
            self.problem(
                self.map.key_line(block, "checklist"),
                f"{where} checklist",
                "errors.playbook.checklist_must_list_entries",
            )
            return ()
        for j, item in enumerate(raw):
            iid = item.get("id")
            line = self.map.text_line(block, f'"{iid}"') if iid else self.map.key_line(block, "checklist")
            if not isinstance(iid, str) or not iid:
                self.problem(
                    line, f"{where} checklist #{j + 1}", "errors.playbook.checklist_entry_without_id"
                )
                continue
            if iid in {c.id for c in items}:
                self.problem(
                    line, f"{where} checklist {iid}", "errors.playbook.duplicate_checklist_id", iid=repr(iid)
                )
            text = self.bilingual(item, block, f"{where} checklist {iid}", "checklist", needle=f'"{iid}"')
            items.append(ChecklistItem(iid, text))
        return tuple(items)

    def read_form(self, node: dict, block: Block | None, where: str) -> tuple[FormField, ...]:
        fields: list[FormField] = []
        raw = node.get("form", [])
        if not isinstance(raw, list) or not all(isinstance(v, dict) for v in raw):
            self.problem(
                self.map.key_line(block, "form"), f"{where} form", "errors.playbook.form_must_list_step"
            )
            return ()
        forms = [c for c in (block.children if block else []) if c.name == "form"]
        for j, item in enumerate(raw):
            sub = forms[j] if j < len(forms) else block
            fid = self.ident(item, sub, f"{where} form #{j + 1}")
            fwhere = f"{where} form {fid}"
            self.unknown_keys(item, FORM_KEYS, sub, fwhere)
            if fid in {f.id for f in fields}:
                self.problem(
                    sub.start if sub else 1,
                    f"{fwhere} id",
                    "errors.playbook.duplicate_form_field",
                    fid=repr(fid),
                )
            ftype = item.get("type", "text")
            if ftype not in FIELD_TYPES:
                self.problem(
                    self.map.key_line(sub, "type"),
                    f"{fwhere} type",
                    "errors.playbook.unknown_field_type_2",
                    ftype=repr(ftype),
                    suggest_str_ftype=_suggest(str(ftype), FIELD_TYPES),
                    value=", ".join(FIELD_TYPES),
                )
            choices: list[Choice] = []
            raw_choices = item.get("choices", [])
            if ftype == "choice" and not raw_choices:
                self.problem(
                    self.map.key_line(sub, "type"), f"{fwhere} choices", "errors.playbook.choice_field_has_no"
                )
            if not isinstance(raw_choices, list):
                raw_choices = []
            for c in raw_choices:
                value = c.get("value") if isinstance(c, dict) else None
                if not isinstance(value, str):
                    self.problem(
                        self.map.key_line(sub, "choices"),
                        f"{fwhere} choices",
                        "errors.playbook.bad_choice",
                        c=repr(c),
                    )
                    continue
                text = self.bilingual(c, sub, f"{fwhere} choice {value}", "choices", needle=f'"{value}"')
                choices.append(Choice(value, text))
            required = item.get("required", False)
            if not isinstance(required, bool):
                self.problem(
                    self.map.key_line(sub, "required"),
                    f"{fwhere} required",
                    "errors.playbook.bad_value",
                    required=repr(required),
                )
                required = False
            sets = item.get("sets")
            help_text = self.text_field(item, "help", sub, fwhere, required=False) if "help" in item else None
            fields.append(
                FormField(
                    id=fid,
                    label=self.text_field(item, "label", sub, fwhere),
                    type=str(ftype),
                    help=help_text,
                    choices=tuple(choices),
                    required=required,
                    sets=sets if isinstance(sets, str) else None,
                )
            )
            if sets is not None:
                self.check_sets(sets, ftype, choices, sub, fwhere)
        return tuple(fields)

    def check_sets(
        self, sets: Any, ftype: str, choices: list[Choice], block: Block | None, where: str
    ) -> None:
        line = self.map.key_line(block, "sets")
        if not isinstance(sets, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", sets):
            self.problem(line, f"{where} sets", "errors.playbook.bad_variable_name", sets=repr(sets))
            return
        allowed = BUILTIN_VARIABLES.get(sets)
        if allowed is None:
            return
        if allowed == (True, False) and ftype != "bool":
            self.problem(
                line, f"{where} sets", "errors.playbook.yes_no_but_field", sets=repr(sets), ftype=repr(ftype)
            )
        elif allowed != (True, False):
            bad = [c.value for c in choices if c.value not in allowed]
            if ftype != "choice" or bad:
                self.problem(
                    line,
                    f"{where} sets",
                    "errors.playbook.takes",
                    sets=repr(sets),
                    value=", ".join(map(str, allowed)),
                    value2=", ".join(map(str, allowed)),
                )

    def read_action(self, node: dict, block: Block | None, where: str) -> StepAction | None:
        raw = node.get("action")
        if raw is None:
            return None
        sub = next((c for c in (block.children if block else []) if c.name == "action"), None) or block
        line = self.map.key_line(block, "action") or (sub.start if sub else None)
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            self.problem(line, f"{where} action", "errors.playbook.action_needs_name")
            return None
        for key in set(raw) - ACTION_KEYS:
            self.problem(line, f"{where} action {key}", "errors.playbook.unknown_field", key_name=repr(key))
        name = raw["name"]
        params = raw.get("params", {})
        if not isinstance(params, dict):
            self.problem(line, f"{where} action params", "errors.playbook.params_must_table")
            params = {}
        known = known_action_names()
        if self.check_actions and name not in known:
            self.problem(
                line,
                f"{where} action",
                "errors.playbook.unknown_action_2",
                name=repr(name),
                suggest_name=_suggest(name, known),
                value=", ".join(sorted(known)),
            )
        spec = ACTION_PARAMS.get(name)
        if spec is not None:
            for key, value in params.items():
                if key not in spec:
                    self.problem(
                        line,
                        f"{where} action params {key}",
                        "errors.playbook.takes_no_parameter",
                        name=name,
                        key_name=repr(key),
                        value=", ".join(spec) or "(none)",
                    )
                elif (accepted := spec[key]) is not None and value not in accepted:
                    self.problem(
                        line,
                        f"{where} action params {key}",
                        "errors.playbook.not_accepted",
                        key_name=key,
                        value=repr(value),
                        name=name,
                        value2=", ".join(map(str, spec[key])),
                    )
            for key in REQUIRED_PARAMS.get(name, ()):
                if key not in params:
                    self.problem(
                        line,
                        f"{where} action params",
                        "errors.playbook.needs_parameter",
                        name=name,
                        key_name=repr(key),
                        key_name2=key,
                        value=", ".join(map(str, spec.get(key) or ())),
                    )
        return StepAction(name, tuple(sorted(params.items())))

    def read_branches(self, node: dict, block: Block | None, where: str) -> tuple[Branch, ...]:
        raw = node.get("branch", [])
        if not isinstance(raw, list) or not all(isinstance(v, dict) for v in raw):
            self.problem(
                self.map.key_line(block, "branch"),
                f"{where} branch",
                "errors.playbook.branch_must_step_branch",
            )
            return ()
        subs = [c for c in (block.children if block else []) if c.name == "branch"]
        branches: list[Branch] = []
        for j, item in enumerate(raw):
            sub = subs[j] if j < len(subs) else block
            bwhere = f"{where} branch #{j + 1}"
            self.unknown_keys(item, BRANCH_KEYS, sub, bwhere)
            when = item.get("when")
            goto = item.get("goto")
            if not isinstance(when, dict) or not when:
                self.problem(
                    self.map.key_line(sub, "when") or (sub.start if sub else None),
                    f"{bwhere} when",
                    "errors.playbook.branch_needs_condition",
                )
                when = {}
            if not isinstance(goto, str):
                self.problem(
                    self.map.key_line(sub, "goto") or (sub.start if sub else None),
                    f"{bwhere} goto",
                    "errors.playbook.branch_needs_goto",
                )
                goto = ""
            conds = []
            for var, value in when.items():
                values = tuple(value) if isinstance(value, list) else (value,)
                conds.append((var, values))
            branches.append(Branch(tuple(conds), goto))
        return tuple(branches)

    # -- cross-references
    def known_variables(self, steps: list[Step]) -> dict[str, tuple[Any, ...] | None]:
        variables: dict[str, tuple[Any, ...] | None] = dict(BUILTIN_VARIABLES)
        for s in steps:
            for f in s.form:
                if f.sets and f.sets not in variables:
                    if f.type == "bool":
                        variables[f.sets] = (True, False)
                    elif f.type == "choice":
                        variables[f.sets] = tuple(c.value for c in f.choices)
                    else:
                        variables[f.sets] = None
        return variables

    def check_references(self, steps: list[Step], variables: dict[str, tuple[Any, ...] | None]) -> None:
        ids = [s.id for s in steps]
        for s in steps:
            block = self.map.table("step", s.id)
            if s.next is not None and s.next not in ids:
                self.problem(
                    self.map.key_line(block, "next"),
                    f'step "{s.id}" next',
                    "errors.playbook.unknown_step_2",
                    next=repr(s.next),
                    suggest_next=_suggest(s.next, ids),
                )
            subs = [c for c in (block.children if block else []) if c.name == "branch"]
            for j, b in enumerate(s.branches):
                sub = subs[j] if j < len(subs) else block
                if b.goto and b.goto not in ids:
                    self.problem(
                        self.map.key_line(sub, "goto"),
                        f'step "{s.id}" branch #{j + 1} goto',
                        "errors.playbook.unknown_step_3",
                        goto=repr(b.goto),
                        suggest_goto=_suggest(b.goto, ids),
                    )
                for var, values in b.when:
                    line = self.map.key_line(sub, "when")
                    if var not in variables:
                        self.problem(
                            line,
                            f'step "{s.id}" branch #{j + 1} when',
                            "errors.playbook.unknown_variable",
                            var=repr(var),
                            suggest_var=_suggest(var, set(variables)),
                            value=", ".join(sorted(variables)),
                        )
                        continue
                    allowed = variables[var]
                    bad = [v for v in values if allowed is not None and v not in allowed]
                    if bad and allowed is not None:
                        self.problem(
                            line,
                            f'step "{s.id}" branch #{j + 1} when {var}',
                            "errors.playbook.never",
                            var=var,
                            value=", ".join(map(repr, bad)),
                            value2=", ".join(map(repr, allowed)),
                        )

    def check_flow(self, steps: list[Step], start: str) -> None:
        by_id = {s.id: s for s in steps}
        # cycles (depth-first, colouring); report the edge that closes each cycle once
        state: dict[str, int] = {}
        stack: list[str] = []
        reported: set[frozenset[str]] = set()

        def visit(sid: str) -> None:
            state[sid] = 1
            stack.append(sid)
            step = by_id[sid]
            block = self.map.table("step", sid)
            subs = [c for c in (block.children if block else []) if c.name == "branch"]
            edges = [("next", step.next, self.map.key_line(block, "next"))]
            edges += [
                (
                    f"branch #{j + 1} goto",
                    b.goto,
                    self.map.key_line(subs[j] if j < len(subs) else block, "goto"),
                )
                for j, b in enumerate(step.branches)
            ]
            for fieldname, target, line in edges:
                if target not in by_id:
                    continue
                if state.get(target) == 1:
                    cycle = stack[stack.index(target) :] + [target]
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        self.problem(
                            line,
                            f'step "{sid}" {fieldname}',
                            "errors.playbook.cycle_flow",
                            value=" → ".join(cycle),
                        )
                elif target not in state:
                    visit(target)
            stack.pop()
            state[sid] = 2

        for s in [by_id[start]] + steps:
            if s.id not in state:
                visit(s.id)
        # reachability (only when every reference resolves: a typo would make everything after it "unreachable")
        if any(target not in by_id for s in steps for target in s.targets()):
            return
        reachable: set[str] = set()
        todo = [start]
        while todo:
            sid = todo.pop()
            if sid in reachable or sid not in by_id:
                continue
            reachable.add(sid)
            todo.extend(by_id[sid].targets())
        for s in steps:
            if s.id not in reachable:
                block = self.map.table("step", s.id)
                self.problem(
                    block.start if block else 1, f'step "{s.id}"', "errors.playbook.step_never_reached_start"
                )


# ---------------------------------------------------------------- public API


def parse_playbook(text: str, source: str = "<playbook>", *, check_actions: bool = True) -> Playbook:
    """Read and check a playbook; raise :class:`PlaybookInvalid` listing every problem."""
    reader = _Reader(text, source, check_actions)
    playbook = reader.read()
    if playbook is None:
        raise PlaybookInvalid(source, reader.problems)
    return playbook


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
        suggest_ref=_suggest(ref, ids),
        value=", ".join(ids),
    )


def suggest_playbook_id(pollutant_class: str | None, directory: Path = PLAYBOOK_DIR) -> str:
    """The shipped playbook for an incident's pollutant class (the general river spill flow by default)."""
    for pb in list_playbooks(directory):
        if pollutant_class and pollutant_class in pb.applies_to:
            return pb.id
    return DEFAULT_PLAYBOOK
