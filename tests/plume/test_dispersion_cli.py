"""`incident dispersion`: one river as JSON, or a CSV of rivers with kx and its band added."""

import csv
import json

import pytest

from incident.cli import main
from models.dispersion import band, disley


def test_one_river_as_json(capsys):
    assert (
        main(
            [
                "dispersion",
                "--width",
                "50",
                "--depth",
                "1.2",
                "--velocity",
                "0.6",
                "--shear-velocity",
                "0.07",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["kx_m2s"] == pytest.approx(float(disley(50, 1.2, 0.6, 0.07)))
    assert (out["kx_low_m2s"], out["kx_high_m2s"]) == pytest.approx(
        tuple(float(v) for v in band(out["kx_m2s"]))
    )


def test_csv_in_csv_out(tmp_path):
    src = tmp_path / "rivers.csv"
    src.write_text("name,width_m,depth_m,velocity_m_s,shear_velocity_m_s,slope\nA,50,1.2,0.6,0.07,0.0004\n")
    out = tmp_path / "out.csv"
    assert main(["dispersion", "--csv", str(src), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["slope"] == "0.0004" and float(rows[0]["kx_low_m2s"]) < float(rows[0]["kx_m2s"]) < float(
        rows[0]["kx_high_m2s"]
    )


def test_bad_csv_is_refused_with_where(tmp_path, capsys):
    src = tmp_path / "rivers.csv"
    src.write_text("width_m,depth_m,velocity_m_s\n50,1.2,0.6\n")
    assert main(["dispersion", "--csv", str(src)]) == 2
    assert "shear_velocity_m_s" in capsys.readouterr().err


def test_refusals_in_chinese(tmp_path, capsys):
    assert main(["--lang", "zh", "dispersion", "--width", "50"]) == 2
    assert "请给出 --csv 文件" in capsys.readouterr().err
    assert (
        main(
            [
                "--lang",
                "zh",
                "dispersion",
                "--width",
                "50",
                "--depth",
                "-1",
                "--velocity",
                "1",
                "--shear-velocity",
                "0.1",
            ]
        )
        == 2
    )
    assert "必须是大于 0 的数" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("width_m,depth_m\n50,1\n")
    assert main(["--lang", "zh", "dispersion", "--csv", str(bad)]) == 2
    assert "缺少列" in capsys.readouterr().err
    assert main(["--lang", "en", "dispersion", "--csv", str(bad)]) == 2
    assert "missing column(s) velocity_m_s, shear_velocity_m_s" in capsys.readouterr().err


def test_numbers_beyond_any_river_are_refused_not_printed_as_nan(capsys):
    """Found by the CLI fuzz: the formulas overflowed and the command printed "Kx nan", exit 0."""
    line = [
        "dispersion",
        "--width",
        "1e-300",
        "--depth",
        "1e-300",
        "--velocity",
        "1e12",
        "--shear-velocity",
        "1e-300",
    ]
    assert main(line) == 2
    captured = capsys.readouterr()
    assert "nan" not in captured.out
    assert captured.err.startswith("incident: dispersion: ") and "finite" in captured.err


def test_out_into_a_folder_is_refused(tmp_path, capsys):
    """Found by the CLI fuzz: --out naming a folder raised IsADirectoryError."""
    src = tmp_path / "rivers.csv"
    src.write_text("name,width_m,depth_m,velocity_m_s,shear_velocity_m_s\nA,50,1.2,0.6,0.07\n")
    assert main(["dispersion", "--csv", str(src), "--out", str(tmp_path)]) == 2
    assert "cannot write the dispersion CSV" in capsys.readouterr().err
