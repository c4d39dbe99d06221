"""Trade-in subsidy uplift against the demo's truth, beside a naive before/after.

For each seed builds a demo (default: 300 SKUs, 3 years; ``--size small``: 40 SKUs, 18
months) in a temporary folder, runs :func:`cpfr.tradein.estimate_uplift` and compares each leaf's uplift with
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
from cpfr.tradein.budget import allocate_budget, response_cells
from cpfr.tradein.panel import read_panels

ALLOCATION_SHARES = (0.1, 0.3, 0.6)  # budgets as shares of what full cover of every cell would cost
ALLOCATIONS: list[dict[str, float]] = []


def naive_before_after(store: Store) -> dict[str, float]:
    """Return each leaf's eligible SKUs' subsidised-day mean over their other days, minus one."""
    naive = {}
    for panel in read_panels(store):
        rows = panel.eligible & panel.in_leaf
        cells = panel.on_sale[rows]
        units = panel.units[rows]
        on = cells & panel.covered[rows]
        off = cells & ~panel.covered[rows]
        naive[panel.category_id] = float(units[on].mean() / units[off].mean() - 1.0)
    return naive


def build_store(seed: int, folder: Path, size: str) -> tuple[Path, dict]:
    """Write and ingest one demo; return the store path and its truth."""
    config = DemoConfig.small(seed=seed) if size == "small" else DemoConfig(seed=seed)
    scenario = generate_scenario(config)
    paths = write_scenario(scenario, folder)
    with open_store(folder / "demo.duckdb", mode="create") as store:
        for path in paths:
            if path.parent == folder:
                ingest_file(store, path, path.stem)
    return folder / "demo.duckdb", scenario.truth


def allocation_under_truth(
    store: Store, estimates: pd.DataFrame, truth: dict, share: float
) -> dict[str, float]:
    """Split ``share`` of the full-cover spend; value both splits with the true uplift and net share."""
    cells = response_cells(store, estimates, months=12)
    budget = share * float(cells["full_coverage_spend"].sum())
    split = allocate_budget(cells, budget).cells
    effects = truth["subsidy_effects"]
    net_share = {
        leaf: (e["incremental_units"] - e["pull_forward_units"] - e["cannibalised_units"])
        / e["incremental_units"]
        for leaf, e in effects.items()
        if e["incremental_units"] > 0
    }
    true_gain = (
        split["baseline_units"]
        * split["category_id"].map(truth["subsidy_uplift"])
        * split["category_id"].map(net_share)
        * split["price"]
    )
    covered = {
        name: np.where(split["full_coverage_spend"] > 0, split[name] / split["full_coverage_spend"], 0.0)
        for name in ("spend", "pro_rata_spend")
    }
    cpfr, pro_rata = (
        float((covered["spend"] * true_gain).sum()),
        float((covered["pro_rata_spend"] * true_gain).sum()),
    )
    return {"budget": budget, "cpfr_true_gmv": cpfr, "pro_rata_true_gmv": pro_rata, "ratio": cpfr / pro_rata}


def run_seed(seed: int, n_boot: int, folder: Path, size: str) -> pd.DataFrame:
    """Build one demo, estimate, and return the estimates beside the truth."""
    path, truth = build_store(seed, folder, size)
    with open_store(path, mode="read") as store:
        result = estimate_uplift(store, n_boot=n_boot, seed=seed)
        naive = naive_before_after(store)
        for share in ALLOCATION_SHARES:
            ALLOCATIONS.append(
                {"seed": seed, "budget_share": share, **allocation_under_truth(store, result, truth, share)}
            )
    result.insert(0, "seed", seed)
    leaf = result["category_id"]
    result["truth"] = leaf.map(truth["subsidy_uplift"])
    result["naive"] = leaf.map(naive)
    result["true_cannibalisation"] = leaf.map(truth["subsidy_cannibalisation"])
    result["true_pull_forward_depth"] = leaf.map(truth["subsidy_pull_forward"]["depth"])
    effects = truth["subsidy_effects"]
    for column in ("incremental_units", "pull_forward_units", "cannibalised_units"):
        result[f"true_{column}"] = leaf.map(lambda name, column=column: effects.get(name, {}).get(column))
    result["true_net_units"] = (
        result["true_incremental_units"]
        - result["true_pull_forward_units"]
        - result["true_cannibalised_units"]
    )
    return result


def _mae_coverage(
    frame: pd.DataFrame, estimate: str, truth: str, low: str, high: str
) -> tuple[int, float, float]:
    known = frame[frame[estimate].notna()]
    covered = (known[low] <= known[truth]) & (known[truth] <= known[high])
    return len(known), float((known[estimate] - known[truth]).abs().mean()), float(covered.mean())


def summarise(frame: pd.DataFrame) -> pd.Series:
    """MAE and coverage per effect, relative errors of the units, and the naive MAE."""
    n, mae, coverage = _mae_coverage(frame, "uplift", "truth", "uplift_low", "uplift_high")
    n_c, mae_c, coverage_c = _mae_coverage(
        frame, "cannibalisation", "true_cannibalisation", "cannibalisation_low", "cannibalisation_high"
    )
    n_p, mae_p, coverage_p = _mae_coverage(
        frame,
        "pull_forward_depth",
        "true_pull_forward_depth",
        "pull_forward_depth_low",
        "pull_forward_depth_high",
    )

    def relative(estimate: str, truth: str) -> float:
        known = frame[frame[estimate].notna() & (frame[truth] > 0)]
        return float(((known[estimate] - known[truth]).abs() / known[truth]).median())

    return pd.Series(
        {
            "leaves": n,
            "uplift_mae": mae,
            "uplift_coverage_90": coverage,
            "naive_mae": float((frame["naive"] - frame["truth"]).abs().mean()),
            "cannib_leaves": n_c,
            "cannib_mae": mae_c,
            "cannib_coverage_90": coverage_c,
            "pullfwd_leaves": n_p,
            "pullfwd_depth_mae": mae_p,
            "pullfwd_coverage_90": coverage_p,
            "median_rel_err_net_units": relative("incremental_units", "true_net_units"),
            "median_rel_err_pullfwd_units": relative("pull_forward_units", "true_pull_forward_units"),
            "median_rel_err_cannib_units": relative("cannibalised_units", "true_cannibalised_units"),
            "pre_trend_rejected_5pct": float((frame["pre_trend_p"] < 0.05).mean()),
        }
    )


def main() -> None:
    """Run the seeds and print per-leaf rows and the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--n-boot", type=int, default=199)
    parser.add_argument("--size", choices=("small", "default"), default="default")
    args = parser.parse_args()
    started = time.perf_counter()
    frames = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as folder:
            frames.append(run_seed(seed, args.n_boot, Path(folder), args.size))
        print(f"seed {seed} done in {time.perf_counter() - started:.0f} s", flush=True)
    results = pd.concat(frames, ignore_index=True)
    pd.set_option("display.width", 250)
    columns = [
        "seed", "category_id", "control", "truth", "uplift", "uplift_low", "uplift_high", "naive",
        "true_cannibalisation", "cannibalisation", "true_pull_forward_depth", "pull_forward_depth",
        "true_net_units", "incremental_units", "pre_trend_p",
    ]  # fmt: skip
    print(results[columns].round(3).to_string(index=False))
    summary = pd.DataFrame({"all": summarise(results)})
    for control, group in results.groupby("control"):
        summary[str(control)] = summarise(group)
    print(summary.round(3).to_string())
    print("goals: uplift_mae <= 0.03, uplift_coverage_90 in [0.8, 1.0]")
    units = ["seed", "category_id", "gross_incremental_units", "true_incremental_units", "pull_forward_units",
             "true_pull_forward_units", "cannibalised_units", "true_cannibalised_units"]  # fmt: skip
    print(results[units].round(0).to_string(index=False))
    print("\nbudget split valued with the true uplift and net share (incremental GMV, yuan):")
    print(pd.DataFrame(ALLOCATIONS).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
