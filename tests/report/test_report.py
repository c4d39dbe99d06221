"""The offline HTML report: self-contained, well-formed, escaped, and drawn to the numbers it is given."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cpfr.report
from cpfr.exceptions import InputError
from cpfr.report import Chart, Section, format_value, render_report, write_report
from cpfr.report._charts import _waterfall_bars
from tests.report.html_checks import EVIL, EVIL_ESCAPED, parse, rects, svgs


@pytest.fixture
def full_report() -> str:
    """Return a report using every chart kind, headline cards, text and a table."""
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    line = pd.DataFrame({"ds": days, "actual": np.arange(60) * 1e5, "plan": np.arange(60) * 1.1e5})
    bars = pd.DataFrame({"category": ["Phones", "TVs", "AC"], "gmv": [3e8, -2e7, 1.2e8]})
    bridge = pd.DataFrame({"step": ["2023", "price", "volume", "2024"], "gmv": [100.0, 20.0, -50.0, 70.0]})
    totals = pd.DataFrame({"final": np.linspace(8e8, 1.2e9, 500)})
    table = pd.DataFrame({"sku": ["P1", "A1"], "units": [1234567, 3], "gmv": [1.5e6, 2999.0]})
    overview = Section(
        "Overview",
        text="GMV is ahead of plan.\n\nPhones lead.",
        headline=(("GMV", "¥1.23bn"), ("Attainment", "87.0%")),
        charts=(
            Chart(
                "line",
                "GMV by day",
                line,
                "ds",
                ("actual", "plan"),
                unit="yuan",
                marker=5e6,
                marker_label="Target",
            ),
            Chart("bar", "GMV by category", bars, "category", "gmv", unit="yuan"),
        ),
        tables=(("Top SKUs", table),),
    )
    outlook = Section(
        "Outlook",
        charts=(
            Chart("waterfall", "Bridge", bridge, "step", "gmv"),
            Chart(
                "histogram", "Final total", totals, "final", unit="yuan", marker=1e9, marker_label="Target"
            ),
        ),
    )
    return render_report("Alliance review", [overview, outlook], subtitle="Xiaomi, 2024")


def test_the_report_formats_with_the_package_formatter() -> None:
    # The cases live in tests/test_formatting.py; the report re-exports the one formatter.
    assert format_value(999_999, "yuan") == "¥1.00m"
    with pytest.raises(InputError, match="'euro'"):
        format_value(1.0, "euro")


def test_the_report_fetches_nothing_and_links_only_inside_itself(full_report: str) -> None:
    counter = parse(full_report)
    assert "http://" not in full_report and "https://" not in full_report
    hrefs = [value for _, name, value in counter.attributes if name == "href"]
    assert hrefs and all(value is not None and value.startswith("#") for value in hrefs)
    assert not [name for _, name, _ in counter.attributes if name == "src"]
    assert "<script" not in full_report and "@import" not in full_report and "url(" not in full_report


def test_the_report_is_well_formed_with_one_svg_per_chart(full_report: str) -> None:
    counter = parse(full_report)
    assert counter.opened["section"] == 2
    assert counter.opened["svg"] == 4
    assert counter.opened["table"] == 1
    assert counter.opened["polyline"] == 2
    assert full_report.startswith("<!DOCTYPE html>")


def test_every_toc_entry_links_to_a_section(full_report: str) -> None:
    counter = parse(full_report)
    ids = {value for tag, name, value in counter.attributes if name == "id" and tag == "section"}
    targets = {value.removeprefix("#") for _, name, value in counter.attributes if name == "href" and value}
    assert targets == ids == {"section-1-overview", "section-2-outlook"}


def test_the_header_carries_title_subtitle_and_utc_generation_time(full_report: str) -> None:
    counter = parse(full_report)
    stamp = next(value for tag, name, value in counter.attributes if tag == "time" and name == "datetime")
    assert stamp is not None
    generated = dt.datetime.fromisoformat(stamp)
    assert generated.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - generated) < dt.timedelta(minutes=5)
    assert "<h1>Alliance review</h1>" in full_report and "Xiaomi, 2024" in full_report


def test_every_svg_is_labelled_for_screen_readers(full_report: str) -> None:
    for svg, title in zip(
        svgs(full_report), ["GMV by day", "GMV by category", "Bridge", "Final total"], strict=True
    ):
        assert f'role="img" aria-label="{title}"' in svg
        assert f"<title>{title}</title>" in svg


def test_a_section_with_two_charts_and_a_table_has_two_svgs_and_one_table() -> None:
    data = pd.DataFrame({"month": ["Jan", "Feb"], "gmv": [1.0, 2.0]})
    section = Section(
        "Sales",
        charts=(Chart("bar", "One", data, "month", "gmv"), Chart("line", "Two", data, "month", "gmv")),
        tables=(("Months", data),),
    )
    counter = parse(render_report("Report", [section]))
    assert (counter.opened["svg"], counter.opened["table"], counter.opened["figure"]) == (2, 1, 2)


def test_waterfall_bars_float_deltas_from_the_running_sum() -> None:
    bars = _waterfall_bars([100, 20, -50, 70], ["total", "delta", "delta", "total"])
    assert bars == [(0, 100), (100, 120), (70, 120), (0, 70)]
    assert _waterfall_bars([-30, 10], ["total", "delta"]) == [(-30, 0), (-30, -20)]
    assert _waterfall_bars([50, 10, 60, 5], ["total", "delta", "total", "delta"]) == [
        (0, 50),
        (50, 60),
        (0, 60),
        (60, 65),
    ]


def test_the_drawn_waterfall_matches_its_bars(full_report: str) -> None:
    drawn = rects(svgs(full_report)[2])
    assert len(drawn) == 4
    pixels_per_unit = drawn[0]["height"] / 100
    tops = [bar["y"] for bar in drawn]
    bottoms = [bar["y"] + bar["height"] for bar in drawn]
    assert [bar["height"] / pixels_per_unit for bar in drawn] == pytest.approx([100, 20, 50, 70], abs=0.1)
    # 0 -> bottom of the first total, 120 -> top of both deltas, 70 -> bottom of the drop and top of the end.
    assert bottoms[0] == pytest.approx(bottoms[3])
    assert tops[1] == pytest.approx(tops[2])
    assert bottoms[2] == pytest.approx(tops[3])
    assert bottoms[1] == pytest.approx(tops[0])
    colours = re.findall(r'fill="(#[0-9a-f]+)"><title>', svgs(full_report)[2])
    assert colours[0] == colours[3] != colours[1] != colours[2]


def test_a_waterfall_kind_column_marks_subtotals() -> None:
    data = pd.DataFrame(
        {
            "step": ["start", "up", "subtotal", "down", "end"],
            "v": [10, 5, 15, -3, 12],
            "kind": ["total", "delta", "total", "delta", "total"],
        }
    )
    document = render_report("R", [Section("S", charts=(Chart("waterfall", "W", data, "step", "v"),))])
    drawn = rects(svgs(document)[0])
    heights = [bar["height"] for bar in drawn]
    assert heights[2] == pytest.approx(heights[0] * 1.5, abs=0.2)
    assert drawn[3]["y"] == pytest.approx(drawn[2]["y"])  # the drop starts at the subtotal's top


def test_an_unknown_waterfall_kind_is_refused() -> None:
    data = pd.DataFrame({"step": ["a", "b"], "v": [1, 2], "kind": ["total", "subtotal"]})
    with pytest.raises(InputError, match="'subtotal'"):
        render_report("R", [Section("S", charts=(Chart("waterfall", "W", data, "step", "v"),))])


def test_negative_bars_hang_below_the_zero_line(full_report: str) -> None:
    svg = svgs(full_report)[1]
    zero = float(re.search(r'<line class="zero" x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)"', svg).group(1))
    phones, tvs, air = rects(svg)
    assert phones["y"] + phones["height"] == pytest.approx(zero, abs=0.1)
    assert tvs["y"] == pytest.approx(zero, abs=0.1)
    assert phones["height"] / tvs["height"] == pytest.approx(15, rel=0.02)
    assert phones["height"] / air["height"] == pytest.approx(2.5, rel=0.02)
    assert "<title>TVs: -¥20.0m</title>" in svg


def test_a_line_chart_draws_one_line_per_series_with_a_legend(full_report: str) -> None:
    svg = svgs(full_report)[0]
    lines = re.findall(
        r'<polyline class="series" stroke="(#[0-9a-f]+)" points="([^"]+)"><title>(\w+)</title>', svg
    )
    assert [name for _, _, name in lines] == ["actual", "plan"]
    assert lines[0][0] != lines[1][0]
    assert all(len(points.split()) == 60 for _, points, _ in lines)
    assert '<text class="legend"' in svg and ">plan</text>" in svg
    assert '<line class="marker"' in svg and ">Target</text>" in svg
    assert ">2024-01-01</text>" in svg and ">2024-02-29</text>" in svg


def test_a_histogram_captions_the_share_at_or_above_its_marker() -> None:
    data = pd.DataFrame({"final": np.arange(1, 101, dtype=float)})
    chart = Chart(
        "histogram", "Final total", data, "final", marker=91, marker_label="Target", note="Simulated."
    )
    document = render_report("R", [Section("S", charts=(chart,))])
    caption = re.search(r"<figcaption>(.*?)</figcaption>", document).group(1)
    assert caption == "Simulated. 10.0% of 100 values are at or above Target (91)."
    assert 20 <= len(rects(svgs(document)[0])) <= 30
    assert sum(int(count) for count in re.findall(r": (\d+)</title></rect>", document)) == 100


def test_text_from_data_is_escaped_everywhere() -> None:
    data = pd.DataFrame({"label": [EVIL, "ok"], "value": [1.0, 2.0]})
    section = Section(
        EVIL,
        text=EVIL,
        headline=((EVIL, EVIL),),
        charts=(Chart("bar", EVIL, data, "label", "value", note=EVIL),),
        tables=((EVIL, data.rename(columns={"value": EVIL})),),
    )
    document = render_report(EVIL, [section], subtitle=EVIL)
    assert EVIL not in document
    assert "<script" not in document
    parse(document)
    table = re.search(r"<table>.*?</table>", document, flags=re.S).group(0)
    assert f'<td class="text">{EVIL_ESCAPED}</td>' in table
    assert f'<th scope="col" class="num">{EVIL_ESCAPED}</th>' in table
    svg = svgs(document)[0]
    assert f"<title>{EVIL_ESCAPED}: 1</title>" in svg
    assert f'aria-label="{EVIL_ESCAPED}"' in svg


def test_long_tables_are_cut_at_max_rows_with_a_count_of_the_rest() -> None:
    table = pd.DataFrame({"sku": [f"S{index:03d}" for index in range(120)], "units": range(120)})
    document = render_report("R", [Section("S", tables=(("SKUs", table),))], max_rows=50)
    body = re.search(r"<tbody>(.*?)</tbody>", document).group(1)
    assert body.count("<tr>") == 50
    assert "S049" in body and "S050" not in body
    assert '<p class="more">… 70 more rows</p>' in document
    assert "more rows" not in render_report("R", [Section("S", tables=(("SKUs", table),))], max_rows=120)


def test_table_cells_are_formatted_for_people() -> None:
    table = pd.DataFrame(
        {
            "units": [1234567, 2],
            "gmv": [1234567.891, 0.012345],
            "day": pd.to_datetime(["2024-06-18", None]),
            "note": ["x", None],
        },
        index=pd.Index(["P1", "A1"], name="sku"),
    )
    document = render_report("R", [Section("S", tables=(("T", table),))])
    cells = re.findall(r"<td class=\"(\w+)\">([^<]*)</td>", document)
    assert cells == [
        ("text", "P1"), ("num", "1,234,567"), ("num", "1,234,568"), ("text", "2024-06-18"), ("text", "x"),
        ("text", "A1"), ("num", "2"), ("num", "0.0123"), ("text", "–"), ("text", "–"),
    ]  # fmt: skip
    assert '<th scope="col">sku</th>' in document


@pytest.mark.parametrize("kind", ["bar", "line", "waterfall", "histogram"])
def test_an_empty_chart_renders_a_placeholder(kind: str) -> None:
    empty = pd.DataFrame({"x": [], "y": []})
    all_missing = pd.DataFrame({"x": ["a", "b"], "y": [None, None]})
    charts = (
        Chart(kind, "Nothing", empty, "x", "y"),
        Chart(kind, "Blank", all_missing, "y", "y"),
        Chart(kind, "Bare", pd.DataFrame(), "x", "y"),
    )
    document = render_report("R", [Section("S", charts=charts)])
    parse(document)
    assert "<svg" not in document
    assert re.findall(r'<p class="no-data" role="note">(.*?)</p>', document) == [
        "No data for Nothing.",
        "No data for Blank.",
        "No data for Bare.",
    ]


def test_bad_charts_fail_clearly() -> None:
    data = pd.DataFrame({"month": ["Jan"], "gmv": [1.0]})
    with pytest.raises(InputError, match="'pie'"):
        Chart("pie", "P", data, "month", "gmv")
    with pytest.raises(InputError, match="'dollar'"):
        Chart("bar", "P", data, "month", "gmv", unit="dollar")
    with pytest.raises(InputError, match="needs a y column"):
        Chart("line", "P", data, "month")
    with pytest.raises(InputError, match=r"'units'.*month, gmv"):
        render_report("R", [Section("S", charts=(Chart("bar", "P", data, "month", "units"),))])
    with pytest.raises(InputError, match="max_rows"):
        render_report("R", [], max_rows=-1)


def test_many_categories_turn_the_bars_horizontal_with_whole_labels() -> None:
    data = pd.DataFrame(
        {"store": [f"JD MALL store number {index}" for index in range(30)], "gmv": np.arange(30.0)}
    )
    svg = svgs(render_report("R", [Section("S", charts=(Chart("bar", "B", data, "store", "gmv"),))]))[0]
    labels = re.findall(r'<text class="tick"[^>]*text-anchor="end"><tspan[^>]*>([^<]*)</tspan></text>', svg)
    assert labels == [f"JD MALL store number {index}" for index in range(30)]
    bars = rects(svg)
    assert len(bars) == 30 and len({bar["x"] for bar in bars}) == 1  # all start at the zero line
    assert bars[29]["width"] == pytest.approx(29 * bars[1]["width"], rel=0.01)
    height = float(re.search(r'viewBox="0 0 720 ([\d.]+)"', svg).group(1))
    assert height > 30 * 20  # the picture grows with its rows rather than squeezing them


def test_write_report_replaces_the_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "out" / "report.html"
    path.parent.mkdir()
    path.write_text("old", encoding="utf-8")
    section = Section("S", text="café ¥")
    assert write_report(path, "Report", [section], subtitle="sub") == path
    written = path.read_text(encoding="utf-8")
    assert written.startswith("<!DOCTYPE html>") and "café ¥" in written
    assert [child.name for child in path.parent.iterdir()] == ["report.html"]
    assert write_report(tmp_path / "new" / "r.html", "R", []).exists()


def test_the_package_exports_a_sorted_complete_api() -> None:
    public = {
        name
        for name, value in vars(cpfr.report).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert (
        public
        == set(cpfr.report.__all__)
        == {"Chart", "Column", "Section", "Table", "format_value", "render_report", "write_report"}
    )
    assert list(cpfr.report.__all__) == sorted(cpfr.report.__all__)
    assert all(inspect.getdoc(getattr(cpfr.report, name)) for name in cpfr.report.__all__)
