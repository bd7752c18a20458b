"""Report states: draft → reviewed (not by the author) → released (immutable); changes make version N+1."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlmodel import select

from incident.cli import main
from incident.core import log
from incident.core.errors import UserError
from incident.core.store import guards
from incident.core.store.engine import session_scope
from incident.core.store.tables import LogEntry, Report
from incident.evidence import integrity
from incident.reports import lifecycle as reports


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _strip_stamps(text: str) -> str:
    return re.sub(r"<!-- stamp:(\w+) -->.*?<!-- /stamp:\1 -->", "", text, flags=re.S)


@pytest.fixture
def drafted(records, as_of):
    engine, demo = records
    with session_scope(engine) as s:
        info = reports.draft_report(s, demo.code, "monitoring", actor="alice")
    return engine, demo.code, info.id


def _release(engine, code, rid, reviewer="bob", approver="chief"):
    with session_scope(engine) as s:
        reports.review_report(s, code, rid, reviewer=reviewer)
    with session_scope(engine) as s:
        return reports.release_report(s, code, rid, by=approver)


def test_review_by_the_author_is_refused(drafted):
    engine, code, rid = drafted
    for name in ("alice", " Alice "):
        with session_scope(engine) as s, pytest.raises(UserError, match="wrote report .* cannot also review"):
            reports.review_report(s, code, rid, reviewer=name)
    with session_scope(engine) as s:
        assert reports.get_report(s, code, rid).info.state == "draft"


def test_release_needs_a_review_first(drafted):
    engine, code, rid = drafted
    with session_scope(engine) as s, pytest.raises(UserError, match="must be reviewed before release"):
        reports.release_report(s, code, rid, by="chief")


def test_review_and_release_stamp_without_changing_the_content(drafted):
    engine, code, rid = drafted
    with session_scope(engine) as s:
        before = reports.get_report(s, code, rid)
    info = _release(engine, code, rid)
    with session_scope(engine) as s:
        after = reports.get_report(s, code, rid)
    assert info.state == "released" and info.reviewed_by == "bob" and info.released_by == "chief"
    assert _strip_stamps(after.html) == _strip_stamps(before.html)
    assert _strip_stamps(after.markdown) == _strip_stamps(before.markdown)
    assert "DRAFT v1" in before.html and "RELEASED v1" in after.html
    assert "bob" in after.html and "chief" in after.html
    # the hash is fixed at release and committed into the log chain
    assert info.content_sha256 == reports.content_hash(after.info.title, after.markdown, after.html)
    with session_scope(engine) as s:
        entries = log.entries(s, log.incident_chain(code))
        released = [e for e in entries if e.kind == "report.released"]
        assert len(released) == 1
        payload = json.loads(released[0].payload_json)
        assert payload["extra"]["content_sha256"] == info.content_sha256
        # committed as evidence (log.record), so verify checks the released text
        assert payload["table"] == "report" and payload["id"] == rid
        assert log.verify_chain(entries)[0]
    with session_scope(engine) as s:
        # (the fixture's own check-in rows are inserted directly, so only reports are judged here)
        report = integrity.verify(s, code)
        assert report.rows_checked.get("report") == 1
        assert [p for p in report.problems if p.where.startswith("report")] == []
        assert [e.kind for e in entries[-3:]] == ["report.drafted", "report.reviewed", "report.released"]
        assert log.verify_chain(entries)[0]


def test_a_released_report_cannot_be_edited_and_a_change_makes_version_2(drafted):
    engine, code, rid = drafted
    _release(engine, code, rid)
    with session_scope(engine) as s:
        v1 = reports.get_report(s, code, rid)
    for action in (
        lambda s: reports.edit_report(s, code, rid, actor="alice", inputs={"conclusions": "changed"}),
        lambda s: reports.review_report(s, code, rid, reviewer="bob"),
        lambda s: reports.release_report(s, code, rid, by="chief"),
    ):
        with (
            session_scope(engine) as s,
            pytest.raises(UserError, match="was released by chief .* cannot be changed"),
        ):
            action(s)
    with session_scope(engine) as s:
        v2 = reports.new_version(s, code, rid, actor="alice", inputs={"conclusions": "Revised after QC."})
    assert (v2.version, v2.number, v2.kind, v2.state, v2.supersedes_id) == (2, 1, "monitoring", "draft", rid)
    with session_scope(engine) as s:
        again = reports.get_report(s, code, rid)
        assert (again.markdown, again.html, again.info.content_sha256) == (
            v1.markdown,
            v1.html,
            v1.info.content_sha256,
        )
        assert "Revised after QC." in reports.get_report(s, code, v2.id).html
        # only the latest version can be revised
        with pytest.raises(UserError, match="not the latest version"):
            reports.new_version(s, code, rid, actor="alice")
    _release(engine, code, v2.id)
    with session_scope(engine) as s:
        listed = [(i.number, i.version, i.state) for i in reports.list_reports(s, code)]
    assert listed == [(1, 1, "released"), (1, 2, "released")]


def test_editing_a_reviewed_report_voids_the_review(drafted):
    engine, code, rid = drafted
    with session_scope(engine) as s:
        reports.review_report(s, code, rid, reviewer="bob")
    with session_scope(engine) as s:
        info = reports.edit_report(
            s, code, rid, actor="alice", inputs={"recommendations": "Close W1 intake."}
        )
    assert info.state == "draft" and info.reviewed_by is None
    with session_scope(engine) as s:
        content = reports.get_report(s, code, rid)
        last = log.entries(s, log.incident_chain(code))[-1]
    assert "Close W1 intake." in content.html and "DRAFT v1" in content.html
    assert last.kind == "report.edited" and "review voided" in last.summary


def test_summary_cannot_be_reviewed_without_lessons(records, as_of):
    engine, demo = records
    with session_scope(engine) as s:
        rid = reports.draft_report(s, demo.code, "summary", actor="alice").id
    with session_scope(engine) as s, pytest.raises(UserError, match="no lessons learned"):
        reports.review_report(s, demo.code, rid, reviewer="bob")
    with session_scope(engine) as s:
        reports.edit_report(s, demo.code, rid, actor="alice", inputs={"lessons": "Order more test tubes."})
    with session_scope(engine) as s:
        assert reports.review_report(s, demo.code, rid, reviewer="bob").state == "reviewed"


def test_export_writes_the_released_bytes_and_refuses_a_tampered_report(drafted, tmp_path):
    engine, code, rid = drafted
    _release(engine, code, rid)
    with session_scope(engine) as s:
        stored = reports.get_report(s, code, rid)
        reports.export_report(s, code, rid, tmp_path / "r.html", actor="alice")
        reports.export_report(s, code, rid, tmp_path / "r.md", actor="alice")
        with pytest.raises(UserError, match="end the file name in .html or .md"):
            reports.export_report(s, code, rid, tmp_path / "r.pdf", actor="alice")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == stored.html
    assert (tmp_path / "r.md").read_text(encoding="utf-8") == stored.markdown
    # someone drops the append-only triggers and edits the stored body behind the app's back
    with engine.begin() as conn:
        guards.uninstall(conn)
    with session_scope(engine) as s:
        row = s.get(Report, rid)
        row.body_html = row.body_html.replace("0.580", "0.058")
        s.add(row)
    with session_scope(engine) as s, pytest.raises(UserError, match="changed after its release"):
        reports.export_report(s, code, rid, tmp_path / "again.html", actor="alice")


def test_unknown_report_and_kind_are_refused(records, as_of):
    engine, demo = records
    with session_scope(engine) as s:
        with pytest.raises(UserError, match="unknown report kind 'weekly'"):
            reports.draft_report(s, demo.code, "weekly", actor="alice")
        with pytest.raises(UserError, match="has no report #999"):
            reports.get_report(s, demo.code, 999)


# ---------------------------------------------------------------- CLI


def test_cli_release_then_edit_exits_2_with_the_message(drafted, capsys, tmp_path):
    engine, code, rid = drafted
    db = ["--db", _url(engine)]
    assert main([*db, "--user", "alice", "report", "review", code, str(rid), "--by", "alice"]) == 2
    assert "cannot also review" in capsys.readouterr().err
    assert main([*db, "report", "review", code, str(rid), "--by", "bob"]) == 0
    capsys.readouterr()
    assert main([*db, "report", "release", code, str(rid), "--by", "chief", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["state"] == "released" and len(out["content_sha256"]) == 64
    assert main([*db, "--user", "alice", "report", "edit", code, str(rid), "--conclusions", "x"]) == 2
    err = capsys.readouterr().err
    assert (
        f"report #{rid}" in err
        and "cannot be changed" in err
        and f"incident report revise {code} {rid}" in err
    )
    assert main([*db, "--user", "alice", "report", "revise", code, str(rid), "--json"]) == 0
    v2 = json.loads(capsys.readouterr().out)
    assert v2["version"] == 2 and v2["supersedes_id"] == rid
    out_file = tmp_path / "v1.html"
    assert main([*db, "report", "export", code, str(rid), "-o", str(out_file)]) == 0
    assert "RELEASED v1" in out_file.read_text(encoding="utf-8")
    assert main([*db, "report", "list", code]) == 0
    listing = capsys.readouterr().out
    assert "released" in listing and "draft" in listing


def test_cli_draft_in_chinese_to_a_file(records, tmp_path, capsys):
    engine, demo = records
    target = tmp_path / "flash.md"
    notes = tmp_path / "next.md"
    notes.write_text("通知西山水厂做好停水准备。", encoding="utf-8")
    code = main(
        [
            "--db",
            _url(engine),
            "report",
            "draft",
            demo.code,
            "--kind",
            "flash",
            "--lang",
            "zh",
            "--next-steps",
            f"@{notes}",
            "-o",
            str(target),
        ]
    )
    assert code == 0
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# 应急监测快报(第1期)") and "通知西山水厂做好停水准备。" in text
    assert (
        main(
            [
                "--db",
                _url(engine),
                "report",
                "draft",
                demo.code,
                "--kind",
                "flash",
                "--notes",
                f"@{tmp_path / 'missing.md'}",
            ]
        )
        == 2
    )
    assert "cannot read the file" in capsys.readouterr().err
    with session_scope(engine) as s:
        kinds = [e.kind for e in s.exec(select(LogEntry).where(LogEntry.kind.like("report.%")))]
    assert kinds == ["report.drafted"]  # the refused draft left nothing behind
    assert Path(target).exists()
