"""Errors a person can act on.

Every refusal names where the problem is (file, line, field or feature) and how
to fix it, because the reader is a responder at 3 a.m., not a developer.

A refusal is a **message key plus values**, rendered when it is shown, in the
language of whoever reads it: ``UserError("errors.incident.no_title",
field="title")``. The catalogs (``incident/locale/<lang>/*.toml``) hold the text
under the key and, under ``<key>_fix``, how to fix it. ``field`` names the input
the problem is in, by its canonical name (``mass_kg``); the CLI shows it as its
flag (``--mass-kg``), a TUI form marks that field. Older call sites still pass
English text; tests/core/test_i18n.py counts them and only lets the number fall.
"""

from __future__ import annotations

import re
from typing import Any

_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


def is_message_key(text: str) -> bool:
    """A dotted catalog key (``errors.incident.no_title``), not free text."""
    return bool(_KEY.match(text))


class UserError(Exception):
    """A refusal caused by input, shown to the user as is (never a traceback).

    ``problem`` is a catalog key (preferred) or text; ``params`` fill its
    placeholders; ``where`` names the file/line/feature; ``field`` the input
    field; ``fix`` overrides the catalog's ``<key>_fix`` text.
    """

    def __init__(
        self,
        problem: str,
        *,
        where: str | None = None,
        fix: str | None = None,
        field: str | None = None,
        **params: Any,
    ) -> None:
        self.key = problem if is_message_key(problem) else None
        self._problem = problem
        self._fix = fix
        self.where = where
        self.field = field
        self.params = params
        super().__init__(self.render())

    @property
    def problem(self) -> str:
        return self.message()

    @property
    def fix(self) -> str | None:
        return self.fix_text()

    def message(self, lang: str | None = None) -> str:
        if self.key is None:
            return self._problem
        from incident.core.i18n import t

        return t(self.key, lang=lang, **{"field": self.field or "", **self.params})

    def fix_text(self, lang: str | None = None) -> str | None:
        if self._fix is not None or self.key is None:
            return self._fix
        from incident.core.i18n import catalog, t

        fix_key = f"{self.key}_fix"
        params = {"field": self.field or "", **self.params}
        return t(fix_key, lang=lang, **params) if fix_key in catalog("en") else None

    def relocated(self, where: str | None) -> UserError:
        """The same refusal (key, values, field, fix) reported at another place."""
        import copy

        err = copy.copy(self)
        err.where = where
        Exception.__init__(err, err.render())
        return err

    def place(self, field_label: str | None = None) -> str | None:
        """Where, for the reader: the file/line, then the field as the front end names it."""
        parts = [p for p in (self.where, field_label or self.field) if p]
        return ", ".join(parts) if parts else None

    def render(self, lang: str | None = None, *, field_label: str | None = None) -> str:
        from incident.core.i18n import t

        place = self.place(field_label)
        text = f"{place}: {self.message(lang)}" if place else self.message(lang)
        fix = self.fix_text(lang)
        if fix:
            text += f"\n  {t('errors.fix_label', lang=lang)}: {fix}"
        return text

    def __str__(self) -> str:
        return self.render()


class ValidationErrors(UserError):
    """Several problems found in one input; all are reported at once."""

    def __init__(
        self, source: str, problems: list[UserError], *, outcome: str = "errors.outcome.nothing_imported"
    ) -> None:
        self.source = source
        self.problems = problems
        self.outcome = outcome
        self.key = None
        self._problem = f"{len(problems)} problem(s)"
        self._fix = None
        self.where = source
        self.field = None
        self.params = {}
        Exception.__init__(self, self.render())

    def render(self, lang: str | None = None, *, field_label: str | None = None) -> str:
        from incident.core.i18n import t

        outcome = t(self.outcome, lang=lang) if is_message_key(self.outcome) else self.outcome
        lines = [
            f"{self.source}: {t('errors.outcome.summary', lang=lang, n=len(self.problems), outcome=outcome)}"
        ]
        lines += [f"- {p.render(lang)}" for p in self.problems]
        return "\n".join(lines)
