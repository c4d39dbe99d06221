"""``cpfr plan --partner P``: a report and workbook holding P's data and nothing of any other partner's."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import Result

from cpfr.data.demo import DemoConfig, generate_scenario
from cpfr.data.store import Store
from tests.conftest import demo_store

Cli = Callable[..., Result]
SHEETS = {
    "targets",
    "target_gaps",
    "exceptions",
    "consensus",
    "order_forecast",
    "kpis",
    "platform_forecast",
    "price_bands",
    "network_orders",
    "tradein_uplift",
    "tradein_budget",
    "c2m_gaps",
}
FAST_MODELS = ("--model", "seasonal_naive,window_average")  # as the cycle test: seconds, not minutes


@pytest.fixture(scope="module")
def plan_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = demo_store(generate_scenario(DemoConfig.small()), tmp_path_factory.mktemp("plan"))
    yield store
    store.close()


def _foreign(store: Store, partner_id: str) -> re.Pattern[str]:
    """Match any other partner's id or name, or any SKU id or name that is not ``partner_id``'s."""
    partners = store.read_table("partners")
    products = store.read_table("products")
    others = partners[partners["partner_id"] != partner_id]
    foreign_products = products[products["partner_id"] != partner_id]
    words = {*others["partner_id"], *others["name"], *foreign_products["sku_id"], *foreign_products["name"]}
    assert {"MIDEA", "Midea", "LENOVO"} <= words and len(foreign_products) > 10
    return re.compile("|".join(rf"\b{re.escape(str(word))}\b" for word in sorted(words)), re.IGNORECASE)


def _cells(path: Path) -> dict[str, list[str]]:
    book = load_workbook(path, read_only=True)
    try:
        return {
            sheet.title: [
                str(value) for row in sheet.iter_rows(values_only=True) for value in row if value is not None
            ]
            for sheet in book.worksheets
        }
    finally:
        book.close()


def test_a_partners_plan_holds_its_data_and_no_other_partners(
    plan_store: Store, tmp_path: Path, cli: Cli
) -> None:
    out = tmp_path / "xiaomi"
    result = cli("plan", "--db", plan_store.location, "--out", out, "--partner", "XIAOMI", *FAST_MODELS)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.glob("*.xlsx")) == ["plan_XIAOMI.xlsx"]
    cells = _cells(out / "plan_XIAOMI.xlsx")
    assert set(cells) == SHEETS
    foreign = _foreign(plan_store, "XIAOMI")
    for sheet, texts in cells.items():
        leaked = sorted({match.group(0) for text in texts for match in foreign.finditer(text)})
        assert not leaked, f"{sheet} names {leaked}"
    html = (out / "report.html").read_text(encoding="utf-8")
    leaked = sorted({match.group(0) for match in foreign.finditer(html)})
    assert not leaked, f"report.html names {leaked}"
    # What is there is Xiaomi's: its rows, its SKUs, and the other brands only as one aggregate.
    xiaomi_skus = set(plan_store.read_table("products", partner_id="XIAOMI")["sku_id"])
    for sheet in ("exceptions", "consensus", "network_orders", "platform_forecast", "order_forecast"):
        assert set(cells[sheet]) & xiaomi_skus, sheet
    assert "XIAOMI" in cells["targets"] and "XIAOMI" in cells["kpis"]
    assert "other brands" in cells["price_bands"] and "Xiaomi" in html and "CPFR plan for Xiaomi" in html
    # The whole plan was still saved in the store, with every partner's rows.
    assert set(plan_store.read_table("plan_kpis")["partner_id"]) >= {"XIAOMI", "MIDEA", "LENOVO"}


def test_the_whole_plan_writes_a_workbook_with_every_partner(
    plan_store: Store, tmp_path: Path, cli: Cli
) -> None:
    out = tmp_path / "all"
    result = cli("plan", "--db", plan_store.location, "--out", out, "--no-network", *FAST_MODELS)
    assert result.exit_code == 0, result.output
    cells = _cells(out / "plan.xlsx")
    assert set(cells) == SHEETS - {"network_orders"}
    # The scan above would have caught other partners: here they are, in the same sheets.
    assert _foreign(plan_store, "XIAOMI").search(" ".join(cells["targets"] + cells["price_bands"]))
    assert {"MIDEA", "LENOVO", "XIAOMI"} <= set(cells["kpis"])


def test_an_unknown_partner_is_refused_before_the_cycle_runs(
    plan_store: Store, tmp_path: Path, cli: Cli
) -> None:
    result = cli("plan", "--db", plan_store.location, "--out", tmp_path / "x", "--partner", "NOKIA")
    assert result.exit_code == 2
    assert "unknown partner — expected one of BYD, JOMOO, LENOVO, MIDEA, XIAOMI" in result.output
    assert not (tmp_path / "x").exists()
