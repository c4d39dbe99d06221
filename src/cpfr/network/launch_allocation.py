"""A hot launch's split from the store: demand per point learnt from earlier launches, then allocation.

One domain call serves ``cpfr allocate`` and the API's allocation job: :func:`allocate_launch`
reads the earlier launches (:func:`~cpfr.network.launch_demand.past_launches`), the launch's
demand per point (:func:`~cpfr.network.launch_demand.launch_demand`, conditioned on the
quantity selling out) and splits the quantity (:func:`~cpfr.network.allocation.allocate`).
Through a partner-scoped store it learns only from that partner's own launches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from cpfr.data.store import Store
from cpfr.exceptions import InputError, NotFoundError
from cpfr.network.allocation import allocate, allocation_table, group_summary
from cpfr.network.launch_demand import launch_demand, past_launches


@dataclass(frozen=True)
class LaunchAllocation:
    """A launch quantity split across points of sale, with what each part is expected to sell.

    Attributes
    ----------
    sku_id : str
        The SKU.
    launch_date : datetime.date
        Its launch day.
    quantity : int
        Units to allocate.
    expected_total : float
        Units expected over the window, all points (conditioned on the quantity selling out).
    points : pandas.DataFrame
        One row per point: ``sku_id, point_id, name, channel_name, region, channel, tier, units,
        expected_demand, expected_sales, expected_lost_sales, ...``.
    by_channel, by_tier : pandas.DataFrame
        Units, expected demand, sales, lost sales and fill per channel and per city tier.
    method : str
        ``marginal`` or ``milp``.
    seconds : float
        Time of the allocation itself.
    """

    sku_id: str
    launch_date: dt.date
    quantity: int
    expected_total: float
    points: pd.DataFrame
    by_channel: pd.DataFrame
    by_tier: pd.DataFrame
    method: str
    seconds: float

    @property
    def totals(self) -> pd.Series:
        """Units, expected demand, sales and lost sales over every point."""
        return self.points[["units", "expected_demand", "expected_sales", "expected_lost_sales"]].sum()


def allocate_launch(
    store: Store,
    sku_id: str,
    quantity: int,
    *,
    pack: int = 1,
    days: int = 28,
    log: Callable[[str], None] | None = None,
) -> LaunchAllocation:
    """Split ``quantity`` units of ``sku_id``'s launch across the store's points of sale (see above)."""
    if pack < 1 or quantity < 1 or quantity % pack:
        raise InputError(f"quantity {quantity}: expected a whole number (>= 1) of packs of {pack}")
    launch = store.read_table("products", where={"sku_id": [sku_id]})["launch_date"]
    if launch.empty:
        raise NotFoundError(f"SKU {sku_id!r} not found")
    history = (
        past_launches(store, before=launch.iloc[0].date(), days=days, log=log) if launch.notna().all() else []
    )
    demand = launch_demand(store, sku_id, days=days, quantity=quantity, history=history, log=log)
    result = allocate(demand.points, quantity, pack_size=pack)
    if log is not None:
        log(f"allocated {int(result.units.sum()):,} units ({result.method}) in {result.seconds:.2f} s")
    table = allocation_table(demand.points, result)
    table = demand.locations[["point_id", "name", "channel_name", "region"]].merge(table, on="point_id")
    table.insert(0, "sku_id", sku_id)
    return LaunchAllocation(
        sku_id,
        demand.launch_date,
        quantity,
        float(demand.expected_total),
        table,
        group_summary(table, "channel_name"),
        group_summary(table, "tier"),
        result.method,
        result.seconds,
    )
