"""Chart readability: axis titles, legends, whole category labels, ticks that do not collide."""

from __future__ import annotations

import html
import itertools
import re

import numpy as np
import pandas as pd
import pytest

from cpfr.report import Chart, Section, render_report
from cpfr.report._charts import _spaced, _text_width, _wrap
from tests.report.html_checks import EVIL, EVIL_ESCAPED, parse, rects, svgs


def draw(*charts: Chart) -> list[str]:
    document = render_report("R", [Section("S", charts=charts)])
    parse(document)
    return svgs(document)


def axis_titles(svg: str) -> list[str]:
    return re.findall(r'<text class="axis-title"[^>]*>([^<]*)</text>', svg)


def legend(svg: str) -> list[str]:
    return re.findall(r'<text class="legend"[^>]*>([^<]*)</text>', svg)


def tick_lines(svg: str) -> list[list[str]]:
    """Return each multi-line tick label's lines (category labels are drawn with tspans)."""
    return [
        [html.unescape(line) for line in re.findall(r"<tspan[^>]*>([^<]*)</tspan>", body)]
        for body in re.findall(r'<text class="tick"[^>]*>((?:<tspan[^>]*>[^<]*</tspan>)+)</text>', svg)
    ]


@pytest.mark.parametrize("kind", ["bar", "line", "waterfall", "histogram"])
def test_every_kind_of_chart_titles_its_axes(kind: str) -> None:
    data = pd.DataFrame({"week": ["a", "b", "c"], "gmv": [1e6, 2e6, 1.5e6]})
    x = "gmv" if kind == "histogram" else "week"
    (svg,) = draw(Chart(kind, "C", data, x, "gmv", unit="yuan", x_title="week of", y_title="GMV, ¥"))
    assert sorted(axis_titles(svg)) == ["GMV, ¥", "week of"]
    assert 'transform="rotate(-90' in svg  # the value title reads up the value axis


def test_legends_name_the_series_where_there_is_more_than_one() -> None:
    data = pd.DataFrame(
        {"partner": ["Xiaomi", "Midea"], "platform": [0.3, 0.25], "partner's own": [0.28, 0.4]}
    )
    grouped, single = draw(
        Chart("bar", "WAPE", data, "partner", ("platform", "partner's own"), unit="percent"),
        Chart("bar", "Platform", data, "partner", "platform", unit="percent"),
    )
    assert legend(grouped) == ["platform", "partner&#x27;s own"]
    assert legend(single) == []
    bars = rects(grouped)
    assert len(bars) == 4 and bars[0]["x"] < bars[1]["x"] < bars[2]["x"]  # side by side per partner
    assert bars[3]["height"] == pytest.approx(bars[2]["height"] * 0.4 / 0.25, rel=0.01)
    assert "<title>Midea — partner&#x27;s own: 40.0%</title>" in grouped
    weekly = pd.DataFrame({"ds": pd.date_range("2025-07-07", periods=3, freq="W-MON"), "a": [1, 2, 3]})
    (line,) = draw(Chart("line", "One line", weekly, "ds", "a"))
    assert legend(line) == []


def test_a_waterfall_explains_its_colours() -> None:
    data = pd.DataFrame({"step": ["start", "up", "down", "end"], "v": [10.0, 5.0, -3.0, 12.0]})
    (svg,) = draw(Chart("waterfall", "W", data, "step", "v"))
    assert legend(svg) == ["total", "increase", "decrease"]


def test_long_category_labels_wrap_under_their_bars_and_are_never_cut() -> None:
    names = ["home appliances and kitchen", "smart wear", "3C digital and computer accessories"]
    data = pd.DataFrame({"category": names, "gap": [-1e6, 2e5, -3e5]})
    (svg,) = draw(Chart("bar", "Gap", data, "category", "gap", unit="yuan"))
    labels = tick_lines(svg)
    assert [" ".join(lines) for lines in labels] == names
    assert all(len(lines) <= 3 for lines in labels) and max(map(len, labels)) > 1
    assert "…" not in svg


def test_labels_too_long_to_wrap_under_a_bar_put_the_bars_on_their_side() -> None:
    names = [f"Xiaomi: {index}.5 bn yuan omni-channel GMV in 3 years (2024-2026)" for index in range(1, 9)]
    data = pd.DataFrame({"target": names, "probability": np.linspace(0.1, 0.8, 8)})
    (svg,) = draw(Chart("bar", "Chances", data, "target", "probability", unit="percent"))
    assert [" ".join(lines) for lines in tick_lines(svg)] == names
    bars = rects(svg)
    assert len({bar["x"] for bar in bars}) == 1 and len({bar["height"] for bar in bars}) == 1
    assert [bar["width"] for bar in bars] == sorted(bar["width"] for bar in bars)


def test_labels_are_escaped_line_by_line() -> None:
    data = pd.DataFrame({"label": [EVIL, "ok"], "value": [1.0, 2.0]})
    (svg,) = draw(Chart("bar", "E", data, "label", "value", x_title=EVIL, y_title=EVIL))
    assert "<script" not in svg
    assert EVIL_ESCAPED in "".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg))
    assert axis_titles(svg) == [EVIL_ESCAPED, EVIL_ESCAPED]


def test_wrapping_keeps_every_character_and_splits_only_overlong_words() -> None:
    assert _wrap("target to date", 60) == ["target to", "date"]
    pieces = _wrap("PROMOTION_MISMATCH", 40)
    assert "".join(pieces) == "PROMOTION_MISMATCH" and all(_text_width(piece) <= 40 for piece in pieces)
    assert _wrap("", 40) == [""]
    assert _text_width("小米") == pytest.approx(2 * _text_width("ab") / 1.2)  # wide glyphs take a full em


def test_line_chart_ticks_never_collide_and_keep_the_last_date() -> None:
    ticks = [(600.0 + 12 * index, f"2025-08-{index + 10}") for index in range(9)]
    kept = _spaced(ticks)
    assert kept[-1][1] == "2025-08-18" and kept[-1][2] == "end"
    boxes = []
    for where, label, anchor in kept:
        width = _text_width(label)
        left = where - width if anchor == "end" else where - width / 2
        boxes.append((left, left + width))
    assert all(right < following for (_, right), (following, _) in itertools.pairwise(boxes))
    weekly = pd.DataFrame({"ds": pd.date_range("2025-07-07", periods=8, freq="W-MON"), "units": range(8)})
    (svg,) = draw(Chart("line", "Weekly", weekly, "ds", "units"))
    assert ">2025-08-25</text>" in svg
