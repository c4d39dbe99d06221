"""Guaranteed-service model on tree networks: committed service times by the Graves-Willems programme.

Each stage j quotes its customers an outbound committed service time S_j and
is quoted an inbound one SI_j (the largest S of its suppliers, or the external
supplier's CST); it holds safety stock z sigma_j sqrt(SI_j + T_j - S_j) against
its net demand (sigma_j: standard deviation of all demand downstream of it),
where T_j is its processing time. The programme chooses integer CSTs that
minimise the total safety-stock holding cost, subject to S_j <= SI_j + T_j and
each demand stage's maximum outbound CST.

Hand-written: no maintained library offers it beyond stockpyl (a teaching
implementation in pure-Python loops); the dynamic programme is vectorised
over each stage's (S, SI) grid here.

References
----------
Graves & Willems (2000), "Optimizing strategic safety stock placement in supply chains",
M&SOM 2(1), 68-83 (and the 2003 erratum); Snyder & Shen (2019), sec. 6.3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from cpfr.exceptions import InputError, LimitError
from cpfr.inventory.limits import DEFAULT_TIME_LIMIT_SECONDS, MAX_GSM_CELLS, Deadline


@dataclass(frozen=True)
class GSMStage:
    """A stage of the tree: processing time, holding cost per unit, external CSTs and external demand."""

    id: int | str
    processing_time: int
    holding_cost: float
    external_inbound_cst: int = 0
    demand_mean: float = 0.0
    demand_sd: float = 0.0
    max_outbound_cst: int | None = None


@dataclass(frozen=True)
class GSMResult:
    """Committed service times, safety stock by stage and the total safety-stock holding cost."""

    committed_service_time: dict[int | str, int]
    inbound_service_time: dict[int | str, int]
    safety_stock: dict[int | str, float]
    expected_cost: float


def gsm_tree(
    stages: Sequence[GSMStage],
    edges: Sequence[tuple[int | str, int | str]],
    service_level: float,
    *,
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
) -> GSMResult:
    """Optimal committed service times of a tree network under the guaranteed-service model.

    Parameters
    ----------
    stages : sequence of GSMStage
        The stages, each with its processing time T_j, holding cost h_j and external demand.
    edges : sequence of (upstream id, downstream id)
        The tree's arcs.
    service_level : float
        alpha, the probability that safety stock covers demand: at least 0.5 (a safety
        factor z = Phi^-1(alpha) >= 0) and below 1.
    time_limit_seconds : float
        The programme stops with SolverLimitError after this long.

    Returns
    -------
    GSMResult
        Committed service times S_j, inbound SI_j, safety stocks and their holding cost.

    Raises
    ------
    LimitError
        The programme's grid, stages x (longest replenishment time + 1)^2, exceeds ``MAX_GSM_CELLS``.
    """
    if not 0.5 <= service_level < 1:
        raise InputError(
            f"service_level {service_level}: expected a fraction >= 0.5 and < 1 "
            "(below 0.5 the safety factor, and so the safety stock, would be negative)"
        )
    deadline = Deadline(time_limit_seconds, "gsm_tree")
    z = float(stats.norm.ppf(service_level))
    by_id = _validate(stages, edges)
    ids = list(by_id)
    ups: dict[int | str, list[int | str]] = {node: [] for node in ids}
    downs: dict[int | str, list[int | str]] = {node: [] for node in ids}
    for upstream, downstream in edges:
        ups[downstream].append(upstream)
        downs[upstream].append(downstream)
    sigma = _net_sd(ids, downs, by_id)
    longest = _max_replenishment(ids, ups, by_id)
    horizon = max(longest.values())
    cells = len(ids) * (horizon + 1) ** 2
    if cells > MAX_GSM_CELLS:
        raise LimitError(
            f"gsm_tree: {len(ids):,} stages x (longest replenishment time {horizon:,} + 1)^2 = {cells:,} "
            f"cells, at most {MAX_GSM_CELLS:,} are supported: fewer stages or shorter processing times"
        )
    order, parent = _labels(ids, ups, downs)
    rank = {node: position for position, node in enumerate(order)}
    grid = np.arange(horizon + 1)
    # theta_out[k][S]: best subtree cost given k's outbound CST (k's parent is downstream);
    # theta_in[k][SI]: given k's inbound CST (parent upstream). Both over 0..horizon.
    theta_out: dict[int | str, np.ndarray] = {}
    theta_in: dict[int | str, np.ndarray] = {}
    best: dict[int | str, np.ndarray] = {}  # cost matrix of each stage, S x SI
    for node in order:
        deadline.check()
        stage = by_id[node]
        matrix = _stage_costs(stage, z * sigma[node], grid, longest[node])
        for upstream in ups[node]:
            if rank[upstream] < rank[node]:
                matrix = matrix + np.minimum.accumulate(theta_out[upstream])[None, :]  # S_up <= SI
        for downstream in downs[node]:
            if rank[downstream] < rank[node]:
                matrix = (
                    matrix + np.minimum.accumulate(theta_in[downstream][::-1])[::-1][:, None]
                )  # SI_down >= S
        best[node] = matrix
        if parent[node] is None:
            continue
        if parent[node] in downs[node]:
            theta_out[node] = matrix.min(axis=1)
        else:
            theta_in[node] = matrix.min(axis=0)
    outbound: dict[int | str, int] = {}
    inbound: dict[int | str, int] = {}
    for node in reversed(order):
        matrix = best[node]
        above = parent[node]
        if above is None:
            flat = int(np.argmin(matrix))
            outbound[node], inbound[node] = divmod(flat, matrix.shape[1])
        elif above in downs[node]:  # S_node <= SI_parent
            limit = inbound[above]
            outbound[node] = int(np.argmin(matrix.min(axis=1)[: limit + 1]))
            inbound[node] = int(np.argmin(matrix[outbound[node]]))
        else:  # SI_node >= S_parent
            floor = outbound[above]
            inbound[node] = floor + int(np.argmin(matrix.min(axis=0)[floor:]))
            outbound[node] = int(np.argmin(matrix[:, inbound[node]]))
        if not np.isfinite(matrix[outbound[node], inbound[node]]):
            raise InputError("gsm_tree: no feasible committed service times (check max_outbound_cst)")
    safety = {
        node: z * sigma[node] * float(np.sqrt(inbound[node] + by_id[node].processing_time - outbound[node]))
        for node in ids
    }
    cost = float(sum(by_id[node].holding_cost * safety[node] for node in ids))
    return GSMResult(outbound, inbound, safety, cost)


def _stage_costs(stage: GSMStage, spread: float, grid: np.ndarray, longest: int) -> np.ndarray:
    """Return the holding cost of the stage's own safety stock for every (S, SI); inf where infeasible."""
    outbound, inbound = grid[:, None], grid[None, :]
    net = inbound + stage.processing_time - outbound
    feasible = (
        (net >= 0) & (inbound >= stage.external_inbound_cst) & (inbound <= longest - stage.processing_time)
    )
    if stage.max_outbound_cst is not None:
        feasible &= outbound <= stage.max_outbound_cst
    cost = stage.holding_cost * spread * np.sqrt(np.maximum(net, 0))
    return np.where(feasible, cost, np.inf)


def _validate(
    stages: Sequence[GSMStage], edges: Sequence[tuple[int | str, int | str]]
) -> dict[int | str, GSMStage]:
    by_id: dict[int | str, GSMStage] = {}
    for stage in stages:
        if stage.id in by_id:
            raise InputError(f"nodes: id {stage.id!r} appears twice")
        for field in ("processing_time", "external_inbound_cst"):
            value = getattr(stage, field)
            if not (float(value) == int(value) and value >= 0):
                raise InputError(f"nodes[{stage.id}].{field} {value!r}: expected a whole number >= 0")
        if stage.max_outbound_cst is not None and not (
            float(stage.max_outbound_cst) == int(stage.max_outbound_cst) and stage.max_outbound_cst >= 0
        ):
            raise InputError(f"nodes[{stage.id}].max_outbound_cst: expected a whole number >= 0")
        for field in ("holding_cost", "demand_mean", "demand_sd"):
            if not getattr(stage, field) >= 0:
                raise InputError(f"nodes[{stage.id}].{field}: expected a number >= 0")
        by_id[stage.id] = stage
    if not by_id:
        raise InputError("nodes: expected at least one node")
    for position, (upstream, downstream) in enumerate(edges):
        for end in (upstream, downstream):
            if end not in by_id:
                raise InputError(f"edges[{position}]: node {end!r} is not among nodes")
        if upstream == downstream:
            raise InputError(f"edges[{position}]: a node cannot supply itself")
    if len(edges) != len(by_id) - 1:
        raise InputError(
            f"edges: a tree of {len(by_id)} nodes has {len(by_id) - 1} edges, got {len(edges)} "
            "(a cycle, a duplicate edge or a disconnected node)"
        )
    neighbours: dict[int | str, set[int | str]] = {node: set() for node in by_id}
    for upstream, downstream in edges:
        neighbours[upstream].add(downstream)
        neighbours[downstream].add(upstream)
    seen, frontier = {next(iter(by_id))}, [next(iter(by_id))]
    while frontier:
        for other in neighbours[frontier.pop()] - seen:
            seen.add(other)
            frontier.append(other)
    if len(seen) != len(by_id):
        missing = next(node for node in by_id if node not in seen)
        raise InputError(
            f"edges: the network is not a tree — node {missing!r} is disconnected or a cycle closes"
        )
    return by_id


def _net_sd(ids: list, downs: dict, by_id: dict) -> dict:
    """Return the standard deviation of the demand a stage serves: its own plus all downstream."""
    variance: dict = {}
    for node in reversed(_upstream_first(ids, downs)):  # every stage after all of its customers
        variance[node] = by_id[node].demand_sd ** 2 + sum(variance[child] for child in downs[node])
    return {node: float(np.sqrt(variance[node])) for node in ids}


def _max_replenishment(ids: list, ups: dict, by_id: dict) -> dict:
    """Longest time to replenish each stage from scratch: its processing time plus the slowest supply path."""
    longest: dict = {}
    downs: dict = {node: [] for node in ids}
    for node in ids:
        for parent in ups[node]:
            downs[parent].append(node)
    for node in _upstream_first(ids, downs):  # every stage after all of its suppliers
        stage = by_id[node]
        longest[node] = int(stage.processing_time) + max(
            [int(stage.external_inbound_cst), *(longest[parent] for parent in ups[node])]
        )
    return longest


def _upstream_first(ids: list, downs: dict) -> list:
    """Order the stages so that every supplier comes before its customers (Kahn's algorithm, no recursion)."""
    waiting = {node: 0 for node in ids}
    for node in ids:
        for child in downs[node]:
            waiting[child] += 1
    ready = [node for node in ids if waiting[node] == 0]
    order: list = []
    while ready:
        node = ready.pop()
        order.append(node)
        for child in downs[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return order


def _labels(ids: list, ups: dict, downs: dict) -> tuple[list, dict]:
    """Graves-Willems labelling: peel leaves so each stage but the last has one higher-labelled neighbour."""
    neighbours = {node: set(ups[node]) | set(downs[node]) for node in ids}
    remaining = {node: set(adjacent) for node, adjacent in neighbours.items()}
    order: list = []
    parent: dict = {}
    leaves = [node for node in ids if len(remaining[node]) <= 1]
    done: set = set()
    while leaves:
        node = leaves.pop(0)
        if node in done:
            continue
        done.add(node)
        order.append(node)
        rest = remaining[node] - done
        parent[node] = next(iter(rest)) if rest else None
        for other in rest:
            remaining[other].discard(node)
            if len(remaining[other] - done) <= 1 and other not in done and other not in leaves:
                leaves.append(other)
    return order, parent
