"""The two sides' weekly forecasts side by side, and how accurate each side has been.

Everything the CPFR cycle compares is weekly, per SKU and channel, in weeks
starting on Monday. The platform's side is cpfr's own probabilistic
forecast of weekly sales per SKU and channel (daily history with stockout
days unconstrained, summed into whole weeks); its accuracy comes from the
same model's rolling-origin backtest. The partner's side is what
it submitted (``partner_forecasts``); its accuracy is its past submissions
against the weeks' actual sales. Accuracy is kept as the spread and the
median of the log ratio forecast / actual, which is scale-free (a SKU
selling 5 a week and one selling 5,000 compare) and is what the exception
test and the consensus weights need.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.data.schema import quantile_name
from cpfr.data.store import Store
from cpfr.exceptions import InputError

KEYS = ["sku_id", "channel_id"]
MIN_ERROR_SD = 0.1  # no side is ever credited with less than 10 % error: weeks are noisy
# The platform's weekly models. Not "auto": its backtest can prefer the seasonal naive, which
# forecasts zero for every SKU without last year's week — exactly the launches a brand plans.
# (LightGBM is left out by the forecaster itself where the history is shorter than its lags.)
WEEKLY_MODELS = ("pooled_seasonal", "window_average", "tsb", "lightgbm")
# The platform's interval in the cycle: its 10 % and 90 % quantiles, named as everywhere else.
LOW, HIGH = quantile_name(0.1), quantile_name(0.9)
PLATFORM_LOW, PLATFORM_HIGH = f"platform_{LOW}", f"platform_{HIGH}"


@dataclass(frozen=True)
class PlatformForecast:
    """The platform's weekly forecast per SKU and channel and its backtest accuracy.

    Attributes
    ----------
    weekly : pandas.DataFrame
        ``sku_id, channel_id, ds`` (Monday), ``platform`` (mean units), ``platform_q0.1`` and
        ``platform_q0.9`` (the 10 % and 90 % quantiles).
    accuracy : pandas.DataFrame
        ``sku_id, channel_id, platform_sd`` (spread of the weekly log ratio in the backtest),
        ``platform_bias`` (its median), ``platform_wape`` and the sums ``miss`` (absolute
        errors), ``error`` (forecast - actual) and ``actual``.
    as_of : datetime.date
        The last day of sales used.
    model : str
    run_id : str
        A label of the run (weekly forecasts are not written to the store's daily ``forecasts``).
    """

    weekly: pd.DataFrame
    accuracy: pd.DataFrame
    as_of: dt.date
    model: str
    run_id: str


def platform_forecast(
    store: Store,
    *,
    weeks: int = 8,
    partner_id: str | None = None,
    models: str | list[str] | tuple[str, ...] = WEEKLY_MODELS,
    n_windows: int = 3,
    daily: pd.DataFrame | None = None,
) -> PlatformForecast:
    """Forecast every SKU x channel for the ``weeks`` whole weeks after the last sales day.

    The daily history (stockout days unconstrained) is summed into whole Monday weeks and
    forecast weekly, the granularity the cycle compares at; the week the data ends in, if
    cut short, is forecast too and dropped. ``daily`` is that history per SKU x location
    (:func:`daily_history`) when the caller has it already.
    """
    from cpfr.forecast.auto import AutoForecaster

    history = channel_history(daily_history(store) if daily is None else daily, store, partner_id)
    if history.empty:
        raise InputError(f"{store.location}: no sales to forecast")
    as_of = history["ds"].max()
    first_monday = as_of + pd.offsets.Week(weekday=0)
    history = history.assign(ds=_monday(history["ds"]))
    whole = history[history["ds"] + pd.Timedelta(days=6) <= as_of]
    complete = history.groupby("unique_id")["ds"].transform("min")  # a series' first week may be partial
    weekly_history = (
        whole[whole["ds"] > complete.loc[whole.index]].groupby(["unique_id", "ds"], as_index=False)["y"].sum()
    )
    cut_short = int((first_monday - weekly_history["ds"].max()).days // 7) - 1
    horizon = weeks + cut_short
    future_weeks = pd.date_range(
        weekly_history["ds"].max() + pd.Timedelta(weeks=1), periods=horizon, freq="W-MON"
    )
    calendar = week_events(
        store.read_table("events"), weekly_history["ds"].drop_duplicates().sort_values(), future_weeks
    )
    weekly_history = weekly_history.join(calendar, on="ds")
    future = pd.DataFrame(
        [(uid, week) for uid in weekly_history["unique_id"].unique() for week in future_weeks],
        columns=["unique_id", "ds"],
    ).join(calendar, on="ds")
    forecaster = AutoForecaster(
        horizon=horizon, models=models, n_windows=n_windows, quantiles=(0.1, 0.5, 0.9)
    )
    forecaster.fit(weekly_history, freq="W-MON", covariates=list(calendar.columns))
    predicted = forecaster.predict(future)
    predicted = predicted[predicted["ds"] >= first_monday]
    keys = history.drop_duplicates("unique_id").set_index("unique_id")[KEYS]
    weekly = predicted.join(keys, on="unique_id").rename(
        columns={"mean": "platform", LOW: PLATFORM_LOW, HIGH: PLATFORM_HIGH}
    )[[*KEYS, "ds", "platform", PLATFORM_LOW, PLATFORM_HIGH]]
    accuracy = _backtest_accuracy(forecaster.backtest_, forecaster.residuals_)
    accuracy = accuracy.join(keys, how="inner").reset_index(drop=True)
    run_id = f"weekly-{as_of:%Y%m%d}"
    return PlatformForecast(
        weekly.reset_index(drop=True), accuracy, as_of.date(), forecaster.chosen_.name, run_id
    )


def daily_history(store: Store, partner_id: str | None = None) -> pd.DataFrame:
    """Return the daily sales per SKU x location with stockout days unconstrained (demand, not sales).

    Columns ``unique_id, ds, y, sku_id, location_id, channel_id``; the cycle reads it once and
    shares it between the platform's forecast, the KPIs and the network plan.
    """
    from cpfr.forecast.store_forecast import store_history

    history, _ = store_history(store, "sku/store", partner_id=partner_id)
    channels = store.read_table("locations").set_index("location_id")["channel_id"]
    return history.assign(channel_id=history["location_id"].map(channels))


def channel_history(daily: pd.DataFrame, store: Store, partner_id: str | None = None) -> pd.DataFrame:
    """Sum :func:`daily_history` to SKU x channel per day: ``unique_id`` (sku@channel), ``ds``, ``y``."""
    if partner_id is not None:
        owned = store.read_table("products", partner_id=partner_id)["sku_id"]
        daily = daily[daily["sku_id"].isin(owned)]
    if daily.empty:
        raise InputError(f"{store.location}: no sales to forecast")
    history = pd.DataFrame(daily.groupby([*KEYS, "ds"], as_index=False, observed=True)["y"].sum())
    history["unique_id"] = history["sku_id"].astype(str) + "@" + history["channel_id"].astype(str)
    ordered = history[["unique_id", "ds", "y", *KEYS]].sort_values(["unique_id", "ds"])
    return ordered.reset_index(drop=True)


def week_events(events: pd.DataFrame, past: pd.Series, future: pd.DatetimeIndex) -> pd.DataFrame:
    """Return per Monday week the days in a platform-wide promotion, a promotion peak (0/1), holiday days.

    The event calendar is known ahead, so these are known-future covariates of the weekly models.
    """
    weeks = pd.DatetimeIndex(pd.concat([pd.Series(past), pd.Series(future)]).drop_duplicates().sort_values())
    frame = pd.DataFrame(0.0, index=weeks, columns=["promotion_days", "promotion_peak", "holiday_days"])
    shared = events[events["category_id"].isna() & events["partner_id"].isna()]
    for event in shared.to_dict("records"):
        start, end = pd.Timestamp(event["start_date"]), pd.Timestamp(event["end_date"])
        first = weeks.to_numpy().clip(min=start.to_datetime64())
        last = (weeks + pd.Timedelta(days=6)).to_numpy().clip(max=end.to_datetime64())
        days = np.clip((last - first).astype("timedelta64[D]").astype(float) + 1, 0, 7)
        if event["kind"] == "promotion":
            frame["promotion_days"] += days
            peak = pd.Timestamp(event["peak_date"]) if not pd.isna(event.get("peak_date")) else end
            frame.loc[(weeks <= peak) & (weeks + pd.Timedelta(days=6) >= peak), "promotion_peak"] = 1.0
        elif event["kind"] == "holiday":
            frame["holiday_days"] += days
    return frame


@dataclass(frozen=True)
class PartnerRecord:
    """A partner's submissions (``ds`` as timestamps), weekly actuals up to the as-of day, and its accuracy.

    Attributes
    ----------
    submitted : pandas.DataFrame
        The partner's rows of ``partner_forecasts``.
    actuals : pandas.DataFrame
        :func:`weekly_actuals` of the partner.
    accuracy : pandas.DataFrame
        :func:`partner_accuracy` of its past submissions.
    """

    submitted: pd.DataFrame
    actuals: pd.DataFrame
    accuracy: pd.DataFrame


def partner_record(store: Store, partner_id: str, as_of: dt.date) -> PartnerRecord:
    """Read a partner's submissions and weekly actuals up to ``as_of`` and score the past ones."""
    submitted = store.read_table("partner_forecasts", partner_id=partner_id)
    submitted["ds"] = pd.to_datetime(submitted["ds"])
    actuals = weekly_actuals(store, partner_id=partner_id, end=as_of)
    return PartnerRecord(submitted, actuals, partner_accuracy(submitted, actuals))


def weekly_actuals(
    store: Store, *, partner_id: str | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """Units sold per SKU, channel and whole week (``sku_id, channel_id, ds, actual``) up to ``end``."""
    cube = store.sales_cube([*KEYS, "week"], partner_id=partner_id, end=end)
    weekly = cube.rename(columns={"week": "ds", "units": "actual"})[[*KEYS, "ds", "actual"]]
    weekly["ds"] = pd.to_datetime(weekly["ds"])
    if end is not None:  # a week cut short by the end of the data is not a week to score
        weekly = weekly[weekly["ds"] + pd.Timedelta(days=6) <= pd.Timestamp(end)]
    return weekly.reset_index(drop=True)


def partner_accuracy(forecasts: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    """Score past partner forecasts per SKU and channel.

    Returns ``sku_id, channel_id, partner_sd, partner_bias`` (spread and median of the weekly
    log ratio), ``partner_wape, weeks`` and the sums ``miss``, ``error`` and ``actual``.
    """
    past = forecasts.assign(ds=pd.to_datetime(forecasts["ds"])).merge(actuals, on=[*KEYS, "ds"], how="inner")
    past = past[(past["units"] > 0) & (past["actual"] > 0)]
    if past.empty:
        columns = [*KEYS, "partner_sd", "partner_bias", "partner_wape", "weeks", "miss", "error", "actual"]
        return pd.DataFrame(columns=columns)
    past = past.assign(
        log_ratio=np.log(past["units"] / past["actual"]),
        miss=(past["units"] - past["actual"]).abs(),
        error=past["units"] - past["actual"],
    )
    table = past.groupby(KEYS).agg(
        partner_sd=("log_ratio", "std"),
        partner_bias=("log_ratio", "median"),
        weeks=("log_ratio", "size"),
        miss=("miss", "sum"),
        error=("error", "sum"),
        actual=("actual", "sum"),
    )
    table["partner_wape"] = table["miss"] / table["actual"]
    return table.reset_index()


def error_scale(values: pd.Series, pooled: float) -> pd.Series:
    """Return each series' error spread, the pooled one where unknown, floored at :data:`MIN_ERROR_SD`."""
    return values.fillna(pooled).clip(lower=MIN_ERROR_SD)


def _backtest_accuracy(backtest: pd.DataFrame, residuals: pd.DataFrame) -> pd.DataFrame:
    """Weekly log-ratio spread, median and WAPE of the backtest, per series (indexed by unique_id)."""
    if backtest.empty:
        return pd.DataFrame(
            columns=["platform_sd", "platform_bias", "platform_wape", "miss", "error", "actual"]
        )
    frame = pd.DataFrame(
        {
            "unique_id": backtest["unique_id"].to_numpy(),
            "cutoff": backtest["cutoff"].to_numpy(),
            "ds": _monday(pd.to_datetime(backtest["ds"])).to_numpy(),
            "actual": backtest["y"].to_numpy(),
            "forecast": backtest["y"].to_numpy() - residuals["residual"].to_numpy(),
        }
    )
    weekly = frame.groupby(["unique_id", "cutoff", "ds"], as_index=False)[["actual", "forecast"]].sum()
    weekly = weekly[(weekly["actual"] > 0) & (weekly["forecast"] > 0)]
    weekly["log_ratio"] = np.log(weekly["forecast"] / weekly["actual"])
    weekly["miss"] = (weekly["forecast"] - weekly["actual"]).abs()
    weekly["error"] = weekly["forecast"] - weekly["actual"]
    grouped = weekly.groupby("unique_id")
    table = grouped.agg(
        platform_sd=("log_ratio", "std"),
        platform_bias=("log_ratio", "median"),
        miss=("miss", "sum"),
        error=("error", "sum"),
        actual=("actual", "sum"),
    )
    table["platform_wape"] = table["miss"] / table["actual"]
    return table


def _monday(days: pd.Series) -> pd.Series:
    return days - pd.to_timedelta(days.dt.dayofweek, unit="D")
