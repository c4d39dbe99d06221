"""Generate and write the demo alliance: every table of the data model plus the truth behind it.

:func:`generate_scenario` builds a deterministic scenario from one seed:
reference data (:mod:`~cpfr.data.demo.catalog`, :mod:`~cpfr.data.demo.network`),
the calendar and promotions (:mod:`~cpfr.data.demo.events`), true demand
(:mod:`~cpfr.data.demo.demand`), the inventory that censors it
(:mod:`~cpfr.data.demo.stock`), and alliance targets set from the expected
GMV of the true demand model times an ambition factor
(:mod:`~cpfr.data.demo.agreements`), and the shoppers' searches with unmet demand planted in a
few cells (:mod:`~cpfr.data.demo.searches`). :func:`write_scenario` writes the tables as Parquet files the
ingester accepts, with the truth next to them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cpfr.data.demo.agreements import AGREEMENT_END, AGREEMENT_START, build_agreements_and_targets
from cpfr.data.demo.catalog import PARTNERS, Catalog, build_catalog
from cpfr.data.demo.demand import DemandModel, build_demand_model, draw_demand, draw_parameters
from cpfr.data.demo.events import build_events, build_promotions
from cpfr.data.demo.logistics import (
    build_baskets,
    build_logistics_settings,
    build_parcel_rates,
    logistics_truth,
    with_dimensions,
)
from cpfr.data.demo.partner_plans import build_partner_forecasts, partner_forecast_window
from cpfr.data.demo.searches import build_searches
from cpfr.data.demo.stock import policy_parameters, purchase_orders, simulate_stock
from cpfr.data.demo.subsidy import draw_subsidy_parameters, true_effects

TABLE_ORDER: tuple[str, ...] = (
    "partners",
    "categories",
    "agreements",
    "targets",
    "products",
    "channels",
    "warehouses",
    "locations",
    "events",
    "sales",
    "inventory",
    "orders",
    "promotions",
    "partner_forecasts",
    "parcel_rates",
    "logistics_settings",
    "baskets",
    "searches",
)


@dataclass(frozen=True)
class DemoConfig:
    """Size and seed of a demo scenario.

    Attributes
    ----------
    seed : int
        Seed of the single random generator everything is drawn from.
    n_skus : int
        Number of SKUs across the five partners.
    n_stores : int
        Number of physical stores (the 30 online zones come on top).
    history_start, history_end : datetime.date
        First and last day of sales history.
    """

    seed: int = 42
    n_skus: int = 300
    n_stores: int = 250
    history_start: dt.date = dt.date(2023, 11, 1)
    history_end: dt.date = dt.date(2026, 10, 31)

    @classmethod
    def small(cls, seed: int = 42) -> DemoConfig:
        """Return a small configuration for tests: 40 SKUs, 30 stores, 18 months."""
        return cls(
            seed=seed,
            n_skus=40,
            n_stores=30,
            history_start=dt.date(2024, 1, 1),
            history_end=dt.date(2025, 6, 30),
        )


@dataclass(frozen=True)
class DemoScenario:
    """A generated scenario: the tables, the uncensored demand and the true parameters.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        The data-model tables in dependency order, with the schema's column names.
    true_demand : pandas.DataFrame
        ``date, sku_id, location_id, demand_mean, demand`` for every day a SKU
        is on sale at a location: the demand before stockouts censored it.
    truth : dict
        JSON-serialisable parameters of the generating process.
    config : DemoConfig
        The configuration it was generated from.
    """

    tables: dict[str, pd.DataFrame]
    true_demand: pd.DataFrame
    truth: dict[str, Any]
    config: DemoConfig = field(default_factory=DemoConfig)


def generate_scenario(config: DemoConfig | None = None, *, seed: int | None = None) -> DemoScenario:
    """Generate the demo alliance scenario.

    Parameters
    ----------
    config : DemoConfig, optional
        Size, seed and history; the default is 300 SKUs, 250 stores and
        three years of history.
    seed : int, optional
        Overrides ``config.seed``.

    Returns
    -------
    DemoScenario
        Tables, true demand and truth; identical for identical configs.

    Examples
    --------
    >>> scenario = generate_scenario(DemoConfig.small())
    >>> list(scenario.tables)[:3]
    ['partners', 'categories', 'agreements']
    """
    config = config or DemoConfig()
    if seed is not None:
        config = replace(config, seed=seed)
    rng = np.random.default_rng(config.seed)
    catalog = build_catalog(rng, config.n_skus, config.n_stores, config.history_start, config.history_end)
    # Model from the earlier of history and agreement start to the later of
    # their ends (plus a month the planner looks ahead into).
    horizon_start = min(config.history_start, AGREEMENT_START)
    horizon_end = max(config.history_end + dt.timedelta(days=31), AGREEMENT_END)
    days = np.arange(np.datetime64(horizon_start, "D"), np.datetime64(horizon_end, "D") + 1)
    events = build_events(catalog.products, horizon_start, horizon_end)
    # The subsidies' regional windows, cannibalisation and pull-forward draw from their own generator.
    subsidy_rng = np.random.default_rng([config.seed, 3])
    parameters = {**draw_parameters(rng), **draw_subsidy_parameters(subsidy_rng)}
    promotions, discount = build_promotions(rng, catalog.products, events, days, config.history_end)
    model = build_demand_model(rng, catalog, events, discount, days, parameters, subsidy_rng)

    first = int((np.datetime64(config.history_start, "D") - days[0]).astype(np.int64))
    n_history = (
        int(
            (np.datetime64(config.history_end, "D") - np.datetime64(config.history_start, "D")).astype(
                np.int64
            )
        )
        + 1
    )
    history_days = days[first : first + n_history]
    demand = draw_demand(rng, model.mean[first : first + n_history], model.dispersion)

    warehouse_index = pd.Index(catalog.warehouses["warehouse_id"])
    location_warehouse = warehouse_index.get_indexer(pd.Index(catalog.locations["warehouse_id"]))
    series_warehouse = location_warehouse[model.series_location]
    lead_time = catalog.warehouses["lead_time_days"].to_numpy()[series_warehouse]
    launch_day = (
        catalog.products["launch_date"].to_numpy().astype("datetime64[D]") - history_days[0]
    ).astype(np.int64)
    is_hot = catalog.products["sku_id"].isin(catalog.hot_launch_skus).to_numpy()
    hot_launch_day = np.where(is_hot, launch_day, -(10**6))[model.series_sku]
    stock = simulate_stock(
        rng, demand, model.mean[first:], history_days, lead_time, model.dispersion, hot_launch_day
    )

    alliance = build_agreements_and_targets(rng, catalog, model)
    tables = {
        "partners": catalog.partners,
        "categories": catalog.categories,
        "agreements": alliance.agreements,
        "targets": alliance.targets,
        "products": catalog.products,
        "channels": catalog.channels,
        "warehouses": catalog.warehouses,
        "locations": catalog.locations,
        "events": events,
        "sales": _sales(catalog, model, stock.sales, first, history_days),
        "inventory": _inventory(catalog, model, stock, first, history_days),
        "orders": purchase_orders(
            stock.order_quantity,
            history_days,
            model.series_sku,
            series_warehouse,
            catalog.products,
            catalog.warehouses,
            np.datetime64(config.history_end, "D"),
        ),
        "promotions": promotions,
    }
    # The brands' forecasts draw from their own generator, so adding them left every other table as it was.
    partner_forecasts, injections, partner_bias = build_partner_forecasts(
        np.random.default_rng([config.seed, 1]),
        catalog.products,
        catalog.locations,
        _mean_window(catalog, model, *partner_forecast_window(config.history_end)),
        config.history_end,
        events,
    )
    tables["partner_forecasts"] = partner_forecasts
    # Logistics draws from a third generator, for the same reason.
    logistics_rng = np.random.default_rng([config.seed, 2])
    tables["products"] = with_dimensions(catalog.products, logistics_rng)
    tables["parcel_rates"] = build_parcel_rates(catalog.warehouses, logistics_rng)
    tables["logistics_settings"] = build_logistics_settings(pd.Timestamp(config.history_start))
    tables["baskets"] = build_baskets(tables["sales"], catalog.products, catalog.locations, logistics_rng)
    true_demand = _true_demand(catalog, model, demand, first, history_days)
    # The consumer signal (and its planted unmet demand) draws from a generator of its own.
    tables["searches"], unmet_cells = build_searches(
        np.random.default_rng([config.seed, 4]), catalog.products, catalog.locations, true_demand
    )
    truth = {
        **parameters,
        "seed": config.seed,
        "config": {key: str(value) for key, value in asdict(config).items()},
        "hot_launch_skus": list(catalog.hot_launch_skus),
        "stock_policy": policy_parameters(),
        "ambition_factors": alliance.ambition_factors,
        "target_expected": alliance.expected,
        "partner_forecast_bias": partner_bias,
        "partner_forecast_injections": injections,
        "logistics": logistics_truth(),
        "subsidy_windows": model.subsidy.windows,
        "subsidy_effects": _subsidy_effects(catalog, model, first, n_history),
        "c2m_unmet_cells": unmet_cells,
    }
    return DemoScenario(tables=tables, true_demand=true_demand, truth=truth, config=config)


def _subsidy_effects(catalog: Catalog, model: DemandModel, first: int, n_days: int) -> dict[str, Any]:
    # Expected units the subsidies added, pulled forward and took from other SKUs over the history.
    rows = slice(first, first + n_days)
    gather = (slice(None), model.series_sku, model.series_region)
    return true_effects(
        model.mean[rows],
        model.subsidy.kind[rows][gather],
        model.subsidy.factor[rows][gather],
        catalog.products,
        model.series_sku,
    )


def _codes(catalog: Catalog) -> dict[str, Any]:
    # Categorical columns keep millions of fact rows small in memory.
    products, locations = catalog.products, catalog.locations
    partner_ids = [partner.partner_id for partner in PARTNERS]
    return {
        "sku": pd.CategoricalDtype(pd.Index(products["sku_id"])),
        "location": pd.CategoricalDtype(pd.Index(locations["location_id"])),
        "partner": pd.CategoricalDtype(partner_ids),
        "sku_partner": pd.Index(partner_ids).get_indexer(pd.Index(products["partner_id"])),
    }


def _categorical(codes: np.ndarray, dtype: pd.CategoricalDtype) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, dtype=dtype)


def _sales(
    catalog: Catalog, model: DemandModel, sold: np.ndarray, first: int, days: np.ndarray
) -> pd.DataFrame:
    day, series = np.nonzero(sold)
    sku = model.series_sku[series]
    group = (~model.series_online[series]).astype(np.int64)
    list_price = catalog.products["list_price"].to_numpy(dtype=float)[sku]
    discount = model.discount[first + day, sku, group]
    paid = np.round(list_price * (1.0 - discount), 2)
    region = model.series_region[series]
    subsidy = np.minimum(
        model.subsidy.rate[first + day, sku, region] * paid, model.subsidy.cap[first + day, sku, region]
    )
    codes = _codes(catalog)
    return pd.DataFrame(
        {
            "date": pd.to_datetime(days[day]),
            "sku_id": _categorical(sku, codes["sku"]),
            "location_id": _categorical(model.series_location[series], codes["location"]),
            "partner_id": _categorical(codes["sku_partner"][sku], codes["partner"]),
            "units": sold[day, series].astype(np.int64),
            "list_price": list_price,
            "paid_price": paid,
            "discount": np.round(discount, 4),
            "subsidy_yuan": np.round(subsidy, 2),
        }
    )


def _selling(model: DemandModel, first: int, n_days: int) -> np.ndarray:
    day = np.arange(first, first + n_days)[:, None]
    return (day >= model.first_day[None, :]) & (day <= model.last_day[None, :])


def _inventory(
    catalog: Catalog, model: DemandModel, stock: Any, first: int, days: np.ndarray
) -> pd.DataFrame:
    # Weekly snapshots (Sundays) while a SKU sells at a site, plus every stockout day.
    sunday = ((days.astype(np.int64) + 3) % 7) == 6
    keep = (sunday[:, None] & _selling(model, first, days.size)) | stock.stockout
    day, series = np.nonzero(keep)
    codes = _codes(catalog)
    sku = model.series_sku[series]
    return pd.DataFrame(
        {
            "date": pd.to_datetime(days[day]),
            "sku_id": _categorical(sku, codes["sku"]),
            "site_id": _categorical(model.series_location[series], codes["location"]),
            "partner_id": _categorical(codes["sku_partner"][sku], codes["partner"]),
            "on_hand": stock.on_hand[day, series].astype(np.int64),
            "in_transit": stock.in_transit[day, series].astype(np.int64),
            "stockout": stock.stockout[day, series],
        }
    )


def _mean_window(
    catalog: Catalog, model: DemandModel, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Return the true expected demand per selling (SKU, location) and day in ``[start, end)``."""
    rows = np.flatnonzero(
        (model.days >= np.datetime64(start.date())) & (model.days < np.datetime64(end.date()))
    )
    selling = (rows[:, None] >= model.first_day[None, :]) & (rows[:, None] <= model.last_day[None, :])
    day, series = np.nonzero(selling)
    codes = _codes(catalog)
    return pd.DataFrame(
        {
            "date": pd.to_datetime(model.days[rows[day]]),
            "sku_id": _categorical(model.series_sku[series], codes["sku"]),
            "location_id": _categorical(model.series_location[series], codes["location"]),
            "demand_mean": model.mean[rows[day], series],
        }
    )


def _true_demand(
    catalog: Catalog, model: DemandModel, demand: np.ndarray, first: int, days: np.ndarray
) -> pd.DataFrame:
    day, series = np.nonzero(_selling(model, first, days.size))
    codes = _codes(catalog)
    return pd.DataFrame(
        {
            "date": pd.to_datetime(days[day]),
            "sku_id": _categorical(model.series_sku[series], codes["sku"]),
            "location_id": _categorical(model.series_location[series], codes["location"]),
            "demand_mean": model.mean[first + day, series],
            "demand": demand[day, series].astype(np.int64),
        }
    )


def _arrow_column(series: pd.Series) -> pa.Array:
    # Dates as date32, text as plain strings (not dictionaries), numbers as 64-bit.
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = pa.array(series.cat.categories.astype(str).to_numpy(), type=pa.string())
        codes = series.cat.codes.to_numpy()
        dictionary = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), categories)
        return dictionary.cast(pa.string())
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return pa.array(series.to_numpy().astype("datetime64[D]"), type=pa.date32(), from_pandas=True)
    if pd.api.types.is_bool_dtype(series.dtype):
        return pa.array(series.to_numpy(dtype=bool), type=pa.bool_())
    if pd.api.types.is_integer_dtype(series.dtype):
        return pa.array(series.to_numpy(dtype=np.int64), type=pa.int64())
    if pd.api.types.is_float_dtype(series.dtype):
        return pa.array(series.to_numpy(dtype=float), type=pa.float64())
    return pa.array(
        series.astype(object).where(series.notna(), None).to_numpy(), type=pa.string(), from_pandas=True
    )


def _write_atomic(frame: pd.DataFrame, path: Path) -> Path:
    table = pa.table({name: _arrow_column(frame[name]) for name in frame.columns})
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary)
    os.replace(temporary, path)  # readers never see a half-written file
    return path


def write_scenario(scenario: DemoScenario, out_dir: Path) -> list[Path]:
    """Write every table to ``<out_dir>/<table>.parquet`` and the truth to ``<out_dir>/truth/``.

    Parameters
    ----------
    scenario : DemoScenario
        From :func:`generate_scenario`.
    out_dir : pathlib.Path
        Directory to write into (created if missing).

    Returns
    -------
    list of pathlib.Path
        The files written: tables in dependency order, then
        ``truth/true_demand.parquet`` and ``truth/parameters.json``.
    """
    out_dir = Path(out_dir)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    written = [_write_atomic(frame, out_dir / f"{name}.parquet") for name, frame in scenario.tables.items()]
    written.append(_write_atomic(scenario.true_demand, truth_dir / "true_demand.parquet"))
    parameters = truth_dir / "parameters.json"
    temporary = parameters.with_name(f".{parameters.name}.tmp")
    temporary.write_text(json.dumps(scenario.truth, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temporary, parameters)
    written.append(parameters)
    return written
