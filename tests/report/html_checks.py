"""Helpers the report tests share: a well-formedness check, the SVGs of a page and the bars of an SVG."""

from __future__ import annotations

import re
from html.parser import HTMLParser

EVIL = "<script>alert(1)</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
VOID = {"meta", "br", "hr", "img", "input", "link", "wbr"}


class TagCounter(HTMLParser):
    """Count the elements of a document and check that every one is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.opened: dict[str, int] = {}
        self.problems: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.opened[tag] = self.opened.get(tag, 0) + 1
        self.attributes += [(tag, name, value) for name, value in attrs]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.opened[tag] = self.opened.get(tag, 0) + 1
        self.attributes += [(tag, name, value) for name, value in attrs]

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(document: str) -> TagCounter:
    counter = TagCounter()
    counter.feed(document)
    counter.close()
    assert counter.problems == []
    assert counter.stack == []
    return counter


def rects(svg: str) -> list[dict[str, float]]:
    """Return the geometry of an SVG's bars (rects with a hover tip), in document order."""
    found = re.findall(
        r'<rect x="([-\d.]+)" y="([-\d.]+)" width="([-\d.]+)" height="([-\d.]+)" fill=[^>]*><title>', svg
    )
    return [dict(zip(("x", "y", "width", "height"), map(float, match), strict=True)) for match in found]


def svgs(document: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", document, flags=re.S)
