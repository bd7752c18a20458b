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
    from incident.reports.photos import (
        MAX_PHOTO_BYTES,
        PhotoInfo,
        add_photo,
        check_photo_files,
        list_photos,
        photo_file_problems,
    )
    from incident.reports.render import (
        KV,
        Block,
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
    from incident.reports.survey import Survey, set_survey, survey_form
    from incident.reports.survey_fields import SURVEY_ENTERED_FIELDS, SURVEY_FIELDS

_API: dict[str, str] = {
    "Block": "incident.reports.render",
    "Bullets": "incident.reports.render",
    "Cell": "incident.reports.render",
    "Document": "incident.reports.render",
    "KV": "incident.reports.render",
    "MAX_PHOTO_BYTES": "incident.reports.photos",
    "Para": "incident.reports.render",
    "PhotoInfo": "incident.reports.photos",
    "ReportInfo": "incident.reports.lifecycle",
    "SURVEY_ENTERED_FIELDS": "incident.reports.survey_fields",
    "SURVEY_FIELDS": "incident.reports.survey_fields",
    "Section": "incident.reports.render",
    "Stamp": "incident.reports.render",
    "Sub": "incident.reports.render",
    "Survey": "incident.reports.survey",
    "Table": "incident.reports.render",
    "add_photo": "incident.reports.photos",
    "check_photo_files": "incident.reports.photos",
    "draft_report": "incident.reports.lifecycle",
    "edit_report": "incident.reports.lifecycle",
    "export_ics214": "incident.reports.ics214",
    "export_report": "incident.reports.lifecycle",
    "export_text": "incident.reports.lifecycle",
    "get_report": "incident.reports.lifecycle",
    "incident_statistics": "incident.reports.stats",
    "list_photos": "incident.reports.photos",
    "list_reports": "incident.reports.lifecycle",
    "new_version": "incident.reports.lifecycle",
    "photo_file_problems": "incident.reports.photos",
    "plan_geojson": "incident.reports.gis",
    "preview_markdown": "incident.reports.render",
    "release_report": "incident.reports.lifecycle",
    "review_report": "incident.reports.lifecycle",
    "set_survey": "incident.reports.survey",
    "survey_form": "incident.reports.survey",
    "to_html": "incident.reports.render",
    "to_markdown": "incident.reports.render",
    "write_text": "incident.reports.lifecycle",
}

__all__ = [
    "Block",
    "Bullets",
    "Cell",
    "Document",
    "KV",
    "MAX_PHOTO_BYTES",
    "Para",
    "PhotoInfo",
    "ReportInfo",
    "SURVEY_ENTERED_FIELDS",
    "SURVEY_FIELDS",
    "Section",
    "Stamp",
    "Sub",
    "Survey",
    "Table",
    "add_photo",
    "check_photo_files",
    "draft_report",
    "edit_report",
    "export_ics214",
    "export_report",
    "export_text",
    "get_report",
    "incident_statistics",
    "list_photos",
    "list_reports",
    "new_version",
    "photo_file_problems",
    "plan_geojson",
    "preview_markdown",
    "release_report",
    "review_report",
    "set_survey",
    "survey_form",
    "to_html",
    "to_markdown",
    "write_text",
]

__getattr__ = lazy_exports(__name__, _API)
