"""Versioned schema migrations, declared as data.

Each migration names what it creates (tables, columns added to existing
tables, views); the store backend turns that into its own DDL inside one
transaction and records the version in ``schema_migrations``. Migrations are
append-only: a released one is never edited, a change is a new one. Column
lists come from :mod:`cpfr.data.schema` filtered by ``added_in``, so a table
created at version 1 gets exactly the columns it had at version 1 and later
columns arrive through the migration that adds them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpfr.data import schema


@dataclass(frozen=True)
class Migration:
    """One step of the schema.

    Attributes
    ----------
    version : int
        Schema version reached once applied (1, 2, 3, ...).
    description : str
        What the step does, recorded in the store.
    create_tables : tuple of str
        Tables created, with their columns as of ``version``.
    add_columns : tuple of (table, column)
        Columns added to tables created by earlier migrations.
    create_views : tuple of str
        Named views the backend knows how to build (see the backend).
    rename_columns : tuple of (table, old name, new name)
        Columns renamed, keeping their data.
    """

    version: int
    description: str
    create_tables: tuple[str, ...] = ()
    add_columns: tuple[tuple[str, str], ...] = ()
    create_views: tuple[str, ...] = ()
    rename_columns: tuple[tuple[str, str, str], ...] = ()


def _tables_added_in(version: int) -> tuple[str, ...]:
    return tuple(table.name for table in schema.TABLES if table.added_in == version)


def _columns_added_in(version: int) -> tuple[tuple[str, str], ...]:
    return tuple(
        (table.name, column.name)
        for table in schema.TABLES
        if table.added_in < version
        for column in table.columns
        if column.added_in == version
    )


def _columns_renamed_in(version: int) -> tuple[tuple[str, str, str], ...]:
    return tuple(
        (table.name, column.former_name, column.name)
        for table in schema.TABLES
        for column in table.columns
        if column.renamed_in == version and column.former_name is not None
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "alliance reference data: partners, agreements, targets, products, channels, sites",
        _tables_added_in(1),
    ),
    Migration(
        2,
        "facts: sales, inventory, orders, promotions, partner forecasts",
        _tables_added_in(2),
        create_views=("sites",),
    ),
    Migration(3, "ingest audit log; products.is_c2m", _tables_added_in(3), add_columns=_columns_added_in(3)),
    Migration(4, "forecast runs and probabilistic forecasts", _tables_added_in(4)),
    Migration(5, "consensus overrides: the audit trail of the CPFR consensus", _tables_added_in(5)),
    Migration(
        6,
        "plan results (runs, targets, gaps, exceptions, consensus, orders, KPIs), forecast accuracy; "
        "forecast quantiles named q0.05 .. q0.95",
        _tables_added_in(6),
        add_columns=_columns_added_in(6),
        rename_columns=_columns_renamed_in(6),
    ),
    Migration(
        7,
        "the shared service: users and API keys, the audit trail, jobs, exception notes, "
        "consensus proposals and order edits",
        _tables_added_in(7),
    ),
    Migration(
        8,
        "the logistics cost model: parcel rates, logistics settings, baskets; products.weight_kg, "
        "products.volume_l, warehouses.capacity_volume_l",
        _tables_added_in(8),
        add_columns=_columns_added_in(8),
    ),
    Migration(9, "the platform's consumer signal: searches", _tables_added_in(9)),
)

LATEST_VERSION = MIGRATIONS[-1].version
