"""Price-band rankings over a promotion: bands by price paid, ranks and shares within band and channel."""

from __future__ import annotations

import pytest

from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.targets.rankings import band_labels, event_window, price_band_rankings


def test_bands_ranks_and_shares(small_demo_store: Store) -> None:
    start, end = event_window(small_demo_store, "618-2025")
    result = price_band_rankings(small_demo_store, start=start, end=end)
    skus = result.skus
    assert set(skus["band"]) <= set(band_labels([2000, 3000, 4000]))
    low = skus["band"] == "<2000"
    assert (skus.loc[low, "price"] < 2000).all() and (
        skus.loc[skus["band"] == ">=4000", "price"] >= 4000
    ).all()
    for _, group in skus.groupby(["band", "channel_id"]):
        assert group["share_gmv"].sum() == pytest.approx(1.0)
        assert group.sort_values("gmv_yuan", ascending=False)["rank_gmv"].iloc[0] == 1
    brands = result.brands
    assert brands["units"].sum() == skus["units"].sum()
    top = brands.groupby(["band", "channel_id"]).head(1)
    assert (top["rank_gmv"] == 1).all()
    # The event's units are the store's units over its days.
    cube = small_demo_store.sales_cube([], start=start, end=end)
    assert skus["units"].sum() == int(cube["units"].iloc[0])


def test_bad_bands_and_events() -> None:
    assert band_labels([1000, 2500]) == ["<1000", "1000-2500", ">=2500"]


def test_bad_inputs_are_refused(small_demo_store: Store) -> None:
    with pytest.raises(InputError, match="not in the store's events"):
        event_window(small_demo_store, "D12-2025")
    start, end = event_window(small_demo_store, "618-2025")
    with pytest.raises(InputError, match="increasing"):
        price_band_rankings(small_demo_store, start=start, end=end, bands=[3000, 2000])
