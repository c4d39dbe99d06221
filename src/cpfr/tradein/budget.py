"""Where the next yuan of trade-in subsidy should go: a budget split across categories, tiers and months.

A cell is a leaf category x city tier x month of the plan. Under the category's
rule (share of the price, cap per unit, price limit) subsidising the cell's
eligible buyers costs ``(1 + s) * B * v`` for a baseline of ``B`` eligible units
without subsidy and ``v`` yuan per subsidised unit, and adds ``s * B * n`` units,
where ``s`` is the leaf's estimated uplift and ``n`` the share that is net of
pull-forward and cannibalisation (:func:`cpfr.tradein.estimate_uplift`). Money
reaches buyers first come, first served, so within a cell the return per yuan
is constant until every eligible buyer is subsidised and zero after: a
category's response to its budget is the concave, piecewise-linear curve of its
cells taken in order of return (:func:`return_curves`), its slope the marginal
return. The split maximising the total is a linear programme (solved by HiGHS);
the planner's rule it is compared with spends pro rata to last year's sales.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from cpfr.data.sources import open_source
from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.network.solver import LinearModel, require_solution, solve
from cpfr.tradein.panel import SalesData
from cpfr.tradein.uplift import estimate_uplift

OBJECTIVES = ("gmv", "units")
RULE_COLUMNS = ("category_id", "share", "cap_yuan", "price_limit")
PRICE_DAYS = 180  # prices and subsidies per unit are read from the last half year
SPLIT_COLUMNS = (
    "category_id",
    "category_name",
    "city_tier",
    "month",
    "spend",
    "expected_incremental_units",
    "expected_incremental_gmv",
    "full_coverage_spend",
    "return_per_yuan",
    "pro_rata_spend",
    "pro_rata_incremental_units",
    "pro_rata_incremental_gmv",
)


@dataclass(frozen=True)
class BudgetSplit:
    """An optimised subsidy split beside the pro-rata one.

    Attributes
    ----------
    cells : pandas.DataFrame
        One row per category x tier x month, columns :data:`SPLIT_COLUMNS`.
    objective : str
        ``gmv`` or ``units``.
    budget : float
        Yuan to spend.
    """

    cells: pd.DataFrame
    objective: str
    budget: float

    def totals(self) -> dict[str, float]:
        """Spend and expected incremental units and GMV of both splits."""
        cells = self.cells
        return {
            "budget": self.budget,
            "spend": float(cells["spend"].sum()),
            "incremental_units": float(cells["expected_incremental_units"].sum()),
            "incremental_gmv": float(cells["expected_incremental_gmv"].sum()),
            "pro_rata_spend": float(cells["pro_rata_spend"].sum()),
            "pro_rata_incremental_units": float(cells["pro_rata_incremental_units"].sum()),
            "pro_rata_incremental_gmv": float(cells["pro_rata_incremental_gmv"].sum()),
        }


def infer_rules(sales: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Read each subsidised leaf's rule from its subsidised sales: share, cap per unit, price limit.

    The share is the largest subsidy-to-price ratio seen (capped units show less), the cap
    the largest subsidy per unit, the price limit the highest list price that got one.
    """
    subsidised = sales[sales["subsidy_yuan"].fillna(0.0) > 0]
    if subsidised.empty:
        return pd.DataFrame(columns=list(RULE_COLUMNS))
    leaf = products.set_index("sku_id")["category_id"].astype(str)
    frame = pd.DataFrame(
        {
            "category_id": subsidised["sku_id"].astype(str).map(leaf).to_numpy(),
            "ratio": (subsidised["subsidy_yuan"] / subsidised["paid_price"]).to_numpy(),
            "subsidy": subsidised["subsidy_yuan"].to_numpy(),
            "list_price": subsidised["list_price"].to_numpy(),
        }
    )
    rules = frame.groupby("category_id").agg(
        share=("ratio", lambda ratio: float(np.quantile(ratio, 0.99))),
        cap_yuan=("subsidy", "max"),
        price_limit=("list_price", "max"),
    )
    return rules.round({"share": 3, "cap_yuan": 0}).reset_index()


def response_cells(
    store: Store,
    estimates: pd.DataFrame,
    *,
    rules: pd.DataFrame | None = None,
    months: int = 12,
    as_of: pd.Timestamp | None = None,
    partner_id: str | None = None,
    tier_estimates: dict[int, pd.DataFrame] | None = None,
    data: SalesData | None = None,
) -> pd.DataFrame:
    """Return every category x tier x month cell of the plan with its cost of full cover and return.

    Columns: ``category_id, city_tier, month, baseline_units, price, subsidy_per_unit,
    full_coverage_spend, incremental_units_at_full, incremental_gmv_at_full, last_year_gmv``.
    The baseline is the same month a year earlier, eligible units only, cleared of the
    subsidy's uplift where it ran (the month's mean over the history when that month is missing).
    With ``tier_estimates`` (:func:`estimate_uplift` on each tier's sales), each tier's uplift is
    its own estimate shrunk towards the category's (:func:`tier_uplift`); else the category's.
    """
    data = data or SalesData.read(store, partner_id)
    sales, products, locations = data.sales, data.products, data.locations
    if sales.empty:
        raise InputError("no sales in the store: nothing to allocate a subsidy budget to")
    rules = infer_rules(sales, products) if rules is None else rules
    known = estimates.dropna(subset=["uplift"]).set_index("category_id")
    shrunk = shrunk_uplift(known)
    by_tier = tier_uplift(shrunk, tier_estimates or {})
    rules = rules[rules["category_id"].isin(known.index)]
    end = pd.Timestamp(sales["date"].max()) if as_of is None else pd.Timestamp(as_of)
    dates = pd.to_datetime(sales["date"])
    sales = sales[dates <= end].assign(date=dates[dates <= end])
    product = products.set_index("sku_id")
    tier = locations.set_index("location_id")["city_tier"]
    frame = sales.assign(
        category_id=sales["sku_id"].astype(str).map(product["category_id"].astype(str)),
        list_price=sales["sku_id"].astype(str).map(product["list_price"]),
        city_tier=sales["location_id"].astype(str).map(tier),
        month=sales["date"].dt.to_period("M"),
    )
    plan_months = pd.period_range(end.to_period("M") + 1, periods=months, freq="M")
    # Eligible: the SKUs the rules subsidised (price limit and any attribute rule alike).
    subsidised_skus = set(frame.loc[frame["subsidy_yuan"].fillna(0.0) > 0, "sku_id"].astype(str))
    frame = frame.assign(eligible=frame["sku_id"].astype(str).isin(subsidised_skus))
    rows: list[dict[str, object]] = []
    for rule in rules.to_dict("records"):
        leaf = str(rule["category_id"])
        estimate = known.loc[leaf]
        uplift = float(shrunk[leaf])
        net_share = _net_share(estimate)
        in_leaf = frame[frame["category_id"] == leaf]
        eligible = in_leaf[in_leaf["eligible"] & (in_leaf["list_price"] <= float(rule["price_limit"]))]
        recent = eligible[eligible["date"] > end - pd.Timedelta(days=PRICE_DAYS)]
        recent = recent if len(recent) else eligible
        if recent.empty:
            continue
        price = float(np.average(recent["paid_price"], weights=recent["units"].clip(lower=1)))
        per_unit = np.minimum(recent["paid_price"] * float(rule["share"]), float(rule["cap_yuan"]))
        subsidy_per_unit = float(np.average(per_unit, weights=recent["units"].clip(lower=1)))
        # Units without the subsidy: subsidised sales divided by the lift they carried.
        lift = np.where(eligible["subsidy_yuan"].fillna(0.0).to_numpy() > 0, 1.0 + uplift, 1.0)
        cleared: pd.Series = eligible["units"] / lift
        by_month: pd.Series = cleared.groupby([eligible["city_tier"], eligible["month"]]).sum()
        gmv = (
            (in_leaf["units"] * in_leaf["paid_price"]).groupby([in_leaf["city_tier"], in_leaf["month"]]).sum()
        )
        for city_tier in sorted(in_leaf["city_tier"].dropna().unique()):
            history = by_month.get(city_tier, pd.Series(dtype=float))
            typical = history.groupby(history.index.month).mean() if len(history) else pd.Series(dtype=float)
            for month in plan_months:
                base = history.get(month - 12, typical.get(month.month, float(history.mean() or 0.0)))
                base = float(0.0 if pd.isna(base) else base)
                rows.append(
                    {
                        "category_id": leaf,
                        "city_tier": int(city_tier),
                        "month": str(month),
                        "baseline_units": base,
                        "price": price,
                        "subsidy_per_unit": subsidy_per_unit,
                        "uplift": (tier_lift := by_tier.get((leaf, int(city_tier)), uplift)),
                        "full_coverage_spend": base * (1.0 + tier_lift) * subsidy_per_unit,
                        "incremental_units_at_full": base * tier_lift * net_share,
                        "incremental_gmv_at_full": base * tier_lift * net_share * price,
                        "last_year_gmv": float(gmv.get((city_tier, month - 12), 0.0)),
                    }
                )
    return pd.DataFrame(rows)


def between_variance(values: np.ndarray, variances: np.ndarray) -> float:
    """Return the DerSimonian-Laird estimate of the variance of true effects between groups.

    Weighted by precision, so one very uncertain estimate neither inflates nor hides it
    (DerSimonian, R. and Laird, N. (1986). "Meta-analysis in clinical trials". Controlled
    Clinical Trials 7(3), 177-188).
    """
    weight = 1.0 / variances
    centre = float(np.sum(weight * values) / np.sum(weight))
    q = float(np.sum(weight * (values - centre) ** 2))
    scale = float(np.sum(weight) - np.sum(weight**2) / np.sum(weight))
    return max((q - (len(values) - 1)) / scale, 0.0) if scale > 0 else 0.0


def shrunk_uplift(estimates: pd.DataFrame, level: float = 0.9) -> dict[str, float]:
    """Return each category's uplift shrunk towards the categories' mean by its uncertainty.

    An allocation that ranks categories by their raw estimates pours money into the noisiest
    one (the winner's curse); the empirical-Bayes posterior mean weighs each estimate by its
    precision (the standard error read from its ``level`` interval) against the spread of the
    true uplifts between categories (:func:`between_variance`; Efron, B. and Morris, C. (1975).
    "Data analysis using Stein's estimator and its generalizations". JASA 70(350), 311-319).
    """
    values = estimates["uplift"].to_numpy(dtype=float)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    width = (estimates["uplift_high"] - estimates["uplift_low"]).to_numpy(dtype=float)
    variance = np.where(np.isfinite(width) & (width > 0), (width / (2.0 * z)) ** 2, np.nan)
    known = np.isfinite(variance)
    names = estimates.index.astype(str)
    if known.sum() < 3:
        return dict(zip(names, values.tolist(), strict=True))
    spread = max(between_variance(values[known], variance[known]), 1e-6)
    weight = 1.0 / (variance[known] + spread)
    centre = float(np.sum(weight * values[known]) / np.sum(weight))
    factor = np.where(known, spread / (spread + np.nan_to_num(variance, nan=0.0)), 1.0)
    return dict(zip(names, (centre + factor * (values - centre)).tolist(), strict=True))


def tier_uplift(
    category_uplift: dict[str, float], tier_estimates: dict[int, pd.DataFrame], level: float = 0.9
) -> dict[tuple[str, int], float]:
    """Return each (category, tier)'s uplift: the tier's own estimate shrunk towards its category's.

    How far the tiers really differ is read from the data: the spread of the tier estimates
    around their categories' beyond what their standard errors explain (:func:`between_variance`
    of the deviations, pooled over categories; the empirical-Bayes normal model of Efron & Morris).
    Where tiers differ by noise alone every tier gets its category's uplift, and a category's
    cells return the same per yuan; where they truly differ, the sinking market's cells (say)
    come first and the category's response curve bends.
    """
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    rows = []
    for tier, frame in tier_estimates.items():
        for row in frame.dropna(subset=["uplift"]).to_dict("records"):
            centre = category_uplift.get(str(row["category_id"]))
            width = float(row["uplift_high"]) - float(row["uplift_low"])
            if centre is None or not np.isfinite(width) or width <= 0:
                continue
            rows.append(
                (str(row["category_id"]), int(tier), float(row["uplift"]), centre, (width / (2 * z)) ** 2)
            )
    if len(rows) < 3:
        return {}
    deviation = np.array([estimate - centre for _, _, estimate, centre, _ in rows])
    variance = np.array([row[4] for row in rows])
    spread = between_variance(deviation, variance)
    return {
        (category, tier): centre + deviation_i * (spread / (spread + var_i)) if spread > 0 else centre
        for (category, tier, _, centre, var_i), deviation_i in zip(rows, deviation, strict=True)
    }


def _net_share(estimate: Any) -> float:
    # The share of the gross gain that is not pulled forward or taken from other SKUs.
    gross = float(estimate.get("gross_incremental_units", np.nan))
    net = float(estimate.get("incremental_units", np.nan))
    if not np.isfinite(gross) or gross <= 0 or not np.isfinite(net):
        return 1.0
    return float(np.clip(net / gross, 0.0, 1.0))


def read_rules(path: Path) -> pd.DataFrame:
    """Read subsidy rules (``category_id, share, cap_yuan, price_limit``) from a CSV, Excel or Parquet file.

    Raises
    ------
    InputError
        A column is missing or a value is not a number >= 0 (the file, row and column named).
    """
    source = open_source(path)
    frame, rows = source.read_frame()
    missing = [column for column in RULE_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(
            f"{source.label}: missing column(s) {', '.join(missing)}; expected {', '.join(RULE_COLUMNS)}"
        )
    rules = pd.DataFrame({"category_id": frame["category_id"].astype(str).str.strip()})
    for column in ("share", "cap_yuan", "price_limit"):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | (values < 0) | ~np.isfinite(values.fillna(0.0))
        if bad.any():
            position = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{source.label}, row {rows[position]}, column {column}: "
                f"{frame[column].iloc[position]!r} is not a number >= 0"
            )
        rules[column] = values.astype(float)
    return rules


def allocate_budget(cells: pd.DataFrame, budget: float, *, objective: str = "gmv") -> BudgetSplit:
    """Split ``budget`` over ``cells`` (from :func:`response_cells`) to maximise the incremental objective.

    Maximise ``sum_j r_j x_j`` subject to ``sum_j x_j <= budget`` and ``0 <= x_j <= X_j`` (full
    cover), with ``r_j`` the cell's incremental GMV (or units) per yuan: a linear programme
    (Dantzig, G.B. (1957). "Discrete-variable extremum problems". Operations Research 5(2),
    266-288: the continuous knapsack), solved by HiGHS so that further rows (a floor per
    category, a ceiling per month) stay a line each. The pro-rata split gives each category
    the share of last year's sales GMV, each of its cells the share of the cell's.
    """
    if objective not in OBJECTIVES:
        raise InputError(f"--objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    if not budget > 0:
        raise InputError(f"--budget must be a positive number of yuan, not {budget!r}")
    cells = cells.reset_index(drop=True).copy()
    gain = cells["incremental_gmv_at_full" if objective == "gmv" else "incremental_units_at_full"]
    capacity = cells["full_coverage_spend"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(capacity > 0, gain.to_numpy(dtype=float) / capacity, 0.0)
    model = LinearModel(
        c=-rate,
        A=sp.csr_matrix(np.ones((1, len(cells)))),
        row_lower=np.array([-np.inf]),
        row_upper=np.array([float(budget)]),
        lower=np.zeros(len(cells)),
        upper=capacity,
        integer=np.zeros(len(cells), dtype=bool),
    )
    spend = require_solution(solve(model), "subsidy budget split").x if len(cells) else np.zeros(0)
    pro_rata = _pro_rata(cells, budget)
    cells["spend"] = spend
    cells["return_per_yuan"] = rate
    cells["pro_rata_spend"] = pro_rata
    for prefix, amount in (("expected", spend), ("pro_rata", np.minimum(pro_rata, capacity))):
        covered = np.where(capacity > 0, amount / np.where(capacity > 0, capacity, 1.0), 0.0)
        cells[f"{prefix}_incremental_units"] = covered * cells["incremental_units_at_full"]
        cells[f"{prefix}_incremental_gmv"] = covered * cells["incremental_gmv_at_full"]
    order = cells.sort_values(["category_id", "city_tier", "month"]).index
    return BudgetSplit(cells.loc[order].reset_index(drop=True), objective, float(budget))


def _pro_rata(cells: pd.DataFrame, budget: float) -> np.ndarray:
    weight = cells["last_year_gmv"].to_numpy(dtype=float)
    if weight.sum() <= 0:
        weight = cells["baseline_units"].to_numpy(dtype=float) * cells["price"].to_numpy(dtype=float)
    total = weight.sum()
    return budget * weight / total if total > 0 else np.zeros(len(cells))


def return_curves(cells: pd.DataFrame, *, objective: str = "gmv") -> pd.DataFrame:
    """Return each category's response curve: cumulative spend, incremental result and marginal return.

    A category's cells are taken in order of return per yuan; each row is the end of one
    cell's linear piece, so ``marginal_return`` falls (diminishing returns) and
    ``cumulative_incremental`` is concave in ``cumulative_spend``.
    """
    gain = "incremental_gmv_at_full" if objective == "gmv" else "incremental_units_at_full"
    frame = cells[cells["full_coverage_spend"] > 0].assign(
        marginal_return=lambda table: table[gain] / table["full_coverage_spend"]
    )
    parts = []
    for category_id, group in frame.groupby("category_id", sort=True):
        group = group.sort_values("marginal_return", ascending=False, kind="stable")
        parts.append(
            pd.DataFrame(
                {
                    "category_id": category_id,
                    "cumulative_spend": group["full_coverage_spend"].cumsum().to_numpy(),
                    "cumulative_incremental": group[gain].cumsum().to_numpy(),
                    "marginal_return": group["marginal_return"].to_numpy(),
                    "city_tier": group["city_tier"].to_numpy(),
                    "month": group["month"].to_numpy(),
                }
            )
        )
    columns = [
        "category_id",
        "cumulative_spend",
        "cumulative_incremental",
        "marginal_return",
        "city_tier",
        "month",
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def plan_budget(
    store: Store,
    budget: float,
    *,
    objective: str = "gmv",
    months: int = 12,
    rules: pd.DataFrame | None = None,
    estimates: pd.DataFrame | None = None,
    partner_id: str | None = None,
    data: SalesData | None = None,
) -> BudgetSplit:
    """Estimate the effects (unless given), build the cells and split ``budget``; names filled in."""
    if objective not in OBJECTIVES:
        raise InputError(f"--objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    data = data or SalesData.read(store, partner_id)  # one read for every estimate below
    if estimates is None:
        estimates = estimate_uplift(store, partner_id=partner_id, n_boot=0, data=data)
    tiers = sorted(int(tier) for tier in data.locations["city_tier"].dropna().unique())
    by_tier = {
        tier: estimate_uplift(store, partner_id=partner_id, n_boot=0, city_tier=tier, data=data)
        for tier in tiers
    }
    cells = response_cells(
        store,
        estimates,
        rules=rules,
        months=months,
        partner_id=partner_id,
        tier_estimates=by_tier,
        data=data,
    )
    if cells.empty:
        raise InputError("no subsidised category with an estimated uplift: nothing to allocate")
    split = allocate_budget(cells, budget, objective=objective)
    names = data.categories.set_index("category_id")["name"]
    frame = split.cells.assign(category_name=split.cells["category_id"].map(names).astype(object))
    return BudgetSplit(
        frame[[*SPLIT_COLUMNS, *[c for c in frame.columns if c not in SPLIT_COLUMNS]]], objective, budget
    )
