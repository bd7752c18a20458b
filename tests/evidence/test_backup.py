"""Backup: one file per incident with its chain; import verifies everything before writing."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest
from sqlalchemy import func
from sqlmodel import select

from incident.cli import main
from incident.core import log, signing
from incident.core.errors import UserError
from incident.core.signing import acting_as
from incident.core.store.engine import open_store, session_scope
from incident.core.store.tables import Incident, LogEntry, Reach, Result
from incident.evidence import backup, integrity
from tests.evidence.evidence import log_other_evidence, log_result, start_playbook


@pytest.fixture
def source(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        for i, v in enumerate([0.3, 1.2, 0.04]):
            log_result(s, demo_code, f"S{i + 1}-R1", v)
        log_other_evidence(s, demo_code)
        start_playbook(s, demo_code)
    return demo_engine, demo_code


def table_counts(engine) -> dict[str, int]:
    with sqlite3.connect(engine.url.database) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def export(engine, code, path):
    with session_scope(engine) as s:
        return backup.export_incident(s, code, path)


def test_round_trip_sqlite_to_sqlite(source, tmp_path, capsys):
    engine, code = source
    path = tmp_path / "inc.jsonl"
    db = f"sqlite:///{engine.url.database}"
    assert main(["--db", db, "backup", "export", code, "-o", str(path)]) == 0
    out = capsys.readouterr().out
    header = json.loads(path.read_text().splitlines()[0])
    assert header["chain_head"]["hash"] in out  # the export carries (and prints) the chain head
    with session_scope(engine) as s:
        assert header["chain_head"] == integrity.chain_head(s, code)

    target = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    assert main(["--db", target, "backup", "import", str(path)]) == 0
    restored = open_store(target)
    with session_scope(restored) as s:
        report = integrity.verify(s, code)
        assert report.ok and report.rows_checked["result"] == 3
        assert integrity.chain_head(s, code) == header["chain_head"]
        assert s.exec(select(func.count()).select_from(Reach)).one() == 14  # the river travelled along
        values = sorted(r.value for r in s.exec(select(Result)))
        imported = s.exec(select(LogEntry).where(LogEntry.kind == "backup.imported")).one()
        assert code in imported.summary
    with session_scope(engine) as s:
        original = sorted(r.value for r in s.exec(select(Result)))
    assert values == original
    counts = table_counts(restored)
    source_counts = table_counts(engine)
    for table in ("stepstate", "playbookrun", "checkin", "report", "sample", "result", "custodytransfer"):
        assert counts[table] == source_counts[table] > 0, table
    # the app carries on in the restored database: new evidence gets fresh ids
    with session_scope(restored) as s:
        log_result(s, code, "S4-R1", 0.9)
    with session_scope(restored) as s:
        assert integrity.verify(s).ok
    restored.dispose()


def test_import_refuses_a_tampered_file_and_writes_nothing(source, tmp_path, capsys):
    engine, code = source
    path = tmp_path / "inc.jsonl"
    export(engine, code, path)
    lines = path.read_text().splitlines()
    i = next(n for n, line in enumerate(lines) if json.loads(line).get("table") == "result")
    row = json.loads(lines[i])
    row["row"]["value"] = 0.001
    lines[i] = json.dumps(row)
    # the forger also fixes the checksum line: only the chain can tell
    body = "".join(line + "\n" for line in lines[:-1])
    import hashlib

    lines[-1] = json.dumps(
        {"end": {"rows": len(lines) - 2, "sha256": hashlib.sha256(body.encode()).hexdigest()}}
    )
    path.write_text("\n".join(lines) + "\n")

    target = tmp_path / "restored.sqlite"
    assert main(["--db", f"sqlite:///{target}", "backup", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"result id {row['row']['id']}" in err and "nothing was imported" in err
    restored = open_store(f"sqlite:///{target}")
    with session_scope(restored) as s:
        assert s.exec(select(func.count()).select_from(Incident)).one() == 0
        assert s.exec(select(func.count()).select_from(LogEntry)).one() == 0
    restored.dispose()


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda lines: lines[:-1], "truncated"),
        (lambda lines: lines[:-3] + lines[-1:], "checksum"),
        (lambda lines: [lines[0].replace('"version":1', '"version":9')] + lines[1:], "version"),
        (lambda lines: ["{not json"] + lines[1:], "line 1 is not valid JSON"),
        (lambda lines: [], "the file is empty"),
        (lambda lines: lines[1:], "not an incident backup"),
    ],
)
def test_damaged_files_are_refused_clearly(source, tmp_path, damage, message):
    engine, code = source
    path = tmp_path / "inc.jsonl"
    export(engine, code, path)
    path.write_text("\n".join(damage(path.read_text().splitlines())) + "\n")
    with pytest.raises(UserError, match=message):
        backup.read_backup(path)


def test_import_refuses_when_ids_are_taken(source, tmp_path, capsys):
    engine, code = source
    path = tmp_path / "inc.jsonl"
    export(engine, code, path)
    db = f"sqlite:///{engine.url.database}"
    assert main(["--db", db, "backup", "import", str(path)]) == 2
    assert "already in this database" in capsys.readouterr().err
    other = tmp_path / "other.sqlite"
    other_engine = open_store(f"sqlite:///{other}")
    from incident.demo.seed import ensure_demo

    ensure_demo(other_engine)  # its own incident INC-…-0001 and river: same ids, different rows
    with session_scope(other_engine) as s:
        s.exec(select(Incident)).one().code = "INC-1999-0001"
    with pytest.raises(UserError, match="already used by a different row|already in this database"):
        with session_scope(other_engine) as s:
            backup.import_backup(s, path, actor="tester")
    other_engine.dispose()


def test_export_refuses_a_broken_trail_and_an_existing_file(source, tmp_path):
    engine, code = source
    path = tmp_path / "inc.jsonl"
    path.write_text("keep me")
    with pytest.raises(UserError, match="already exists"):
        export(engine, code, path)
    assert path.read_text() == "keep me"
    engine.dispose()
    conn = sqlite3.connect(engine.url.database)
    conn.execute("DROP TRIGGER guard_result_update")
    conn.execute("UPDATE result SET value = 9")
    conn.commit()
    conn.close()
    with pytest.raises(UserError, match="evidence trail .* is broken"):
        export(engine, code, tmp_path / "other.jsonl")


@pytest.mark.postgres
def test_round_trip_sqlite_to_postgres(source, tmp_path, pg_fresh_url):
    engine, code = source
    path = tmp_path / "inc.jsonl"
    export(engine, code, path)
    target = open_store(pg_fresh_url)
    with session_scope(target) as s:
        backup.import_backup(s, path, actor="tester")
    with session_scope(target) as s:
        assert integrity.verify(s, code).ok
        log_result(s, code, "S9-R1", 0.5)  # sequences were moved past the imported ids
    with session_scope(target) as s:
        assert integrity.verify(s).ok
    target.dispose()


# ---------------------------------------------------------------- signed incidents (issue 18)


@pytest.fixture
def signed_backup(demo_engine, demo_code, demo_people, tmp_path):
    """The demo incident with results signed by Ann Author, exported; and its verify report."""
    with acting_as(demo_people["Ann Author"]):
        for i, v in enumerate([0.3, 1.2]):
            with session_scope(demo_engine) as s:
                log_result(s, demo_code, f"S{i + 1}-R1", v)
    with session_scope(demo_engine) as s:
        source_report = integrity.verify(s, demo_code)
    assert source_report.ok and source_report.signed >= 4, source_report.problems
    path = tmp_path / "signed.jsonl"
    export(demo_engine, demo_code, path)
    return path, demo_code, source_report


def fresh_store(tmp_path, name="restored.sqlite"):
    return open_store(f"sqlite:///{tmp_path / name}")


def test_a_signed_incident_imported_into_a_fresh_store_verifies(signed_backup, tmp_path):
    path, code, source_report = signed_backup
    target = fresh_store(tmp_path)
    with session_scope(target) as s:
        backup.import_backup(s, path, actor="restorer")
    with session_scope(target) as s:
        report = integrity.verify(s, code)
        everything = integrity.verify(s)
        registry = signing.registry(s)
    assert report.ok, [p.render() for p in report.problems]
    assert everything.ok, [p.render() for p in everything.problems]
    # every signature checked, none waved through as legacy
    assert report.signed == source_report.signed and report.legacy_unsigned == source_report.legacy_unsigned
    assert not registry.accounts  # the carried keys check signatures; they give nobody a role here


def _rewrite(path, edit) -> None:
    """Edit a backup's rows and re-seal its trailer, as a forger who read the format would."""
    lines = path.read_text().splitlines()
    items = [json.loads(line) for line in lines[1:-1]]
    edit(items)
    body = [lines[0]] + [log.canonical_json(i) for i in items]
    digest = hashlib.sha256("".join(line + "\n" for line in body).encode()).hexdigest()
    body.append(log.canonical_json({"end": {"rows": len(items), "sha256": digest}}))
    path.write_text("".join(line + "\n" for line in body))


def _flip(hex_text: str) -> str:
    return ("1" if hex_text[0] != "1" else "2") + hex_text[1:]


def _signed_entry(items) -> dict:
    return next(i["row"] for i in items if i["role"] == "incident" and i["row"].get("signature"))


def _account_entry(items) -> dict:
    return next(
        i["row"] for i in items if i["role"] == "account" and "Ann Author" in i["row"]["payload_json"]
    )


@pytest.mark.parametrize(
    ("what", "tamper", "message"),
    [
        ("one byte of the file", None, "was changed"),
        ("a signature", lambda items: _signed_entry(items).update(signature=_flip(_signed_entry(items)["signature"])), "signatures do not verify"),
        ("an account's public key", lambda items: _account_entry(items).update(payload_json=_account_entry(items)["payload_json"].replace('"public_key":"', '"public_key":"0')), "signatures do not verify"),
        ("the carried accounts left out", lambda items: items.__setitem__(slice(None), [i for i in items if i["role"] != "account"]), "no account entries"),
    ],
    ids=["byte", "signature", "account-key", "no-accounts"],
)  # fmt: skip
def test_a_tampered_signed_backup_is_refused(signed_backup, tmp_path, what, tamper, message):
    path, code, _ = signed_backup
    if tamper is None:  # one byte: a digit of a logged value
        data = bytearray(path.read_bytes())
        at = data.index(b'"value":1.2') + len(b'"value":1.')
        data[at : at + 1] = b"3"
        path.write_bytes(bytes(data))
    else:
        _rewrite(path, tamper)
    target = fresh_store(tmp_path)
    with session_scope(target) as s, pytest.raises(UserError) as err:
        backup.import_backup(s, path, actor="restorer")
    assert message in err.value.render(), (what, err.value.render())
    with session_scope(target) as s:
        assert s.exec(select(func.count()).select_from(Incident)).one() == 0  # nothing was imported


def _by_hand(path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the append-only triggers dropped (someone editing the file)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn


def test_an_imported_signed_store_changed_afterwards_fails_verify(signed_backup, tmp_path):
    """Tamper one byte in the restored store: a result's value, then the carried key history."""
    path, code, _ = signed_backup
    target = fresh_store(tmp_path)
    with session_scope(target) as s:
        backup.import_backup(s, path, actor="restorer")
    target.dispose()
    conn = _by_hand(tmp_path / "restored.sqlite")
    conn.execute("UPDATE result SET value = 1.3 WHERE value = 1.2")
    conn.close()
    target = fresh_store(tmp_path)
    with session_scope(target) as s:
        problems = integrity.verify(s, code).problems
    target.dispose()
    assert any(p.kind != "chain" and "result" in p.render() for p in problems), [p.render() for p in problems]

    # and the key history recorded by the import cannot be swapped for another
    conn = _by_hand(tmp_path / "restored.sqlite")
    conn.execute("UPDATE result SET value = 1.2 WHERE value = 1.3")
    (payload,) = conn.execute("SELECT payload_json FROM logentry WHERE kind = 'backup.imported'").fetchone()
    conn.execute(
        "UPDATE logentry SET payload_json = ? WHERE kind = 'backup.imported'",
        (payload.replace('"public_key\\":\\"', '"public_key\\":\\"0', 1),),
    )
    conn.close()
    with session_scope(fresh_store(tmp_path)) as s:
        report = integrity.verify(s)
    assert not report.ok and "chain" in {p.kind for p in report.problems}, [
        p.render() for p in report.problems
    ]
