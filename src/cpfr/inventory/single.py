"""Single-stage inventory policies: newsvendor, base-stock, EOQ, (r,Q), (s,S), Wagner-Whitin, service levels.

Each solver is a small function returning a frozen result. Conventions follow
Snyder & Shen (2019), *Fundamentals of Supply Chain Theory*, 2nd ed. (S&S):
``holding_cost`` h and ``stockout_cost`` p are per unit per period (per unit
time for continuous review), backorders, costs are expected costs per period.
Golden tests pin the book's worked examples.

Hand-written: these are closed forms and short exact algorithms; stockpyl
(the reference implementation of S&S) is used to cross-check them in the
tests and benchmarks, but is a teaching library (loops in Python, no
vectorised loss functions, no forecast-quantile demand) and not a runtime
dependency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from cpfr.exceptions import InputError, LimitError
from cpfr.inventory.demand import Demand
from cpfr.inventory.limits import (
    DEFAULT_TIME_LIMIT_SECONDS,
    MAX_PLANNING_PERIODS,
    MAX_R_Q_ORDER,
    MAX_S_S_ORDER,
    MAX_SUPPORT,
    Deadline,
)


def _positive(**values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, int | float) and 0 < value < math.inf):
            raise InputError(f"{name} {value!r}: expected a number > 0")


def _non_negative(**values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, int | float) and 0 <= value < math.inf):
            raise InputError(f"{name} {value!r}: expected a number >= 0")


@dataclass(frozen=True)
class BaseStockResult:
    """Optimal base-stock (order-up-to) level, its expected cost per period and the critical ratio."""

    base_stock: float
    expected_cost: float
    critical_ratio: float


def newsvendor_cost(level: float, holding_cost: float, stockout_cost: float, demand: Demand) -> float:
    """Return the expected cost h E[(S-D)^+] + p E[(D-S)^+] of stocking ``level`` (S&S eq. 4.6)."""
    return float(holding_cost * demand.excess(level) + stockout_cost * demand.shortfall(level))


def newsvendor(holding_cost: float, stockout_cost: float, demand: Demand) -> BaseStockResult:
    """Newsvendor: stock the p/(h+p) fractile of demand (S&S sec. 4.3, Thm 4.1; discrete: sec. 4.3.3).

    Normal demand gives S = mu + z sigma and cost (h+p) phi(z) sigma (S&S eq. 4.24, 4.30);
    Poisson and discrete demand the smallest S with F(S) >= p/(h+p). A stock level
    cannot be negative: where the normal fractile is below zero (a low ratio and a wide
    normal), the level is 0, the best level >= 0 since the expected cost is convex.

    Examples
    --------
    >>> result = newsvendor(0.18, 0.70, Demand.normal(50, 8))  # S&S Example 4.3
    >>> round(result.base_stock, 4), round(result.expected_cost, 4)
    (56.604, 1.9976)
    """
    _positive(holding_cost=holding_cost, stockout_cost=stockout_cost)
    ratio = stockout_cost / (holding_cost + stockout_cost)
    level = max(demand.quantile(ratio), 0.0)
    return BaseStockResult(level, newsvendor_cost(level, holding_cost, stockout_cost, demand), ratio)


def base_stock(
    holding_cost: float,
    stockout_cost: float,
    demand: Demand,
    lead_time: int,
    *,
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
) -> BaseStockResult:
    """Periodic-review base-stock level with lead time L: the newsvendor on demand over L + 1 periods.

    An order placed at the start of a period arrives L periods later; the cost
    at the end of that period depends on demand over L + 1 periods (S&S sec. 4.3.4).
    Summing a discrete demand over the periods is bounded (see
    :meth:`Demand.over_periods`) and stops at ``time_limit_seconds`` (SolverLimitError).
    """
    _non_negative(lead_time=lead_time)
    deadline = Deadline(time_limit_seconds, "base_stock")
    return newsvendor(holding_cost, stockout_cost, demand.over_periods(lead_time + 1, deadline=deadline))


def fill_rate_base_stock(demand_per_period: Demand, lead_time: int, fill_rate: float) -> float:
    """Smallest base-stock level whose fill rate 1 - n(S)/E[D] reaches ``fill_rate`` (S&S eq. 4.36)."""
    if not 0 < fill_rate < 1:
        raise InputError(f"fill_rate {fill_rate}: expected a fraction strictly between 0 and 1")
    protection = demand_per_period.over_periods(lead_time + 1)
    allowed = (1 - fill_rate) * demand_per_period.mean
    if protection.kind == "normal":
        # The level can sit below the mean by up to the shortfall allowed (nearly certain demand).
        low, high = protection.mean - 10 * protection.sd - allowed, protection.mean + 10 * protection.sd
        return float(
            optimize.brentq(lambda s: float(protection.shortfall(s)) - allowed, low, high, xtol=1e-10)
        )
    values, _ = protection.support()
    shortfall = protection.shortfall(values)
    return float(values[int(np.argmax(shortfall <= allowed + 1e-12))])


def cycle_service_base_stock(demand_per_period: Demand, lead_time: int, service_level: float) -> float:
    """Base-stock level with P(no stockout in a cycle) >= ``service_level`` (type-1 service, S&S 4.3.5)."""
    if not 0 < service_level < 1:
        raise InputError(f"service_level {service_level}: expected a fraction strictly between 0 and 1")
    return demand_per_period.over_periods(lead_time + 1).quantile(service_level)


# -- economic order quantity -----------------------------------------------------------------------


@dataclass(frozen=True)
class EOQResult:
    """Order quantity and the cost per unit time it attains (ordering + holding [+ purchase])."""

    order_quantity: float
    expected_cost: float


def eoq(fixed_cost: float, holding_cost: float, demand_rate: float) -> EOQResult:
    """Economic order quantity Q* = sqrt(2 K lambda / h), cost sqrt(2 K lambda h) (S&S eq. 3.4, 3.5)."""
    if not (0 < fixed_cost < math.inf and 0 < holding_cost < math.inf and 0 < demand_rate < math.inf):
        _positive(fixed_cost=fixed_cost, holding_cost=holding_cost, demand_rate=demand_rate)  # name it
    quantity = math.sqrt(2 * fixed_cost * demand_rate / holding_cost)
    return EOQResult(quantity, math.sqrt(2 * fixed_cost * demand_rate * holding_cost))


def eoq_all_units_discount(
    fixed_cost: float,
    holding_cost_rate: float,
    demand_rate: float,
    breakpoints: Sequence[float],
    unit_costs: Sequence[float],
) -> EOQResult:
    """EOQ with all-units quantity discounts: unit cost c_j for every unit when Q >= b_j (S&S sec. 3.5.1).

    Holding cost is ``holding_cost_rate`` x unit cost; the cost returned
    includes purchasing, c_j lambda + K lambda / Q + i c_j Q / 2.
    """
    _positive(fixed_cost=fixed_cost, holding_cost_rate=holding_cost_rate, demand_rate=demand_rate)
    bounds = [float(value) for value in breakpoints]
    costs = [float(value) for value in unit_costs]
    if (
        len(bounds) != len(costs)
        or not bounds
        or bounds[0] != 0
        or any(b >= a for a, b in zip(bounds[1:], bounds, strict=False))
    ):
        raise InputError("discounts: expected breakpoints starting at 0, increasing, one unit cost each")
    best: EOQResult | None = None
    for index, (start, unit) in enumerate(zip(bounds, costs, strict=True)):
        _positive(unit_cost=unit)
        end = bounds[index + 1] if index + 1 < len(bounds) else np.inf
        quantity = max(float(np.sqrt(2 * fixed_cost * demand_rate / (holding_cost_rate * unit))), start)
        if quantity >= end:  # this band's optimum lies in a cheaper band above it
            continue
        cost = (
            unit * demand_rate + fixed_cost * demand_rate / quantity + holding_cost_rate * unit * quantity / 2
        )
        if best is None or cost < best.expected_cost:
            best = EOQResult(quantity, float(cost))
    assert best is not None
    return best


# -- continuous review (r, Q) ----------------------------------------------------------------------


@dataclass(frozen=True)
class RQResult:
    """Reorder point r, order quantity Q and expected cost per unit time."""

    reorder_point: float
    order_quantity: float
    expected_cost: float


def r_q_cost(
    reorder_point: float,
    order_quantity: float,
    holding_cost: float,
    stockout_cost: float,
    fixed_cost: float,
    lead_time_demand: Demand,
    demand_rate: float,
) -> float:
    """Exact expected cost per unit time of an (r,Q) policy (S&S eq. 5.7).

    g(r,Q) = (K lambda + integral_r^{r+Q} g(y) dy) / Q for continuous (normal)
    demand, with g the newsvendor cost on lead-time demand; the sum over
    y = r+1 ... r+Q for discrete (Poisson) demand (S&S eq. 5.37).
    """
    h, p, demand = holding_cost, stockout_cost, lead_time_demand
    if demand.kind == "normal":
        r, q = reorder_point, order_quantity
        holding = h * ((r + q - demand.mean) ** 2 - (r - demand.mean) ** 2) / 2
        shortage = (h + p) * (demand.second_shortfall(r) - demand.second_shortfall(r + q))
        return float((fixed_cost * demand_rate + holding + shortage) / q)
    levels = np.arange(int(reorder_point) + 1, int(reorder_point) + int(order_quantity) + 1, dtype=float)
    total = h * demand.excess(levels) + p * demand.shortfall(levels)
    return float((fixed_cost * demand_rate + total.sum()) / order_quantity)


def r_q(
    holding_cost: float,
    stockout_cost: float,
    fixed_cost: float,
    demand: Demand,
    lead_time: float,
    *,
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
) -> RQResult:
    """Optimal (r,Q) under continuous review with backorders (exact).

    ``demand`` is per unit time. Normal: for each Q the optimal r equates
    g(r) = g(r + Q) (g convex), and the cost in Q is minimised numerically
    (Zheng 1992, "On properties of stochastic inventory systems", Mgmt Sci 38(1)).
    Poisson: the Federgruen & Zheng (1992) algorithm, "An efficient algorithm for
    computing an optimal (r,Q) policy in continuous review stochastic inventory
    systems", Oper Res 40(4): grow the window of Q consecutive levels greedily.

    The Poisson search takes one step per unit of Q: an instance whose order
    quantity, estimated by the EOQ with planned backorders
    sqrt(2 K lambda (h + p) / (h p)), exceeds ``MAX_R_Q_ORDER`` is refused
    (LimitError), and either search stops at ``time_limit_seconds`` (SolverLimitError).
    """
    _positive(holding_cost=holding_cost, stockout_cost=stockout_cost, fixed_cost=fixed_cost)
    _non_negative(lead_time=lead_time)
    deadline = Deadline(time_limit_seconds, "r_Q")
    h, p, rate = holding_cost, stockout_cost, demand.mean
    if demand.kind == "poisson":
        return _r_q_poisson(
            h, p, fixed_cost, Demand.poisson(rate * lead_time) if lead_time > 0 else None, rate, deadline
        )
    if demand.kind != "normal":
        raise InputError("r_Q: demand must be normal or poisson")
    lead = Demand.normal(rate * lead_time, demand.sd * np.sqrt(lead_time)) if lead_time > 0 else None
    if lead is None:
        raise InputError("r_Q with normal demand needs lead_time > 0")

    def g(level: float) -> float:
        return newsvendor_cost(level, h, p, lead)

    def best_r(quantity: float) -> float:
        low, high = lead.mean - 12 * lead.sd - quantity, lead.mean + 12 * lead.sd
        return float(optimize.brentq(lambda r: g(r + quantity) - g(r), low, high, xtol=1e-12))

    def cost(quantity: float) -> float:
        deadline.check()
        return r_q_cost(best_r(quantity), quantity, h, p, fixed_cost, lead, rate)

    upper = np.sqrt(2 * fixed_cost * rate * (h + p) / (h * p)) + 4 * lead.sd + 1.0  # above the EOQB bound
    found = optimize.minimize_scalar(cost, bounds=(1e-9, upper), method="bounded", options={"xatol": 1e-9})
    quantity = float(found.x)
    return RQResult(best_r(quantity), quantity, cost(quantity))


def _order_estimate(fixed_cost: float, rate: float, holding_cost: float, stockout_cost: float) -> float:
    """EOQ with planned backorders, sqrt(2 K lambda (h + p) / (h p)): the size of the order to expect."""
    return math.sqrt(2 * fixed_cost * rate * (holding_cost + stockout_cost) / (holding_cost * stockout_cost))


def _r_q_poisson(
    h: float, p: float, fixed_cost: float, lead: Demand | None, rate: float, deadline: Deadline
) -> RQResult:
    if lead is None:
        raise InputError("r_Q with Poisson demand needs lead_time > 0")
    estimate = _order_estimate(fixed_cost, rate, h, p)
    if estimate > MAX_R_Q_ORDER:
        raise LimitError(
            f"r_Q: an order quantity of about {estimate:,.0f} units (EOQ with backorders); at most "
            f"{MAX_R_Q_ORDER:,} is supported: a smaller fixed cost or demand, or a larger holding cost"
        )
    values, _ = lead.support()
    top = int(values[-1]) + 1
    # The window of Q levels spreads around the minimum of g (within 0 .. top) by about Q on either side.
    reach = top + 2 * int(estimate) + 16
    first = -reach
    g = _r_q_costs(h, p, lead, first, top + reach)
    low = high = int(np.argmin(g))
    total, quantity = g[low], 1
    cost = (fixed_cost * rate + total) / quantity
    while True:
        if quantity % 4096 == 1:
            deadline.check()
        if low == 0 or high + 1 == len(g):  # the window reached the table's edge: widen it
            first, g, low, high = _widen(h, p, lead, first, g, low, high)
        left, right = g[low - 1], g[high + 1]
        nxt = min(left, right)
        if nxt >= cost:  # adding a level only raises the average: Q is optimal
            break
        if left <= right:
            low -= 1
        else:
            high += 1
        total, quantity = total + nxt, quantity + 1
        cost = (fixed_cost * rate + total) / quantity
    reorder = float(first + low - 1)  # the window is y = r+1 ... r+Q
    return RQResult(reorder, float(quantity), float(cost))


def _r_q_costs(h: float, p: float, lead: Demand, first: int, last: int) -> np.ndarray:
    """Return g(y) = h E[(y - D)^+] + p E[(D - y)^+] for the integer levels first .. last."""
    levels = np.arange(first, last + 1, dtype=float)
    return np.asarray(h * lead.excess(levels) + p * lead.shortfall(levels))


def _widen(
    h: float, p: float, lead: Demand, first: int, g: np.ndarray, low: int, high: int
) -> tuple[int, np.ndarray, int, int]:
    """Double the table of g on both sides; return its new first level, values and the shifted window."""
    extra = len(g)
    wider = _r_q_costs(h, p, lead, first - extra, first + len(g) - 1 + extra)
    return first - extra, wider, low + extra, high + extra


# -- periodic review (s, S) ------------------------------------------------------------------------


@dataclass(frozen=True)
class SSResult:
    """Reorder point s (order when inventory position <= s), order-up-to level S, expected cost per period."""

    reorder_point: float
    order_up_to: float
    expected_cost: float


def s_S(
    holding_cost: float,
    stockout_cost: float,
    fixed_cost: float,
    demand: Demand,
    *,
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
) -> SSResult:
    """Optimal (s,S) for discrete demand, zero lead time, backorders: Zheng & Federgruen (1991).

    Zheng, Y.-S. & Federgruen, A. (1991), "Finding optimal (s,S) policies is about as simple
    as evaluating a single policy", Oper Res 39(4), 654-665; S&S sec. 4.6.

    The search is quadratic in S - s: an instance whose order size, estimated by the
    EOQ with planned backorders sqrt(2 K lambda (h + p) / (h p)), exceeds
    ``MAX_S_S_ORDER``, or whose demand takes values beyond ``MAX_SUPPORT``, is refused
    (LimitError); the search stops at ``time_limit_seconds`` (SolverLimitError).

    Examples
    --------
    >>> result = s_S(1, 4, 5, Demand.poisson(6))  # S&S Example 4.7
    >>> result.reorder_point, result.order_up_to, round(result.expected_cost, 4)
    (4.0, 10.0, 8.0341)
    """
    _positive(holding_cost=holding_cost, stockout_cost=stockout_cost, fixed_cost=fixed_cost)
    deadline = Deadline(time_limit_seconds, "s_S")
    values, pmf = demand.support() if demand.kind != "normal" else (None, None)
    if values is None or (values != np.round(values)).any():
        raise InputError(
            "s_S: demand must be discrete on whole units (poisson, or discrete with integer values)"
        )
    if values[-1] + 1 > MAX_SUPPORT:
        raise LimitError(
            f"s_S: demand values up to {values[-1]:,.0f}, at most {MAX_SUPPORT - 1:,} are supported "
            "(the search enumerates every level up to the largest demand)"
        )
    estimate = _order_estimate(fixed_cost, demand.mean, holding_cost, stockout_cost)
    if estimate > MAX_S_S_ORDER:
        raise LimitError(
            f"s_S: an order size S - s of about {estimate:,.0f} units (EOQ with backorders); at most "
            f"{MAX_S_S_ORDER:,} is supported: a smaller fixed cost or demand, or a larger holding cost"
        )
    pmf_full = np.zeros(int(values[-1]) + 1)
    pmf_full[values.astype(int)] = pmf
    if pmf_full[0] >= 1:
        raise InputError("s_S: demand is zero with probability 1")
    top = len(pmf_full) - 1
    # G on a window of integer levels, computed once (vectorised); widened if the search leaves it.
    cache: dict[str, Any] = {"low": 0, "values": np.zeros(0)}

    def table(low: int, high: int) -> None:
        levels = np.arange(low, high + 1, dtype=float)
        cache["low"], cache["values"] = (
            low,
            holding_cost * demand.excess(levels) + stockout_cost * demand.shortfall(levels),
        )

    table(-2 * top - 10, 4 * top + 10)

    def G(y: int) -> float:  # the book's notation
        position = y - cache["low"]
        if position < 0 or position >= len(cache["values"]):
            width = len(cache["values"])  # double the table so that widening stays rare
            table(min(y, cache["low"]) - width, max(y, cache["low"] + width) + width)
            position = y - cache["low"]
        return float(cache["values"][position])

    # m(j): expected periods the inventory position spends j units below S (renewal function).
    renewal: dict[str, Any] = {"values": np.empty(1024), "count": 1}
    renewal["values"][0] = 1.0 / (1 - pmf_full[0])
    reversed_pmf = pmf_full[1:][::-1]

    def m_upto(count: int) -> np.ndarray:
        known: np.ndarray = renewal["values"]
        if count > len(known):
            known = np.concatenate([known, np.empty(max(count, 2 * len(known)) - len(known))])
            renewal["values"] = known
        for k in range(renewal["count"], count):
            if k % 1024 == 0:
                deadline.check()
            window = known[max(0, k - top) : k]  # m(k - i) for i = min(k, top) .. 1
            known[k] = float(reversed_pmf[len(reversed_pmf) - len(window) :] @ window) / (1 - pmf_full[0])
        renewal["count"] = max(renewal["count"], count)
        return known[:count]

    def c(s: int, big_s: int) -> float:
        deadline.check()
        gap = big_s - s
        weights = m_upto(gap)
        position = big_s - cache["low"]
        if position - gap + 1 < 0 or position >= len(cache["values"]):
            G(big_s - gap + 1)
            G(big_s)
            position = big_s - cache["low"]
        costs = cache["values"][position - gap + 1 : position + 1][::-1]  # G(S - j), j = 0 .. gap-1
        return float((fixed_cost + weights @ costs) / weights.sum())

    # G is convex; its minimum lies in the support 0 .. top.
    y_star = int(np.argmin(cache["values"][-cache["low"] : -cache["low"] + top + 1]))
    s = y_star - 1
    while c(s, y_star) > G(s):
        s -= 1
    order_up_to, best = y_star, c(s, y_star)
    level = order_up_to + 1
    while G(level) <= best:
        if c(s, level) < best:
            order_up_to = level
            while c(s, order_up_to) <= G(s + 1):
                s += 1
            best = c(s, order_up_to)
        level += 1
    return SSResult(float(s), float(order_up_to), best)


# -- known time-varying demand ---------------------------------------------------------------------


@dataclass(frozen=True)
class WagnerWhitinResult:
    """Order quantity per period and the total fixed + holding cost."""

    order_quantities: tuple[float, ...]
    expected_cost: float


def wagner_whitin(
    demand: Sequence[float],
    fixed_cost: float,
    holding_cost: float,
    *,
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
) -> WagnerWhitinResult:
    """Optimal lot sizes for known demand d_1..d_T: dynamic programme over the last order period.

    Wagner & Whitin (1958), "Dynamic version of the economic lot size model", Mgmt Sci 5(1); S&S sec. 3.7.
    Holding cost is charged on inventory at the end of each period. The programme is
    quadratic in T: more than ``MAX_PLANNING_PERIODS`` periods are refused (LimitError),
    and it stops at ``time_limit_seconds`` (SolverLimitError).

    Examples
    --------
    >>> wagner_whitin([20, 50, 10, 50], fixed_cost=100, holding_cost=1).order_quantities
    (80.0, 0.0, 0.0, 50.0)
    """
    _non_negative(fixed_cost=fixed_cost, holding_cost=holding_cost)
    deadline = Deadline(time_limit_seconds, "wagner_whitin")
    needs = np.asarray(demand, dtype=float)
    if needs.ndim != 1 or (needs < 0).any() or not np.isfinite(needs).all():
        raise InputError("demand: expected a list of non-negative numbers")
    periods = len(needs)
    if periods > MAX_PLANNING_PERIODS:
        raise LimitError(
            f"wagner_whitin: {periods:,} periods, at most {MAX_PLANNING_PERIODS:,} are supported "
            "(the programme is quadratic in the periods)"
        )
    # Holding cost of covering periods start+1 .. end from an order in period start+1, from prefix sums:
    # h * sum_t d_t (t - start) = h * (W[end] - W[start] - start * (D[end] - D[start])).
    units = np.concatenate([[0.0], np.cumsum(needs)])
    weighted = np.concatenate([[0.0], np.cumsum(needs * np.arange(periods))])
    best = [0.0]
    last = [0]
    for end in range(1, periods + 1):
        if end % 256 == 0:
            deadline.check()
        starts = np.arange(end)
        covered = units[end] - units[:end]
        holding = holding_cost * (weighted[end] - weighted[:end] - starts * covered)
        cost = np.asarray(best) + np.where(covered > 0, fixed_cost, 0.0) + holding
        choice = int(np.argmin(cost))
        best.append(float(cost[choice]))
        last.append(choice)
    orders = np.zeros(periods)
    end = periods
    while end > 0:
        start = last[end]
        orders[start] = needs[start:end].sum()
        end = start
    return WagnerWhitinResult(tuple(float(q) for q in orders), best[periods])
