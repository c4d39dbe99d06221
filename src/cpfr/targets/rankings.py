"""Price-band rankings for a promotion period: who leads each band, by units and by GMV.

Planners read a big promotion (618, Double 11) by price band — "the best
seller between 2,000 and 3,000 yuan" — per channel. Each SKU falls in the
band of its average price paid over the period (or its list price), and is
ranked within its band and channel by units and by GMV, with its share of
the band; brands (partners) are ranked the same way on their SKUs' sums.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.data.store import Store
from cpfr.exceptions import InputError, ParameterError

DEFAULT_BANDS = (2000.0, 3000.0, 4000.0)


@dataclass(frozen=True)
class BandRankings:
    """SKU and brand rankings within price bands (``rank_units`` 1 = most units)."""

    skus: pd.DataFrame
    brands: pd.DataFrame
    start: dt.date
    end: dt.date
    label: str


def event_window(store: Store, event_id: str) -> tuple[dt.date, dt.date]:
    """Return the first and last day of ``event_id`` from the store's ``events``."""
    events = store.read_table("events")
    row = events[events["event_id"] == event_id]
    if row.empty:
        known = ", ".join(sorted(events.loc[events["kind"] == "promotion", "event_id"]))
        raise InputError(f"event {event_id!r}: not in the store's events (promotions: {known or 'none'})")
    return pd.Timestamp(row["start_date"].iloc[0]).date(), pd.Timestamp(row["end_date"].iloc[0]).date()


def band_labels(bands: Sequence[float]) -> list[str]:
    """Name the bands cut at ``bands``: ``<2000``, ``2000-3000``, ..., ``>=4000``."""
    edges = [f"{edge:g}" for edge in bands]
    return [
        f"<{edges[0]}",
        *(f"{low}-{high}" for low, high in itertools.pairwise(edges)),
        f">={edges[-1]}",
    ]


def price_band_rankings(
    store: Store,
    *,
    start: dt.date,
    end: dt.date,
    bands: Sequence[float] = DEFAULT_BANDS,
    by_channel: bool = True,
    price: str = "paid",
    label: str = "",
) -> BandRankings:
    """Rank SKUs and brands within price bands over ``start .. end`` (see the module docstring).

    ``price`` is ``paid`` (average price paid in the period) or ``list``.
    """
    if not bands or any(b <= a for a, b in itertools.pairwise(bands)) or bands[0] <= 0:
        raise ParameterError("bands", f"{','.join(f'{b:g}' for b in bands)}: expected increasing prices > 0")
    if price not in ("paid", "list"):
        raise ParameterError("price", f"{price!r}: expected 'paid' or 'list'")
    if end < start:
        raise InputError(f"period {start} .. {end}: the end is before the start")
    groups = ["sku_id", "partner_id", *(["channel_id"] if by_channel else [])]
    cube = store.sales_cube(groups, start=start, end=end)
    cube = cube[cube["units"] > 0]
    if cube.empty:
        raise InputError(f"no sales between {start} and {end} to rank")
    if price == "paid":
        per_sku = cube.groupby("sku_id")[["gmv_yuan", "units"]].sum()
        unit_price = per_sku["gmv_yuan"] / per_sku["units"]
    else:
        unit_price = store.read_table("products").set_index("sku_id")["list_price"].astype(float)
    cube["price"] = cube["sku_id"].map(unit_price)
    labels = band_labels(bands)
    positions = np.searchsorted(np.asarray(bands), cube["price"].to_numpy(), side="right")
    cube["band_index"] = positions  # bands sort by price, not by name
    cube["band"] = [labels[position] for position in positions]
    within = ["band_index", "band", *(["channel_id"] if by_channel else [])]
    skus = _ranked(cube, within)
    brands = _ranked(
        cube.groupby([*within, "partner_id"], as_index=False)[["units", "gmv_yuan"]].sum(), within
    )
    return BandRankings(skus, brands, start, end, label or f"{start} .. {end}")


def _ranked(frame: pd.DataFrame, within: list[str]) -> pd.DataFrame:
    """Add ranks and shares within each group of ``within``; sort by group and GMV rank."""
    frame = frame.copy()
    grouped = frame.groupby(within)
    for measure, name in (("units", "units"), ("gmv_yuan", "gmv")):
        frame[f"rank_{name}"] = grouped[measure].rank(ascending=False, method="min").astype(int)
        frame[f"share_{name}"] = frame[measure] / grouped[measure].transform("sum")
    return frame.sort_values([*within, "rank_gmv"]).drop(columns="band_index").reset_index(drop=True)
