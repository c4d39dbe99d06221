"""What each event added: uplift over baseline per event and group (partner, category, ...).

For every dated event (618, Double 11, a subsidy period) and every group,
the baseline is the average daily units of the four weeks before the
event's pull-forward window (whole weeks, so the weekday mix cancels). The
event is then read against it: the peak-day multiplier, the average uplift
over the event window, the incremental units, and the pull-forward dips in
the week before and after (shoppers who waited for the deal). Sales capped by
stockouts should be unconstrained first (:mod:`cpfr.forecast.censoring`),
or the uplift of what sold out is understated.

References
----------
Cooper, Baron, Levy, Swisher & Gogos (1999), "PromoCast: a new forecasting method for
promotion planning", Marketing Science 18(3) (baseline and lift);
Van Heerde, Leeflang & Wittink (2000), "The estimation of pre- and postpromotion dips with
store-level scanner data", Journal of Marketing Research 37(3).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

BASELINE_DAYS = 28
DIP_DAYS = 7


def event_uplift(
    sales: pd.DataFrame,
    events: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    value: str = "y",
) -> pd.DataFrame:
    """Measure each event's uplift over its baseline, per group.

    Parameters
    ----------
    sales : pandas.DataFrame
        Daily rows ``ds`` + ``value`` + the ``by`` columns (any number of series per group).
    events : pandas.DataFrame
        ``event_id, start_date, end_date`` and optionally ``peak_date`` (default: the end).
    by : sequence of str
        Group columns, e.g. ``["partner_id", "category_id"]``; empty for the total.
    value : str
        The column to sum (units).

    Returns
    -------
    pandas.DataFrame
        One row per event and group: ``event_id, <by>, baseline_per_day, peak_units,
        peak_multiplier`` (peak-day units / baseline), ``window_uplift`` (mean daily units in
        the window / baseline - 1), ``incremental_units`` (window units - baseline x days),
        ``dip_before``, ``dip_after`` (mean daily units of the week before / after / baseline - 1).
        Groups with no baseline sales get NaN ratios.
    """
    keys = list(by)
    daily = sales.groupby([*keys, "ds"], sort=True)[value].sum().reset_index()
    daily["ds"] = pd.to_datetime(daily["ds"])
    rows = []
    for event in events.to_dict("records"):
        start, end = pd.Timestamp(event["start_date"]), pd.Timestamp(event["end_date"])
        peak_value = event.get("peak_date")
        peak = pd.Timestamp(peak_value) if peak_value is not None and not pd.isna(peak_value) else end
        baseline_end = start - pd.Timedelta(days=DIP_DAYS + 1)
        windows = {
            "baseline": (baseline_end - pd.Timedelta(days=BASELINE_DAYS - 1), baseline_end),
            "window": (start, end),
            "peak": (peak, peak),
            "before": (start - pd.Timedelta(days=DIP_DAYS), start - pd.Timedelta(days=1)),
            "after": (end + pd.Timedelta(days=1), end + pd.Timedelta(days=DIP_DAYS)),
        }
        measured = {}
        for name, (first, last) in windows.items():
            inside = daily[(daily["ds"] >= first) & (daily["ds"] <= last)]
            days = (last - first).days + 1
            totals = inside.groupby(keys)[value].sum() if keys else pd.Series({(): inside[value].sum()})
            measured[name] = totals / days
        table = pd.DataFrame(measured).fillna(0.0)
        window_days = (end - start).days + 1
        baseline = table["baseline"].where(table["baseline"] > 0)
        result = pd.DataFrame(
            {
                "event_id": event["event_id"],
                "baseline_per_day": table["baseline"],
                "peak_units": table["peak"],
                "peak_multiplier": table["peak"] / baseline,
                "window_uplift": table["window"] / baseline - 1.0,
                "incremental_units": (table["window"] - table["baseline"]) * window_days,
                "dip_before": table["before"] / baseline - 1.0,
                "dip_after": table["after"] / baseline - 1.0,
            }
        )
        rows.append(result.reset_index(names=keys) if keys else result.reset_index(drop=True))
    if not rows:
        return pd.DataFrame(columns=["event_id", *keys, "baseline_per_day", "peak_multiplier"])
    out = pd.concat(rows, ignore_index=True)
    return out[["event_id", *keys, *[c for c in out.columns if c not in ("event_id", *keys)]]].replace(
        [np.inf, -np.inf], np.nan
    )
