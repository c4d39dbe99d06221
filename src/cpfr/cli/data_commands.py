"""Commands that move data in and out of the store: ingest, export, db."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cpfr.cli.common import DEFAULT_WAIT_SECONDS, DbOption, PathArgument, WaitOption, console, reported_errors
from cpfr.cli.flags import partition_columns
from cpfr.data import schema
from cpfr.data.ingest import ingest_file
from cpfr.data.store import open_store
from cpfr.exceptions import InputError

db_app = typer.Typer(help="Inspect and migrate the store.", no_args_is_help=True)


def ingest(
    file: PathArgument,
    table: Annotated[str, typer.Option("--table", help=f"Target table: {', '.join(schema.USER_TABLES)}.")],
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count; write nothing.")] = False,
    create: Annotated[bool, typer.Option("--create", help="Create the store if there is none yet.")] = False,
) -> None:
    """Validate FILE and upsert it into TABLE, all or nothing."""
    with reported_errors(), open_store(db, mode="create" if create else "write", wait_seconds=wait) as store:
        result = ingest_file(store, file, table, dry_run=dry_run)
    verb = "would ingest" if dry_run else "ingested"
    console.print(
        f"{verb} {result.rows:,} rows into {result.table} ({result.inserted:,} new, "
        f"{result.replaced:,} replaced) in {result.seconds:.2f} s",
        highlight=False,
    )


def export(
    table: Annotated[str, typer.Argument(help="Table to export.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output .parquet, .csv or .xlsx file.")],
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
    partner: Annotated[
        str | None, typer.Option("--partner", help="Only this partner's rows (and platform-shared ones).")
    ] = None,
    partition_by: Annotated[
        str | None,
        typer.Option(
            "--partition-by",
            help="Write a Parquet dataset into the folder --output, partitioned by these columns "
            "(e.g. partner_id,category_id; category_id comes from the SKU where the table lacks it).",
        ),
    ] = None,
    raw_csv: Annotated[
        bool,
        typer.Option(
            "--raw-csv",
            help=(
                "Keep CSV text cells as stored (by default a cell starting with = + - @ gets a leading '). "
                "An .xlsx export always writes such cells as text, unchanged."
            ),
        ),
    ] = False,
) -> None:
    """Write TABLE to a Parquet, CSV or Excel file (one sheet named like the table) or a dataset folder."""
    if partition_by is not None:
        from cpfr.data.lake import write_partitioned

        with reported_errors(), open_store(db, mode="read", wait_seconds=wait) as store:
            columns = partition_columns(partition_by)
            rows = write_partitioned(store, table, output, columns, partner_id=partner)
        console.print(
            f"wrote {rows:,} rows of {table} to {output}/ partitioned by {', '.join(columns)}",
            highlight=False,
        )
        return
    with reported_errors():
        if output.suffix.lower() not in (".parquet", ".csv", ".xlsx"):
            raise InputError(
                f"{output}: unknown file type {output.suffix!r} — expected .parquet, .csv or .xlsx"
            )
    with reported_errors(), open_store(db, mode="read", wait_seconds=wait) as store:
        if output.suffix.lower() == ".xlsx":
            # Excel is written above the store: the store reads rows, the report layer lays out sheets.
            from cpfr.report.workbook import write_workbook

            frame = store.read_table(table, partner_id=partner)
            write_workbook(output, {table: frame})
            rows = len(frame)
        else:
            rows = store.export(table, output, partner_id=partner, spreadsheet_safe=not raw_csv)
    console.print(f"wrote {rows:,} rows of {table} to {output}", highlight=False)


@db_app.command("info")
def info(db: DbOption = None, wait: WaitOption = DEFAULT_WAIT_SECONDS) -> None:
    """Tables, row counts and date ranges per partner."""
    with reported_errors(), open_store(db, mode="read", wait_seconds=wait) as store:
        infos = store.table_info()
        version = store.schema_version()
        location = store.location
    view = Table(title=f"{location} — schema version {version}")
    for name in ("table", "partner", "rows", "first date", "last date"):
        view.add_column(name, justify="right" if name == "rows" else "left")
    for entry in infos:
        if not entry.by_partner:
            view.add_row(entry.table, "", "0", "", "")
        for partner, rows, first, last in entry.by_partner:
            view.add_row(entry.table, partner or "(shared)", f"{rows:,}", str(first or ""), str(last or ""))
    console.print(view)


@db_app.command("init")
def init(db: DbOption = None, wait: WaitOption = DEFAULT_WAIT_SECONDS) -> None:
    """Create an empty store (or bring an existing one to this cpfr's schema)."""
    with reported_errors(), open_store(db, mode="create", wait_seconds=wait) as store:
        version = store.schema_version()
        location = store.location
    console.print(f"store ready: {location} (schema version {version})", highlight=False)


@db_app.command("migrate")
def migrate(
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
    create: Annotated[bool, typer.Option("--create", help="Create the store if there is none yet.")] = False,
) -> None:
    """Bring the store's schema to this cpfr's version."""
    with (
        reported_errors(),
        open_store(db, mode="create" if create else "write", wait_seconds=wait, migrate=False) as store,
    ):
        applied = store.migrate()
        version = store.schema_version()
    console.print(
        f"applied migrations {applied}; schema version {version}"
        if applied
        else f"up to date (version {version})"
    )
