"""Sealed chain heads (issue 18): a rechain that plain verify cannot see is caught against a seal."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from incident.cli import main
from incident.core import log, signing
from incident.core.clock import utcnow
from incident.core.errors import UserError
from incident.core.incidents import NewIncident, create_incident
from incident.core.store.engine import session_scope
from incident.evidence import (
    countersign_file,
    read_seal_file,
    seal_chain,
    seal_heads,
    verify,
    write_seal_file,
)
from tests.identities import acting_as


def _story(engine, person=None, notes=5) -> str:
    with acting_as(person), session_scope(engine) as s:
        code = create_incident(
            s, NewIncident(title="spill", alert_at=utcnow() - timedelta(hours=1)), actor="t"
        ).code
        for i in range(notes):
            log.append(s, chain=log.incident_chain(code), actor="t", kind="note", summary=f"note {i}")
    return code


def _rechain(engine, code, *, seq=2, people=None):
    """Edit entry ``seq`` and recompute (and, for an insider holding the keys, re-sign) every later one."""
    path = engine.url.database
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    with session_scope(engine) as s:
        rows = log.entries(s, log.incident_chain(code))
    prev = log.GENESIS_HASH
    for row in rows:
        summary = row.summary + " (quietly edited)" if row.seq == seq else row.summary
        digest = log.entry_hash(
            prev, chain=row.chain, seq=row.seq, at=row.at, actor=row.actor, position=row.position,
            kind=row.kind, incident_id=row.incident_id, summary=summary, payload_json=row.payload_json,
        )  # fmt: skip
        signature = row.signature
        if people and row.signer:
            signature = people[row.signer].sign(signing.entry_message(digest, row.signer, row.key_id))
        conn.execute(
            "UPDATE logentry SET summary=?, prev_hash=?, hash=?, signature=? WHERE id=?",
            (summary, prev, digest, signature, row.id),
        )
        prev = digest
    conn.close()


def test_a_rechain_passes_plain_verify_but_fails_verify_sealed(engine, tmp_path, capsys):
    code = _story(engine)  # a legacy store: nobody signs, so only a seal can catch the rechain
    with session_scope(engine) as s:
        seal = seal_chain(s, log.incident_chain(code))
    path = write_seal_file(tmp_path / "heads.json", [seal])
    _rechain(engine, code)
    with session_scope(engine) as s:
        assert verify(s, code).ok  # consistent rechain: the chain alone looks intact
        report = verify(s, code, sealed=read_seal_file(path))
    assert [(p.kind, p.message) for p in report.problems] == [
        ("sealed", "the entry's hash differs from the sealed one: the chain was rewritten (rechained)")
    ]
    db = engine.url.render_as_string(hide_password=False)
    assert main(["--db", db, "verify", code]) == 0
    assert main(["--db", db, "verify", code, "--sealed", str(path)]) == 1
    assert "rechained" in capsys.readouterr().out


def test_an_insider_holding_every_key_is_caught_by_the_seal_too(engine, people, tmp_path):
    ann = people["Ann Author"]
    code = _story(engine, ann)
    with acting_as(people["Lena Lead"]), session_scope(engine) as s:
        seals = seal_heads(s, code)
    _rechain(engine, code, people=people)
    with session_scope(engine) as s:
        assert verify(s, code).ok  # re-signed with the stolen keys: signatures verify
        report = verify(s, code, sealed=seals)
    assert [p.kind for p in report.problems] == ["sealed"]


def test_a_truncated_chain_fails_against_its_seal(engine, tmp_path):
    code = _story(engine)
    with session_scope(engine) as s:
        seal = seal_chain(s, log.incident_chain(code))
    path = engine.url.database
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER guard_logentry_delete")
    conn.execute("DELETE FROM logentry WHERE seq > 3 AND chain = ?", (log.incident_chain(code),))
    conn.close()
    with session_scope(engine) as s:
        report = verify(s, code, sealed=[seal])
    assert any("now ends at seq 3" in p.message for p in report.problems)


def test_countersigning_by_a_second_person(engine, people, tmp_path):
    code = _story(engine, people["Ann Author"])
    with acting_as(people["Lena Lead"]), session_scope(engine) as s:
        path = write_seal_file(tmp_path / "heads.json", seal_heads(s, code))
    with (
        acting_as(people["Lena Lead"]),
        session_scope(engine) as s,
        pytest.raises(UserError, match="second person"),
    ):
        countersign_file(s, path)
    with acting_as(people["Rita Reviewer"]), session_scope(engine) as s:
        assert countersign_file(s, path) == 1
    seals = read_seal_file(path)
    assert seals[0].countersignatures[0]["signer"] == "Rita Reviewer"
    with session_scope(engine) as s:
        assert verify(s, code, sealed=seals).ok
    # a countersignature or seal that was altered does not verify
    doc = json.loads(path.read_text())
    doc["seals"][0]["countersignatures"][0]["at"] = utcnow().isoformat()
    doc["seals"][0]["signer"] = "Rita Reviewer"
    path.write_text(json.dumps(doc))
    with session_scope(engine) as s:
        problems = [p.message for p in verify(s, code, sealed=read_seal_file(path)).problems]
    assert any("not signed by Rita Reviewer's registered key" in m for m in problems)
    assert any("countersignature of Rita Reviewer does not verify" in m for m in problems)
    with session_scope(engine) as s:
        kinds = [e.kind for e in log.entries(s, log.CENTRE_CHAIN)]
    assert "chain.sealed" in kinds and "chain.countersigned" in kinds


def test_the_cli_flow_bootstrap_login_seal_verify(tmp_path, monkeypatch, capsys):
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("INCIDENT_PASSPHRASE", "correct horse battery")
    monkeypatch.delenv("INCIDENT_USER")
    assert main(["--db", db, "account", "add", "Lena Lead", "--role", "team_lead"]) == 0
    assert main(["--db", db, "whoami"]) == 0
    assert "Lena Lead: registered; roles team_lead" in capsys.readouterr().out
    assert main(["--db", db, "account", "add", "Rita Reviewer", "--role", "reviewer"]) == 0
    assert main(["--db", db, "new", "Spill at the bridge"]) == 0
    out = capsys.readouterr().out
    heads = tmp_path / "heads.json"
    assert main(["--db", db, "seal", "-o", str(heads)]) == 0
    assert main(["--db", db, "login", "Rita Reviewer"]) == 0
    from incident.cli.shell import context

    context._acting_installed.clear()  # a new process would read the login file afresh
    assert main(["--db", db, "seal", "countersign", str(heads)]) == 0
    assert main(["--db", db, "verify", "--sealed", str(heads)]) == 0
    out = capsys.readouterr().out
    assert "intact" in out and "sealed heads checked: 2" in out
    assert main(["--db", db, "account", "list", "--json"]) == 0
    names = [a["name"] for a in json.loads(capsys.readouterr().out)]
    assert names == ["Lena Lead", "Rita Reviewer"]
    # a wrong passphrase is refused, never a traceback
    monkeypatch.setenv("INCIDENT_PASSPHRASE", "wrong one here")
    assert main(["--db", db, "login", "Lena Lead"]) == 2
    assert "wrong passphrase" in capsys.readouterr().err
