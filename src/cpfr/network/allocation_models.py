"""The ``allocation`` instance format of ``cpfr network solve``: pydantic models that also document it.

A document reads::

    {"kind": "allocation", "quantity": 1000, "pack_size": 1,
     "points": [{"id": "S1", "channel": "JD_MALL", "tier": 3,
                 "demand": {"distribution": "poisson", "mean": 40},
                 "capacity": 100, "min_units": 0}, ...],
     "min_share": {"tier": {"3": 0.2}, "channel": {"JD_MALL": 0.1}},
     "min_units": {"tier": {"1": 50}}}

Demand per point is ``poisson`` (``mean``), ``negative_binomial`` (``mean`` and ``dispersion``
k, variance mu + mu^2 / k) or ``empirical`` (``samples``, equally likely). Every model forbids
unknown fields and reads numbers strictly within the bounds below; :func:`parse_allocation`
turns the first problem into one :class:`~cpfr.exceptions.InputError` naming the field's path
(``instance.json: points[2].demand.mean: expected ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from cpfr.bounds import Bound, shown
from cpfr.documents import field_path, problem_text, type_name
from cpfr.exceptions import InputError
from cpfr.inventory.instance_models import bound_schema, within

MAX_QUANTITY = 100_000_000
"""Most units to allocate: a hundred million units of one launch is a typing slip."""
MAX_POINTS = 100_000
"""Most points of sale in one allocation (JD's stores and online zones are a few thousand)."""
MAX_SAMPLES = 100_000
"""Most samples of an empirical demand."""
MAX_ID_LENGTH = 100

_UNITS = Bound(0, MAX_QUANTITY, whole=True, reason="units of one launch")
_PACK = Bound(1, MAX_QUANTITY, whole=True, reason="units of one pack")
_MEAN = Bound(0, 1e7, exclusive_minimum=True, reason="units at one point")
_DISPERSION = Bound(1e-3, 1e6, reason="a larger k is a Poisson")
_SAMPLE = Bound(0, 1e7, reason="units at one point")
_SHARE = Bound(0, 1)


def _label(value: object) -> str:
    """Read an id, channel or tier: printable text or a whole number, kept as text."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**18:
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH and value.isprintable():
        return value
    raise PydanticCustomError(
        "id",
        "expected printable text of 1 to {most} characters or a whole number, got {value}",
        {"most": MAX_ID_LENGTH, "value": shown(value)},
    )


Units = Annotated[int, within(_UNITS), bound_schema(_UNITS)]
PackSize = Annotated[int, within(_PACK), bound_schema(_PACK)]
Mean = Annotated[float, within(_MEAN), bound_schema(_MEAN)]
Dispersion = Annotated[float, within(_DISPERSION), bound_schema(_DISPERSION)]
Sample = Annotated[float, within(_SAMPLE), bound_schema(_SAMPLE)]
Share = Annotated[float, within(_SHARE), bound_schema(_SHARE)]
Label = Annotated[
    str,
    PlainValidator(_label),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": MAX_ID_LENGTH}]}),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PoissonDemand(_Model):
    """Poisson demand over the selling window with ``mean`` lambda > 0."""

    distribution: Literal["poisson"]
    mean: Mean


class NegativeBinomialDemand(_Model):
    """Negative binomial demand: ``mean`` mu > 0 and ``dispersion`` k (variance mu + mu^2 / k)."""

    distribution: Literal["negative_binomial"]
    mean: Mean
    dispersion: Dispersion


class EmpiricalDemand(_Model):
    """Demand given by equally likely ``samples`` (units >= 0), e.g. simulated launch paths."""

    distribution: Literal["empirical"]
    samples: Annotated[list[Sample], Field(min_length=1, max_length=MAX_SAMPLES)]


PointDemand = Annotated[
    PoissonDemand | NegativeBinomialDemand | EmpiricalDemand, Field(discriminator="distribution")
]
_DEMAND_TAGS = frozenset({"poisson", "negative_binomial", "empirical"})


class Point(_Model):
    """One point of sale: a store or an online zone, its channel, city tier and demand.

    ``capacity`` (units it can hold, default: no limit) is rounded down to whole packs and
    ``min_units`` (its floor, default 0) up to whole packs.
    """

    id: Label
    channel: Label
    tier: Label
    demand: PointDemand
    capacity: Units | None = None
    min_units: Units = 0


class GroupMinimums(_Model):
    """Minimums by city ``tier`` and by ``channel``: group name -> value."""

    tier: dict[Label, float] = Field(default_factory=dict)
    channel: dict[Label, float] = Field(default_factory=dict)


class AllocationInstance(_Model):
    """``allocation``: split ``quantity`` units, in packs of ``pack_size``, across ``points``.

    ``min_share`` gives each listed tier or channel at least that share of ``quantity``
    (shares of one dimension sum to at most 1); ``min_units`` at least that many units.
    """

    kind: Literal["allocation"]
    quantity: Units
    pack_size: PackSize = 1
    points: Annotated[list[Point], Field(min_length=1, max_length=MAX_POINTS)]
    min_share: GroupMinimums = Field(default_factory=GroupMinimums)
    min_units: GroupMinimums = Field(default_factory=GroupMinimums)

    @model_validator(mode="after")
    def _consistent(self) -> AllocationInstance:
        if self.quantity % self.pack_size:
            raise PydanticCustomError(
                "pack",
                "quantity: {quantity} is not a whole number of packs of {pack} (pack_size)",
                {"quantity": self.quantity, "pack": self.pack_size},
            )
        seen: set[str] = set()
        for position, point in enumerate(self.points):
            if point.id in seen:
                raise PydanticCustomError(
                    "duplicate",
                    "points[{position}].id: {id} appears twice",
                    {"position": position, "id": point.id},
                )
            seen.add(point.id)
        groups = {"tier": {p.tier for p in self.points}, "channel": {p.channel for p in self.points}}
        for field, bound in (("min_share", _SHARE), ("min_units", _UNITS)):
            minimums: GroupMinimums = getattr(self, field)
            for dimension, known in groups.items():
                values: dict[str, float] = getattr(minimums, dimension)
                for name, value in values.items():
                    problem = bound.problem(value)
                    if problem is not None:
                        raise PydanticCustomError(
                            "bound",
                            "{where}: {problem}, got {value}",
                            {
                                "where": f"{field}.{dimension}.{name}",
                                "problem": problem,
                                "value": shown(value),
                            },
                        )
                    if name not in known:
                        raise PydanticCustomError(
                            "group",
                            "{where}: no point has {dimension} {name}",
                            {"where": f"{field}.{dimension}.{name}", "dimension": dimension, "name": name},
                        )
                if field == "min_share" and sum(values.values()) > 1 + 1e-9:
                    raise PydanticCustomError(
                        "sum",
                        "min_share.{dimension}: shares sum to {total}, more than 1",
                        {"dimension": dimension, "total": f"{sum(values.values()):.6g}"},
                    )
        return self


def parse_allocation(data: object, label: str = "instance") -> AllocationInstance:
    """Validate a parsed ``allocation`` document (``label`` names it in messages).

    Raises
    ------
    InputError
        Not an object, or the first field that breaks the model, by path.
    """
    if not isinstance(data, Mapping):
        raise InputError(f"{label}: expected one object (a mapping of fields), got {type_name(data)}")
    try:
        return AllocationInstance.model_validate(dict(data))
    except PydanticValidationError as error:
        problems = error.errors(include_url=False)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        path = field_path(problems[0]["loc"], {"demand": _DEMAND_TAGS})
        raise InputError(f"{label}: {problem_text(problems[0], path)}{more}") from None
