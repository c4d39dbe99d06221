"""Sales histories in long format (the Nixtla convention): ``unique_id, ds, y`` plus covariates.

One row per series and period, sorted by ``unique_id, ds``; per-series attributes live in a ``static``
table. :func:`read_long` reports every bad cell by file, line and column; :func:`read_m5` reads the M5
layout; :func:`load_shared` reads the public datasets under ``../shared/data``. Nothing here downloads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

from cpfr.data.sources import open_source
from cpfr.exceptions import InputError, LimitError, Problem, SchemaError, ValidationError

KEY_COLUMNS = ("unique_id", "ds", "y")
PROBLEM_CAP = 50  # enough to show a pattern without flooding a terminal
SHARED_DATA_ENV_VAR = "CPFR_SHARED_DATA"
SHARED_DATASETS = ("dominicks_oj", "stallion", "vn2")
M5_STATIC = ("item_id", "dept_id", "cat_id", "store_id", "state_id")
JD_SKU_COLUMNS = tuple("sku_ID type brand_ID attribute1 attribute2 activate_date deactivate_date".split())

_SHARED = {  # name: frequency, columns constant within a series, raw static table (under raw/)
    "dominicks_oj": ("W-THU", ("store", "brand"), "orangeJuice_storedemo.parquet"),
    "stallion": ("MS", ("agency", "sku", "avg_population_2017", "avg_yearly_household_income_2017"), ""),
    "vn2": ("W-MON", ("store", "product"), "master.csv"),
}
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
# A rule over a file's rows: which rows break it, the column, the values shown, what was expected.
_Check = tuple[pd.Series | np.ndarray, str, pd.Series | None, str]


@dataclass(frozen=True, eq=False)  # eq=False: DataFrames have no single truth value
class LongDataset:
    """A panel of time series in long format.

    Attributes
    ----------
    df : pandas.DataFrame
        ``unique_id`` (str), ``ds`` (datetime64), ``y`` (float64) and time-varying covariates, sorted.
    freq : str
        The pandas offset alias of the series, e.g. ``'D'``, ``'W-SUN'``, ``'MS'``.
    name : str
        A short name for messages and benchmark tables.
    static : pandas.DataFrame or None
        One row per series: ``unique_id`` and attributes fixed over time (store, brand, hierarchy).

    Examples
    --------
    >>> frame = pd.DataFrame({"unique_id": ["a", "a"], "ds": pd.to_datetime(["2024-01-01", "2024-01-02"]),
    ...                       "y": [1.0, 2.0], "price": [9.5, 9.0]})
    >>> dataset = LongDataset(frame, freq="D", name="toy")
    >>> dataset.exogenous, dataset.n_series, len(dataset)
    (['price'], 1, 2)
    """

    df: pd.DataFrame
    freq: str
    name: str = ""
    static: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if missing := [column for column in KEY_COLUMNS if column not in self.df.columns]:
            raise SchemaError(f"dataset {self.name!r}: missing columns {missing}")

    @property
    def exogenous(self) -> list[str]:
        """Return the time-varying covariate columns (all but ``unique_id, ds, y``)."""
        return [column for column in self.df.columns if column not in KEY_COLUMNS]

    @property
    def n_series(self) -> int:
        """Return the number of series."""
        return int(self.df["unique_id"].nunique())

    def __len__(self) -> int:
        return len(self.df)

    def with_static(self) -> pd.DataFrame:
        """Return ``df`` with the static attributes joined onto every row."""
        if self.static is None:
            return self.df.copy()
        return self.df.merge(self.static, on="unique_id", how="left", validate="many_to_one")


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast the key columns to their dtypes and sort by ``unique_id, ds``."""
    frame = frame.astype({"unique_id": "str", "ds": "datetime64[ns]", "y": "float64"})
    ordered = frame[[*KEY_COLUMNS, *(c for c in frame.columns if c not in KEY_COLUMNS)]]
    return ordered.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def infer_freq(ds: pd.Series) -> str:
    """Return the pandas offset alias of a date column, from its most common step.

    The step is the modal difference of the sorted unique dates: 1 day gives ``'D'``; 7 days
    ``'W-<weekday>'`` (one weekday for all); 28-31 days ``'MS'``/``'ME'`` (all month starts/ends).

    Parameters
    ----------
    ds : pandas.Series
        Dates (datetime64), in any order, repeats allowed.

    Raises
    ------
    InputError
        Fewer than two distinct dates, or another step.

    Examples
    --------
    >>> infer_freq(pd.Series(pd.to_datetime(["2024-01-07", "2024-01-14", "2024-01-28"])))
    'W-SUN'
    """
    dates = pd.DatetimeIndex(pd.unique(ds.dropna())).sort_values()
    if len(dates) < 2:
        raise InputError("cannot infer a frequency from fewer than two distinct dates; pass freq=")
    steps = pd.Series(np.diff(dates.as_unit("ns").asi8)).mode()
    step_days = int(steps.iloc[0]) / pd.Timedelta(days=1).value
    if step_days == 1:
        return "D"
    if step_days == 7:
        weekdays = np.unique(dates.day_of_week)
        if len(weekdays) == 1:
            return f"W-{_WEEKDAYS[int(weekdays[0])]}"
        raise InputError("weekly dates fall on different weekdays; pass freq= (e.g. 'W-SUN')")
    if 28 <= step_days <= 31:
        if bool(dates.is_month_start.all()):
            return "MS"
        if bool(dates.is_month_end.all()):
            return "ME"
        raise InputError("monthly dates are neither all month starts nor all month ends; pass freq=")
    raise InputError(f"cannot infer a frequency from a step of {step_days:g} days; pass freq=")


def _raise_problems(label: str, rows: np.ndarray, columns: list[str], checks: list[_Check]) -> None:
    """Raise a ValidationError naming the failing cells in file order (at most ``PROBLEM_CAP``)."""
    found: list[tuple[int, int, Problem]] = []
    total = 0
    for mask, column, values, expected in checks:
        where = np.flatnonzero(np.asarray(mask, dtype=bool))
        total += len(where)
        for index in where[:PROBLEM_CAP]:  # cap each check, so a bad column costs no more than 50
            value, row = (None if values is None else str(values.iloc[index])), int(rows[index])
            found.append((row, columns.index(column), Problem(label, row, column, value, expected)))
    if total:
        found.sort(key=lambda item: item[:2])
        raise ValidationError([problem for *_, problem in found[:PROBLEM_CAP]], total)


def _strip(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return the values as stripped text (blank cells as NA) and the mask of blank cells."""
    text = values.astype("str").str.strip()
    blank = text.isna() | text.eq("")
    return text.where(~blank), blank


def _parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return the parsed dates and the mask of blank cells (NaT elsewhere marks a bad one)."""
    if is_datetime64_any_dtype(values):
        parsed, blank = values, values.isna()
    else:
        text, blank = _strip(values)
        # utc=True accepts mixed UTC offsets; naive text is taken as it stands
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert(None)
    return parsed, blank


def _parse_target(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Return y as float64 and the masks of blank cells and of cells that are not numbers."""
    if is_numeric_dtype(values):
        numbers = values.astype("float64")
        return numbers, numbers.isna(), pd.Series(False, index=values.index)
    text, blank = _strip(values)
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    return numbers, blank, numbers.isna() & ~blank & ~text.str.lower().isin(["nan", "+nan", "-nan"])


def _infer_text_column(values: pd.Series) -> pd.Series:
    """Return a CSV covariate as numbers when every non-blank cell is one, else as text."""
    text, blank = _strip(values)
    numbers = pd.to_numeric(text, errors="coerce")
    return numbers if int(numbers.notna().sum()) == int((~blank).sum()) else text


def read_long(
    path: str | os.PathLike[str],
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    freq: str | None = None,
    name: str | None = None,
    nonnegative: bool = False,
) -> LongDataset:
    """Read and validate a CSV or Parquet file of series in long format, sorted by ``unique_id, ds``.

    Columns other than the id, date and target become covariates (CSV ones numeric when they parse).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv`` or ``.parquet`` file, one row per series and period.
    id_col, time_col, target_col : str
        The file's names for the series id, date and target, renamed to ``unique_id, ds, y``.
    freq : str, optional
        The offset alias; inferred with :func:`infer_freq` when omitted.
    name : str, optional
        The dataset's name; the file's stem when omitted.
    nonnegative : bool
        Reject negative targets (sales, demand).

    Raises
    ------
    InputError
        The file is missing, has an unknown extension, or no frequency fits.
    SchemaError
        A required column is missing.
    ValidationError
        Blank ids, bad dates, non-finite targets, repeated ``(unique_id, ds)`` or dates off the grid;
        every problem (up to 50) as ``FILE:LINE:COLUMN`` (CSV header = line 1; Parquet first row = 1).
    """
    source = open_source(path)
    label = source.label
    renames = {id_col: "unique_id", time_col: "ds", target_col: "y"}
    header: list[Problem] = []
    for old, new in renames.items():
        if old not in source.columns:
            header.append(Problem(label, source.header_row, old, None, f"a column {old!r} (the {new})"))
        elif old != new and new in source.columns:
            header.append(Problem(label, source.header_row, new, new, f"no column {new!r} besides {old!r}"))
    if header:
        raise SchemaError("\n".join(map(str, header)))
    frame, rows = source.read_frame()
    if source.arrow is not None:  # CSV cells are text: numbers and dates are recognised here
        exogenous = {c: _infer_text_column(frame[c]) for c in frame.columns if c not in renames}
    else:
        exogenous = {c: frame[c] for c in frame.columns if c not in renames}
    raw = frame.rename(columns=renames)
    columns = [renames.get(column, column) for column in source.columns]
    ids = raw["unique_id"].astype("str").str.strip()
    id_blank = ids.isna() | ids.eq("")
    dates, date_blank = _parse_dates(raw["ds"])
    target, target_blank, not_number = _parse_target(raw["y"])
    not_finite = ~np.isfinite(target.to_numpy()) & ~target_blank.to_numpy() & ~not_number.to_numpy()
    keys = pd.DataFrame({"unique_id": ids, "ds": dates, "row": rows})[~id_blank & dates.notna()]
    repeated = keys[keys.duplicated(["unique_id", "ds"], keep=False)]
    first_row = repeated.groupby(["unique_id", "ds"], sort=False)["row"].transform("min")
    later = raw.index.isin(repeated.index[repeated["row"].to_numpy() != first_row.to_numpy()])
    checks: list[_Check] = [
        (id_blank, "unique_id", None, "a series id"),
        (date_blank, "ds", None, "a date"),
        (dates.isna() & ~date_blank, "ds", raw["ds"], "a date such as 2024-01-31 (ISO 8601)"),
        (target_blank, "y", None, "a number"),
        (not_number, "y", raw["y"], "a number"),
        (not_finite, "y", raw["y"], "a finite number"),
        (
            (target.to_numpy() < 0) & nonnegative,
            "y",
            raw["y"],
            "a number >= 0 (sales cannot be negative)",
        ),
        (later, "ds", raw["ds"], "one row per (unique_id, ds): the pair repeats an earlier row"),
    ]
    _raise_problems(label, rows, columns, checks)
    if freq is None:
        try:
            freq = infer_freq(dates)
        except InputError as error:
            raise InputError(f"{label}: {error}") from None
    grid = _grid(dates.min(), dates.max(), freq, label)
    off_grid: _Check = (~dates.isin(grid), "ds", raw["ds"], f"a date on the {freq!r} grid")
    _raise_problems(label, rows, columns, [off_grid])
    frame = pd.DataFrame({"unique_id": ids, "ds": dates, "y": target, **exogenous})
    return LongDataset(_normalise(frame), freq=freq, name=name or Path(path).stem)


# The longest calendar a panel may span (a million days is 2,700 years: a wrong frequency), and
# the most rows gap filling may build (the M5 benchmark has 59 million).
MAX_CALENDAR_PERIODS = 1_000_000
MAX_FILLED_ROWS = 100_000_000


def _grid(start: pd.Timestamp, end: pd.Timestamp, freq: str, label: str) -> pd.DatetimeIndex:
    """Return every date of ``freq`` from ``start`` to ``end``, or fail on an unknown alias or a huge span."""
    try:
        first_steps = pd.date_range(start, periods=2, freq=freq)
    except (ValueError, OverflowError) as error:
        raise InputError(f"{label}: {freq!r} is not a pandas frequency ({error})") from None
    step = first_steps[1] - first_steps[0]
    if step <= pd.Timedelta(0):
        raise InputError(f"{label}: {freq!r} does not move forward in time")
    periods = (end - start) / step + 1
    if periods > MAX_CALENDAR_PERIODS:
        raise LimitError(
            f"{label}: {start.date()} .. {end.date()} at frequency {freq!r} is {periods:,.0f} periods; "
            f"at most {MAX_CALENDAR_PERIODS:,} are supported (is the frequency right?)"
        )
    return pd.date_range(start, end, freq=freq)


def fill_gaps(dataset: LongDataset, *, value: float = 0.0) -> LongDataset:
    """Return the dataset with every series' periods completed from its first to its last.

    Missing periods get ``y = value``; covariates carry the series' last known value forward; the
    name, freq and static table are kept.

    Parameters
    ----------
    dataset : LongDataset
        The panel to complete; its dates must lie on its ``freq`` (else InputError).
    value : float, default 0.0
        The target of inserted rows.
    """
    frame = dataset.df
    if frame.empty:
        return dataset
    grid = _grid(frame["ds"].min(), frame["ds"].max(), dataset.freq, dataset.name)
    position = pd.Series(grid.get_indexer(pd.Index(frame["ds"])), index=frame.index, dtype="int64")
    if bool((position < 0).any()):
        raise InputError(f"dataset {dataset.name!r}: some dates are not on its {dataset.freq!r} grid")
    # Rows are placed by position (series offset + period), not merged on (unique_id, ds): a
    # merge on string keys took most of the time of reading a store's daily history.
    codes, names = pd.factorize(frame["unique_id"], sort=True)
    at = position.to_numpy()
    first = np.full(len(names), np.iinfo(np.int64).max)
    last = np.full(len(names), -1)
    np.minimum.at(first, codes, at)
    np.maximum.at(last, codes, at)
    lengths = last - first + 1
    if (rows := int(lengths.sum())) > MAX_FILLED_ROWS:
        raise LimitError(
            f"dataset {dataset.name!r}: completing every series' periods would make {rows:,} rows; "
            f"at most {MAX_FILLED_ROWS:,} are supported"
        )
    # Position of every (series, period) pair: each series' first position plus 0, 1, 2, ...
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    positions = np.arange(rows) - starts + np.repeat(first, lengths)
    slot = (np.cumsum(lengths) - lengths)[codes] + at - first[codes]
    present_cells = np.zeros(rows, dtype=bool)
    present_cells[slot] = True
    if int(present_cells.sum()) < len(slot):
        raise InputError(f"dataset {dataset.name!r}: a series has two rows for one period")
    merged = pd.DataFrame({"unique_id": np.repeat(np.asarray(names), lengths), "ds": grid[positions]})
    merged = merged.astype({"unique_id": frame["unique_id"].dtype, "ds": frame["ds"].dtype})
    present = pd.Series(present_cells)
    for column in frame.columns.drop(["unique_id", "ds"]):
        source = frame[column]
        if source.dtype.kind in "iuf":  # numbers: NaN where absent
            values = np.full(rows, np.nan)
            values[slot] = source.to_numpy(dtype=float)
            placed = pd.Series(values)
            if source.dtype.kind in "iu" and present_cells.all():
                placed = placed.astype(source.dtype)
        else:  # anything else as objects: NaN (true/false) or None where absent
            placed = pd.Series(np.nan if source.dtype.kind == "b" else None, index=merged.index, dtype=object)
            placed.iloc[slot] = source.to_numpy()
            if present_cells.all():
                placed = placed.astype(source.dtype)
        merged[column] = placed
    merged["y"] = merged["y"].where(present, value)
    groups = merged.groupby("unique_id", sort=False)
    for column in dataset.exogenous:
        filled = merged[column].where(present, groups[column].ffill())
        if not bool(filled.isna().any()):  # integers survive the round trip through NaN
            filled = filled.astype(frame[column].dtype)
        merged[column] = filled
    return LongDataset(merged, freq=dataset.freq, name=dataset.name, static=dataset.static)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    if missing := [column for column in columns if column not in frame.columns]:
        raise SchemaError(f"{what}: missing columns {missing} — expected {list(columns)}")


def _m5_long(
    sales_wide: pd.DataFrame, calendar: pd.DataFrame, prices: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the M5 long table (without static columns) and its static table."""
    _require(sales_wide, ("id", *M5_STATIC), "M5 sales")
    _require(calendar, ("date", "wm_yr_wk", "d", "event_name_1", "event_type_1"), "M5 calendar")
    day_columns = [column for column in sales_wide.columns if str(column).startswith("d_")]
    days = calendar.assign(date=pd.to_datetime(calendar["date"], format="ISO8601")).set_index("d")
    if unknown := [column for column in day_columns if column not in days.index]:
        raise SchemaError(f"M5 calendar: no row for days {unknown[:5]} of the sales table")
    days = days.loc[day_columns].sort_values("date", kind="stable")
    day_columns = days.index.tolist()
    ids = sales_wide["id"].astype("str").str.replace(r"_(evaluation|validation)$", "", regex=True)
    if bool(ids.duplicated().any()):
        raise InputError(f"M5 sales: ids repeat, e.g. {ids[ids.duplicated()].iloc[0]!r}")
    order = np.argsort(ids.to_numpy(), kind="stable")
    sales = sales_wide.iloc[order].reset_index(drop=True)
    ids = ids.iloc[order].reset_index(drop=True)
    n_items, n_days = len(sales), len(day_columns)
    # The wide block is item-major, so its ravel is already sorted by (unique_id, ds).
    long = pd.DataFrame({"unique_id": np.repeat(ids.to_numpy(), n_days)})
    long["ds"] = np.tile(days["date"].to_numpy(), n_items)
    long["y"] = sales[day_columns].to_numpy(dtype="float64").ravel()
    if prices is not None:
        _require(prices, ("store_id", "item_id", "wm_yr_wk", "sell_price"), "M5 prices")
        try:
            table = prices.pivot(index=["store_id", "item_id"], columns="wm_yr_wk", values="sell_price")
        except ValueError as error:
            raise InputError(f"M5 prices: a (store_id, item_id, wm_yr_wk) repeats ({error})") from None
        # A trailing row and column of NaN catch the -1 of pairs and weeks without a price.
        matrix = np.pad(table.to_numpy(dtype="float64"), ((0, 1), (0, 1)), constant_values=np.nan)
        pairs = table.index.get_indexer(pd.MultiIndex.from_frame(sales[["store_id", "item_id"]]))
        weeks = table.columns.get_indexer(pd.Index(days["wm_yr_wk"]))
        long["sell_price"] = matrix[pairs][:, weeks].ravel()
    for column in ("event_name_1", "event_type_1"):
        long[column] = np.tile(days[column].to_numpy(), n_items)
    states = pd.Index(sales["state_id"].astype("str").unique())
    _require(days, tuple(f"snap_{state}" for state in states), "M5 calendar")
    snap = days[[f"snap_{state}" for state in states]].to_numpy()  # days x states
    long["snap"] = snap[:, states.get_indexer(sales["state_id"].astype("str"))].T.ravel()
    static = pd.concat([ids.rename("unique_id"), sales[list(M5_STATIC)]], axis=1)
    return _normalise(long), static.astype({"unique_id": "str"})


def m5_to_long(
    sales_wide: pd.DataFrame, calendar: pd.DataFrame, prices: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Turn the M5 competition's wide tables into one long table.

    Parameters
    ----------
    sales_wide : pandas.DataFrame
        ``sales_train_*.csv``: ``id, item_id, dept_id, cat_id, store_id, state_id, d_1 .. d_N``.
    calendar : pandas.DataFrame
        ``calendar.csv``: ``date, wm_yr_wk, d, event_name_1, event_type_1, snap_<state>`` per state.
    prices : pandas.DataFrame, optional
        ``sell_prices.csv``: ``store_id, item_id, wm_yr_wk, sell_price``; else no ``sell_price``.

    Returns
    -------
    pandas.DataFrame
        ``unique_id`` (``id`` less ``_evaluation``/``_validation``), ``ds``, ``y``,
        ``sell_price`` (NaN while not on sale), ``event_name_1``, ``event_type_1``,
        ``snap`` (the item's state's flag), ``item_id .. state_id``; sorted.

    References
    ----------
    Makridakis, S., Spiliotis, E. and Assimakopoulos, V. (2022), "M5 accuracy competition: Results,
    findings, and conclusions", International Journal of Forecasting 38(4), 1346-1364.
    """
    long, static = _m5_long(sales_wide, calendar, prices)
    days = len(long) // max(len(static), 1)  # both are sorted by unique_id, every series has every day
    return long.assign(**{column: np.repeat(static[column].to_numpy(), days) for column in M5_STATIC})


def read_m5(directory: str | os.PathLike[str]) -> LongDataset:
    """Read the M5 files of ``directory`` into a daily :class:`LongDataset`.

    Uses ``sales_train_evaluation.csv`` (else ``_validation``), ``calendar.csv`` and, when present,
    ``sell_prices.csv``; the static table holds ``item_id, dept_id, cat_id, store_id, state_id``.
    Raises InputError when the sales or the calendar file is missing.
    """
    folder = Path(directory)
    candidates = [folder / f"sales_train_{kind}.csv" for kind in ("evaluation", "validation")]
    sales_path = next((path for path in candidates if path.is_file()), None)
    if sales_path is None:
        raise InputError(f"{folder}: no sales_train_evaluation.csv or sales_train_validation.csv")
    calendar_path, prices_path = folder / "calendar.csv", folder / "sell_prices.csv"
    if not calendar_path.is_file():
        raise InputError(f"{calendar_path}: no such file")
    prices = pd.read_csv(prices_path) if prices_path.is_file() else None
    long, static = _m5_long(pd.read_csv(sales_path), pd.read_csv(calendar_path), prices)
    return LongDataset(long, freq="D", name="m5", static=static)


def shared_data_root() -> Path | None:
    """Return the folder of shared public datasets, or None when there is none.

    ``$CPFR_SHARED_DATA`` wins when set (None if it is not a directory); otherwise ``../shared/data``
    beside the repository (the folder holding ``pyproject.toml``), then beside the working directory.
    """
    if configured := os.environ.get(SHARED_DATA_ENV_VAR):
        return Path(configured).expanduser() if Path(configured).expanduser().is_dir() else None
    repos = [parent for parent in Path(__file__).resolve().parents if (parent / "pyproject.toml").is_file()]
    candidates = [folder.parent / "shared" / "data" for folder in [*repos[:1], Path.cwd()]]
    return next((path for path in candidates if path.is_dir()), None)


def _root(root: str | os.PathLike[str] | None) -> Path:
    if (found := Path(root) if root is not None else shared_data_root()) is None:
        raise InputError(f"shared data not found: set ${SHARED_DATA_ENV_VAR} to the folder of the datasets")
    return found


def load_shared(name: str, root: str | os.PathLike[str] | None = None) -> LongDataset:
    """Load one of the shared public datasets (``SHARED_DATASETS``).

    Reads ``<root>/<name>/sales.parquet`` with :func:`read_long` and moves the per-series columns to
    ``static``, joined with Dominick's store demographics (``raw/orangeJuice_storedemo.parquet``) or
    VN2's product hierarchy and store format (``raw/master.csv``), in snake_case.

    Parameters
    ----------
    name : {'dominicks_oj', 'stallion', 'vn2'}
        The dataset; frequencies are ``'W-THU'``, ``'MS'`` and ``'W-MON'``.
    root : str or os.PathLike, optional
        The shared data folder; :func:`shared_data_root` when omitted.

    Raises
    ------
    InputError
        An unknown name or an absent file.
    """
    if name not in SHARED_DATASETS:
        raise InputError(f"unknown shared dataset {name!r} — expected one of {list(SHARED_DATASETS)}")
    folder = _root(root) / name
    if not (path := folder / "sales.parquet").is_file():
        raise InputError(f"{path}: no such file (shared dataset {name!r})")
    freq, static_columns, raw_static = _SHARED[name]
    dataset = read_long(path, freq=freq, name=name)
    static = dataset.df[["unique_id", *static_columns]].drop_duplicates("unique_id").reset_index(drop=True)
    extra_path = folder / "raw" / raw_static
    if raw_static and extra_path.is_file():
        extra = pd.read_parquet(extra_path) if extra_path.suffix == ".parquet" else pd.read_csv(extra_path)
        # snake_case, as the rest of cpfr: ProductGroup -> product_group, AGE60 -> age60
        extra.columns = [re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(c)).lower() for c in extra.columns]
        keys = [column for column in ("store", "product") if column in static_columns]
        static = static.merge(extra, on=keys, how="left", validate="many_to_one")
    frame = dataset.df.drop(columns=list(static_columns))
    return LongDataset(frame, freq=dataset.freq, name=name, static=static)


def load_jd_sku_master(root: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Return the JD.com MSOM 2020 SKU master (31,868 SKUs, March 2018).

    ``<root>/jd_msom/raw/JD_sku_data.parquet``: ``sku_ID``, ``type`` (1 = 1P, 2 = 3P), ``brand_ID``,
    ``attribute1/2`` ("-" = missing), ``activate_date``, ``deactivate_date`` (NaT = all month).
    Raises InputError when the file is absent, SchemaError when a column is.
    """
    if not (path := _root(root) / "jd_msom" / "raw" / "JD_sku_data.parquet").is_file():
        raise InputError(f"{path}: no such file (JD SKU master)")
    frame = pd.read_parquet(path)
    _require(frame, JD_SKU_COLUMNS, str(path))
    return frame
