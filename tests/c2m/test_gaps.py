"""The demand-gap finder: a planted gap ranks first, a crowded cell is none, a brand sees aggregates."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import Result

from cpfr.c2m import find_gaps
from cpfr.c2m.gap_evidence import GAP_COLUMNS
from cpfr.data.store import Store
from cpfr.exceptions import InputError

AS_OF = dt.date(2024, 12, 29)
GAP = ("PHONE", "storage_gb", "512", "2000-2999")
CROWDED = ("PHONE", "storage_gb", "128", "1000-1999")
# Phones of two brands: four in a crowded cell few people search for, two in a busy cell, and
# none in the cell shoppers search for most (512 GB at 2000-2999 yuan).
PHONES = {
    "XM-128-A": ("XIAOMI", 1299, 128, 40),
    "XM-128-B": ("XIAOMI", 1499, 128, 40),
    "XM-128-C": ("XIAOMI", 1599, 128, 40),
    "MD-PHONE-128": ("MIDEA", 1699, 128, 40),
    "XM-256": ("XIAOMI", 2499, 256, 60),
    "MD-PHONE-256": ("MIDEA", 2799, 256, 60),
}
# Weekly searches per cell: (value, band) -> searches per week.
SEARCHES = {
    ("128", "1000-1999"): 400,  # 160 units a week: 2.5 searches a unit
    ("256", "2000-2999"): 3600,  # 120 units: 30 a unit
    ("512", "2000-2999"): 3000,  # nothing on sale
    ("512", "3000-4999"): 40,  # browsing
    ("256", "3000-4999"): 60,
}

Cli = Callable[..., Result]


def _band(price: float) -> str:
    return "1000-1999" if price < 2000 else "2000-2999"


@pytest.fixture
def gap_store(store: Store) -> Store:
    """The tiny alliance plus phones, a year of weekly sales, stock-outs and searches."""
    products = pd.DataFrame(
        [
            {
                "sku_id": sku,
                "partner_id": partner,
                "name": sku,
                "category_id": "PHONE",
                "list_price": float(price),
                "price_band": _band(price),
                "launch_date": "2023-01-01",
                "attributes": json.dumps({"storage_gb": storage, "colour": "black"}),
            }
            for sku, (partner, price, storage, _) in PHONES.items()
        ]
    )
    mondays = pd.date_range("2024-01-01", AS_OF, freq="W-MON")
    sales = pd.DataFrame(
        [
            {
                "date": day.date(),
                "sku_id": sku,
                "location_id": "Z-N-1",
                "units": weekly,
                "list_price": float(price),
            }
            for day in mondays
            for sku, (_, price, _, weekly) in PHONES.items()
        ]
    )
    sundays = mondays + pd.Timedelta(days=6)
    inventory = pd.DataFrame(
        [
            {"date": day.date(), "sku_id": sku, "site_id": "Z-N-1", "on_hand": 50, "stockout": False}
            for day in sundays[sundays <= pd.Timestamp(AS_OF)]
            for sku in PHONES
        ]
    )
    rng = np.random.default_rng(0)
    # The gap's searches grow through the year; the others are steady.
    growth = np.linspace(0.5, 1.5, len(mondays))
    searches = pd.DataFrame(
        [
            {
                "week": day.date(),
                "category_id": "PHONE",
                "attribute": "storage_gb",
                "value": value,
                "price_band": band,
                "city_tier": 1,
                "searches": int(rng.poisson(weekly * (growth[index] if (value, band) == GAP[2:] else 1.0))),
                "views": int(weekly * 0.4),
            }
            for index, day in enumerate(mondays)
            for (value, band), weekly in SEARCHES.items()
        ]
    )
    store.write_tables({"products": products})
    store.write_tables({"sales": sales, "inventory": inventory, "searches": searches})
    return store


def _row(gaps: pd.DataFrame, cell: tuple[str, str, str, str]) -> pd.Series:
    match = (gaps[["category_id", "attribute", "value", "price_band"]] == list(cell)).all(axis=1)
    assert match.sum() == 1, cell
    return gaps[match].iloc[0]


def test_the_planted_gap_ranks_first_with_its_evidence(gap_store: Store) -> None:
    gaps = find_gaps(gap_store, as_of=AS_OF)
    top = gaps.iloc[0]
    assert tuple(top[["category_id", "attribute", "value", "price_band"]]) == GAP
    assert top["rank"] == 1 and top["city_tier"] == 1 and top["category_name"] == "Phones"
    assert top["n_skus"] == 0 and top["units"] == 0
    assert top["search_growth"] > 0.2  # the second half-year searched more than the first
    assert top["band_search_share"] > 0.4 and top["band_supply_share"] == 0
    assert "0 SKUs on sale" in top["evidence"] and "no supply" in top["evidence"]
    assert list(gaps.columns) == list(GAP_COLUMNS)
    assert list(gaps["rank"]) == list(range(1, len(gaps) + 1))
    assert gaps["score"].is_monotonic_decreasing


def test_a_cell_with_many_skus_and_few_searches_is_no_gap(gap_store: Store) -> None:
    gaps = find_gaps(gap_store, as_of=AS_OF)
    crowded = _row(gaps, CROWDED)
    assert crowded["n_skus"] == 4 and crowded["units"] == 26 * 160
    assert crowded["unmet_index"] < -0.5  # a far smaller share of searches than of supply
    assert crowded["score"] < 0 and crowded["rank"] > len(gaps) / 2
    busy = _row(gaps, ("PHONE", "storage_gb", "256", "2000-2999"))
    assert busy["rank"] > 1 and busy["units_per_sku"] == pytest.approx(26 * 60)


def test_stockouts_raise_a_cells_rate_and_score(gap_store: Store) -> None:
    before = _row(find_gaps(gap_store, as_of=AS_OF), ("PHONE", "storage_gb", "256", "2000-2999"))
    days = pd.date_range("2024-10-01", "2024-11-30")
    out = pd.DataFrame(
        {"date": days.date, "sku_id": "XM-256", "site_id": "Z-N-1", "on_hand": 0, "stockout": True}
    )
    gap_store.write_tables({"inventory": out})
    after = _row(find_gaps(gap_store, as_of=AS_OF), ("PHONE", "storage_gb", "256", "2000-2999"))
    assert before["stockout_rate"] == 0
    # 61 days out of stock over two SKUs' 176 days observed (first to last snapshot of the window).
    assert after["stockout_rate"] == pytest.approx(61 / (2 * 176))
    assert after["score"] > before["score"]
    assert "out of stock" in after["evidence"]


def test_nothing_after_as_of_is_read(gap_store: Store) -> None:
    early = find_gaps(gap_store, as_of=dt.date(2024, 6, 30), weeks=4)
    cell = _row(early, GAP)
    # Four Mondays from June 3 to June 24 (the week of July 1 lies after as-of).
    weeks = pd.date_range("2024-06-03", "2024-06-24", freq="W-MON")
    assert cell["searches"] > 0 and len(weeks) == 4
    assert _row(early, CROWDED)["units"] == 4 * 160


def test_a_brand_sees_its_categories_as_aggregates_only(gap_store: Store) -> None:
    gaps = find_gaps(gap_store, as_of=AS_OF, partner_id="XIAOMI")
    assert set(gaps["category_id"]) == {"PHONE"}  # Xiaomi sells no air conditioners
    crowded = _row(gaps, CROWDED)
    assert crowded["n_skus_partner"] == 3 and crowded["n_skus_other_brands"] == 1
    text = gaps.to_csv(index=False)
    for sku in ("MD-PHONE-128", "MD-PHONE-256", "A1", "XM-128-A"):
        assert sku not in text
    assert gaps.iloc[0]["rank"] == 1 and tuple(gaps.iloc[0][["attribute", "value"]]) == GAP[1:3]


def test_over_all_tiers_gives_one_row_per_cell(gap_store: Store) -> None:
    gaps = find_gaps(gap_store, as_of=AS_OF, by_tier=False)
    assert gaps["city_tier"].isna().all()
    assert not gaps.duplicated(["category_id", "attribute", "value", "price_band"]).any()
    assert tuple(gaps.iloc[0][["category_id", "attribute", "value", "price_band"]]) == GAP


def test_unknown_partner_and_bad_window_are_input_errors(gap_store: Store) -> None:
    with pytest.raises(InputError, match="unknown partner 'NOPE'; expected one of MIDEA, XIAOMI"):
        find_gaps(gap_store, partner_id="NOPE")
    with pytest.raises(InputError, match="weeks must be at least 1"):
        find_gaps(gap_store, weeks=0)


def test_cli_writes_the_ranked_cells(gap_store: Store, db_path: Path, tmp_path: Path, cli: Cli) -> None:
    gap_store.close()
    output = tmp_path / "gaps.csv"
    result = cli("c2m", "gaps", "--db", db_path, "--as-of", "2024-12-29", "--top", "3", "--output", output)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(output)
    assert list(written.columns) == list(GAP_COLUMNS) and len(written) == 3
    assert written.loc[0, "value"] == 512 and written.loc[0, "price_band"] == "2000-2999"
    assert "Demand gaps" in result.output and "storage_gb=512" in result.output

    parquet = tmp_path / "xiaomi.parquet"
    result = cli("c2m", "gaps", "--db", db_path, "--partner", "XIAOMI", "--output", parquet)
    assert result.exit_code == 0, result.output
    assert set(pd.read_parquet(parquet)["category_id"]) == {"PHONE"}


def test_cli_names_an_unknown_partner(gap_store: Store, db_path: Path, tmp_path: Path, cli: Cli) -> None:
    gap_store.close()
    output = tmp_path / "gaps.csv"
    result = cli("c2m", "gaps", "--db", db_path, "--partner", "NOPE", "--output", output)
    assert result.exit_code != 0
    assert "unknown partner 'NOPE'" in result.output and not output.exists()
