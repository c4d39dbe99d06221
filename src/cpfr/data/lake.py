"""Parquet datasets partitioned by partner and category: the store's data handed to a data lake and back.

:func:`write_partitioned` writes a table as a Hive-style dataset (``partner_id=XIAOMI/
category_id=PHONE/part-0.parquet``), the layout Spark, DuckDB and Athena read as one table and
prune by folder; a column the table lacks but its SKUs have (``category_id`` of ``sales``) is
taken from ``products``. :func:`open_dataset` reads such a folder back for ``cpfr ingest``, the
partition columns the table does not hold dropped, so the rows validate like a single file.
pyarrow's dataset writer does the partitioning (no hand-written file layout).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from cpfr.data import schema
from cpfr.data.sources import ROW_COLUMN, SourceFile
from cpfr.data.store import Store
from cpfr.exceptions import InputError, Problem, ValidationError


def write_partitioned(
    store: Store, table: str, folder: Path, by: Sequence[str], *, partner_id: str | None = None
) -> int:
    """Write ``table`` under ``folder`` partitioned by the columns ``by``; return the rows written.

    Raises
    ------
    InputError
        ``folder`` exists and is not empty, or a partition column is neither the table's nor
        one its SKUs carry in ``products``.
    """
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(
            f"{folder}: exists and is not an empty folder — a partitioned export writes a new one"
        )
    frame = store.read_table(table, partner_id=partner_id)
    columns = list(frame.columns)
    missing = [column for column in by if column not in frame.columns]
    if missing:
        products = store.read_table("products", partner_id=partner_id)
        if "sku_id" not in frame.columns or any(column not in products.columns for column in missing):
            raise InputError(
                f"--partition-by {','.join(by)}: {table} has no column {', '.join(missing)} "
                f"(its columns: {', '.join(frame.columns)})"
            )
        frame = frame.merge(products[["sku_id", *missing]], on="sku_id", how="left")
    for column in by:
        # Partition values name folders: text, with an empty value as the Hive default.
        frame[column] = frame[column].astype("string").fillna("__HIVE_DEFAULT_PARTITION__")
    data = pa.Table.from_pandas(frame[[*columns, *missing]], preserve_index=False)
    partitioning = ds.partitioning(pa.schema([(column, pa.string()) for column in by]), flavor="hive")
    ds.write_dataset(
        data,
        folder,
        format="parquet",
        partitioning=partitioning,
        existing_data_behavior="error",
        basename_template="part-{i}.parquet",
    )
    return data.num_rows


def open_dataset(path: Path, table: str | None) -> SourceFile:
    """Open a Hive-partitioned Parquet folder as one source for ``table`` (partition-only columns dropped).

    Raises
    ------
    ValidationError
        The folder holds no readable Parquet rows.
    """
    label = str(path)
    try:
        dataset = ds.dataset(path, format="parquet", partitioning="hive")
        data = dataset.to_table()
    except (pa.ArrowException, OSError) as error:
        raise ValidationError(
            [Problem(label, 0, "", None, f"a readable Parquet dataset ({error})")]
        ) from None
    if data.num_rows == 0:
        raise ValidationError([Problem(label, 0, "", None, "at least one data row (the dataset has none)")])
    known = (
        {column.name for column in schema.table(table).columns} if table in schema.TABLES_BY_NAME else None
    )
    partition_only = [name for name in data.column_names if known is not None and name not in known]
    data = data.drop_columns(partition_only)
    for index, field in enumerate(data.schema):
        if pa.types.is_dictionary(field.type):  # partition columns come back dictionary-encoded
            data = data.set_column(index, field.name, data.column(index).cast(pa.string()))
    rows = pa.array(range(1, data.num_rows + 1), type=pa.int64())
    names = tuple(data.column_names)
    # No single file to hash: the ingest log hashes the rows themselves.
    return SourceFile(None, label, "dataset", names, 0, data.append_column(ROW_COLUMN, rows), data.num_rows)
