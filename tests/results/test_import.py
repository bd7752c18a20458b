"""CSV import: all or nothing, every bad row listed with its line, encodings, mappings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from incident.core import log
from incident.core.clock import fmt_local, utcnow
from incident.core.errors import UserError, ValidationErrors
from incident.core.store.engine import session_scope
from incident.core.store.tables import Result, Sample
from incident.results import entry as results
from incident.results.entry import NewSample
from incident.results.importer import import_results, load_mapping


def _t(hours_ago: float) -> str:
    return fmt_local(utcnow() - timedelta(hours=hours_ago))


@pytest.fixture
def lab_samples(planned):
    engine, code = planned
    with session_scope(engine) as s:
        codes = [
            results.create_sample(
                s,
                code,
                NewSample(point=p, round=1, sampled_at=utcnow() - timedelta(hours=3), sampler="Li Wei"),
                actor="t",
            ).code
            for p in ("S1", "S2", "S3")
        ]
    return engine, code, codes


def count_results(engine) -> int:
    with session_scope(engine) as s:
        return len(s.exec(select(Result)).all())


def test_good_lab_file_imports_every_row(lab_samples, tmp_path):
    engine, code, (s1, s2, s3) = lab_samples
    f = tmp_path / "lab.csv"
    f.write_text(
        "sample,parameter,value,unit,detection_limit,method\n"
        f"{s1},nitrobenzene,<0.0005,mg/L,,hj648_gc\n"
        f"{s2},nitrobenzene,595,µg/L,0.5,hj648_gc\n"
        f"{s3},硝基苯,0.0120,mg/L,0.0005,hj648_gc\n"
        f"{s3},Cd,0.001L,mg/L,,hj700_icpms\n",
        encoding="utf-8",
    )
    with session_scope(engine) as s:
        rep = import_results(s, code, f, actor="t")
    assert (rep.results, rep.samples_created, rep.encoding) == (4, 0, "UTF-8")
    assert rep.by_parameter == {"nitrobenzene": 3, "cadmium": 1}
    with session_scope(engine) as s:
        views = {(v.sample, v.parameter): v for v in results.result_records(s, code)}
        assert views[(s2, "nitrobenzene")].multiple == pytest.approx(34.0)
        assert views[(s1, "nitrobenzene")].verdict == "meets"
        kinds = [e.kind for e in log.entries(s, log.incident_chain(code))]
        assert kinds.count("results.imported") == 1 and kinds.count("result.logged") == 4
    # the same file twice is refused
    with session_scope(engine) as s, pytest.raises(UserError, match="already imported"):
        import_results(s, code, f, actor="t")


def test_bad_rows_import_nothing_and_every_bad_row_is_listed(lab_samples, tmp_path):
    engine, code, (s1, s2, s3) = lab_samples
    f = tmp_path / "bad.csv"
    f.write_text(
        "sample,parameter,value,unit,detection_limit,method\n"  # line 1
        f"{s1},nitrobenzene,0.012,mg/L,0.0005,hj648_gc\n"  # 2 good
        f"{s2},nitrobenzene,O.5,mg/L,0.0005,hj648_gc\n"  # 3 letter O
        f'{s3},nitrobenzene,"0,5",mg/L,0.0005,hj648_gc\n'  # 4 decimal comma
        "\n"  # 5 blank line, skipped
        f"{s3},cadmium,0.01,ppm,0.001,hj700_icpms\n"  # 6 ambiguous unit
        f"{s1},nitrobenzene,0.013,mg/L,0.0005,hj648_gc\n"  # 7 duplicate of line 2
        f"NOPE-1,cadmium,0.01,mg/L,0.001,hj700_icpms\n"  # 8 unknown sample
        f"{s2},cadmium,0.01,mg/L,0.001\n",  # 9 missing a cell
        encoding="utf-8",
    )
    with session_scope(engine) as s, pytest.raises(ValidationErrors) as err:
        import_results(s, code, f, actor="t")
    text = str(err.value)
    expected = {
        "line 3, column 'value'": "letter O",
        "line 4, column 'value'": "comma",
        "line 6, column 'unit'": "ambiguous",
        "bad.csv: line 7": "already on line 2",
        "line 8, column 'sample'": "no sample",
        "bad.csv: line 9": "cells but the header has",
    }
    for where, says in expected.items():
        assert any(where in (p.where or "") and says in p.problem for p in err.value.problems), (where, text)
    assert "nothing was imported" in text
    assert not any("line 2" in (p.where or "") for p in err.value.problems)
    assert count_results(engine) == 0
    with session_scope(engine) as s:
        assert not any(e.kind.startswith("result") for e in log.entries(s, log.incident_chain(code)))


def test_gbk_file_from_chinese_lab_software(lab_samples, tmp_path):
    engine, code, (s1, s2, _s3) = lab_samples
    f = tmp_path / "gbk.csv"
    f.write_bytes(
        (
            "样品编号,检测项目,检测结果,单位,检出限,分析方法\n"
            f"{s1},硝基苯,0.0005L,mg/L,,hj648_gc\n"
            f"{s2},硝基苯,0.212,mg/L,0.0005,hj648_gc\n"
        ).encode("gbk")
    )
    with session_scope(engine) as s:
        rep = import_results(s, code, f, actor="t")
    assert rep.encoding.startswith("GB18030") and rep.results == 2


def test_utf8_with_bom_and_gbk_with_a_bad_row_names_the_encoding(lab_samples, tmp_path):
    engine, code, (s1, _s2, _s3) = lab_samples
    f = tmp_path / "bom.csv"
    f.write_bytes(
        (
            "\ufeffsample,parameter,value,unit,detection_limit,method\n"
            f"{s1},镉,0.002,mg/L,0.0001,hj700_icpms\n"
        ).encode()
    )
    with session_scope(engine) as s:
        assert import_results(s, code, f, actor="t").encoding == "UTF-8 (BOM)"
    g = tmp_path / "gbk-bad.csv"
    g.write_bytes(
        (
            f"样品编号,检测项目,检测结果,单位,检出限,分析方法\n{s1},铅,０，５,毫克/升,0.001,hj700_icpms\n"
        ).encode("gbk")
    )
    with session_scope(engine) as s, pytest.raises(ValidationErrors) as err:
        import_results(s, code, g, actor="t")
    assert "read as GB18030" in str(err.value)
    assert {p.where.split(", column ")[1] for p in err.value.problems} == {"'检测结果'", "'单位'"}


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook"),
        (b"\xd0\xcf\x11\xe0old-xls", "Excel workbook"),
        (b"s\x00a\x00m\x00", "NUL bytes"),
        (b"sample,parameter,value\n\x80\x20\xff\n", "neither UTF-8 nor GBK"),
        (b"", "empty"),
        (b"sample,parameter,value,unit\n", "no rows"),
        (b"foo,bar\n1,2\n", "no parameter column"),
    ],
)
def test_unreadable_files_are_refused_with_an_explanation(lab_samples, tmp_path, content, says):
    engine, code, _ = lab_samples
    f = tmp_path / "x.csv"
    f.write_bytes(content)
    with session_scope(engine) as s, pytest.raises(UserError) as err:
        import_results(s, code, f, actor="t")
    assert says in str(err.value)


def test_station_series_with_mapping_file_creates_samples(planned, tmp_path):
    engine, code = planned
    mapping = tmp_path / "station.toml"
    mapping.write_text(
        '[columns]\npoint = "站点"\nsampled_at = "时间"\nparameter = "因子"\nvalue = "浓度"\n'
        '[defaults]\nunit = "µg/L"\ndetection_limit = "0.5"\nmethod = "online GC"\nprinciple = "gc"\n'
        'method_kind = "online"\n'
        '[parameters]\n"硝基苯类" = "nitrobenzene"\n',
        encoding="utf-8",
    )
    f = tmp_path / "station.csv"
    rows = ["站点,时间,因子,浓度"]
    for h in (6, 5, 4):
        stamp = (utcnow() - timedelta(hours=h)).astimezone().strftime("%Y/%m/%d %H:%M")
        rows.append(f"S4,{_t(h).replace('-', '/')},硝基苯类,{h * 10}")
        del stamp
    rows.append(f"S4,{_t(4)},Cd,0.9")  # same time as the last row -> same sample
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with session_scope(engine) as s:
        dry = import_results(s, code, f, actor="t", mapping=load_mapping(mapping), dry_run=True)
    assert dry.dry_run and dry.results == 4 and dry.samples_created == 3
    assert count_results(engine) == 0
    with session_scope(engine) as s:
        assert not s.exec(select(Sample)).all()
        rep = import_results(s, code, f, actor="t", mapping=load_mapping(mapping))
    assert rep.results == 4 and rep.samples_created == 3
    with session_scope(engine) as s:
        series = results.point_series(s, code, "S4", "nitrobenzene")
        samples = s.exec(select(Sample)).all()
    assert series.values_mg_l == pytest.approx([0.06, 0.05, 0.04])
    assert {x.sampler for x in samples} == {"automatic station"}


def test_mapping_and_col_option_errors(tmp_path):
    bad = tmp_path / "m.toml"
    bad.write_text('[columns]\nvalu = "x"\n', encoding="utf-8")
    with pytest.raises(UserError, match="not a column"):
        load_mapping(bad)
    with pytest.raises(UserError):
        load_mapping(None, ["value"])
    assert load_mapping(None, ["value=结果值"]).columns == {"value": "结果值"}


def test_an_import_reports_its_progress_through_the_file(planned, tmp_path, capsys, monkeypatch):
    """A file of the incident's substance takes about 10 ms a row: the importer tells how much of the
    file it has read, row by row, and the command line shows it in steps of ten percent on a terminal
    (never in a pipe), then wipes the line before the result."""
    import io
    import sys

    from incident.cli import main

    engine, code = planned
    f = tmp_path / "station.csv"
    lines = ["point,sampled_at,parameter,value,unit,detection_limit,method,principle,method_kind"]
    lines += [
        f"S4,{_t(1 + i / 10)},nitrobenzene,0.0{i + 1},mg/L,0.0005,online GC,gc,online" for i in range(30)
    ]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    seen: list[float] = []
    with session_scope(engine) as s:
        rep = import_results(s, code, f, actor="t", dry_run=True, progress=seen.append)
    assert rep.results == 30 and len(seen) == 30
    assert seen == sorted(seen) and seen[0] == pytest.approx(2 / 31) and seen[-1] == 1.0

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        assert main(["--db", str(engine.url), "import", "results", code, str(f), "--dry-run"]) == 0
        text = stream.getvalue()
        # one line per ten percent: 6 %, 12 %, 22 % … 100 % for 31 lines
        assert ("\rimport: 100 %" in text) == shown and text.count("\rimport: ") == (11 if shown else 0)
        assert text.endswith("\r" + " " * 14 + "\r") == shown  # wiped before the summary
        assert "would import 30 results" in capsys.readouterr().out
