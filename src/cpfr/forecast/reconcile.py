r"""Coherent forecasts: bottom-up and MinTrace reconciliation that scales to 30,000+ bottom series.

:func:`reconcile` takes base forecasts for every node of a
:class:`~cpfr.forecast.hierarchy.Hierarchy` and returns forecasts whose
aggregates equal the sums of their bottom series. MinTrace
(Wickramasuriya, Athanasopoulos & Hyndman 2019) reconciles the mean with a
generalised least-squares projection; quantiles follow by a mean shift.

Notation: :math:`n` nodes, :math:`m` bottom series, :math:`n_a = n - m`
aggregates, :math:`S = [S_a; I_m]` the summing matrix, :math:`\hat y` the
``n x H`` base means, :math:`W` the ``n x n`` covariance of base-forecast
errors and :math:`R` the ``T x n`` matrix of residuals.

Derivation of the scalable MinT
-------------------------------
MinT (Wickramasuriya et al. 2019, Theorem 1) reconciles with

(1)  :math:`\tilde y = S P \hat y,\quad P = (S^\top W^{-1} S)^{-1} S^\top W^{-1}`,

which needs :math:`W^{-1}`, dense ``n x n``: 7 GB at :math:`n = 30{,}000`.
Coherent vectors are the null space of the constraint matrix
:math:`C = [I_{n_a}, -S_a]` (``n_a x n``, sparse): :math:`C y = 0`. The
GLS projection (1) onto that space equals the constrained form, the
:math:`U^\top = C` representation of the same paper,

(2)  :math:`\tilde y = \hat y - W C^\top (C W C^\top)^{-1} C \hat y`,

because :math:`S^\top C^\top = 0` and :math:`[W^{-1} S, C^\top]` spans
:math:`\mathbb R^n`. Only :math:`C W C^\top` (``n_a x n_a``) is dense and
inverted. Every :math:`W` used here is diagonal plus low rank,

(3)  :math:`W = \operatorname{diag}(d) + \alpha X^\top X`,

with :math:`X` the ``T x n`` centred residuals, so it is applied, never formed:

(4)  :math:`C W C^\top = C \operatorname{diag}(d) C^\top + \alpha (C X^\top)(C X^\top)^\top`
     (sparse ``n_a x n_a`` plus a rank-``T`` product of ``n_a x T`` factors),

(5)  :math:`W v = d \odot v + \alpha X^\top (X v)` for :math:`v = C^\top z`.

The reconciled bottom series are the last :math:`m` rows of (2); the
aggregates are re-summed from them, :math:`\tilde y = S \tilde b`, so the
output is coherent to rounding. Cost: :math:`O(nT(n_a + H) + n_a^3)` time
and :math:`O(nT + n_a^2)` memory.

Choices of :math:`W` (``method``):

- ``ols``: :math:`W = I`; ``wls_struct``: :math:`W = \operatorname{diag}(S 1)`;
- ``wls_var``: :math:`d_i = \sum_t r_{ti}^2 / T + 2\cdot 10^{-8}` (uncentred,
  as in hierarchicalforecast), :math:`\alpha = 0`;
- ``mint_shrink``: the Schäfer & Strimmer (2005) shrinkage of the sample
  covariance :math:`\hat\Sigma = X^\top X / (T - 1)` towards its diagonal,

  (6)  :math:`W = (1 - \lambda) \hat\Sigma + \lambda \operatorname{diag}(\hat\Sigma)`,
       :math:`\hat\lambda = \sum_{i<j} \widehat{\operatorname{Var}}(\hat r_{ij}) / \sum_{i<j} \hat r_{ij}^2`
       clipped to [0, 1], with :math:`\hat r_{ij}` the sample correlations,

  so :math:`\alpha = (1-\lambda)/(T-1)` and :math:`d_i = \max(\hat\Sigma_{ii},
  \text{ridge}) - (1-\lambda)\hat\Sigma_{ii}`. The sums over the
  :math:`n^2/2` pairs in (6) reduce to ``T x T`` algebra on the standardised
  residuals :math:`Z`: :math:`\sum_{i<j} (z_i^\top z_j)^2 = \tfrac12(\lVert Z Z^\top\rVert_F^2 -
  \sum_i \lVert z_i\rVert^4)` and :math:`\sum_{i<j}\sum_t z_{ti}^2 z_{tj}^2 =
  \tfrac12 \sum_t[(\sum_i z_{ti}^2)^2 - \sum_i z_{ti}^4]`. The estimator,
  including its ``2e-8`` guards, matches hierarchicalforecast 1.5.3.

References
----------
Wickramasuriya, S. L., Athanasopoulos, G. & Hyndman, R. J. (2019). Optimal forecast
reconciliation for hierarchical and grouped time series through trace minimization.
*Journal of the American Statistical Association* 114(526), 804-819.

Schäfer, J. & Strimmer, K. (2005). A shrinkage approach to large-scale covariance matrix
estimation and implications for functional genomics. *Statistical Applications in
Genetics and Molecular Biology* 4(1), article 32.

Wickramasuriya, S. L., Turlach, B. A. & Hyndman, R. J. (2020). Optimal non-negative
forecast reconciliation. *Statistics and Computing* 30, 1167-1182.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.optimize
from scipy import sparse

from cpfr.exceptions import InputError, SchemaError
from cpfr.forecast.hierarchy import ID_COLUMN, TIME_COLUMN, Hierarchy

Method = Literal["bottom_up", "ols", "wls_struct", "wls_var", "mint_shrink"]
METHODS: tuple[str, ...] = ("bottom_up", "ols", "wls_struct", "wls_var", "mint_shrink")
MEAN_COLUMN = "mean"
RESIDUAL_COLUMN = "residual"
# hierarchicalforecast's guards, kept so golden comparisons hold to 1e-6.
VARIANCE_FLOOR = 2e-8
SHRINK_RIDGE = 2e-8
_QUANTILE_NAME = re.compile(r"^q\d")


@dataclass(frozen=True)
class ErrorCovariance:
    r"""A base-forecast error covariance held as diagonal plus low rank, eq. (3).

    :math:`W = \operatorname{diag}(d) + \alpha X^\top X`; never formed densely
    unless :meth:`dense` is called (tests, small hierarchies).

    Attributes
    ----------
    diagonal : numpy.ndarray
        :math:`d`, length ``n_nodes``.
    factor : numpy.ndarray
        :math:`X`, ``T x n_nodes`` (``0 x n_nodes`` for a diagonal :math:`W`).
    scale : float
        :math:`\alpha`.
    shrinkage : float
        The Schäfer-Strimmer intensity :math:`\lambda` of eq. (6); NaN when not shrunk.
    """

    diagonal: np.ndarray
    factor: np.ndarray
    scale: float
    shrinkage: float = float("nan")

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Return :math:`W v` for the columns ``v`` of ``vectors`` (``n_nodes x k``), eq. (5)."""
        product = self.diagonal[:, None] * vectors
        if self.factor.shape[0]:
            product += self.scale * (self.factor.T @ (self.factor @ vectors))
        return product

    def dense(self) -> np.ndarray:
        """Return :math:`W` as a dense ``n_nodes x n_nodes`` array (small hierarchies only)."""
        return np.diag(self.diagonal) + self.scale * (self.factor.T @ self.factor)


def shrunk_covariance(residuals: np.ndarray, ridge: float = SHRINK_RIDGE) -> ErrorCovariance:
    r"""Schäfer-Strimmer shrinkage of the residual covariance towards its diagonal, eq. (6).

    Parameters
    ----------
    residuals : numpy.ndarray
        ``T x n_nodes`` in-sample or backtest residuals, no NaN.
    ridge : float
        Floor of the diagonal (hierarchicalforecast's ``mint_shr_ridge``).

    Returns
    -------
    ErrorCovariance
        :math:`W` as diagonal plus the rank-``T`` centred residuals, with :math:`\lambda`.

    References
    ----------
    Schäfer, J. & Strimmer, K. (2005), *Stat. Appl. Genet. Mol. Biol.* 4(1), art. 32,
    shrinkage target "D" (diagonal, unequal variances).
    """
    periods = residuals.shape[0]
    if periods < 2:
        raise InputError(f"mint_shrink needs residuals on at least 2 dates, got {periods}")
    centred = residuals - residuals.mean(axis=0)
    sum_squares = np.einsum("ti,ti->i", centred, centred)
    variance = sum_squares / (periods - 1)
    standardised = centred / (np.sqrt(sum_squares / periods) + VARIANCE_FLOOR)
    squares = standardised**2
    gram = standardised @ standardised.T
    norms = squares.sum(axis=0)
    pair_products = 0.5 * (np.sum(gram**2) - np.sum(norms**2))
    pair_fourth = 0.5 * (np.sum(squares.sum(axis=1) ** 2) - np.sum(squares**2))
    variance_of_correlations = (pair_fourth - pair_products / periods) / (periods * (periods - 1))
    squared_correlations = pair_products / periods**2
    shrinkage = float(np.clip(variance_of_correlations / (squared_correlations + VARIANCE_FLOOR), 0.0, 1.0))
    keep = 1.0 - shrinkage
    return ErrorCovariance(
        diagonal=np.maximum(variance, ridge) - keep * variance,
        factor=centred,
        scale=keep / (periods - 1),
        shrinkage=shrinkage,
    )


def error_covariance(method: str, hierarchy: Hierarchy, residuals: np.ndarray | None) -> ErrorCovariance:
    """Return the :math:`W` of a MinTrace ``method`` (``ols``, ``wls_struct``, ``wls_var``, ``mint_shrink``).

    Parameters
    ----------
    method : str
        One of ``ols``, ``wls_struct``, ``wls_var``, ``mint_shrink``.
    hierarchy : Hierarchy
        The structure, for ``wls_struct``.
    residuals : numpy.ndarray or None
        ``T x n_nodes`` residuals in ``hierarchy.ids`` order, for ``wls_var``
        (NaN skipped) and ``mint_shrink`` (no NaN allowed).

    Returns
    -------
    ErrorCovariance
    """
    n_nodes = len(hierarchy.ids)
    no_factor = np.zeros((0, n_nodes))
    if method == "ols":
        return ErrorCovariance(np.ones(n_nodes), no_factor, 0.0)
    if method == "wls_struct":
        return ErrorCovariance(np.asarray(hierarchy.summing.sum(axis=1)).ravel(), no_factor, 0.0)
    if residuals is None:
        raise InputError(f"method {method!r} needs residuals (unique_id, ds, residual) for every node")
    if method == "wls_var":
        diagonal = np.nansum(residuals**2, axis=0) / residuals.shape[0] + VARIANCE_FLOOR
        return ErrorCovariance(diagonal, no_factor, 0.0)
    if np.isnan(residuals).any():
        node = hierarchy.ids[np.flatnonzero(np.isnan(residuals).any(axis=0))[0]]
        raise InputError(
            f"mint_shrink: residuals of node {node!r} are missing on some dates; "
            "give every node a residual on every date, or use wls_var"
        )
    return shrunk_covariance(residuals)


def reconcile_bottom(hierarchy: Hierarchy, base: np.ndarray, covariance: ErrorCovariance) -> np.ndarray:
    r"""Return the MinTrace bottom-level forecasts :math:`\tilde b` (``n_bottom x H``) by eq. (2).

    Parameters
    ----------
    hierarchy : Hierarchy
        The structure.
    base : numpy.ndarray
        Base means, ``n_nodes x H`` in ``hierarchy.ids`` order.
    covariance : ErrorCovariance
        :math:`W`.

    Returns
    -------
    numpy.ndarray
        The last ``n_bottom`` rows of :math:`\hat y - W C^\top (C W C^\top)^{-1} C \hat y`.
    """
    n_aggregates = hierarchy.n_aggregates
    if n_aggregates == 0:
        return base.copy()
    constraints = sparse.hstack(
        [sparse.identity(n_aggregates, format="csr"), -hierarchy.aggregating], format="csr"
    )
    system = (constraints.multiply(covariance.diagonal[None, :]).tocsr() @ constraints.T).toarray()
    if covariance.factor.shape[0]:
        projected = constraints @ covariance.factor.T
        system += covariance.scale * (projected @ projected.T)
    gap = constraints @ base
    try:
        multipliers = scipy.linalg.solve(system, gap, assume_a="pos")
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError) as error:
        raise InputError(
            "MinTrace: C W C' is singular or not positive definite; residuals may be constant "
            "or too few — use ols, wls_struct or wls_var"
        ) from error
    correction = covariance.apply(np.asarray(constraints.T @ multipliers))
    return base[n_aggregates:] - correction[n_aggregates:]


def nonnegative_bottom(
    hierarchy: Hierarchy, base: np.ndarray, covariance: ErrorCovariance, unconstrained: np.ndarray
) -> np.ndarray:
    r"""Non-negative MinTrace: :math:`\min_{b \ge 0} (\hat y - S b)^\top W^{-1} (\hat y - S b)` per date.

    Solved only for the dates whose unconstrained solution ``unconstrained``
    (``n_bottom x H``) has a negative entry, by L-BFGS-B with bounds from the
    clipped unconstrained solution; :math:`W^{-1}` is applied through the
    Woodbury identity on its diagonal-plus-low-rank form, so nothing
    ``n_nodes x n_nodes`` is formed. Wickramasuriya et al. solve the same convex
    quadratic programme with block principal pivoting; the solutions agree to
    the solver's tolerance (see the tests against a dense QP).

    References
    ----------
    Wickramasuriya, S. L., Turlach, B. A. & Hyndman, R. J. (2020), "Optimal non-negative
    forecast reconciliation", *Statistics and Computing* 30, 1167-1182.
    """
    result = np.maximum(unconstrained, 0.0)
    negative = np.flatnonzero((unconstrained < 0).any(axis=0))
    if len(negative) == 0:
        return result
    inverse = _woodbury_inverse(covariance)
    summing = hierarchy.summing.tocsr()
    scale = max(float(np.abs(base).max()), 1.0)  # solve in units of the largest forecast
    for column in negative:
        target = base[:, column] / scale

        def objective(bottom: np.ndarray, target: np.ndarray = target) -> tuple[float, np.ndarray]:
            gap = target - summing @ bottom
            weighted = inverse(gap)
            return float(gap @ weighted), -2.0 * np.asarray(summing.T @ weighted).ravel()

        solution = scipy.optimize.minimize(
            objective,
            result[:, column] / scale,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * summing.shape[1],
            options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-12},
        )
        result[:, column] = np.maximum(solution.x, 0.0) * scale
    return result


def _woodbury_inverse(covariance: ErrorCovariance) -> Callable[[np.ndarray], np.ndarray]:
    r"""Return :math:`v \mapsto W^{-1} v` for :math:`W = D + \alpha X^\top X` (Woodbury identity)."""
    inverse_diagonal = 1.0 / covariance.diagonal
    factor = covariance.factor
    if not factor.shape[0] or covariance.scale == 0:
        return lambda vector: inverse_diagonal * vector
    scaled = factor * inverse_diagonal[None, :]
    core = np.eye(factor.shape[0]) / covariance.scale + scaled @ factor.T
    core_factor = scipy.linalg.cho_factor(core)

    def apply(vector: np.ndarray) -> np.ndarray:
        return inverse_diagonal * vector - scaled.T @ scipy.linalg.cho_solve(core_factor, scaled @ vector)

    return apply


def reconcile(
    base: pd.DataFrame,
    hierarchy: Hierarchy,
    *,
    method: Method,
    residuals: pd.DataFrame | None = None,
    nonnegative: bool = False,
    value_cols: Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Make base forecasts of every node coherent: aggregates equal the sum of their bottom series.

    Parameters
    ----------
    base : pandas.DataFrame
        Long ``unique_id, ds, mean, q0.05, ...`` for every node of
        ``hierarchy`` on every date (all ``n_nodes x H`` rows).
    hierarchy : Hierarchy
        The structure the forecasts must respect.
    method : {'bottom_up', 'ols', 'wls_struct', 'wls_var', 'mint_shrink'}
        ``bottom_up`` keeps the bottom means and sums them; the others are
        MinTrace with the :math:`W` listed in the module docstring.
    residuals : pandas.DataFrame, optional
        Long ``unique_id, ds, residual`` (actual minus fitted) for every
        node, in-sample or from backtests; needed by ``wls_var`` and ``mint_shrink``.
    nonnegative : bool
        Keep bottom means non-negative: where the MinTrace solution has a
        negative bottom mean, solve the constrained problem exactly (see
        :func:`nonnegative_bottom`); ``bottom_up`` clips the bottom means.
        Quantiles are clipped at 0.
    value_cols : sequence of str, optional
        Columns to reconcile: ``mean`` and quantile columns. Default ``mean``
        and every column named ``q`` + number.

    Returns
    -------
    pandas.DataFrame
        ``base`` with ``value_cols`` replaced, rows in the same order. The
        mean is reconciled by ``method``; each quantile is shifted by its
        node's mean adjustment :math:`\tilde y - \hat y` ("mean shift": the
        linear projection is valid for means, not for quantiles of sums),
        then each row's quantiles are sorted by level so they never cross.

    Raises
    ------
    SchemaError
        If a column is missing.
    InputError
        If the method is unknown, a node or date is missing from ``base``,
        a mean is not finite, or residuals are needed and missing.

    References
    ----------
    Wickramasuriya, Athanasopoulos & Hyndman (2019), *JASA* 114(526), 804-819;
    Wickramasuriya, Turlach & Hyndman (2020), *Statistics and Computing* 30, 1167-1182.
    """
    if method not in METHODS:
        raise InputError(f"reconcile: method {method!r} is not one of {list(METHODS)}")
    columns = _value_columns(base, value_cols)
    quantile_cols = [column for column in columns if column != MEAN_COLUMN]
    series, (dates, date_codes) = hierarchy.locate(base, hierarchy.ids)
    n_nodes, horizon = len(hierarchy.ids), len(dates)
    if len(base) != n_nodes * horizon:
        present = np.zeros((n_nodes, horizon), dtype=bool)
        present[series, date_codes] = True
        node, date = np.argwhere(~present)[0]
        raise InputError(
            f"reconcile: base has no forecast for node {hierarchy.ids[node]!r} on {dates[date]!r}; "
            "every node needs a forecast on every date"
        )
    base_mean = np.empty((n_nodes, horizon))
    base_mean[series, date_codes] = base[MEAN_COLUMN].to_numpy(dtype=float)
    if not np.isfinite(base_mean).all():
        node = hierarchy.ids[np.flatnonzero(~np.isfinite(base_mean).all(axis=1))[0]]
        raise InputError(f"reconcile: base mean of node {node!r} is missing or not finite")

    if method == "bottom_up":
        bottom = base_mean[hierarchy.n_aggregates :]
    else:
        residual_matrix = None if residuals is None else _residual_matrix(residuals, hierarchy)
        covariance = error_covariance(method, hierarchy, residual_matrix)
        bottom = reconcile_bottom(hierarchy, base_mean, covariance)
    if nonnegative:
        if method == "bottom_up":
            bottom = np.maximum(bottom, 0.0)
        else:
            bottom = nonnegative_bottom(hierarchy, base_mean, covariance, bottom)
    reconciled = np.asarray(hierarchy.summing @ bottom)

    result = base.copy()
    result[MEAN_COLUMN] = reconciled[series, date_codes]
    if quantile_cols:
        shift = (reconciled - base_mean)[series, date_codes]
        ordered = sorted(quantile_cols, key=_quantile_level)
        quantiles = np.sort(result[ordered].to_numpy(dtype=float) + shift[:, None], axis=1)
        if nonnegative:
            quantiles = np.maximum(quantiles, 0.0)
        result[ordered] = quantiles
    return result


def _value_columns(base: pd.DataFrame, value_cols: Sequence[str] | None) -> list[str]:
    """Return the columns to reconcile, checking they exist and include ``mean``."""
    required = [ID_COLUMN, TIME_COLUMN, MEAN_COLUMN]
    missing = [column for column in required if column not in base.columns]
    if missing:
        raise SchemaError(f"reconcile: base lacks columns {missing}; expected {required} and quantiles")
    if value_cols is None:
        return [MEAN_COLUMN, *(column for column in base.columns if _QUANTILE_NAME.match(str(column)))]
    columns = list(value_cols)
    absent = [column for column in columns if column not in base.columns]
    if absent or MEAN_COLUMN not in columns:
        raise SchemaError(f"reconcile: value_cols {columns} must include 'mean' and exist in base")
    return columns


def _quantile_level(column: str) -> float:
    """Return the level of a quantile column ``q0.05`` (columns with no number keep their order)."""
    try:
        return float(column[1:])
    except ValueError:
        return float("inf")


def _residual_matrix(residuals: pd.DataFrame, hierarchy: Hierarchy) -> np.ndarray:
    """Pivot long residuals to ``T x n_nodes`` (ids order); NaN where a node lacks a date."""
    required = [ID_COLUMN, TIME_COLUMN, RESIDUAL_COLUMN]
    missing = [column for column in required if column not in residuals.columns]
    if missing:
        raise SchemaError(f"reconcile: residuals lack columns {missing}; expected {required}")
    series, (dates, date_codes) = hierarchy.locate(residuals, hierarchy.ids)
    matrix = np.full((len(dates), len(hierarchy.ids)), np.nan)
    matrix[date_codes, series] = residuals[RESIDUAL_COLUMN].to_numpy(dtype=float)
    absent = np.isnan(matrix).all(axis=0)
    if absent.any():
        raise InputError(f"reconcile: no residuals for node {hierarchy.ids[np.flatnonzero(absent)[0]]!r}")
    return matrix
