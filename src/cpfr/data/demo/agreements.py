"""Alliance agreements and their targets, set from what the true demand model expects.

Each partner signs one 2024-2026 agreement. Its targets are the expected
GMV (or units) of the true demand model over the target period — including
the months after the sales history ends — times an ambition factor drawn in
0.9-1.15, the way a platform and a brand agree a stretch on top of the plan:

- whole-alliance GMV over three years, and one GMV target per year that
  splits it in proportion to expected GMV (so the years add up exactly);
- Xiaomi smart-wear units over three years;
- Midea GMV on JD online, per year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.data.demo.catalog import LEAF_BY_ID, PARTNERS, Catalog
from cpfr.data.demo.demand import DemandModel

AGREEMENT_START = dt.date(2024, 1, 1)
AGREEMENT_END = dt.date(2026, 12, 31)
AMBITION_RANGE = (0.9, 1.15)


@dataclass(frozen=True)
class AllianceTargets:
    """The ``agreements`` and ``targets`` tables with the truth behind each target.

    Attributes
    ----------
    agreements, targets : pandas.DataFrame
        The tables.
    ambition_factors : dict of str to float
        Target value divided by expected value, per target id.
    expected : dict of str to float
        Expected value under the true demand model, per target id.
    """

    agreements: pd.DataFrame
    targets: pd.DataFrame
    ambition_factors: dict[str, float]
    expected: dict[str, float]


def expected_by_series(
    model: DemandModel, list_price: np.ndarray, start: dt.date, end: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """Return expected units and GMV (yuan) of every series over ``[start, end]``.

    Parameters
    ----------
    model : DemandModel
        The true demand model; its days must cover the period.
    list_price : numpy.ndarray
        ``(n_skus,)`` list prices.
    start, end : datetime.date
        First and last day of the period.

    Returns
    -------
    units, gmv : numpy.ndarray
        ``(n_series,)`` sums of mean demand and of mean demand times paid price.
    """
    rows = slice(
        int((np.datetime64(start, "D") - model.days[0]).astype(np.int64)),
        int((np.datetime64(end, "D") - model.days[0]).astype(np.int64)) + 1,
    )
    mean = model.mean[rows]
    return mean.sum(axis=0), (mean * model.paid_price(list_price, rows)).sum(axis=0)


def _amount(value: float, unit: str) -> str:
    if value >= 1e9:
        return f"{value / 1e9:.1f} bn {unit}"
    if value >= 1e6:
        return f"{value / 1e6:.1f} m {unit}"
    return f"{value:,.0f} {unit}"


def build_agreements_and_targets(
    rng: np.random.Generator, catalog: Catalog, model: DemandModel
) -> AllianceTargets:
    """Draw one agreement per partner and its targets from the expected demand.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the ambition factors.
    catalog : Catalog
        The reference tables.
    model : DemandModel
        The true demand model, covering 2024-01-01 to 2026-12-31.

    Returns
    -------
    AllianceTargets
        Tables plus each target's ambition factor and expected value.
    """
    products = catalog.products
    list_price = products["list_price"].to_numpy(dtype=float)
    series_partner = products["partner_id"].to_numpy()[model.series_sku]
    series_top = products["category_id"].map({key: leaf.parent_id for key, leaf in LEAF_BY_ID.items()})
    series_top = series_top.to_numpy()[model.series_sku]
    years = range(AGREEMENT_START.year, AGREEMENT_END.year + 1)
    year_periods = {year: (dt.date(year, 1, 1), dt.date(year, 12, 31)) for year in years}
    by_year = {year: expected_by_series(model, list_price, *period) for year, period in year_periods.items()}
    span = f"{AGREEMENT_START.year}-{AGREEMENT_END.year}"
    whole_period = (AGREEMENT_START, AGREEMENT_END)
    agreements: list[dict[str, object]] = []
    targets: list[dict[str, object]] = []
    ambition: dict[str, float] = {}
    expected: dict[str, float] = {}

    def add(
        target_id: str,
        period: tuple[dt.date, dt.date],
        expected_value: float,
        factor: float,
        description: str,
        **fields: str,
    ) -> None:
        ambition[target_id] = factor
        expected[target_id] = expected_value
        row: dict[str, object] = {"metric": "gmv_yuan", "category_id": None, "channel_kind": None}
        row.update(fields)
        row.update(
            target_id=target_id,
            period_start=pd.Timestamp(period[0]),
            period_end=pd.Timestamp(period[1]),
            value=expected_value * factor,
            description=description,
        )
        targets.append(row)

    for partner in PARTNERS:
        agreement_id = f"AGR-{partner.partner_id}-{span}"
        agreements.append(
            {
                "agreement_id": agreement_id,
                "partner_id": partner.partner_id,
                "name": f"{partner.name} {span} omni-channel alliance",
                "start_date": pd.Timestamp(AGREEMENT_START),
                "end_date": pd.Timestamp(AGREEMENT_END),
                "channels": None,
            }
        )
        owner = {"agreement_id": agreement_id, "partner_id": partner.partner_id}
        mine = series_partner == partner.partner_id
        yearly = {year: float(gmv[mine].sum()) for year, (_, gmv) in by_year.items()}
        whole_expected = sum(yearly.values())
        # One factor for the whole and its years: the years then split the whole exactly.
        factor = float(rng.uniform(*AMBITION_RANGE))
        whole = _amount(whole_expected * factor, "yuan")
        add(
            f"T-{partner.partner_id}-GMV-{span}",
            whole_period,
            whole_expected,
            factor,
            f"{partner.name}: {whole} omni-channel GMV in 3 years ({span})",
            **owner,
        )
        for year, year_expected in yearly.items():
            amount = _amount(year_expected * factor, "yuan")
            add(
                f"T-{partner.partner_id}-GMV-{year}",
                year_periods[year],
                year_expected,
                factor,
                f"{partner.name}: {amount} omni-channel GMV in {year}",
                **owner,
            )
        if partner.partner_id == "XIAOMI":
            wear_units = float(
                sum(units[mine & (series_top == "WEAR")].sum() for units, _ in by_year.values())
            )
            factor = float(rng.uniform(*AMBITION_RANGE))
            amount = _amount(wear_units * factor, "units")
            add(
                f"T-XIAOMI-WEAR-UNITS-{span}",
                whole_period,
                wear_units,
                factor,
                f"Xiaomi smart wear: {amount} in 3 years ({span})",
                metric="units",
                category_id="WEAR",
                **owner,
            )
        if partner.partner_id == "MIDEA":
            for year, (_, gmv) in by_year.items():
                online_expected = float(gmv[mine & model.series_online].sum())
                factor = float(rng.uniform(*AMBITION_RANGE))
                amount = _amount(online_expected * factor, "yuan")
                add(
                    f"T-MIDEA-ONLINE-GMV-{year}",
                    year_periods[year],
                    online_expected,
                    factor,
                    f"Midea: {amount} GMV on JD online in {year}",
                    channel_kind="platform_online",
                    **owner,
                )
    columns = [
        "target_id",
        "agreement_id",
        "partner_id",
        "period_start",
        "period_end",
        "metric",
        "value",
        "category_id",
        "channel_kind",
        "description",
    ]
    return AllianceTargets(pd.DataFrame(agreements), pd.DataFrame(targets)[columns], ambition, expected)
