"""Causal effects of trade-in subsidy programmes per leaf category: uplift, cannibalisation, pull-forward.

Provinces open and close a national programme on their own days, so the
same SKU is subsidised in one region and not yet (or no longer) in another
on the same day: a staggered difference in differences. Per leaf, a Poisson
regression with (SKU, region) and day fixed effects

    E[units_rt] = exp(alpha_r + gamma_t + beta * T_rt + delta * X_rt + pi * F_rt)

compares rows on the same day, so the day effects take the leaf's
seasonality, festivals, price campaigns and trend, and what remains is

- ``beta``: an eligible SKU under the subsidy in its region (``T``), the uplift ``exp(beta) - 1``;
- ``delta``: an ineligible SKU of the leaf while the subsidy runs in its region (``X``), the
  cannibalisation ``1 - exp(delta)`` (demand the subsidised models take from the others);
- ``pi``: an eligible SKU after the subsidy closed in its region, with a dip fading linearly
  over ``pull_forward_days`` (``F``, 1 the first day after, 0 at the end): the pull-forward
  depth ``1 - exp(pi)`` (buyers who came early).

Where every region ran the subsidy on the same days, ``beta - delta`` is what
the leaf's ineligible SKUs identify (``control = "leaf"``); without either, the
SKUs of never-subsidised leaves are the controls (``other categories``, a weaker
design). Identification is checked with a placebo: the eligible rows' effect in
the four weeks before the subsidy opened in their region, which should be zero
(``pre_trend_p``). Intervals come from a cluster bootstrap (SKU x four-week block).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from cpfr.data.store import Store
from cpfr.tradein.fe_poisson import fit_poisson_fe
from cpfr.tradein.panel import SalesData, UpliftPanel, read_panels

COLUMNS = (
    "category_id",
    "category_name",
    "control",
    "n_eligible_skus",
    "n_control_skus",
    "uplift",
    "uplift_low",
    "uplift_high",
    "cannibalisation",
    "cannibalisation_low",
    "cannibalisation_high",
    "pull_forward_depth",
    "pull_forward_depth_low",
    "pull_forward_depth_high",
    "gross_incremental_units",
    "incremental_units",
    "incremental_gmv",
    "pull_forward_units",
    "cannibalised_units",
    "pre_trend_p",
)
BLOCK_DAYS = 28  # bootstrap clusters: SKU x four-week block, so daily autocorrelation stays inside one
PULL_FORWARD_DAYS = 56
PLACEBO_DAYS = 28
EFFECTS = ("uplift", "cannibalisation", "pull_forward")


def design(panel: UpliftPanel, pull_forward_days: int = PULL_FORWARD_DAYS) -> dict[str, np.ndarray]:
    """Return the identified regressors of ``panel``: ``{name: (n_rows, n_days) float}``.

    ``uplift`` always; ``cannibalisation`` when the leaf has ineligible SKUs and regions opened
    on different days (else it is not separable from the uplift); ``pull_forward`` when a
    subsidy closed inside the history.
    """
    cells = panel.on_sale
    regressors = {"uplift": panel.treated.astype(float)}
    if panel.control != "leaf" and (panel.exposed & cells).any():
        regressors["cannibalisation"] = panel.exposed.astype(float)
    age = panel.days_after()
    fade = np.where(age > 0, np.clip(1.0 - (age - 1) / pull_forward_days, 0.0, 1.0), 0.0)
    fade *= (panel.eligible & panel.in_leaf)[:, None]
    if (fade * cells).any():
        regressors["pull_forward"] = fade
    return regressors


def placebo(panel: UpliftPanel, days: int = PLACEBO_DAYS) -> np.ndarray:
    """``(n_rows, n_days)`` an eligible row in the ``days`` before the subsidy opened in its region."""
    opens = panel.covered[:, 1:] & ~panel.covered[:, :-1]
    before = np.zeros_like(panel.covered)
    for row, day in zip(*np.nonzero(opens), strict=True):
        first = day + 1
        before[row, max(0, first - days) : first] = True
    return before & ~panel.covered & (panel.eligible & panel.in_leaf)[:, None]


def _bootstrap_weights(panel: UpliftPanel, rng: np.random.Generator) -> np.ndarray:
    # Resample SKU x block clusters (all regions of a SKU together) within each group of SKUs.
    n_days = panel.days.size
    blocks = np.arange(n_days) // BLOCK_DAYS
    n_blocks = int(blocks[-1]) + 1
    skus, sku_row = np.unique(panel.sku, return_inverse=True)
    group = pd.Series(panel.eligible * 2 + panel.in_leaf).groupby(sku_row).first().to_numpy()
    counts = np.zeros((skus.size, n_blocks))
    for value in np.unique(group):
        members = np.flatnonzero(group == value)
        size = members.size * n_blocks
        draws = rng.integers(0, size, size=size)
        np.add.at(counts, (members[draws // n_blocks], draws % n_blocks), 1.0)
    return panel.on_sale * counts[sku_row][:, blocks]


def pre_trend_p_value(panel: UpliftPanel, regressors: dict[str, np.ndarray]) -> float:
    """Return the p-value of the placebo effect in the weeks before the subsidy opened (NaN if none).

    Under parallel trends the eligible rows do not move before their region's subsidy
    opens; a small p-value warns that the estimates are biased (anticipation, or groups
    that drift apart).
    """
    lead = placebo(panel)
    if not (lead & panel.on_sale).any():
        return float("nan")
    stacked = np.stack([*regressors.values(), lead.astype(float)])
    fit = fit_poisson_fe(panel.units, panel.on_sale.astype(float), stacked)
    variance = float(fit.covariance[-1, -1])
    if not np.isfinite(fit.effects[-1]) or not variance > 0:
        return float("nan")
    return float(2.0 * stats.norm.sf(abs(fit.effects[-1]) / np.sqrt(variance)))


def _unidentified(panel: UpliftPanel) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(COLUMNS, float("nan"))
    del row["category_name"]
    row.update(
        category_id=panel.category_id,
        control="none",
        n_eligible_skus=int(np.unique(panel.sku[panel.eligible & panel.in_leaf]).size),
        n_control_skus=int(np.unique(panel.sku[~(panel.eligible & panel.in_leaf)]).size),
    )
    return row


def estimate_panel(
    panel: UpliftPanel,
    *,
    n_boot: int = 199,
    level: float = 0.9,
    seed: int = 0,
    pull_forward_days: int = PULL_FORWARD_DAYS,
) -> dict[str, object]:
    """Estimate one leaf's uplift, cannibalisation and pull-forward, their intervals and units."""
    if panel.control == "none":
        return _unidentified(panel)
    regressors = design(panel, pull_forward_days)
    names = list(regressors)
    stacked = np.stack(list(regressors.values()))
    weight = panel.on_sale.astype(float)
    fit = fit_poisson_fe(panel.units, weight, stacked)
    if not np.all(np.isfinite(fit.effects)):
        return _unidentified(panel)
    rng = np.random.default_rng(seed)
    draws = np.array(
        [
            fit_poisson_fe(panel.units, _bootstrap_weights(panel, rng), stacked, start=fit).effects
            for _ in range(n_boot)
        ]
    ).reshape(n_boot, len(names))
    draws = draws[np.all(np.isfinite(draws), axis=1)]
    tail = (1.0 - level) / 2.0
    bounds = (
        np.quantile(draws, [tail, 1.0 - tail], axis=0) if len(draws) else np.full((2, len(names)), np.nan)
    )
    # With few SKU clusters the percentile bootstrap runs narrow; the dispersion-scaled model
    # interval (independent cells) is the floor, the bootstrap adds the serial correlation.
    half_width = stats.norm.ppf(1.0 - tail) * np.sqrt(np.clip(np.diag(fit.covariance), 0.0, None))
    bounds = np.vstack(
        [np.fmin(bounds[0], fit.effects - half_width), np.fmax(bounds[1], fit.effects + half_width)]
    )
    effect = dict(zip(names, fit.effects, strict=True))
    low = dict(zip(names, bounds[0], strict=True))
    high = dict(zip(names, bounds[1], strict=True))
    row = _effect_columns(effect, low, high)
    row.update(_units(panel, regressors, effect))
    row.update(
        category_id=panel.category_id,
        control=panel.control,
        n_eligible_skus=int(np.unique(panel.sku[panel.eligible & panel.in_leaf]).size),
        n_control_skus=int(np.unique(panel.sku[~(panel.eligible & panel.in_leaf)]).size),
        pre_trend_p=pre_trend_p_value(panel, regressors),
    )
    return row


def _effect_columns(
    effect: dict[str, float], low: dict[str, float], high: dict[str, float]
) -> dict[str, object]:
    # uplift = exp(beta) - 1; cannibalisation and pull-forward depth = 1 - exp(.) (a loss is positive).
    with np.errstate(over="ignore"):  # an unidentified effect's bound may overflow to inf, as it should
        return _effect_values(effect, low, high)


def _effect_values(
    effect: dict[str, float], low: dict[str, float], high: dict[str, float]
) -> dict[str, object]:
    nan = float("nan")
    row: dict[str, object] = {}
    row["uplift"] = float(np.expm1(effect["uplift"]))
    row["uplift_low"], row["uplift_high"] = float(np.expm1(low["uplift"])), float(np.expm1(high["uplift"]))
    for name, column in (("cannibalisation", "cannibalisation"), ("pull_forward", "pull_forward_depth")):
        row[column] = float(-np.expm1(effect[name])) if name in effect else nan
        row[f"{column}_low"] = float(-np.expm1(high[name])) if name in effect else nan
        row[f"{column}_high"] = float(-np.expm1(low[name])) if name in effect else nan
    return row


def _units(
    panel: UpliftPanel, regressors: dict[str, np.ndarray], effect: dict[str, float]
) -> dict[str, float]:
    """Gross incremental, pull-forward and cannibalised units (and net GMV) over the history."""
    treated = panel.treated
    kept = 1.0 - np.exp(-effect["uplift"])  # the share of a subsidised unit that the subsidy added
    gross_units = float(panel.units[treated].sum() * kept)
    gross_gmv = float(panel.gmv[treated].sum() * kept)
    lost: dict[str, tuple[float, float]] = {}
    for name in ("cannibalisation", "pull_forward"):
        if name not in effect:
            continue
        # Missing units on each cell: observed * (exp(-effect * regressor) - 1).
        missing = np.expm1(-effect[name] * regressors[name]) * (regressors[name] > 0)
        lost[name] = (float((panel.units * missing).sum()), float((panel.gmv * missing).sum()))
    has_ineligible = bool((panel.exposed).any())
    cannibalised = lost.get("cannibalisation", (float("nan"), float("nan")) if has_ineligible else (0.0, 0.0))
    pulled = lost.get("pull_forward", (float("nan"), float("nan")))
    return {
        "gross_incremental_units": gross_units,
        "incremental_units": gross_units - np.nan_to_num(pulled[0]) - np.nan_to_num(cannibalised[0]),
        "incremental_gmv": gross_gmv - np.nan_to_num(pulled[1]) - np.nan_to_num(cannibalised[1]),
        "pull_forward_units": pulled[0],
        "cannibalised_units": cannibalised[0],
    }


def estimate_uplift(
    store: Store,
    *,
    partner_id: str | None = None,
    n_boot: int = 199,
    level: float = 0.9,
    seed: int = 0,
    pull_forward_days: int = PULL_FORWARD_DAYS,
    city_tier: int | None = None,
    data: SalesData | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Estimate the causal uplift, cannibalisation and pull-forward of trade-in subsidies per leaf category.

    See the module docstring for the design. ``incremental_units`` and ``incremental_gmv``
    are net: the eligible SKUs' gain on subsidised days (``gross_incremental_units``) less
    the units bought early (``pull_forward_units``, NaN while no subsidy has closed in the
    history) and less the units taken from the leaf's ineligible SKUs (``cannibalised_units``;
    0 when every SKU is eligible, NaN when not identified).

    Parameters
    ----------
    store : Store
        An open store with ``sales``, ``products``, ``locations``, ``categories`` and ``events``.
    partner_id : str, optional
        Only this partner's SKUs.
    n_boot : int
        Bootstrap replicates; clusters are SKU x 28-day blocks, resampled within group.
    level : float
        Coverage of the intervals (0.9: the 5 % and 95 % percentiles).
    seed : int
        Seed of the bootstrap.
    pull_forward_days : int
        Days over which the post-subsidy dip is taken to fade linearly to nothing.
    city_tier : int, optional
        Only the sales of this city tier's sites (the effect in that tier).
    data : SalesData, optional
        The tables, already read (several estimates on one read); else read from ``store``.
    progress : callable, optional
        Receives one line per leaf.

    Returns
    -------
    pandas.DataFrame
        One row per leaf category that had a subsidy, columns :data:`COLUMNS`.

    References
    ----------
    Angrist, J.D. and Pischke, J.-S. (2009). Mostly Harmless Econometrics, ch. 5.
    Callaway, B. and Sant'Anna, P.H.C. (2021). "Difference-in-Differences with multiple time
    periods". Journal of Econometrics 225(2), 200-230 (staggered adoption; with an effect
    constant over time and regions, as assumed here, the two-way fixed-effects estimate
    has no negative-weight problem).
    Mian, A. and Sufi, A. (2012). "The Effects of Fiscal Stimulus: Evidence from the 2009
    Cash for Clunkers Program". Quarterly Journal of Economics 127(3), 1107-1142 (pull-forward).
    """
    log = progress or (lambda _message: None)
    rows = []
    data = data or SalesData.read(store, partner_id)
    for panel in read_panels(store, partner_id=partner_id, city_tier=city_tier, data=data, progress=log):
        row = estimate_panel(
            panel, n_boot=n_boot, level=level, seed=seed, pull_forward_days=pull_forward_days
        )
        log(f"{panel.category_id}: uplift {row['uplift']:+.3f} ({panel.control} control)")
        rows.append(row)
    names = data.categories.set_index("category_id")["name"]
    frame = pd.DataFrame(rows, columns=[column for column in COLUMNS if column != "category_name"])
    frame.insert(1, "category_name", frame["category_id"].map(names).astype(object))
    return frame[list(COLUMNS)]
