"""HJ 212-2017 parser: framing, CRC (the standard's own example), each data command, flags, codes,
and a fuzz: whatever the bytes, only the project's refusal comes out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident.core.errors import UserError
from incident.stations import WATER_CODES, build_data_segment, crc16, frame, parse_packet

# HJ 212-2017's own example (Appendix A): length 0101, CRC 1C80
EXAMPLE = (
    "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&"
)
EXAMPLE_PACKET = "##0101" + EXAMPLE + "1C80\r\n"


def test_crc_of_the_standards_example():
    assert len(EXAMPLE) == 101
    assert crc16(EXAMPLE.encode()) == 0x1C80
    assert frame(EXAMPLE) == EXAMPLE_PACKET


def test_the_standards_example_parses():
    p = parse_packet(EXAMPLE_PACKET)
    assert (p.qn, p.st, p.cn, p.pw, p.mn, p.flag) == (
        "20160801085857223",
        "32",
        "1062",
        "100000",
        "010000A8900016F000169DC0",
        5,
    )
    assert p.cp == {"RtdInterval": "30"}
    assert not p.is_data and p.readings == ()


def test_bytes_and_no_crlf_are_accepted():
    assert parse_packet(EXAMPLE_PACKET.encode()).mn == "010000A8900016F000169DC0"
    assert parse_packet(EXAMPLE_PACKET.rstrip()).cn == "1062"


@pytest.mark.parametrize(
    "packet, where_part",
    [
        ("#0101" + EXAMPLE + "1C80\r\n", "##"),
        ("##01a1" + EXAMPLE + "1C80\r\n", "length"),
        ("##0102" + EXAMPLE + "1C80\r\n", "length"),
        ("##0100" + EXAMPLE + "1C80\r\n", "length"),
        ("##0101" + EXAMPLE + "1C81\r\n", "CRC"),
        ("##0101" + EXAMPLE + "1CG0\r\n", "CRC"),
        ("##0101" + EXAMPLE.replace("Flag=5", "Flag=6") + "1C80\r\n", "CRC"),
        ("##2000" + "x" * 2000 + "0000\r\n", "limit"),
    ],
)
def test_bad_frames_are_refused(packet, where_part):
    with pytest.raises(UserError) as err:
        parse_packet(packet)
    assert where_part in err.value.problem
    assert err.value.fix


def test_crc_mismatch_names_both_values():
    with pytest.raises(UserError, match="1C81.*1C80"):
        parse_packet("##0101" + EXAMPLE + "1C81\r\n")


def test_lowercase_crc_is_accepted():
    assert parse_packet("##0101" + EXAMPLE + "1c80").cn == "1062"


AT = datetime(2024, 7, 1, 3, 0, tzinfo=UTC)  # 11:00 in China Standard Time


@pytest.mark.parametrize(
    "cn, kind, interval",
    [
        ("2011", "Rtd", "realtime"),
        ("2051", "Avg", "minute"),
        ("2061", "Avg", "hourly"),
        ("2031", "Avg", "daily"),
    ],
)
def test_each_data_command(cn, kind, interval):
    seg = (
        f"QN=20240701110000123;ST=21;CN={cn};PW=123456;MN=ST0001;Flag=5;CP=&&DataTime=20240701110000;"
        f"w21003-{kind}=0.35,w21003-Flag=N;w01001-{kind}=7.12,w01001-Flag=M;w01018-{kind}=15,w01018-Flag=D"
        + (
            ";w21011-Min=0.01,w21011-Avg=0.05,w21011-Max=0.09,w21011-Cou=1.5,w21011-Flag=N"
            if kind == "Avg"
            else ""
        )
        + "&&"
    )
    p = parse_packet(frame(seg))
    assert p.is_data and p.interval == interval and p.mn == "ST0001" and p.st == "21"
    assert p.data_time == AT  # local 11:00 CST is 03:00 UTC
    by_code = {r.code: r for r in p.readings}
    nh3 = by_code["w21003"]
    assert (nh3.parameter, nh3.unit, nh3.value, nh3.flag, nh3.valid) == (
        "ammonia_nitrogen",
        "mg/L",
        0.35,
        "N",
        True,
    )
    # maintenance and fault flags are kept but are not valid data
    assert (by_code["w01001"].flag, by_code["w01001"].valid, by_code["w01001"].value) == ("M", False, 7.12)
    assert (by_code["w01018"].flag, by_code["w01018"].valid) == ("D", False)
    if kind == "Avg":
        tp = by_code["w21011"]
        assert tp.values == {"Min": 0.01, "Avg": 0.05, "Max": 0.09, "Cou": 1.5} and tp.value == 0.05


def test_rtd_only_packet_under_a_minute_command_has_no_value():
    seg = "ST=21;CN=2051;MN=ST0001;CP=&&DataTime=20240701110000;w21003-Rtd=0.35,w21003-Flag=N&&"
    (reading,) = parse_packet(frame(seg)).readings
    assert reading.value is None and not reading.valid


@pytest.mark.parametrize("flag", list("NFMSDCTB"))
def test_every_flag_is_kept_and_only_n_is_valid(flag):
    seg = build_data_segment(
        mn="ST0001", cn="2011", data_time=AT, values={"w21003": 0.2}, flags={"w21003": flag}
    )
    (reading,) = parse_packet(frame(seg)).readings
    assert reading.flag == flag and reading.valid is (flag == "N")


def test_unknown_flag_is_refused():
    seg = "ST=21;CN=2011;MN=ST0001;CP=&&DataTime=20240701110000;w21003-Rtd=0.35,w21003-Flag=X&&"
    with pytest.raises(UserError) as err:
        parse_packet(frame(seg))
    assert err.value.where == "w21003-Flag"


def test_missing_flag_counts_as_normal():
    seg = "ST=21;CN=2011;MN=ST0001;CP=&&DataTime=20240701110000;w21003-Rtd=0.35&&"
    (reading,) = parse_packet(frame(seg)).readings
    assert reading.flag == "N" and reading.valid


def test_water_codes_map_to_the_projects_parameters():
    expected = {
        "w01001": ("ph", "pH"),
        "w01009": ("dissolved_oxygen", "mg/L"),
        "w01014": ("conductivity", "µS/cm"),
        "w01003": ("turbidity", "NTU"),
        "w01010": ("water_temperature", "°C"),
        "w01018": ("cod", "mg/L"),
        "w01019": ("permanganate_index", "mg/L"),
        "w21003": ("ammonia_nitrogen", "mg/L"),
        "w21011": ("total_phosphorus", "mg/L"),
        "w21001": ("total_nitrogen", "mg/L"),
    }
    assert {c: (w.parameter, w.unit) for c, w in WATER_CODES.items()} == expected


def test_gb3838_keys_agree_with_the_standards_file():
    from incident.core.standards import parameters

    for code in ("w21003", "w01018", "w21011"):
        assert WATER_CODES[code].parameter in parameters()


def test_unknown_code_is_kept_without_a_parameter():
    seg = "ST=21;CN=2011;MN=ST0001;CP=&&DataTime=20240701110000;w99999-Rtd=1,w99999-Flag=N&&"
    (reading,) = parse_packet(frame(seg)).readings
    assert reading.code == "w99999" and reading.parameter is None


def test_round_trip_of_a_built_packet():
    values = {"w21003": 0.35, "w01001": 7.5, "w01014": 412.0, "w01018": None}
    seg = build_data_segment(mn="ABC123", cn="2051", data_time=AT, values=values, flags={"w01018": "F"})
    p = parse_packet(frame(seg))
    got = {r.code: (r.value, r.flag) for r in p.readings}
    assert got == {"w21003": (0.35, "N"), "w01001": (7.5, "N"), "w01014": (412.0, "N"), "w01018": (None, "F")}
    assert p.data_time == AT


def test_split_packets():
    seg = "ST=21;CN=2011;MN=ST0001;Flag=7;PNUM=2;PNO=1;CP=&&DataTime=20240701110000;w21003-Rtd=1&&"
    p = parse_packet(frame(seg))
    assert (p.pnum, p.pno) == (2, 1)
    with pytest.raises(UserError):
        parse_packet(frame(seg.replace("PNO=1", "PNO=3")))


@pytest.mark.parametrize(
    "segment, where",
    [
        ("ST=21;CN=2011;MN=ST0001;CP=&&w21003-Rtd=1&&", "DataTime"),
        ("ST=21;CN=2011;MN=ST0001;CP=&&DataTime=20241301110000;w21003-Rtd=1&&", "DataTime"),
        ("ST=21;CN=2011;MN=ST0001;CP=&&DataTime=00010101000000;w21003-Rtd=1&&", "DataTime"),  # not in UTC
        ("ST=21;CN=2011;MN=ST0001;CP=&&DataTime=20240701110000;w21003-Rtd=1e3&&", "w21003-Rtd"),
        ("ST=21;CN=2011;MN=ST0001;CP=&&DataTime=20240701110000;w21003-Rtd=nan&&", "w21003-Rtd"),
        ("ST=21;CN=2011;MN=ST0001;CP=&&DataTime=20240701110000;w21003-Rtd=&&", "w21003-Rtd"),
        ("ST=21;CN=2011;CP=&&DataTime=20240701110000&&", "MN"),
        ("ST=21;CN=20x1;MN=ST0001;CP=&&DataTime=20240701110000&&", "CN"),
        ("QN=2024;ST=21;CN=2011;MN=ST0001;CP=&&DataTime=20240701110000&&", "QN"),
        ("ST=21;CN=2011;MN=ST0001;CP=&&DataTime=20240701110000", "packet"),
        ("ST=21;CN=2011;MN=ST0001;", "packet"),
        ("ST=21;CN=2011;CN=2011;MN=ST0001;CP=&&&&", "packet"),
        ("ST=21;CN=2011;MN=ST 01;CP=&&&&", "MN"),
    ],
)
def test_malformed_segments_name_where(segment, where):
    with pytest.raises(UserError) as err:
        parse_packet(frame(segment))
    assert err.value.where == where


def test_refusal_in_chinese():
    from incident.core.i18n import get_language, set_language

    before = get_language()
    set_language("zh")
    try:
        with pytest.raises(UserError, match="CRC 校验不符"):
            parse_packet("##0101" + EXAMPLE + "1C81\r\n")
    finally:
        set_language(before)


def _mutations():
    good = frame(
        build_data_segment(mn="ST0001", cn="2051", data_time=AT, values={"w21003": 0.35, "w01001": 7.1})
    )
    return st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300),
        st.builds(lambda body: frame(body) if body.isascii() else body, st.text(max_size=200)),
        # a good packet with a few bytes changed, cut or inserted
        st.builds(
            lambda i, b, cut: good.encode()[:i] + bytes([b]) + good.encode()[i + cut :],
            st.integers(0, len(good)),
            st.integers(0, 255),
            st.integers(0, 3),
        ),
        # a well-framed packet whose data segment is mangled (so the CRC passes and the parser is tried)
        st.builds(
            lambda i, s, cut: frame(good[6:-6][:i] + s + good[6:-6][i + cut :]),
            st.integers(0, len(good) - 12),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
            st.integers(0, 12),
        ),
    )


@given(_mutations())
def test_fuzz_only_the_projects_refusal_comes_out(data):
    try:
        packet = parse_packet(data)
    except UserError as err:
        assert err.problem and err.fix and err.where
    else:
        assert packet.mn and packet.cn
        for reading in packet.readings:
            assert reading.flag in "NFMSDCTB"


@pytest.mark.parametrize(
    "cp, field, en, zh",
    [
        ("w21003-Avg=1e3", "w21003-Avg", "'1e3' is not a plain decimal number", "'1e3' 不是普通十进制数"),
        ("w21003-Avg=inf", "w21003-Avg", "is not a plain decimal number", "不是普通十进制数"),
        ("w21003-Avg=" + "9" * 40, "w21003-Avg", "is not a plain decimal number", "不是普通十进制数"),
        (
            "w21003-Avg=0.3,w21003-Flag=Q",
            "w21003-Flag",
            "'Q' is not one of the standard's flags",
            "数据标记 'Q'",
        ),
    ],
)
def test_a_bad_pollutant_field_is_refused_by_name_in_en_and_zh(cp, field, en, zh):
    """The pollutant fields go through the input layer's model (PacketFields): the refusal names the
    packet's field and reads in both languages."""
    seg = f"ST=21;CN=2051;MN=ST0001;CP=&&DataTime=20240701110000;{cp}&&"
    with pytest.raises(UserError) as err:
        parse_packet(frame(seg))
    assert err.value.where == field and err.value.key and err.value.key.startswith("stations.hj212.")
    assert err.value.render("en").startswith(f"{field}: ") and en in err.value.render("en")
    assert err.value.render("zh").startswith(f"{field}: ") and zh in err.value.render("zh")


def test_a_missing_field_is_named_in_en_and_zh():
    with pytest.raises(UserError) as err:
        parse_packet(frame("ST=21;CN=2051;CP=&&DataTime=20240701110000&&"))
    assert err.value.where == "MN"
    assert "the field MN is missing" in err.value.render("en") and "缺少字段 MN" in err.value.render("zh")


@pytest.mark.parametrize("value", ["1²", "１２", "\u200f12", "1\x00"])
def test_odd_unicode_in_a_value_is_refused_by_the_fields_model(value):
    """Past the frame (which only lets ASCII through) the model refuses it too: one copy of the rule."""
    from incident.stations._hj212 import parse_segment

    with pytest.raises(UserError) as err:
        parse_segment(f"ST=21;CN=2051;MN=ST0001;CP=&&DataTime=20240701110000;w21003-Avg={value}&&")
    assert err.value.where == "w21003-Avg" and err.value.key == "stations.hj212.bad_number"
