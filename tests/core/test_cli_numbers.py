"""Numbers on the command line go through the project's one rule for typed numbers
(``incident.cli.shell.typed`` on ``core.inputs.parse_number``): a refused value exits 2 with the
project's keyed refusal, in the reader's language, naming the flag; nothing is written."""

from __future__ import annotations

import pytest

from incident.cli import main
from incident.cli.shell.typed import Parser, number, whole
from incident.core.errors import UserError
from incident.core.i18n import get_language, set_language


@pytest.fixture(autouse=True)
def _keep_language():
    before = get_language()
    yield
    set_language(before)


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.sqlite'}"


@pytest.mark.parametrize(
    ("argv", "flag", "says"),
    [
        (["new", "Spill", "--mass-kg", "8²"], "--mass-kg", "'8²' is not a number"),
        (["new", "Spill", "--lat", "１２"], "--lat", "'１２' is not a number"),
        (["new", "Spill", "--duration-h", "nan"], "--duration-h", "'nan' is not a number"),
        (["new", "Spill", "--km", "1e999"], "--km", "must be a finite number"),
        (["new", "Spill", "--mass-kg", "1e13"], "--mass-kg", "it must be at most 1e+12"),
        (["new", "Spill", "--lon", "\u200f109"], "--lon", "is not a number"),
        (["forecast", "INC-2026-0001", "--seed", "1.5"], "--seed", "'1.5' is not a whole number"),
        (["report", "show", "INC-2026-0001", "x"], "REPORT_ID", "'x' is not a whole number"),
    ],
)
def test_a_refused_number_flag_is_the_projects_refusal_naming_the_flag(argv, flag, says, db, capsys):
    assert main(["--db", db, *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"incident: {flag}: ") and says in err, err
    assert "usage:" not in err and "Traceback" not in err
    assert main(["--db", db, "list", "--json"]) == 0
    assert '"code"' not in capsys.readouterr().out  # nothing was opened


def test_the_refusal_reads_in_chinese_with_lang_zh(db, capsys):
    assert main(["--lang", "zh", "--db", db, "new", "Spill", "--mass-kg", "8²"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("incident: --mass-kg: '8²' 不是数字") and "半角数字" in err


def test_good_numbers_are_read_and_other_usage_errors_are_argparses(capsys):
    parser = Parser(prog="incident")
    parser.add_argument("--mass-kg", type=number(minimum=0))
    parser.add_argument("--round", type=whole(minimum=1))
    args = parser.parse_args(["--mass-kg", "12,500", "--round", "2"])
    assert (args.mass_kg, args.round) == (12500.0, 2) and isinstance(args.round, int)
    with pytest.raises(UserError) as err:
        parser.parse_args(["--round", "0"])
    assert err.value.field == "--round" and err.value.key == "errors.input.greater_equal"
    with pytest.raises(SystemExit) as done:
        parser.parse_args(["--colour"])
    assert done.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err
