"""``for_partner`` cuts a cycle's results to one partner: its rows, its names, other brands only summed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cpfr.collab.compare import PlatformForecast
from cpfr.collab.cycle import CycleResult, Names
from cpfr.collab.partner_view import OTHER_BRANDS, for_partner
from cpfr.exceptions import InputError

WEEK = pd.Timestamp("2025-07-07")


def _result() -> CycleResult:
    owners = {"P1": "XIAOMI", "A1": "MIDEA", "L1": "LENOVO"}
    weekly = pd.DataFrame({"sku_id": list(owners), "channel_id": ["JD", "MIDEA_STORE", "JD"], "ds": WEEK})
    weekly = weekly.assign(platform=[10.0, 20.0, 30.0], **{"platform_q0.1": 1.0, "platform_q0.9": 40.0})
    targets = pd.DataFrame(
        {"target_id": ["T-XM", "T-MD"], "partner_id": ["XIAOMI", "MIDEA"], "target": [1.0, 2.0]}
    )
    gaps = pd.DataFrame(
        {
            "target_id": ["T-XM", "T-MD"],
            "dimension": "category_id",
            "member": ["PHONE", "AC"],
            "gap": [-1.0, -2.0],
        }
    )
    per_partner = pd.DataFrame(
        {
            "partner_id": ["XIAOMI", "MIDEA"],
            "sku_id": ["P1", "A1"],
            "channel_id": ["JD", "MIDEA_STORE"],
            "ds": WEEK,
        }
    )
    rankings = pd.DataFrame(
        {
            "band": ["<2000", "<2000", "<2000", ">=4000"],
            "partner_id": ["MIDEA", "XIAOMI", "LENOVO", "LENOVO"],
            "units": [50, 30, 20, 7],
            "gmv_yuan": [500.0, 300.0, 200.0, 70.0],
            "rank_gmv": [1, 2, 3, 1],
            "share_gmv": [0.5, 0.3, 0.2, 1.0],
            "event_id": "618-2025",
        }
    )
    orders = pd.DataFrame(
        {"sku_id": ["P1", "A1", "X9"], "from_site_id": [None, "FDC", None], "to_site_id": "S1"}
    )
    return CycleResult(
        as_of=dt.date(2025, 6, 30),
        platform=PlatformForecast(weekly, weekly[["sku_id", "channel_id"]], dt.date(2025, 6, 30), "m", "W-1"),
        targets=targets,
        gaps=gaps,
        finals={"T-XM": np.ones(3), "T-MD": np.zeros(3)},
        exceptions=per_partner,
        consensus=per_partner,
        order_forecast=per_partner,
        kpis=per_partner[["partner_id"]].assign(kpi="fill rate", value=[0.9, 0.8]),
        network_orders=orders,
        rankings=rankings,
        notes=["T-MD: no attainment probability — too short", "The store holds no warehouse stock."],
        names=Names(
            partners={"XIAOMI": "Xiaomi", "MIDEA": "Midea", "LENOVO": "Lenovo"},
            skus={"P1": "Xiaomi 15", "A1": "Midea AC"},
            channels={"JD": "JD online", "MIDEA_STORE": "Midea stores"},
            categories={"PHONE": "Phones", "AC": "Air conditioners"},
            locations={"S1": "Store 1", "FDC": "Wuhan FDC"},
            targets={"T-XM": "Xiaomi GMV", "T-MD": "Midea units"},
        ),
        owners=owners,
    )


def test_only_the_partners_rows_and_names_are_kept() -> None:
    cut = for_partner(_result(), "XIAOMI")
    for frame in (cut.targets, cut.exceptions, cut.consensus, cut.order_forecast, cut.kpis):
        assert set(frame["partner_id"]) == {"XIAOMI"}
    assert list(cut.gaps["target_id"]) == ["T-XM"] and list(cut.finals) == ["T-XM"]
    assert cut.network_orders is not None and list(cut.network_orders["sku_id"]) == [
        "P1"
    ]  # X9: no owner, dropped
    assert list(cut.platform.weekly["sku_id"]) == ["P1"] and list(cut.platform.accuracy["sku_id"]) == ["P1"]
    assert cut.notes == ["The store holds no warehouse stock."]  # the note naming T-MD is dropped
    assert cut.names == Names(
        partners={"XIAOMI": "Xiaomi"},
        skus={"P1": "Xiaomi 15"},
        channels={"JD": "JD online"},
        categories={"PHONE": "Phones"},
        locations={"S1": "Store 1"},
        targets={"T-XM": "Xiaomi GMV"},
    )
    assert cut.owners == {"P1": "XIAOMI"}


def test_other_brands_in_a_price_band_are_one_unranked_sum() -> None:
    ranked = for_partner(_result(), "XIAOMI").rankings
    assert list(ranked.columns) == [
        "band",
        "partner_id",
        "units",
        "gmv_yuan",
        "rank_gmv",
        "share_gmv",
        "event_id",
    ]
    assert list(zip(ranked["band"], ranked["partner_id"], strict=True)) == [
        ("<2000", "XIAOMI"),
        ("<2000", OTHER_BRANDS),
        (">=4000", OTHER_BRANDS),
    ]
    other = ranked.iloc[1]
    assert (other["units"], other["gmv_yuan"], other["share_gmv"]) == (70, 700.0, pytest.approx(0.7))
    assert np.isnan(other["rank_gmv"]) and ranked.iloc[0]["rank_gmv"] == 2
    assert set(ranked["event_id"]) == {"618-2025"}
    assert not ranked.isin(["MIDEA", "LENOVO"]).any().any()


def test_an_unknown_partner_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="unknown partner 'NOKIA' — expected one of LENOVO, MIDEA, XIAOMI"):
        for_partner(_result(), "NOKIA")
