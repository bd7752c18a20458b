"""Reports: report data, rendering (Markdown/HTML), the review/release lifecycle, ICS forms, charts, GIS export and statistics.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load on first use
(see :mod:`incident.core.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.core.api import lazy_exports

if TYPE_CHECKING:
    from incident.reports.gis import plan_geojson
    from incident.reports.ics214 import export_ics214
    from incident.reports.lifecycle import (
        ReportInfo,
        draft_report,
        edit_report,
        export_report,
        export_text,
        get_report,
        list_reports,
        new_version,
        release_report,
        review_report,
        write_text,
    )
    from incident.reports.render import (
        KV,
        Bullets,
        Cell,
        Document,
        Para,
        Section,
        Stamp,
        Sub,
        Table,
        preview_markdown,
        to_html,
        to_markdown,
    )
    from incident.reports.stats import incident_statistics

_API: dict[str, str] = {
    "Bullets": "incident.reports.render",
    "Cell": "incident.reports.render",
    "Document": "incident.reports.render",
    "KV": "incident.reports.render",
    "Para": "incident.reports.render",
    "ReportInfo": "incident.reports.lifecycle",
    "Section": "incident.reports.render",
    "Stamp": "incident.reports.render",
    "Sub": "incident.reports.render",
    "Table": "incident.reports.render",
    "draft_report": "incident.reports.lifecycle",
    "edit_report": "incident.reports.lifecycle",
    "export_ics214": "incident.reports.ics214",
    "export_report": "incident.reports.lifecycle",
    "export_text": "incident.reports.lifecycle",
    "get_report": "incident.reports.lifecycle",
    "incident_statistics": "incident.reports.stats",
    "list_reports": "incident.reports.lifecycle",
    "new_version": "incident.reports.lifecycle",
    "plan_geojson": "incident.reports.gis",
    "preview_markdown": "incident.reports.render",
    "release_report": "incident.reports.lifecycle",
    "review_report": "incident.reports.lifecycle",
    "to_html": "incident.reports.render",
    "to_markdown": "incident.reports.render",
    "write_text": "incident.reports.lifecycle",
}

__all__ = [
    "Bullets",
    "Cell",
    "Document",
    "KV",
    "Para",
    "ReportInfo",
    "Section",
    "Stamp",
    "Sub",
    "Table",
    "draft_report",
    "edit_report",
    "export_ics214",
    "export_report",
    "export_text",
    "get_report",
    "incident_statistics",
    "list_reports",
    "new_version",
    "plan_geojson",
    "preview_markdown",
    "release_report",
    "review_report",
    "to_html",
    "to_markdown",
    "write_text",
]

__getattr__ = lazy_exports(__name__, _API)
