// Levers: what trade-in subsidies add per category (with intervals), where the next subsidy budget
// should go against spending pro rata, and (when the server has them) the C2M demand gaps.

import { api, query } from "../api.js";
import { chartOn, COLORS, compactNumber } from "../charts.js";
import { badge, el, field, fill, fmt, table } from "../dom.js";
import { guard } from "../feedback.js";

export async function renderLevers(root, session) {
  const upliftStatus = el("div", { class: "page-status" });
  const upliftChart = el("div", { class: "chart", id: "uplift-chart" });
  const upliftTable = el("div", { id: "uplift-table" });
  const budget = el("input", { type: "number", id: "budget", min: "1", step: "1000000", value: "100000000" });
  const objective = el("select", { id: "objective" },
    el("option", { value: "gmv" }, "incremental GMV"), el("option", { value: "units" }, "incremental units"));
  const run = el("button", { type: "button", class: "primary", id: "allocate" }, "Split the budget");
  const allocationStatus = el("div", { class: "page-status", id: "allocation-status" });
  const allocationChart = el("div", { class: "chart", id: "allocation-chart" });
  const curveChart = el("div", { class: "chart", id: "curve-chart" });
  const gapsPlace = el("div", { id: "gaps" });
  const launchPlace = el("div", { id: "launch" });
  fill(root,
    el("section", { class: "panel" }, el("h2", {}, "Trade-in subsidies: what they really add"),
      el("p", { class: "hint" }, "Uplift of eligible models while the subsidy runs in their region (90 % interval), the share unsubsidised models of the category lose to them, and the dip after it closes (buyers who came early). Net units take both out. Staggered difference in differences: provinces open and close the programme on their own days."),
      upliftStatus, upliftChart, upliftTable),
    el("section", { class: "panel" }, el("h2", {}, "Where the next subsidy budget should go"),
      el("div", { class: "filters" }, field("Budget, ¥", budget), field("Maximise", objective), run),
      allocationStatus, allocationChart, curveChart),
    el("section", { class: "panel" }, el("h2", {}, "C2M: demand nobody serves yet"), gapsPlace),
    el("section", { class: "panel" }, el("h2", {}, "Forecast a new product from its spec"),
      el("p", { class: "hint" }, "Units over its first days, learnt only from earlier launches (a brand: its own), with a 90 % interval, and what it takes from the brand's products in the same price cell."),
      launchPlace));
  launchForm(launchPlace, session);

  const uplift = await guard(upliftStatus, () => api("/tradein/uplift"));
  if (uplift) drawUplift(uplift.items, session, upliftChart, upliftTable);
  const allocate = async () => {
    fill(allocationStatus, el("p", { class: "hint" }, "Splitting…"));
    const params = { budget: Number(budget.value) || 0, objective: objective.value };
    const split = await guard(allocationStatus, () => api(`/tradein/allocation${query(params)}`));
    if (split) drawAllocation(split, allocationStatus, allocationChart, curveChart);
  };
  run.addEventListener("click", allocate);
  await allocate();
  await drawGaps(gapsPlace);
}

function drawUplift(rows, session, chartNode, place) {
  const known = rows.filter((row) => row.uplift !== null);
  const names = known.map((row) => row.category_name || row.category_id);
  chartOn(chartNode).setOption({
    animation: false,
    grid: { left: 60, right: 20, top: 40, bottom: 40 },
    legend: { top: 0 },
    tooltip: { trigger: "axis", valueFormatter: (value) => fmt.pct(value) },
    xAxis: { type: "category", data: names },
    yAxis: { type: "value", axisLabel: { formatter: (value) => `${Math.round(value * 100)}%` } },
    series: [
      { name: "uplift", type: "bar", color: COLORS.platform, data: known.map((row) => row.uplift) },
      { name: "cannibalisation", type: "bar", color: COLORS.partner, data: known.map((row) => row.cannibalisation) },
      { name: "pull-forward depth", type: "bar", color: COLORS.loss, data: known.map((row) => row.pull_forward_depth) },
      {
        name: "uplift 90 % interval", type: "custom", color: COLORS.total,
        renderItem: (params, api) => {
          const low = api.coord([api.value(0), api.value(1)]);
          const high = api.coord([api.value(0), api.value(2)]);
          const style = { stroke: COLORS.total, lineWidth: 2 };
          return { type: "group", children: [
            { type: "line", shape: { x1: low[0] - 18, y1: low[1], x2: low[0] - 18, y2: high[1] }, style },
            { type: "line", shape: { x1: low[0] - 24, y1: low[1], x2: low[0] - 12, y2: low[1] }, style },
            { type: "line", shape: { x1: low[0] - 24, y1: high[1], x2: low[0] - 12, y2: high[1] }, style },
          ] };
        },
        data: known.map((row, index) => [index, row.uplift_low, Math.min(row.uplift_high, 2)]),
      },
    ],
  }, true);
  fill(place, table([
    { label: "Category", value: (row) => row.category_name || row.category_id },
    { label: "Identified by", value: (row) => row.control },
    { label: "Uplift", value: (row) => `${fmt.signedPct(row.uplift)} (${bound(row.uplift_low)} … ${bound(row.uplift_high)})`, num: true },
    { label: "Cannibalisation", value: (row) => fmt.pct(row.cannibalisation), num: true },
    { label: "Pull-forward dip", value: (row) => fmt.pct(row.pull_forward_depth), num: true },
    { label: "Net units", value: (row) => fmt.int(row.incremental_units), num: true },
    { label: "Net GMV", value: (row) => fmt.yuan(row.incremental_gmv), num: true },
    { label: "Pre-trend", value: (row) => (row.pre_trend_p === null ? "–" : row.pre_trend_p < 0.05 ? badge("fails", "bad") : badge("ok", "good")) },
  ], rows));
}

// An interval of a weakly identified effect can run to thousands of percent: past ±200 % it says so.
const bound = (value) => (value === null || value === undefined ? "–"
  : value > 2 ? "> 200%" : value < -2 ? "< −200%" : fmt.pct(value));

function drawAllocation(split, status, chartNode, curveNode) {
  const gmv = split.objective === "gmv";
  const result = gmv ? fmt.yuan : fmt.int;
  const mine = gmv ? split.incremental_gmv : split.incremental_units;
  const theirs = gmv ? split.pro_rata_incremental_gmv : split.pro_rata_incremental_units;
  const better = theirs ? mine / theirs - 1 : 0;
  fill(status, el("p", { id: "allocation-summary" },
    `Spending ${fmt.yuan(split.spend)} by return per yuan adds ${result(mine)} ${gmv ? "of GMV" : "units"}; `
    + `pro rata to last year's sales: ${result(theirs)} (${fmt.signedPct(better)} for cpfr's split).`));
  const rows = split.categories;
  chartOn(chartNode).setOption({
    animation: false,
    title: { text: "Spend by category", left: 0, textStyle: { fontSize: 13 } },
    grid: { left: 70, right: 20, top: 50, bottom: 40 },
    legend: { top: 0, right: 0 },
    tooltip: { trigger: "axis", valueFormatter: (value) => fmt.yuan(value) },
    xAxis: { type: "category", data: rows.map((row) => row.category_name || row.category_id) },
    yAxis: { type: "value", axisLabel: { formatter: compactNumber } },
    series: [
      { name: "cpfr", type: "bar", color: COLORS.platform, data: rows.map((row) => row.spend) },
      { name: "pro rata", type: "bar", color: COLORS.total, data: rows.map((row) => row.pro_rata_spend) },
    ],
  }, true);
  const byCategory = new Map();
  for (const point of split.curves) {
    if (!byCategory.has(point.category_id)) byCategory.set(point.category_id, [[0, 0]]);
    byCategory.get(point.category_id).push([point.cumulative_spend, point.cumulative_incremental]);
  }
  const name = new Map(rows.map((row) => [row.category_id, row.category_name || row.category_id]));
  chartOn(curveNode).setOption({
    animation: false,
    title: { text: `Response curves: incremental ${gmv ? "GMV" : "units"} against spend (slope = marginal return)`, left: 0, textStyle: { fontSize: 13 } },
    grid: { left: 70, right: 20, top: 50, bottom: 40 },
    legend: { top: 22, type: "scroll" },
    tooltip: { trigger: "item" },
    xAxis: { type: "value", name: "spend ¥", axisLabel: { formatter: compactNumber } },
    yAxis: { type: "value", axisLabel: { formatter: compactNumber } },
    series: [...byCategory.entries()].map(([category, points]) => ({
      name: name.get(category) || category, type: "line", showSymbol: false, data: points,
    })),
  }, true);
}

function launchForm(place, session) {
  const products = [...session.products.values()];
  const partners = [...new Set(products.map((row) => row.partner_id))].sort();
  const partner = el("select", { id: "launch-partner" }, partners.map((id) => el("option", { value: id }, session.partnerName(id))));
  const category = el("select", { id: "launch-category" });
  const refill = () => fill(category, [...new Set(products.filter((row) => row.partner_id === partner.value).map((row) => row.category_id))]
    .sort().map((id) => el("option", { value: id }, (session.categories.get(id) || {}).name || id)));
  partner.addEventListener("change", refill);
  refill();
  const price = el("input", { type: "number", id: "launch-price", min: "1", value: "2999" });
  const day = el("input", { type: "date", id: "launch-date", value: "2025-06-01" });
  const channel = el("select", { id: "launch-channel" }, [...session.channels.values()]
    .map((row) => el("option", { value: row.channel_id }, row.name || row.channel_id)));
  const horizon = el("input", { type: "number", id: "launch-horizon", min: "7", max: "365", value: "90" });
  const go = el("button", { type: "button", class: "primary", id: "launch-go" }, "Forecast");
  const result = el("div", { id: "launch-result", class: "page-status" });
  const chartNode = el("div", { class: "chart", id: "launch-chart" });
  fill(place, el("div", { class: "filters" }, session.isPlatform ? field("Brand", partner) : null, field("Category", category),
    field("List price, ¥", price), field("Launch day", day), field("Channel", channel), field("Days", horizon), go), result, chartNode);
  go.addEventListener("click", async () => {
    fill(result, el("p", { class: "hint" }, "Forecasting…"));
    const body = {
      partner_id: partner.value, category_id: category.value, list_price: Number(price.value),
      launch_date: day.value, channels: [channel.value], horizon: Number(horizon.value),
    };
    const forecast = await guard(result, () => api("/launch/forecast", { method: "POST", body }));
    if (!forecast) return;
    fill(result, el("p", { id: "launch-summary" },
      `${fmt.int(forecast.units)} units expected in ${forecast.horizon_days} days (90 %: ${fmt.int(forecast["q0.05"])} – ${fmt.int(forecast["q0.95"])}), `
      + `learnt from ${fmt.int(forecast.launches_learnt_from)} launches; it would take ${fmt.int(forecast.cannibalised_units)} units from ${fmt.int(forecast.cell_skus)} of the brand's products in its price cell.`));
    const days = forecast.daily;
    chartOn(chartNode).setOption({
      animation: false,
      grid: { left: 60, right: 20, top: 30, bottom: 40 },
      tooltip: { trigger: "axis", valueFormatter: (value) => fmt.int(value) },
      xAxis: { type: "category", data: days.map((row) => row.ds) },
      yAxis: { type: "value", name: "units a day" },
      series: [
        { name: "q0.05", type: "line", stack: "band", showSymbol: false, lineStyle: { opacity: 0 }, data: days.map((row) => row["q0.05"]) },
        { name: "90 % interval", type: "line", stack: "band", showSymbol: false, lineStyle: { opacity: 0 }, areaStyle: { color: COLORS.band }, data: days.map((row) => row["q0.95"] - row["q0.05"]) },
        { name: "expected", type: "line", showSymbol: false, color: COLORS.platform, data: days.map((row) => row.mean) },
      ],
    }, true);
  });
}

async function drawGaps(place) {
  let data;
  try {
    data = await api("/c2m/gaps");
  } catch (error) {
    fill(place, el("p", { class: "hint" }, error.status === 404 ? "This server has no C2M gap finder." : String(error.message || error)));
    return;
  }
  fill(place, table([
    { label: "#", value: (row) => fmt.int(row.rank), num: true },
    { label: "Category", value: (row) => row.category_name || row.category_id },
    { label: "Attribute", value: (row) => `${row.attribute} = ${row.value}` },
    { label: "Price band", value: (row) => row.price_band },
    { label: "City tier", value: (row) => (row.city_tier === null || row.city_tier === undefined ? "all" : row.city_tier) },
    { label: "Score", value: (row) => (row.score === null ? "–" : Number(row.score).toFixed(2)), num: true },
    { label: "Evidence", value: (row) => row.evidence || "" },
  ], (data.items || []).slice(0, 20), { empty: "No demand gap found." }));
}
