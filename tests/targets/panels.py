"""Synthetic sales panels for the attainment tests: SKUs, launches, discontinuations, subsidy cover."""

from __future__ import annotations

import datetime as dt

import numpy as np

from cpfr.targets.panel import NEVER, SalesPanel

YEAR = 365


def panel(
    values: np.ndarray,
    *,
    launch: list[int] | None = None,
    last_on_sale: list[int] | None = None,
    subsidised: np.ndarray | None = None,
    horizon: int = 2 * YEAR,
) -> SalesPanel:
    """Return a panel of ``values`` (days x SKUs), starting 2023-01-01, with optional facts per SKU."""
    days, skus = values.shape
    sold = values > 0
    first_sale = np.where(sold.any(axis=0), sold.argmax(axis=0), NEVER)
    cover = np.zeros((days + horizon, skus), dtype=bool) if subsidised is None else subsidised
    return SalesPanel(
        start=dt.date(2023, 1, 1),
        values=values,
        first_sale=first_sale,
        launch=np.array(launch if launch is not None else [NEVER] * skus, dtype=np.int64),
        last_on_sale=np.array(last_on_sale if last_on_sale is not None else [NEVER] * skus, dtype=np.int64),
        subsidised=cover,
    )


def seasonal(
    days: int, *, level: float = 100.0, growth: float = 1.0, phase: int = 0, weekly: bool = True
) -> np.ndarray:
    """Return a yearly (and weekly) pattern growing by ``growth`` a year, one value per day."""
    day = np.arange(days)
    pattern = 1 + 0.4 * np.sin(2 * np.pi * (day - phase) / YEAR) + 0.3 * weekly * (day % 7 == 5)
    return level * pattern * growth ** (day / YEAR)
