"""Offline HTML reports: headline cards, text, inline SVG charts and tables in one file."""

from cpfr.report.report import Chart, Column, Section, Table, format_value, render_report, write_report

__all__ = [
    "Chart",
    "Column",
    "Section",
    "Table",
    "format_value",
    "render_report",
    "write_report",
]
