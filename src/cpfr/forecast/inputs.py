"""Read and check what ``cpfr forecast`` is given: the history file and the future covariates.

Errors name the file, the line a person sees and the column, as everywhere
in cpfr; gaps inside a series are zero sales (a period with no row sold
nothing). Negative values of ``y`` are legal here (net sales after returns
can be negative in a period) and counted; ingesting ``sales.units`` into the
store keeps its stricter non-negative rule.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.bounds import number_text
from cpfr.data.datasets import LongDataset, fill_gaps, read_long
from cpfr.data.sources import open_source
from cpfr.exceptions import LimitError, Problem, SchemaError, ValidationError
from cpfr.forecast.base import future_dates, season_length
from cpfr.forecast.censoring import uncensor
from cpfr.forecast.limits import (
    HORIZON,
    MAX_PANEL_PERIODS,
    MAX_SERIES_PERIODS,
    MAX_VALUE,
    check_freq,
    horizon_bound,
)

MAX_PROBLEMS = 50


@dataclass(frozen=True)
class ForecastInput:
    """History ready to forecast, and the covariates known for the future.

    Attributes
    ----------
    history : pandas.DataFrame
        ``unique_id, ds, y`` + covariates, gaps filled with zero sales, sorted.
    freq : str
        Pandas offset alias of the series.
    covariates : tuple of str
        Exogenous columns also given for the future (used as known-future covariates).
    future : pandas.DataFrame or None
        ``unique_id, ds`` + covariates for every series and future period.
    gaps_filled : int
        Periods added as zero sales inside series.
    censored : int
        Periods whose sales were capped by a stockout, raised to estimated demand.
    negative : int
        Periods with a negative ``y`` (returns exceeding sales), kept as given.
    """

    history: pd.DataFrame
    freq: str
    covariates: tuple[str, ...]
    future: pd.DataFrame | None
    gaps_filled: int
    censored: int = 0
    negative: int = 0


def load_forecast_input(
    path: str | os.PathLike[str],
    *,
    horizon: int,
    future_path: str | os.PathLike[str] | None = None,
    freq: str | None = None,
    stockout_column: str | None = None,
    in_stock_column: str | None = None,
    attribute_columns: Sequence[str] = (),
    unconstrain: bool = True,
) -> ForecastInput:
    """Read INPUT (and FUTURE), check them, fill gaps; raise errors naming file, row and column.

    ``attribute_columns`` are series attributes (store, brand, ...): any type,
    kept in the history for scoring by level, never used as covariates.

    ``stockout_column`` (true/1 where stock ran out) or ``in_stock_column``
    (0 where it ran out) marks censored sales: they are raised to estimated
    demand (:func:`cpfr.forecast.censoring.uncensor`) and the flag is not
    used as a covariate. With ``unconstrain=False`` the sales stay as recorded and a
    boolean ``censored`` column marks them instead (for models that leave them out).

    Raises
    ------
    LimitError
        ``horizon`` beyond :func:`cpfr.forecast.limits.horizon_bound` of the history, or a
        history whose filled gaps would exceed ``MAX_SERIES_PERIODS`` / ``MAX_PANEL_PERIODS``.
    """
    HORIZON.check("horizon", horizon)
    check_freq("freq", freq)
    dataset = read_long(path, freq=freq)
    label = str(path)
    _check_values(dataset, label)
    _check_span(dataset, label)
    absent = [column for column in attribute_columns if column not in dataset.df.columns]
    if absent:
        raise SchemaError(f"{label}:1:{absent[0]}: missing — expected the attribute column {absent[0]!r}")
    exogenous = [
        column
        for column in dataset.df.columns
        if column not in ("unique_id", "ds", "y") and column not in attribute_columns
    ]
    problems = [
        Problem(label, 1, column, str(dataset.df[column].dtype), "a numeric or boolean column")
        for column in exogenous
        if not (
            pd.api.types.is_numeric_dtype(dataset.df[column])
            or pd.api.types.is_bool_dtype(dataset.df[column])
        )
    ]
    if problems:
        raise ValidationError(problems)
    filled = fill_gaps(dataset, value=0.0)
    history = filled.df.copy()
    longest = int(history.groupby("unique_id", sort=False).size().max()) if len(history) else 0
    last = history["ds"].max() if len(history) else None
    horizon_bound(longest, last=last, freq=filled.freq).check("horizon", horizon)
    for column in exogenous:
        history[column] = history[column].astype(float)
    censored = 0
    for flag, stocked_out_when in ((stockout_column, 1.0), (in_stock_column, 0.0)):
        if flag is None:
            continue
        if flag not in exogenous:
            raise SchemaError(f"{label}:1:{flag}: missing — expected the stock flag column {flag!r}")
        # A gap filled as zero sales has no flag: it was not a stockout.
        flags = history[flag].eq(stocked_out_when).to_numpy()
        if unconstrain:
            history = uncensor(history, flags, season=season_length(filled.freq)).drop(
                columns=[flag, "censored"]
            )
        else:
            marked = history["censored"].to_numpy(dtype=bool) if "censored" in history else False
            history = history.drop(columns=[flag]).assign(censored=flags | marked)
        exogenous.remove(flag)
        censored += int(flags.sum())
    future = None
    covariates: tuple[str, ...] = ()
    if future_path is not None:
        future, covariates = _load_future(future_path, history, filled.freq, horizon, exogenous)
    negative = int((dataset.df["y"].to_numpy(dtype=float) < 0).sum())
    return ForecastInput(
        history, filled.freq, covariates, future, len(filled.df) - len(dataset.df), censored, negative
    )


def _check_values(dataset: LongDataset, label: str) -> None:
    """Refuse sales above ``MAX_VALUE`` per period (they overflow the models' sums into nonsense)."""
    frame = dataset.df
    above = frame.index[frame["y"].to_numpy() > MAX_VALUE]
    if len(above):
        first = frame.loc[above[0]]
        problems = [
            Problem(
                label,
                0,
                "y",
                f"{first['y']:g}",
                f"a number <= {number_text(MAX_VALUE)} (series {first['unique_id']!r}, "
                f"{pd.Timestamp(first['ds']).strftime('%Y-%m-%d %H:%M').removesuffix(' 00:00')})",
            )
        ]
        raise ValidationError(problems, total=len(above))


def _check_span(dataset: LongDataset, label: str) -> None:
    """Refuse a history whose gaps, filled as zero sales, would make too many periods."""
    frame = dataset.df
    if frame.empty:
        return
    ends = frame.groupby("unique_id", sort=False)["ds"].agg(["min", "max"])
    offset = pd.tseries.frequencies.to_offset(dataset.freq)
    if isinstance(offset, pd.offsets.Tick):  # fixed length: count without listing the periods
        spans = (ends["max"] - ends["min"]).to_numpy().astype("int64") // offset.nanos + 1
    else:  # days and longer: the calendar is short enough to list
        grid = pd.date_range(frame["ds"].min(), frame["ds"].max(), freq=dataset.freq)
        spans = grid.searchsorted(ends["max"]) - grid.searchsorted(ends["min"]) + 1
    longest, total = int(spans.max()), int(spans.sum())
    if longest > MAX_SERIES_PERIODS or total > MAX_PANEL_PERIODS:
        raise LimitError(
            f"{label}: with gaps filled the history has {total:,} periods of {dataset.freq!r}, the longest "
            f"series {longest:,}; at most {MAX_PANEL_PERIODS:,} and {MAX_SERIES_PERIODS:,} are supported "
            "(a coarser frequency, or fewer or shorter series)"
        )


def _load_future(
    path: str | os.PathLike[str], history: pd.DataFrame, freq: str, horizon: int, exogenous: list[str]
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    source = open_source(path)
    label = source.label
    missing = [column for column in ("unique_id", "ds") if column not in source.columns]
    if missing:
        raise SchemaError(
            f"{label}:{source.header_row}:{missing[0]}: missing — expected a column {missing[0]!r}"
        )
    frame, rows = source.read_frame()
    covariates = tuple(column for column in exogenous if column in frame.columns)
    frame["unique_id"] = frame["unique_id"].astype(str).str.strip()
    dates = pd.to_datetime(frame["ds"], errors="coerce")
    problems = [
        Problem(label, int(row), "ds", str(value), "a date such as 2024-01-31")
        for row, value in zip(rows[dates.isna()], frame["ds"][dates.isna()], strict=True)
    ]
    frame["ds"] = dates
    for column in covariates:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        problems += [
            Problem(label, int(row), column, None if pd.isna(value) else str(value), "a finite number")
            for row, value in zip(rows[bad.to_numpy()], frame[column][bad], strict=True)
        ]
        frame[column] = values.astype(float)
    expected = future_dates(history.groupby("unique_id", sort=False)["ds"].max(), freq, horizon)
    merged = expected.merge(frame.assign(__present=True), on=["unique_id", "ds"], how="left")
    absent = merged[merged["__present"].isna()]
    for uid, day in zip(absent["unique_id"].head(MAX_PROBLEMS), absent["ds"].head(MAX_PROBLEMS), strict=True):
        problems.append(
            Problem(
                label,
                0,
                "unique_id, ds",
                f"{uid}, {pd.Timestamp(day).date()}",
                "a row of future covariates for this series and period",
            )
        )
    if problems:
        raise ValidationError(problems[:MAX_PROBLEMS], len(problems) + max(len(absent) - MAX_PROBLEMS, 0))
    return merged[["unique_id", "ds", *covariates]], covariates
