"""Sold-out demand: treat sales capped by stock as a lower bound, and estimate the true demand.

On a day a SKU ran out, recorded sales are ``min(demand, stock)``: fitting a
model to them teaches it the stock, not the demand, and the forecast (and
every order computed from it) is biased low exactly for the items that sell
best. Each censored observation is replaced by the larger of what was sold
and the demand expected from the uncensored observations around it: the
series' local level (a centred average of uncensored periods) times its
seasonal index for that period. This is the single-pass "unconstraining"
estimate; it never lowers an observation.

References
----------
Nahmias (1994), "Demand estimation in lost sales inventory systems", Naval Research Logistics 41(6);
Talluri & van Ryzin (2004), *The Theory and Practice of Revenue Management*, sec. 9.4 (unconstraining).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_LEVEL_WINDOW = 5  # seasonal cycles (or periods, without season) the local level averages over


def uncensor(history: pd.DataFrame, censored: pd.Series | np.ndarray, *, season: int) -> pd.DataFrame:
    """Return ``history`` with ``y`` raised to the estimated demand where ``censored`` is true.

    Parameters
    ----------
    history : pandas.DataFrame
        ``unique_id, ds, y`` (+ covariates), sorted by ``unique_id, ds``.
    censored : boolean array-like, aligned with ``history``
        True where sales were capped by stock (a stockout that period).
    season : int
        Seasonal period (7 for daily data); 1 for none.

    Returns
    -------
    pandas.DataFrame
        A copy with ``y`` adjusted and a boolean ``censored`` column.
    """
    original_index = history.index
    frame = history.reset_index(drop=True)  # positional from here on: no index alignment surprises
    flags = np.asarray(censored, dtype=bool)
    frame["censored"] = flags
    if not flags.any():
        frame.index = original_index
        return frame
    observed = frame["y"].where(~flags)
    ids = frame["unique_id"]
    position = frame.groupby("unique_id", sort=False).cumcount()
    level = pd.Series(
        _centred_mean(observed.to_numpy(dtype=float), ids.to_numpy(), _LEVEL_WINDOW * max(season, 1))
    )
    if season > 1:
        # Seasonal index: uncensored mean of this slot of the cycle over the series' mean.
        slot = position % season
        slot_mean = observed.groupby([ids, slot], sort=False).transform("mean")
        series_mean = observed.groupby(ids, sort=False).transform("mean")
        index = (slot_mean / series_mean).where(series_mean > 0, 1.0).fillna(1.0)
        expected = level * index
    else:
        expected = level
    estimate = np.fmax(frame["y"].to_numpy(dtype=float), expected.to_numpy(dtype=float))
    frame["y"] = np.where(flags, estimate, frame["y"].to_numpy(dtype=float))
    frame.index = original_index
    return frame


def _centred_mean(values: np.ndarray, ids: np.ndarray, half_width: int) -> np.ndarray:
    """Average the non-NaN values within ``half_width`` rows each side, inside each series (grouped rows).

    Cumulative sums over the whole array, cut at series boundaries: no loop over series.
    """
    count = len(values)
    starts_here = np.r_[True, ids[1:] != ids[:-1]]
    series_start = np.maximum.accumulate(np.where(starts_here, np.arange(count), 0))
    ends_here = np.r_[ids[1:] != ids[:-1], True]
    series_end = np.minimum.accumulate(np.where(ends_here, np.arange(count), count - 1)[::-1])[::-1]
    present = ~np.isnan(values)
    sums = np.r_[0.0, np.cumsum(np.where(present, values, 0.0))]
    counts = np.r_[0, np.cumsum(present)]
    low = np.maximum(np.arange(count) - half_width, series_start)
    high = np.minimum(np.arange(count) + half_width, series_end) + 1
    total, number = sums[high] - sums[low], counts[high] - counts[low]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(number > 0, total / np.maximum(number, 1), np.nan)
