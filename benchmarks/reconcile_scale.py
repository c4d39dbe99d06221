"""Time and peak memory of sparse reconciliation at retail scale: 30,000 bottom series by default.

Run with ``python benchmarks/reconcile_scale.py [--partners 10 --categories 10 --skus 300]
[--structure grouped]``. Builds a partner > category > SKU hierarchy (10 x 10 x 300 = 30,000
SKUs, 111 aggregates) or, grouped, 100 stores x 300 products crossed with 5 regions (1,906 aggregates),
base forecasts for every node over a 28-day horizon and 100 periods of residuals, then
times building the hierarchy, bottom-up and MinT-shrink reconciliation. Peak memory is
the process's resident high-water mark (VmHWM in /proc/self/status), reset before each
step through /proc/self/clear_refs where the kernel allows it.
Goal: MinT-shrink of 30,000 bottom series in < 60 s and < 4 GB on a 2-core machine
(hierarchicalforecast 1.5.3's dense MinTrace is killed out of memory at 24 GB here).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from cpfr.forecast.hierarchy import Hierarchy
from cpfr.forecast.reconcile import reconcile

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def peak_memory_gb() -> float:
    """Return VmHWM, the resident-set high-water mark of this process, in GB."""
    for line in STATUS.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not allowed."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def measure(step: Callable[[], Any]) -> tuple[Any, float, float, bool]:
    """Run ``step``; return its value, seconds and peak GB, and whether the peak was reset first."""
    was_reset = reset_peak()
    start = time.perf_counter()
    value = step()
    return value, time.perf_counter() - start, peak_memory_gb(), was_reset


def make_attributes(structure: str, partners: int, categories: int, skus: int) -> pd.DataFrame:
    """Return one row per bottom series: partner x category x SKU, or store x product (grouped)."""
    if structure == "hierarchical":
        return pd.DataFrame(
            {
                "unique_id": [
                    f"P{p:02d}-C{c:02d}-S{s:04d}"
                    for p in range(partners)
                    for c in range(categories)
                    for s in range(skus)
                ],
                "partner": np.repeat([f"P{p:02d}" for p in range(partners)], categories * skus),
                "category": np.tile(np.repeat([f"C{c:02d}" for c in range(categories)], skus), partners),
            }
        )
    # Grouped: every store (partners x categories of them, 5 regions) sells every product (skus).
    stores = partners * categories
    return pd.DataFrame(
        {
            "unique_id": [f"ST{t:03d}-PR{s:04d}" for t in range(stores) for s in range(skus)],
            "store": np.repeat([f"ST{t:03d}" for t in range(stores)], skus),
            "region": np.repeat([f"R{t % 5}" for t in range(stores)], skus),
            "product": np.tile([f"PR{s:04d}" for s in range(skus)], stores),
        }
    )


SPECS: dict[str, list[list[str]]] = {
    "hierarchical": [[], ["partner"], ["partner", "category"]],
    "grouped": [[], ["region"], ["region", "store"], ["product"], ["region", "product"]],
}


def make_problem(
    attributes: pd.DataFrame, horizon: int, periods: int, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return long random bottom means and residual histories for the bottom series."""
    rng = np.random.default_rng(seed)
    ids = attributes["unique_id"].to_numpy()
    level = rng.gamma(2.0, 5.0, len(ids))
    dates = pd.date_range("2025-01-01", periods=horizon, freq="D")
    bottom = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, horizon),
            "ds": np.tile(dates, len(ids)),
            "mean": np.repeat(level, horizon),
        }
    )
    history = pd.date_range("2024-09-23", periods=periods, freq="D")
    bottom_residuals = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, periods),
            "ds": np.tile(history, len(ids)),
            "residual": rng.normal(0.0, np.sqrt(np.repeat(level, periods))),
        }
    )
    return bottom, bottom_residuals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10)
    parser.add_argument("--categories", type=int, default=10)
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--periods", type=int, default=100)
    parser.add_argument("--structure", choices=sorted(SPECS), default="hierarchical")
    options = parser.parse_args()
    rng = np.random.default_rng(1)
    attributes = make_attributes(options.structure, options.partners, options.categories, options.skus)
    bottom, bottom_residuals = make_problem(attributes, options.horizon, options.periods)
    spec = SPECS[options.structure]

    hierarchy, build_seconds, build_peak, exact = measure(lambda: Hierarchy.from_frame(attributes, spec))
    # Incoherent base forecasts: aggregate the bottom means, then perturb every node.
    base = hierarchy.aggregate(bottom, ["mean"])
    base["mean"] *= rng.uniform(0.8, 1.2, len(base))
    spread = 0.3 * base["mean"].to_numpy()
    base["q0.1"] = base["mean"] - 1.28 * spread
    base["q0.5"] = base["mean"]
    base["q0.9"] = base["mean"] + 1.28 * spread
    residuals = hierarchy.aggregate(bottom_residuals, ["residual"])
    residuals["residual"] += rng.normal(0.0, 1.0, len(residuals))

    rows = [("build hierarchy", build_seconds, build_peak, exact)]
    results = {}
    for method in ("bottom_up", "mint_shrink"):
        result, seconds, peak, exact = measure(
            lambda method=method: reconcile(base, hierarchy, method=method, residuals=residuals)
        )
        results[method] = result
        rows.append((method, seconds, peak, exact))
    # Slow movers: a fifth of the SKUs forecast near zero, where the unconstrained
    # projection goes negative and the exact non-negative problem is solved.
    slow = base["unique_id"].isin(hierarchy.bottom_ids[::5]).to_numpy()
    sparse_base = base.assign(mean=np.where(slow, 0.02 * base["mean"], base["mean"]))
    unconstrained = reconcile(sparse_base, hierarchy, method="mint_shrink", residuals=residuals)
    negative = int((unconstrained["mean"] < 0).sum())
    name = f"mint_shrink non-negative ({negative:,} negative means)"
    result, seconds, peak, exact = measure(
        lambda: reconcile(sparse_base, hierarchy, method="mint_shrink", residuals=residuals, nonnegative=True)
    )
    results[name] = result
    rows.append((name, seconds, peak, exact))

    coherence = {}
    bottom_mask = results["mint_shrink"]["unique_id"].isin(hierarchy.bottom_ids)
    for method, result in results.items():
        summed = hierarchy.aggregate(result[bottom_mask.to_numpy()], ["mean"])
        given = result.set_index(["unique_id", "ds"])["mean"].reindex(
            pd.MultiIndex.from_frame(summed[["unique_id", "ds"]])
        )
        coherence[method] = float(np.max(np.abs(given.to_numpy() - summed["mean"].to_numpy())))

    table = Table(
        title=(
            f"Reconciliation at scale ({options.structure}): {hierarchy.n_bottom:,} bottom series, "
            f"{hierarchy.n_aggregates:,} aggregates, "
            f"horizon {options.horizon}, {options.periods} residual periods"
        )
    )
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("peak RSS (GB)", justify="right")
    table.add_column("max coherence error", justify="right")
    for step, seconds, peak, was_reset in rows:
        error = coherence.get(step)
        table.add_row(
            step,
            f"{seconds:.2f}",
            f"{peak:.2f}" + ("" if was_reset else " (process peak)"),
            "" if error is None else f"{error:.1e}",
        )
    console = Console()
    console.print(table)
    shrink = results["mint_shrink"]
    console.print(f"whole-process VmHWM: {peak_memory_gb():.2f} GB; rows reconciled: {len(shrink):,}")


if __name__ == "__main__":
    main()
