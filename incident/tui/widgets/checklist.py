"""A SelectionList that survives being rebuilt while a highlight message is in flight.

Textual's SelectionList turns each OptionList.OptionHighlighted into a
SelectionHighlighted by looking the option up by index; when the list is
cleared and refilled (the playbook screen does this on every refresh) a
message queued before the clear points past the end and the lookup raises
OptionDoesNotExist, which would crash the app mid-response. Stale highlights
are dropped instead.
"""

from __future__ import annotations

from textual.widgets import OptionList, SelectionList


class Checklist(SelectionList[str]):
    def _on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        # Textual calls this handler on every class in the MRO; SelectionList's own one
        # (which does the lookup) runs after this unless the default is prevented.
        if event.option_index is None or not 0 <= event.option_index < self.option_count:
            event.prevent_default()
            event.stop()
