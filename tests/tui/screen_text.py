"""What a person sees on the terminal, as plain text lines (from Textual's own screenshot)."""

from __future__ import annotations

import html
import re
from collections import defaultdict

_TEXT = re.compile(r'<text[^>]*?\by="([\d.]+)"[^>]*>(.*?)</text>', re.S)


def screen_text(app) -> str:
    svg = app.export_screenshot()
    rows: dict[float, list[str]] = defaultdict(list)
    for y, body in _TEXT.findall(svg):
        rows[float(y)].append(html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\xa0", " "))
    return "\n".join("".join(parts) for _, parts in sorted(rows.items()))
