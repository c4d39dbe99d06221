"""The ``facility_location`` instance file: a pydantic model that checks it and documents it.

Unknown fields are refused, numbers are read strictly (no booleans, no numbers written as text,
no NaN or infinity) and the first problem becomes one :class:`~cpfr.exceptions.InputError`
naming the file and the field: ``net.json: customers[3].demand: expected a finite number >= 0
and <= 1e12, got -5``. Example::

    {"kind": "facility_location",
     "facilities": [{"id": "F1", "fixed_cost": 7500, "capacity": 5000}, ...],
     "customers": [{"id": "C1", "demand": 146}, ...],
     "assignment_cost": {"F1": {"C1": 2609.75, ...}, ...},
     "single_sourcing": false}

``capacity`` is optional (an uncapacitated facility); ``assignment_cost[F][C]`` is the cost of
serving all of C's demand from F, and a pair left out means F may not serve C.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cpfr.bounds import Bound, shown
from cpfr.documents import validated

MAX_AMOUNT = 1e12
"""Largest cost or quantity: a cost of serving a customer's whole demand for a year can be large,
but beyond a trillion it is a typing slip."""
MAX_FACILITIES = 10_000
MAX_CUSTOMERS = 100_000
MAX_ID_LENGTH = 100

AMOUNT = Bound(0.0, MAX_AMOUNT, reason="beyond a trillion is a typing slip")


def _amount(value: object) -> float:
    problem = AMOUNT.problem(value)
    if problem is not None:
        raise PydanticCustomError(
            "bound", "{problem}, got {value}", {"problem": problem, "value": shown(value)}
        )
    assert isinstance(value, int | float)
    return float(value)


def _id(value: object) -> str:
    # Text only: assignment_cost is keyed by the ids, and JSON object keys are always text.
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH and value.isprintable():
        return value
    raise PydanticCustomError(
        "id",
        "expected an id: printable text of 1 to {most} characters, got {value}",
        {"most": MAX_ID_LENGTH, "value": shown(value)},
    )


Amount = Annotated[
    float,
    PlainValidator(_amount),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": MAX_AMOUNT}),
]
Id = Annotated[str, PlainValidator(_id), WithJsonSchema({"type": "string", "maxLength": MAX_ID_LENGTH})]


def _unique_ids(items: list[Any]) -> list[Any]:
    seen: dict[str, int] = {}
    for position, item in enumerate(items):
        if item.id in seen:
            raise PydanticCustomError(
                "duplicate",
                "[{position}].id {id}: the same id as [{first}]",
                {"position": position, "id": item.id, "first": seen[item.id]},
            )
        seen[item.id] = position
    return items


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Facility(_Model):
    """A candidate facility: its fixed cost f_i of opening and its capacity u_i (omit: uncapacitated)."""

    id: Id
    fixed_cost: Amount
    capacity: Amount | None = None


class Customer(_Model):
    """A customer (a store, a region) and its demand d_j, in the units capacities are given in."""

    id: Id
    demand: Amount


class FacilityLocationInstance(_Model):
    """``facility_location``: which facilities to open, who serves whom (see the module docstring)."""

    kind: Literal["facility_location"]
    facilities: Annotated[
        list[Facility], Field(min_length=1, max_length=MAX_FACILITIES), AfterValidator(_unique_ids)
    ]
    customers: Annotated[
        list[Customer], Field(min_length=1, max_length=MAX_CUSTOMERS), AfterValidator(_unique_ids)
    ]
    assignment_cost: dict[Id, dict[Id, Amount]]
    single_sourcing: StrictBool = False

    @model_validator(mode="after")
    def _arcs_join_known_ids_and_capacity_covers_demand(self) -> FacilityLocationInstance:
        facilities = {facility.id for facility in self.facilities}
        customers = {customer.id for customer in self.customers}
        reached: set[str] = set()
        for facility, row in self.assignment_cost.items():
            if facility not in facilities:
                raise PydanticCustomError(
                    "unknown", "assignment_cost.{id}: unknown facility", {"id": facility}
                )
            for customer in row:
                if customer not in customers:
                    raise PydanticCustomError(
                        "unknown",
                        "assignment_cost.{facility}.{id}: unknown customer",
                        {"facility": facility, "id": customer},
                    )
            reached.update(row)
        for position, served in enumerate(self.customers):
            if served.id not in reached:
                raise PydanticCustomError(
                    "unserved",
                    "customers[{position}]: {id} has no assignment_cost from any facility",
                    {"position": position, "id": served.id},
                )
        capacities = [facility.capacity for facility in self.facilities]
        total_demand = sum(customer.demand for customer in self.customers)
        if all(capacity is not None for capacity in capacities):
            total_capacity = sum(capacity for capacity in capacities if capacity is not None)
            if total_capacity < total_demand:
                raise PydanticCustomError(
                    "capacity",
                    "facilities: total capacity {capacity} is below total demand {demand}",
                    {"capacity": f"{total_capacity:,.6g}", "demand": f"{total_demand:,.6g}"},
                )
        return self


def parse_facility_location(data: object, label: str) -> FacilityLocationInstance:
    """Validate a parsed ``facility_location`` document; ``label`` (the file) names it in messages.

    Raises
    ------
    InputError
        The first field that breaks the model: ``label: field.path: what is wrong``.
    """
    return validated(FacilityLocationInstance, data, label)
