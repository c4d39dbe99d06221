"""Report tables: the columns chosen, their headers, and each column formatted by its meaning."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cpfr.exceptions import InputError
from cpfr.report import Column, Section, Table, render_report
from tests.report.html_checks import EVIL, EVIL_ESCAPED, parse


def cells(document: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", document, flags=re.S).group(1)
    return [re.findall(r"<td class=\"\w+\">([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def headers(document: str) -> list[str]:
    return re.findall(r"<th scope=\"col\"[^>]*>([^<]*)</th>", document)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "partner_id": ["XIAOMI", "MIDEA"],
            "gmv_yuan": [16_380_781_312.0, 999_999.0],
            "units": [1_234_567.4, 3.0],
            "share": [0.123, 1.0],
            "week": pd.to_datetime(["2025-07-07", "2025-07-14"]),
            "overridden": [True, False],
            "internal": ["x", "y"],
        }
    )


def test_a_table_spec_shows_its_columns_with_their_headers_and_units(frame: pd.DataFrame) -> None:
    table = Table(
        "Partners",
        frame,
        (
            Column("partner_id", "Partner"),
            Column("gmv_yuan", "GMV", "yuan"),
            Column("units", "Units", "units"),
            Column("share", "Share", "percent"),
            Column("week", "Week of", "date"),
            Column("overridden", "Overridden", "yes/no"),
        ),
        note="Shares are of the alliance's GMV.",
    )
    document = render_report("R", [Section("S", tables=(table,))])
    parse(document)
    assert headers(document) == ["Partner", "GMV", "Units", "Share", "Week of", "Overridden"]
    assert cells(document) == [
        ["XIAOMI", "¥16.4bn", "1,234,567", "12.3%", "2025-07-07", "yes"],
        ["MIDEA", "¥1.00m", "3", "100.0%", "2025-07-14", "no"],
    ]
    assert "internal" not in document and "16,380,781,312" not in document
    assert '<th scope="col" class="num">GMV</th>' in document  # number headers sit over their figures
    assert '<p class="more">Shares are of the alliance&#x27;s GMV.</p>' in document


def test_a_column_mixing_units_takes_each_rows_unit_from_another_column() -> None:
    frame = pd.DataFrame({"target": [2.5e9, 176_305.0], "unit": ["yuan", "units"]})
    table = Table("Targets", frame, (Column("target", "Goal", unit_from="unit"),))
    assert cells(render_report("R", [Section("S", tables=(table,))])) == [["¥2.50bn"], ["176,305"]]


def test_a_table_without_a_spec_formats_each_column_by_its_type(frame: pd.DataFrame) -> None:
    document = render_report("R", [Section("S", tables=(Table("All", frame),))])
    assert headers(document)[:3] == ["partner_id", "gmv_yuan", "units"]
    assert cells(document)[0] == ["XIAOMI", "16,380,781,312", "1,234,567", "0.123", "2025-07-07", "yes", "x"]


def test_a_missing_column_or_unit_is_refused_by_name(frame: pd.DataFrame) -> None:
    with pytest.raises(InputError, match=r"table 'T': no column 'gmv'"):
        render_report("R", [Section("S", tables=(Table("T", frame, (Column("gmv", unit="yuan"),)),))])
    with pytest.raises(InputError, match="'dollar'"):
        Column("gmv_yuan", unit="dollar")


def test_table_text_and_headers_are_escaped() -> None:
    frame = pd.DataFrame({"name": [EVIL], "value": [1.0]})
    table = Table(EVIL, frame, (Column("name", EVIL), Column("value", EVIL, "yuan")), note=EVIL)
    document = render_report("R", [Section("S", tables=(table,))])
    assert EVIL not in document and "<script" not in document
    parse(document)
    assert cells(document) == [[EVIL_ESCAPED, "¥1"]]
    assert headers(document) == [EVIL_ESCAPED, EVIL_ESCAPED]


def test_section_notes_stand_at_the_top_and_cards_carry_a_detail() -> None:
    section = Section(
        "Overview",
        text="Body.",
        notes=("The store holds no warehouse stock.",),
        headline=(("P(reach)", "12%", "50% chance of ¥2.20bn"), ("exceptions", "9")),
    )
    document = render_report("R", [section])
    parse(document)
    notice = document.index('<p class="notice" role="note">The store holds no warehouse stock.</p>')
    assert notice < document.index('<div class="cards">') < document.index("<p>Body.</p>")
    assert '<div class="detail">50% chance of ¥2.20bn</div>' in document
    assert document.count('<div class="detail">') == 1
