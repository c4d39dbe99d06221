"""The collaboration arrangement of each partner: scope, exception thresholds and roles (VICS CPFR task 1).

The VICS CPFR model starts with a front-end agreement — what the partners
collaborate on, who does what, and when a difference is worth a
conversation — and a joint business plan (VICS, *Collaborative Planning,
Forecasting and Replenishment Voluntary Guidelines*, 2004). cpfr builds each
partner's arrangement from the store (the agreement's period and channel
kinds, the partner's categories, the platform's channels and the brand's
own) with default thresholds and roles, which a JSON or YAML file can
override per partner::

    {"XIAOMI": {"thresholds": {"relative": 0.4, "value_yuan": 50000},
                "roles": {"order_generation": "platform"}}}
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

from cpfr.data.store import Store
from cpfr.documents import read_document, validated
from cpfr.exceptions import InputError


@dataclass(frozen=True)
class Thresholds:
    """When a difference becomes an exception.

    Attributes
    ----------
    z_score : float
        Partner and platform forecasts differ by more than this many standard errors
        of their log ratio (each side's error measured on its own history).
    relative : float
        ... and by more than this share of the larger of the two,
    absolute_units : float
        ... and by more than this many units,
    value_yuan : float
        ... and by more than this much value (units x list price).
    accuracy_drop : float
        The partner's error over the last 4 weeks exceeds its 26-week error by this share.
    cover_low_weeks, cover_high_weeks : float
        Weeks of cover (stock / forecast) below which a SKU risks a stockout, above
        which it is overstocked.
    """

    z_score: float = 3.0
    relative: float = 0.3
    absolute_units: float = 5.0
    value_yuan: float = 10_000.0
    accuracy_drop: float = 0.5
    cover_low_weeks: float = 1.0
    cover_high_weeks: float = 12.0


# A threshold: a finite number >= 0, bounded so that a typing slip is caught (10^13 yuan, 10^9 units).
_Threshold = Annotated[float, Field(ge=0, le=1e13, allow_inf_nan=False)]
_RoleName = Literal[
    "sales_forecast", "exception_resolution", "order_forecast", "order_generation", "order_fulfilment"
]

DEFAULT_ROLES = {
    "sales_forecast": "both: the platform and the brand each submit one",
    "exception_resolution": "joint: the category manager and the brand's planner",
    "order_forecast": "platform: from the consensus, through cpfr.inventory",
    "order_generation": "platform",
    "order_fulfilment": "brand",
}


@dataclass(frozen=True)
class Arrangement:
    """One partner's collaboration arrangement."""

    partner_id: str
    agreement_id: str
    start: dt.date
    end: dt.date
    categories: tuple[str, ...]
    channels: tuple[str, ...]
    thresholds: Thresholds = field(default_factory=Thresholds)
    roles: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ROLES))


def arrangements(store: Store, config: Path | None = None) -> dict[str, Arrangement]:
    """Build every partner's arrangement from the store, with the overrides of ``config`` (JSON or YAML)."""
    partners = store.read_table("partners")
    agreements = store.read_table("agreements")
    channels = store.read_table("channels")
    overrides = _read_config(config) if config is not None else {}
    unknown = sorted(set(overrides) - set(partners["partner_id"]))
    if unknown:
        raise InputError(
            f"{config}: unknown partner {unknown[0]!r} (partners: {', '.join(partners['partner_id'])})"
        )
    found = {}
    for partner in partners.to_dict("records"):
        partner_id = str(partner["partner_id"])
        signed = agreements[agreements["partner_id"] == partner_id]
        if signed.empty:
            continue
        agreement = signed.sort_values("start_date").iloc[-1]
        kinds = str(agreement["channels"]).split(",") if isinstance(agreement["channels"], str) else None
        usable = channels[channels["partner_id"].isna() | (channels["partner_id"] == partner_id)]
        if kinds is not None:
            usable = usable[usable["kind"].isin([kind.strip() for kind in kinds])]
        categories = str(partner.get("categories") or "")
        arrangement = Arrangement(
            partner_id=partner_id,
            agreement_id=str(agreement["agreement_id"]),
            start=pd.Timestamp(agreement["start_date"]).date(),
            end=pd.Timestamp(agreement["end_date"]).date(),
            categories=tuple(part.strip() for part in categories.split(",") if part.strip()),
            channels=tuple(sorted(usable["channel_id"])),
        )
        found[partner_id] = _overridden(arrangement, overrides.get(partner_id, _PartnerChanges()), config)
    return found


def arrangement_for(store: Store, partner_id: str, config: Path | None = None) -> Arrangement:
    """Return one partner's arrangement; an unknown partner is an error naming the known ones."""
    found = arrangements(store, config)
    if partner_id not in found:
        raise InputError(
            f"partner {partner_id!r}: no arrangement (partners: {', '.join(sorted(found)) or 'none'})"
        )
    return found[partner_id]


class _ThresholdChanges(BaseModel):
    """The thresholds a file may change (each optional; see :class:`Thresholds`)."""

    model_config = ConfigDict(extra="forbid")

    z_score: _Threshold | None = None
    relative: _Threshold | None = None
    absolute_units: _Threshold | None = None
    value_yuan: _Threshold | None = None
    accuracy_drop: _Threshold | None = None
    cover_low_weeks: _Threshold | None = None
    cover_high_weeks: _Threshold | None = None


class _PartnerChanges(BaseModel):
    """One partner's entry of an arrangement file: thresholds and roles that differ from the defaults."""

    model_config = ConfigDict(extra="forbid")

    thresholds: _ThresholdChanges = Field(default_factory=_ThresholdChanges)
    roles: dict[_RoleName, Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=dict
    )


class ArrangementFile(RootModel[dict[str, _PartnerChanges]]):
    """An arrangement file: partner_id -> ``{"thresholds": {...}, "roles": {...}}`` (JSON or YAML)."""


def _read_config(path: Path) -> dict[str, _PartnerChanges]:
    return validated(ArrangementFile, read_document(path), str(path)).root


def _overridden(arrangement: Arrangement, changes: _PartnerChanges, config: Path | None) -> Arrangement:
    thresholds = changes.thresholds.model_dump(exclude_none=True)
    roles = {**arrangement.roles, **{str(name): text for name, text in changes.roles.items()}}
    return dataclasses.replace(
        arrangement, thresholds=dataclasses.replace(arrangement.thresholds, **thresholds), roles=roles
    )
