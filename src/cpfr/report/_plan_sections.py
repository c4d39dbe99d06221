"""The plan report's collaboration sections: price bands, exceptions, consensus, orders and KPIs."""

from __future__ import annotations

import pandas as pd

from cpfr.collab.cycle import CycleResult
from cpfr.report._plan_common import TOP_ROWS, name_of, named_column, reason_words
from cpfr.report.report import Chart, Column, Section, Table

# How a KPI's ``unit`` reads in the report.
_KPI_UNITS = {"share": "percent", "days": "days"}


def rankings_section(result: CycleResult) -> Section:
    """Show the brands' shares within price bands over the latest promotion that has ended."""
    ranked = result.rankings
    if ranked.empty:
        return Section("Price bands", text="No promotion has ended yet.")
    event = str(ranked["event_id"].iloc[0])
    ranked = ranked.assign(brand=named_column(ranked["partner_id"], result.names.partners))
    bands = list(dict.fromkeys(ranked["band"]))  # the bands in the order the ranking gives them
    brands = ranked.groupby("partner_id")["gmv_yuan"].sum().sort_values(ascending=False).index
    shares = (
        ranked.pivot_table(index="band", columns="partner_id", values="share_gmv", aggfunc="sum")
        .reindex(index=bands, columns=brands)
        .rename(columns=lambda code: name_of(code, result.names.partners))
        .reset_index()
    )
    chart = Chart(
        "bar",
        f"{event}: each brand's share of the price band's GMV",
        shares,
        "band",
        tuple(str(column) for column in shares.columns[1:]),
        unit="percent",
        x_title="price band, ¥ per unit",
        y_title="share of the band's GMV, %",
    )
    table = Table(
        "Brands by price band",
        ranked,
        (
            Column("band", "Price band, ¥", "text"),
            Column("rank_gmv", "Rank by GMV", "units"),
            Column("brand", "Brand"),
            Column("gmv_yuan", "GMV", "yuan"),
            Column("share_gmv", "Share of the band's GMV", "percent"),
            Column("units", "Units", "units"),
        ),
    )
    return Section(f"Price bands: {event}", charts=(chart,), tables=(table,))


def exception_section(result: CycleResult) -> Section:
    """Show where the platform's and the partners' plans disagree, ranked by value at stake."""
    found = result.exceptions
    if found.empty:
        return Section("Exceptions", text="No exceptions: the platform's and the partners' plans agree.")
    found = found.assign(
        why=[reason_words(code) for code in found["reason"]],
        partner=named_column(found["partner_id"], result.names.partners),
        sku=named_column(found["sku_id"], result.names.skus),
        channel=[
            "all channels" if code is None or pd.isna(code) else shown
            for code, shown in zip(
                found["channel_id"], named_column(found["channel_id"], result.names.channels), strict=True
            )
        ],
    )
    counts = (
        found.groupby("why")
        .agg(count=("reason", "size"), value_yuan=("value_yuan", "sum"))
        .reset_index()
        .sort_values("value_yuan", ascending=False)
    )
    chart = Chart(
        "bar",
        "Value at stake by reason",
        counts,
        "why",
        "value_yuan",
        unit="yuan",
        x_title="reason",
        y_title="value at stake, ¥",
    )
    top = found.sort_values("value_yuan", ascending=False).head(TOP_ROWS)
    return Section(
        "Exceptions",
        text="Where the platform's and the partners' plans disagree, ranked by value at stake.",
        charts=(chart,),
        tables=(
            Table(
                "By reason",
                counts,
                (
                    Column("why", "Reason"),
                    Column("count", "Exceptions", "units"),
                    Column("value_yuan", "Value at stake", "yuan"),
                ),
            ),
            Table(
                "Largest exceptions",
                top,
                (
                    Column("partner", "Partner"),
                    Column("why", "Reason"),
                    Column("sku", "SKU"),
                    Column("channel", "Channel"),
                    Column("ds", "Week of", "date"),
                    Column("platform_units", "Platform forecast", "units"),
                    Column("partner_units", "Partner forecast", "units"),
                    Column("value_yuan", "Value at stake", "yuan"),
                    Column("detail", "Detail", "text"),
                ),
            ),
        ),
    )


def consensus_section(result: CycleResult) -> Section:
    """Show the agreed forecast: each side weighted by its measured accuracy."""
    agreed = result.consensus
    if agreed.empty:
        return Section("Consensus", text="No forecasts to combine.")
    series = {"platform": "platform forecast", "partner": "partners' forecasts", "consensus": "consensus"}
    weekly = agreed.groupby("ds")[list(series)].sum(min_count=1).reset_index().rename(columns=series)
    chart = Chart(
        "line",
        "All partners, units per week",
        weekly,
        "ds",
        tuple(series.values()),
        unit="units",
        x_title="week starting",
        y_title="units per week",
    )
    both = agreed.dropna(subset=["platform", "partner"])
    weights = both.groupby("partner_id")["weight_platform"].mean().rename("platform").reset_index()
    weights = weights.assign(
        partner=named_column(weights["partner_id"], result.names.partners),
        theirs=1 - weights["platform"],
    )
    if "overridden" in agreed:
        overrides = agreed.groupby("partner_id")["overridden"].sum().rename("overrides")
        weights = weights.merge(overrides, on="partner_id", how="left")
    columns = [
        Column("partner", "Partner"),
        Column("platform", "Platform's weight", "percent"),
        Column("theirs", "Partner's weight", "percent"),
    ]
    if "overrides" in weights:
        columns.append(Column("overrides", "Overridden weeks", "units"))
    return Section(
        "Consensus",
        text="Each side weighted by its measured accuracy (Bates & Granger); overrides are audited.",
        charts=(chart,),
        tables=(Table("Weights of each side", weights, tuple(columns)),),
    )


def orders_section(result: CycleResult) -> Section:
    """Show the order forecast to the partners and today's network orders."""
    charts, tables, said = [], [], []
    planned = result.order_forecast
    if not planned.empty:
        weekly = planned.groupby("ds")["order"].sum().reset_index()
        charts.append(
            Chart(
                "bar",
                "Order forecast to the partners",
                weekly,
                "ds",
                "order",
                unit="units",
                x_title="week starting",
                y_title="units ordered",
            )
        )
        by_partner = planned.pivot_table(index="ds", columns="partner_id", values="order", aggfunc="sum")
        by_partner["total"] = by_partner.sum(axis=1)
        tables.append(
            Table(
                "Order forecast by week and partner, units",
                by_partner.reset_index(),
                (
                    Column("ds", "Week starting", "date"),
                    *(
                        Column(str(code), name_of(code, result.names.partners), "units")
                        for code in by_partner.columns
                        if code != "total"
                    ),
                    Column("total", "Total", "units"),
                ),
            )
        )
    orders = result.network_orders
    if orders is None:
        said.append("Today's network orders were not planned in this run.")
    elif not orders.empty:
        summary = (
            orders.groupby(["kind", "stage"])
            .agg(orders=("quantity", "size"), units=("quantity", "sum"))
            .reset_index()
        )
        tables.append(
            Table(
                "Today's network orders",
                summary,
                (
                    Column("kind", "Kind", "text"),
                    Column("stage", "Stage", "text"),
                    Column("orders", "Orders", "units"),
                    Column("units", "Units", "units"),
                ),
            )
        )
        largest = orders.sort_values("quantity", ascending=False).head(TOP_ROWS)
        largest = largest.assign(
            sku=named_column(largest["sku_id"], result.names.skus),
            # A purchase order has no site it comes from: the partner supplies it.
            source=[
                "supplier" if code is None or pd.isna(code) else shown
                for code, shown in zip(
                    largest["from_site_id"],
                    named_column(largest["from_site_id"], result.names.locations),
                    strict=True,
                )
            ],
            destination=named_column(largest["to_site_id"], result.names.locations),
        )
        columns = [
            Column("kind", "Kind", "text"),
            Column("sku", "SKU"),
            Column("source", "From"),
            Column("destination", "To"),
            Column("due_date", "Due", "date"),
            Column("quantity", "Units", "units"),
        ]
        columns += [
            Column(name, header, "units")
            for name, header in (
                ("position", "Stock on hand and on order"),
                ("protection_demand_mean", "Expected demand until the next delivery"),
            )
            if name in largest
        ]
        tables.append(Table("Largest network orders", largest, tuple(columns)))
    else:
        said.append("No network order is needed today.")
    return Section("Replenishment", text=" ".join(said), charts=tuple(charts), tables=tuple(tables))


def kpi_section(result: CycleResult) -> Section:
    """Show forecast accuracy and bias by side, service and stock per partner."""
    kpis = result.kpis
    if kpis.empty:
        return Section("KPIs", text="No KPIs.")
    # Attainment and pace per target are the Targets section's; here the partnership's health.
    kpis = kpis[~kpis["kpi"].str.startswith(("attainment ", "pace "))]
    kpis = kpis.assign(partner=[name_of(code, result.names.partners) for code in kpis["partner_id"]])
    accuracy = kpis[kpis["kpi"] == "forecast WAPE"].pivot_table(
        index="partner", columns="side", values="value", aggfunc="mean"
    )
    charts = []
    if not accuracy.empty:
        sides = [side for side in ("platform", "partner") if side in accuracy.columns]
        charts.append(
            Chart(
                "bar",
                "Forecast error (WAPE) by partner, lower is better",
                accuracy[sides].rename(columns=lambda side: f"{side}'s forecast").reset_index(),
                "partner",
                tuple(f"{side}'s forecast" for side in sides),
                unit="percent",
                x_title="partner",
                y_title="WAPE, % of actual units",
            )
        )
    keys = kpis[["kpi", "side", "unit"]].drop_duplicates(subset=["kpi", "side"])
    kpis = kpis.assign(key=kpis["kpi"] + " " + kpis["side"])
    wide = kpis.pivot_table(index="partner_id", columns="key", values="value", aggfunc="mean").reset_index()
    wide["partner"] = named_column(wide["partner_id"], result.names.partners)
    columns = [Column("partner", "Partner")]
    for kpi, side, unit in keys.itertuples(index=False, name=None):
        header = f"{kpi} ({side})" if str(kpi).startswith("forecast") else str(kpi)
        header = header[:1].upper() + header[1:]
        columns.append(Column(f"{kpi} {side}", header, _KPI_UNITS.get(str(unit), "number")))
    return Section(
        "KPIs",
        text="Over the recent weeks of history. Attainment and pace of each target are under Targets.",
        charts=tuple(charts),
        tables=(Table("KPIs by partner", wide, tuple(columns)),),
    )
