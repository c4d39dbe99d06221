"""What every forecaster shares: frequencies and seasons, quantile names, the input frame contract.

Frames are long, as in Nixtla's libraries: ``unique_id, ds, y`` plus
exogenous columns for history; ``unique_id, ds, mean, q0.05, ...`` for
forecasts. Quantile columns are named ``q`` + the level as Python prints it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cpfr.exceptions import InputError, LimitError
from cpfr.forecast.limits import MAX_QUANTILE_LEVELS

DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


def quantile_column(level: float) -> str:
    """Name the column of quantile ``level``: 0.05 → 'q0.05', 0.5 → 'q0.5'."""
    return f"q{level!r}" if isinstance(level, float) else f"q{float(level)!r}"


def parse_quantiles(text: str | Sequence[float]) -> tuple[float, ...]:
    """Read quantile levels from '0.05,0.1,...' or a sequence: each in (0, 1); sorted, unique.

    At most ``MAX_QUANTILE_LEVELS`` distinct levels (LimitError).
    """
    if isinstance(text, str):
        try:
            levels = [float(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise InputError(
                f"quantiles {text[:60]!r}: expected numbers separated by commas, e.g. 0.1,0.5,0.9"
            ) from None
    else:
        levels = [float(level) for level in text]
    if not levels or any(not 0 < level < 1 for level in levels):
        raise InputError(f"quantiles {str(levels)[:60]}: each must be strictly between 0 and 1")
    unique = sorted(set(levels))
    if len(unique) > MAX_QUANTILE_LEVELS:
        raise LimitError(f"quantiles: {len(unique):,} levels, at most {MAX_QUANTILE_LEVELS} are supported")
    return tuple(unique)


def season_length(freq: str) -> int:
    """Return the main seasonal period of a frequency: 7 daily, 52 weekly, 12 monthly, 4 quarterly."""
    code = freq.upper().split("-")[0]
    if code in {"D", "B"}:
        return 7
    if code.startswith("W"):
        return 52
    if code in {"M", "MS", "ME"}:
        return 12
    if code in {"Q", "QS", "QE"}:
        return 4
    if code in {"H", "h"}:
        return 24
    return 1


def future_dates(last: pd.Series, freq: str, horizon: int) -> pd.DataFrame:
    """Return ``unique_id, ds`` of the ``horizon`` periods after each series' last date (``last`` by id)."""
    # Series mostly end on the same few dates: build each distinct calendar once.
    calendars = {
        end: pd.date_range(end, periods=horizon + 1, freq=freq)[1:].to_numpy()
        for end in pd.unique(pd.to_datetime(last.to_numpy()))
    }
    ends = pd.to_datetime(last.to_numpy())
    dates = np.concatenate([calendars[end] for end in ends]) if len(ends) else np.array([], "datetime64[ns]")
    return pd.DataFrame({"unique_id": np.repeat(last.index.to_numpy(), horizon), "ds": dates})


def monotone_quantiles(
    frame: pd.DataFrame, levels: Sequence[float], *, lower_bound: float | None = 0.0
) -> pd.DataFrame:
    """Sort each row's quantile columns so they never cross, and clip them at ``lower_bound``."""
    columns = [quantile_column(level) for level in sorted(levels)]
    values = np.sort(frame[columns].to_numpy(dtype=float), axis=1)
    if lower_bound is not None:
        values = np.maximum(values, lower_bound)
    frame = frame.copy()
    frame[columns] = values
    return frame
