"""Signed log entries (issue 18): each entry is proof of its author, and time only moves forward."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident.core import accounts, log, signing
from incident.core.clock import as_utc, utcnow
from incident.core.errors import UserError
from incident.core.incidents import NewIncident, create_incident
from incident.core.store.engine import session_scope
from incident.core.store.tables import LogEntry
from incident.evidence import verify
from tests.identities import acting_as, new_person


def _incident(engine, person) -> str:
    with acting_as(person), session_scope(engine) as s:
        inc = create_incident(
            s, NewIncident(title="spill", alert_at=utcnow() - timedelta(hours=1)), actor="x"
        )
        return inc.code


def _note(engine, person, code, text="note"):
    with acting_as(person), session_scope(engine) as s:
        return log.append(s, chain=log.incident_chain(code), actor="typed", kind="note", summary=text)


def _raw_append(engine, code, *, actor, signer=None, key_id=None, sign_with=None, at=None):
    """Append an entry with a correct hash chain straight into the database (no app checks)."""
    with session_scope(engine) as s:
        chain = log.incident_chain(code)
        last = log.head(s, chain)
        at = as_utc(at or utcnow())
        fields = dict(
            chain=chain, seq=last.seq + 1, at=at, actor=actor, position="", kind="result.logged",
            incident_id=last.incident_id, summary="forged result", payload_json="{}",
        )  # fmt: skip
        digest = log.entry_hash(last.hash, **fields)
        row = LogEntry(**fields, prev_hash=last.hash, hash=digest, signer=signer, key_id=key_id)
        if sign_with is not None:
            row.signature = sign_with.sign(signing.entry_message(digest, signer, key_id))
        s.add(row)


def _problems(engine, code=None):
    with session_scope(engine) as s:
        report = verify(s, code)
    return report, [(p.kind, p.message) for p in report.problems]


def test_every_entry_is_signed_by_its_author_and_verifies(engine, people):
    ann = people["Ann Author"]
    code = _incident(engine, ann)
    entry = _note(engine, ann, code)
    assert (entry.signer, entry.key_id, entry.actor) == ("Ann Author", ann.key_id, "Ann Author")
    report, problems = _problems(engine)
    assert problems == [] and report.ok
    assert report.signed == report.chains[0].entries + report.chains[1].entries
    assert report.legacy_unsigned == 0


def test_a_forged_entry_with_a_correct_chain_but_without_the_authors_key_fails_verify(engine, people):
    ann = people["Ann Author"]
    code = _incident(engine, ann)
    mallory = new_person("Ann Author")  # same name, a key that is not Ann's
    _raw_append(engine, code, actor="Ann Author", signer="Ann Author", key_id=ann.key_id, sign_with=mallory)
    report, problems = _problems(engine, code)
    assert not report.ok
    assert report.chains[0].ok  # the hash chain itself is intact: only the signature gives it away
    assert problems == [("forged", "the signature is not Ann Author's: the entry was forged or changed")]


def test_an_unsigned_entry_after_signing_was_enabled_is_a_forgery(engine, people):
    code = _incident(engine, people["Ann Author"])
    _raw_append(engine, code, actor="Ann Author")
    report, problems = _problems(engine, code)
    assert [k for k, _ in problems] == ["forged"]
    assert "not signed, but every entry is signed since" in problems[0][1]


def test_a_key_someone_registered_for_themselves_is_not_trusted(engine, people):
    """An account slipped into the centre chain by someone who is not a team lead is flagged."""
    ann = people["Ann Author"]
    with acting_as(ann), session_scope(engine) as s, pytest.raises(UserError) as err:
        accounts.register_account(s, "Sock Puppet", ["reviewer"], new_person("Sock Puppet").public_hex)
    assert "needs the role team lead" in err.value.problem


def test_nobody_logged_in_cannot_write_once_signing_is_on(engine, people):
    with session_scope(engine) as s, pytest.raises(UserError) as err:
        create_incident(s, NewIncident(title="anonymous", alert_at=utcnow()), actor="tester")
    assert "nobody is logged in" in err.value.problem


def test_a_backdated_write_is_refused(engine, people):
    ann = people["Ann Author"]
    code = _incident(engine, ann)
    last = _note(engine, ann, code)
    with acting_as(ann), session_scope(engine) as s, pytest.raises(UserError) as err:
        log.append(
            s, chain=log.incident_chain(code), actor="x", kind="note", summary="late",
            at=as_utc(last.at) - signing.CLOCK_SKEW - timedelta(seconds=1),
        )  # fmt: skip
    assert "the log only moves forward" in err.value.problem
    # within the stated clock skew a slower device clock is accepted
    with acting_as(ann), session_scope(engine) as s:
        log.append(
            s, chain=log.incident_chain(code), actor="x", kind="note", summary="slow clock",
            at=as_utc(last.at) - signing.CLOCK_SKEW / 2,
        )  # fmt: skip


def test_a_backdated_entry_slipped_in_is_flagged_by_verify(engine, people):
    ann = people["Ann Author"]
    code = _incident(engine, ann)
    _raw_append(
        engine, code, actor="Ann Author", signer="Ann Author", key_id=ann.key_id, sign_with=ann,
        at=utcnow() - timedelta(days=30),
    )  # fmt: skip
    report, problems = _problems(engine, code)
    assert ("backdated", problems[0][1]) == problems[0] and "before seq" in problems[0][1]
    # (it is also flagged as forged: Ann's key did not exist 30 days ago)


def test_rotation_retires_the_old_key_and_keeps_old_entries_valid(engine, people):
    ann = people["Ann Author"]
    code = _incident(engine, ann)
    new_ann = signing.Person("Ann Author", signing.new_private_key())
    with acting_as(ann), session_scope(engine) as s:
        accounts.rotate_key(s, "ann author", new_ann.public_hex)
    with pytest.raises(UserError) as err:
        _note(engine, ann, code, "with the old key")
    assert "not registered" in err.value.problem
    _note(engine, new_ann, code, "with the new key")
    report, problems = _problems(engine)
    assert problems == []
    with session_scope(engine) as s:
        kinds = [e.kind for e in log.entries(s, log.CENTRE_CHAIN)]
    assert kinds.count("account.key_rotated") == 1


def test_revocation_is_logged_and_the_key_signs_nothing_after(engine, people):
    rita = people["Rita Reviewer"]
    with acting_as(people["Lena Lead"]), session_scope(engine) as s:
        accounts.revoke_account(s, "Rita Reviewer", reason="laptop lost")
    code = _incident(engine, people["Ann Author"])
    with pytest.raises(UserError):
        _note(engine, rita, code)
    _raw_append(
        engine, code, actor="Rita Reviewer", signer="Rita Reviewer", key_id=rita.key_id, sign_with=rita
    )
    report, problems = _problems(engine, code)
    assert [k for k, _ in problems] == ["forged"]
    assert "not registered to them" in problems[0][1]


def test_the_double_space_name_is_the_same_identity(engine, people):
    with acting_as(people["Lena Lead"]), session_scope(engine) as s, pytest.raises(UserError) as err:
        accounts.register_account(s, "Ann  AUTHOR", ["reviewer"], new_person("x").public_hex)
    assert "same identity" in err.value.problem


def test_legacy_unsigned_entries_are_reported_as_such_not_as_forged(engine):
    code = _incident(engine, None)  # a store from before signing: nobody logged in
    from tests.identities import register

    people = register(engine)
    _note(engine, people["Ann Author"], code)
    report, problems = _problems(engine)
    assert problems == []
    assert report.legacy_unsigned == 1  # incident.created, written before the first account
    assert any("1 legacy unsigned entries: before signing was enabled" in w for w in report.notes)
