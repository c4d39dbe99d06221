"""Causal uplift of trade-in subsidy periods per leaf category, by difference in differences.

The subsidy raises an eligible SKU's mean demand by a factor ``1 + s`` on
subsidised days. Comparing those days with the same SKUs' other days would
also credit the subsidy with seasonality, festivals and trend; comparing them
with the ineligible SKUs of the same leaf on the same days removes what both
groups share. The fit is a Poisson regression with SKU and date fixed effects
(two-way fixed effects), which keeps zero-unit days of slow SKUs that a log
of daily units would drop:

    E[units_it] = exp(alpha_i + gamma_t + beta * eligible_i * subsidised_t),
    s = exp(beta) - 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from cpfr.data.store import Store
from cpfr.tradein.panel import MIN_CONTROL_SKUS, UpliftPanel, read_panels

COLUMNS = (
    "category_id",
    "category_name",
    "control",
    "n_eligible_skus",
    "n_control_skus",
    "uplift",
    "uplift_low",
    "uplift_high",
    "incremental_units",
    "incremental_gmv",
    "pull_forward_units",
    "cannibalised_units",
    "pre_trend_p",
)
BLOCK_DAYS = 28  # bootstrap clusters: SKU x four-week block, so daily autocorrelation stays inside one
PRE_TREND_WEEKS = 26
PULL_FORWARD_DAYS = 56  # the weeks after a subsidy ends in which a dip counts as pull-forward
MAX_ITERATIONS = 500
TOLERANCE = 1e-9


@dataclass(frozen=True)
class DidFit:
    """A two-way fixed-effects Poisson fit of one panel.

    Attributes
    ----------
    effect : float
        ``beta``, the log of the subsidy's demand multiplier.
    sku_effect, day_effect : numpy.ndarray
        ``alpha_i`` and ``gamma_t`` (``-inf`` where a SKU or day sold nothing).
    """

    effect: float
    sku_effect: np.ndarray
    day_effect: np.ndarray


def fit_did(units: np.ndarray, weight: np.ndarray, treated: np.ndarray, *, fit_effect: bool = True) -> DidFit:
    """Fit ``E[units] = exp(alpha_i + gamma_t + beta * treated)`` by Poisson pseudo-likelihood.

    Parameters
    ----------
    units : numpy.ndarray
        ``(n_skus, n_days)`` units.
    weight : numpy.ndarray
        ``(n_skus, n_days)`` cell weights (0 leaves a cell out; bootstrap multiplicities).
    treated : numpy.ndarray
        ``(n_skus, n_days)`` cells under the subsidy (eligible SKU on a subsidised day).
    fit_effect : bool
        With False, ``beta`` stays 0 (the fixed effects alone, for the pre-trend check).

    Returns
    -------
    DidFit
        The fitted effect and fixed effects.

    References
    ----------
    Santos Silva, J.M.C. and Tenreyro, S. (2006). "The Log of Gravity". Review of
    Economics and Statistics 88(4), 641-658 (Poisson pseudo-maximum likelihood).
    """
    treated = treated.astype(float)
    weighted_units = weight * units
    sku_total = weighted_units.sum(axis=1)
    day_total = weighted_units.sum(axis=0)
    exp_sku = np.ones(units.shape[0])
    exp_day = np.ones(units.shape[1])
    effect = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(MAX_ITERATIONS):
            # Alternating projections solve the fixed effects exactly for a given beta (the
            # Poisson first-order conditions); one Newton step then moves beta. A SKU or day
            # without units (or without cells) gets a zero multiplier: it carries no information.
            multiplier = weight * np.exp(effect * treated)
            exp_sku = _ratio(sku_total, (multiplier * exp_day[None, :]).sum(axis=1))
            exp_day = _ratio(day_total, (multiplier * exp_sku[:, None]).sum(axis=0))
            if not fit_effect:
                continue
            mean = multiplier * exp_sku[:, None] * exp_day[None, :]
            score = float((treated * (weighted_units - mean)).sum())
            information = float((treated * mean).sum())
            if information <= 0:
                effect = float("nan")
                break
            step = score / information
            effect += step
            if abs(step) < TOLERANCE:
                break
        sku_effect = np.log(exp_sku)
        day_effect = np.log(exp_day)
    return DidFit(effect, sku_effect, day_effect)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    ratio = numerator / denominator
    return np.where(np.isfinite(ratio), ratio, 0.0)


def _bootstrap_weights(on_sale: np.ndarray, eligible: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Resample SKU x block clusters within each group (eligible, control), so both keep their size.
    n_skus, n_days = on_sale.shape
    blocks = np.arange(n_days) // BLOCK_DAYS
    n_blocks = int(blocks[-1]) + 1
    counts = np.zeros((n_skus, n_blocks))
    for group in (eligible, ~eligible):
        cells = np.flatnonzero(group)
        size = cells.size * n_blocks
        draws = rng.integers(0, size, size=size)
        np.add.at(counts, (cells[draws // n_blocks], draws % n_blocks), 1.0)
    return on_sale * counts[:, blocks]


def pre_trend_p_value(panel: UpliftPanel) -> float:
    """Return the p-value of a linear trend in the eligible-minus-control gap before the subsidy.

    The two-way fixed effects are fitted on the pre-subsidy weeks alone; the weekly log ratio of
    observed to fitted units of the eligible SKUs minus that of the controls is regressed on the
    week. Under parallel trends the slope is zero, so a small p-value warns that the
    difference in differences is biased.
    """
    first = int(np.argmax(panel.subsidised)) if panel.subsidised.any() else panel.days.size
    start = max(0, first - 7 * PRE_TREND_WEEKS)
    if first - start < 28:
        return float("nan")
    units = panel.units[:, start:first]
    weight = panel.on_sale[:, start:first].astype(float)
    fit = fit_did(units, weight, np.zeros_like(units, dtype=bool), fit_effect=False)
    with np.errstate(invalid="ignore", over="ignore"):
        fitted = weight * np.exp(fit.sku_effect[:, None] + fit.day_effect[None, :])
    fitted = np.nan_to_num(fitted, nan=0.0, posinf=0.0)
    week = np.arange(first - start) // 7
    gaps = []
    for group in (panel.eligible, ~panel.eligible):
        observed = pd.Series((weight * units)[group].sum(axis=0)).groupby(week).sum()
        expected = pd.Series(fitted[group].sum(axis=0)).groupby(week).sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            # A week without units in a group has no gap to measure; it is dropped below.
            gaps.append(np.log(observed / expected))
    gap = (gaps[0] - gaps[1]).replace([np.inf, -np.inf], np.nan).dropna()
    if gap.size < 4:
        return float("nan")
    return float(stats.linregress(gap.index.to_numpy(dtype=float), gap.to_numpy()).pvalue)


def _after_subsidy(panel: UpliftPanel) -> np.ndarray:
    # The unsubsidised days within PULL_FORWARD_DAYS after a subsidy period ends.
    ended = panel.subsidised[:-1] & ~panel.subsidised[1:]
    after = np.zeros(panel.days.size, dtype=bool)
    for last in np.flatnonzero(ended):
        after[last + 1 : last + 1 + PULL_FORWARD_DAYS] = True
    return after & ~panel.subsidised


def pull_forward_units(panel: UpliftPanel) -> float:
    """Return the eligible SKUs' missing units in the weeks after the subsidy ends (NaN if none).

    A second difference in differences on the unsubsidised days only: eligible SKUs in the
    ``PULL_FORWARD_DAYS`` after a subsidy period's last day against the same SKUs' other
    unsubsidised days, relative to the controls. The units missing against that
    counterfactual (positive for a dip) were bought early, during the subsidy.
    """
    after = _after_subsidy(panel)
    dip_cells = panel.eligible[:, None] & after[None, :] & panel.on_sale
    if not dip_cells.any():
        return float("nan")
    weight = (panel.on_sale & ~panel.subsidised[None, :]).astype(float)
    effect = fit_did(panel.units, weight, panel.eligible[:, None] & after[None, :]).effect
    return float(panel.units[dip_cells].sum() * np.expm1(-effect))


def cannibalised_units(panel: UpliftPanel) -> float:
    """Return the ineligible SKUs' units lost during the subsidy against their own pre-period trend.

    Only with controls from the same leaf (NaN otherwise): a Poisson fit of
    ``exp(alpha_i + trend * t)`` on the control SKUs' pre-subsidy days is projected over
    the subsidised days; the loss is the projection minus the units sold. The trend has no
    seasonality, so the figure is rough; and the same loss makes the DiD uplift an upper
    bound of the eligible SKUs' own gain when it is large.
    """
    if panel.control != "leaf" or not panel.subsidised.any():
        return float("nan")
    first = int(np.argmax(panel.subsidised))
    control = ~panel.eligible
    units = panel.units[control]
    pre = panel.on_sale[control][:, :first].astype(float)
    if first < 28 or pre.sum() == 0:
        return float("nan")
    time = np.arange(panel.days.size) / 365.25
    sku_total = (pre * units[:, :first]).sum(axis=1)
    trend = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(100):
            exp_trend = np.exp(trend * time[:first])
            level = _ratio(sku_total, (pre * exp_trend[None, :]).sum(axis=1))
            mean = pre * level[:, None] * exp_trend[None, :]
            residual = pre * units[:, :first] - mean
            step = float((residual * time[None, :first]).sum() / (mean * time[None, :first] ** 2).sum())
            trend += step
            if abs(step) < TOLERANCE:
                break
    during = panel.on_sale[control] & panel.subsidised[None, :]
    projected = level[:, None] * np.exp(trend * time)[None, :]
    return float((projected - units)[during].sum())


def _unidentified(panel: UpliftPanel) -> dict[str, object]:
    missing = float("nan")
    row: dict[str, object] = dict.fromkeys(COLUMNS, missing)
    del row["category_name"]
    row.update(
        category_id=panel.category_id,
        control="none",
        n_eligible_skus=int(panel.eligible.sum()),
        n_control_skus=int((~panel.eligible).sum()),
    )
    return row


def estimate_panel(
    panel: UpliftPanel,
    *,
    n_boot: int = 199,
    level: float = 0.9,
    seed: int = 0,
    window_days: int | None = None,
) -> dict[str, object]:
    """Estimate one leaf's uplift, its bootstrap interval and the incremental units and GMV.

    With ``window_days``, only the days that close to the subsidy's first day enter the fit,
    which shrinks the bias from seasonality the two groups do not share.
    """
    treated = panel.eligible[:, None] & panel.subsidised[None, :]
    if (~panel.eligible).sum() < MIN_CONTROL_SKUS:
        # Without controls there is no second difference: report the leaf, estimate nothing.
        return _unidentified(panel)
    fitted_days = np.ones(panel.days.size, dtype=bool)
    if window_days is not None and panel.subsidised.any():
        distance = np.arange(panel.days.size) - int(np.argmax(panel.subsidised))
        fitted_days = (distance >= -window_days) & (distance < window_days)
    # A post-subsidy dip would pass for the eligible SKUs' baseline and inflate the uplift.
    fitted_days &= ~_after_subsidy(panel)
    units, on_sale, in_fit = (
        panel.units[:, fitted_days],
        panel.on_sale[:, fitted_days],
        treated[:, fitted_days],
    )
    effect = fit_did(units, on_sale.astype(float), in_fit).effect
    rng = np.random.default_rng(seed)
    draws = np.array(
        [
            fit_did(units, _bootstrap_weights(on_sale, panel.eligible, rng), in_fit).effect
            for _ in range(n_boot)
        ]
    )
    draws = draws[np.isfinite(draws)]
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail]) if draws.size else (np.nan, np.nan)
    # Incremental: observed minus the counterfactual units / (1 + s) on every subsidised cell
    # of an eligible SKU (all of them, burn-in and festival days included).
    share = 1.0 - np.exp(-effect)
    return {
        "category_id": panel.category_id,
        "control": panel.control,
        "n_eligible_skus": int(panel.eligible.sum()),
        "n_control_skus": int((~panel.eligible).sum()),
        "uplift": float(np.expm1(effect)),
        "uplift_low": float(np.expm1(low)),
        "uplift_high": float(np.expm1(high)),
        "incremental_units": float(panel.units[treated].sum() * share),
        "incremental_gmv": float(panel.gmv[treated].sum() * share),
        "pull_forward_units": pull_forward_units(panel),
        "cannibalised_units": cannibalised_units(panel),
        "pre_trend_p": pre_trend_p_value(panel),
    }


def estimate_uplift(
    store: Store,
    *,
    partner_id: str | None = None,
    n_boot: int = 199,
    level: float = 0.9,
    seed: int = 0,
    window_days: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Estimate the causal uplift of trade-in subsidy periods per leaf category.

    Difference in differences: eligible SKUs (those sold with a subsidy) against
    ineligible SKUs of the same leaf, subsidised days against the same SKUs' other
    days, as a Poisson regression with SKU and date fixed effects. Both groups share
    the leaf's seasonality, festivals and trend, so the date effects remove them and
    what remains on the eligible SKUs' subsidised days is the subsidy (under
    parallel trends, which ``pre_trend_p`` checks). When every SKU of a leaf is
    eligible (no price cap), the controls are the SKUs of never-subsidised leaves
    (``control = "other categories"``): weaker, as leaves differ in seasonality, and
    festival windows are dropped from every fit for that reason.

    Parameters
    ----------
    store : Store
        An open store with ``sales``, ``products``, ``categories`` and ``events``.
    partner_id : str, optional
        Only this partner's SKUs.
    n_boot : int
        Bootstrap replicates; clusters are SKU x 28-day blocks, resampled within group.
    level : float
        Coverage of the interval (0.9: the 5 % and 95 % percentiles).
    seed : int
        Seed of the bootstrap.
    window_days : int, optional
        Fit only on the days within this many of the subsidy's first day (default: all).
    progress : callable, optional
        Receives one line per leaf.

    Returns
    -------
    pandas.DataFrame
        One row per leaf category that had a subsidy: ``category_id, category_name,
        control, n_eligible_skus, n_control_skus, uplift, uplift_low, uplift_high,
        incremental_units, incremental_gmv, pull_forward_units, cannibalised_units,
        pre_trend_p``. ``uplift`` is the relative lift of an eligible SKU's mean demand
        on subsidised days. ``pull_forward_units`` (see :func:`pull_forward_units`) is NaN
        while no subsidy period of the leaf has ended inside the sales history;
        ``cannibalised_units`` (see :func:`cannibalised_units`) is NaN unless the
        controls are the leaf's own ineligible SKUs.

    References
    ----------
    Angrist, J.D. and Pischke, J.-S. (2009). Mostly Harmless Econometrics, ch. 5
    ("Parallel Worlds: Fixed Effects, Differences-in-Differences, and Panel Data").
    Card, D. and Krueger, A.B. (1994). "Minimum Wages and Employment: A Case Study of
    the Fast-Food Industry in New Jersey and Pennsylvania". American Economic Review
    84(4), 772-793.
    """
    log = progress or (lambda _message: None)
    rows = []
    for panel in read_panels(store, partner_id=partner_id, progress=log):
        row = estimate_panel(panel, n_boot=n_boot, level=level, seed=seed, window_days=window_days)
        log(f"{panel.category_id}: uplift {row['uplift']:+.3f} ({panel.control} control)")
        rows.append(row)
    names = store.read_table("categories").set_index("category_id")["name"]
    frame = pd.DataFrame(rows, columns=[column for column in COLUMNS if column != "category_name"])
    frame.insert(1, "category_name", frame["category_id"].map(names).astype(object))
    return frame[list(COLUMNS)]
