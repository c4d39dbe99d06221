"""Inventory solvers side by side with stockpyl (Snyder & Shen's reference library): values and time.

Run with ``make bench-inventory`` (installs the ``bench`` extra, i.e. stockpyl) or
``python benchmarks/inventory_solvers.py``. Every golden instance is solved by cpfr
and by stockpyl in the same run; the table gives both values, their largest
absolute difference and the time ratio cpfr / stockpyl (median of repeated
solves). Goal: values equal to 1e-4, time ratio <= 1.0. The distribution system
has no stockpyl counterpart: it is checked against a simulation of the same policy.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy import stats

from cpfr.inventory.demand import Demand
from cpfr.inventory.distribution import Location, distribution_base_stock
from cpfr.inventory.gsm import GSMStage, gsm_tree
from cpfr.inventory.serial import SerialStage, serial_base_stock
from cpfr.inventory.single import (
    base_stock,
    eoq,
    eoq_all_units_discount,
    newsvendor,
    r_q,
    s_S,
    wagner_whitin,
)

WEEKLY = np.random.default_rng(3).poisson(80, 104).astype(float)


def timed(call: Callable[[], Any], budget: float = 0.3) -> tuple[Any, float]:
    """Return the result and the median seconds of repeated calls within about ``budget`` seconds."""
    times = []
    result = None
    started = time.perf_counter()
    while not times or (time.perf_counter() - started < budget and len(times) < 200):
        begin = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - begin)
    return result, float(np.median(times))


def cases() -> list[tuple[str, Callable[[], list[float]], Callable[[], list[float]]]]:
    """(name, cpfr solve -> values, stockpyl solve -> the same values) for each golden instance."""
    import stockpyl.eoq as s_eoq
    import stockpyl.gsm_tree as s_gsm
    import stockpyl.newsvendor as s_nv
    import stockpyl.rq as s_rq
    import stockpyl.ss as s_ss
    import stockpyl.ssm_serial as s_serial
    import stockpyl.wagner_whitin as s_ww
    from stockpyl.instances import load_instance

    def nv_normal() -> list[float]:
        r = newsvendor(0.18, 0.70, Demand.normal(50, 8))
        return [r.base_stock, r.expected_cost]

    def nv_poisson() -> list[float]:
        r = newsvendor(0.18, 0.70, Demand.poisson(50))
        return [r.base_stock, r.expected_cost]

    def bs_lead() -> list[float]:
        r = base_stock(0.18, 0.70, Demand.normal(50, 8), 3)
        return [r.base_stock, r.expected_cost]

    def ss() -> list[float]:
        r = s_S(1, 4, 5, Demand.poisson(6))
        return [r.reorder_point, r.order_up_to, r.expected_cost]

    def rq_normal() -> list[float]:
        r = r_q(0.225, 7.5, 8, Demand.normal(1300, 150), 1 / 12)
        return [r.reorder_point, r.order_quantity, r.expected_cost]

    def rq_normal_ref() -> list[float]:
        r, q = s_rq.r_q_loss_function_approximation(0.225, 7.5, 8, 1300, 150, 1 / 12)
        return [r, q, s_rq.r_q_cost(r, q, 0.225, 7.5, 8, 1300, 150, 1 / 12)]

    def rq_poisson() -> list[float]:
        r = r_q(20, 150, 100, Demand.poisson(1.5), 2)
        return [r.reorder_point, r.order_quantity, r.expected_cost]

    def serial() -> list[float]:
        stages = [SerialStage(1, 3, 1), SerialStage(2, 2, 1), SerialStage(3, 2, 2)]
        r = serial_base_stock(stages, 37.12, 5, 1)
        return [r.base_stock[1], r.base_stock[2], r.base_stock[3], r.expected_cost]

    def serial_ref() -> list[float]:
        levels, cost = s_serial.optimize_base_stock_levels(
            num_nodes=3,
            echelon_holding_cost=[2, 2, 3],
            lead_time=[2, 1, 1],
            stockout_cost=37.12,
            demand_mean=5,
            demand_standard_deviation=1,
        )
        return [levels[1], levels[2], levels[3], cost]

    def gsm() -> list[float]:
        stages = [
            GSMStage(1, 2, 1, external_inbound_cst=1),
            GSMStage(3, 1, 2),
            GSMStage(2, 1, 3, demand_sd=1, max_outbound_cst=0),
            GSMStage(4, 1, 3, demand_sd=1, max_outbound_cst=1),
        ]
        r = gsm_tree(stages, [(1, 3), (3, 2), (3, 4)], float(stats.norm.cdf(1)))
        return [*(r.committed_service_time[k] for k in (1, 2, 3, 4)), r.expected_cost]

    def gsm_ref() -> list[float]:
        cst, cost = s_gsm.optimize_committed_service_times(load_instance("example_6_5"))
        return [*(cst[k] for k in (1, 2, 3, 4)), cost]

    return [
        (
            "newsvendor normal (S&S ex. 4.3)",
            nv_normal,
            lambda: list(s_nv.newsvendor_normal(0.18, 0.70, 50, 8)),
        ),
        ("newsvendor Poisson", nv_poisson, lambda: list(s_nv.newsvendor_poisson(0.18, 0.70, 50))),
        (
            "base-stock, lead time 3",
            bs_lead,
            lambda: list(s_nv.newsvendor_normal(0.18, 0.70, 50, 8, lead_time=3)),
        ),
        ("(s,S) Poisson (ex. 4.7)", ss, lambda: list(s_ss.s_s_discrete_exact(1, 4, 5, True, 6))),
        ("(r,Q) normal (ex. 5.1)", rq_normal, rq_normal_ref),
        ("(r,Q) Poisson exact", rq_poisson, lambda: list(s_rq.r_q_poisson_exact(20, 150, 100, 1.5, 2))),
        (
            "EOQ (ex. 3.1)",
            lambda: list(vars(eoq(8, 0.225, 1300)).values()),
            lambda: list(s_eoq.economic_order_quantity(8, 0.225, 1300)),
        ),
        (
            "EOQ all-units discounts",
            lambda: list(
                vars(eoq_all_units_discount(150, 0.25, 2400, [0, 100, 200], [100, 90, 80])).values()
            ),
            lambda: [
                (
                    found := s_eoq.economic_order_quantity_with_all_units_discounts(
                        150, 0.25, 2400, [0, 100, 200], [100, 90, 80]
                    )
                )[0],
                found[2],
            ],
        ),
        (
            "Wagner-Whitin (ex. 3.9)",
            lambda: [*(r := wagner_whitin([90, 120, 80, 70], 500, 2)).order_quantities, r.expected_cost],
            lambda: [*(f := s_ww.wagner_whitin(4, 2, 500, [0, 90, 120, 80, 70]))[0][1:], f[1]],
        ),
        (
            "Wagner-Whitin, 104 weeks",
            lambda: [wagner_whitin(list(WEEKLY), 500, 2).expected_cost],
            lambda: [s_ww.wagner_whitin(len(WEEKLY), 2, 500, [0, *WEEKLY])[1]],
        ),
        ("serial Clark-Scarf (ex. 6.1)", serial, serial_ref),
        ("GSM tree (ex. 6.5)", gsm, gsm_ref),
    ]


def main() -> None:
    warnings.simplefilter("ignore")
    console = Console(width=max(Console().width, 160))
    table = Table(title="cpfr.inventory vs stockpyl: same instances, same run")
    for column in ("instance", "cpfr", "stockpyl", "max |diff|", "cpfr ms", "stockpyl ms", "time ratio"):
        table.add_column(column, justify="left" if column in ("instance", "cpfr", "stockpyl") else "right")
    try:
        listed = cases()
    except ImportError:
        console.print("stockpyl is not installed: pip install -e '.[bench]' (or make bench-inventory)")
        return
    for name, ours, theirs in listed:
        mine, my_time = timed(ours)
        try:
            reference, their_time = timed(theirs)
        except Exception as error:
            table.add_row(
                name, _values(mine), f"fails: {type(error).__name__}", "–", f"{my_time * 1e3:.3f}", "–", "–"
            )
            continue
        difference = float(np.max(np.abs(np.asarray(mine, float) - np.asarray(reference, float))))
        table.add_row(
            name,
            _values(mine),
            _values(reference),
            f"{difference:.1e}",
            f"{my_time * 1e3:.3f}",
            f"{their_time * 1e3:.3f}",
            f"{my_time / their_time:.2f}",
        )
    console.print(table)
    distribution(console)


def distribution(console: Console) -> None:
    """Solve an RDC -> FDC system; print its exact cost, a long simulation of the policy and METRIC's."""
    rng = np.random.default_rng(0)
    locations = [
        Location(
            f"FDC-{k}",
            float(rng.integers(1, 4)),
            2.0,
            float(rng.choice([10.0, 20.0, 40.0])),
            float(rng.uniform(0.5, 5)),
        )
        for k in range(6)
    ]
    result, seconds = timed(lambda: distribution_base_stock(3, 1.0, locations), budget=1.0)
    simulated = _simulate(3, 1.0, locations, result.warehouse_base_stock, result.base_stock, 200_000.0)
    table = Table(title="One RDC, six FDCs (Poisson, one-for-one): exact optimum vs simulation")
    for column in ("RDC S0", "FDC levels", "exact cost", "simulated cost", "METRIC cost", "solve ms"):
        table.add_column(column, justify="right")
    table.add_row(
        str(result.warehouse_base_stock),
        ", ".join(str(v) for v in result.base_stock.values()),
        f"{result.expected_cost:.4f}",
        f"{simulated:.4f}",
        f"{result.metric_cost:.4f}",
        f"{seconds * 1e3:.1f}",
    )
    console.print(table)


def _simulate(
    lead_time: float, holding: float, locations: list[Location], warehouse: int, levels: dict, horizon: float
) -> float:
    """Cost per period of one-for-one FCFS replenishment, simulated: unit k serves the request S later."""
    rng = np.random.default_rng(1)
    rates = np.array([location.demand_mean for location in locations])
    count = rng.poisson(rates.sum() * horizon)
    times = np.sort(rng.uniform(0, horizon, count))
    owner = rng.choice(len(locations), count, p=rates / rates.sum())
    released = times.copy()
    released[warehouse:] = np.maximum(times[warehouse:], times[: count - warehouse] + lead_time)
    cost = holding * np.maximum(0, times[warehouse:] - times[: count - warehouse] - lead_time).sum() / horizon
    for index, location in enumerate(locations):
        mine = np.flatnonzero(owner == index)
        arrive, asked, level = released[mine] + location.lead_time, times[mine], levels[location.id]
        wait = np.maximum(0, arrive[: len(mine) - level] - asked[level:])
        hold = np.maximum(0, asked[level:] - arrive[: len(mine) - level])
        cost += (location.stockout_cost * wait.sum() + location.holding_cost * hold.sum()) / horizon
    return float(cost)


def _values(values: list[float]) -> str:
    return ", ".join(f"{float(value):.4f}".rstrip("0").rstrip(".") for value in values)


if __name__ == "__main__":
    main()
