"""The isolation sweep's machinery: real ids per partner, requests built from the OpenAPI schema, leak scans.

Every route the app documents is called by every caller, with the ids of the caller's own
partner (A) and of the other partner (B) in its path, query and body; the sweep knows how to
fill a parameter by its name (:data:`PARTNER_OWNED` and :data:`SHARED`), and a route with a
parameter it does not know is reported, so a new route cannot stay unswept.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pandas as pd

from cpfr.data.store import Store

# Parameters naming an object that belongs to one partner: filled with A's or B's id.
PARTNER_OWNED = frozenset(
    {"partner_id", "target_id", "sku_id", "exception_id", "order_id", "user_id", "channel_id", "event_id"}
)
# Parameters naming a platform-shared object: the same id for every caller.
SHARED = frozenset({"run_id", "job_id", "table"})
UPLOAD_PARAMETER = "filename"  # a route taking ?filename= reads its body as a file
# Body fields with no id in them: one valid value each.
BODY_VALUES: dict[str, object] = {
    "text": "checked by the isolation sweep",
    "why": "checked by the isolation sweep",
    "units": 1.0,
    "quantity": 1.0,
    "released": False,
    "weeks": 1,
    "network": False,
    "level": "sku/channel",
    "horizon": 7,
    "role": "partner_viewer",
    "name": "sweep user",
    "category_id": "PHONE",
    "list_price": 1999.0,
    "launch_date": "2025-06-01",
    "channels": ["JD_ONLINE"],
}


@dataclass(frozen=True)
class Ids:
    """Real ids of one partner's objects (and a file body of each upload kind)."""

    values: dict[str, str]
    sales_csv: str
    forecast_csv: str
    tokens: frozenset[str] = field(default_factory=frozenset)


def partner_ids(store: Store, partner_id: str, spare_user: str) -> Ids:
    """Return ids of ``partner_id``'s objects in the latest plan, and every token that would betray them."""
    run = store.read_table("plan_runs").sort_values("created_at").iloc[-1]["run_id"]
    consensus = store.read_table("plan_consensus", partner_id=partner_id, where={"run_id": run})
    cell = consensus.iloc[0]
    exceptions = store.read_table("plan_exceptions", partner_id=partner_id, where={"run_id": run})
    orders = store.read_table("plan_network_orders", partner_id=partner_id, where={"run_id": run})
    targets = store.read_table("plan_targets", partner_id=partner_id, where={"run_id": run})
    events = store.read_table("events", partner_id=partner_id)
    events = events[events["partner_id"] == partner_id]
    products = store.read_table("products", partner_id=partner_id)
    sales = store.read_table("sales", partner_id=partner_id, limit=1)
    forecasts = store.read_table("partner_forecasts", partner_id=partner_id, limit=1)
    exception_ids = [f"{run}:{partner_id}:{rank}" for rank in exceptions["rank"]]
    every_target = store.read_table("targets", partner_id=partner_id)
    values = {
        "partner_id": partner_id,
        "sku_id": str(cell["sku_id"]),
        "channel_id": str(cell["channel_id"]),
        "ds": pd.Timestamp(cell["ds"]).date().isoformat(),
        "target_id": str(targets["target_id"].iloc[0]),
        "exception_id": exception_ids[0],
        "order_id": str(orders["order_id"].iloc[0]),
        "event_id": str(events["event_id"].iloc[0]),
        "user_id": spare_user,
    }
    tokens = {
        partner_id,
        *products["sku_id"],
        *products["name"],
        *every_target["target_id"],
        *exception_ids,
        *orders["order_id"],
        *events["event_id"],
        spare_user,
    }
    return Ids(
        values,
        sales.to_csv(index=False),
        forecasts[["sku_id", "channel_id", "ds", "units"]].to_csv(index=False),
        frozenset(str(token) for token in tokens),
    )


@dataclass(frozen=True)
class Route:
    """One documented operation: its path, method, parameters and JSON body schema."""

    path: str
    method: str
    path_parameters: tuple[str, ...]
    query_parameters: tuple[tuple[str, bool], ...]  # (name, required)
    body_schema: Mapping[str, object] | None

    @property
    def is_upload(self) -> bool:
        """Whether the route reads its body as a file."""
        return any(name == UPLOAD_PARAMETER for name, _ in self.query_parameters)

    @property
    def names_partner_object(self) -> bool:
        """Whether the route's path or body names an object owned by a partner."""
        body_fields = set(_properties(self.body_schema or {}))
        return bool((set(self.path_parameters) | body_fields) & PARTNER_OWNED) or self.is_upload


def routes(openapi: Mapping[str, object]) -> list[Route]:
    """Return every operation of an OpenAPI document."""
    components = openapi.get("components", {})
    found = []
    for path, operations in dict(openapi["paths"]).items():  # type: ignore[call-overload]
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            found.append(
                Route(
                    path,
                    method.upper(),
                    tuple(p["name"] for p in parameters if p["in"] == "path"),
                    tuple((p["name"], bool(p.get("required"))) for p in parameters if p["in"] == "query"),
                    _resolve(body.get("schema"), components) if body else None,
                )
            )
    return found


def unfillable(route: Route) -> list[str]:
    """Return the parameters of ``route`` the sweep cannot fill (it must know every one)."""
    known = PARTNER_OWNED | SHARED
    missing = [name for name in route.path_parameters if name not in known]
    missing += [
        name
        for name, required in route.query_parameters
        if required and name not in known | {UPLOAD_PARAMETER}
    ]
    schema = route.body_schema or {}
    missing += [
        name
        for name in schema.get("required", [])  # type: ignore[attr-defined]
        if name not in known | set(BODY_VALUES) | {"ds"}
    ]
    return missing


@dataclass(frozen=True)
class Call:
    """One request of the sweep: what it sends, and whether it names partner B's objects."""

    method: str
    url: str
    params: dict[str, str]
    json: dict[str, object] | None
    content: bytes | None
    names_other: bool
    variant: str

    def sent(self) -> list[str]:
        """Return every value the request carries (an error may echo them back)."""
        values = [*self.params.values(), *self.url.split("/")]
        values += [str(value) for value in (self.json or {}).values()]
        if self.content:
            values += re.split(r"[,\n]", self.content.decode())
        return [value for value in values if value]


def calls(route: Route, own: Ids, other: Ids, shared: Mapping[str, str]) -> Iterator[Call]:
    """Yield the sweep's requests of ``route``: own ids, own filters, and B's ids everywhere."""
    variants = [("own", own, False), ("other", other, True)]
    if route.method == "GET":
        variants.insert(1, ("own-filters", own, True))
    for variant, ids, filters in variants:
        pool = {**ids.values, **shared}
        url = route.path
        for name in route.path_parameters:
            url = url.replace("{" + name + "}", pool[name])
        params: dict[str, str] = {}
        for name, required in route.query_parameters:
            if name == UPLOAD_PARAMETER:
                params[name] = "sweep.csv"
            elif name in PARTNER_OWNED and (required or filters):
                params[name] = pool[name]
            elif name in SHARED and required:
                params[name] = pool[name]
        content = None
        if route.is_upload:
            content = (ids.forecast_csv if "forecast" in route.path else ids.sales_csv).encode()
        body = _body(route.body_schema, pool) if route.body_schema is not None else None
        formats = ["json", "csv", "parquet"] if route.method == "GET" and _has(route, "format") else ["json"]
        for fmt in formats:
            query = {**params, "format": fmt} if fmt != "json" else params
            names_other = variant == "other" and route.names_partner_object
            yield Call(route.method, url, query, body, content, names_other, f"{variant}/{fmt}")


def _has(route: Route, name: str) -> bool:
    return any(parameter == name for parameter, _ in route.query_parameters)


def _body(schema: Mapping[str, object] | None, pool: Mapping[str, str]) -> dict[str, object]:
    body: dict[str, object] = {}
    for name in _properties(schema or {}):
        if name in pool:
            body[name] = pool[name]
        elif name in BODY_VALUES:
            body[name] = BODY_VALUES[name]
    return body


def _properties(schema: Mapping[str, object]) -> list[str]:
    return list(dict(schema.get("properties", {})))  # type: ignore[call-overload]


def _resolve(schema: object, components: object) -> dict[str, object]:
    reference = dict(schema or {}).get("$ref")  # type: ignore[call-overload]
    if reference:
        name = str(reference).rsplit("/", 1)[-1]
        return dict(components["schemas"][name])  # type: ignore[index]
    return dict(schema or {})  # type: ignore[call-overload]


def body_text(content: bytes, media_type: str) -> str:
    """Return a response body as text to scan (a Parquet file decoded into CSV)."""
    if "parquet" in media_type:
        return pd.read_parquet(io.BytesIO(content)).to_csv(index=False)
    return content.decode("utf-8", errors="replace")


def leaks(text: str, tokens: frozenset[str]) -> list[str]:
    """Return the tokens found in ``text`` as whole words (``SKU00012`` is not inside ``SKU000123``)."""
    found = []
    for token in tokens:
        if token in text and re.search(rf"(?<![A-Za-z0-9]){re.escape(token)}(?![A-Za-z0-9])", text):
            found.append(token)
    return sorted(found)
