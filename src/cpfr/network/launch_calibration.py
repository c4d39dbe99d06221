r"""What earlier launches teach about the next one: where it sells at all, how dispersed, how large.

Two estimates, both from launches whose selling window ended before the new launch (the
caller passes only those; :func:`cpfr.network.launch_demand.launch_demand` filters them):

* :class:`ZeroInflatedDispersion` — per channel, the probability :math:`\pi_c` that a point
  sells a new SKU at all (a store carries a share of its format's range, unknown before
  launch), and one negative binomial dispersion :math:`k` for what a selling point sells, by
  maximum likelihood of the earlier launches' realised units per point given their forecast
  shares scaled to their realised totals (Lambert 1992; Greene 1994).
* :func:`conditional_total` — the launch total given that it will sell out: the analogue
  forecast times a lognormal error whose location and spread are the median and standard
  deviation of earlier launches' log(realised / forecast), conditioned on exceeding the
  quantity the planner ships, :math:`E[T \mid T \ge Q]` (Johnson, Kotz & Balakrishnan 1994,
  ch. 14, the truncated lognormal's mean).

References
----------
Lambert, D. (1992). Zero-inflated Poisson regression, with an application to defects in
manufacturing. Technometrics 34(1), 1-14.
Greene, W. (1994). Accounting for excess zeros and sample selection in Poisson and negative
binomial regression models. NYU Working Paper EC-94-10.
Johnson, N. L., Kotz, S., & Balakrishnan, N. (1994). *Continuous Univariate Distributions*,
vol. 1, 2nd ed., Wiley, ch. 14.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, special, stats

from cpfr.exceptions import InputError, NotFittedError

DISPERSION_SEARCH = (0.01, 1000.0)
"""Range the likelihood is maximised over for k; the caller clips the answer to its own bounds."""
PRESENCE_LOGIT_RANGE = (-6.0, 12.0)
"""pi from 0.25 % to 1 - 6e-6: a channel where no earlier launch sold stays barely possible."""


class ZeroInflatedDispersion:
    r"""Zero-inflated negative binomial per point: presence :math:`\pi_c` by group, one dispersion k.

    A point of group :math:`c` with expected units :math:`\mu` sells nothing with probability
    :math:`1 - \pi_c`, else a negative binomial of mean :math:`\mu / \pi_c` and dispersion
    :math:`k`, so :math:`E[D] = \mu`. :meth:`fit` maximises the log-likelihood

    .. math:: \sum_{y_j = 0} \log(1 - \pi_{c_j} + \pi_{c_j} f(0; \mu_j / \pi_{c_j}, k))
              + \sum_{y_j > 0} \log(\pi_{c_j} f(y_j; \mu_j / \pi_{c_j}, k))

    over the logits of :math:`\pi` and log k (L-BFGS-B).

    Attributes
    ----------
    presence_ : dict of str to float
        :math:`\pi_c` per group seen in ``fit``.
    dispersion_ : float
        :math:`k`.
    n_observations_ : int
        Points the fit used.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> means = np.full(4000, 6.0)
    >>> groups = np.repeat(["online", "store"], 2000)
    >>> present = np.where(groups == "online", 1.0, 0.3)
    >>> sells = rng.random(4000) < present
    >>> units = np.where(sells, rng.negative_binomial(3.0, 3.0 / (3.0 + means / present)), 0)
    >>> model = ZeroInflatedDispersion().fit(units, means, groups)
    >>> round(model.presence_["store"], 1), round(model.dispersion_)
    (0.3, 3)
    """

    def fit(
        self, units: Sequence[float] | np.ndarray, means: Sequence[float] | np.ndarray, groups: Sequence[str]
    ) -> ZeroInflatedDispersion:
        r"""Fit :math:`\pi_c` and k to realised ``units`` per point given expected ``means`` (> 0)."""
        observed = np.asarray(units, dtype=float)
        expected = np.asarray(means, dtype=float)
        labels = np.asarray(groups, dtype=str)
        if not (observed.shape == expected.shape == labels.shape) or observed.size == 0:
            raise InputError("units, means and groups: expected as many points, at least one")
        if (expected <= 0).any() or (observed < 0).any():
            raise InputError("means: expected all > 0, units all >= 0")
        names, index = np.unique(labels, return_inverse=True)
        zero = observed == 0
        constant = special.gammaln(observed + 1)

        def negative_log_likelihood(theta: np.ndarray) -> float:
            presence = special.expit(theta[:-1])[index]
            dispersion = math.exp(theta[-1])
            selling_mean = expected / presence
            log_p = np.log(dispersion) - np.log(dispersion + selling_mean)
            log_q = np.log(selling_mean) - np.log(dispersion + selling_mean)
            log_f = (
                special.gammaln(observed + dispersion)
                - special.gammaln(dispersion)
                - constant
                + dispersion * log_p
                + observed * log_q
            )
            with np.errstate(divide="ignore"):
                log_absent = np.log1p(-presence)
            at_zero = np.logaddexp(log_absent, np.log(presence) + dispersion * log_p)
            return -float(np.where(zero, at_zero, np.log(presence) + log_f).sum())

        start = np.zeros(len(names) + 1)
        bounds = [PRESENCE_LOGIT_RANGE] * len(names) + [tuple(math.log(v) for v in DISPERSION_SEARCH)]
        result = optimize.minimize(negative_log_likelihood, start, method="L-BFGS-B", bounds=bounds)
        self.presence_ = {
            str(name): float(value) for name, value in zip(names, special.expit(result.x[:-1]), strict=True)
        }
        self.dispersion_ = float(math.exp(result.x[-1]))
        self.n_observations_ = int(observed.size)
        return self

    def presence(self, group: str) -> float:
        r"""Return :math:`\pi` of ``group``; 1 for a group the fit never saw (no evidence it is absent)."""
        if not hasattr(self, "presence_"):
            raise NotFittedError("ZeroInflatedDispersion: call fit before presence")
        return self.presence_.get(group, 1.0)


def conditional_total(expected_total: float, log_errors: Sequence[float], quantity: float) -> float:
    r"""Return the expected launch total given that it is at least ``quantity``: :math:`E[T \mid T \ge Q]`.

    :math:`\log T \sim N(\log \hat T + m, s^2)`, with :math:`\hat T` the forecast and :math:`m, s`
    the median and standard deviation of earlier ``log_errors`` (log realised / forecast), so

    .. math:: E[T \mid T \ge Q] = e^{\mu + s^2 / 2}
              \frac{\Phi((\mu + s^2 - \log Q) / s)}{\Phi((\mu - \log Q) / s)}.

    Never below ``quantity``; ``quantity`` 0 gives the lognormal's mean.

    Examples
    --------
    >>> round(conditional_total(100.0, [-0.5, 0.0, 0.5], 0.0), 1)
    113.3
    >>> conditional_total(100.0, [-0.5, 0.0, 0.5], 1000.0) > 1000.0
    True
    """
    errors = np.asarray(log_errors, dtype=float)
    if expected_total <= 0 or errors.size < 2:
        raise InputError("conditional_total: expected a positive forecast and at least two earlier errors")
    location = math.log(expected_total) + float(np.median(errors))
    spread = max(float(errors.std(ddof=1)), 1e-6)
    mean = math.exp(location + spread**2 / 2)
    if quantity <= 0:
        return mean
    above = stats.norm.logcdf((location + spread**2 - math.log(quantity)) / spread)
    beyond = stats.norm.logcdf((location - math.log(quantity)) / spread)
    total = mean * math.exp(above - beyond)
    return float(max(total, quantity)) if math.isfinite(total) else float(quantity)
