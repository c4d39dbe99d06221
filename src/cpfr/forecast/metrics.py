"""Forecast accuracy on long-format frames: WRMSSE, MASE, RMSSE, WSPL, bias and coverage.

Three frames in the Nixtla convention go in: the training history
``unique_id, ds, y`` (optionally with a price column to weight by value),
the held-out truth ``unique_id, ds, y`` and the forecast ``unique_id, ds,
mean`` with optional quantile columns ``q0.05``, ``q0.5``, ``q0.95`` ... .
Everything is computed with whole-array numpy and pandas group-bys, so
scoring tens of thousands of series takes well under a second.

The definitions match the shared scorer ``shared/tools/score_forecast.py``
exactly, so numbers reported by cpfr and by that script can be compared:

* scales per series come from its training history (:func:`series_scales`);
* series whose squared scale is zero or missing (constant or one-point
  histories) are dropped from every per-series metric, and counted;
* weights are each series' share of units (or units x price) over its
  last ``season`` training periods, as in the M5 competition.

References
----------
Hyndman, R. J. & Koehler, A. B. (2006), "Another look at measures of forecast
accuracy", *International Journal of Forecasting* 22(4), 679-688.
Makridakis, S., Spiliotis, E. & Assimakopoulos, V. (2022), "M5 accuracy
competition: Results, findings, and conclusions", *International Journal of
Forecasting* 38(4), 1346-1364.
Gneiting, T. & Raftery, A. E. (2007), "Strictly proper scoring rules,
prediction, and estimation", *Journal of the American Statistical
Association* 102(477), 359-378.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cpfr.exceptions import InputError

KEYS = ["unique_id", "ds"]
_LEVEL_TOLERANCE = 1e-9  # 0.5 - 0.9 / 2 is 0.04999999999999999, not 0.05


def quantile_columns(frame: pd.DataFrame) -> list[tuple[str, float]]:
    """Return the quantile columns of a forecast frame with their levels, by increasing level.

    A quantile column is named ``q`` followed by its level as Python prints
    it (``q0.05``, ``q0.5``, ``q0.95``); the rule is the shared scorer's: the
    text after ``q`` is digits with at most one decimal point.

    Parameters
    ----------
    frame : pandas.DataFrame
        A forecast frame.

    Returns
    -------
    list of (str, float)
        Column name and quantile level, sorted by level.

    Raises
    ------
    InputError
        If a quantile column's level is not strictly between 0 and 1.

    Examples
    --------
    >>> quantile_columns(pd.DataFrame(columns=["unique_id", "mean", "q0.9", "q0.1"]))
    [('q0.1', 0.1), ('q0.9', 0.9)]
    """
    found = [
        (str(name), float(str(name)[1:]))
        for name in frame.columns
        if str(name).startswith("q") and str(name)[1:].replace(".", "", 1).isdigit()
    ]
    outside = [name for name, level in found if not 0 < level < 1]
    if outside:
        raise InputError(f"quantile columns {outside}: levels must be strictly between 0 and 1, e.g. q0.05")
    return sorted(found, key=lambda pair: pair[1])


def pinball_loss(y: np.ndarray | pd.Series, quantile_forecast: np.ndarray | pd.Series, level: float) -> float:
    r"""Return the mean pinball (quantile) loss of a quantile forecast.

    .. math:: L_\tau(y, q) = \max\{\tau (y - q), (\tau - 1)(y - q)\}

    averaged over the points, with :math:`\tau` the quantile ``level``.

    Parameters
    ----------
    y : array-like
        Observed values.
    quantile_forecast : array-like
        Forecast quantile for each observation.
    level : float
        Quantile level :math:`\tau`, strictly between 0 and 1.

    Returns
    -------
    float
        Mean pinball loss; NaN when there are no points.

    References
    ----------
    Gneiting & Raftery (2007), "Strictly proper scoring rules, prediction, and
    estimation", JASA 102(477), section 9.1 (quantile score).

    Examples
    --------
    >>> pinball_loss(np.array([10.0]), np.array([8.0]), 0.9)  # 0.9 * (10 - 8)
    1.8
    """
    if not 0 < level < 1:
        raise InputError(f"quantile level {level}: must be strictly between 0 and 1")
    error = np.asarray(y, dtype=float) - np.asarray(quantile_forecast, dtype=float)
    losses = np.maximum(level * error, (level - 1) * error)
    return float(losses.mean()) if losses.size else float("nan")


def interval_coverage(
    y: np.ndarray | pd.Series, lower: np.ndarray | pd.Series, upper: np.ndarray | pd.Series
) -> float:
    """Return the share of observations inside their closed interval ``[lower, upper]``.

    A missing observation or bound counts as outside, as in the shared scorer.

    Parameters
    ----------
    y : array-like
        Observed values.
    lower, upper : array-like
        Interval bounds for each observation.

    Returns
    -------
    float
        Coverage in [0, 1]; NaN when there are no points.

    Examples
    --------
    >>> interval_coverage(np.array([1.0, 5.0]), np.array([0.0, 0.0]), np.array([2.0, 2.0]))
    0.5
    """
    observed = np.asarray(y, dtype=float)
    inside = (observed >= np.asarray(lower, dtype=float)) & (observed <= np.asarray(upper, dtype=float))
    return float(inside.mean()) if inside.size else float("nan")


def series_scales(
    train: pd.DataFrame, *, season: int, weight_col: str | None = None, weight_periods: int | None = None
) -> pd.DataFrame:
    r"""Return each series' in-sample error scales and its weight, from its training history.

    For a history :math:`y_1, \dots, y_n` of series :math:`i`:

    * ``sq_scale`` :math:`= \frac{1}{n-1}\sum_{t=2}^{n}(y_t - y_{t-1})^2`, the
      RMSSE denominator (M5, eq. 1);
    * ``abs_scale`` :math:`= \frac{1}{n-1}\sum_{t=2}^{n}|y_t - y_{t-1}|`, the
      scaled pinball denominator (M5 uncertainty, eq. 3);
    * ``mase_scale`` :math:`= \frac{1}{n-m}\sum_{t=m+1}^{n}|y_t - y_{t-m}|`
      with :math:`m` = ``season`` (Hyndman & Koehler 2006, eq. 9 seasonal
      form), or ``abs_scale`` when :math:`n \le m`;
    * ``weight`` :math:`= \max(0, \sum_{t > n-p} y_t\,[p_t])`, units (times the
      ``weight_col`` price :math:`p_t` when given) over the last :math:`p`
      = ``weight_periods`` rows; missing products count as zero.

    Scales are NaN where there are no differences (a one-point history); a
    missing value of ``y`` makes the series' scales NaN.

    Parameters
    ----------
    train : pandas.DataFrame
        Training history ``unique_id, ds, y`` (and ``weight_col``).
    season : int
        Seasonal period :math:`m` (52 for weekly data, 7 for daily).
    weight_col : str, optional
        Column to multiply units by for the weight (e.g. the price).
    weight_periods : int, optional
        Number of last training rows per series summed for the weight;
        defaults to ``season``, as in the shared scorer.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``unique_id`` (as text, sorted) with columns ``sq_scale``,
        ``abs_scale``, ``mase_scale``, ``weight``.

    References
    ----------
    Hyndman & Koehler (2006), "Another look at measures of forecast accuracy", IJF 22(4).
    Makridakis, Spiliotis & Assimakopoulos (2022), "M5 accuracy competition:
    Results, findings, and conclusions", IJF 38(4), section 2.3.
    """
    if season < 1:
        raise InputError(f"season {season}: must be a positive number of periods")
    periods = season if weight_periods is None else weight_periods
    if periods < 1:
        raise InputError(f"weight_periods {periods}: must be a positive number of periods")
    columns = [*KEYS, "y"] if weight_col is None else [*KEYS, "y", weight_col]
    frame = _normalised(train, columns, "train")
    codes, names = pd.factorize(frame["unique_id"], sort=True)
    stamps = frame["ds"].to_numpy(dtype="datetime64[ns]").view("int64")
    step_code, step_stamp = np.diff(codes), np.diff(stamps)
    already_sorted = bool(((step_code > 0) | ((step_code == 0) & (step_stamp >= 0))).all())
    # Histories usually arrive sorted; skipping the sort saves most of the time on long ones.
    order = np.arange(len(codes)) if already_sorted else np.lexsort((stamps, codes))
    group = codes[order]
    units = frame["y"].to_numpy(dtype=float)[order]
    count = np.bincount(group, minlength=len(names))
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    position = np.arange(len(group)) - start[group]

    def group_mean(values: np.ndarray, members: np.ndarray, size: np.ndarray) -> np.ndarray:
        total = np.bincount(group[members], weights=values[members], minlength=len(names))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(size > 0, total / np.maximum(size, 1), np.nan)

    step = np.diff(units, prepend=np.nan)  # row t holds y_t - y_{t-1}
    has_step = position >= 1
    sq_scale = group_mean(step**2, has_step, count - 1)
    abs_scale = group_mean(np.abs(step), has_step, count - 1)
    seasonal_step = np.full(len(units), np.nan)
    seasonal_step[season:] = units[season:] - units[:-season]
    seasonal_scale = group_mean(np.abs(seasonal_step), position >= season, count - season)
    mase_scale = np.where(count > season, seasonal_scale, abs_scale)

    value = units if weight_col is None else units * frame[weight_col].to_numpy(dtype=float)[order]
    in_tail = (position >= count[group] - periods) & ~np.isnan(value)
    weight = np.bincount(group[in_tail], weights=value[in_tail], minlength=len(names))
    return pd.DataFrame(
        {
            "sq_scale": sq_scale,
            "abs_scale": abs_scale,
            "mase_scale": mase_scale,
            "weight": np.maximum(weight, 0.0),
        },
        index=pd.Index(names, name="unique_id"),
    )


def score(
    train: pd.DataFrame,
    truth: pd.DataFrame,
    forecast: pd.DataFrame,
    *,
    season: int,
    weight_col: str | None = None,
    levels: Sequence[float] = (0.8, 0.9),
) -> dict[str, float]:
    r"""Score a forecast against held-out truth with the M5 metrics and a few plain ones.

    With :math:`h` forecast points of series :math:`i`, error :math:`e_{it} =
    y_{it} - \hat y_{it}`, scales and weights from :func:`series_scales`, and
    :math:`w_i` the weight share among series with :math:`s^2_i > 0`:

    * ``rmsse`` :math:`_i = \sqrt{\overline{e^2_{it}} / s^2_i}` (M5 eq. 1);
      ``rmsse`` is the unweighted mean and ``wrmsse`` :math:`= \sum_i w_i\,\mathrm{RMSSE}_i` (M5 eq. 2);
    * ``mase`` = mean over the same series of :math:`\overline{|e_{it}|} /
      \text{mase\_scale}_i`, ignoring zero scales (Hyndman & Koehler eq. 9);
    * ``wspl`` :math:`= \sum_i w_i \overline{L_{it}} / \text{abs\_scale}_i` with
      :math:`L_{it}` the pinball loss averaged over the quantile columns (M5
      uncertainty, eq. 3-4); NaN when the forecast has no quantile columns;
    * ``bias`` :math:`= \sum (\hat y - y) / \sum y`, over all points;
    * ``coverage_80`` ... : share of truth inside ``[q(0.5 - l/2), q(0.5 + l/2)]``
      for each ``l`` in ``levels``; NaN when those quantile columns are absent;
    * ``mae``, ``rmse``: pooled over all points, unscaled.

    Parameters
    ----------
    train : pandas.DataFrame
        Training history ``unique_id, ds, y`` (and ``weight_col``).
    truth : pandas.DataFrame
        Held-out actuals ``unique_id, ds, y``.
    forecast : pandas.DataFrame
        ``unique_id, ds, mean`` and optional ``q<level>`` columns; it must have
        exactly one row per truth row (extra rows are ignored).
    season : int
        Seasonal period of the MASE scale, and number of last training rows
        summed for the weights (52 weekly, 7 daily).
    weight_col : str, optional
        Training column to multiply units by in the weights (e.g. price).
    levels : sequence of float
        Central interval levels to report coverage for, as fractions.

    Returns
    -------
    dict of str to float
        ``series``, ``dropped_zero_scale``, ``wrmsse``, ``mase``, ``rmsse``,
        ``bias``, ``wspl``, ``coverage_<100 l>`` for each level, ``mae``, ``rmse``.

    Raises
    ------
    InputError
        If a column is missing, or the forecast misses truth rows or repeats a key.

    References
    ----------
    Hyndman & Koehler (2006), "Another look at measures of forecast accuracy", IJF 22(4).
    Makridakis, Spiliotis & Assimakopoulos (2022), "M5 accuracy competition:
    Results, findings, and conclusions", IJF 38(4).
    Gneiting & Raftery (2007), "Strictly proper scoring rules, prediction, and estimation", JASA 102(477).
    """
    if any(not 0 < level < 1 for level in levels):
        raise InputError(f"coverage levels {list(levels)}: give fractions strictly between 0 and 1, e.g. 0.8")
    actual = _normalised(truth, [*KEYS, "y"], "truth")
    quantiles = quantile_columns(forecast)
    predicted = _normalised(forecast, [*KEYS, "mean", *(name for name, _ in quantiles)], "forecast")
    merged = _aligned(actual, predicted)
    scales = series_scales(train, season=season, weight_col=weight_col)

    observed = merged["y"].to_numpy(dtype=float)
    error = observed - merged["mean"].to_numpy(dtype=float)
    points = pd.DataFrame({"se": error**2, "ae": np.abs(error)})
    if quantiles:
        quantile_values = merged[[name for name, _ in quantiles]].to_numpy(dtype=float)
        level_row = np.array([level for _, level in quantiles])
        gap = observed[:, None] - quantile_values
        points["pinball"] = np.maximum(level_row * gap, (level_row - 1) * gap).sum(axis=1) / len(quantiles)
    per_series = points.groupby(merged["unique_id"].to_numpy()).mean().join(scales, how="left")
    valid = per_series[(per_series["sq_scale"] > 0) & per_series["sq_scale"].notna()]
    share = valid["weight"] / valid["weight"].sum()
    rmsse = np.sqrt(valid["se"] / valid["sq_scale"])

    with np.errstate(divide="ignore", invalid="ignore"):
        result: dict[str, float] = {
            "series": len(per_series),
            "dropped_zero_scale": len(per_series) - len(valid),
            "wrmsse": float((share * rmsse).sum()),
            "mase": float((valid["ae"] / valid["mase_scale"].replace(0, np.nan)).mean()),
            "rmsse": float(rmsse.mean()),
            "bias": float(-pd.Series(error).sum() / merged["y"].sum()),
            "wspl": float((share * valid["pinball"] / valid["abs_scale"]).sum())
            if quantiles
            else float("nan"),
        }
    for level in levels:
        lower = _column_at(quantiles, 0.5 - level / 2)
        upper = _column_at(quantiles, 0.5 + level / 2)
        result[f"coverage_{level * 100:g}"] = (
            interval_coverage(observed, merged[lower], merged[upper])
            if lower is not None and upper is not None
            else float("nan")
        )
    result["mae"] = float(points["ae"].mean())
    result["rmse"] = float(np.sqrt(points["se"].mean()))
    return result


def score_by_level(
    train: pd.DataFrame,
    truth: pd.DataFrame,
    forecast: pd.DataFrame,
    hierarchy: dict[str, list[str]] | None = None,
    *,
    season: int,
    weight_col: str | None = None,
    levels: Sequence[float] = (0.8, 0.9),
) -> pd.DataFrame:
    """Score a bottom-level forecast at each level of a hierarchy, as the M5 did over its 12 levels.

    Each level sums units, truth and forecast means over the series sharing
    the values of its columns (``[]`` is the grand total), then calls
    :func:`score`. Quantile columns are kept only at the bottom level
    (``["unique_id"]``): a sum of quantiles is not a quantile of the sum, so
    ``wspl`` and coverage are NaN above it. With ``weight_col``, an
    aggregate's price is its value over its units, so the weight stays the
    sum of units x price of its members.

    Parameters
    ----------
    train, truth, forecast : pandas.DataFrame
        As for :func:`score`; the level columns are read from ``train``, one
        value per ``unique_id``, and need not be in ``truth`` or ``forecast``.
    hierarchy : dict of str to list of str, optional
        Level name to the columns identifying a node, e.g. ``{"total": [],
        "store": ["store"], "series": ["unique_id"]}``; by default only the
        bottom level.
    season, weight_col, levels
        As for :func:`score`.

    Returns
    -------
    pandas.DataFrame
        One row per level (index ``level``), one column per metric of :func:`score`.

    References
    ----------
    Makridakis, Spiliotis & Assimakopoulos (2022), "M5 accuracy competition:
    Results, findings, and conclusions", IJF 38(4), table 1 (aggregation levels).
    """
    levels_by_name = {"series": ["unique_id"]} if hierarchy is None else hierarchy
    level_columns = sorted(
        {column for columns in levels_by_name.values() for column in columns} - {"unique_id"}
    )
    base = [*KEYS, "y"] if weight_col is None else [*KEYS, "y", weight_col]
    history = _normalised(train, [*base, *level_columns], "train")
    actual = _normalised(truth, [*KEYS, "y"], "truth")
    quantile_names = [name for name, _ in quantile_columns(forecast)]
    predicted = _normalised(forecast, [*KEYS, "mean", *quantile_names], "forecast")
    predicted = _aligned(actual, predicted).drop(columns="y")  # only the scored rows enter the sums

    members = history[["unique_id", *level_columns]].drop_duplicates()
    ambiguous = members["unique_id"].duplicated()
    if ambiguous.any():
        raise InputError(
            f"train: {int(ambiguous.sum())} series change their level columns {level_columns} over time,"
            f" e.g. unique_id {members.loc[ambiguous, 'unique_id'].iloc[0]!r}; each needs one value"
        )
    rows = []
    for name, columns in levels_by_name.items():
        if columns == ["unique_id"]:
            scores = score(history, actual, predicted, season=season, weight_col=weight_col, levels=levels)
        else:
            node = _node_ids(members, columns)
            scores = score(
                _aggregate(history, node, ["y"], weight_col),
                _aggregate(actual, node, ["y"], None),
                _aggregate(predicted, node, ["mean"], None),
                season=season,
                weight_col=weight_col,
                levels=levels,
            )
        rows.append(pd.Series(scores, name=name))
    return pd.DataFrame(rows).rename_axis("level")


def _node_ids(members: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Map each ``unique_id`` to the id of its node at a level (``'total'`` for no columns)."""
    if not columns:
        node = pd.Series("total", index=members["unique_id"].to_numpy())
    else:
        node = members[columns].astype(str).agg("/".join, axis=1)
        node.index = pd.Index(members["unique_id"].to_numpy())
    return node


def _aggregate(frame: pd.DataFrame, node: pd.Series, sums: list[str], weight_col: str | None) -> pd.DataFrame:
    """Sum ``sums`` per node and date; carry a value-weighted ``weight_col`` when given."""
    keyed = frame.assign(unique_id=frame["unique_id"].map(node))
    if weight_col is not None:
        keyed["_value"] = keyed["y"] * keyed[weight_col]
    totals = keyed.groupby(KEYS, as_index=False)[[*sums, "_value"] if weight_col else sums].sum()
    if weight_col is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            totals[weight_col] = totals.pop("_value") / totals["y"]
    return totals


def _normalised(frame: pd.DataFrame, columns: list[str], name: str) -> pd.DataFrame:
    """Return a copy of ``columns`` of ``frame`` with ``unique_id`` as text and ``ds`` as datetimes."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(f"{name}: missing columns {missing}; it has {list(frame.columns)}")
    out = frame[columns]  # selecting a list of columns already copies
    # The shared scorer compares ids as text, so ids 1 and '1' are the same series.
    if not pd.api.types.is_string_dtype(out["unique_id"]):
        out["unique_id"] = out["unique_id"].astype(str)
    if not pd.api.types.is_datetime64_dtype(out["ds"]):
        out["ds"] = pd.to_datetime(out["ds"])
    return out


def _aligned(truth: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    """Join the forecast onto the truth rows; fail if a truth row lacks a forecast or a key repeats."""
    for name, frame in (("truth", truth), ("forecast", forecast)):
        repeated = frame.duplicated(KEYS)
        if repeated.any():
            example = frame.loc[repeated, KEYS].iloc[0]
            raise InputError(
                f"{name} has {int(repeated.sum())} duplicate (unique_id, ds) rows,"
                f" e.g. ({example['unique_id']!r}, {example['ds']:%Y-%m-%d}); each key must appear once"
            )
    merged = truth.merge(forecast, on=KEYS, how="left", indicator=True)
    absent = merged["_merge"] == "left_only"
    if absent.any():
        example = merged.loc[absent, KEYS].iloc[0]
        raise InputError(
            f"forecast misses {int(absent.sum())} (unique_id, ds) rows of the truth,"
            f" e.g. ({example['unique_id']!r}, {example['ds']:%Y-%m-%d})"
        )
    return merged.drop(columns="_merge")


def _column_at(quantiles: list[tuple[str, float]], level: float) -> str | None:
    """Return the quantile column at ``level``, or None."""
    for name, column_level in quantiles:
        if abs(column_level - level) < _LEVEL_TOLERANCE:
            return name
    return None
