"""The exercise marker on every page and section; the ICS 214 export carries every entry and the chain head."""

from __future__ import annotations

import csv
import io
import re

import pytest

from incident.cli import main
from incident.core import log
from incident.core.store import guards
from incident.core.store.engine import session_scope
from incident.reports import lifecycle as reports
from incident.reports.ics214 import build_ics214, render
from incident.reports.render import EXERCISE_MARK
from tests.reports.helpers import XHTML, by_class, check_html, text_of


def _all_kinds(engine, code, lang):
    out = []
    with session_scope(engine) as s:
        for kind in ("flash", "monitoring", "summary"):
            info = reports.draft_report(s, code, kind, actor="alice", lang=lang)
            out.append(reports.get_report(s, code, info.id))
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_exercise_marker_on_every_page_and_section(exercise_records, as_of, lang):
    engine, demo = exercise_records
    for content in _all_kinds(engine, demo.code, lang):
        root = check_html(content.html)
        # a fixed banner top and bottom: repeated on every printed page
        banners = by_class(root, XHTML + "div", "exercise-banner")
        assert len(banners) == 2 and all(EXERCISE_MARK in text_of(b) for b in banners)
        assert re.search(r"\.exercise-banner \{ position: fixed;", content.html)
        sections = list(root.iter(XHTML + "section"))
        assert sections
        for sec in sections:
            marks = by_class(sec, XHTML + "p", "exercise-mark")
            assert marks and text_of(marks[0]) == EXERCISE_MARK, sec.get("id")
        # Markdown: first line, under every section heading, and the footer
        lines = content.markdown.rstrip().splitlines()
        assert EXERCISE_MARK in lines[0] and EXERCISE_MARK in lines[-1]
        for i, line in enumerate(lines):
            if line.startswith("## "):
                assert EXERCISE_MARK.replace("[", "") in lines[i + 2].replace("\\", ""), line


def test_no_exercise_marker_on_a_real_incident(records, as_of):
    engine, demo = records
    for content in _all_kinds(engine, demo.code, "zh"):
        assert EXERCISE_MARK not in content.html and "exercise-banner exercise-top" not in content.html
        assert EXERCISE_MARK not in content.markdown
        assert "演练" not in content.markdown


def test_ics214_contains_every_entry_and_the_chain_head(records, as_of):
    engine, demo = records
    with session_scope(engine) as s:
        entries = log.entries(s, log.incident_chain(demo.code))
        form = build_ics214(s, demo.code, prepared_by="alice", position="Monitoring Section Chief")
    assert len(entries) == demo.n_log_entries
    head = entries[-1].hash
    assert form.head == head and form.verified

    md = render(form, "ics214-md")
    html = render(form, "ics214-html", "zh")
    root = check_html(html)
    rows = root.find(f".//{XHTML}table[@class='activity']/{XHTML}tbody").findall(XHTML + "tr")
    assert [r.get("id") for r in rows] == [f"entry-{e.seq}" for e in entries]
    for e in entries:
        assert e.summary in md
        assert e.summary in text_of(rows[e.seq - 1])
    assert head in md and head in html
    assert "ACTIVITY LOG (ICS 214)" in md and "工作日志(ICS 214)" in html
    assert "Monitoring Section Chief" in md
    # resources assigned: members of the two crews sent out
    assert form.resources and "Crew A" in md

    text = render(form, "csv")
    assert text.startswith("\ufeff")
    parsed = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [int(r["seq"]) for r in parsed] == [e.seq for e in entries]
    assert parsed[-1]["hash"] == head
    assert all(parsed[i]["prev_hash"] == parsed[i - 1]["hash"] for i in range(1, len(parsed)))


def test_ics214_of_an_exercise_is_marked(exercise_records, as_of):
    engine, demo = exercise_records
    with session_scope(engine) as s:
        form = build_ics214(s, demo.code, prepared_by="alice")
    md = render(form, "ics214-md")
    assert md.splitlines()[0] == f"**{EXERCISE_MARK}**"
    assert EXERCISE_MARK in md.rstrip().splitlines()[-1]
    root = check_html(render(form, "ics214-html"))
    assert len(by_class(root, XHTML + "div", "exercise-banner")) == 2


def test_ics214_shows_a_broken_chain(records, as_of):
    engine, demo = records
    with engine.begin() as conn:
        guards.uninstall(conn)  # someone drops the append-only triggers, then edits
    with session_scope(engine) as s:
        e = log.entries(s, log.incident_chain(demo.code))[2]
        e.summary = "rewritten"
        s.add(e)
    with session_scope(engine) as s:
        form = build_ics214(s, demo.code, prepared_by="alice")
    assert not form.verified
    assert "VERIFICATION FAILED" in render(form, "ics214-md")


def test_cli_log_export(records, as_of, tmp_path, capsys):
    engine, demo = records
    db = ["--db", engine.url.render_as_string(hide_password=False)]
    with session_scope(engine) as s:
        head = log.head(s, log.incident_chain(demo.code)).hash
    for name, fmt in (("a.html", None), ("a.md", "ics214-md"), ("a.csv", "csv")):
        args = [*db, "log", "export", demo.code, "-o", str(tmp_path / name)]
        if fmt:
            args += ["--format", fmt]
        assert main(args) == 0, capsys.readouterr().err
        assert head in (tmp_path / name).read_text(encoding="utf-8")
        out = capsys.readouterr().out
        assert "written:" in out
        with session_scope(engine) as s:
            head = log.head(s, log.incident_chain(demo.code)).hash  # the export itself is logged
    assert main([*db, "log", "export", demo.code, "-o", str(tmp_path / "a.pdf")]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    assert main([*db, "log", demo.code]) == 0  # the plain listing still works
    assert "log.exported" in capsys.readouterr().out
