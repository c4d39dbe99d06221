"""One partner's view of a plan: what may be sent to a brand of a cycle run over every partner.

``cpfr plan --partner P`` runs the whole cycle — one platform forecast shared by every
partner, saved in the store as any plan — and cuts its results with :func:`for_partner`
before the report and the workbook are built, so a partner's deliverable holds the same
figures as the platform's own plan and is built from nothing but the cut. What is kept:

- P's rows of every table: targets (and their gaps and simulated finals), exceptions,
  consensus, order forecast and KPIs by ``partner_id``; network orders and the platform
  forecast by the SKU's owner (:attr:`CycleResult.owners`; a SKU without a known owner is
  dropped, never shown);
- the price-band rankings as P's own rows plus, per band, one anonymous row
  ``partner_id = "other brands"`` summing every other brand's units, GMV and shares (with no
  rank). No other brand's id, name or individual figure is kept. Where a band has a single
  other brand, that row is its figures under no name — which P's own share implies anyway;
- names only of P and of the SKUs, channels, categories, locations and targets P's rows
  refer to; the run's notes that name no other partner, SKU or target.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from cpfr.collab.cycle import CycleResult, Names
from cpfr.exceptions import InputError

OTHER_BRANDS = "other brands"  # the anonymous aggregate of every other brand in a price band


def for_partner(result: CycleResult, partner_id: str) -> CycleResult:
    """Return ``result`` holding only ``partner_id``'s rows, names and notes (module docstring).

    Parameters
    ----------
    result : CycleResult
        A cycle over every partner (:func:`cpfr.collab.cycle.run_cycle`).
    partner_id : str
        The partner whose view is wanted.

    Raises
    ------
    InputError
        ``partner_id`` is not a partner of the result; the message lists the known ones.
    """
    known = known_partners(result)
    if partner_id not in known:
        raise InputError(f"unknown partner {partner_id!r} — expected one of {', '.join(known) or '(none)'}")
    targets = _rows_of(result.targets, partner_id)
    target_ids = set(targets["target_id"].astype(str)) if "target_id" in targets else set()
    gaps = (
        result.gaps[result.gaps["target_id"].astype(str).isin(target_ids)]
        if len(result.gaps)
        else result.gaps
    )
    skus = {sku for sku, owner in result.owners.items() if owner == partner_id}
    platform = dataclasses.replace(
        result.platform,
        weekly=_skus_of(result.platform.weekly, skus),
        accuracy=_skus_of(result.platform.accuracy, skus),
    )
    network_orders = None if result.network_orders is None else _skus_of(result.network_orders, skus)
    cut = dataclasses.replace(
        result,
        platform=platform,
        targets=targets,
        gaps=gaps.reset_index(drop=True),
        finals={target: totals for target, totals in result.finals.items() if target in target_ids},
        exceptions=_rows_of(result.exceptions, partner_id),
        consensus=_rows_of(result.consensus, partner_id),
        order_forecast=_rows_of(result.order_forecast, partner_id),
        kpis=_rows_of(result.kpis, partner_id),
        network_orders=network_orders,
        rankings=_anonymous_rankings(result.rankings, partner_id),
        owners={sku: partner_id for sku in skus},
        placement=None,  # FDC totals over every brand's SKUs; `cpfr network plan --partner P` places P's own
    )
    foreign = _foreign_words(result, partner_id, skus, target_ids)
    notes = [note for note in result.notes if not any(word in note for word in foreign)]
    return dataclasses.replace(cut, notes=notes, names=_names_of(cut, result.names, partner_id, skus))


def known_partners(result: CycleResult) -> list[str]:
    """Return the partner ids of ``result``, sorted: its named partners and those its tables hold."""
    found = set(result.names.partners) | set(result.owners.values())
    for frame in (result.targets, result.exceptions, result.consensus, result.kpis):
        if "partner_id" in frame:
            found |= set(frame["partner_id"].dropna().astype(str))
    return sorted(found)


def _rows_of(frame: pd.DataFrame, partner_id: str) -> pd.DataFrame:
    if frame.empty or "partner_id" not in frame:
        return frame.iloc[0:0]
    return frame[frame["partner_id"] == partner_id].reset_index(drop=True)


def _skus_of(frame: pd.DataFrame, skus: set[str]) -> pd.DataFrame:
    if frame.empty or "sku_id" not in frame:
        return frame.iloc[0:0]
    return frame[frame["sku_id"].astype(str).isin(skus)].reset_index(drop=True)


def _anonymous_rankings(ranked: pd.DataFrame, partner_id: str) -> pd.DataFrame:
    """Keep the partner's rows; sum every other brand of a band into one unranked row."""
    if ranked.empty or "partner_id" not in ranked:
        return ranked.iloc[0:0]
    own = ranked[ranked["partner_id"] == partner_id]
    others = ranked[ranked["partner_id"] != partner_id]
    summed = [column for column in ("units", "gmv_yuan", "share_units", "share_gmv") if column in ranked]
    aggregate = others.groupby("band", sort=False)[summed].sum().reset_index()
    aggregate = aggregate.assign(partner_id=OTHER_BRANDS)
    if "event_id" in ranked:
        aggregate["event_id"] = ranked["event_id"].iloc[0]
    rows = pd.concat([own, aggregate], ignore_index=True)
    for column in ranked.columns:
        if column not in rows:  # a rank: the aggregate of other brands has none
            rows[column] = np.nan
    bands = list(dict.fromkeys(ranked["band"]))  # the bands in the ranking's order
    order = rows.assign(
        _band=rows["band"].map({band: position for position, band in enumerate(bands)}),
        _other=rows["partner_id"] == OTHER_BRANDS,
    )
    return order.sort_values(["_band", "_other"], kind="stable")[list(ranked.columns)].reset_index(drop=True)


def _foreign_words(result: CycleResult, partner_id: str, skus: set[str], target_ids: set[str]) -> set[str]:
    """Return the codes and names that belong to other partners (notes naming them are dropped)."""
    words = {code for code in known_partners(result) if code != partner_id}
    words |= {name for code, name in result.names.partners.items() if code != partner_id and name}
    words |= {sku for sku in result.owners if sku not in skus}
    words |= {target for target in result.names.targets if target not in target_ids}
    words |= {target for target in result.finals if target not in target_ids}
    if "target_id" in result.targets:
        words |= set(result.targets["target_id"].astype(str)) - target_ids
    return {word for word in words if word}


def _names_of(cut: CycleResult, names: Names, partner_id: str, skus: set[str]) -> Names:
    """Keep the names of the partner and of the codes its rows refer to."""
    gaps = cut.gaps
    channels = _codes(
        cut.exceptions.get("channel_id"),
        cut.consensus.get("channel_id"),
        cut.platform.weekly.get("channel_id"),
        gaps.loc[gaps["dimension"] == "channel_id", "member"] if len(gaps) else None,
    )
    categories = _codes(gaps.loc[gaps["dimension"] == "category_id", "member"] if len(gaps) else None)
    orders = cut.network_orders
    locations = _codes(
        None if orders is None else orders.get("from_site_id"),
        None if orders is None else orders.get("to_site_id"),
    )
    targets = set(cut.targets["target_id"].astype(str)) if "target_id" in cut.targets else set()
    return Names(
        partners={code: name for code, name in names.partners.items() if code == partner_id},
        skus={code: name for code, name in names.skus.items() if code in skus},
        channels={code: name for code, name in names.channels.items() if code in channels},
        categories={code: name for code, name in names.categories.items() if code in categories},
        locations={code: name for code, name in names.locations.items() if code in locations},
        targets={code: name for code, name in names.targets.items() if code in targets},
    )


def _codes(*columns: pd.Series | None) -> set[str]:
    found: set[str] = set()
    for column in columns:
        if column is not None:
            found |= {str(code) for code in column.dropna()}
    return found
