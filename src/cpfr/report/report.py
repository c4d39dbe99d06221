"""An offline HTML report: headline cards, text, inline SVG charts and tables in one file.

The report is a single HTML document with its CSS inline and its charts drawn
as inline SVG, so it opens from a mail attachment or a shared drive with no
network: nothing is fetched, there is no script, and every link is an anchor
inside the page. Every text that comes from data (titles, labels, cells) is
HTML-escaped, so a product named ``<script>`` shows as text, never runs.

The charts are drawn in :mod:`cpfr.report._charts`; the Chart and Table specs
shared by both live in :mod:`cpfr.report._common`. Numbers are formatted by
:func:`cpfr.formatting.format_value`, as in the terminal.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cpfr.exceptions import InputError
from cpfr.formatting import UNITS, format_value
from cpfr.report._charts import _render_chart
from cpfr.report._common import Chart, Column, Table, _cell, _esc

__all__ = ["Chart", "Column", "Section", "Table", "format_value", "render_report", "write_report"]


@dataclass(frozen=True, eq=False)
class Section:
    """A titled part of a report: notes, headline figures, text, charts and tables.

    Parameters
    ----------
    title : str
        The section's heading, also its entry in the table of contents.
    text : str
        Plain text; blank lines separate paragraphs.
    headline : tuple of (str, str) or (str, str, str)
        ``(label, formatted value)`` cards shown at the top of the section, or
        ``(label, value, detail)`` with a smaller line under the value.
    charts : tuple of Chart
        The charts, in order.
    tables : tuple of Table or (str, pandas.DataFrame)
        The tables, in order; a ``(caption, frame)`` pair shows every column, formatted by its type.
    notes : tuple of str
        Sentences set apart at the top of the section (data that is missing, what was assumed).
    """

    title: str
    text: str = ""
    headline: tuple[tuple[str, str] | tuple[str, str, str], ...] = ()
    charts: tuple[Chart, ...] = ()
    tables: tuple[Table | tuple[str, pd.DataFrame], ...] = ()
    notes: tuple[str, ...] = ()


def render_report(title: str, sections: Sequence[Section], *, subtitle: str = "", max_rows: int = 50) -> str:
    """Return the whole report as one HTML document (inline CSS and SVG; nothing fetched).

    Parameters
    ----------
    title, subtitle : str
        The report's title and a line under it.
    sections : sequence of Section
        The sections, in order; each gets an anchor in the table of contents.
    max_rows : int
        The most rows shown of a table; the rest are counted in a "… N more rows" line.

    Returns
    -------
    str
    """
    if max_rows < 0:
        raise InputError(f"max_rows must be 0 or more, got {max_rows}")
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    anchors = [_anchor(index, section.title) for index, section in enumerate(sections, start=1)]
    toc = "".join(
        f'<li><a href="#{anchor}">{_esc(section.title)}</a></li>'
        for anchor, section in zip(anchors, sections, strict=True)
    )
    body = "".join(
        _render_section(section, anchor, max_rows) for anchor, section in zip(anchors, sections, strict=True)
    )
    lede = f'<p class="subtitle">{_esc(subtitle)}</p>' if subtitle else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header class="page"><h1>{_esc(title)}</h1>{lede}'
        f'<p class="generated">Generated <time datetime="{generated}">{generated}</time></p></header>\n'
        f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{toc}</ol></nav>\n'
        f"<main>\n{body}</main>\n</body>\n</html>\n"
    )


def write_report(
    path: Path, title: str, sections: Sequence[Section], *, subtitle: str = "", max_rows: int = 50
) -> Path:
    """Write the report atomically (a temporary file then os.replace) and return the path.

    A reader never sees half a report: the document goes to a temporary file
    beside ``path``, which then replaces ``path`` in one step.

    Parameters
    ----------
    path : Path
        Where to write the report; its folder is created when missing.
    title, sections, subtitle, max_rows
        As for :func:`render_report`.

    Returns
    -------
    Path
    """
    document = render_report(title, sections, subtitle=subtitle, max_rows=max_rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkstemp: its 0600 mode would carry over to a report meant to be shared.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temporary.open("x", encoding="utf-8") as stream:
            stream.write(document)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def _anchor(index: int, title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"section-{index}-{slug}" if slug else f"section-{index}"


def _render_section(section: Section, anchor: str, max_rows: int) -> str:
    parts = [f'<section id="{anchor}">\n<h2>{_esc(section.title)}</h2>\n']
    parts.extend(f'<p class="notice" role="note">{_esc(note)}</p>\n' for note in section.notes)
    if section.headline:
        parts.append(f'<div class="cards">{"".join(_card(*card) for card in section.headline)}</div>\n')
    paragraphs = [block.strip() for block in re.split(r"\n\s*\n", section.text) if block.strip()]
    parts.extend(f"<p>{_esc(paragraph)}</p>\n" for paragraph in paragraphs)
    parts.extend(_render_chart(chart) for chart in section.charts)
    parts.extend(
        _render_table(table if isinstance(table, Table) else Table(*table), max_rows)
        for table in section.tables
    )
    parts.append("</section>\n")
    return "".join(parts)


def _card(label: str, value: str, detail: str = "") -> str:
    more = f'<div class="detail">{_esc(detail)}</div>' if detail else ""
    return (
        f'<div class="card"><div class="label">{_esc(label)}</div>'
        f'<div class="value">{_esc(value)}</div>{more}</div>'
    )


def _columns(table: Table) -> tuple[pd.DataFrame, list[tuple[int, Column]]]:
    """Return the frame to show and, per shown column, its position in the frame and its spec."""
    frame = table.data
    if not table.columns:
        if not isinstance(frame.index, pd.RangeIndex):
            frame = frame.reset_index(allow_duplicates=True)
        return frame, [(index, Column(str(name))) for index, name in enumerate(frame.columns)]
    wanted = [column.name for column in table.columns] + [c.unit_from for c in table.columns if c.unit_from]
    missing = [name for name in wanted if name not in frame.columns]
    if missing:
        raise InputError(
            f"table {table.caption!r}: no column {', '.join(map(repr, missing))} "
            f"(has {', '.join(map(str, frame.columns))})"
        )
    return frame, [(_position(frame, column.name), column) for column in table.columns]


def _position(frame: pd.DataFrame, name: str) -> int:
    """Return where the column ``name`` is in ``frame`` (the first, if the name repeats)."""
    return int(np.flatnonzero(frame.columns == name)[0])


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


_NUMERIC_HEADER = ' class="num"'  # a number column's header sits over its right-aligned figures


def _render_table(table: Table, max_rows: int) -> str:
    frame, shown = _columns(table)
    units = {column.unit_from: _position(frame, column.unit_from) for _, column in shown if column.unit_from}
    numeric = [
        column.unit in UNITS
        or bool(column.unit_from)
        or (column.unit == "auto" and _is_number(frame.iloc[:, position]))
        for position, column in shown
    ]
    header = "".join(
        f'<th scope="col"{_NUMERIC_HEADER if number else ""}>{_esc(column.header or column.name)}</th>'
        for (_, column), number in zip(shown, numeric, strict=True)
    )
    rows = []
    for row in frame.head(max_rows).itertuples(index=False, name=None):
        cells = (
            _cell(row[position], str(row[units[column.unit_from]]) if column.unit_from else column.unit)
            for position, column in shown
        )
        rows.append(
            "<tr>" + "".join(f'<td class="{kind}">{_esc(text)}</td>' for text, kind in cells) + "</tr>"
        )
    hidden = len(frame) - min(len(frame), max_rows)
    more = f'<p class="more">… {hidden:,} more rows</p>' if hidden else ""
    empty = '<p class="more">No rows.</p>' if frame.empty else ""
    note = f'<p class="more">{_esc(table.note)}</p>' if table.note else ""
    return (
        f'<div class="table-wrap"><table><caption>{_esc(table.caption)}</caption>'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{more}{empty}{note}\n"
    )


_CSS = """
:root { color-scheme: light; } * { box-sizing: border-box; }
body { margin: 0; background: #f5f6f8; color: #1d2433; line-height: 1.5; font-family: system-ui,
  -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "PingFang SC", "Microsoft YaHei",
  sans-serif; }
header.page, nav.toc, main { max-width: 1040px; margin: 0 auto; padding: 0 20px; }
header.page { padding-top: 28px; } h1 { margin: 0 0 4px; font-size: 1.8rem; }
.subtitle { margin: 0; color: #4b5563; font-size: 1.1rem; }
.generated { margin: 4px 0 0; color: #6b7280; font-size: 0.85rem; }
nav.toc h2 { font-size: 1rem; margin: 20px 0 4px; } nav.toc ol { margin: 0; padding-left: 1.4em; }
section { background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; margin: 20px 0;
  padding: 8px 24px 20px; }
h2 { font-size: 1.35rem; } h3 { font-size: 1.02rem; margin: 0 0 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; }
.card { border: 1px solid #e3e6eb; border-radius: 6px; padding: 10px 14px; background: #fafbfc; }
.card .label { color: #6b7280; font-size: 0.82rem; }
.card .value { font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .detail { color: #4b5563; font-size: 0.8rem; }
.notice { border-left: 4px solid #d97706; background: #fffbeb; padding: 8px 12px; margin: 12px 0; }
figure.chart { margin: 20px 0; } figure.chart svg { width: 100%; height: auto; display: block; }
figcaption { color: #4b5563; font-size: 0.88rem; margin-top: 4px; }
.no-data { color: #6b7280; font-style: italic; border: 1px dashed #cdd2d9; border-radius: 6px; padding: 24px;
  text-align: center; }
svg .grid { stroke: #e6e9ee; } svg .zero { stroke: #6b7280; }
svg .connector { stroke: #9aa3ae; stroke-dasharray: 3 3; }
svg .tick, svg .legend { font-size: 11px; fill: #4b5563; }
svg .axis-title { font-size: 11px; fill: #1d2433; font-weight: 600; }
svg .series { fill: none; stroke-width: 2; stroke-linejoin: round; }
svg .marker { stroke: #6a1b9a; stroke-width: 1.5; stroke-dasharray: 6 4; }
svg .marker-label { font-size: 11px; fill: #6a1b9a; font-weight: 600; }
.table-wrap { overflow-x: auto; margin: 16px 0 4px; }
table { border-collapse: collapse; font-size: 0.88rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: 6px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e6eb; } th { text-align: left; background: #f3f4f6; }
th.num, td.num { text-align: right; white-space: nowrap; }
.more { color: #6b7280; font-size: 0.85rem; margin: 4px 0 0; }
@media (max-width: 640px) { section { padding: 4px 12px 12px; } h1 { font-size: 1.4rem; } }
@media print { body { background: #fff; } nav.toc { display: none; } section { border: none; padding: 0; }
  figure.chart, .table-wrap, .cards { break-inside: avoid; } }
"""
