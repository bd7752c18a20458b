"""Concentration units and strict parsing of typed numbers.

Why a small table and not pint: the units a monitoring team meets are few, and
the dangerous mistakes are not conversions but mix-ups (mg/kg typed for a water
sample, "ppm" that means different things in water and air). A table lets us
refuse those with a message that says what to type instead.

Every concentration is stored as entered *and* normalised to the medium's base
unit: mg/L for water, mg/m³ for air, mg/kg for soil (the column is called
``value_mg_l`` because water is the main case).

Number parsing never guesses: ``O.5`` (letter O), ``0,5`` (decimal comma),
``5e``, ``1..2``, negatives and empty fields are refused with a message naming
the field. Only ASCII digits are numbers: Unicode normalisation (NFKC) would
read ``1²`` as ``12`` and ``½`` as ``1/2``, so superscripts, fractions,
full-width digits from an input method (``０.５``) and digits of other scripts
are refused with the fix, never normalised. A value that is not finite or is
beyond the unit's plausible range (``1e308 g/L``) is refused naming the range.

Values below the detection limit: Chinese monitoring practice (HJ 630, HJ 168)
reports them as the detection limit followed by ``L`` (``0.01L``); labs also
write ``<0.01``, ``ND`` or ``未检出``. :func:`parse_result_value` reads these as
"not detected" with that detection limit. They are never turned into a number.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from incident.core.errors import UserError

# unit spelling (after normalisation) -> (medium, factor to the medium's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    # water: base mg/L
    "g/l": ("water", 1e3),
    "mg/l": ("water", 1.0),
    "µg/l": ("water", 1e-3),
    "ng/l": ("water", 1e-6),
    "g/m³": ("water", 1.0),  # 1 g/m³ = 1 mg/L
    "kg/m³": ("water", 1e3),
    # air: base mg/m³
    "mg/m³": ("air", 1.0),
    "µg/m³": ("air", 1e-3),
    "ng/m³": ("air", 1e-6),
    # soil and sediment: base mg/kg
    "g/kg": ("soil", 1e3),
    "mg/kg": ("soil", 1.0),
    "µg/kg": ("soil", 1e-3),
    "ng/kg": ("soil", 1e-6),
}

BASE_UNIT = {"water": "mg/L", "air": "mg/m³", "soil": "mg/kg", "other": "mg/L"}

#: canonical display spelling for each normalised key
_DISPLAY = {
    "g/l": "g/L",
    "mg/l": "mg/L",
    "µg/l": "µg/L",
    "ng/l": "ng/L",
    "g/m³": "g/m³",
    "kg/m³": "kg/m³",
    "mg/m³": "mg/m³",
    "µg/m³": "µg/m³",
    "ng/m³": "ng/m³",
    "g/kg": "g/kg",
    "mg/kg": "mg/kg",
    "µg/kg": "µg/kg",
    "ng/kg": "ng/kg",
}

_AMBIGUOUS = {
    "ppm": "ppm means mg/L in water but a volume ratio in air",
    "ppb": "ppb means µg/L in water but a volume ratio in air",
    "ppt": "ppt is parts per trillion or per thousand, depending on who wrote it",
    "%": "a percentage is not a concentration unit here",
    "‰": "per mille is not a concentration unit here",
}


def _unit_key(text: str) -> str:
    """Spelling variants folded: ug/μg/µg, m3/m^3/m³, L/l, spaces, full width."""
    key = unicodedata.normalize("NFKC", text).strip()
    # NFKC turns µ (micro sign) into μ (Greek mu); fold both and "u" to the micro sign
    key = key.replace(" ", "").lower()
    key = re.sub(r"^(μ|u|µ|mc)(?=g/)", "µ", key)
    key = key.replace("m^3", "m³").replace("m3", "m³")
    # NFKC lowers ³ to 3 too, so repeat after it
    return key


def unit_display(unit: str) -> str:
    return _DISPLAY.get(_unit_key(unit), unit)


def known_units(medium: str = "water") -> list[str]:
    return [_DISPLAY[k] for k, (m, _f) in _UNITS.items() if m == medium]


def to_base(value: float, unit: str, *, medium: str = "water", where: str = "unit") -> float:
    """``value`` in ``unit`` converted to the medium's base unit (mg/L for water)."""
    return value * unit_factor(unit, medium=medium, where=where)


def unit_factor(unit: str, *, medium: str = "water", where: str = "unit") -> float:
    """Factor from ``unit`` to the medium's base unit; refuses mix-ups with the fix."""
    medium = medium if medium in BASE_UNIT else "water"
    if medium == "other":
        medium = "water"
    if unit is None or not str(unit).strip():
        raise UserError("errors.results.unit_empty", where=where, value=", ".join(known_units(medium)[:3]))
    key = _unit_key(str(unit))
    if key in _AMBIGUOUS:
        raise UserError(
            "errors.results.ambiguous",
            where=where,
            unit=repr(unit),
            value=_AMBIGUOUS[key],
            medium=medium,
            value2=" or ".join(known_units(medium)[:2]),
        )
    if key not in _UNITS:
        raise UserError(
            "errors.results.unknown_unit",
            where=where,
            unit=repr(unit),
            value=", ".join(known_units(medium)),
        )
    unit_medium, factor = _UNITS[key]
    if unit_medium != medium:
        hint = {
            ("water", "soil"): "mg/kg is for soil or sediment; for a water sample use mg/L",
            ("water", "air"): "mg/m³ is an air unit; for water use µg/L (1 mg/m³ of water = 1 µg/L) "
            "if that is what the instrument reports",
            ("air", "water"): "mg/L is a water unit; for air use mg/m³ or µg/m³",
            ("soil", "water"): "mg/L is a water unit; for soil use mg/kg",
        }.get((medium, unit_medium), f"use one of {', '.join(known_units(medium))}")
        raise UserError(
            "errors.results.unit_but_sample",
            where=where,
            fix=hint,
            value=_DISPLAY[key],
            unit_medium=unit_medium,
            medium=medium,
        )
    return factor


#: The largest concentration that can physically exist, in the medium's base unit:
#: a water sample cannot hold more than a pure liquid (about 1 kg/L = 10⁶ mg/L), a
#: soil sample more than 100 % (10⁶ mg/kg), air more than a dense pure gas or vapour
#: at 1 atm (10 kg/m³ = 10⁷ mg/m³). Anything above is a typo in the value or the unit.
PLAUSIBLE_MAX_BASE = {"water": 1e6, "air": 1e7, "soil": 1e6}
_PLAUSIBLE_WHY = {
    "water": "a pure liquid is about 1 kg/L",
    "air": "a dense pure vapour at 1 atm is about 10 kg/m³",
    "soil": "100 % of the sample",
}


def plausible_range(unit: str, *, medium: str = "water") -> tuple[float, float]:
    """(low, high) a concentration in ``unit`` can physically take for ``medium``."""
    medium = medium if medium in PLAUSIBLE_MAX_BASE else "water"
    return 0.0, PLAUSIBLE_MAX_BASE[medium] / unit_factor(unit, medium=medium)


def check_plausible(value: float, unit: str, *, medium: str = "water", where: str = "value") -> float:
    """Refuse a concentration that is not finite or beyond what ``unit`` can physically hold."""
    medium = medium if medium in PLAUSIBLE_MAX_BASE else "water"
    low, high = plausible_range(unit, medium=medium)
    shown = unit_display(unit)
    if not math.isfinite(value) or not low <= value <= high:
        base = BASE_UNIT[medium]
        raise UserError(
            "errors.results.outside_plausible_range_sample",
            where=where,
            value=value,
            shown=shown,
            medium=medium,
            low=low,
            high=high,
            value2=PLAUSIBLE_MAX_BASE[medium],
            base=base,
            value3=_PLAUSIBLE_WHY[medium],
        )
    return value


# ---------------------------------------------------------------- numbers

_NUMBER = re.compile(r"^\+?([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


def _normalise_text(text: str) -> str:
    """Surrounding white space off; nothing else is changed (no NFKC: ``1²`` must not become 12)."""
    return str(text).strip()


def _first_non_ascii(text: str) -> str | None:
    return next((ch for ch in text if not ch.isascii()), None)


def _non_ascii_refusal(raw: str, ch: str, field: str) -> UserError:
    name = unicodedata.name(ch, "unnamed character")
    width = unicodedata.east_asian_width(ch) == "F" or ch in "。，"
    fix = (
        "switch the input method to half-width and type 0-9 and a point, e.g. 0.5"
        if width
        else "type the number with the digits 0-9 and a point only, e.g. 0.5 or 1.2e-3"
    )
    return UserError(
        "errors.results.contains_u_numbers_use",
        where=field,
        fix=fix,
        raw=repr(raw),
        ch=repr(ch),
        ord_ch=ord(ch),
        name=name,
    )


def _diagnose(raw: str, text: str, field: str, *, allow_negative: bool) -> UserError:
    """The most useful refusal for something that is not a plain number."""
    quoted = repr(raw)
    if re.search(r"[Oo]", text) and re.fullmatch(r"[0-9Oo.,eE+-]+", text):
        fixed = text.replace("O", "0").replace("o", "0")
        return UserError(
            "errors.results.contains_letter_o_where", where=field, quoted=quoted, fixed=repr(fixed)
        )
    if re.search(r"[lI]", text) and re.fullmatch(r"[0-9lI.eE+-]+", text):
        return UserError("errors.results.contains_letter_l_i", where=field, quoted=quoted)
    if "," in text or "，" in text:
        return UserError("errors.results.uses_comma_decimal_comma", where=field, quoted=quoted)
    if "。" in text:
        return UserError("errors.results.uses_ideographic_full_stop", where=field, quoted=quoted)
    odd = _first_non_ascii(text)
    if odd is not None:
        return _non_ascii_refusal(raw, odd, field)
    if text.count(".") > 1:
        return UserError("errors.results.has_more_than_one", where=field, quoted=quoted)
    if re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[eE][+-]?", text):
        return UserError("errors.results.has_incomplete_exponent", where=field, quoted=quoted)
    if re.fullmatch(r"[0-9]+\.", text):
        return UserError("errors.results.ends_point", where=field, quoted=quoted, text=text, value=text[:-1])
    if text.startswith("-") and _NUMBER.match(text[1:]):
        if allow_negative:
            return UserError("errors.results.not_number_4", where=field, quoted=quoted)
        return UserError("errors.results.negative_concentration_cannot_below", where=field, quoted=quoted)
    return UserError("errors.results.not_number_3", where=field, quoted=quoted)


def parse_number(text: str | None, field: str, *, allow_zero: bool = True) -> float:
    """Strictly parse a non-negative decimal number typed by a person."""
    if text is None or not str(text).strip():
        raise UserError("errors.results.empty_11", where=field)
    raw = str(text)
    clean = _normalise_text(raw)
    if not _NUMBER.match(clean):
        raise _diagnose(raw, clean, field, allow_negative=False)
    value = float(clean)
    if not math.isfinite(value):
        raise UserError("errors.results.too_large_finite_number", where=field, raw=repr(raw))
    if value == 0 and not allow_zero:
        raise UserError("errors.results.zero", where=field, raw=repr(raw))
    return value


@dataclass(frozen=True)
class ParsedValue:
    """A typed result value: a number, or "not detected" below ``detection_limit``."""

    value: float | None
    detected: bool
    detection_limit: float | None = None  # from "<0.01" / "0.01L"


_NOT_DETECTED_WORDS = {"nd", "n.d.", "未检出", "not detected", "bdl", "<dl", "<lod"}


def parse_result_value(text: str | None, field: str = "value") -> ParsedValue:
    """A result value: a number, ``<X`` / ``XL`` (not detected, limit X), or ``ND``."""
    if text is None or not str(text).strip():
        raise UserError("errors.results.empty_12", where=field)
    clean = _normalise_text(str(text))
    if clean.lower() in _NOT_DETECTED_WORDS:
        return ParsedValue(None, False, None)
    m = re.fullmatch(r"<\s*(.+)", clean) or re.fullmatch(r"(.+?)\s*L", clean)
    if m:
        limit = parse_number(m.group(1), field, allow_zero=False)
        return ParsedValue(None, False, limit)
    return ParsedValue(parse_number(str(text), field), True, None)
