"""The pydantic input layer reads every shipped playbook into the same Playbook as the hand-written reader did.

``data/shipped_before_pydantic.json`` was dumped from main's loader (``incident/playbook/formats.py`` before
the move to ``incident/playbook/inputs.py``): every field of every phase, role, step, checklist item, form
field, choice, action and branch, and the text's sha256. The file name and the text itself are left out
(the path differs between checkouts; the hash stands for the text).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from incident.playbook.formats import load_playbook_file, shipped_files

BEFORE = json.loads(
    (Path(__file__).parent / "data" / "shipped_before_pydantic.json").read_text(encoding="utf-8")
)


def _dump(path: Path) -> object:
    found = dataclasses.asdict(load_playbook_file(path))
    found.pop("text")
    found.pop("source")
    return json.loads(json.dumps(found, ensure_ascii=False))  # tuples as lists, as the dump has them


def test_the_dump_covers_every_shipped_playbook():
    assert sorted(BEFORE) == sorted(p.name for p in shipped_files())


@pytest.mark.parametrize("path", shipped_files(), ids=lambda p: p.stem)
def test_a_shipped_playbook_loads_as_before(path):
    before, now = BEFORE[path.name], _dump(path)
    assert now["sha256"] == before["sha256"], "the shipped file changed: take a new dump from main"
    assert now == before
    assert len(now["steps"]) > 10 and any(s["branches"] for s in now["steps"])  # the dump is not trivial
