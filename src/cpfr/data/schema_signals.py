"""The platform's consumer signal: what shoppers search for and look at (schema version 9).

* ``searches`` — weekly searches and product views of one attribute value (``storage_gb`` =
  ``512``) in one price band of a leaf category, by city tier. It is the platform's demand signal
  before any sale: a cell consumers search a lot while few or no SKUs are offered there is unmet
  demand, the raw material of C2M (:mod:`cpfr.c2m.gaps`). Rows carry no SKU, so no brand owns
  them: they are the platform's own consumer data (empty ``partner_id``), platform-private (a
  partner-scoped handle reads none of them, see :mod:`cpfr.data.store.scoped`); a brand sees them
  only through the gap finder's aggregates of its own categories.

An attribute's value is stored as text in one spelling, :func:`attribute_text`: strings as they
are, numbers and booleans as JSON writes them (``512``, ``6.67``, ``1.0``, ``true``), so a value
read from a product's JSON ``attributes`` matches the same value in ``searches``.
"""

from __future__ import annotations

import json

from cpfr.data.schema_types import MAX_COUNT, Column, Reference, Table, partner_column


def attribute_text(value: object) -> str:
    """Spell an attribute value as ``searches.value`` stores it.

    Parameters
    ----------
    value : object
        A value of a product's JSON ``attributes`` (str, int, float or bool).

    Returns
    -------
    str
        Strings unchanged; anything else as JSON writes it.

    Examples
    --------
    >>> [attribute_text(value) for value in ("Mini LED", 512, 6.67, 1.0, True)]
    ['Mini LED', '512', '6.67', '1.0', 'true']
    """
    return value if isinstance(value, str) else json.dumps(value)


SEARCHES = Table(
    "searches",
    "Searches and product views in one week for an attribute value x price band of a leaf "
    "category, in one city tier (the platform's consumer signal).",
    (
        Column("week", "date", "Monday of the week", key=True, required=True),
        Column(
            "category_id",
            "text",
            "leaf category searched",
            key=True,
            required=True,
            references=Reference("categories", "category_id"),
        ),
        Column(
            "attribute",
            "text",
            "attribute searched for, as in products.attributes (e.g. storage_gb)",
            key=True,
            required=True,
            identifier=False,
            max_length=100,
        ),
        Column(
            "value",
            "text",
            "its value: text as is, numbers and booleans as JSON (512, 6.67, true)",
            key=True,
            required=True,
            identifier=False,
            max_length=200,
        ),
        Column(
            "price_band",
            "text",
            "price band searched or filtered on, as in products.price_band (e.g. 2000-2999)",
            key=True,
            required=True,
            identifier=False,
            max_length=100,
        ),
        Column(
            "city_tier",
            "int",
            "city tier of the shoppers, 1-5",
            key=True,
            required=True,
            minimum=1,
            maximum=5,
        ),
        Column("searches", "int", "searches matching the cell", required=True, minimum=0, maximum=MAX_COUNT),
        Column(
            "views",
            "int",
            "product-page views from those searches",
            required=True,
            minimum=0,
            maximum=MAX_COUNT,
        ),
        partner_column(doc="empty: the platform's own consumer data (platform-private)"),
    ),
    kind="fact",
    date_column="week",
    added_in=9,
)

SIGNAL_TABLES: tuple[Table, ...] = (SEARCHES,)
