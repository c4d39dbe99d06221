"""PostgreSQL DDL of the data model: tables, migrations' steps and the partners' row-level security.

Choices, and why:

- Text columns use the ``C`` collation: keys sort byte by byte as in DuckDB
  (so both backends return rows in the same order) whatever the database's
  locale, and comparisons skip the locale's rules.
- Tables get a PRIMARY KEY: PostgreSQL's B-tree finds the stored rows of a
  file's keys (the upsert's DELETE, the merge of columns a file lacks) without
  a scan. The ingester still rejects duplicate keys itself, with the row
  numbers a person needs.
- Row-level security on every table with a ``partner_id``, FORCEd so that it
  holds for the owner too: a connection bound to a partner (the setting
  ``cpfr.partner_id``) sees and writes only that partner's rows and the
  platform-shared ones, even through raw SQL. Superusers and roles with
  BYPASSRLS skip every policy: cpfr must connect as an ordinary role.
"""

from __future__ import annotations

from psycopg import sql

from cpfr.data import schema
from cpfr.data.migrations import Migration
from cpfr.data.store.sql import VIEWS

PG_TYPES = {
    "text": "text",
    "int": "bigint",
    "float": "double precision",
    "date": "date",
    "bool": "boolean",
}
PARTNER_SETTING = "cpfr.partner_id"
POLICY = "cpfr_partner_rows"
# The rows a connection may see and write: all of them when it is bound to no partner, else the
# platform-shared rows and its partner's. current_setting(..., true) is NULL when never set; each
# sits in a scalar subquery so PostgreSQL evaluates it once per query (an InitPlan), not per row.
_PARTNER_RULE = (
    "(SELECT coalesce(current_setting('cpfr.partner_id', true), '')) = ''"
    " OR partner_id IS NULL OR partner_id = (SELECT current_setting('cpfr.partner_id', true))"
)

SCHEMA_MIGRATIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version integer NOT NULL, description text NOT NULL, applied_at timestamp NOT NULL)"
)


def _column_type(column: schema.Column) -> sql.Composable:
    collate = ' COLLATE "C"' if column.type == "text" else ""
    return sql.SQL(PG_TYPES[column.type] + collate)


def _default(column: schema.Column) -> sql.Composable:
    if column.default is None:
        return sql.SQL("")
    return sql.SQL(" DEFAULT CAST({} AS {})").format(
        sql.Literal(column.default), sql.SQL(PG_TYPES[column.type])
    )


def create_table(spec: schema.Table, version: int) -> sql.Composed:
    """Return the CREATE TABLE of ``spec`` with its columns as of schema ``version``."""
    columns, key_names = [], []
    for column in spec.columns_at(version):
        if column.key:
            key_names.append(column.name)
        not_null = sql.SQL(" NOT NULL" if column.key or column.required else "")
        columns.append(
            sql.SQL("{} {}{}{}").format(
                sql.Identifier(column.name), _column_type(column), not_null, _default(column)
            )
        )
    key = sql.SQL(", ").join(sql.Identifier(name) for name in key_names)
    return sql.SQL("CREATE TABLE {} ({}, PRIMARY KEY ({}))").format(
        sql.Identifier(spec.name), sql.SQL(", ").join(columns), key
    )


def migration_statements(migration: Migration) -> list[sql.SQL | sql.Composed]:
    """Return the DDL of one migration, ending with the partner policy of every table at its version."""
    statements: list[sql.SQL | sql.Composed] = [sql.SQL(SCHEMA_MIGRATIONS_DDL)]
    for name in migration.create_tables:
        statements.append(create_table(schema.table(name), migration.version))
    for table_name, column_name in migration.add_columns:
        column = schema.table(table_name).column(column_name)
        statements.append(
            sql.SQL("ALTER TABLE {} ADD COLUMN {} {}{}").format(
                sql.Identifier(table_name),
                sql.Identifier(column.name),
                _column_type(column),
                _default(column),
            )
        )
    for table_name, old_name, new_name in migration.rename_columns:
        statements.append(
            sql.SQL("ALTER TABLE {} RENAME COLUMN {} TO {}").format(
                sql.Identifier(table_name), sql.Identifier(old_name), sql.Identifier(new_name)
            )
        )
    for view in migration.create_views:
        statements.append(sql.SQL(VIEWS[view]))
    for spec in schema.TABLES:
        if spec.added_in <= migration.version and any(
            column.name == "partner_id" for column in spec.columns_at(migration.version)
        ):
            statements += partner_policy(spec.name)
    return statements


def partner_policy(table: str) -> list[sql.SQL | sql.Composed]:
    """Return the statements that (re)create the partner policy of ``table``: safe to run again."""
    name, policy = sql.Identifier(table), sql.Identifier(POLICY)
    rule = sql.SQL(_PARTNER_RULE)
    return [
        sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(name),
        sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(name),
        sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(policy, name),
        sql.SQL("CREATE POLICY {} ON {} USING ({}) WITH CHECK ({})").format(policy, name, rule, rule),
    ]
