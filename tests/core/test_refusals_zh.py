"""Refusals read in the reader's language: with zh chosen no English sentence reaches the screen,
and the CLI names a refusal's input field by its flag (issue 14 "Errors", issue 16 "Chinese")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from incident.core.errors import UserError
from incident.core.i18n import set_language

#: three or more ASCII words in a row: an English phrase (formats such as YYYY-MM-DD HH are not words)
_ENGLISH = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,;'-]+[A-Za-z][a-z]+){2,}\b")


def _english_left(err: UserError, lang: str = "zh") -> list[str]:
    """English phrases in the message and fix, once values and quoted commands are taken out."""
    text = f"{err.message(lang)}\n{err.fix_text(lang) or ''}"
    for value in err.params.values():
        if str(value).strip():
            text = text.replace(str(value), " ")
    text = re.sub(r"`[^`]*`", " ", text)
    return _ENGLISH.findall(text)


def _refusals(tmp_path: Path, demo_engine, demo_code: str) -> dict[str, UserError]:
    """One refusal per room, each raised through the room's public API."""
    from incident.core.clock import parse_local
    from incident.core.store.engine import session_scope
    from incident.drills import set_speed
    from incident.evidence import import_backup
    from incident.playbook import find_playbook
    from incident.plume import check_members
    from incident.readiness import parse_day_arg
    from incident.reports import get_report
    from incident.results import parse_number
    from incident.sampling import AssignSettings

    def refusal(call) -> UserError:
        with pytest.raises(UserError) as caught:
            call()
        return caught.value

    with session_scope(demo_engine) as s:
        return {
            "core": refusal(lambda: parse_local("next tuesday")),
            "plume": refusal(lambda: check_members(0)),
            "results": refusal(lambda: parse_number("0,5", "value")),
            "sampling": refusal(lambda: AssignSettings(road_factor=0.5).check()),
            "reports": refusal(lambda: get_report(s, demo_code, 9999)),
            "readiness": refusal(lambda: parse_day_arg("2026-13-01", where="on")),
            "drills": refusal(lambda: set_speed(s, demo_code, 2.0, actor="tester")),
            "evidence": refusal(lambda: import_backup(s, tmp_path / "missing.jsonl", actor="tester")),
            "playbook": refusal(lambda: find_playbook("no-such-playbook")),
        }


def test_every_room_refuses_in_chinese_with_no_english_sentence(tmp_path, demo_engine, demo_code):
    refusals = _refusals(tmp_path, demo_engine, demo_code)
    set_language("zh")
    for room, err in refusals.items():
        assert err.key is not None, f"{room}: {err.render('en')} is not a catalog key"
        assert _english_left(err, "en"), f"{room}: the check must see English in the en text"
        assert _english_left(err) == [], f"{room}: {err.render()}"
        assert re.search(r"[\u4e00-\u9fff]", err.render()), f"{room}: {err.render()}"


def test_the_cli_names_the_field_by_its_flag(tmp_path, capsys):
    from incident.cli import main

    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["--db", db, "new", "x", "--mass-kg", "-5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("incident: --mass-kg: mass -5 kg is negative"), err
    assert main(["--db", db, "--lang", "zh", "new", "x", "--mass-kg", "-5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("incident: --mass-kg: 泄漏量 -5 kg 为负数"), err
    assert "处理办法" in err and not _ENGLISH.search(err.replace("--mass-kg", ""))


def test_a_subcommand_flag_is_found_in_the_innermost_parser(tmp_path, capsys):
    from incident.cli import main

    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["--db", db, "readiness", "--teams", "0"]) == 2
    assert "incident: --teams: 0 teams" in capsys.readouterr().err


def test_the_field_stays_a_field_name_outside_the_cli():
    err = UserError("errors.core.mass_kg_negative", field="mass_kg", mass_kg=-5.0)
    assert err.render("en").startswith("mass_kg: mass -5 kg is negative")
    assert err.render("en", field_label="泄漏量 (kg)").startswith("泄漏量 (kg): ")
