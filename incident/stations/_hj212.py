"""HJ 212-2017 packets: framing, CRC and the data segment, in pure Python.

Why hand-written: the format is small and a station's bytes are untrusted. Every
malformed packet becomes a :class:`UserError` that says which part is wrong (the
listener counts it and goes on); nothing else may escape, which a Hypothesis fuzz
checks.

A packet is ``##`` + the data segment's length (4 decimal digits) + the data
segment + CRC16 (4 hex digits) + CRLF. The CRC covers the data segment only
(HJ 212-2017 Appendix A): start at 0xFFFF; for each byte ``crc = (crc >> 8) ^ byte``,
then 8 times shift right one bit and XOR 0xA001 when the bit shifted out was 1.

Station time: ``DataTime`` and ``QN`` are the station's local clock (China
Standard Time); readings are returned in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from incident.core.errors import UserError
from incident.core.inputs import InputModel, LocalTime, refusals, refuse

STATION_TZ = timezone(timedelta(hours=8), "CST")
MAX_DATA_LENGTH = 1024  # HJ 212-2017 §6.3.2: the data segment is 0–1024 characters

#: data commands: CN -> (what it is, the value field that carries the reading)
DATA_COMMANDS: dict[str, tuple[str, str]] = {
    "2011": ("realtime", "Rtd"),
    "2051": ("minute", "Avg"),
    "2061": ("hourly", "Avg"),
    "2031": ("daily", "Avg"),
}
VALUE_KINDS = ("Rtd", "Avg", "Min", "Max", "Cou")
#: data flags (HJ 212-2017 Table 6); only N is valid data
FLAGS = {
    "N": "normal",
    "F": "stopped",
    "M": "maintenance",
    "S": "set by hand",
    "D": "fault",
    "C": "calibration",
    "T": "over range",
    "B": "communication fault",
}
VALID_FLAG = "N"
#: the data segment's own fields (HJ 212-2017 §6.3.3); others in the header are ignored
HEADER_FIELDS = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")


@dataclass(frozen=True)
class WaterCode:
    code: str
    parameter: str  # the project's parameter key (GB 3838 key where the standard has one)
    name: str
    name_zh: str
    unit: str


#: HJ 212-2017 Appendix B water codes -> the project's parameters and units
WATER_CODES: dict[str, WaterCode] = {
    c.code: c
    for c in (
        WaterCode("w01001", "ph", "pH", "pH值", "pH"),
        WaterCode("w01009", "dissolved_oxygen", "Dissolved oxygen", "溶解氧", "mg/L"),
        WaterCode("w01014", "conductivity", "Conductivity", "电导率", "µS/cm"),
        WaterCode("w01003", "turbidity", "Turbidity", "浊度", "NTU"),
        WaterCode("w01010", "water_temperature", "Water temperature", "水温", "°C"),
        WaterCode("w01018", "cod", "Chemical oxygen demand", "化学需氧量", "mg/L"),
        WaterCode("w01019", "permanganate_index", "Permanganate index", "高锰酸盐指数", "mg/L"),
        WaterCode("w21003", "ammonia_nitrogen", "Ammonia nitrogen", "氨氮", "mg/L"),
        WaterCode("w21011", "total_phosphorus", "Total phosphorus", "总磷", "mg/L"),
        WaterCode("w21001", "total_nitrogen", "Total nitrogen", "总氮", "mg/L"),
    )
}
PARAMETER_CODES = {c.parameter: c.code for c in WATER_CODES.values()}


@dataclass(frozen=True)
class Reading:
    """One pollutant of one packet: its values by kind (Rtd/Avg/Min/Max/Cou) and its flag."""

    code: str
    values: dict[str, float]
    flag: str
    value: float | None  # Rtd for real-time data, Avg for minute/hourly/daily data

    @property
    def parameter(self) -> str | None:
        known = WATER_CODES.get(self.code)
        return known.parameter if known else None

    @property
    def unit(self) -> str | None:
        known = WATER_CODES.get(self.code)
        return known.unit if known else None

    @property
    def valid(self) -> bool:
        return self.flag == VALID_FLAG and self.value is not None


@dataclass(frozen=True)
class Packet:
    cn: str
    mn: str
    st: str
    pw: str | None = None
    qn: str | None = None
    flag: int | None = None
    pnum: int | None = None
    pno: int | None = None
    data_time: datetime | None = None  # UTC
    cp: dict[str, str] = field(default_factory=dict)  # the CP fields as sent
    readings: tuple[Reading, ...] = ()

    @property
    def is_data(self) -> bool:
        return self.cn in DATA_COMMANDS

    @property
    def interval(self) -> str | None:
        return DATA_COMMANDS[self.cn][0] if self.is_data else None


# ---------------------------------------------------------------- the data segment's fields

#: HJ 212 numbers are plain decimals: no exponent, no inf/nan, no spaces, ASCII digits only
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
#: a value past 10^15 (even a cumulative flow, -Cou) is a damaged packet
MAX_VALUE = 1e15


def _text(value: object, key: str, **params: Any) -> str:
    """The field as sent (text), or the refusal ``key`` (a packet's fields are text, nothing else)."""
    if not isinstance(value, str):
        raise refuse(key, "not text", found=_cut(value), **params)
    return value


def _cut(value: object, limit: int = 20) -> str:
    """The start of what was sent, safe to quote (a lone surrogate is escaped, not re-encoded)."""
    if not isinstance(value, str):
        return type(value).__name__
    return value[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


def _number(value: object) -> object:
    text = _text(value, "stations.hj212.bad_number")
    if not _PLAIN_DECIMAL.match(text):
        raise refuse("stations.hj212.bad_number", "not a plain decimal", found=_cut(text, 20))
    return text


def _in_range(value: float) -> float:
    if abs(value) > MAX_VALUE:
        raise refuse("stations.hj212.bad_number", "not a plain decimal", found=f"{value:g}")
    return value


#: a pollutant's value: a plain decimal within ±10^15
Value = Annotated[float, BeforeValidator(_number), AfterValidator(_in_range)]


def _time(digits: int) -> Any:
    def check(value: object) -> str:
        text = _text(value, "stations.hj212.bad_time", digits=digits)
        if len(text) != digits or not (text.isdigit() and text.isascii()):
            raise refuse("stations.hj212.bad_time", "not a time", found=_cut(text, 20), digits=digits)
        try:
            _station_time(text)  # a real date and time, in UTC as well (year 1 in CST is not)
        except (ValueError, OverflowError):
            raise refuse(
                "stations.hj212.bad_time", "not a time", found=_cut(text, 20), digits=digits
            ) from None
        return text

    return BeforeValidator(check)


def _station_time(text: str) -> datetime:
    """yyyyMMddHHmmss[SSS] on the station's clock (China Standard Time), as UTC."""
    local = datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    micro = int(text[14:]) * 1000 if len(text) == 17 else 0
    return local.replace(microsecond=micro, tzinfo=STATION_TZ).astimezone(UTC)


def _small_integer(value: object) -> object:
    text = _text(value, "stations.hj212.bad_integer")
    if not (text.isdigit() and text.isascii() and len(text) <= 4):
        raise refuse("stations.hj212.bad_integer", "not a whole number", found=_cut(text, 20))
    return int(text)


def _cn(value: object) -> object:
    text = _text(value, "stations.hj212.bad_cn")
    if not (text.isdigit() and text.isascii() and len(text) <= 7):
        raise refuse("stations.hj212.bad_cn", "not a command number", found=_cut(text, 20))
    return text


def is_station_code(text: str) -> bool:
    """An MN code: 1–24 ASCII letters or digits (the one rule, for packets and for registering a station)."""
    return bool(text) and text.isalnum() and text.isascii() and len(text) <= 24


def _mn(value: object) -> object:
    text = _text(value, "stations.hj212.bad_mn")
    if not is_station_code(text):
        raise refuse("stations.hj212.bad_mn", "not a station code", found=_cut(text, 30))
    return text


def _flag(value: object) -> object:
    text = _text(value, "stations.hj212.bad_flag", flags=" ".join(FLAGS))
    if text not in FLAGS:
        raise refuse("stations.hj212.bad_flag", "not a data flag", found=_cut(text, 5), flags=" ".join(FLAGS))
    return text


SmallInteger = Annotated[int, BeforeValidator(_small_integer)]


class ReadingFields(InputModel):
    """One pollutant's fields in CP: ``w21003-Rtd=0.35,w21003-Flag=N`` (a missing flag is N)."""

    Rtd: Value | None = None
    Avg: Value | None = None
    Min: Value | None = None
    Max: Value | None = None
    Cou: Value | None = None
    Flag: Annotated[str, BeforeValidator(_flag)] = VALID_FLAG

    @property
    def values(self) -> dict[str, float]:
        return {k: v for k in ("Rtd", "Avg", "Min", "Max", "Cou") if (v := getattr(self, k)) is not None}

    @property
    def flag(self) -> str:
        return self.Flag


class PacketFields(InputModel):
    """The fields of a data segment: the header's and, from CP, DataTime and the pollutants."""

    st: str = Field(alias="ST")
    cn: Annotated[str, BeforeValidator(_cn)] = Field(alias="CN")
    mn: Annotated[str, BeforeValidator(_mn)] = Field(alias="MN")
    qn: Annotated[str | None, _time(17)] = Field(default=None, alias="QN")
    pw: str | None = Field(default=None, alias="PW")
    flag: SmallInteger | None = Field(default=None, alias="Flag")
    pnum: SmallInteger | None = Field(default=None, alias="PNUM")
    pno: SmallInteger | None = Field(default=None, alias="PNO")
    data_time_text: Annotated[str | None, _time(14)] = Field(default=None, alias="DataTime")
    readings: dict[str, ReadingFields] = {}

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in ("ST", "CN", "MN"):
                if not data.get(name):
                    raise refuse("stations.hj212.missing", "missing", field=name, name=name)
        return data

    @model_validator(mode="after")
    def _split(self) -> PacketFields:
        if self.cn in DATA_COMMANDS and self.data_time_text is None:
            raise refuse("stations.hj212.missing", "missing", field="DataTime", name="DataTime")
        if self.pnum is not None and not 1 <= (self.pno or 0) <= self.pnum:
            raise refuse(
                "stations.hj212.bad_split", "out of range", field="PNO", pno=self.pno or 0, pnum=self.pnum
            )
        return self

    @property
    def data_time(self) -> datetime | None:
        """DataTime as UTC (the station sends China Standard Time)."""
        return _station_time(self.data_time_text) if self.data_time_text else None


def _parameter(value: object) -> object:
    """A parameter key or its HJ 212 code (``w21003``), as the project's parameter key."""
    text = _text(value, "stations.csv.parameter", known=", ".join(PARAMETER_CODES))
    parameter = WATER_CODES[text].parameter if text in WATER_CODES else text
    if parameter not in PARAMETER_CODES:
        raise refuse(
            "stations.csv.parameter",
            "unknown parameter",
            found=_cut(text, 40),
            known=", ".join(PARAMETER_CODES),
        )
    return parameter


def _interval(value: object) -> object:
    text = _text(value, "stations.csv.interval")
    if text not in {v[0] for v in DATA_COMMANDS.values()}:
        raise refuse("stations.csv.interval", "unknown interval", found=_cut(text, 20))
    return text


class StationCsvRow(InputModel):
    """A row of a readings CSV: ``mn,time,parameter,value[,flag][,interval]`` (a value is written as a
    packet carries it: a plain decimal; empty is no value)."""

    mn: Annotated[str, BeforeValidator(_mn)]
    time: LocalTime
    parameter: Annotated[str, BeforeValidator(_parameter)]
    value: Value | None = None
    flag: Annotated[str, BeforeValidator(_flag)] = VALID_FLAG
    interval: Annotated[str, BeforeValidator(_interval)] = "minute"

    @field_validator("value", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def crc16(data: bytes) -> int:
    """HJ 212-2017 CRC16 of the data segment (the standard's algorithm)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ byte
        for _ in range(8):
            carry = crc & 1
            crc >>= 1
            if carry:
                crc ^= 0xA001
    return crc


def frame(data_segment: str) -> str:
    """The full packet for a data segment: ``##`` + length + data + CRC + CRLF."""
    raw = data_segment.encode("ascii")
    return f"##{len(raw):04d}{data_segment}{crc16(raw):04X}\r\n"


def _refuse(key: str, where: str = "packet", **params: Any) -> UserError:
    message_key = f"stations.hj212.{key}"  # rendered in the reader's language when shown
    return UserError(message_key, where=where, **params)


def unframe(packet: bytes | str) -> str:
    """The data segment of one framed packet, after checking length and CRC."""
    if isinstance(packet, str):
        try:
            packet = packet.encode("ascii")
        except UnicodeEncodeError as exc:
            raise _refuse("not_ascii", pos=exc.start) from None
    body = packet.rstrip(b"\r\n") if packet.endswith(b"\n") else packet
    if not body.startswith(b"##"):
        raise _refuse("no_header")
    head = body[2:6]
    if len(head) < 4 or not head.isdigit():
        raise _refuse("bad_length_field", found=head.decode("ascii", "replace"))
    length = int(head)
    if length > MAX_DATA_LENGTH:
        raise _refuse("too_long", length=length, limit=MAX_DATA_LENGTH)
    data, crc_text = body[6 : 6 + length], body[6 + length :]
    if len(data) != length or len(crc_text) != 4:
        raise _refuse("length_mismatch", length=length, actual=max(len(body) - 10, 0))
    if not all(c in b"0123456789ABCDEFabcdef" for c in crc_text):
        raise _refuse("bad_crc_field", found=crc_text.decode("ascii", "replace"))
    expected = crc16(data)
    if int(crc_text, 16) != expected:
        raise _refuse("crc", found=crc_text.decode("ascii"), expected=f"{expected:04X}")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise _refuse("not_ascii", pos=exc.start) from None


def _pairs(text: str, sep: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.split(sep):
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise _refuse("bad_field", where=where, field=item[:40])
        if key in out:
            raise _refuse("duplicate_field", where=where, field=key)
        out[key] = value
    return out


def parse_segment(data: str) -> Packet:
    """A :class:`Packet` from the data segment (the part the CRC covers).

    The segment is split into its ``key=value`` fields here; what the fields hold (QN, ST, CN, MN,
    Flag, PNUM/PNO, DataTime, each pollutant's values and flag) is checked by :class:`PacketFields`.
    """
    head, marker, rest = data.partition("CP=&&")
    if not marker:
        raise _refuse("no_cp")
    if not rest.endswith("&&"):
        raise _refuse("cp_not_closed")
    cp_text = rest[:-2]
    if head and not head.endswith(";"):
        raise _refuse("bad_field", field=head[-40:])
    fields = _pairs(head, ";", "packet")
    cp: dict[str, str] = {}
    for group in cp_text.split(";"):
        for key, value in _pairs(group, ",", "CP").items():
            if key in cp:
                raise _refuse("duplicate_field", where="CP", field=key)
            cp[key] = value
    doc: dict[str, Any] = {k: v for k, v in fields.items() if k in HEADER_FIELDS}
    if "DataTime" in cp:
        doc["DataTime"] = cp["DataTime"]
    readings: dict[str, dict[str, str]] = {}
    for key, text in cp.items():
        code, dash, kind = key.partition("-")
        if dash and (kind == "Flag" or kind in VALUE_KINDS):
            readings.setdefault(code, {})[kind] = text
        # other per-pollutant fields (-SampleTime, -EFlag, ...) are kept in cp only
    if fields.get("CN") in DATA_COMMANDS:  # other commands carry no readings to check
        doc["readings"] = readings
    parsed = _parse_fields(doc)
    out: tuple[Reading, ...] = ()
    if parsed.cn in DATA_COMMANDS:
        main_kind = DATA_COMMANDS[parsed.cn][1]
        out = tuple(
            Reading(code, r.values, r.flag, r.values.get(main_kind))
            for code, r in sorted(parsed.readings.items())
        )
    return Packet(
        cn=parsed.cn,
        mn=parsed.mn,
        st=parsed.st,
        pw=parsed.pw,
        qn=parsed.qn,
        flag=parsed.flag,
        pnum=parsed.pnum,
        pno=parsed.pno,
        data_time=parsed.data_time,
        cp=cp,
        readings=out,
    )


def _parse_fields(doc: dict[str, Any]) -> PacketFields:
    """The fields as :class:`PacketFields`, or the first refusal, located at the packet's field name."""
    try:
        return PacketFields.model_validate(doc)
    except ValidationError as exc:
        raise refusals(exc, where=_field_at, field_name=_no_field)[0] from None


def _field_at(loc: tuple[Any, ...]) -> str:
    """A pydantic location as the packet names it: ``("readings", "w21003", "Rtd")`` is ``w21003-Rtd``."""
    if len(loc) >= 3 and loc[0] == "readings":
        return f"{loc[1]}-{loc[2]}"
    if len(loc) == 2 and loc[0] == "readings":
        return str(loc[1])
    return str(loc[0]) if loc else "packet"


def _no_field(loc: tuple[Any, ...]) -> str:
    return ""  # the packet's field is named in ``where``


def parse_packet(packet: bytes | str) -> Packet:
    """Check the frame and CRC of one packet and parse its data segment."""
    return parse_segment(unframe(packet))


def format_number(value: float) -> str:
    """A plain decimal (HJ 212 has no exponents), at most 4 decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def build_data_segment(
    *,
    mn: str,
    cn: str,
    data_time: datetime,
    values: dict[str, float | None],
    flags: dict[str, str] | None = None,
    st: str = "21",
    pw: str = "123456",
    qn: datetime | None = None,
) -> str:
    """A data segment as a station would send it (replays, tests, the bench)."""
    kind = DATA_COMMANDS[cn][1]
    local = data_time.astimezone(STATION_TZ)
    items = [f"DataTime={local:%Y%m%d%H%M%S}"]
    for code, value in values.items():
        parts = [] if value is None else [f"{code}-{kind}={format_number(value)}"]
        parts.append(f"{code}-Flag={(flags or {}).get(code, VALID_FLAG)}")
        items.append(",".join(parts))
    q = (qn or data_time).astimezone(STATION_TZ)
    qn_text = f"{q:%Y%m%d%H%M%S}{q.microsecond // 1000:03d}"
    return f"QN={qn_text};ST={st};CN={cn};PW={pw};MN={mn};Flag=5;CP=&&{';'.join(items)}&&"
