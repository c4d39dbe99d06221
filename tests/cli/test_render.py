"""The terminal summary: the package's one formatter, names beside codes when the caller has them."""

from __future__ import annotations

from rich.console import Console

from cpfr.cli.render import render_summary
from cpfr.collab.cycle import Names
from cpfr.data.store import Store
from cpfr.targets import alliance_summary


def printed(store: Store, names: Names | None = None) -> str:
    console = Console(record=True, width=100, color_system=None)
    render_summary(alliance_summary(store), console, names=names)
    return console.export_text()


def test_the_summary_formats_money_and_shares_with_the_one_formatter(store: Store) -> None:
    text = printed(store)
    xiaomi = next(line for line in text.splitlines() if line.strip().startswith("XIAOMI"))
    assert xiaomi.split()[3:6] == ["¥100k", "¥19.4k", "19%"]
    assert "¥0.0" not in text  # zero reads ¥0, as in the report


def test_with_names_categories_and_partners_read_by_name(store: Store) -> None:
    text = printed(store, Names.of(store))
    assert "3C digital (3C)" in text
    assert "Xiaomi" in text.split("GMV to date by category")[1].splitlines()[1]  # the partner column
    assert "units Home appliances online" in text  # the target reads its category's name
    assert "3C digital (3C)" not in printed(store)
