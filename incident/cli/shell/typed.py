"""Numbers on the command line, read by the project's one rule for typed numbers.

``type=number()`` / ``type=whole()`` in ``add_argument`` instead of ``type=float`` / ``type=int``:
the text goes through :func:`incident.core.inputs.parse_number` (ASCII digits only; no NaN,
infinity, ``1²``, ``１２`` or ``1_000``; at most 10¹²), and a refusal is the project's own: exit 2,
the keyed message in the reader's language, naming the flag. argparse only sees an
``ArgumentTypeError``; :class:`Parser` turns it back into the refusal, which ``main`` prints.

Light at start-up: the input layer (pydantic) loads when a number is read, not when the parser is
built.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from incident.core.errors import UserError


class RefusedArgument(argparse.ArgumentTypeError):
    """A command-line value the input layer refused; ``refusal`` is the project's UserError."""

    def __init__(self, refusal: UserError) -> None:
        super().__init__(refusal.message())
        self.refusal = refusal


class _Typed:
    """An argparse ``type``: a typed number, by :func:`incident.core.inputs.parse_number`."""

    def __init__(self, *, whole: bool, minimum: float | None, maximum: float | None) -> None:
        self.whole, self.minimum, self.maximum = whole, minimum, maximum
        self.__name__ = "whole number" if whole else "number"  # argparse names the type with this

    def __call__(self, text: str) -> float:
        from incident.core.errors import UserError
        from incident.core.inputs import parse_number

        try:
            value = parse_number(text, field="", minimum=self.minimum, maximum=self.maximum, whole=self.whole)
        except UserError as exc:
            raise RefusedArgument(exc) from None
        return int(value) if self.whole else float(value)


def number(*, minimum: float | None = None, maximum: float | None = None) -> _Typed:
    """``type=`` for a number flag (``--mass-kg 8000``)."""
    return _Typed(whole=False, minimum=minimum, maximum=maximum)


def whole(*, minimum: float | None = None, maximum: float | None = None) -> _Typed:
    """``type=`` for a whole-number flag (``--round 2``)."""
    return _Typed(whole=True, minimum=minimum, maximum=maximum)


def language_from(argv: Sequence[str]) -> None:
    """The refusal of a flag is shown before the command sets the language: read ``--lang`` (or
    $INCIDENT_LANG) from the words before parsing them."""
    from incident.core.i18n import SUPPORTED_LANGS, set_language

    lang = None
    for i, word in enumerate(argv):
        if word == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif word.startswith("--lang="):
            lang = word.split("=", 1)[1]
    if lang is None:  # not Settings(): that also finds the user, which reads the keystore
        from incident.core.config import default_lang

        lang = default_lang()
    if lang in SUPPORTED_LANGS:
        set_language(lang)


class Parser(argparse.ArgumentParser):
    """argparse, raising a refused number as the project's refusal (a UserError naming the flag;
    ``incident.cli.main`` prints it in the reader's language and exits 2); every other usage error
    as argparse does."""

    def error(self, message: str) -> NoReturn:
        err = sys.exc_info()[1]
        refused = getattr(err, "__context__", None)
        if isinstance(err, argparse.ArgumentError) and isinstance(refused, RefusedArgument):
            refusal = refused.refusal
            refusal.field = (err.argument_name or "").split("/")[0] or None
            refusal.params["name"] = refusal.field or ""
            raise refusal.relocated(None) from None
        super().error(message)
