"""A backup file's header, rows and end line go through the input layer: a refusal names the file, the
line and the field, in English and Chinese, and nothing is imported."""

from __future__ import annotations

import hashlib
import json

import pytest

from incident.core.errors import UserError, ValidationErrors
from incident.evidence import backup

HEADER = {
    "format": "incident-backup",
    "version": 1,
    "code": "INC-2026-0001",
    "chain_head": {"chain": "incident:INC-2026-0001", "seq": 1, "hash": "0" * 64},
}


def _write(tmp_path, header: object, *rows: str) -> str:
    lines = [json.dumps(header), *rows]
    body = "".join(line + "\n" for line in lines)
    end = {"end": {"rows": len(rows), "sha256": hashlib.sha256(body.encode()).hexdigest()}}
    path = tmp_path / "inc.jsonl"
    path.write_text(body + json.dumps(end) + "\n", encoding="utf-8")
    return str(path)


def test_a_header_field_is_named_with_file_and_line_in_en_and_zh(tmp_path):
    header = {**HEADER, "chain_head": {**HEADER["chain_head"], "seq": -1}}
    path = _write(tmp_path, header)
    with pytest.raises(UserError) as err:
        backup.read_backup(path)
    assert err.value.where == f"{path}:1" and err.value.field == "chain_head.seq"
    assert "inc.jsonl:1, chain_head.seq: is -1; it must be at least 0" in err.value.render("en")
    assert "inc.jsonl:1, chain_head.seq" in err.value.render("zh") and "-1" in err.value.render("zh")
    assert err.value.render("zh") != err.value.render("en")


def test_a_row_with_an_infinite_number_or_an_unknown_role_is_refused_at_its_line(tmp_path):
    rows = (
        '{"table": "result", "role": "incident", "row": {"id": 1, "value": 1e999}}',
        '{"table": "result", "role": "admin", "row": {"id": 2}}',
    )
    path = _write(tmp_path, HEADER, *rows)
    with pytest.raises(UserError) as err:
        backup.read_backup(path)
    problems = err.value.problems if isinstance(err.value, ValidationErrors) else [err.value]
    assert (problems[0].where, problems[0].field) == (f"{path}:2", "row.value")
    for lang in ("en", "zh"):
        assert "inc.jsonl:2, row.value" in problems[0].render(lang)


@pytest.mark.parametrize(
    "header, message",
    [
        ({**HEADER, "version": 1.0}, "version 1.0 is not supported"),
        ({**HEADER, "version": True}, "version True is not supported"),
        ({**HEADER, "chain_head": []}, "chain_head: must be a table of fields"),
        ({**HEADER, "code": "\u202e" + "9" * 5000}, "code: is too long"),
        ({**HEADER, "tables": {"result": 10**400}}, "tables.result"),
    ],
)
def test_a_damaged_header_is_refused_before_anything_is_read(tmp_path, header, message):
    with pytest.raises(UserError, match=message):
        backup.read_backup(_write(tmp_path, header))
