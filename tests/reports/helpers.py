"""Checks shared by the report tests: HTML well-formedness and balance, finding elements."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

XHTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(
                f"line {self.getpos()[0]}: </{tag}> closes <{self.stack[-1] if self.stack else '—'}>"
            )
        else:
            self.stack.pop()


def check_html(text: str) -> ET.Element:
    """Parse as HTML (tags balance) and as XML (well-formed XHTML); return the XML root."""
    assert text.startswith("<!DOCTYPE html>")
    parser = _Balance()
    parser.feed(text)
    parser.close()
    assert parser.problems == [], parser.problems[:5]
    assert parser.stack == [], f"unclosed: {parser.stack}"
    root = ET.fromstring(text.removeprefix("<!DOCTYPE html>"))
    assert root.tag == XHTML + "html"
    return root


def by_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(tag) if cls in (e.get("class") or "").split()]


def text_of(el: ET.Element) -> str:
    return "".join(el.itertext())


def section(root: ET.Element, sid: str) -> ET.Element:
    found = [e for e in root.iter(XHTML + "section") if e.get("id") == sid]
    assert len(found) == 1, f"section {sid}: {len(found)}"
    return found[0]
