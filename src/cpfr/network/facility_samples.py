"""Random capacitated facility-location instances, generated as Cornuéjols, Sridharan & Thizy (1991) do.

Facilities and customers are points in the unit square; demands d_j ~ U[5, 35]; raw capacities
u_i ~ U[10, 160], scaled so that total capacity is ``capacity_ratio`` times total demand; fixed
costs f_i = U[0, 90] + U[100, 110] sqrt(u_i) (economies of scale); serving all of customer j from
facility i costs ten times the distance times d_j. With a ratio of 3 to 5, a fifth to two fifths
of the facilities open. The same rules generate the capacitated OR-Library-style sets used in
the benchmark, so nothing is downloaded.

References
----------
Cornuéjols, G., Sridharan, R., & Thizy, J.-M. (1991). A comparison of heuristics and relaxations
for the capacitated plant location problem. European Journal of Operational Research, 50(3),
280-297 (sec. 5, the generator).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def random_facility_instance(
    facilities: int,
    customers: int,
    *,
    capacity_ratio: float = 3.0,
    seed: int = 0,
    single_sourcing: bool = False,
) -> dict[str, Any]:
    """Return a ``facility_location`` instance document (as :func:`solve_document` reads it).

    Parameters
    ----------
    facilities, customers : int
        How many of each (ids ``F1``..., ``C1``...).
    capacity_ratio : float
        Total capacity over total demand (r in the paper: 3, 5 or 10); ``0`` leaves every
        facility uncapacitated.
    seed : int
        Seed of the random generator: the same seed gives the same instance.
    single_sourcing : bool
        The instance's ``single_sourcing`` flag.

    Examples
    --------
    >>> document = random_facility_instance(3, 4, seed=1)
    >>> len(document["facilities"]), len(document["assignment_cost"]["F1"])
    (3, 4)
    """
    rng = np.random.default_rng(seed)
    facility_points = rng.random((facilities, 2))
    customer_points = rng.random((customers, 2))
    demand = rng.uniform(5, 35, customers).round()
    raw_capacity = rng.uniform(10, 160, facilities)
    fixed_cost = (
        rng.uniform(0, 90, facilities) + rng.uniform(100, 110, facilities) * np.sqrt(raw_capacity)
    ).round(2)
    capacity = (raw_capacity * capacity_ratio * demand.sum() / raw_capacity.sum()).round()
    distance = np.linalg.norm(facility_points[:, None, :] - customer_points[None, :, :], axis=2)
    cost = (10 * distance * demand).round(2)
    facility_ids = [f"F{position + 1}" for position in range(facilities)]
    customer_ids = [f"C{position + 1}" for position in range(customers)]
    return {
        "kind": "facility_location",
        "facilities": [
            {"id": key, "fixed_cost": float(fixed_cost[position])}
            | ({"capacity": float(capacity[position])} if capacity_ratio > 0 else {})
            for position, key in enumerate(facility_ids)
        ],
        "customers": [
            {"id": key, "demand": float(demand[position])} for position, key in enumerate(customer_ids)
        ],
        "assignment_cost": {
            key: dict(zip(customer_ids, cost[position].tolist(), strict=True))
            for position, key in enumerate(facility_ids)
        },
        "single_sourcing": single_sourcing,
    }


def instance_arguments(document: dict[str, Any]) -> dict[str, Any]:
    """Return a document's data as keyword arguments of :func:`~cpfr.network.facility.facility_location`."""
    return {
        "fixed_cost": {facility["id"]: facility["fixed_cost"] for facility in document["facilities"]},
        "capacity": {
            facility["id"]: facility["capacity"]
            for facility in document["facilities"]
            if "capacity" in facility
        },
        "demand": {customer["id"]: customer["demand"] for customer in document["customers"]},
        "assignment_cost": document["assignment_cost"],
        "single_sourcing": document.get("single_sourcing", False),
    }
