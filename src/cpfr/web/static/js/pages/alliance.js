// Alliance: each target's progress, pace, gap and attainment probability; the gap attributed as a waterfall.

import { api, query } from "../api.js";
import { chartOn, COLORS, compactNumber } from "../charts.js";
import { bar, el, fill, fmt, select, table } from "../dom.js";
import { guard } from "../feedback.js";

const DIMENSIONS = [
  ["category_id", "Category"],
  ["channel_id", "Channel"],
  ["city_tier", "City tier"],
  ["month", "Month"],
];

export async function renderAlliance(root, session) {
  const status = el("div", { class: "page-status" });
  const targetsPlace = el("div");
  const gapTitle = el("h3");
  const dimension = select(DIMENSIONS, { value: "category_id", label: "Gap dimension", id: "gap-dimension" });
  const chartNode = el("div", { class: "chart", id: "gap-chart" });
  const gapTable = el("div");
  const gapPanel = el("section", { class: "panel", hidden: true },
    el("div", { class: "panel-head" }, gapTitle, el("div", { class: "controls" }, el("span", {}, "Attribute by"), dimension)),
    el("p", { class: "hint" }, "Gap to date (actual − target to date) split by the chosen dimension; red widens the gap, green closes it."),
    chartNode, gapTable);
  fill(root,
    el("section", { class: "panel" }, el("h2", {}, "Alliance targets"),
      el("p", { class: "hint" }, "Progress against each joint target of the latest plan run. Pace = actual ÷ target to date; probability = chance of reaching the target by its end."),
      status, targetsPlace),
    gapPanel);

  const data = await guard(status, () => api("/targets"));
  if (!data) return;
  let chosen = null;
  const showGaps = async () => {
    if (!chosen) return;
    gapPanel.hidden = false;
    gapTitle.textContent = `Gap attribution: ${chosen.description || chosen.target_id}`;
    const gaps = await guard(gapTable, () =>
      api(`/targets/${encodeURIComponent(chosen.target_id)}/gaps${query({ dimension: dimension.value })}`));
    if (!gaps) return;
    drawWaterfall(chartNode, gaps.items, dimension.value, chosen.metric, session);
    fill(gapTable, gapRows(gaps.items, dimension.value, chosen.metric, session));
  };
  dimension.addEventListener("change", showGaps);
  const rows = [...data.items].sort((left, right) =>
    String(left.partner_id).localeCompare(String(right.partner_id)) || String(left.target_id).localeCompare(String(right.target_id)));
  fill(targetsPlace, table([
    ...(session.isPlatform ? [{ label: "Partner", value: (row) => session.partnerName(row.partner_id) }] : []),
    { label: "Target", value: (row) => el("span", { title: row.target_id }, row.description || row.target_id) },
    { label: "Attainment", value: (row) => bar(row.attainment, fmt.pct(row.attainment)) },
    { label: "Pace", value: (row) => el("span", { class: row.pace < 0.95 ? "bad" : "good" }, fmt.pct(row.pace)), num: true },
    { label: "Actual", value: (row) => fmt.metric(row.actual, row.metric), num: true },
    { label: "Gap to date", value: (row) => el("span", { class: row.gap_to_date < 0 ? "bad" : "good" }, fmt.metric(row.gap_to_date, row.metric)), num: true },
    { label: "Expected total", value: (row) => fmt.metric(row.expected_total, row.metric), num: true },
    { label: "Target", value: (row) => fmt.metric(row.target, row.metric), num: true },
    { label: "Probability", value: (row) => el("span", { class: probabilityClass(row.probability) }, fmt.pct(row.probability)), num: true },
    { label: "Days left", value: (row) => fmt.int(row.days_left), num: true },
  ], rows, {
    empty: "No targets in the latest plan run.",
    onSelect: (row) => { chosen = row; showGaps(); },
  }));
  if (rows.length) {
    chosen = rows.find((row) => row.days_left > 0) || rows[0];
    const index = rows.indexOf(chosen);
    const tr = targetsPlace.querySelectorAll("tbody tr")[index];
    if (tr) tr.classList.add("selected");
    await showGaps();
  }
}

function probabilityClass(probability) {
  if (probability === null || probability === undefined) return "";
  if (probability >= 0.8) return "good";
  return probability >= 0.5 ? "warn" : "bad";
}

function memberLabel(member, dimension, session) {
  if (dimension === "channel_id") return session.channelName(member);
  if (dimension === "category_id") return session.categoryName(member);
  if (dimension === "city_tier") return `Tier ${member}`;
  return String(member);
}

function ordered(items, dimension) {
  const rows = [...items];
  if (dimension === "month" || dimension === "city_tier") rows.sort((left, right) => String(left.member).localeCompare(String(right.member)));
  else rows.sort((left, right) => left.gap - right.gap);
  return rows;
}

function drawWaterfall(node, items, dimension, metric, session) {
  const rows = ordered(items, dimension);
  const labels = rows.map((row) => memberLabel(row.member, dimension, session));
  const base = [];
  const losses = [];
  const gains = [];
  let level = 0;
  for (const row of rows) {
    const next = level + row.gap;
    base.push(Math.min(level, next));
    losses.push(row.gap < 0 ? -row.gap : 0);
    gains.push(row.gap >= 0 ? row.gap : 0);
    level = next;
  }
  // Bars hang from the running total: a transparent base stacked under the visible step, drawn
  // upwards by its size (stackStrategy "all" stacks a positive step on a negative base; empty
  // steps are 0, not "-", which would break the stack of the bars above them).
  labels.push("Total gap");
  base.push(Math.min(0, level));
  losses.push(0);
  gains.push(0);
  const total = labels.map((_, index) => (index === labels.length - 1 ? Math.abs(level) : 0));
  const unit = metric && metric.includes("yuan") ? "¥" : "units";
  chartOn(node).setOption({
    animation: false,
    grid: { left: 80, right: 24, top: 40, bottom: 90 },
    legend: { data: ["Widens the gap", "Closes the gap", "Total gap"], top: 0 },
    tooltip: {
      trigger: "axis",
      axisPointer: { type: "shadow" },
      formatter: (params) => {
        const index = params[0].dataIndex;
        if (index === rows.length) return `Total gap: ${fmt.metric(level, metric)}`;
        const row = rows[index];
        return [
          `<b>${escapeText(labels[index])}</b>`,
          `Gap: ${fmt.metric(row.gap, metric)} (${fmt.pct(row.share_of_gap)} of the gap)`,
          `Actual: ${fmt.metric(row.actual, metric)}`,
          `Target to date: ${fmt.metric(row.target_to_date, metric)}`,
        ].join("<br>");
      },
    },
    xAxis: { type: "category", data: labels, axisLabel: { rotate: labels.length > 6 ? 35 : 0, interval: 0 } },
    yAxis: { type: "value", name: unit, axisLabel: { formatter: compactNumber } },
    dataZoom: [{ type: "inside" }],
    series: [
      { name: "base", type: "bar", stack: "gap", stackStrategy: "all", data: base, itemStyle: { color: "transparent" }, emphasis: { disabled: true }, tooltip: { show: false } },
      { name: "Widens the gap", type: "bar", stack: "gap", stackStrategy: "all", data: losses, itemStyle: { color: COLORS.loss } },
      { name: "Closes the gap", type: "bar", stack: "gap", stackStrategy: "all", data: gains, itemStyle: { color: COLORS.gain } },
      { name: "Total gap", type: "bar", stack: "gap", stackStrategy: "all", data: total, itemStyle: { color: COLORS.total } },
    ],
  }, true);
}

/** Escape text for an ECharts tooltip (its formatter returns HTML). */
export function escapeText(text) {
  return String(text).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function gapRows(items, dimension, metric, session) {
  return table([
    { label: "Member", value: (row) => memberLabel(row.member, dimension, session) },
    { label: "Target to date", value: (row) => fmt.metric(row.target_to_date, metric), num: true },
    { label: "Actual", value: (row) => fmt.metric(row.actual, metric), num: true },
    { label: "Gap", value: (row) => el("span", { class: row.gap < 0 ? "bad" : "good" }, fmt.metric(row.gap, metric)), num: true },
    { label: "Share of gap", value: (row) => fmt.pct(row.share_of_gap), num: true },
  ], ordered(items, dimension), { empty: "No gap attribution for this dimension." });
}
