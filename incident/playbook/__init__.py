"""Playbooks: the HJ 589 step-by-step formats, runs of a playbook for an incident, and the actions its steps call.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load on first use
(see :mod:`incident.core.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.core.api import lazy_exports

if TYPE_CHECKING:
    from incident.playbook.actions import action_label, is_available
    from incident.playbook.formats import (
        FormField,
        find_playbook,
        list_playbooks,
        load_playbook_file,
        shipped_files,
        suggest_playbook_id,
    )
    from incident.playbook.registry import outcome_text
    from incident.playbook.runs import (
        RunView,
        StepView,
        complete_step,
        run_step_action,
        run_view,
        save_form,
        set_check,
        skip_step,
        start_run,
        undo_step,
    )

_API: dict[str, str] = {
    "FormField": "incident.playbook.formats",
    "RunView": "incident.playbook.runs",
    "StepView": "incident.playbook.runs",
    "action_label": "incident.playbook.actions",
    "complete_step": "incident.playbook.runs",
    "find_playbook": "incident.playbook.formats",
    "is_available": "incident.playbook.actions",
    "list_playbooks": "incident.playbook.formats",
    "load_playbook_file": "incident.playbook.formats",
    "outcome_text": "incident.playbook.registry",
    "run_step_action": "incident.playbook.runs",
    "run_view": "incident.playbook.runs",
    "save_form": "incident.playbook.runs",
    "set_check": "incident.playbook.runs",
    "shipped_files": "incident.playbook.formats",
    "skip_step": "incident.playbook.runs",
    "start_run": "incident.playbook.runs",
    "suggest_playbook_id": "incident.playbook.formats",
    "undo_step": "incident.playbook.runs",
}

__all__ = [
    "FormField",
    "RunView",
    "StepView",
    "action_label",
    "complete_step",
    "find_playbook",
    "is_available",
    "list_playbooks",
    "load_playbook_file",
    "outcome_text",
    "run_step_action",
    "run_view",
    "save_form",
    "set_check",
    "shipped_files",
    "skip_step",
    "start_run",
    "suggest_playbook_id",
    "undo_step",
]

__getattr__ = lazy_exports(__name__, _API)
