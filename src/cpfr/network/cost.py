"""The logistics cost model the network models share, and the fulfilment cost of a period's sales.

:func:`logistics_costs` reads the store's ``parcel_rates``, ``logistics_settings`` and
warehouses into a :class:`LogisticsCosts` with vectorised lookups; :func:`fulfilment_cost`
measures what delivering a period's online sales cost, by partner, region and origin warehouse.

The model is the textbook one for a two-echelon e-commerce network (Chopra & Meindl, ch. 4
"Designing distribution networks", online sales: outbound transportation and facility
costs; ch. 14 "Transportation", tailored transportation and consolidation). The cost of
delivering a period's online sales is

    C = sum over sale lines l of  u_l * (p_l * r(o_l, g_l, s_l) + h(o_l)) + u_l * k_l

with u the units, o the origin warehouse, g the destination region, s the parcel size class,
r the parcel rate, h the handling cost per unit at the origin's tier, p the parcels per unit
and k the split surcharge per unit, p and k measured on the period's baskets.

Assumptions, each a simplification a planner should know:

* Only online sales (locations of kind ``online_zone``) ship as parcels. Stores are replenished
  by the network in pallets; that flow is the replenishment model's, not this one's.
* A sale ships from its zone's warehouse (``locations.warehouse_id``, the region's FDC). When the
  ``inventory`` table marks the SKU out of stock that day at the zone or at that warehouse, the
  day's units ship long-haul from the warehouse's parent (the RDC): the platform's order routing
  falls back to the upstream stock. All the day's units are charged so, an upper bound (some
  sold before the stock ran out).
* The size class follows the chargeable weight, the larger of the weight and the volume over
  :data:`LITRES_PER_KG` (the express industry's dimensional factor, 6,000 cm3 per kg), against
  :data:`SIZE_CLASS_LIMITS_KG`. Above the XL limit a unit is not parcel-shipped (a car goes by
  car carrier): its units are counted apart and cost nothing here. A SKU without weight and
  volume is taken as :data:`DEFAULT_SIZE_CLASS`, counted in ``assumed_size_units``.
* Parcels: within a basket, the S and M units shipping from one warehouse travel in one parcel;
  each L or XL unit is its own parcel. A shared parcel is apportioned to its lines by units and
  charged at each line's own size class (a slight under-estimate when an S rides with an M).
  Parcels per unit are measured by partner, region and size class on the period's baskets and
  applied to the sales; with no basket evidence every unit is its own parcel.
* A split order is a basket that ships from more than one warehouse; it pays the split
  surcharge once per extra warehouse, apportioned to its lines by units.
* Settings (surcharge, handling) are the latest ``logistics_settings`` row valid on the period's
  last day: the partner's own row when it has one, else the platform's.
* With ``partner_id``, everything is read as that partner sees it: its own sales and its own
  lines of each basket (a basket's other brands stay hidden), so a split caused by another
  brand's item is not seen. The platform's view (no ``partner_id``) sees whole baskets.

References
----------
S. Chopra and P. Meindl (2016). *Supply Chain Management: Strategy, Planning, and Operation*,
6th ed., Pearson. Chapter 4 (distribution network costs for online sales) and chapter 14
(transportation cost, consolidation, tailored transportation).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cpfr.data.schema_types import SIZE_CLASSES
from cpfr.data.store import Store
from cpfr.exceptions import InputError

__all__ = [
    "DEFAULT_SIZE_CLASS",
    "LITRES_PER_KG",
    "SIZE_CLASS_LIMITS_KG",
    "FulfilmentCost",
    "LogisticsCosts",
    "fulfilment_cost",
    "logistics_costs",
    "size_class",
]

# Upper limit of chargeable weight (kg) of each size class, smallest first: a phone or band is S,
# a laptop M, a small TV or a shower set L, big-ticket appliances XL (two-person delivery).
SIZE_CLASS_LIMITS_KG: dict[str, float] = dict(zip(SIZE_CLASSES, (2.0, 10.0, 40.0, 500.0), strict=True))
LITRES_PER_KG = 6.0  # 6,000 cm3 per kg: the volumetric divisor of China's express carriers
DEFAULT_SIZE_CLASS = "M"  # a SKU without dimensions: the middle of the parcel mix
NOT_PARCEL = ""  # the size class of a unit too big for the parcel network
DEFAULT_PERIOD_DAYS = 28  # without --start, the last four weeks of sales
_SMALL = ("S", "M")  # the classes that share a parcel


def size_class(weight_kg: np.ndarray, volume_l: np.ndarray) -> np.ndarray:
    """Return each unit's parcel size class from its weight (kg) and volume (litres).

    The chargeable weight is ``max(weight_kg, volume_l / LITRES_PER_KG)``; a missing value counts
    as 0, both missing gives :data:`DEFAULT_SIZE_CLASS`, above the XL limit gives ``""`` (not
    parcel-shipped).

    Examples
    --------
    >>> size_class(np.array([0.5, 2.6, 22.0, 1900.0]), np.array([1.5, 9.0, 260.0, 12000.0])).tolist()
    ['S', 'M', 'XL', '']
    """
    weight = np.asarray(weight_kg, dtype=float)
    volume = np.asarray(volume_l, dtype=float)
    chargeable = np.fmax(weight, volume / LITRES_PER_KG)
    limits = np.asarray(list(SIZE_CLASS_LIMITS_KG.values()))
    position = np.searchsorted(limits, np.nan_to_num(chargeable, nan=0.0), side="left")
    names = np.asarray([*SIZE_CLASS_LIMITS_KG, NOT_PARCEL], dtype=object)
    return np.where(np.isnan(chargeable), DEFAULT_SIZE_CLASS, names[position])


@dataclass(frozen=True, eq=False)
class LogisticsCosts:
    """Parcel rates, handling costs and split surcharges, with vectorised lookups.

    Attributes
    ----------
    rates : pandas.DataFrame
        ``yuan_per_parcel``, ``leg_kind`` and ``transit_days`` indexed by
        ``(origin_warehouse_id, destination_region, size_class)``.
    settings : pandas.DataFrame
        ``logistics_settings`` rows, sorted by ``valid_from``.
    warehouses : pandas.DataFrame
        ``tier``, ``parent_warehouse_id``, ``region`` and ``name`` indexed by ``warehouse_id``.
    """

    rates: pd.DataFrame
    settings: pd.DataFrame
    warehouses: pd.DataFrame = field(repr=False)

    def _lanes(self, origin: np.ndarray, region: np.ndarray, size: np.ndarray) -> np.ndarray:
        lanes = pd.MultiIndex.from_arrays([np.asarray(origin), np.asarray(region), np.asarray(size)])
        position = self.rates.index.get_indexer(lanes)
        if (position < 0).any():
            missing = sorted({" → ".join(map(str, lane)) for lane in lanes[position < 0]})
            raise InputError(
                f"parcel_rates: no rate for {len(missing)} lane(s) (origin → region → size class), "
                f"e.g. {', '.join(missing[:3])}; load them with `cpfr ingest --table parcel_rates`"
            )
        return position

    def parcel_cost(self, origin: np.ndarray, region: np.ndarray, size: np.ndarray) -> np.ndarray:
        """Return the yuan per parcel of each (origin warehouse, destination region, size class)."""
        return self.rates["yuan_per_parcel"].to_numpy(dtype=float)[self._lanes(origin, region, size)]

    def leg_kind(self, origin: np.ndarray, region: np.ndarray, size: np.ndarray) -> np.ndarray:
        """Return ``local`` or ``long_haul`` for each lane."""
        return self.rates["leg_kind"].to_numpy(dtype=object)[self._lanes(origin, region, size)]

    def setting(self, partner_id: str | None, on: dt.date) -> pd.Series:
        """Return the settings row for ``partner_id`` on day ``on`` (its own, else the platform's)."""
        valid = self.settings[self.settings["valid_from"] <= pd.Timestamp(on)]
        for owner in ([partner_id] if partner_id else []) + [None]:
            rows = valid[valid["partner_id"].isna()] if owner is None else valid[valid["partner_id"] == owner]
            if len(rows):
                latest = rows[rows["valid_from"] == rows["valid_from"].max()]
                if len(latest) > 1:
                    raise InputError(
                        f"logistics_settings: rows {', '.join(latest['setting_id'])} apply to "
                        f"{owner or 'the platform'} from the same day; expected one"
                    )
                return latest.iloc[0]
        raise InputError(f"logistics_settings: no platform-wide row (empty partner_id) valid on {on}")

    def split_surcharge(self, partner_ids: np.ndarray, on: dt.date) -> np.ndarray:
        """Return the split surcharge (yuan per extra warehouse) that applies to each partner's units."""
        return self._per_partner(partner_ids, on, "split_surcharge_yuan")

    def handling_per_unit(
        self, warehouse_ids: np.ndarray, partner_ids: np.ndarray, on: dt.date
    ) -> np.ndarray:
        """Return the handling cost (yuan per unit) at each warehouse for each partner's units."""
        tiers = self.warehouses["tier"].reindex(np.asarray(warehouse_ids)).to_numpy(dtype=object)
        result = np.zeros(len(tiers))
        for tier in np.unique(tiers.astype(str)):
            chosen = tiers == tier
            column = f"handling_{tier.lower()}_yuan_per_unit"
            result[chosen] = self._per_partner(np.asarray(partner_ids)[chosen], on, column)
        return result

    def _per_partner(self, partner_ids: np.ndarray, on: dt.date, column: str) -> np.ndarray:
        partners = pd.Series(np.asarray(partner_ids, dtype=object)).fillna("")
        table = {partner: float(self.setting(partner or None, on)[column]) for partner in partners.unique()}
        return partners.map(table).to_numpy(dtype=float)


def logistics_costs(store: Store) -> LogisticsCosts:
    """Read the logistics cost model from ``store``, checking each rate's leg kind against its lane.

    Raises
    ------
    InputError
        No parcel rates, or a rate whose ``leg_kind`` contradicts its lane (``local`` is from the
        destination region's own FDC, anything else is ``long_haul``).
    """
    rates = store.read_table("parcel_rates")
    if rates.empty:
        raise InputError("parcel_rates is empty; load it with `cpfr ingest --table parcel_rates`")
    warehouses = store.read_table("warehouses").set_index("warehouse_id")
    tier = warehouses["tier"].reindex(rates["origin_warehouse_id"]).to_numpy()
    home = warehouses["region"].reindex(rates["origin_warehouse_id"]).to_numpy()
    local = (tier == "FDC") & (home == rates["destination_region"].to_numpy())
    wrong = rates[local != (rates["leg_kind"] == "local").to_numpy()]
    if len(wrong):
        first = wrong.iloc[0]
        raise InputError(
            f"parcel_rates: {len(wrong)} row(s) with a leg_kind that contradicts the lane, e.g. "
            f"{first['origin_warehouse_id']} → {first['destination_region']} ({first['size_class']}) "
            f"says {first['leg_kind']}; expected local only from the destination region's own FDC"
        )
    settings = store.read_table("logistics_settings")
    settings["valid_from"] = pd.to_datetime(settings["valid_from"])
    return LogisticsCosts(
        rates=rates.set_index(["origin_warehouse_id", "destination_region", "size_class"])[
            ["yuan_per_parcel", "leg_kind", "transit_days"]
        ],
        settings=settings.sort_values("valid_from", kind="stable").reset_index(drop=True),
        warehouses=warehouses[["name", "tier", "parent_warehouse_id", "region"]],
    )


@dataclass(frozen=True, eq=False)
class FulfilmentCost:
    """What delivering a period's online sales cost.

    Attributes
    ----------
    start, end : datetime.date
        The period, inclusive.
    partner_id : str or None
        The partner it was measured for (None: the platform, every partner).
    rows : pandas.DataFrame
        One row per ``partner_id, region, warehouse_id`` (the origin): ``units``, ``parcels``,
        ``parcel_cost_yuan``, ``handling_cost_yuan``, ``split_cost_yuan``, ``cost_yuan``,
        ``cost_per_unit_yuan``, ``local_share`` (units on local legs), ``baskets`` and
        ``split_order_share`` (of the partner's baskets in the region).
    baskets, split_orders : int
        Baskets of the period and how many shipped from more than one warehouse.
    not_parcel_units : int
        Units too big for parcels (cars), left out of the cost.
    assumed_size_units : int
        Units of SKUs without weight and volume, costed as :data:`DEFAULT_SIZE_CLASS`.
    """

    start: dt.date
    end: dt.date
    partner_id: str | None
    rows: pd.DataFrame
    baskets: int
    split_orders: int
    not_parcel_units: int
    assumed_size_units: int

    @property
    def units(self) -> int:
        """Units shipped as parcels."""
        return int(self.rows["units"].sum())

    @property
    def cost_yuan(self) -> float:
        """Total fulfilment cost, yuan."""
        return float(self.rows["cost_yuan"].sum())

    @property
    def parcels(self) -> float:
        """Parcels shipped (estimated from the baskets' parcels per unit)."""
        return float(self.rows["parcels"].sum())

    @property
    def split_order_share(self) -> float:
        """Share of baskets that shipped from more than one warehouse (NaN without baskets)."""
        return self.split_orders / self.baskets if self.baskets else float("nan")

    @property
    def cost_per_unit_yuan(self) -> float:
        """Cost per unit shipped, yuan (NaN without units)."""
        return self.cost_yuan / self.units if self.units else float("nan")


def fulfilment_cost(
    store: Store,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    partner_id: str | None = None,
    costs: LogisticsCosts | None = None,
) -> FulfilmentCost:
    """Measure the fulfilment cost of the online sales of ``start`` .. ``end``.

    Parameters
    ----------
    store : Store
        The store with sales, inventory, baskets and the logistics tables.
    start, end : datetime.date, optional
        The period, inclusive; by default the last :data:`DEFAULT_PERIOD_DAYS` days of sales.
    partner_id : str, optional
        Measure one partner's sales, seeing only its own basket lines (see the module docstring).
    costs : LogisticsCosts, optional
        The cost model; read from ``store`` when left out.

    Returns
    -------
    FulfilmentCost
    """
    if end is None:
        last = store.date_range("sales")[1]
        if last is None:
            raise InputError("sales is empty: there is nothing to cost")
        end = last
    start = start or end - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise InputError(f"--start {start} is after --end {end}")
    costs = costs or logistics_costs(store)
    zones = store.read_table("locations", where={"kind": "online_zone"}).set_index("location_id")
    products = store.read_table("products", partner_id=partner_id).set_index("sku_id")
    sizes = pd.Series(
        size_class(_numbers(products, "weight_kg").to_numpy(), _numbers(products, "volume_l").to_numpy()),
        index=products.index,
    )
    unsized = products.index[_numbers(products, "weight_kg").isna() & _numbers(products, "volume_l").isna()]
    stockouts = store.read_table(
        "inventory", partner_id=partner_id, where={"stockout": True}, start=start, end=end
    )

    sales = store.read_table("sales", partner_id=partner_id, start=start, end=end)
    sales = _routed(sales[sales["location_id"].isin(zones.index)], zones, sizes, stockouts, costs)
    baskets = store.read_table("baskets", partner_id=partner_id, start=start, end=end)
    baskets = _routed(baskets[baskets["location_id"].isin(zones.index)], zones, sizes, stockouts, costs)

    parcel = sales["size_class"] != NOT_PARCEL
    not_parcel_units = int(sales.loc[~parcel, "units"].sum())
    assumed_size_units = int(sales.loc[parcel & sales["sku_id"].isin(unsized), "units"].sum())
    sales, baskets = sales[parcel], baskets[baskets["size_class"] != NOT_PARCEL]
    lines, per_basket = _basket_parcels(baskets, costs, end)

    keys = ["partner_id", "region", "size_class"]
    per_unit = lines.groupby(keys)[["parcels", "units"]].sum()
    parcels_per_unit = (per_unit["parcels"] / per_unit["units"]).reindex(
        pd.MultiIndex.from_frame(sales[keys])
    )
    surcharge = lines.groupby(["partner_id", "region"])[["split_cost_yuan", "units"]].sum()
    surcharge_per_unit = (surcharge["split_cost_yuan"] / surcharge["units"]).reindex(
        pd.MultiIndex.from_frame(sales[["partner_id", "region"]])
    )
    units = sales["units"].to_numpy(dtype=float)
    parcels = units * parcels_per_unit.fillna(1.0).to_numpy()
    origin, region, size = (sales[name].to_numpy() for name in ("warehouse_id", "region", "size_class"))
    partners = sales["partner_id"].to_numpy(dtype=object)
    costed = pd.DataFrame(
        {
            "partner_id": partners,
            "region": region,
            "warehouse_id": origin,
            "units": sales["units"].to_numpy(dtype=np.int64),
            "parcels": parcels,
            "parcel_cost_yuan": parcels * costs.parcel_cost(origin, region, size),
            "handling_cost_yuan": units * costs.handling_per_unit(origin, partners, end),
            "split_cost_yuan": units * surcharge_per_unit.fillna(0.0).to_numpy(),
            "local_units": units * (costs.leg_kind(origin, region, size) == "local"),
        }
    )
    rows = costed.groupby(["partner_id", "region", "warehouse_id"], as_index=False).sum()
    rows["cost_yuan"] = rows[["parcel_cost_yuan", "handling_cost_yuan", "split_cost_yuan"]].sum(axis=1)
    rows["cost_per_unit_yuan"] = rows["cost_yuan"] / rows["units"]
    rows["local_share"] = rows.pop("local_units") / rows["units"]
    basket_stats = _basket_stats(lines, per_basket)
    rows = rows.join(basket_stats, on=["partner_id", "region"])
    rows["baskets"] = rows["baskets"].fillna(0).astype(np.int64)
    return FulfilmentCost(
        start=start,
        end=end,
        partner_id=partner_id,
        rows=rows.sort_values(["partner_id", "region", "warehouse_id"], ignore_index=True),
        baskets=len(per_basket),
        split_orders=int(per_basket["split"].sum()),
        not_parcel_units=not_parcel_units,
        assumed_size_units=assumed_size_units,
    )


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _routed(
    frame: pd.DataFrame, zones: pd.DataFrame, sizes: pd.Series, stockouts: pd.DataFrame, costs: LogisticsCosts
) -> pd.DataFrame:
    """Add region, size class and origin warehouse (the zone's, its parent on a stockout day)."""
    frame = frame.reset_index(drop=True)
    serving = zones["warehouse_id"].reindex(frame["location_id"]).to_numpy(dtype=object)
    unserved = pd.isna(serving)
    if unserved.any():
        zone = frame.loc[unserved, "location_id"].iloc[0]
        raise InputError(
            f"locations: online zone {zone} has no warehouse_id; expected the warehouse serving it"
        )
    out = stockouts[["date", "sku_id", "site_id"]].drop_duplicates()
    keys = pd.MultiIndex.from_frame(out)
    day = pd.to_datetime(frame["date"]).to_numpy()
    at_zone = pd.MultiIndex.from_arrays([day, frame["sku_id"].to_numpy(), frame["location_id"].to_numpy()])
    at_warehouse = pd.MultiIndex.from_arrays([day, frame["sku_id"].to_numpy(), serving])
    short = at_zone.isin(keys) | at_warehouse.isin(keys) if len(keys) else np.zeros(len(frame), dtype=bool)
    parent = costs.warehouses["parent_warehouse_id"].reindex(serving).to_numpy(dtype=object)
    origin = np.where(short & ~pd.isna(parent), parent, serving)
    return frame.assign(
        region=zones["region"].reindex(frame["location_id"]).to_numpy(dtype=object),
        size_class=sizes.reindex(frame["sku_id"]).fillna(DEFAULT_SIZE_CLASS).to_numpy(dtype=object),
        warehouse_id=origin,
    )


def _basket_parcels(
    baskets: pd.DataFrame, costs: LogisticsCosts, on: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return each basket line's share of parcels and split surcharge, and per-basket origins."""
    lines = baskets[["basket_id", "partner_id", "region", "size_class", "warehouse_id", "units"]].copy()
    small = lines["size_class"].isin(_SMALL).to_numpy()
    small_units = (
        lines["units"].where(small, 0).groupby([lines["basket_id"], lines["warehouse_id"]]).transform("sum")
    )
    # One shared parcel per basket and origin for the small units; each big unit its own parcel.
    lines["parcels"] = np.where(small, lines["units"] / small_units.where(small_units > 0, 1), lines["units"])
    per_basket = lines.groupby("basket_id").agg(origins=("warehouse_id", "nunique"), units=("units", "sum"))
    per_basket["split"] = per_basket["origins"] > 1
    extra = (per_basket["origins"] - 1).reindex(lines["basket_id"]).to_numpy()
    basket_units = per_basket["units"].reindex(lines["basket_id"]).to_numpy()
    surcharge = costs.split_surcharge(lines["partner_id"].to_numpy(), on) if len(lines) else np.zeros(0)
    lines["split_cost_yuan"] = extra * surcharge * lines["units"].to_numpy() / basket_units
    lines["split"] = per_basket["split"].reindex(lines["basket_id"]).to_numpy(dtype=bool)
    return lines, per_basket


def _basket_stats(lines: pd.DataFrame, per_basket: pd.DataFrame) -> pd.DataFrame:
    """Baskets holding each partner's lines in each region, and the share of them that split."""
    seen = lines.drop_duplicates(["partner_id", "region", "basket_id"])
    stats = seen.groupby(["partner_id", "region"]).agg(baskets=("basket_id", "size"), split=("split", "sum"))
    stats["split_order_share"] = stats["split"] / stats["baskets"]
    return stats[["baskets", "split_order_share"]]
