"""The probability of reaching a target, and the distribution of the final total.

The final total is the actual to date plus the target's metric over the days
left. Those are forecast on the target's own scope, SKU by SKU, by seasonal
growth on like-for-like SKUs with young SKUs, planned launches,
discontinuations and trade-in subsidies laid over it
(:mod:`cpfr.targets.growth`, with the subsidy's uplift from
:mod:`cpfr.targets.uplift`). The forecast's spread is what its own errors
have been: it is replayed from weekly origins over the history of the
target's scope and of every partner's range in the store, and the errors,
normalised by a horizon law and a scale per range, are laid over the
forecast at the target's horizon (:mod:`cpfr.targets.conformal`). Where the
store holds earlier targets of the metric that have ended, the alliance's
record of setting targets weighs the sample (:mod:`cpfr.targets.record`).

Besides the probability, the result says what *is* within reach: the final
total reached with 50 % and 80 % probability, and the probability of
reaching 90 % and 95 % of the target — the figures to show where a target
is out of reach. The uplift needed for probability *p* scales the days left
so that their (1 - p) quantile closes the gap: ``(target - actual) /
Q_{1-p}(rest) - 1``.

Sales may stop before ``as_of`` (the data have not arrived): the actual
then counts the days with data, and the days from the last of them onwards
are forecast like the rest (``sales_through`` says where the data stop).

Hand-written because no library does this step: the errors needed are those
of sums over the whole rest of a period, from many origins, and the
forecast has to know which SKUs are new, ending or subsidised.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cpfr.data.schema_types import QUANTILE_LEVELS
from cpfr.data.store import Store
from cpfr.exceptions import InputError
from cpfr.targets.conformal import error_model, origin_errors
from cpfr.targets.growth import HISTORY_DAYS, daily_forecast
from cpfr.targets.panel import SalesBook, SalesPanel
from cpfr.targets.record import TargetRecord, target_record
from cpfr.targets.scope import TargetScope, read_scope
from cpfr.targets.uplift import PRIOR_LOG_UPLIFT, PRIOR_SD, SubsidyUplift, subsidy_uplift

QUANTILES = QUANTILE_LEVELS
UPLIFT_PROBABILITIES = (0.5, 0.8)
REACHABLE_PROBABILITIES = (0.5, 0.8)  # the final total reached with these probabilities
TARGET_SHARES = (0.9, 0.95)  # the probability of reaching these shares of the target
SAMPLES = 2000  # draws of the final total kept in the result (weighted quantiles of the full sample)


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
        P(final total >= target).
    probability_from_sales : float
        The same from the sales forecast alone, without the alliance's record of setting targets
        (equal to ``probability`` where there is no record).
    expected_total : float
    quantiles : dict of float to float
        Quantiles of the final total (:data:`QUANTILES`).
    uplift_needed : dict of float to float
        For 0.5 and 0.8: the relative uplift on the days left needed to reach that
        probability (negative: headroom).
    reachable_total : dict of float to float
        For 0.5 and 0.8: the final total reached with at least that probability (the
        (1 - p) quantile) — what is within reach where the target is not.
    share_probability : dict of float to float
        For 0.9 and 0.95: P(final total >= that share of the target).
    totals : numpy.ndarray
        :data:`SAMPLES` draws of the final total.
    rest_forecast : float
        The point forecast of the days left.
    sales_through : datetime.date
        The last day of sales counted (before ``as_of`` when the data stop earlier).
    record : TargetRecord or None
        The record of earlier targets that weighed the sample.
    """

    target_id: str
    as_of: dt.date
    target: float
    actual: float
    probability: float
    probability_from_sales: float
    expected_total: float
    quantiles: dict[float, float]
    uplift_needed: dict[float, float]
    reachable_total: dict[float, float]
    share_probability: dict[float, float]
    totals: np.ndarray
    rest_forecast: float
    sales_through: dt.date
    record: TargetRecord | None


def target_attainment(
    store: Store,
    target_id: str,
    *,
    as_of: dt.date | None = None,
    pool: bool = True,
    use_record: bool = True,
    book: SalesBook | None = None,
) -> Attainment:
    """Forecast the rest of ``target_id``'s period and return the chance of reaching it (module docstring).

    Parameters
    ----------
    store : Store
        The store.
    target_id : str
        A target of the store.
    as_of : datetime.date, optional
        The day seen from (default: the store's last day of sales). Days after the last day
        of sales are forecast.
    pool : bool
        Measure the forecast's errors on every partner's range as well as the target's own.
    use_record : bool
        Weigh the sample by the alliance's record of setting targets, where it has one.
    book : SalesBook, optional
        The store's sales already read (share one across targets and dates of the same store).

    Raises
    ------
    InputError
        The target is unknown, the store holds no sales, or the scope's history is too short.
    """
    book = book or SalesBook(store)
    scope = read_scope(store, target_id)
    if book.last_day is None:
        raise InputError(f"target {target_id!r}: the store holds no sales")
    as_of = as_of or book.last_day
    through = min(as_of, book.last_day)
    if book.first_day is None or through < book.first_day:
        raise InputError(f"target {target_id!r}: no sales up to {as_of} (they begin on {book.first_day})")
    actual = book.total(scope, scope.period_start, through)
    first_ahead = max(through + dt.timedelta(days=1), scope.period_start)
    left = (scope.period_end - first_ahead).days + 1
    skip = (first_ahead - through).days - 1  # days before the period begins: not counted
    if left <= 0:
        return _result(scope, as_of, through, actual, np.full(1, actual), np.ones(1), 0.0, None, 1.0)
    try:
        rest, point = _rest_sample(book, scope, through, skip, left, pool)
    except InputError as error:
        raise InputError(f"target {target_id!r} as of {through}: {error}") from None
    totals = actual + rest
    weights = np.ones(len(totals))
    target = float(round(scope.value))
    from_sales = float(np.mean(totals >= target))
    record = (
        target_record(book, metric=scope.metric, as_of=through, exclude=target_id) if use_record else None
    )
    if record is not None:
        weights = record.weights(target, totals)
        if not np.isfinite(weights.sum()) or weights.sum() <= 0:
            weights, record = np.ones(len(totals)), None
    return _result(scope, as_of, through, actual, totals, weights, point, record, from_sales)


def _rest_sample(
    book: SalesBook, scope: TargetScope, through: dt.date, skip: int, left: int, pool: bool
) -> tuple[np.ndarray, float]:
    """Read the panels and errors (shared through ``book``) and return :func:`rest_distribution`'s."""
    own = book.panel(scope, through, scope.period_end)
    if len(own.values) < HISTORY_DAYS:
        raise InputError(
            f"{len(own.values)} days of sales in the store; seasonal growth needs {HISTORY_DAYS}"
        )
    ranges = {
        partner: panel
        for partner, panel in book.whole_ranges(scope.metric, through).items()
        if len(panel.values) >= HISTORY_DAYS
    }
    uplift = book.memo(("uplift", scope.metric, through), lambda: subsidy_uplift(list(ranges.values())))
    whole = scope.categories is None and scope.channel_kind is None
    errors = [origin_errors(own, uplift=uplift.mean)]
    for partner, panel in ranges.items():
        if pool and not (whole and partner == scope.partner_id):
            key = ("errors", partner, scope.metric, through, uplift.mean)
            errors.append(book.memo(key, functools.partial(origin_errors, panel, uplift=uplift.mean)))
    return rest_distribution(own, errors, left, skip=skip, uplift=uplift)


def rest_distribution(
    own: SalesPanel,
    errors: Sequence[np.ndarray],
    days: int,
    *,
    skip: int = 0,
    uplift: SubsidyUplift | None = None,
) -> tuple[np.ndarray, float]:
    """Return draws of ``own``'s metric summed over days ``skip + 1 .. skip + days`` after its origin.

    Parameters
    ----------
    own : SalesPanel
        The target's scope.
    errors : sequence of numpy.ndarray
        :func:`cpfr.targets.conformal.origin_errors` of every range, ``own``'s first.
    days, skip : int
        The days summed, after ``skip`` days that are not.
    uplift : SubsidyUplift, optional
        The subsidy's log uplift (default: the prior alone).

    Returns
    -------
    draws : numpy.ndarray
        ``forecast(u) x exp(error)`` for four equally likely *u* and every normalised error.
    forecast : float
        The point forecast at the posterior mean of *u*.
    """
    uplift = uplift or SubsidyUplift(PRIOR_LOG_UPLIFT, PRIOR_SD, 0.0)
    model = error_model(errors)
    points = np.array(
        [daily_forecast(own, own.origin, skip + days, uplift=value)[skip:].sum() for value in uplift.grid()]
    )
    draws = (points[:, None] * np.exp(model.log_errors(skip + days))[None, :]).ravel()
    point = float(daily_forecast(own, own.origin, skip + days, uplift=uplift.mean)[skip:].sum())
    return draws, point


def weighted_quantile(values: np.ndarray, weights: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Return quantiles of ``values`` under ``weights`` (the midpoint rule of the weighted CDF).

    Examples
    --------
    >>> import numpy as np
    >>> weighted_quantile(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4), np.array([0.5]))
    array([2.5])
    """
    order = np.argsort(values)
    ordered, mass = values[order], weights[order] / weights.sum()
    cumulative = np.cumsum(mass) - 0.5 * mass
    return np.interp(levels, cumulative, ordered)


def _result(
    scope: TargetScope,
    as_of: dt.date,
    through: dt.date,
    actual: float,
    totals: np.ndarray,
    weights: np.ndarray,
    point: float,
    record: TargetRecord | None,
    from_sales: float,
) -> Attainment:
    target = float(round(scope.value))
    weights = weights / weights.sum()

    def reach(level: float) -> float:
        return float(np.sum(weights * (totals >= level)))

    rest = totals - actual
    gap = target - actual
    uplift = {}
    for probability in UPLIFT_PROBABILITIES:
        low = float(weighted_quantile(rest, weights, np.array([1 - probability]))[0])
        uplift[probability] = (gap / low - 1.0) if low > 0 else (0.0 if gap <= 0 else float("inf"))
    draws = (
        weighted_quantile(totals, weights, (np.arange(SAMPLES) + 0.5) / SAMPLES)
        if len(totals) > 1
        else totals
    )
    probability = reach(target)
    return Attainment(
        target_id=scope.target_id,
        as_of=as_of,
        target=target,
        actual=actual,
        probability=probability,
        probability_from_sales=from_sales if record is not None else probability,
        expected_total=float(np.sum(weights * totals)),
        quantiles=_quantiles(totals, weights, QUANTILES),
        uplift_needed=uplift,
        reachable_total=_quantiles(
            totals, weights, [1 - p for p in REACHABLE_PROBABILITIES], REACHABLE_PROBABILITIES
        ),
        share_probability={share: reach(share * target) for share in TARGET_SHARES},
        totals=np.asarray(draws, dtype=float),
        rest_forecast=point,
        sales_through=through,
        record=record,
    )


def _quantiles(
    totals: np.ndarray,
    weights: np.ndarray,
    levels: list[float] | tuple[float, ...],
    keys: tuple[float, ...] = (),
) -> dict[float, float]:
    values = weighted_quantile(totals, weights, np.asarray(levels, dtype=float))
    return {float(key): float(value) for key, value in zip(keys or levels, values, strict=True)}
