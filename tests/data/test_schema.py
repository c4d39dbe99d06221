"""The schema: its README section stays in sync, tables come in dependency order."""

from __future__ import annotations

from pathlib import Path

from cpfr.data import schema

README = Path(__file__).parents[2] / "README.md"


def test_readme_data_model_is_generated_from_the_schema() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- data-model:start -->\n", 1)[1].split("<!-- data-model:end -->", 1)[0]
    assert section == schema.data_model_markdown()


def test_tables_only_reference_earlier_tables_or_themselves() -> None:
    seen: set[str] = {"sites"}  # the view of locations and warehouses, created with the facts
    for spec in schema.TABLES:
        seen.add(spec.name)
        for column in spec.columns:
            if column.references is not None:
                assert column.references.table in seen, (spec.name, column.name)


def test_every_table_has_a_partner_and_a_key() -> None:
    for spec in schema.TABLES:
        assert "partner_id" in {column.name for column in spec.columns}, spec.name
        assert spec.key, spec.name


def test_expected_describes_bounds_and_choices() -> None:
    units = schema.table("sales").column("units")
    assert units.expected() == "a whole number between 0 and 1,000,000,000"
    kind = schema.table("locations").column("kind")
    assert kind.expected() == "one of online_zone, store, warehouse"
