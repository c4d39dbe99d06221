r"""Demand distributions for inventory policies: normal, Poisson, discrete/empirical, forecast quantiles.

A policy needs a distribution's quantile (critical fractile) and its loss
functions — the expected shortfall :math:`n(y) = E[(D - y)^+]` and the
expected excess :math:`\bar n(y) = E[(y - D)^+]` — for the demand over a
protection period. ``Demand`` holds one distribution and answers both;
``over_periods`` gives the distribution of demand summed over independent
periods (lead-time demand).

Reference: Snyder & Shen (2019), *Fundamentals of Supply Chain Theory*, 2nd ed., sec. C.3 (loss functions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import signal, special, stats

from cpfr.bounds import number_text
from cpfr.exceptions import InputError, LimitError, SolverLimitError
from cpfr.inventory.limits import MAX_CONVOLUTION_CELLS, MAX_POISSON_MEAN, MAX_SUPPORT, Deadline

_POISSON_TAIL = 1e-12  # Poisson support is cut where the upper tail is below this
_ROOT_TWO_PI = math.sqrt(2 * math.pi)


def _pdf(z: float | np.ndarray) -> float | np.ndarray:
    """Return the standard normal density (without scipy.stats' per-call overhead)."""
    return np.exp(-0.5 * np.square(z)) / _ROOT_TWO_PI


@dataclass(frozen=True)
class Demand:
    """A demand distribution: ``normal`` (mean, sd), ``poisson`` (mean), ``discrete`` (values, probabilities).

    Build with :meth:`normal`, :meth:`poisson`, :meth:`discrete` or
    :meth:`from_quantiles`; values of a discrete distribution are sorted and distinct.
    """

    kind: str
    mean: float
    sd: float = 0.0
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    probabilities: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def normal(cls, mean: float, sd: float) -> Demand:
        """Build normal demand with ``mean`` and standard deviation ``sd`` (> 0), both finite."""
        if not math.isfinite(mean):
            raise InputError(f"demand.mean {mean}: expected a finite number")
        if not (sd > 0 and math.isfinite(sd)):
            raise InputError(f"demand.sd {sd}: expected a finite standard deviation > 0")
        return cls("normal", float(mean), float(sd))

    @classmethod
    def poisson(cls, mean: float) -> Demand:
        """Poisson demand with ``mean`` (> 0 and at most ``MAX_POISSON_MEAN``, also summed over periods)."""
        if not mean > 0:
            raise InputError(f"demand.mean {mean}: expected a Poisson mean > 0")
        if not mean <= MAX_POISSON_MEAN:
            raise LimitError(
                f"Poisson demand with mean {mean:g} (over the periods summed): at most "
                f"{number_text(MAX_POISSON_MEAN)} "
                "is supported (scipy's inverse Poisson distribution fails beyond it)"
            )
        return cls("poisson", float(mean), math.sqrt(mean))

    @classmethod
    def discrete(
        cls, values: Sequence[float] | np.ndarray, probabilities: Sequence[float] | np.ndarray
    ) -> Demand:
        """Discrete (empirical) demand: ``values`` with ``probabilities`` summing to 1."""
        value_array = np.asarray(values, dtype=float)
        weight = np.asarray(probabilities, dtype=float)
        if value_array.ndim != 1 or value_array.shape != weight.shape or len(value_array) == 0:
            raise InputError(
                "demand.values and demand.probabilities: expected two lists of the same, non-zero length"
            )
        if not np.isfinite(value_array).all() or (value_array < 0).any():
            raise InputError("demand.values: expected finite, non-negative quantities")
        if (weight < 0).any() or not abs(weight.sum() - 1.0) <= 1e-6:
            raise InputError(
                "demand.probabilities: expected non-negative numbers summing to 1, "
                f"got sum {weight.sum():.6g}"
            )
        support, inverse = np.unique(value_array, return_inverse=True)
        pmf = np.bincount(inverse, weights=weight / weight.sum())
        mean = float(support @ pmf)
        sd = float(np.sqrt(max(float(((support - mean) ** 2) @ pmf), 0.0)))
        return cls("discrete", mean, sd, support, pmf)

    @classmethod
    def from_quantiles(cls, levels: Sequence[float], values: Sequence[float], points: int = 1000) -> Demand:
        """Demand given by forecast quantiles: the quantile function interpolated, then discretised.

        The quantile function is taken piecewise linear in normal scores
        z = Phi^-1(level) and extended beyond the outermost levels along the
        end segments (clipped at zero): exact for normal demand, and tails that
        follow the spread of the outer quantiles otherwise. ``points`` equally
        likely values represent it.
        """
        level = np.asarray(levels, dtype=float)
        quantile = np.maximum.accumulate(np.asarray(values, dtype=float))  # never crossing
        if len(level) < 2 or (np.diff(level) <= 0).any() or level[0] <= 0 or level[-1] >= 1:
            raise InputError(
                "quantile levels: expected at least two increasing levels strictly between 0 and 1"
            )
        if not np.isfinite(quantile).all():
            raise InputError("quantile values: expected finite numbers")
        knots = stats.norm.ppf(level)
        grid = stats.norm.ppf((np.arange(points) + 0.5) / points)
        inner = np.interp(grid, knots, quantile)
        low_slope = (quantile[1] - quantile[0]) / (knots[1] - knots[0])
        high_slope = (quantile[-1] - quantile[-2]) / (knots[-1] - knots[-2])
        inner = np.where(grid < knots[0], quantile[0] - low_slope * (knots[0] - grid), inner)
        inner = np.where(grid > knots[-1], quantile[-1] + high_slope * (grid - knots[-1]), inner)
        return cls.discrete(np.maximum(inner, 0.0), np.full(points, 1.0 / points))

    # -- distribution of a sum over periods ---------------------------------------------------------

    def over_periods(self, periods: float, *, deadline: Deadline | None = None) -> Demand:
        """Demand summed over ``periods`` independent periods (discrete demand: whole periods only).

        A discrete distribution on whole units whose sum spans at most ``MAX_SUPPORT``
        values is convolved on that lattice by repeated squaring (log2(periods)
        convolutions); any other is convolved with itself period by period, where a step
        that would combine more than ``MAX_CONVOLUTION_CELLS`` pairs of values, or a sum
        with more than ``MAX_SUPPORT`` distinct values, is refused (LimitError).
        ``deadline`` (if given) is checked at every step.
        """
        if not (periods > 0 and math.isfinite(periods)):
            raise InputError(f"periods {periods}: expected a finite number > 0")
        if self.kind == "normal":
            return Demand.normal(self.mean * periods, self.sd * math.sqrt(periods))
        if self.kind == "poisson":
            return Demand.poisson(self.mean * periods)
        if float(periods) != int(periods):
            raise InputError(f"a discrete demand sums over whole periods only, got {periods}")
        values, pmf = self.values, self.probabilities
        span = (values[-1] - values[0]) * int(periods) + 1
        if (values == np.round(values)).all() and span <= MAX_SUPPORT:
            return self._lattice_sum(int(periods), deadline)
        for summed in range(2, int(periods) + 1):
            if deadline is not None:
                deadline.check()
            if len(values) * len(self.values) > MAX_CONVOLUTION_CELLS or len(values) > MAX_SUPPORT:
                raise LimitError(
                    f"demand summed over {summed} periods: {len(values):,} x {len(self.values):,} pairs of "
                    f"values to combine, at most {MAX_CONVOLUTION_CELLS:,} (and {MAX_SUPPORT:,} distinct "
                    "sums) are supported: fewer distinct demand values or a shorter lead time"
                )
            values, pmf = _convolve(values, pmf, self.values, self.probabilities)
        return Demand.discrete(values, pmf)

    def _lattice_sum(self, periods: int, deadline: Deadline | None) -> Demand:
        """Sum over ``periods`` periods of a demand on whole units: dense convolutions, by squaring."""
        low = int(self.values[0])
        dense = np.zeros(int(self.values[-1]) - low + 1)
        dense[self.values.astype(np.int64) - low] = self.probabilities
        total, power, remaining = np.ones(1), dense, periods
        while remaining:
            if deadline is not None:
                deadline.check()
            if remaining & 1:
                total = _dense_convolve(total, power)
            remaining >>= 1
            if remaining:
                power = _dense_convolve(power, power)
        values = low * periods + np.arange(len(total), dtype=float)
        kept = total > 0
        return Demand.discrete(values[kept], total[kept])

    # -- quantities policies need -------------------------------------------------------------------

    def support(self) -> tuple[np.ndarray, np.ndarray]:
        """Values and probabilities of a discrete or Poisson distribution (Poisson cut at a 1e-12 tail).

        A Poisson support of more than ``MAX_SUPPORT`` values is refused (LimitError).
        """
        if self.kind == "discrete":
            return self.values, self.probabilities
        if self.kind == "poisson":
            top = (
                int(stats.poisson.isf(_POISSON_TAIL, self.mean)) + 1
                if self.mean < MAX_SUPPORT
                else MAX_SUPPORT
            )
            if top + 1 > MAX_SUPPORT:
                raise LimitError(
                    f"Poisson demand with mean {self.mean:g}: more values to enumerate than the "
                    f"{MAX_SUPPORT:,} at most supported (a mean of about 990,000)"
                )
            values = np.arange(top + 1, dtype=float)
            return values, stats.poisson.pmf(values, self.mean)
        raise InputError("a normal demand has no discrete support")

    def quantile(self, probability: float) -> float:
        """Smallest y with P(D <= y) >= probability (the inverse distribution function)."""
        if self.kind == "normal":
            return self.mean + self.sd * float(special.ndtri(probability))
        if self.kind == "poisson":
            estimate = float(special.pdtrik(probability, self.mean))
            if not math.isfinite(estimate):
                raise SolverLimitError(
                    f"the {probability:.17g} quantile of Poisson demand with mean {self.mean:g} is beyond "
                    "double precision"
                )
            level = max(0.0, math.ceil(estimate) - 1.0)
            while special.pdtr(level, self.mean) < probability - 1e-12:
                level += 1
            while level > 0 and special.pdtr(level - 1, self.mean) >= probability - 1e-12:
                level -= 1
            return level
        cumulative = np.cumsum(self.probabilities)
        position = int(np.searchsorted(cumulative, probability - 1e-12, side="left"))
        return float(self.values[min(position, len(self.values) - 1)])

    def shortfall(self, level: float | np.ndarray) -> np.ndarray:
        """Loss function n(y) = E[(D - y)^+] at each ``level``."""
        y = np.asarray(level, dtype=float)
        if self.kind == "normal":
            z = (y - self.mean) / self.sd
            return self.sd * (_pdf(z) - z * special.ndtr(-z))
        if self.kind == "poisson":
            # E[(D - y)^+] = lambda P(D >= k) - y P(D > k), k = floor(y)  (S&S eq. C.37, any real y)
            below = np.floor(y)
            at_least = np.where(below >= 1, special.pdtrc(below - 1, self.mean), 1.0)
            above = np.where(below >= 0, special.pdtrc(below, self.mean), 1.0)
            return self.mean * at_least - y * above
        values, pmf = self.support()
        # E[(D - y)^+] = sum_{v > y} v p(v) - y P(D > y): tail sums of the sorted support, so any
        # number of levels costs O((levels + values) log values), not levels x values.
        mass = np.concatenate([np.cumsum(pmf[::-1])[::-1], [0.0]])
        weighted = np.concatenate([np.cumsum((values * pmf)[::-1])[::-1], [0.0]])
        flat = np.atleast_1d(y)
        above = np.searchsorted(values, flat, side="right")
        return np.maximum(weighted[above] - flat * mass[above], 0.0).reshape(y.shape)

    def excess(self, level: float | np.ndarray) -> np.ndarray:
        """Complementary loss function n̄(y) = E[(y - D)^+] = y - E[D] + n(y)."""
        return np.asarray(level, dtype=float) - self.mean + self.shortfall(level)

    def second_shortfall(self, level: float | np.ndarray) -> np.ndarray:
        """Second-order loss function n2(y) = E[((D - y)^+)^2] / 2 (normal demand)."""
        if self.kind != "normal":
            raise InputError("the second-order loss function is implemented for normal demand")
        z = (np.asarray(level, dtype=float) - self.mean) / self.sd
        return 0.5 * self.sd**2 * ((z**2 + 1) * special.ndtr(-z) - z * _pdf(z))


def _dense_convolve(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Return the pmf of the sum of two independent demands given as pmfs on 0, 1, 2, ..."""
    if len(first) * len(second) <= 1_000_000:
        combined = np.convolve(first, second)  # exact
    else:
        combined = np.maximum(signal.fftconvolve(first, second), 0.0)  # rounding leaves tiny negatives
    return combined / combined.sum()


def _convolve(
    values_a: np.ndarray, pmf_a: np.ndarray, values_b: np.ndarray, pmf_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distribution of the sum of two independent discrete variables."""
    sums = (values_a[:, None] + values_b[None, :]).ravel()
    weights = (pmf_a[:, None] * pmf_b[None, :]).ravel()
    support, inverse = np.unique(np.round(sums, 9), return_inverse=True)
    return support, np.bincount(inverse, weights=weights)
