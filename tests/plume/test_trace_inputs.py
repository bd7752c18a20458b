"""The source-tracing CSV goes through the input layer: each bad cell is refused naming file, line and
column, in English and Chinese, and nothing but the project's refusal comes out."""

from __future__ import annotations

import pytest

from incident.core.errors import ValidationErrors
from incident.demo.seed import DEMO_RIVER
from incident.plume.trace_inputs import TraceRow
from incident.plume.uncertainty import trace_file

HEADER = "station,reach,km,time,value_mg_l,detection_limit_mg_l"
GOOD = "W1,,,2026-05-01 09:30,0.0123,0.0005"


def _trace(tmp_path, *rows: str) -> ValidationErrors:
    path = tmp_path / "obs.csv"
    path.write_text("\n".join([HEADER, GOOD, *rows]) + "\n", encoding="utf-8")
    with pytest.raises(ValidationErrors) as err:
        trace_file(path, DEMO_RIVER)
    return err.value


def test_a_refusal_names_file_line_and_column_in_en_and_zh(tmp_path):
    err = _trace(tmp_path, "W1,,,2026-05-01 11:00,1²,0.0005", "W1,,,2026-05-01 12:00,0.1,１２")
    assert len(err.problems) == 2
    value, limit = err.problems
    assert (
        value.where.endswith("obs.csv: line 3: value_mg_l")
        and value.key == "errors.plume.value_not_concentration"
    )
    assert limit.where.endswith("obs.csv: line 4: detection_limit_mg_l")
    assert "'1²' is not a concentration" in value.render("en")
    assert "'1²' 不是浓度" in value.render("zh") and "line 3: value_mg_l" in value.render("zh")
    assert "不是大于 0 的数" in limit.render("zh") and "'１２'" in limit.render("en")


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("W1,,,2026-05-01 11:00,nan,0.0005", "value_mg_l"),
        ("W1,,,2026-05-01 11:00,1e999,0.0005", "value_mg_l"),
        ("W1,,,2026-05-01 11:00,-0.1,0.0005", "value_mg_l"),
        ("W1,,,2026-05-01 11:00,\u200f0.1,0.0005", "value_mg_l"),
        ("W1,,,2026-05-01 11:00,0.1,0", "detection_limit_mg_l"),
        ("W1,,,2026-05-01 11:00,0.1,inf", "detection_limit_mg_l"),
        ("X9,M05,8５,2026-05-01 11:00,0.1,0.0005", "km"),
        ("X9,M05,1e30,2026-05-01 11:00,0.1,0.0005", "km"),
        ("W1,,,2026-13-01 11:00,0.1,0.0005", "time"),
        (",,,2026-05-01 11:00,0.1,0.0005", "station"),
    ],
)
def test_hostile_cells_are_refused_at_their_column(tmp_path, row, column):
    err = _trace(tmp_path, row)
    assert [p.where.rsplit(": ", 1)[-1] for p in err.problems] == [column]
    assert "line 3" in err.problems[0].where
    for lang in ("en", "zh"):
        assert err.problems[0].render(lang)


def test_not_detected_spellings_are_censored():
    for text in ("ND", "n.d.", "<DL", "未检出", ""):
        row = TraceRow.model_validate(
            {
                "station": "W1",
                "time": "2026-05-01 08:00",
                "value_mg_l": text,
                "detection_limit_mg_l": "0.0005",
            }
        )
        assert row.value_mg_l is None and row.censored
    below = TraceRow.model_validate(
        {
            "station": "W1",
            "time": "2026-05-01 08:00",
            "value_mg_l": "0.0001",
            "detection_limit_mg_l": "0.0005",
        }
    )
    assert below.value_mg_l == pytest.approx(0.0001) and below.censored
