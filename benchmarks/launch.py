"""Launch forecasts from specs, replayed: every launch of the last year as of its launch day.

Each launch of the store's last year (whose first ``--days`` days of sales are in the store) is
written back as a spec — partner, category, list price, attributes, launch day and the channels
it sold through — and forecast with :func:`cpfr.c2m.spec_forecast.spec_forecast` as of its
launch day. Scored by the median absolute log error |log(1 + forecast) - log(1 + actual)| of
its first ``--days`` days' units against (a) the category average (mean units of the earlier
finished launches of its category, of all of them when it has none) and (b) the analogue method
(:func:`cpfr.forecast.launch.analogue_forecast`). Goal: <= 0.7 x the category average's error.

    python benchmarks/launch.py --db PATH [--days 90]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

import numpy as np
import pandas as pd

from cpfr.c2m.spec_forecast import LaunchSpec, spec_forecast
from cpfr.data.store import open_store
from cpfr.exceptions import InputError
from cpfr.forecast.launch import analogue_forecast, launch_curves


def main() -> None:
    """Replay the launches of the store's last year and print the three methods' errors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    with open_store(args.db, mode="read") as store:
        products = store.read_table("products")
        products = products.assign(launch_date=pd.to_datetime(products["launch_date"]))
        sales = store.read_table("sales")
        locations = store.read_table("locations")[["location_id", "channel_id"]]
        sales = sales.assign(ds=pd.to_datetime(sales["date"])).merge(locations, on="location_id")
        daily = sales.groupby(["sku_id", "ds"], observed=True)["units"].sum().reset_index()
        curves = launch_curves(daily, products, days=args.days)
        actual = curves.sum(axis=1)
        last_day = daily["ds"].max()
        chosen = products[
            products["sku_id"].isin(actual.index)
            & (products["launch_date"] > last_day - pd.Timedelta(days=365))
        ]
        errors: dict[str, list[float]] = {"spec model": [], "category average": [], "analogue": []}
        skipped = 0
        for product in chosen.sort_values("launch_date").itertuples():
            launch = product.launch_date
            window = sales[
                (sales["sku_id"] == product.sku_id) & (sales["ds"] < launch + pd.Timedelta(days=args.days))
            ]
            spec = LaunchSpec(
                partner_id=product.partner_id,
                category_id=product.category_id,
                list_price=float(product.list_price),
                attributes=json.loads(product.attributes) if isinstance(product.attributes, str) else {},
                launch_date=launch.date(),
                channels=sorted(window["channel_id"].unique()),
            )
            try:
                result = spec_forecast(store, spec, as_of=launch.date(), horizon_days=args.days)
            except InputError:
                skipped += 1
                continue
            truth = np.log1p(actual[product.sku_id])
            errors["spec model"].append(abs(np.log1p(result.quantiles["q0.5"]) - truth))
            earlier = products[
                products["sku_id"].isin(actual.index)
                & (products["launch_date"] + pd.Timedelta(days=args.days) <= launch)
                & (products["launch_date"] >= daily["ds"].min())
            ]
            same = earlier[earlier["category_id"] == product.category_id]
            pool = same if len(same) else earlier
            errors["category average"].append(abs(np.log1p(actual[pool["sku_id"]].mean()) - truth))
            before = daily[(daily["ds"] < launch) & daily["sku_id"].isin(earlier["sku_id"])]
            new = pd.DataFrame([product._asdict()]).drop(columns="Index")
            analogue = analogue_forecast(new, earlier, before, days=args.days).forecast["mean"].sum()
            errors["analogue"].append(abs(np.log1p(analogue) - truth))
    count = len(errors["spec model"])
    print(
        f"{count} launches of the last year forecast as of their launch day"
        f" ({skipped} with nothing to learn from)"
    )
    baseline = float(np.median(errors["category average"])) if count else float("nan")
    for name, values in errors.items():
        median = float(np.median(values)) if values else float("nan")
        print(f"{name:>17}: median |log error| {median:.3f} ({median / baseline:.2f} x category average)")
    print(f"goal: spec model <= 0.7 x category average ({dt.date.today()})")


if __name__ == "__main__":
    main()
