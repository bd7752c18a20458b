"""Every export path of an exercise, run through the CLI as a user would: the file's name carries
EXERCISE and so does its first line (or its heading); what goes to stdout starts with it (issue 17)."""

from __future__ import annotations

import json

import pytest

from incident.cli import main
from incident.core.store.engine import session_scope
from incident.sampling import check_in
from tests.drills.conftest import propose


def _run(engine, *argv, user="controller"):
    return main(["--db", str(engine.url), "--user", user, *argv])


def _first_line(path):
    text = path.read_text(encoding="utf-8").lstrip("\ufeff").lstrip()
    return text.splitlines()[0]


@pytest.fixture
def exercise(demo_engine, drill):
    propose(demo_engine, drill)
    with session_scope(demo_engine) as s:
        check_in(s, drill, "A", actor="player")
    return demo_engine, drill


def test_every_export_path_of_an_exercise_says_exercise(exercise, tmp_path, capsys):
    engine, code = exercise
    files = {
        "ics214.csv": ["log", "export", code, "-o", "{out}"],
        "ics211.csv": ["crew", "ics211", code, "-o", "{out}"],
        "ics211.md": ["crew", "ics211", code, "-o", "{out}"],
        "proposal.md": ["terminate", "check", code, "--out", "{out}"],
        "plan.geojson": ["export", "geojson", code, "--at", "2", "-o", "{out}"],
        "aar.md": ["drill", "aar", code, "-o", "{out}"],
        "backup.jsonl": ["backup", "export", code, "-o", "{out}"],
        "draft.md": ["report", "draft", code, "--kind", "flash", "-o", "{out}"],
        "draft.html": ["report", "draft", code, "--kind", "monitoring", "-o", "{out}"],
    }
    for name, argv in files.items():
        out = tmp_path / name
        rc = _run(engine, *[a.replace("{out}", str(out)) for a in argv])
        capsys.readouterr()
        written = tmp_path / f"EXERCISE-{name}"
        assert rc in (0, 1) and written.exists() and not out.exists(), (
            name,
            rc,
            sorted(p.name for p in tmp_path.iterdir()),
        )
        first = _first_line(written)
        if name.endswith(".jsonl"):  # one JSON header line: marked
            assert json.loads(first).get("exercise") is True and "EXERCISE" in first, name
        elif name.endswith(".geojson"):  # the collection's own members, before its features
            doc = json.loads(written.read_text(encoding="utf-8"))
            top = {k: v for k, v in doc.items() if k != "features"}
            assert doc.get("exercise") is True and "EXERCISE" in json.dumps(top), top
        elif name.endswith(".html"):  # the banner is the first thing in its body
            text = written.read_text(encoding="utf-8")
            body = text.split("<body", 1)[1].split(">", 1)[1].lstrip()
            assert body.startswith('<div class="exercise-banner') and "EXERCISE" in body.splitlines()[0]
        else:
            assert "EXERCISE" in first, (name, first)
    # the backup still reads back whole (the mark is part of the hashed content)
    from incident.evidence.backup import read_backup

    header, rows = read_backup(tmp_path / "EXERCISE-backup.jsonl")
    assert header["code"] == code and rows
    # a report kept in the store, exported
    with session_scope(engine) as s:
        from incident.reports import list_reports

        report_id = list_reports(s, code)[0].id
    for name in ("report.md", "report.html"):
        assert _run(engine, "report", "export", code, str(report_id), "-o", str(tmp_path / name)) == 0
        written = tmp_path / f"EXERCISE-{name}"
        assert written.exists() and not (tmp_path / name).exists()
        text = written.read_text(encoding="utf-8")
        if name.endswith(".md"):
            assert "EXERCISE" in _first_line(written)
        else:
            body = text.split("<body", 1)[1].split(">", 1)[1].lstrip()
            assert body.startswith('<div class="exercise-banner') and "EXERCISE" in body.splitlines()[0]
    capsys.readouterr()
    # ICS 204 to stdout: its first line
    for flag in ("--csv", "--md"):
        _run(engine, "assign", code, flag, "--skip-kit-check", "--search-seconds", "0")
        assert capsys.readouterr().out.lstrip("\ufeff").splitlines()[0].lstrip("*").startswith("EXERCISE"), (
            flag
        )
