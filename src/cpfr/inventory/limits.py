"""How far cpfr's inventory solvers go: the bounds of their inputs and the time each may take.

Every number an inventory model reads has a documented range (the
:class:`~cpfr.bounds.Bound` objects below). The maxima are not the limits of
the mathematics but of sense and of work: a cost of more than a billion per
unit is a typing slip; a demand whose support has millions of values, a
network whose service-time grid has tens of millions of cells, would take
hours or all memory. Such work is refused before it starts with a
:class:`~cpfr.exceptions.LimitError` that names the bound; what slips through
(an unlucky instance within the bounds) is stopped by the solver's time limit
(:class:`Deadline`, :class:`~cpfr.exceptions.SolverLimitError`).

Costs are in money per unit per period (per order for a fixed cost),
quantities in units, lead times in periods, as everywhere in
:mod:`cpfr.inventory`.
"""

from __future__ import annotations

import math
import time

from cpfr.bounds import Bound
from cpfr.exceptions import SolverLimitError

# -- bounds of values --------------------------------------------------------------------------------

MAX_COST = 1e9
"""Largest cost per unit, per unit-period or per order: a billion is a typing slip, not a price, and
costs x quantities (both <= 1e9) stay far inside double precision."""

MIN_POSITIVE_COST = 1e-6
"""Smallest cost where a model needs a positive one (holding, stockout): a millionth of a yuan. The
critical ratio p / (h + p) then stays within [1e-15, 1 - 1e-15], where quantiles are finite."""

MAX_QUANTITY = 1e9
"""Largest demand mean, standard deviation, demand value or order quantity, in units per period."""

MIN_RATE = 1e-9
"""Smallest demand rate where a model needs a positive one (a Poisson mean, an EOQ's demand rate):
less than a billionth of a unit per period is no demand, and subnormal rates break scipy's binomial."""

MAX_PERIODS = 1_000
"""Longest lead time or processing time, in periods: almost three years of days."""

MAX_LIST_LENGTH = 100_000
"""Most values of a list in an instance (an empirical distribution, a demand per period)."""

MAX_PLANNING_PERIODS = 10_000
"""Most periods of a Wagner-Whitin plan: the programme is quadratic in them (about 1 s at the bound)."""

MAX_NODES = 1_000
"""Most stages of a serial or tree network, most locations of a distribution network."""

MIN_SPREAD = 1e-6
"""Smallest standard deviation of normal demand, both in units and as a share of its mean: a
narrower normal is a constant to double precision, and its loss functions overflow."""

MIN_LEAD_TIME = 1e-6
"""Shortest lead time where a model needs a positive one ((r,Q)): about 30 seconds of a year."""

COST = Bound(0.0, MAX_COST, reason="a cost per unit beyond a billion is a typing slip")
POSITIVE_COST = Bound(MIN_POSITIVE_COST, MAX_COST, reason=COST.reason)
QUANTITY = Bound(0.0, MAX_QUANTITY, reason="units per period")
POSITIVE_QUANTITY = Bound(MIN_RATE, MAX_QUANTITY, reason=QUANTITY.reason)
PERIODS = Bound(0.0, MAX_PERIODS, reason="periods; almost three years of days")
POSITIVE_PERIODS = Bound(MIN_LEAD_TIME, MAX_PERIODS, reason=PERIODS.reason)
SPREAD = Bound(MIN_SPREAD, MAX_QUANTITY, reason=QUANTITY.reason)
WHOLE_PERIODS = Bound(0, MAX_PERIODS, whole=True, reason=PERIODS.reason)
PROBABILITY = Bound(0.0, 1.0)

# -- bounds of work ----------------------------------------------------------------------------------

MAX_SUPPORT = 1_000_000
"""Most values of a discrete demand distribution a solver enumerates: a Poisson mean of about
990,000 (the support is cut where the upper tail falls below 1e-12), about 2 s for (s,S)."""

MAX_POISSON_MEAN = 1e9
"""Largest Poisson mean, also over a lead time: scipy's inverse Poisson distribution fails beyond it."""

MAX_CONVOLUTION_CELLS = 20_000_000
"""Most pairs of values combined in one step of summing a discrete demand over periods (160 MB)."""

MAX_S_S_ORDER = 20_000
"""Largest expected order size S - s of an (s,S) policy, estimated before solving by the EOQ with
backorders, sqrt(2 K lambda (h + p) / (h p)) (Snyder & Shen 2019, ch. 3): the Zheng-Federgruen
search is quadratic in it (under 1 s at the bound)."""

MAX_R_Q_ORDER = 1_000_000
"""Largest expected order quantity Q of a Poisson (r,Q) policy, estimated the same way: the
Federgruen-Zheng search adds one unit to Q per step (about 1 s at the bound)."""

MAX_GSM_CELLS = 20_000_000
"""Most cells of the guaranteed-service programme: stages x (longest replenishment time + 1)^2."""

MAX_DISTRIBUTION_WORK = 1e10
"""Most multiply-adds of the exact distribution-network evaluation: locations x (support of the
warehouse's lead-time demand)^3 (about 2 s at the bound)."""

# -- time --------------------------------------------------------------------------------------------

DEFAULT_TIME_LIMIT_SECONDS = 60.0
"""How long a solver may run before it gives up: within the bounds above every solver needs
seconds, so a minute means something went wrong."""

MAX_TIME_LIMIT_SECONDS = 24 * 3600.0
TIME_LIMIT = Bound(0.0, MAX_TIME_LIMIT_SECONDS, exclusive_minimum=True, reason="a day")


class Deadline:
    """The moment a solver must give up, checked at each step of its search.

    Parameters
    ----------
    seconds : float
        The time limit from now (> 0).
    solver : str
        The solver's name, for the message.

    Examples
    --------
    >>> deadline = Deadline(60.0, "s_S")
    >>> deadline.check()  # well within the minute: returns quietly
    """

    def __init__(self, seconds: float, solver: str) -> None:
        TIME_LIMIT.check("time_limit_seconds", seconds)
        self.seconds = float(seconds)
        self.solver = solver
        self._end = time.monotonic() + self.seconds

    def check(self) -> None:
        """Raise :class:`~cpfr.exceptions.SolverLimitError` once the time limit has passed."""
        if time.monotonic() > self._end:
            raise SolverLimitError(
                f"{self.solver}: no answer within the time limit of {self.seconds:g} s "
                "(a smaller instance, or a longer time limit)"
            )


def check_finite(name: str, value: float) -> float:
    """Return ``value`` if finite; else raise SolverLimitError: the answer is beyond double precision."""
    if not math.isfinite(value):
        raise SolverLimitError(
            f"{name}: the solver found no finite answer (costs or demand too extreme for double precision)"
        )
    return value
