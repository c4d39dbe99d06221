"""What training a global model per partition costs in accuracy, against one global model.

On Spark a global model (LightGBM) is trained where its data lives: once per partner x category
partition (``global_partition``), each fit seeing only its partition's series. On data that fits
one machine this compares that with one model over every series: weekly SKU x channel sales of a
demo store, the last ``--weeks`` weeks held out, WAPE and bias of both, and the fit time. The
per-partition fits are the same on the local and the Spark engine (tests/forecast), so the
local engine measures them here.

    python benchmarks/spark_global.py --db PATH [--weeks 8] [--models lightgbm,lightgbm_tweedie]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from cpfr.data.store import open_store
from cpfr.forecast.auto import AutoForecaster


def weekly_history(db: str) -> pd.DataFrame:
    """Weekly units per SKU x channel with partner and category, every series to the last week."""
    with open_store(db, mode="read") as store:
        cube = store.sales_cube(["sku_id", "channel_id", "date"])
        products = store.read_table("products").set_index("sku_id")
    cube["ds"] = pd.to_datetime(cube["date"]).dt.to_period("W-SUN").dt.start_time
    weekly = cube.groupby(["sku_id", "channel_id", "ds"], as_index=False, observed=True)["units"].sum()
    weekly = weekly[weekly["ds"] < weekly["ds"].max()]  # the last week may be partial
    weekly["unique_id"] = weekly["sku_id"].astype(str) + "@" + weekly["channel_id"].astype(str)
    weekly["partner_id"] = weekly["sku_id"].astype(str).map(products["partner_id"].astype(str))
    weekly["category_id"] = weekly["sku_id"].astype(str).map(products["category_id"].astype(str))
    weeks = pd.date_range(weekly["ds"].min(), weekly["ds"].max(), freq="W-MON")
    keys = weekly.drop_duplicates("unique_id").set_index("unique_id")[["partner_id", "category_id"]]
    full = pd.MultiIndex.from_product([keys.index, weeks], names=["unique_id", "ds"]).to_frame(index=False)
    full = full.merge(weekly[["unique_id", "ds", "units"]], on=["unique_id", "ds"], how="left")
    full = full.join(keys, on="unique_id").rename(columns={"units": "y"})
    full["y"] = full["y"].fillna(0.0)
    return full.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def score(forecaster: AutoForecaster, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, float]:
    """Fit, forecast the held-out weeks, return WAPE, bias and seconds."""
    started = time.perf_counter()
    forecaster.fit(train, freq="W-MON")
    ahead = forecaster.predict()
    seconds = time.perf_counter() - started
    merged = test.merge(ahead[["unique_id", "ds", "mean"]], on=["unique_id", "ds"], how="left")
    merged["mean"] = merged["mean"].fillna(0.0)
    actual = float(merged["y"].sum())
    return {
        "wape": float(np.abs(merged["y"] - merged["mean"]).sum() / actual),
        "bias": float((merged["mean"].sum() - actual) / actual),
        "seconds": seconds,
        "partitions": float(train.drop_duplicates(["partner_id", "category_id"]).shape[0]),
    }


def main() -> None:
    """Compare one global model with one model per partner x category partition."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--models", default="lightgbm")
    args = parser.parse_args()
    history = weekly_history(args.db)
    cut = history["ds"].max() - pd.Timedelta(weeks=args.weeks)
    train, test = history[history["ds"] <= cut], history[history["ds"] > cut]
    print(f"{history['unique_id'].nunique():,} SKU x channel series, {args.weeks} weeks held out")
    rows = {}
    for model in args.models.split(","):
        for label, partition in (
            ("one global model", ()),
            ("per partner x category", ("partner_id", "category_id")),
        ):
            forecaster = AutoForecaster(
                horizon=args.weeks, models=[model], n_windows=1, global_partition=partition, n_jobs=1
            )
            rows[(model, label)] = score(forecaster, train, test)
    table = pd.DataFrame(rows).T
    print(table.round(4).to_string())


if __name__ == "__main__":
    main()
