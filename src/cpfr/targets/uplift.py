r"""How much a trade-in subsidy lifts sales: a prior, updated by the store's own year-on-year jumps.

The forecast of :mod:`cpfr.targets.growth` laps a subsidy with its log
uplift *u*. The store shows *u* where the subsidy cover of a range changes
between one four-week block and the next, compared with a year earlier:
the year-on-year log ratio :math:`r_b` of block *b* then jumps by
:math:`u\,\Delta x_b`, with :math:`x_b` the share of the block's base that
gained (+1) or lost (-1) cover. First differences remove the slowly moving
growth, and the jumps of every range in the store (each partner's,
the target's) are pooled by least squares,

.. math::

    \hat u = \frac{\sum_b \Delta r_b\,\Delta x_b}{\sum_b \Delta x_b^2}, \qquad
    \operatorname{Var}\hat u = \frac{\sigma_r^2}{\sum_b \Delta x_b^2},

with :math:`\sigma_r^2` the variance of :math:`\Delta r_b` where the cover
did not change. Where the history shows no change of cover — a subsidy
that began before the history's second year — nothing can be learned from
the store, so the estimate is combined with a normal prior (the conjugate
update: Gelman et al. 2013, *Bayesian Data Analysis*, 3rd ed., sec. 2.5):
:data:`PRIOR_LOG_UPLIFT` +/- :data:`PRIOR_SD`, a subsidy of about 15 % of
the price lifting sales by a fifth. China's 2024-2025 trade-in programme,
which the ``subsidy`` events describe, is of that order: the National Bureau
of Statistics' monthly retail sales of household appliances ran some 20-40 %
above the year before from the autumn of 2024, when the subsidy began.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cpfr.targets.growth import HISTORY_DAYS, YEAR
from cpfr.targets.panel import SalesPanel

PRIOR_LOG_UPLIFT = 0.2  # log(1.22): a subsidy of ~15 % of the price lifts sales by about a fifth
PRIOR_SD = 0.1  # the prior allows roughly 0-40 %
BLOCK_DAYS = 28
MIN_QUIET_BLOCKS = 3  # changes of block ratio without a change of cover needed to measure their noise


@dataclass(frozen=True)
class SubsidyUplift:
    r"""The log uplift of a trade-in subsidy: the posterior of the prior and the store's evidence.

    Attributes
    ----------
    mean, sd : float
        Posterior mean and standard deviation of *u*.
    evidence : float
        :math:`\sum \Delta x_b^2 / \sigma_r^2`, the precision the store added to the prior
        (0: the store showed no change of cover).
    """

    mean: float
    sd: float
    evidence: float

    def grid(self) -> np.ndarray:
        """Return four equally likely values of *u* (quartile midpoints of the posterior)."""
        return self.mean + self.sd * np.array([-1.15, -0.32, 0.32, 1.15])


def subsidy_uplift(panels: Sequence[SalesPanel]) -> SubsidyUplift:
    """Estimate *u* from the year-on-year jumps of ``panels`` at their origins (module docstring).

    Examples
    --------
    A store without any change of subsidy cover keeps the prior:

    >>> import datetime as dt
    >>> import numpy as np
    >>> from cpfr.targets.panel import SalesPanel
    >>> values = np.ones((800, 2))
    >>> panel = SalesPanel(dt.date(2023, 1, 1), values, np.zeros(2, dtype=int), np.zeros(2, dtype=int),
    ...                    np.full(2, 10**9), np.zeros((900, 2), dtype=bool))
    >>> subsidy_uplift([panel]) == SubsidyUplift(PRIOR_LOG_UPLIFT, PRIOR_SD, 0.0)
    True
    """
    jumps, changes = [], []
    for panel in panels:
        ratio, cover = _blocks(panel)
        jump, change = np.diff(ratio), np.diff(cover)
        known = np.isfinite(jump) & np.isfinite(change)
        jumps.append(jump[known])
        changes.append(change[known])
    jump, change = np.concatenate(jumps), np.concatenate(changes)
    quiet = np.abs(change) < 1e-12
    information = float(np.sum(change**2))
    if information <= 0 or quiet.sum() < MIN_QUIET_BLOCKS:
        return SubsidyUplift(PRIOR_LOG_UPLIFT, PRIOR_SD, 0.0)
    noise = float(np.mean(jump[quiet] ** 2))
    evidence = information / noise
    estimate = float(np.sum(jump * change) / information)
    precision = 1 / PRIOR_SD**2 + evidence
    mean = (PRIOR_LOG_UPLIFT / PRIOR_SD**2 + estimate * evidence) / precision
    return SubsidyUplift(float(mean), float(np.sqrt(1 / precision)), evidence)


def _blocks(panel: SalesPanel) -> tuple[np.ndarray, np.ndarray]:
    """Return the year-on-year log ratio and the change of cover of like-for-like SKUs per block."""
    origin = panel.origin
    if origin + 1 < HISTORY_DAYS + BLOCK_DAYS:
        return np.zeros(0), np.zeros(0)
    mature = panel.first_sale <= origin - HISTORY_DAYS
    values = panel.values[:, mature]
    status = panel.subsidised[: origin + 1, mature].astype(float)
    ends = np.arange(origin, YEAR + BLOCK_DAYS - 1, -BLOCK_DAYS)[::-1]
    ratio, cover = np.full(len(ends), np.nan), np.full(len(ends), np.nan)
    for position, end in enumerate(ends):
        now = values[end - BLOCK_DAYS + 1 : end + 1]
        then = values[end - YEAR - BLOCK_DAYS + 1 : end - YEAR + 1]
        if now.sum() > 0 and then.sum() > 0:
            change = (
                status[end - BLOCK_DAYS + 1 : end + 1] - status[end - YEAR - BLOCK_DAYS + 1 : end - YEAR + 1]
            )
            ratio[position] = np.log(now.sum() / then.sum())
            cover[position] = (then * change).sum() / then.sum()
    return ratio, cover
