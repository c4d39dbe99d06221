r"""The alliance's record of setting targets: how far earlier targets stood from what was sold.

A target is not drawn at random around the sales to come: it is set from a
plan that knows things the sales history does not (launches, subsidies,
prices), plus a stretch. So the target itself says something about the
final total, and a probability of reaching it that ignores this cannot be
calibrated *given the target* (a target that looks easy from the history
alone is more often one the history over-forecasts). The store holds the
evidence: every earlier target of the same metric whose period has ended
gives :math:`c = \log(\text{target} / \text{final total})`. Their mean and
spread describe how this alliance sets targets, and the target at hand is
then one more observation of the final total *F*,

.. math::

    \log T = \log F + c, \qquad c \sim \mu_c + \sigma_c\, t_\nu,

with Student-t errors (:data:`DEGREES_OF_FREEDOM`) so that a target far
from the record — a deliberate moonshot — is read as an outlier rather than
as news about *F* (O'Hagan 1979, "On outlier rejection phenomena in Bayes
inference", *JRSS B* 41(3)). The forecast's sample of *F* is reweighted by
this likelihood (importance sampling from the forecast as the proposal:
Gelman et al. 2013, *Bayesian Data Analysis*, 3rd ed., sec. 10.4). The
probability of reaching a target still falls as the target rises; the
record only moves it where the sales history alone is uncertain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpfr.targets.panel import SalesBook
from cpfr.targets.scope import scope_from_row

MIN_TARGETS = 3  # earlier targets needed before the record is used
MIN_SPREAD = 0.05  # targets are never read as pinned closer than 5 % to the outcome
DEGREES_OF_FREEDOM = 4


@dataclass(frozen=True)
class TargetRecord:
    r"""How far the alliance's ended targets stood above (or below) their final totals.

    Attributes
    ----------
    targets : int
        Ended targets of the metric counted.
    log_ratio : float
        :math:`\mu_c`, the mean of log(target / final total); 0.1 means targets ran about 10 % above.
    spread : float
        :math:`\sigma_c`, their standard deviation (at least :data:`MIN_SPREAD`).
    """

    targets: int
    log_ratio: float
    spread: float

    def weights(self, target: float, totals: np.ndarray) -> np.ndarray:
        """Return the likelihood of ``target`` given each final total in ``totals`` (unnormalised).

        Examples
        --------
        >>> import numpy as np
        >>> record = TargetRecord(targets=6, log_ratio=0.1, spread=0.05)
        >>> weights = record.weights(110.0, np.array([80.0, 100.0, 120.0]))
        >>> int(np.argmax(weights))  # a target 10 % above 100 fits a final total of 100 best
        1
        """
        gap = (np.log(target) - np.log(np.maximum(totals, 1e-12)) - self.log_ratio) / self.spread
        nu = DEGREES_OF_FREEDOM
        return np.asarray((1 + gap**2 / nu) ** (-(nu + 1) / 2), dtype=float)


def target_record(book: SalesBook, *, metric: str, as_of: dt.date, exclude: str = "") -> TargetRecord | None:
    """Read the record of every target of ``metric`` that ended by ``as_of`` (None: fewer than three).

    A target counts when the store's sales cover its whole period and it sold something.
    """
    targets = book.store.read_table("targets")
    if targets.empty or book.first_day is None:
        return None
    ended = targets[
        (targets["metric"] == metric)
        & (targets["target_id"] != exclude)
        & (pd.to_datetime(targets["period_end"]).dt.date <= as_of)
        & (pd.to_datetime(targets["period_start"]).dt.date >= book.first_day)
        & (targets["value"] > 0)
    ]
    ratios = []
    for row in ended.to_dict("records"):
        scope = scope_from_row(row, book.categories)
        final = book.total(scope, scope.period_start, scope.period_end)
        if final > 0:
            ratios.append(float(np.log(scope.value / final)))
    if len(ratios) < MIN_TARGETS:
        return None
    return TargetRecord(
        targets=len(ratios),
        log_ratio=float(np.mean(ratios)),
        spread=max(float(np.std(ratios, ddof=1)), MIN_SPREAD),
    )
