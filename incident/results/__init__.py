"""Results: entry, units, evaluation against the standard, QC (blanks, parallels), chain of custody, CSV import and the termination check.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load on first use
(see :mod:`incident.core.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.core.api import lazy_exports

if TYPE_CHECKING:
    from incident.results.custody import chain, hand_off, holder
    from incident.results.entry import (
        NewSample,
        PointSeries,
        ResultInput,
        RoundTable,
        add_result,
        correct_result,
        create_sample,
        find_point,
        get_sample,
        input_from_result,
        latest_sample_by_point,
        list_samples,
        point_series,
        round_table,
    )
    from incident.results.importer import import_results, load_mapping
    from incident.results.plausibility import confirm_result, held_results
    from incident.results.qc_table import qc_summary
    from incident.results.record import ResultRecord, result_record, result_records
    from incident.results.termination import check_termination
    from incident.results.units import parse_number, parse_result_value, unit_factor

_API: dict[str, str] = {
    "NewSample": "incident.results.entry",
    "PointSeries": "incident.results.entry",
    "ResultInput": "incident.results.entry",
    "ResultRecord": "incident.results.record",
    "RoundTable": "incident.results.entry",
    "add_result": "incident.results.entry",
    "chain": "incident.results.custody",
    "check_termination": "incident.results.termination",
    "confirm_result": "incident.results.plausibility",
    "correct_result": "incident.results.entry",
    "create_sample": "incident.results.entry",
    "find_point": "incident.results.entry",
    "get_sample": "incident.results.entry",
    "hand_off": "incident.results.custody",
    "held_results": "incident.results.plausibility",
    "holder": "incident.results.custody",
    "import_results": "incident.results.importer",
    "input_from_result": "incident.results.entry",
    "latest_sample_by_point": "incident.results.entry",
    "list_samples": "incident.results.entry",
    "load_mapping": "incident.results.importer",
    "parse_number": "incident.results.units",
    "parse_result_value": "incident.results.units",
    "point_series": "incident.results.entry",
    "qc_summary": "incident.results.qc_table",
    "result_record": "incident.results.record",
    "result_records": "incident.results.record",
    "round_table": "incident.results.entry",
    "unit_factor": "incident.results.units",
}

__all__ = [
    "NewSample",
    "PointSeries",
    "ResultInput",
    "ResultRecord",
    "RoundTable",
    "add_result",
    "chain",
    "check_termination",
    "confirm_result",
    "correct_result",
    "create_sample",
    "find_point",
    "get_sample",
    "hand_off",
    "held_results",
    "holder",
    "import_results",
    "input_from_result",
    "latest_sample_by_point",
    "list_samples",
    "load_mapping",
    "parse_number",
    "parse_result_value",
    "point_series",
    "qc_summary",
    "result_record",
    "result_records",
    "round_table",
    "unit_factor",
]

__getattr__ = lazy_exports(__name__, _API)
