"""Numbers on the command line go through the project's one rule for typed numbers: a refused value
exits 2 with the project's keyed refusal, in the reader's language, naming the flag."""

from __future__ import annotations

import pytest

from incident.cli.typed import Parser, language_from, number, whole
from incident.core.i18n import get_language, set_language


def _parser() -> Parser:
    parser = Parser(prog="incident")
    parser.add_argument("--lang")
    sub = parser.add_subparsers(dest="command")
    new = sub.add_parser("new")
    new.add_argument("--mass-kg", type=number(minimum=0))
    new.add_argument("--lat", type=number(minimum=-90, maximum=90))
    new.add_argument("--round", type=whole(minimum=1))
    new.add_argument("count", type=whole(), nargs="?")
    return parser


@pytest.fixture(autouse=True)
def _keep_language():
    before = get_language()
    yield
    set_language(before)


def _refused(argv: list[str], capsys) -> str:
    language_from(argv)
    with pytest.raises(SystemExit) as done:
        _parser().parse_args(argv)
    assert done.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "flag", "says"),
    [
        (["new", "--mass-kg", "8²"], "--mass-kg", "'8²' is not a number"),
        (["new", "--mass-kg", "１２"], "--mass-kg", "'１２' is not a number"),
        (["new", "--mass-kg", "nan"], "--mass-kg", "'nan' is not a number"),
        (["new", "--mass-kg", "1e999"], "--mass-kg", "must be a finite number"),
        (["new", "--mass-kg", "1e13"], "--mass-kg", "it must be at most 1e+12"),
        (["new", "--mass-kg=-5"], "--mass-kg", "it must be at least 0"),
        (["new", "--lat", "95"], "--lat", "it must be at most 90"),
        (["new", "--round", "2.5"], "--round", "'2.5' is not a whole number"),
        (["new", "--round", "\u200f2"], "--round", "is not a whole number"),
        (["new", "x"], "count", "'x' is not a whole number"),
    ],
)
def test_a_refused_number_is_the_projects_refusal_naming_the_flag(argv, flag, says, capsys):
    err = _refused(argv, capsys)
    assert err.startswith(f"incident: {flag}: ") and says in err
    assert "usage:" not in err and "Traceback" not in err


def test_the_refusal_reads_in_chinese_with_lang_zh(capsys):
    err = _refused(["--lang", "zh", "new", "--mass-kg", "8²"], capsys)
    assert err.startswith("incident: --mass-kg: '8²' 不是数字") and "半角数字" in err


def test_good_numbers_and_other_usage_errors_are_unchanged(capsys):
    args = _parser().parse_args(["new", "--mass-kg", "12,500", "--lat", "24.5", "--round", "2", "7"])
    assert (args.mass_kg, args.lat, args.round, args.count) == (12500.0, 24.5, 2, 7)
    assert isinstance(args.round, int) and isinstance(args.mass_kg, float)
    with pytest.raises(SystemExit) as done:
        _parser().parse_args(["new", "--colour"])
    assert done.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err
