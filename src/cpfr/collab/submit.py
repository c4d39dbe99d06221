"""A partner submits its own forecast (VICS CPFR task 3): validated like any ingest, all or nothing.

The file (CSV, Excel or Parquet) is long format, either ``sku_id, channel_id, ds, units`` or
Nixtla's ``unique_id, ds, y`` with ``unique_id = "<sku_id>@<channel_id>"``.
``ds`` is the Monday a forecast week starts. Beyond the table's own rules
(numbers, dates, known SKUs and channels) a submission must keep to the
partner's arrangement: SKUs the partner owns, channels in its scope, weeks
inside its agreement. Every problem is reported with the file, row and
column, and nothing is stored unless the whole file is right.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cpfr.collab.arrangement import Arrangement
from cpfr.data.sources import open_source
from cpfr.data.store import Store
from cpfr.exceptions import InputError, Problem, SchemaError, ValidationError

COLUMNS = ("sku_id", "channel_id", "ds", "units")


@dataclass(frozen=True)
class Submission:
    """What a submission stored: rows, weeks and SKUs, and rows that replaced earlier ones."""

    partner_id: str
    rows: int
    replaced: int
    weeks: int
    skus: int
    first_week: dt.date
    last_week: dt.date


def submit_partner_forecast(
    store: Store, path: Path, arrangement: Arrangement, *, submitted_on: dt.date | None = None
) -> Submission:
    """Validate ``path`` against the table and ``arrangement``, then store it in ``partner_forecasts``."""
    frame, rows, label = _read(path)
    frame = _normalise(frame, label)
    problems = _problems(store, frame, arrangement, label, rows)
    if problems:
        raise ValidationError(problems[:50], total=len(problems))
    frame = frame.assign(
        partner_id=arrangement.partner_id,
        ds=pd.to_datetime(frame["ds"]).dt.date,
        units=pd.to_numeric(frame["units"]),
        submitted_on=submitted_on or dt.date.today(),
    )
    with tempfile.TemporaryDirectory() as scratch:
        staged = Path(scratch) / "partner_forecasts.parquet"
        frame[["partner_id", *COLUMNS, "submitted_on"]].to_parquet(staged, index=False)
        try:
            result = store.ingest(open_source(staged), "partner_forecasts")
        except ValidationError as error:  # the table's own rules: name the user's file, not the staging copy
            raise ValidationError(
                [
                    dataclasses.replace(p, file=label, row=int(rows[p.row - 1]) if p.row >= 1 else 0)
                    for p in error.problems
                ],
                total=error.total,
            ) from None
    weeks = pd.to_datetime(frame["ds"])
    return Submission(
        arrangement.partner_id,
        result.rows,
        result.replaced,
        int(weeks.nunique()),
        int(frame["sku_id"].nunique()),
        weeks.min().date(),
        weeks.max().date(),
    )


def _read(path: Path) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Return the file's rows, the row number a person sees for each, and the name problems go under."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        # A workbook is read as the ingester reads it (the sheet named partner_forecasts, else the
        # first): cells as text, refused cells reported, rows numbered as Excel shows them.
        source = open_source(path, table="partner_forecasts")
        frame, rows = source.read_frame()
        return frame.replace({"": None}), rows, source.label
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype={"sku_id": str, "channel_id": str, "unique_id": str})
            return frame, np.arange(2, len(frame) + 2), str(path)
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
            return frame, np.arange(1, len(frame) + 1), str(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (ValueError, OSError) as error:
        raise InputError(f"{path}: cannot be read: {error}") from None
    raise InputError(f"{path}: unknown file type {suffix!r} — expected .csv, .xlsx or .parquet")


def _normalise(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Return ``sku_id, channel_id, ds, units`` from either accepted layout."""
    if {"unique_id", "ds", "y"} <= set(frame.columns) and "sku_id" not in frame.columns:
        parts = frame["unique_id"].astype(str).str.split("@", n=1, expand=True).reindex(columns=[0, 1])
        return pd.DataFrame(
            {"sku_id": parts[0], "channel_id": parts[1], "ds": frame["ds"], "units": frame["y"]}
        ).reset_index(drop=True)
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise SchemaError(
            f"{label}:1:{missing[0]}: missing — a partner forecast needs {', '.join(COLUMNS)} "
            "(or unique_id = sku_id@channel_id, ds, y)"
        )
    return frame[list(COLUMNS)].reset_index(drop=True)


def _problems(
    store: Store, frame: pd.DataFrame, arrangement: Arrangement, label: str, row_numbers: np.ndarray
) -> list[Problem]:
    """Check every row against the arrangement and the basic rules; return what is wrong."""
    owners = store.read_table("products").set_index("sku_id")["partner_id"]
    problems: list[Problem] = []

    def flag(rows: np.ndarray, column: str, expected: str) -> None:
        for position in rows[:50]:
            value = frame[column].iloc[position]
            shown = None if pd.isna(value) else str(value)
            problems.append(Problem(label, int(row_numbers[position]), column, shown, expected))

    sku = frame["sku_id"].astype("string")
    unknown = ~sku.isin(owners.index).fillna(False).to_numpy()
    flag(np.flatnonzero(unknown), "sku_id", "a SKU of the store's products")
    foreign = ~unknown & (sku.map(owners) != arrangement.partner_id).fillna(True).to_numpy()
    flag(np.flatnonzero(foreign), "sku_id", f"a SKU {arrangement.partner_id} owns")
    channels = frame["channel_id"].astype("string")
    outside = ~channels.isin(arrangement.channels).fillna(False).to_numpy()
    flag(
        np.flatnonzero(outside),
        "channel_id",
        f"a channel of the arrangement ({', '.join(arrangement.channels)})",
    )
    days = pd.to_datetime(frame["ds"], errors="coerce")
    flag(np.flatnonzero(days.isna().to_numpy()), "ds", "a date YYYY-MM-DD")
    valid = days.notna().to_numpy()
    not_monday = valid & (days.dt.dayofweek != 0).to_numpy()
    flag(np.flatnonzero(not_monday), "ds", "the Monday a forecast week starts")
    start, end = pd.Timestamp(arrangement.start), pd.Timestamp(arrangement.end)
    out_of_term = valid & ((days < start) | (days > end)).to_numpy()
    flag(
        np.flatnonzero(out_of_term),
        "ds",
        f"a week inside agreement {arrangement.agreement_id} ({start.date()} .. {end.date()})",
    )
    units = pd.to_numeric(frame["units"], errors="coerce")
    bad_units = (units.isna() | ~np.isfinite(units.fillna(0.0)) | (units < 0)).to_numpy()
    flag(np.flatnonzero(bad_units), "units", "a number of units >= 0")
    keys = frame.assign(ds=days)[["sku_id", "channel_id", "ds"]]
    flag(np.flatnonzero(keys.duplicated().to_numpy()), "ds", "one row per SKU, channel and week")
    return sorted(problems, key=lambda problem: (problem.row, problem.column))
