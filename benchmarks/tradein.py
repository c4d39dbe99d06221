"""Trade-in subsidy uplift against the demo's truth, beside a naive before/after.

For each seed builds the small demo (40 SKUs, 30 stores, 18 months) in a temporary
folder, runs :func:`cpfr.tradein.estimate_uplift` and compares each leaf's uplift with
the truth ``subsidy_uplift``: mean absolute error (goal <= 0.03) and coverage of the
90 % interval (goal 0.8-1.0), overall and by kind of control. The naive estimate is the
eligible SKUs' mean daily units on subsidised days over their other days, minus one.

    python benchmarks/tradein.py [--seeds 1 2 3] [--n-boot 199]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cpfr.data.demo import DemoConfig, generate_scenario, write_scenario
from cpfr.data.ingest import ingest_file
from cpfr.data.store import Store, open_store
from cpfr.tradein import estimate_uplift
from cpfr.tradein.panel import read_panels


def naive_before_after(store: Store) -> dict[str, float]:
    """Return each leaf's eligible SKUs' subsidised-day mean over their other days, minus one."""
    naive = {}
    for panel in read_panels(store):
        cells = panel.on_sale[panel.eligible]
        units = panel.units[panel.eligible]
        on = cells & panel.subsidised[None, :]
        off = cells & ~panel.subsidised[None, :]
        naive[panel.category_id] = float(units[on].mean() / units[off].mean() - 1.0)
    return naive


def run_seed(seed: int, n_boot: int, folder: Path, window_days: int | None) -> pd.DataFrame:
    """Build one demo, estimate, and return the estimates beside the truth."""
    scenario = generate_scenario(DemoConfig.small(seed=seed))
    paths = write_scenario(scenario, folder)
    with open_store(folder / "demo.duckdb", mode="create") as store:
        for path in paths:
            if path.parent == folder:
                ingest_file(store, path, path.stem)
        result = estimate_uplift(store, n_boot=n_boot, seed=seed, window_days=window_days)
        naive = naive_before_after(store)
    result.insert(0, "seed", seed)
    result["truth"] = result["category_id"].map(scenario.truth["subsidy_uplift"])
    result["naive"] = result["category_id"].map(naive)
    return result


def summarise(frame: pd.DataFrame) -> pd.Series:
    """MAE and coverage of the DiD, and MAE of the naive estimate."""
    covered = (frame["uplift_low"] <= frame["truth"]) & (frame["truth"] <= frame["uplift_high"])
    return pd.Series(
        {
            "leaves": len(frame),
            "did_mae": float((frame["uplift"] - frame["truth"]).abs().mean()),
            "did_coverage_90": float(covered.mean()),
            "naive_mae": float((frame["naive"] - frame["truth"]).abs().mean()),
            "pre_trend_rejected_5pct": float((frame["pre_trend_p"] < 0.05).mean()),
        }
    )


def main() -> None:
    """Run the seeds and print per-leaf rows and the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--n-boot", type=int, default=199)
    parser.add_argument("--window-days", type=int, default=None, help="Fit window around the subsidy start.")
    args = parser.parse_args()
    started = time.perf_counter()
    frames = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as folder:
            frames.append(run_seed(seed, args.n_boot, Path(folder), args.window_days))
        print(f"seed {seed} done in {time.perf_counter() - started:.0f} s")
    results = pd.concat(frames, ignore_index=True)
    pd.set_option("display.width", 200)
    columns = ["seed", "category_id", "control", "truth", "uplift", "uplift_low", "uplift_high", "naive"]
    print(results[[*columns, "pre_trend_p"]].round(3).to_string(index=False))
    summary = pd.DataFrame({"all": summarise(results)})
    for control, group in results.groupby("control"):
        summary[str(control)] = summarise(group)
    trusted = results[results["pre_trend_p"] >= 0.05]
    summary["pre-trend ok"] = summarise(trusted) if len(trusted) else np.nan
    print(summary.round(3).to_string())
    print("goals: did_mae <= 0.03, did_coverage_90 in [0.8, 1.0]")


if __name__ == "__main__":
    main()
