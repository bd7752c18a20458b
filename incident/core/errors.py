"""Errors a person can act on.

Every refusal names where the problem is (file, line, field or feature) and how
to fix it, because the reader is a responder at 3 a.m., not a developer.
"""

from __future__ import annotations


class UserError(Exception):
    """A refusal caused by input, shown to the user as is (never a traceback).

    ``where`` names the file/line/field/feature, ``fix`` says what to do.
    """

    def __init__(self, problem: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.problem = problem
        self.where = where
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.where}: {self.problem}" if self.where else self.problem
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class ValidationErrors(UserError):
    """Several problems found in one input; all are reported at once."""

    def __init__(
        self, source: str, problems: list[UserError], *, outcome: str = "nothing was imported"
    ) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s), {outcome}"]
        lines += [f"- {p.render()}" for p in problems]
        Exception.__init__(self, "\n".join(lines))
        self.problem = lines[0]
        self.where = source
        self.fix = None

    def render(self) -> str:  # noqa: D401 - same as str()
        return str(self)
