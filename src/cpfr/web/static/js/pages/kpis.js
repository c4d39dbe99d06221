// KPIs: the latest plan's collaboration indicators as cards, and each side's forecast accuracy and bias.

import { api } from "../api.js";
import { chartOn, COLORS } from "../charts.js";
import { el, fill, fmt } from "../dom.js";
import { guard } from "../feedback.js";

const COMPARED = ["forecast WAPE", "forecast bias"]; // measured for both sides: the chart compares them

export async function renderKpis(root, session) {
  const status = el("div", { class: "page-status" });
  const chartNode = el("div", { class: "chart", id: "kpi-chart" });
  const cards = el("div", { id: "kpi-cards" });
  fill(root,
    el("section", { class: "panel" }, el("h2", {}, "Forecast accuracy and bias, platform vs partner"),
      el("p", { class: "hint" }, "WAPE: weighted absolute percentage error (lower is better). Bias: over (+) or under (−) forecast, as a share of sales."),
      status, chartNode),
    el("section", { class: "panel" }, el("h2", {}, "Collaboration KPIs"), cards));
  const data = await guard(status, () => api("/kpis"));
  if (!data) return;
  const rows = data.items;
  const partners = [...new Set(rows.map((row) => row.partner_id))].sort();
  const value = (partner, kpi, side) => {
    const row = rows.find((item) => item.partner_id === partner && item.kpi === kpi && item.side === side);
    return row ? row.value : null;
  };
  const categories = partners.flatMap((partner) => COMPARED.map((kpi) =>
    (partners.length > 1 ? `${session.partnerName(partner)} · ${kpi.replace("forecast ", "")}` : kpi)));
  const sideSeries = (side, color) => ({
    name: side === "platform" ? "Platform" : "Partner",
    type: "bar",
    color,
    data: partners.flatMap((partner) => COMPARED.map((kpi) => value(partner, kpi, side))),
    label: { show: true, position: "top", formatter: (param) => fmt.pct(param.value) },
  });
  chartOn(chartNode).setOption({
    animation: false,
    grid: { left: 60, right: 20, top: 40, bottom: partners.length > 1 ? 90 : 40 },
    legend: { top: 0 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (number) => fmt.pct(number) },
    xAxis: { type: "category", data: categories, axisLabel: { interval: 0, rotate: partners.length > 2 ? 30 : 0 } },
    yAxis: { type: "value", axisLabel: { formatter: (number) => `${Math.round(number * 100)}%` } },
    dataZoom: partners.length > 3 ? [{ type: "inside" }, { type: "slider", bottom: 8 }] : [],
    series: [sideSeries("platform", COLORS.platform), sideSeries("partner", COLORS.partner)],
  }, true);
  fill(cards, partners.map((partner) => el("div", { class: "kpi-group" },
    partners.length > 1 || session.isPlatform ? el("h3", {}, session.partnerName(partner)) : null,
    el("div", { class: "cards" }, rows.filter((row) => row.partner_id === partner)
      .sort((left, right) => String(left.kpi).localeCompare(String(right.kpi)) || String(left.side).localeCompare(String(right.side)))
      .map((row) => card(row))))));
}

function card(row) {
  const shown = row.unit === "share" ? fmt.pct(row.value) : `${fmt.num(row.value)} ${row.unit || ""}`.trim();
  return el("div", { class: `card side-${row.side}` },
    el("div", { class: "card-label" }, row.kpi),
    el("div", { class: "card-value" }, shown),
    el("div", { class: "card-side" }, row.side));
}
