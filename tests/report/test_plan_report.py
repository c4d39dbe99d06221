"""The ``cpfr plan`` report reads like a planner's page: names, formatted figures, titled charts, details last."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpfr.collab.compare import PlatformForecast
from cpfr.collab.cycle import CycleResult, Names
from cpfr.report.plan_report import ABOUT, headline, write_plan_report
from tests.report.html_checks import EVIL, parse, svgs

AS_OF = dt.date(2025, 6, 30)
WEEKS = pd.date_range("2025-07-07", periods=4, freq="W-MON")
NOTE = "The store holds no warehouse stock: warehouses were taken as empty."


def _targets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "target_id": ["T-XM", "T-MD-UNITS"],
            "partner_id": ["XIAOMI", "MIDEA"],
            "metric": ["gmv_yuan", "units"],
            "description": ["Xiaomi: 2.5 bn yuan GMV in 2025", "Midea air conditioners: 176,305 units"],
            "target": [2.5e9, 176_305.0],
            "target_to_date": [1.25e9, 95_785.0],
            "actual": [1.04e9, 64_034.0],
            "gap_to_date": [-2.1e8, -31_751.0],
            "attainment": [0.416, 0.363],
            "pace": [0.83, 0.669],
            "probability": [0.0, 0.511],
            "expected_total": [2.19e9, 180_000.0],
            "final_q10": [1.9e9, 150_000.0],
            "final_q90": [2.5e9, 210_000.0],
            "uplift_for_50": [0.3, -0.03],
            "uplift_for_80": [0.5, 0.1],
        }
    )


@pytest.fixture
def result() -> CycleResult:
    gaps = pd.DataFrame(
        {
            "target_id": "T-XM",
            "dimension": ["category_id", "category_id", "channel_id"],
            "member": ["PHONE", "AC", "JD"],
            "target": [2e9, 5e8, 2.5e9],
            "target_to_date": [1e9, 2.5e8, 1.25e9],
            "actual": [8.4e8, 2e8, 1.04e9],
            "gap": [-1.6e8, -5e7, -2.1e8],
            "share_of_gap": [0.76, 0.24, 1.0],
        }
    )
    exceptions = pd.DataFrame(
        {
            "rank": [1, 1],
            "partner_id": ["XIAOMI", "MIDEA"],
            "reason": ["PROMOTION_MISMATCH", "OVERSTOCK_RISK"],
            "sku_id": ["P1", "A1"],
            "channel_id": ["JD", None],
            "ds": [WEEKS[0].date(), WEEKS[1].date()],
            "platform_units": [1920.2, 0.4],
            "partner_units": [5661.4, np.nan],
            "difference": [3741.2, 18.6],
            "z_score": [5.4, np.nan],
            "value_yuan": [16_380_781_312.0, 999_999.0],
            "detail": ["partner 5,661 vs platform 1,920 units", EVIL],
        }
    )
    consensus = pd.DataFrame(
        {
            "sku_id": "P1",
            "channel_id": "JD",
            "ds": WEEKS,
            "platform": [100.0, 110.0, 120.0, 130.0],
            "partner": [120.0, 120.0, 120.0, 120.0],
            "weight_platform": 0.4,
            "combined": [112.0, 116.0, 120.0, 124.0],
            "consensus": [112.0, 116.0, 120.0, 124.0],
            "overridden": [False, True, False, False],
            "partner_id": "XIAOMI",
        }
    )
    orders = pd.DataFrame(
        {
            "sku_id": "P1",
            "ds": WEEKS,
            "demand": 110.0,
            "order_up_to": 300.0,
            "position": 200.0,
            "order": 1234.0,
        }
    ).assign(partner_id="XIAOMI")
    kpis = pd.DataFrame(
        {
            "partner_id": "XIAOMI",
            "kpi": ["forecast WAPE", "forecast WAPE", "fill rate", "inventory turnover", "attainment T-XM"],
            "side": ["partner", "platform", "platform", "platform", "joint"],
            "value": [0.279, 0.272, 0.965, 240.55, 0.42],
            "unit": ["share", "share", "share", "days", "share"],
        }
    )
    rankings = pd.DataFrame(
        {
            "band": ["<2000", "<2000", ">=4000"],
            "partner_id": ["XIAOMI", "MIDEA", "XIAOMI"],
            "units": [20_160, 917, 6_817],
            "gmv_yuan": [19_475_158.08, 1_655_313.38, 33_789_067.0],
            "rank_units": [1, 2, 1],
            "share_units": [0.95, 0.05, 1.0],
            "rank_gmv": [1, 2, 1],
            "share_gmv": [0.92, 0.08, 1.0],
            "event_id": "618-2025",
        }
    )
    platform = PlatformForecast(
        weekly=consensus[["sku_id", "channel_id", "ds", "platform"]],
        accuracy=pd.DataFrame({"sku_id": ["P1"], "channel_id": ["JD"], "miss": [30.0], "actual": [100.0]}),
        as_of=AS_OF,
        model="seasonal_naive",
        run_id="weekly-20250630",
    )
    return CycleResult(
        as_of=AS_OF,
        platform=platform,
        targets=_targets(),
        gaps=gaps,
        finals={"T-XM": np.linspace(1.8e9, 2.49e9, 500)},
        exceptions=exceptions,
        consensus=consensus,
        order_forecast=orders,
        kpis=kpis,
        network_orders=None,
        rankings=rankings,
        seconds={"forecast": 3.41, "targets": 4.3},
        notes=[NOTE],
        run_id="P-20250630T000000-abc",
        names=Names(
            partners={"XIAOMI": "Xiaomi", "MIDEA": EVIL},
            skus={"P1": "Xiaomi 15", "A1": "Midea AC 1.5HP"},
            channels={"JD": "JD online"},
            categories={"PHONE": "Phones", "AC": "Air conditioners"},
            targets={"T-XM": "Xiaomi: 2.5 bn yuan GMV in 2025"},
        ),
    )


def page(result: CycleResult, tmp_path: Path) -> str:
    document = write_plan_report(result, tmp_path / "report.html").read_text(encoding="utf-8")
    parse(document)
    return document


def section(document: str, title: str) -> str:
    return next(
        part
        for part in re.findall(r"<section.*?</section>", document, flags=re.S)
        if f">{title}</h2>" in part
    )


def test_the_page_is_offline_and_every_data_text_escaped(result: CycleResult, tmp_path: Path) -> None:
    document = page(result, tmp_path)
    assert "<script" not in document and "http" not in document
    assert EVIL not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (MIDEA)" in document  # a hostile name, shown as text


def test_names_stand_beside_codes(result: CycleResult, tmp_path: Path) -> None:
    document = page(result, tmp_path)
    exceptions = section(document, "Exceptions")
    for shown in (
        "Xiaomi (XIAOMI)",
        "Xiaomi 15 (P1)",
        "JD online (JD)",
        "Midea AC 1.5HP (A1)",
        "all channels",
    ):
        assert f">{shown}</td>" in exceptions
    assert ">promotion mismatch</td>" in exceptions and "PROMOTION_MISMATCH" not in exceptions
    target = section(document, "Xiaomi: 2.5 bn yuan GMV in 2025")  # the target's description heads it
    waterfall = svgs(target)[0]
    assert ">Phones</tspan>" in waterfall and ">Air conditioners</tspan>" in waterfall
    assert ">JD online (JD)</td>" in target


def test_money_and_percentages_are_formatted(result: CycleResult, tmp_path: Path) -> None:
    document = page(result, tmp_path)
    assert "16,380,781,312" not in document and "16380781312" not in document
    exceptions = section(document, "Exceptions")
    assert '<td class="num">¥16.4bn</td>' in exceptions and '<td class="num">¥1.00m</td>' in exceptions
    targets = section(document, "Targets: tracking and attainment")
    assert '<td class="num">¥2.50bn</td>' in targets and '<td class="num">176,305</td>' in targets
    assert '<td class="num">83.0%</td>' in targets  # pace, not 0.83
    kpis = section(document, "KPIs")
    assert '<td class="num">27.9%</td>' in kpis and '<td class="num">241 days</td>' in kpis
    assert "attainment T-XM" not in kpis  # per-target figures belong to the Targets section


def test_every_chart_titles_its_axes(result: CycleResult, tmp_path: Path) -> None:
    drawn = svgs(page(result, tmp_path))
    assert len(drawn) >= 6
    for svg in drawn:
        titles = re.findall(r'<text class="axis-title"[^>]*>([^<]*)</text>', svg)
        assert len(titles) == 2, svg[:120]
    assert any("GMV, ¥" in " ".join(re.findall(r'class="axis-title"[^>]*>([^<]*)<', svg)) for svg in drawn)


def test_a_target_out_of_reach_shows_what_is_within_reach(result: CycleResult, tmp_path: Path) -> None:
    document = page(result, tmp_path)
    overview = section(document, "Overview")
    assert '<div class="value">0%</div><div class="detail">expected ¥2.19bn, 88% of target</div>' in overview
    target = section(document, "Xiaomi: 2.5 bn yuan GMV in 2025")
    assert "Expected final total: ¥2.19bn." in target
    assert "Even odds of reaching it need 30% more than forecast on the days left." in target


def test_the_attainment_columns_that_exist_are_shown(result: CycleResult, tmp_path: Path) -> None:
    richer = _targets().assign(
        reachable_50=[2.2e9, 180_000.0],
        reachable_80=[2.0e9, 160_000.0],
        probability_90=[0.31, 0.8],
        probability_95=[0.12, 0.7],
    )
    document = page(dataclasses.replace(result, targets=richer), tmp_path)
    targets = section(document, "Targets: tracking and attainment")
    headers = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', targets)
    assert headers[4:8] == ["P(reach)", "P(reach 95%)", "P(reach 90%)", "Final with 50% chance"]
    assert '<td class="num">¥2.20bn</td>' in targets and '<td class="num">31.0%</td>' in targets
    legend = re.findall(r'<text class="legend"[^>]*>([^<]*)</text>', svgs(targets)[0])
    assert legend == ["the target", "95% of it", "90% of it"]
    overview = section(document, "Overview")
    assert '<div class="detail">50% chance of ¥2.20bn, 88% of target</div>' in overview
    target = section(document, "Xiaomi: 2.5 bn yuan GMV in 2025")
    assert "12% of reaching 95% of it, 31% of reaching 90% of it" in target
    assert (
        "with 50% probability ¥2.20bn (88% of target); with 80% probability ¥2.00bn (80% of target)" in target
    )


def test_missing_data_is_noted_at_the_top_and_the_details_come_last(
    result: CycleResult, tmp_path: Path
) -> None:
    document = page(result, tmp_path)
    titles = re.findall(r"<h2>([^<]*)</h2>", document)
    assert titles[1] == "Overview" and titles[-1] == ABOUT
    overview = section(document, "Overview")
    assert f'<p class="notice" role="note">{NOTE}</p>' in overview
    about = section(document, ABOUT)
    for detail in ("seasonal_naive", "weekly-20250630", "P-20250630T000000-abc", ">3.4</td>", NOTE):
        assert detail in about
    assert "seasonal_naive" not in document[: document.index(about)]  # model names only in the details
    assert "not planned in this run" in section(document, "Replenishment")


def test_the_terminal_headline_names_the_targets_and_formats_their_figures(result: CycleResult) -> None:
    lines = dict(headline(result))
    assert lines["P(reach) Xiaomi: 2.5 bn yuan GMV in 2025"] == "0% (expected ¥2.19bn, 88% of target)"
    assert lines["value at stake"] == "¥16.4bn"
    assert lines["exceptions"] == "2"
