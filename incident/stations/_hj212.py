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

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from incident.core.errors import UserError

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


def _parse_time(text: str, where: str, digits: int) -> datetime:
    if len(text) != digits or not (text.isdigit() and text.isascii()):
        raise _refuse("bad_time", where=where, found=text[:20], digits=digits)
    try:
        local = datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    except ValueError:
        raise _refuse("bad_time", where=where, found=text[:20], digits=digits) from None
    micro = int(text[14:]) * 1000 if digits == 17 else 0
    return local.replace(microsecond=micro, tzinfo=STATION_TZ).astimezone(UTC)


def _parse_number(text: str, where: str) -> float:
    # HJ 212 numbers are plain decimals: no exponents, no inf/nan, no spaces
    body = text[1:] if text[:1] in "+-" else text
    whole, _, frac = body.partition(".")
    if not body or not (whole or frac) or not (whole + frac).isdigit() or not (whole + frac).isascii():
        raise _refuse("bad_number", where=where, found=text[:20])
    value = float(text)
    if not math.isfinite(value):
        raise _refuse("bad_number", where=where, found=text[:20])
    return value


def parse_segment(data: str) -> Packet:
    """A :class:`Packet` from the data segment (the part the CRC covers)."""
    head, marker, rest = data.partition("CP=&&")
    if not marker:
        raise _refuse("no_cp")
    if not rest.endswith("&&"):
        raise _refuse("cp_not_closed")
    cp_text = rest[:-2]
    if head and not head.endswith(";"):
        raise _refuse("bad_field", field=head[-40:])
    fields = _pairs(head, ";", "packet")
    for required in ("ST", "CN", "MN"):
        if not fields.get(required):
            raise _refuse("missing", where=required, field=required)
    cn = fields["CN"]
    if not (cn.isdigit() and cn.isascii() and len(cn) <= 7):
        raise _refuse("bad_cn", where="CN", found=cn[:20])
    mn = fields["MN"]
    if not (mn.isalnum() and mn.isascii() and len(mn) <= 24):
        raise _refuse("bad_mn", where="MN", found=mn[:30])
    qn = fields.get("QN")
    if qn is not None:
        _parse_time(qn, "QN", 17)
    flag = pnum = pno = None
    for name in ("Flag", "PNUM", "PNO"):
        if name in fields:
            text = fields[name]
            if not (text.isdigit() and text.isascii() and len(text) <= 4):
                raise _refuse("bad_integer", where=name, found=text[:20])
    if "Flag" in fields:
        flag = int(fields["Flag"])
    if "PNUM" in fields:
        pnum, pno = int(fields["PNUM"]), int(fields.get("PNO") or 0)
        if not 1 <= pno <= pnum:
            raise _refuse("bad_split", where="PNO", pno=pno, pnum=pnum)
    cp: dict[str, str] = {}
    for group in cp_text.split(";"):
        for key, value in _pairs(group, ",", "CP").items():
            if key in cp:
                raise _refuse("duplicate_field", where="CP", field=key)
            cp[key] = value
    data_time = _parse_time(cp["DataTime"], "DataTime", 14) if "DataTime" in cp else None
    readings: tuple[Reading, ...] = ()
    if cn in DATA_COMMANDS:
        if data_time is None:
            raise _refuse("missing", where="DataTime", field="DataTime")
        readings = _readings(cp, DATA_COMMANDS[cn][1])
    return Packet(
        cn=cn,
        mn=mn,
        st=fields["ST"],
        pw=fields.get("PW"),
        qn=qn,
        flag=flag,
        pnum=pnum,
        pno=pno,
        data_time=data_time,
        cp=cp,
        readings=readings,
    )


def _readings(cp: dict[str, str], main_kind: str) -> tuple[Reading, ...]:
    values: dict[str, dict[str, float]] = {}
    flags: dict[str, str] = {}
    for key, text in cp.items():
        code, dash, kind = key.partition("-")
        if not dash:
            continue  # DataTime and other plain fields
        if kind == "Flag":
            if text not in FLAGS:
                raise _refuse("bad_flag", where=key, found=text[:5], flags=" ".join(FLAGS))
            flags[code] = text
        elif kind in VALUE_KINDS:
            values.setdefault(code, {})[kind] = _parse_number(text, key)
        # other per-pollutant fields (-SampleTime, -EFlag, ...) are kept in cp only
    out = []
    for code in sorted(set(values) | set(flags)):
        kinds = values.get(code, {})
        # a value without its flag is taken as normal, as stations omit -Flag=N
        out.append(Reading(code, kinds, flags.get(code, VALID_FLAG), kinds.get(main_kind)))
    return tuple(out)


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
