"""Forecast the store's own sales: build series at a level, unconstrain stockouts, write the forecasts back.

Series are built at SKU x store from ``sales`` (a day without a row sold
nothing), censored days come from the ``inventory`` stockout flags and are
raised to estimated demand at that level, then series are summed to the level
asked for (``sku``, ``sku/store`` or ``sku/channel``). The forecasts land in
the ``forecasts`` table through the same validated, transactional ingest as
any file, with one ``forecast_runs`` row describing the run.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.data.datasets import LongDataset, fill_gaps
from cpfr.data.schema import FORECAST_QUANTILES
from cpfr.data.store import Store
from cpfr.exceptions import InputError, ParameterError
from cpfr.forecast.auto import AutoForecaster
from cpfr.forecast.censoring import uncensor
from cpfr.forecast.hierarchy import Hierarchy
from cpfr.forecast.reconcile import reconcile

LEVELS: dict[str, tuple[str, ...]] = {
    "sku": ("sku_id",),
    "sku/store": ("sku_id", "location_id"),
    "sku/channel": ("sku_id", "channel_id"),
}
# The aggregates each level is reconciled with: the product tree, and geography or channel.
HIERARCHIES: dict[str, list[list[str]]] = {
    "sku": [[], ["partner_id"], ["partner_id", "category_id"]],
    "sku/store": [[], ["partner_id"], ["partner_id", "category_id"], ["region"], ["region", "city_tier"]],
    "sku/channel": [[], ["partner_id"], ["partner_id", "category_id"], ["channel_kind"]],
}


@dataclass(frozen=True)
class StoreForecast:
    """A forecasting run over the store.

    Attributes
    ----------
    run_id : str
        The run's id in ``forecast_runs`` and ``forecasts``.
    forecast : pandas.DataFrame
        The rows written to ``forecasts``.
    forecaster : AutoForecaster
        The fitted forecaster (leaderboard, chosen model).
    censored : int
        SKU x store days raised from capped sales to estimated demand.
    reconciliation : str
        The reconciliation method applied ('' for none).
    aggregates : pandas.DataFrame or None
        With reconciliation, the coherent forecasts of every aggregate node
        (``total``, ``partner_id=XIAOMI``, ``region=East/city_tier=3``, ...).
    """

    run_id: str
    forecast: pd.DataFrame
    forecaster: AutoForecaster
    censored: int
    reconciliation: str = ""
    aggregates: pd.DataFrame | None = None


def store_history(store: Store, level: str, *, partner_id: str | None = None) -> tuple[pd.DataFrame, int]:
    """Return daily ``unique_id, ds, y`` + the level's key columns, stockouts unconstrained, and the count."""
    if level not in LEVELS:
        raise ParameterError("level", f"{level!r}: expected one of {', '.join(LEVELS)}")
    cube = store.sales_cube(["sku_id", "location_id", "channel_id", "date"], partner_id=partner_id)
    if cube.empty:
        raise InputError(f"{store.location}: no sales to forecast")
    cube = cube.rename(columns={"date": "ds", "units": "y"})
    cube["ds"] = pd.to_datetime(cube["ds"])
    cube["unique_id"] = cube["sku_id"].astype(str) + "@" + cube["location_id"].astype(str)
    last = cube["ds"].max()
    # Every series runs to the store's last sales day: a SKU that stopped selling sold zero.
    ends = cube.groupby("unique_id", as_index=False).agg(ds=("ds", "max"))
    ends = ends[ends["ds"] < last].assign(ds=last, y=0.0)
    frame = pd.concat([cube[["unique_id", "ds", "y"]], ends], ignore_index=True)
    filled = fill_gaps(LongDataset(frame.sort_values(["unique_id", "ds"]), freq="D", name="sales")).df
    stockouts = store.read_table("inventory", partner_id=partner_id)
    stockouts = stockouts[stockouts["stockout"].astype(bool)]
    # The row of each stockout in the filled history (sorted by series, then day), by position.
    ids = filled["unique_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    series = pd.Index(ids[starts])
    first_day = filled["ds"].to_numpy()[starts]
    lengths = np.diff(np.r_[starts, len(ids)])
    code = series.get_indexer(stockouts["sku_id"].astype(str) + "@" + stockouts["site_id"].astype(str))
    known = code >= 0
    offset = (pd.to_datetime(stockouts["date"]).to_numpy()[known] - first_day[code[known]]) // np.timedelta64(
        1, "D"
    )
    inside = (offset >= 0) & (offset < lengths[code[known]])
    flags = np.zeros(len(filled), dtype=bool)
    flags[starts[code[known][inside]] + offset[inside]] = True
    history = uncensor(filled[["unique_id", "ds", "y"]], flags, season=7).drop(columns="censored")
    keys = cube.drop_duplicates("unique_id").set_index("unique_id")[["sku_id", "location_id", "channel_id"]]
    history = history.join(keys, on="unique_id")
    columns = list(LEVELS[level])
    if level != "sku/store":
        history = history.groupby([*columns, "ds"])["y"].sum().reset_index()
        history["unique_id"] = history[columns].astype(str).agg("@".join, axis=1)
    return history[["unique_id", "ds", "y", *columns]].sort_values(["unique_id", "ds"]).reset_index(
        drop=True
    ), int(flags.sum())


def forecast_store(
    store: Store,
    *,
    level: str,
    horizon: int,
    models: str | list[str] = "auto",
    n_windows: int = 3,
    partner_id: str | None = None,
    reconcile_method: str | None = None,
    progress: Callable[[str], None] | None = None,
    engine: str = "local",
    spark_master: str | None = None,
) -> StoreForecast:
    """Forecast every series of the store at ``level`` and write the run into ``forecasts``.

    ``progress`` receives one line per stage (history read, models fitted, run written).

    With ``reconcile_method`` ('bottom_up', 'ols', 'wls_struct', 'wls_var', 'mint_shrink'), the
    aggregates of :data:`HIERARCHIES` are forecast too and every level is made coherent
    (:func:`cpfr.forecast.reconcile.reconcile`); the bottom series are written.

    With ``engine='spark'`` the model fits run on Spark (``spark_master``, default ``local[*]``),
    a partner's series never in a task with another partner's; the forecasts are the local
    engine's, and Spark's progress goes to ``progress``.
    """
    say = progress or (lambda message: None)
    say(f"history: daily sales at {level} level, stockout days unconstrained")
    history, censored = store_history(store, level, partner_id=partner_id)
    keys = history.drop_duplicates("unique_id").set_index("unique_id")[list(LEVELS[level])]
    say(f"history: {len(keys):,} series, {len(history):,} days ({censored:,} stockout days)")
    say(
        f"models: backtest over {n_windows} windows, then {horizon} days ahead"
        + (f", reconciled by {reconcile_method}" if reconcile_method else "")
    )
    forecaster = AutoForecaster(
        horizon=horizon,
        models=models,
        quantiles=FORECAST_QUANTILES,
        n_windows=n_windows,
        engine=engine,
        spark_master=spark_master,
        partition_by=("partner_id",),
        progress=say,
    )
    method, aggregates = "", None
    if reconcile_method is None:
        owners = _owners(store, history.drop_duplicates("unique_id")[["unique_id", "sku_id"]])
        forecaster.fit(history[["unique_id", "ds", "y"]].join(owners, on="unique_id"), freq="D")
        result = forecaster.predict()
    else:
        result, aggregates, method = _reconciled(store, history, keys, level, forecaster, reconcile_method)
    run_id = f"F-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    rows = result.join(keys, on="unique_id").assign(run_id=run_id)  # quantile columns as stored: q0.05 ...
    rows["ds"] = rows["ds"].dt.date
    run = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "level": level,
                "horizon": horizon,
                "freq": "D",
                "model": forecaster.chosen_.name,
                "series": int(keys.shape[0]),
                "partner_id": partner_id,
            }
        ]
    )
    say(f"models: {forecaster.chosen_.name} chosen; writing {len(rows):,} forecast rows")
    for table, frame in (("forecasts", rows), ("forecast_runs", run)):
        store.write_rows(frame, table)
    say(f"saved forecast run {run_id}")
    return StoreForecast(run_id, rows, forecaster, censored, method, aggregates)


def _owners(store: Store, series: pd.DataFrame) -> pd.DataFrame:
    """Return the ``partner_id`` of each series (``unique_id, sku_id``), by ``unique_id``."""
    products = store.read_table("products")[["sku_id", "partner_id"]].astype(str)
    owners = series.astype(str).merge(products, on="sku_id", how="left").fillna({"partner_id": "unknown"})
    return owners.set_index("unique_id")[["partner_id"]]


def _reconciled(
    store: Store,
    history: pd.DataFrame,
    keys: pd.DataFrame,
    level: str,
    forecaster: AutoForecaster,
    method: str,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Forecast every node of the level's hierarchy and reconcile: (bottom rows, aggregate rows, method)."""
    attributes = keys.reset_index()
    products = store.read_table("products")[["sku_id", "partner_id", "category_id"]]
    attributes = attributes.merge(products, on="sku_id", how="left")
    if "location_id" in attributes:
        locations = store.read_table("locations")[["location_id", "region", "city_tier"]]
        attributes = attributes.merge(locations, on="location_id", how="left")
    if "channel_id" in attributes:
        channels = store.read_table("channels")[["channel_id", "kind"]].rename(
            columns={"kind": "channel_kind"}
        )
        attributes = attributes.merge(channels, on="channel_id", how="left")
    attributes = attributes.fillna("unknown").astype({column: str for column in attributes.columns})
    hierarchy = Hierarchy.from_frame(attributes, HIERARCHIES[level])
    every_node = hierarchy.aggregate(history[["unique_id", "ds", "y"]], ["y"])
    # A node within one partner is that partner's (the Spark engine keeps partners apart); the total
    # and the geographic aggregates span partners and are labelled so.
    partner = attributes.set_index("unique_id")["partner_id"]
    node = every_node["unique_id"].astype(str)
    inside = node.str.extract(r"^partner_id=([^/]+)")[0]
    every_node = every_node.assign(partner_id=node.map(partner).fillna(inside).fillna("*").to_numpy())
    forecaster.fit(every_node, freq="D")
    base = forecaster.predict()
    residuals = forecaster.residuals_
    complete = residuals.groupby("unique_id")["ds"].nunique()
    if method in ("mint_shrink", "wls_var") and (
        len(complete) < len(hierarchy.ids) or complete.nunique() > 1
    ):
        method = "wls_struct"  # some node lacks backtest residuals: structural weights need none
    coherent = reconcile(base, hierarchy, method=method, residuals=residuals, nonnegative=True)  # type: ignore[arg-type]
    is_bottom = coherent["unique_id"].isin(set(hierarchy.bottom_ids))
    return coherent[is_bottom].reset_index(drop=True), coherent[~is_bottom].reset_index(drop=True), method
