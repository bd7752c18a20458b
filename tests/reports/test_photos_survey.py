"""Photos kept as evidence (content-addressed copy, SHA-256 in the log) and the HJ 589 Appendix A survey record."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from pathlib import Path

import pytest
from sqlmodel import select

from incident.cli import main
from incident.core.errors import UserError
from incident.core.store.engine import session_scope
from incident.core.store.tables import Incident, LogEntry
from incident.reports import add_photo, check_photo_files, list_photos, set_survey, survey_form
from incident.reports import lifecycle as reports
from incident.reports.photos import MAX_PHOTO_BYTES
from incident.reports.survey_fields import FIELDS


def png(path: Path, rgb: tuple[int, int, int] = (200, 30, 30)) -> Path:
    """A real 2×2 PNG (valid chunks and CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(rgb) * 2 for _ in range(2))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


def db_of(engine) -> str:
    return f"sqlite:///{engine.url.database}"


def test_photo_is_copied_under_its_hash_logged_and_verify_still_passes(
    demo_engine, demo_code, tmp_path, capsys
):
    photo = png(tmp_path / "IMG_0001.png")
    expected = hashlib.sha256(photo.read_bytes()).hexdigest()
    db = db_of(demo_engine)
    rc = main(["--db", db, "--user", "Li Wei", "photo", "add", demo_code, str(photo), "--caption", "outfall, left bank", "--json"])  # fmt: skip
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    kept = Path(out["path"])
    # content-addressed, in the store's data folder, byte for byte
    assert kept == Path(demo_engine.url.database).parent / "attachments" / demo_code / f"{expected}.png"
    assert kept.read_bytes() == photo.read_bytes()
    assert out["sha256"] == expected and out["caption"] == "outfall, left bank"
    with session_scope(demo_engine) as s:
        entry = s.exec(select(LogEntry).where(LogEntry.kind == "photo.added")).one()
        payload = json.loads(entry.payload_json)
        assert entry.actor == "Li Wei"
        assert payload["table"] == "attachment" and payload["extra"]["sha256"] == expected
        assert check_photo_files(s, demo_code) == []
    assert main(["--db", db, "verify", demo_code]) == 0
    assert main(["--db", db, "photo", "list", demo_code]) == 0
    assert "outfall, left bank" in capsys.readouterr().out
    # a kept file changed on disk no longer matches the hash the log holds: verify says so
    kept.write_bytes(kept.read_bytes() + b"x")
    with session_scope(demo_engine) as s:
        (problem,) = check_photo_files(s, demo_code)
    assert "does not match its SHA-256" in problem
    capsys.readouterr()
    assert main(["--db", db, "verify", demo_code]) == 1
    assert "photo file: photo #" in capsys.readouterr().out
    assert main(["--db", db, "verify", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["photo_files"] == [problem]


def test_photo_refusals_say_what_is_wrong(demo_engine, demo_code, tmp_path, capsys):
    db = db_of(demo_engine)
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture, whatever its name says")
    assert main(["--db", db, "photo", "add", demo_code, str(text)]) == 2
    assert "notes.jpg is not an image" in capsys.readouterr().err
    huge = tmp_path / "huge.png"
    with huge.open("wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
        fh.truncate(MAX_PHOTO_BYTES + 1)  # sparse: no 25 MB written
    assert main(["--db", db, "photo", "add", demo_code, str(huge)]) == 2
    err = capsys.readouterr().err
    assert "huge.png is 25.0 MB: over the 25 MB" in err and "fix:" in err
    assert main(["--db", db, "photo", "add", demo_code, str(tmp_path / "missing.jpg")]) == 2
    assert "no file" in capsys.readouterr().err
    ok = png(tmp_path / "a.png")
    with session_scope(demo_engine) as s:
        add_photo(s, demo_code, ok, actor="t")
    with session_scope(demo_engine) as s, pytest.raises(UserError, match="already attached"):
        add_photo(s, demo_code, ok, actor="t")
    with session_scope(demo_engine) as s, pytest.raises(UserError, match="no sampling point Z9"):
        add_photo(s, demo_code, png(tmp_path / "b.png", (1, 2, 3)), actor="t", point="Z9")
    with session_scope(demo_engine) as s:
        assert len(list_photos(s, demo_code)) == 1
    # in Chinese too
    assert main(["--db", db, "--lang", "zh", "photo", "add", demo_code, str(text)]) == 2
    assert "不是图像" in capsys.readouterr().err


def test_survey_has_every_appendix_a_field_filled_from_the_incident(demo_engine, demo_code, capsys):
    db = db_of(demo_engine)
    assert main(["--db", db, "survey", "show", demo_code, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert list(shown["fields"]) == list(FIELDS)
    with session_scope(demo_engine) as s:
        inc = s.exec(select(Incident).where(Incident.code == demo_code)).one()
        lat, lon, mass, substance, medium = (
            inc.source_lat,
            inc.source_lon,
            inc.mass_kg,
            inc.substance,
            inc.medium,
        )
    f = {k: v["value"] for k, v in shown["fields"].items()}
    src = {k: v["source"] for k, v in shown["fields"].items()}
    assert f["coordinates"].startswith(f"{lat:.6f}, {lon:.6f}")
    assert (
        f["amount_lost"] == f"{mass:g} kg" and f["pollutants"].startswith(substance) and f["media"] == medium
    )
    assert f["water_body"] and f["location"].startswith(f["water_body"]) and f["discharge_m3s"]
    assert f["sensitive_receptors"] and f["properties"] and f["incident_time"]
    assert all(
        src[k] == "incident" for k in ("coordinates", "amount_lost", "water_body", "sensitive_receptors")
    )
    assert "wind" in shown["missing"] and "initial_judgement" in shown["missing"]


def test_survey_set_enters_fields_keeps_revisions_and_refuses_bad_input(demo_engine, demo_code, capsys):
    db = db_of(demo_engine)
    args = ["--db", db, "--user", "Zhang Min", "survey", "set", demo_code]
    assert main([*args, "--wind", "NE 3 m/s", "--temperature-c", "12.50", "--surveyor", "Zhang Min"]) == 0
    capsys.readouterr()
    assert main([*args, "--appearance", "milky band along the left bank", "--amount-lost", "about 8 t", "--json"]) == 0  # fmt: skip
    shown = json.loads(capsys.readouterr().out)
    fields = shown["fields"]
    assert shown["revision"] == 2 and shown["recorded_by"] == "Zhang Min"
    assert fields["wind"] == {"value": "NE 3 m/s", "source": "entered"}  # kept from revision 1
    assert fields["temperature_c"]["value"] == "12.5"
    assert fields["amount_lost"] == {"value": "about 8 t", "source": "entered"}  # an entered value wins
    assert main([*args, "--temperature-c", "warm"]) == 2
    assert "'warm' is not a number" in capsys.readouterr().err
    assert main(["--db", db, "survey", "set", demo_code]) == 2
    assert "nothing to set" in capsys.readouterr().err
    with session_scope(demo_engine) as s, pytest.raises(UserError, match="no field photos"):
        set_survey(s, demo_code, {"photos": "x"}, actor="t")
    with session_scope(demo_engine) as s:
        assert survey_form(s, demo_code).value("wind") == "NE 3 m/s"  # refusals changed nothing
        kinds = [e.kind for e in s.exec(select(LogEntry).where(LogEntry.kind == "survey.recorded"))]
    assert kinds == ["survey.recorded", "survey.recorded"]
    assert main(["--db", db, "verify", demo_code]) == 0


def test_monitoring_report_has_the_survey_and_shows_the_photos_offline(records, tmp_path):
    engine, demo = records
    with session_scope(engine) as s:
        set_survey(s, demo.code, {"wind": "NE 3 m/s", "odour": "bitter almonds"}, actor="surveyor")
        photo = add_photo(s, demo.code, png(tmp_path / "bank.png"), actor="surveyor", caption="oily sheen")
        rid = reports.draft_report(s, demo.code, "monitoring", actor="alice").id
        content = reports.get_report(s, demo.code, rid)
    for body in (content.markdown, content.html):
        assert "field survey record (HJ 589-2021 Appendix A)" in body
        assert "NE 3 m/s" in body and "bitter almonds" in body and "oily sheen" in body
        assert photo.sha256 in body
    assert f'<img src="photos/{photo.stored_name}"' in content.html
    assert f"](photos/{photo.stored_name})" in content.markdown
    with session_scope(engine) as s:
        out = reports.export_report(s, demo.code, rid, tmp_path / "out" / "report.html", actor="alice")
    beside = out.parent / "photos" / photo.stored_name
    assert beside.read_bytes() == photo.path.read_bytes()
    assert hashlib.sha256(beside.read_bytes()).hexdigest() == photo.sha256


def test_a_photo_hash_changed_behind_the_apps_back_fails_verify(demo_engine, demo_code, tmp_path):
    import sqlite3

    with session_scope(demo_engine) as s:
        add_photo(s, demo_code, png(tmp_path / "p.png"), actor="t")
    db = db_of(demo_engine)
    assert main(["--db", db, "verify"]) == 0
    demo_engine.dispose()
    with sqlite3.connect(demo_engine.url.database) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("UPDATE attachment SET sha256 = ?", ("0" * 64,))
    assert main(["--db", db, "verify"]) == 1


def test_the_survey_reads_in_chinese_in_the_report_and_the_cli(records, capsys):
    engine, demo = records
    with session_scope(engine) as s:
        set_survey(s, demo.code, {"wind": "东北风 3 m/s"}, actor="surveyor")
        rid = reports.draft_report(s, demo.code, "monitoring", actor="alice", lang="zh").id
        content = reports.get_report(s, demo.code, rid)
    assert "现场调查记录(HJ 589-2021 附录 A)" in content.html
    assert "风向风速" in content.html and "东北风 3 m/s" in content.html and "来自事件" in content.html
    assert main(["--db", db_of(engine), "--lang", "zh", "survey", "show", demo.code]) == 0
    out = capsys.readouterr().out
    assert out.startswith("现场调查记录（HJ 589-2021 附录 A）") and "东北风 3 m/s" in out and "第 1 版" in out
