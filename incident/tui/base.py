"""Small shared pieces for screens: translated bindings, the exercise marker."""

from __future__ import annotations

import dataclasses

from textual.dom import DOMNode

from incident.i18n import t


def localise_bindings(node: DOMNode) -> None:
    """Replace i18n keys in a node's binding descriptions with translated text.

    BINDINGS are class attributes evaluated before the language is known, so
    they carry catalog keys (``key.help``) and each instance translates its
    own copy of the bindings map.
    """
    table = node._bindings.key_to_bindings  # per-instance copy (DOMNode.__init__)
    for key, bindings in list(table.items()):
        table[key] = [
            dataclasses.replace(
                b,
                description=t(b.description) if b.description else b.description,
                tooltip=t(b.tooltip) if b.tooltip else b.tooltip,
            )
            for b in bindings
        ]


class Localised:
    """Mixin for App/Screen subclasses: translate bindings on construction."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        localise_bindings(self)  # type: ignore[arg-type]
