"""The inventory instance file format: one pydantic model per ``kind``, which also documents it.

Every model forbids unknown fields and reads numbers strictly (no booleans,
no numbers written as text, no NaN or infinity) within the documented bounds
of :mod:`cpfr.inventory.limits`. :func:`parse_instance` validates a parsed
file and turns the first problem into one :class:`~cpfr.exceptions.InputError`
naming the field's path: ``instance.json: nodes[2].holding_cost: expected a
finite number >= 0 and <= 1e9, got -1``. ``instance_schema(kind)`` gives the
JSON Schema of a kind.

Field names, kinds and defaults are those of the ``cpfr inventory solve``
contract (README, "Inventory and replenishment").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from cpfr.bounds import Bound, number_text, shown
from cpfr.documents import field_path, problem_text, type_name
from cpfr.exceptions import InputError
from cpfr.inventory.limits import (
    COST,
    MAX_LIST_LENGTH,
    MAX_NODES,
    MAX_PLANNING_PERIODS,
    MIN_SPREAD,
    PERIODS,
    POSITIVE_COST,
    POSITIVE_PERIODS,
    POSITIVE_QUANTITY,
    PROBABILITY,
    QUANTITY,
    SPREAD,
    WHOLE_PERIODS,
)

MAX_ID_LENGTH = 100
"""Longest node or location id, in characters."""


def within(bound: Bound) -> PlainValidator:
    """Return a validator that keeps a number within ``bound``, with the bound's own message when not."""

    def check(value: object) -> float | int:
        problem = bound.problem(value)
        if problem is not None:
            raise PydanticCustomError(
                "bound", "{problem}, got {value}", {"problem": problem, "value": shown(value)}
            )
        assert isinstance(value, int | float)
        return int(value) if bound.whole else float(value)

    return PlainValidator(check)


def bound_schema(bound: Bound) -> WithJsonSchema:
    """Return the JSON Schema of a number within ``bound``."""
    schema: dict[str, Any] = {"type": "integer" if bound.whole else "number", "maximum": bound.maximum}
    schema["exclusiveMinimum" if bound.exclusive_minimum else "minimum"] = bound.minimum
    return WithJsonSchema(schema)


def _id(value: object) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**18:
        return value
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH and value.isprintable():
        return value
    raise PydanticCustomError(
        "id",
        "expected an id: printable text of 1 to {most} characters or a whole number, got {value}",
        {"most": MAX_ID_LENGTH, "value": shown(value)},
    )


_SERVICE_LEVEL = Bound(0.5, 1 - 1e-12, reason="a service level of 1 needs infinite stock")
Cost = Annotated[float, within(COST), bound_schema(COST)]
PositiveCost = Annotated[float, within(POSITIVE_COST), bound_schema(POSITIVE_COST)]
Quantity = Annotated[float, within(QUANTITY), bound_schema(QUANTITY)]
PositiveQuantity = Annotated[float, within(POSITIVE_QUANTITY), bound_schema(POSITIVE_QUANTITY)]
Periods = Annotated[float, within(PERIODS), bound_schema(PERIODS)]
PositivePeriods = Annotated[float, within(POSITIVE_PERIODS), bound_schema(POSITIVE_PERIODS)]
Spread = Annotated[float, within(SPREAD), bound_schema(SPREAD)]
WholePeriods = Annotated[int, within(WHOLE_PERIODS), bound_schema(WHOLE_PERIODS)]
Probability = Annotated[float, within(PROBABILITY), bound_schema(PROBABILITY)]
ServiceLevel = Annotated[float, within(_SERVICE_LEVEL), bound_schema(_SERVICE_LEVEL)]
Id = Annotated[
    int | str,
    PlainValidator(_id),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": MAX_ID_LENGTH}]}),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- demand ------------------------------------------------------------------------------------------


class NormalDemand(_Model):
    """Normal demand per period: ``mean`` mu >= 0, standard deviation ``sd`` sigma >= 1e-6 and >= 1e-6 mu."""

    distribution: Literal["normal"]
    mean: Quantity
    sd: Spread

    @model_validator(mode="after")
    def _not_a_constant(self) -> NormalDemand:
        if self.sd < MIN_SPREAD * self.mean:
            raise PydanticCustomError(
                "spread",
                ".sd: expected at least {ratio} x the mean ({floor}), got {sd}: a narrower normal is a "
                "constant to double precision",
                {
                    "ratio": number_text(MIN_SPREAD),
                    "floor": f"{MIN_SPREAD * self.mean:g}",
                    "sd": f"{self.sd:g}",
                },
            )
        return self


class PoissonDemand(_Model):
    """Poisson demand per period with ``mean`` lambda > 0."""

    distribution: Literal["poisson"]
    mean: PositiveQuantity


class EmpiricalDemand(_Model):
    """Discrete demand: ``values`` (units >= 0) with ``probabilities`` summing to 1."""

    distribution: Literal["empirical", "discrete"]
    values: Annotated[list[Quantity], Field(min_length=1, max_length=MAX_LIST_LENGTH)]
    probabilities: Annotated[list[Probability], Field(min_length=1, max_length=MAX_LIST_LENGTH)]

    @field_validator("probabilities")
    @classmethod
    def _one_per_value_summing_to_one(cls, probabilities: list[float], info: ValidationInfo) -> list[float]:
        values = info.data.get("values")
        if values is not None and len(values) != len(probabilities):
            raise PydanticCustomError(
                "length",
                "expected one probability per value ({values}), got {count}",
                {"values": len(values), "count": len(probabilities)},
            )
        total = sum(probabilities)
        if not abs(total - 1.0) <= 1e-6:
            raise PydanticCustomError(
                "sum",
                "expected non-negative numbers summing to 1, got sum {total}",
                {"total": f"{total:.6g}"},
            )
        return probabilities


AnyDemand = Annotated[NormalDemand | PoissonDemand | EmpiricalDemand, Field(discriminator="distribution")]
DiscreteDemand = Annotated[PoissonDemand | EmpiricalDemand, Field(discriminator="distribution")]
NormalOrPoissonDemand = Annotated[NormalDemand | PoissonDemand, Field(discriminator="distribution")]
_DEMAND_TAGS = frozenset({"normal", "poisson", "empirical", "discrete"})

# -- single-stage kinds ------------------------------------------------------------------------------


class NewsvendorInstance(_Model):
    """``newsvendor``: one period, holding cost h and stockout cost p per unit (S&S sec. 4.3)."""

    kind: Literal["newsvendor"]
    holding_cost: PositiveCost
    stockout_cost: PositiveCost
    demand: AnyDemand


class BaseStockInstance(_Model):
    """``base_stock``: periodic review with a lead time of L whole periods (S&S sec. 4.3.4)."""

    kind: Literal["base_stock"]
    holding_cost: PositiveCost
    stockout_cost: PositiveCost
    lead_time: WholePeriods
    demand: AnyDemand


class SSInstance(_Model):
    """``s_S``: periodic review, fixed cost K per order, discrete demand, zero lead time (S&S sec. 4.6)."""

    kind: Literal["s_S"]
    holding_cost: PositiveCost
    stockout_cost: PositiveCost
    fixed_cost: PositiveCost
    demand: DiscreteDemand


class RQInstance(_Model):
    """``r_Q``: continuous review, fixed cost K per order, demand per unit time, lead time L > 0."""

    kind: Literal["r_Q"]
    holding_cost: PositiveCost
    stockout_cost: PositiveCost
    fixed_cost: PositiveCost
    lead_time: PositivePeriods
    demand: NormalOrPoissonDemand


class Discounts(_Model):
    """All-units quantity discounts: unit cost ``unit_costs[j]`` for every unit from ``breakpoints[j]`` on."""

    breakpoints: Annotated[list[Quantity], Field(min_length=1, max_length=MAX_LIST_LENGTH)]
    unit_costs: Annotated[list[PositiveCost], Field(min_length=1, max_length=MAX_LIST_LENGTH)]
    holding_cost_rate: PositiveCost


class EOQInstance(_Model):
    """``eoq``: economic order quantity, with all-units ``discounts`` or a ``holding_cost`` per unit."""

    kind: Literal["eoq"]
    fixed_cost: PositiveCost
    demand_rate: PositiveQuantity
    holding_cost: PositiveCost | None = None
    discounts: Discounts | None = None

    @model_validator(mode="after")
    def _holding_cost_without_discounts(self) -> EOQInstance:
        if self.discounts is None and self.holding_cost is None:
            raise PydanticCustomError("needed", "holding_cost: missing (needed without discounts)")
        return self


class WagnerWhitinInstance(_Model):
    """``wagner_whitin``: known demand per period, fixed cost per order, holding cost per unit-period."""

    kind: Literal["wagner_whitin"]
    demand: Annotated[list[Quantity], Field(min_length=1, max_length=MAX_PLANNING_PERIODS)]
    fixed_cost: Cost
    holding_cost: Cost


# -- networks ----------------------------------------------------------------------------------------


def _unique_ids(items: list[Any]) -> list[Any]:
    """Refuse two items whose ids print alike (results are keyed by the id as text)."""
    seen: dict[str, int] = {}
    for position, item in enumerate(items):
        key = str(item.id)
        if key in seen:
            raise PydanticCustomError(
                "duplicate",
                "[{position}].id {id}: the same id as [{first}]",
                {"position": position, "id": shown(item.id), "first": seen[key]},
            )
        seen[key] = position
    return items


class SerialNode(_Model):
    """A stage of a serial system: echelon holding cost h_j and lead time L_j (periods)."""

    id: Id
    echelon_holding_cost: Cost
    lead_time: Periods


class SerialInstance(_Model):
    """``serial``: Clark-Scarf serial system, ``nodes[0]`` facing normal demand (S&S sec. 6.2)."""

    kind: Literal["serial"]
    stockout_cost: PositiveCost
    demand: NormalDemand
    nodes: Annotated[list[SerialNode], Field(min_length=1, max_length=MAX_NODES), AfterValidator(_unique_ids)]


class GSMNode(_Model):
    """A stage of a guaranteed-service tree: processing time T_j, holding cost h_j, external demand."""

    id: Id
    processing_time: WholePeriods
    holding_cost: Cost
    external_inbound_cst: WholePeriods = 0
    demand_mean: Quantity = 0.0
    demand_sd: Quantity = 0.0
    max_outbound_cst: WholePeriods | None = None


def _edge(value: object) -> tuple[int | str, int | str]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return _id(value[0]), _id(value[1])
    raise PydanticCustomError(
        "edge", "expected a pair [upstream_id, downstream_id], got {value}", {"value": shown(value)}
    )


class GSMInstance(_Model):
    """``gsm_tree``: guaranteed-service model on a tree, at ``service_level`` alpha (S&S sec. 6.3)."""

    kind: Literal["gsm_tree"]
    nodes: Annotated[list[GSMNode], Field(min_length=1, max_length=MAX_NODES), AfterValidator(_unique_ids)]
    edges: Annotated[
        list[Annotated[tuple[int | str, int | str], PlainValidator(_edge)]], Field(max_length=MAX_NODES)
    ]
    service_level: ServiceLevel


class Warehouse(_Model):
    """The regional warehouse: its supplier's lead time L_0 and its holding cost per unit-period."""

    id: Id = "warehouse"
    lead_time: Periods
    holding_cost: Cost


class DistributionLocation(_Model):
    """A front warehouse or store: lead time from the warehouse, costs, Poisson demand per period."""

    id: Id
    lead_time: Periods
    holding_cost: PositiveCost
    stockout_cost: PositiveCost
    demand: PoissonDemand


class DistributionInstance(_Model):
    """``distribution``: one warehouse feeding many locations, one-for-one replenishment (Graves 1985)."""

    kind: Literal["distribution"]
    warehouse: Warehouse
    locations: Annotated[
        list[DistributionLocation], Field(min_length=1, max_length=MAX_NODES), AfterValidator(_unique_ids)
    ]

    @model_validator(mode="after")
    def _warehouse_id_is_its_own(self) -> DistributionInstance:
        if any(str(location.id) == str(self.warehouse.id) for location in self.locations):
            raise PydanticCustomError(
                "duplicate", "warehouse.id {id}: also a location's id", {"id": shown(self.warehouse.id)}
            )
        return self


Instance = (
    NewsvendorInstance
    | BaseStockInstance
    | SSInstance
    | RQInstance
    | EOQInstance
    | WagnerWhitinInstance
    | SerialInstance
    | GSMInstance
    | DistributionInstance
)

MODELS: dict[str, type[BaseModel]] = {
    "newsvendor": NewsvendorInstance,
    "base_stock": BaseStockInstance,
    "s_S": SSInstance,
    "r_Q": RQInstance,
    "eoq": EOQInstance,
    "wagner_whitin": WagnerWhitinInstance,
    "serial": SerialInstance,
    "gsm_tree": GSMInstance,
    "distribution": DistributionInstance,
}


def parse_instance(data: object, label: str = "instance") -> Instance:
    """Validate a parsed instance file (``label`` names it in messages) into its kind's model.

    Raises
    ------
    InputError
        Not an object, an unknown ``kind``, or the first field that breaks its model, by path.
    """
    if not isinstance(data, Mapping):
        raise InputError(f"{label}: expected one object (a mapping of fields), got {type_name(data)}")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in MODELS:
        found = "missing" if "kind" not in data else f"got {shown(kind)}"
        raise InputError(f"{label}: kind: expected one of {', '.join(MODELS)}; {found}")
    try:
        parsed = MODELS[kind].model_validate(dict(data))
    except PydanticValidationError as error:
        problems = error.errors(include_url=False)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        path = field_path(problems[0]["loc"], {"demand": _DEMAND_TAGS})
        raise InputError(f"{label}: {problem_text(problems[0], path)}{more}") from None
    assert isinstance(parsed, Instance)
    return parsed


def instance_schema(kind: str) -> dict[str, Any]:
    """Return the JSON Schema of instance files of ``kind`` (e.g. for an editor or the API's docs)."""
    if kind not in MODELS:
        raise InputError(f"kind {shown(kind)}: expected one of {', '.join(MODELS)}")
    return MODELS[kind].model_json_schema()
