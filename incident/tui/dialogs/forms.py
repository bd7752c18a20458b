"""The sampling screens' form signature, kept for their callers: one shared form underneath.

Fields are (key, label, default, required), or a :class:`FormField` where the field is more than
text (a number); ``choices`` adds one drop-down (key, options, default) at the top. Everything else (borders, Tab, Escape, inline errors) is the shared
:class:`incident.tui.dialogs.form.FormDialog`.
"""

from __future__ import annotations

from incident.core.i18n import t
from incident.tui.dialogs.form import ConfirmDialog, FormField
from incident.tui.dialogs.form import FormDialog as _SharedForm

__all__ = ["ConfirmDialog", "FormDialog", "FormField"]


class FormDialog(_SharedForm):
    def __init__(
        self,
        title: str,
        fields: list[tuple[str, str, str, bool] | FormField],
        *,
        message: str = "",
        ok_label: str | None = None,
        choices: tuple[str, list[tuple[str, str]], str] | None = None,
    ) -> None:
        shared: list[FormField] = []
        if choices:
            key, options, default = choices
            shared.append(FormField(key, t("formui.status"), default, choices=tuple(options)))
        shared += [
            f if isinstance(f, FormField) else FormField(f[0], f[1], f[2], required=f[3]) for f in fields
        ]
        super().__init__(title, shared, message=message, ok_label=ok_label or t("sampling_form.ok"))
