"""The demand-gap finder against the demo's planted unmet demand, beside naive rankings.

For each seed builds the demo (small: 40 SKUs, 30 stores, 18 months; ``--size default`` for
300 SKUs over three years) in a temporary folder, runs :func:`cpfr.c2m.find_gaps` as of the
last day of history and scores the ranking against ``truth/parameters.json``'s
``c2m_unmet_cells``: precision@k, recall@k and R-precision over distinct cells (category, attribute, value,
price band; a cell ranked in several tiers counts once, at its best rank, and a tier-specific
planted cell is found when any tier of it is ranked). Beside it:

- ``finder (all tiers)``: the same finder with one row per cell over all tiers;
- ``unmet index only``: the finder's search-share over supply-share term without the stock-out,
  growth and band-gap evidence (an ablation);
- ``searches``: cells ranked by their searches alone (the most searched first);
- ``units per SKU``: cells ranked by units sold per SKU on sale (sell-through);
- ``searches per SKU``: searches over one plus the SKUs on sale.

    python benchmarks/c2m_gaps.py [--seeds 1 2 3] [--size small|default] [--k 5 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from cpfr.c2m import find_gaps
from cpfr.data.store import open_store
from tradein import build_store  # benchmarks/tradein.py, beside this script

CELL = ["category_id", "attribute", "value", "price_band"]


def _cells(frame: pd.DataFrame) -> list[tuple[str, ...]]:
    """Distinct cells in the frame's order (the first, best, row of each)."""
    keys = frame[CELL].astype(str).apply(tuple, axis=1)
    return list(dict.fromkeys(keys))


def rankings(store_path: Path) -> dict[str, list[tuple[str, ...]]]:
    """Return each method's ranked distinct cells."""
    with open_store(store_path, mode="read") as store:
        by_tier = find_gaps(store)
        overall = find_gaps(store, by_tier=False)
    per_sku = overall.assign(
        searches_per_sku=overall["searches"] / (overall["n_skus"] + 1),
        units_per_sku=overall["units_per_sku"].fillna(-1.0),
    )
    return {
        "finder (by tier)": _cells(by_tier),
        "finder (all tiers)": _cells(overall),
        "unmet index only": _cells(overall.sort_values("unmet_index", ascending=False, kind="stable")),
        "searches": _cells(overall.sort_values("searches", ascending=False, kind="stable")),
        "units per SKU": _cells(per_sku.sort_values("units_per_sku", ascending=False, kind="stable")),
        "searches per SKU": _cells(per_sku.sort_values("searches_per_sku", ascending=False, kind="stable")),
    }


def score(db: Path, planted_cells: list[dict[str, object]], ks: list[int], **labels: object) -> pd.DataFrame:
    """Rank the store's cells by every method; precision and recall at each k against the planted cells."""
    planted = {tuple(str(cell[key]) for key in CELL) for cell in planted_cells}
    rows = []
    for method, ranked in rankings(db).items():
        row: dict[str, object] = {**labels, "method": method, "planted": len(planted)}
        for k in ks:
            hits = len(planted & set(ranked[:k]))
            row[f"P@{k}"] = hits / k
            row[f"R@{k}"] = hits / len(planted)
        # R-precision: precision at k = the number of planted cells (equal to recall there).
        row["R-prec"] = len(planted & set(ranked[: len(planted)])) / len(planted)
        positions = [ranked.index(cell) + 1 for cell in planted if cell in ranked]
        row["median rank"] = float(pd.Series(positions).median()) if positions else float("nan")
        row["cells"] = len(ranked)
        rows.append(row)
    return pd.DataFrame(rows)


def run_seed(seed: int, size: str, folder: Path, ks: list[int]) -> pd.DataFrame:
    """Build one demo, rank, and return precision and recall at each k per method."""
    path, truth = build_store(seed, folder, size)
    return score(path, truth["c2m_unmet_cells"], ks, seed=seed)


def main() -> None:
    """Run the benchmark and print per-seed and mean figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--size", choices=("small", "default"), default="small")
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10])
    arguments = parser.parse_args()
    frames = []
    for seed in arguments.seeds:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            frames.append(run_seed(seed, arguments.size, Path(folder), arguments.k))
        print(f"seed {seed}: {time.perf_counter() - started:.1f} s")
    results = pd.concat(frames, ignore_index=True)
    pd.set_option("display.width", 200)
    print(results.to_string(index=False, float_format=lambda value: f"{value:.2f}"))
    metrics = [column for column in results.columns if column.startswith(("P@", "R@", "R-prec"))]
    mean = results.groupby("method", sort=False)[[*metrics, "median rank"]].mean()
    print(f"\nmean over seeds {arguments.seeds} ({arguments.size} demo):")
    print(mean.to_string(float_format=lambda value: f"{value:.2f}"))


if __name__ == "__main__":
    main()
