"""The probability of reaching a target, and the distribution of the final total.

The final total is the actual to date plus the target's metric over the days
left. That rest is forecast on the target's own daily total (its partner,
categories and channels summed first, so every dependence between its SKUs,
stores and channels is kept — a sum of independent item quantiles would
claim a far narrower spread) by seasonal growth: each day left is the same
day a year earlier times the year-on-year growth of the last 13 weeks,
damped to its square root (two years earlier times that squared beyond a
year), which carries 618, Double 11 and the subsidy seasons the way
planners read them; damping the extrapolated growth is the lesson of the
damped trend (Gardner & McKenzie 1985, "Forecasting trends in time series",
*Management Science* 31(10)). Its
uncertainty is conformal: the same forecast is replayed from weekly
origins over the history — of this target's total and of every partner's
total in the store, pooled, for enough origins — and the log ratios of
actual to forecast sums over the same number of days are the error
distribution (split conformal prediction: Vovk, Gammerman & Shafer 2005,
*Algorithmic Learning in a Random World*; Hyndman & Athanasopoulos 2021,
*Forecasting: Principles and Practice*, 3rd ed., sec. 5.5). The final
totals are ``actual + forecast x exp(error)`` for every pooled error. The
uplift needed for probability *p* scales the days left so that their
(1 - p) quantile closes the gap: ``(target - actual) / Q_{1-p}(rest) - 1``.

Hand-written because no library does this step: statsforecast's seasonal
naive has no growth term at a 365-day season, and the errors needed are
those of sums over the whole rest of a period from many origins.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.targets.scope import TargetScope, read_scope

QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
YEAR = 365
GROWTH_DAYS = 91  # year-on-year growth is read on the last 13 weeks
GROWTH_LIMITS = (0.25, 4.0)
GROWTH_DAMPING = 0.5  # growth ** 0.5: extrapolated growth is damped (Gardner & McKenzie 1985)
MIN_ORIGINS = 8
HORIZON_EXPONENT = 0.5  # errors measured over a shorter horizon grow as (days / measured) ** this
POOL_BELOW = 4 * MIN_ORIGINS  # own origins below which every partner's errors are pooled in


@dataclass(frozen=True)
class Attainment:
    """How likely a target is to be reached, seen from ``as_of``.

    Attributes
    ----------
    target_id : str
    as_of : datetime.date
    target, actual : float
        The target and the actual to date.
    probability : float
        P(final total >= target) over the sample paths.
    expected_total : float
    quantiles : dict of float to float
        Quantiles of the final total (:data:`QUANTILES`).
    uplift_needed : dict of float to float
        For 0.5 and 0.8: the relative uplift on the days left needed to reach that
        probability (negative: headroom).
    totals : numpy.ndarray
        The sampled final totals.
    rest_forecast : float
        The point forecast of the days left.
    """

    target_id: str
    as_of: dt.date
    target: float
    actual: float
    probability: float
    expected_total: float
    quantiles: dict[float, float]
    uplift_needed: dict[float, float]
    totals: np.ndarray
    rest_forecast: float


def target_attainment(
    store: Store,
    target_id: str,
    *,
    as_of: dt.date | None = None,
    pool: bool = True,
) -> Attainment:
    """Forecast the rest of ``target_id``'s period and return the chance of reaching it (module docstring).

    ``as_of`` is the last day of known sales (default: the store's last sales day); with
    ``pool``, errors are pooled with every partner's total when the target's own history
    has fewer than four times the minimum number of origins.
    """
    scope = read_scope(store, target_id)
    if as_of is None:
        as_of = scope.last_sales_day(store)
        if as_of is None:
            raise InputError(f"target {target_id!r}: partner {scope.partner_id} has no sales")
    actual = float(scope.cube(store, [], end=as_of)["value"].iloc[0])
    left = (scope.period_end - max(as_of, scope.period_start - dt.timedelta(days=1))).days
    skip = max((scope.period_start - as_of).days - 1, 0)  # days before the period begins: not counted
    if left <= 0:
        return _result(scope, as_of, actual, np.full(1, actual), np.zeros(1), 0.0)
    rest, point = _rest_totals(store, scope, as_of, (skip, left), pool)
    return _result(scope, as_of, actual, actual + rest, rest, point)


def _rest_totals(
    store: Store, scope: TargetScope, as_of: dt.date, window: tuple[int, int], pool: bool
) -> tuple[np.ndarray, float]:
    """Return sampled totals of days ``skip + 1 .. skip + left`` after ``as_of`` and the point forecast."""
    skip, left = window
    values = _daily(store, scope, as_of).to_numpy(dtype=float)
    pooled = []
    if pool and len(origin_errors(values, left, skip)) < POOL_BELOW:
        for partner in store.read_table("partners")["partner_id"]:
            if partner == scope.partner_id and scope.categories is None and scope.channel_kind is None:
                continue
            other = dataclasses.replace(scope, partner_id=partner, categories=None, channel_kind=None)
            pooled.append(_daily(store, other, as_of).to_numpy(dtype=float))
    try:
        return rest_distribution(values, left, skip, pooled)
    except InputError as error:
        raise InputError(f"target {scope.target_id!r} as of {as_of}: {error}") from None


def rest_distribution(
    values: np.ndarray, days: int, skip: int = 0, pooled: Sequence[np.ndarray] = ()
) -> tuple[np.ndarray, float]:
    """Sample the sum of ``values`` over ``days`` days after ``skip`` days past its end.

    Returns ``forecast x exp(error)`` for every origin error of ``values`` and of each
    ``pooled`` series (the conformal sample) and the point forecast.
    """
    if len(values) < YEAR + GROWTH_DAYS:
        raise InputError(f"{len(values)} days of sales; seasonal growth needs at least {YEAR + GROWTH_DAYS}")
    point = seasonal_growth(values, len(values) - 1, days, skip)
    errors = [origin_errors(values, days, skip)]
    errors += [origin_errors(other, days, skip) for other in pooled if len(other) >= YEAR + GROWTH_DAYS]
    sample = np.concatenate(errors)
    if len(sample) < MIN_ORIGINS:
        raise InputError(
            f"too little history to measure the error of a {days}-day forecast "
            f"({len(sample)} origins, need {MIN_ORIGINS})"
        )
    return point * np.exp(sample), point


def seasonal_growth(values: np.ndarray, origin: int, days: int, skip: int = 0) -> float:
    """Forecast the sum of ``values`` over indices ``origin + skip + 1 ..`` (``days`` of them).

    Each day is the same day a year back (two years back beyond a year, ...) times the
    damped year-on-year growth of the last :data:`GROWTH_DAYS` days to that power.
    """
    recent = values[origin - GROWTH_DAYS + 1 : origin + 1].sum()
    before = values[origin - YEAR - GROWTH_DAYS + 1 : origin - YEAR + 1].sum()
    growth = float(np.clip(recent / before, *GROWTH_LIMITS)) ** GROWTH_DAMPING if before > 0 else 1.0
    ahead = np.arange(skip + 1, skip + days + 1)
    years = np.ceil(ahead / YEAR).astype(int)
    source = origin + ahead - YEAR * years
    valid = source >= 0
    return float((values[source[valid]] * growth ** years[valid]).sum())


def origin_errors(values: np.ndarray, days: int, skip: int = 0) -> np.ndarray:
    """Log(actual / forecast) of ``days``-day sums from weekly origins, where both are known and positive.

    A horizon longer than the history allows is measured at the longest one it allows and
    widened by sqrt(days / measured), as for a random walk of the log level.
    """
    first = YEAR + GROWTH_DAYS
    measured = min(days, len(values) - first - 1 - skip - 7 * (MIN_ORIGINS - 1))
    if measured < 1:
        return np.zeros(0)
    errors = []
    for origin in range(len(values) - 1 - skip - measured, first - 2, -7):
        forecast = seasonal_growth(values, origin, measured, skip)
        actual = values[origin + skip + 1 : origin + skip + 1 + measured].sum()
        if forecast > 0 and actual > 0:
            errors.append(np.log(actual / forecast))
    return np.asarray(errors) * (days / measured) ** HORIZON_EXPONENT


def _daily(store: Store, scope: TargetScope, as_of: dt.date) -> pd.Series:
    """Return the scope's metric per day from its first sale up to ``as_of`` (no sales: zero)."""
    daily = scope.up_to(as_of).cube(store, ["date"])
    if daily.empty:
        return pd.Series(dtype=float)
    daily["date"] = pd.to_datetime(daily["date"])
    days = pd.date_range(daily["date"].min(), pd.Timestamp(as_of), freq="D")
    return daily.set_index("date")["value"].reindex(days, fill_value=0.0)


def _result(
    scope: TargetScope, as_of: dt.date, actual: float, totals: np.ndarray, rest: np.ndarray, point: float
) -> Attainment:
    target = float(round(scope.value))
    gap = target - actual
    uplift = {}
    for probability in (0.5, 0.8):
        low = float(np.quantile(rest, 1 - probability))
        uplift[probability] = (gap / low - 1.0) if low > 0 else (0.0 if gap <= 0 else float("inf"))
    return Attainment(
        target_id=scope.target_id,
        as_of=as_of,
        target=target,
        actual=actual,
        probability=float(np.mean(totals >= target)),
        expected_total=float(totals.mean()),
        quantiles={level: float(np.quantile(totals, level)) for level in QUANTILES},
        uplift_needed=uplift,
        totals=totals,
        rest_forecast=point,
    )
