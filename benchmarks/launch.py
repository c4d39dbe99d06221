"""Launch forecasts from specs, replayed: every launch of the last year as of its launch day.

Each launch of a store's last year (whose first ``--days`` days of sales are in the store) is
written back as a spec — partner, category, list price, attributes, launch day and the channels
it sold through — and forecast with :func:`cpfr.c2m.spec_forecast.spec_forecast` as of its
launch day. Scored by the median absolute log error |log(1 + forecast) - log(1 + actual)| of
its first ``--days`` days' units against (a) the category average (mean units of the earlier
finished launches of its category, of all of them when it has none) and (b) the analogue method
(:func:`cpfr.forecast.launch.analogue_forecast`), and by how often the actual units fall inside
the spec forecast's q0.05 .. q0.95 (nominal 90 %). Per store and pooled over all of them (the
goal is judged pooled): spec model <= 0.7 x the category average's error.

    python benchmarks/launch.py --db A.duckdb [B.duckdb ...] [--days 90]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from c2m_gaps import score  # benchmarks/c2m_gaps.py, beside this script
from cpfr.c2m.spec_forecast import LaunchSpec, spec_forecast
from cpfr.data.store import Store, open_store
from cpfr.exceptions import InputError
from cpfr.forecast.launch import analogue_forecast, launch_curves

METHODS = ("spec model", "category average", "analogue")


def replay(store: Store, days: int) -> tuple[pd.DataFrame, float]:
    """Return one row per replayed launch (actual, each method's forecast) and seconds per forecast."""
    products = store.read_table("products")
    products = products.assign(launch_date=pd.to_datetime(products["launch_date"]))
    sales = store.read_table("sales")
    locations = store.read_table("locations")[["location_id", "channel_id"]]
    sales = sales.assign(ds=pd.to_datetime(sales["date"])).merge(locations, on="location_id")
    daily = sales.groupby(["sku_id", "ds"], observed=True)["units"].sum().reset_index()
    actual = launch_curves(daily, products, days=days).sum(axis=1)
    last_day = daily["ds"].max()
    chosen = products[
        products["sku_id"].isin(actual.index) & (products["launch_date"] > last_day - pd.Timedelta(days=365))
    ]
    rows = []
    seconds = []
    for product in chosen.sort_values("launch_date").itertuples():
        launch = product.launch_date
        window = sales[(sales["sku_id"] == product.sku_id) & (sales["ds"] < launch + pd.Timedelta(days=days))]
        spec = LaunchSpec(
            partner_id=product.partner_id,
            category_id=product.category_id,
            list_price=float(product.list_price),
            attributes=json.loads(product.attributes) if isinstance(product.attributes, str) else {},
            launch_date=launch.date(),
            channels=sorted(window["channel_id"].unique()),
        )
        started = time.perf_counter()
        try:
            result = spec_forecast(store, spec, as_of=launch.date(), horizon_days=days)
        except InputError:
            continue
        seconds.append(time.perf_counter() - started)
        earlier = products[
            products["sku_id"].isin(actual.index)
            & (products["launch_date"] + pd.Timedelta(days=days) <= launch)
            & (products["launch_date"] >= daily["ds"].min())
        ]
        same = earlier[earlier["category_id"] == product.category_id]
        pool = same if len(same) else earlier
        before = daily[(daily["ds"] < launch) & daily["sku_id"].isin(earlier["sku_id"])]
        new = pd.DataFrame([product._asdict()]).drop(columns="Index")
        analogue = analogue_forecast(new, earlier, before, days=days).forecast["mean"].sum()
        rows.append(
            {
                "sku_id": product.sku_id,
                "launch_date": launch.date(),
                "actual": float(actual[product.sku_id]),
                "spec model": result.quantiles["q0.5"],
                "q0.05": result.quantiles["q0.05"],
                "q0.95": result.quantiles["q0.95"],
                "category average": float(actual[pool["sku_id"]].mean()),
                "analogue": float(analogue),
            }
        )
    return pd.DataFrame(rows), float(np.mean(seconds)) if seconds else float("nan")


def summarise(frame: pd.DataFrame) -> dict[str, float]:
    """Median |log error| per method, the spec model's ratio to the category average, 90 % coverage."""
    truth = np.log1p(frame["actual"])
    summary: dict[str, float] = {"launches": float(len(frame))}
    for method in METHODS:
        summary[method] = float(np.median(np.abs(np.log1p(frame[method]) - truth)))
    summary["ratio"] = summary["spec model"] / summary["category average"]
    inside = (frame["q0.05"] <= frame["actual"]) & (frame["actual"] <= frame["q0.95"])
    summary["coverage_90"] = float(inside.mean())
    return summary


def main() -> None:
    """Replay the launches of each store's last year and print the methods' errors, per store and pooled."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, nargs="+")
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    frames = {}
    summaries = {}
    for db in args.db:
        with open_store(db, mode="read") as store:
            frame, seconds = replay(store, args.days)
        name = Path(db).parent.name or db
        frames[name] = frame
        summaries[name] = {**summarise(frame), "seconds_per_forecast": seconds}
    summaries["pooled"] = summarise(pd.concat(frames.values(), ignore_index=True))
    table = pd.DataFrame(summaries).T
    pd.set_option("display.width", 200)
    print(f"median |log(1 + forecast) - log(1 + actual)| of the first {args.days} days' units")
    print(table.round(3).to_string())
    print("goal: spec model <= 0.7 x category average (ratio), pooled")
    gaps = [gap_scores(Path(db)) for db in args.db]
    gaps = [frame for frame in gaps if frame is not None]
    if gaps:
        print(
            "\nthe gap finder against the planted unmet-demand cells (truth/parameters.json beside the store)"
        )
        scores = pd.concat(gaps, ignore_index=True)
        print(scores.round(3).to_string(index=False))
        print(
            scores.groupby("method", sort=False)[["P@5", "R@5", "P@10", "R@10"]].mean().round(3).to_string()
        )


def gap_scores(db: Path) -> pd.DataFrame | None:
    """Score the C2M gap finder's ranking against the demo's planted cells, if the truth is there."""
    truth = db.parent / "truth" / "parameters.json"
    if not truth.is_file():
        return None
    planted_cells = json.loads(truth.read_text()).get("c2m_unmet_cells")
    if not planted_cells:
        return None
    return score(db, planted_cells, [5, 10], store=db.parent.name)


if __name__ == "__main__":
    main()
