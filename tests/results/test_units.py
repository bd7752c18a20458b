"""Units and strict number parsing: conversions, mix-ups and every refused typo."""

from __future__ import annotations

import pytest

from incident.core.errors import UserError
from incident.results.units import (
    check_plausible,
    parse_number,
    parse_result_value,
    to_base,
    unit_display,
)


@pytest.mark.parametrize(
    ("value", "unit", "mg_l"),
    [
        (0.012, "mg/L", 0.012),
        (12, "µg/L", 0.012),  # micro sign
        (12, "μg/L", 0.012),  # Greek mu
        (12, "ug/L", 0.012),
        (12, "ug/l", 0.012),
        (12000, "ng/L", 0.012),
        (0.012, "g/m³", 0.012),
        (0.012, "g/m3", 0.012),
        (0.5, "g/L", 500.0),
        (17, "μg/L", 0.017),
    ],
)
def test_water_units_convert_to_mg_per_litre(value, unit, mg_l):
    assert to_base(value, unit) == pytest.approx(mg_l, rel=1e-12)


def test_air_and_soil_have_their_own_base_units():
    assert to_base(250, "µg/m³", medium="air") == pytest.approx(0.25)
    assert to_base(3, "g/kg", medium="soil") == pytest.approx(3000)


def test_display_spelling_is_canonical():
    assert unit_display("ug/l") == "µg/L"
    assert unit_display("mg/m3") == "mg/m³"


@pytest.mark.parametrize(
    ("unit", "medium", "says", "fix"),
    [
        ("mg/kg", "water", "soil unit", "use mg/L"),
        ("ppm", "water", "ambiguous", "mg/L"),
        ("ppb", "water", "ambiguous", "mg/L"),
        ("mg/m3", "water", "air unit", "µg/L"),
        ("furlongs", "water", "unknown unit", "mg/L"),
        ("", "water", "empty", "mg/L"),
        ("  ", "water", "empty", "mg/L"),
        ("mg/L", "air", "water unit", "mg/m³"),
        ("mg/L", "soil", "water unit", "mg/kg"),
    ],
)
def test_unit_mix_ups_are_refused_with_the_fix(unit, medium, says, fix):
    with pytest.raises(UserError) as err:
        to_base(1.0, unit, medium=medium, where="unit")
    assert says in err.value.problem
    assert err.value.where == "unit"
    assert fix in (err.value.fix or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.5", 0.5),
        ("5", 5.0),
        (".5", 0.5),
        ("1.2e-3", 0.0012),
        ("3E2", 300.0),
        (" 0.012 ", 0.012),
    ],
)
def test_plain_numbers_parse(text, expected):
    assert parse_number(text, "value") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "problem", "fix"),
    [
        ("O.5", "letter O", "'0.5'"),
        ("0.O5", "letter O", "'0.05'"),
        ("0,5", "comma", "use a point"),
        ("1,200", "comma", "no thousands separator"),
        ("0，5", "comma", "use a point"),
        ("0。5", "full stop", "half-width"),
        ("5e", "incomplete exponent", "exponent"),
        ("1.2e-", "incomplete exponent", "exponent"),
        ("1..2", "more than one decimal point", "1.2"),
        ("1.2.3", "more than one decimal point", "1.2"),
        ("-0.3", "negative", "not detected"),
        ("l.5", "letter l", "digit one"),
        ("abc", "not a number", "digits"),
        ("5.", "ends with a point", "5.0"),
        ("nan", "not a number", "digits"),
        ("inf", "not a number", "digits"),
        # compatibility forms are refused, never NFKC-normalised ("1²" must not become 12)
        ("1²", "U+00B2 SUPERSCRIPT TWO", "digits 0-9"),
        ("½", "VULGAR FRACTION ONE HALF", "digits 0-9"),
        ("０.５", "FULLWIDTH DIGIT ZERO", "half-width"),
        ("١٢", "ARABIC-INDIC DIGIT ONE", "digits 0-9"),
        ("1e400", "too large to be a finite number", "exponent"),
    ],
)
def test_typos_are_refused_never_guessed(text, problem, fix):
    with pytest.raises(UserError) as err:
        parse_number(text, "value")
    assert problem in err.value.problem, err.value.render()
    assert err.value.where == "value"
    assert fix in (err.value.fix or ""), err.value.render()


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_value_is_refused_naming_the_field(text):
    with pytest.raises(UserError) as err:
        parse_number(text, "detection limit")
    assert err.value.where == "detection limit"
    assert "empty" in err.value.problem


@pytest.mark.parametrize(
    ("text", "detected", "value", "limit"),
    [
        ("0.012", True, 0.012, None),
        ("<0.01", False, None, 0.01),
        ("< 0.01", False, None, 0.01),
        ("0.01L", False, None, 0.01),  # Chinese reporting convention: limit followed by L
        ("ND", False, None, None),
        ("未检出", False, None, None),
    ],
)
def test_result_values_and_non_detect_notations(text, detected, value, limit):
    got = parse_result_value(text)
    assert got.detected is detected
    assert got.value == value
    assert got.detection_limit == limit


@pytest.mark.parametrize("text", ["<0,01", "<O.01", "0.0lL", "<-1", "<"])
def test_non_detect_with_a_typo_is_still_refused(text):
    with pytest.raises(UserError):
        parse_result_value(text, "value")


@pytest.mark.parametrize(
    ("value", "unit", "medium", "says"),
    [
        (1e308, "g/L", "water", "0 to 1000 g/L"),
        (2e6, "mg/L", "water", "0 to 1e+06 mg/L"),
        (2e9, "µg/kg", "soil", "0 to 1e+09 µg/kg"),
        (1e8, "mg/m³", "air", "0 to 1e+07 mg/m³"),
        (float("inf"), "mg/L", "water", "plausible range"),
        (float("nan"), "mg/L", "water", "plausible range"),
    ],
)
def test_absurd_magnitudes_are_refused_naming_the_units_range(value, unit, medium, says):
    with pytest.raises(UserError) as err:
        check_plausible(value, unit, medium=medium, where="value")
    assert says in err.value.problem, err.value.render()
    assert err.value.where == "value"


def test_the_plausible_range_admits_real_extremes():
    # a saturated brine (360 g/L) and a pure-solvent sample are real; they pass
    assert check_plausible(360, "g/L") == 360
    assert check_plausible(999_000, "mg/L") == 999_000
