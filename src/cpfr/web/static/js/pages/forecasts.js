// Forecasts: a SKU and channel's weekly history, the platform's forecast and interval, the partner's
// submission and the consensus on one chart, with the events; and the partner's forecast upload.

import { all, api, query } from "../api.js";
import { chartOn, COLORS, compactNumber } from "../charts.js";
import { el, field, fill, fmt, notice, select, table } from "../dom.js";
import { guard, showError, showOk } from "../feedback.js";
import { escapeText } from "./alliance.js";

const INTERVALS = [["q0.05", "q0.95", "90%"], ["q0.1", "q0.9", "80%"], ["q0.25", "q0.75", "50%"]];
const HISTORY_WEEKS_SHOWN = 52; // the chart opens on the last year of history and the horizon

export async function renderForecasts(root, session) {
  const status = el("div", { class: "page-status" });
  const skuPlace = el("span");
  const channelPlace = el("span");
  const chartNode = el("div", { class: "chart tall", id: "forecast-chart" });
  const weeksPlace = el("div");
  fill(root,
    el("section", { class: "panel" },
      el("h2", {}, "Forecasts"),
      el("div", { class: "controls" }, field("Product", skuPlace), field("Channel", channelPlace)),
      status, chartNode, weeksPlace),
    uploadPanel(session, () => showSeries()));

  const events = (await guard(status, () => all("/events"))) || [];
  const skus = [...session.products.keys()];
  if (!skus.length) {
    notice(status, "info", "No products to show.");
    return;
  }
  const skuSelect = select(session.productOptions(skus), { id: "forecast-sku", label: "Product", onchange: () => chooseSku() });
  let channelSelect = null;
  fill(skuPlace, skuSelect);

  async function chooseSku() {
    fill(status);
    const sku = skuSelect.value;
    const rows = await guard(status, () => all("/forecasts", { sku_id: sku }));
    if (!rows) return;
    const channels = [...new Set(rows.map((row) => row.channel_id).filter(Boolean))].sort();
    channelSelect = select(channels.map((id) => [id, session.channelName(id)]),
      { id: "forecast-channel", label: "Channel", onchange: () => showSeries() });
    fill(channelPlace, channelSelect);
    if (!channels.length) {
      notice(status, "info", "No platform forecast for this product in the latest plan run.");
      chartOn(chartNode).clear();
      fill(weeksPlace);
      return;
    }
    await showSeries();
  }

  async function showSeries() {
    if (!channelSelect || !channelSelect.value) return;
    const sku = skuSelect.value;
    const channel = channelSelect.value;
    const filters = { sku_id: sku, channel_id: channel };
    const loaded = await guard(status, () => Promise.all([
      api(`/sales/cube${query({ by: "week", ...filters })}`).then((data) => data.items),
      all("/forecasts", filters),
      all("/partner-forecasts", filters),
      all("/consensus", filters),
    ]));
    if (!loaded) return;
    fill(status);
    const [history, forecast, partner, consensus] = loaded;
    const product = session.products.get(sku);
    const relevant = events.filter((event) => eventApplies(event, product, session));
    drawForecast(chartNode, { history, forecast, partner: latestSubmission(partner), consensus, events: relevant });
    fill(weeksPlace, weeksTable(forecast, latestSubmission(partner), consensus));
  }

  await chooseSku();
}

/** The partner's latest submission for each week. */
function latestSubmission(rows) {
  const byWeek = new Map();
  for (const row of rows) {
    const week = fmt.date(row.ds);
    const seen = byWeek.get(week);
    if (!seen || String(row.submitted_on) >= String(seen.submitted_on)) byWeek.set(week, row);
  }
  return [...byWeek.values()].sort((left, right) => String(left.ds).localeCompare(String(right.ds)));
}

function eventApplies(event, product, session) {
  if (event.kind === "launch") return product && String(event.event_id).endsWith(product.sku_id);
  if (!event.category_id || !product) return true;
  const category = session.categories.get(product.category_id);
  return event.category_id === product.category_id || (category && event.category_id === category.parent_id);
}

function intervalOf(rows) {
  for (const [low, high, label] of INTERVALS) {
    if (rows.some((row) => row[low] !== null && row[low] !== undefined && row[high] !== null && row[high] !== undefined)) {
      return { low, high, label };
    }
  }
  return null;
}

function drawForecast(node, { history, forecast, partner, consensus, events }) {
  const interval = intervalOf(forecast);
  const byWeek = new Map();
  const at = (week) => {
    const key = fmt.date(week);
    if (!byWeek.has(key)) byWeek.set(key, {});
    return byWeek.get(key);
  };
  for (const row of history) at(row.week).history = row.units;
  for (const row of forecast) {
    Object.assign(at(row.ds), { mean: row.mean, low: interval ? row[interval.low] : null, high: interval ? row[interval.high] : null });
  }
  for (const row of partner) at(row.ds).partner = row.units;
  for (const row of consensus) Object.assign(at(row.ds), { consensus: row.consensus, overridden: row.overridden });
  const weeks = [...byWeek.keys()].sort();
  const points = (name) => weeks.filter((week) => isValue(byWeek.get(week)[name])).map((week) => [week, byWeek.get(week)[name]]);
  const bandWeeks = weeks.filter((week) => isValue(byWeek.get(week).low) && isValue(byWeek.get(week).high));
  const firstShown = weeks.length > HISTORY_WEEKS_SHOWN + 12 ? weeks[weeks.length - HISTORY_WEEKS_SHOWN - 12] : weeks[0];
  const first = weeks[0];
  const last = weeks[weeks.length - 1];
  const shownEvents = events.filter((event) => fmt.date(event.end_date) >= first && fmt.date(event.start_date) <= last);
  // Names of nearby events would print over each other: each takes one of three rows, and
  // subsidies (months long, their shading the lightest) print at the bottom.
  const eventLabel = (event, index) => ({
    show: true, fontSize: 10, color: "#854d0e", formatter: event.name,
    position: event.kind === "subsidy" ? "insideBottom" : "insideTop",
    offset: [0, event.kind === "subsidy" ? 0 : (index % 3) * 13],
  });
  const eventShade = (event) => ({ color: event.kind === "subsidy" ? COLORS.subsidy : COLORS.event });
  const series = [
    { name: "Sales history", type: "line", data: points("history"), showSymbol: false, lineStyle: { width: 1.5 }, color: COLORS.history },
    { name: "Interval", type: "line", stack: "band", stackStrategy: "all", data: bandWeeks.map((week) => [week, byWeek.get(week).low]), lineStyle: { opacity: 0 }, showSymbol: false, color: COLORS.band, tooltip: { show: false } },
    { name: "Interval", type: "line", stack: "band", stackStrategy: "all", data: bandWeeks.map((week) => [week, byWeek.get(week).high - byWeek.get(week).low]), lineStyle: { opacity: 0 }, areaStyle: { color: COLORS.band }, showSymbol: false, color: COLORS.band, tooltip: { show: false } },
    { name: "Platform forecast", type: "line", data: points("mean"), lineStyle: { type: "dashed" }, symbolSize: 4, color: COLORS.platform },
    { name: "Partner forecast", type: "line", data: points("partner"), symbolSize: 4, color: COLORS.partner },
    { name: "Consensus", type: "line", data: points("consensus"), lineStyle: { width: 3 }, symbolSize: 6, color: COLORS.consensus },
    {
      name: "Events", type: "line", data: [], color: "#ca8a04",
      markArea: {
        silent: false,
        data: shownEvents.filter((event) => event.start_date !== event.end_date)
          .map((event, index) => [
            { name: event.name, xAxis: fmt.date(event.start_date), label: eventLabel(event, index), itemStyle: eventShade(event) },
            { xAxis: fmt.date(event.end_date) },
          ]),
      },
      markLine: {
        symbol: "none", lineStyle: { color: "#ca8a04", type: "dotted" },
        data: shownEvents.filter((event) => event.start_date === event.end_date)
          .map((event) => ({ name: event.name, xAxis: fmt.date(event.start_date), label: { formatter: event.name, fontSize: 10 } })),
      },
    },
  ];
  chartOn(node).setOption({
    animation: false,
    grid: { left: 60, right: 24, top: 48, bottom: 80 },
    legend: { top: 0, data: ["Sales history", "Platform forecast", "Interval", "Partner forecast", "Consensus", "Events"] },
    tooltip: {
      trigger: "axis",
      formatter: (params) => {
        const withValue = params.find((param) => Array.isArray(param.value));
        const week = withValue ? fmt.date(withValue.value[0]) : localDay(params.length ? params[0].axisValue : 0);
        const values = byWeek.get(week) || {};
        const lines = [`<b>Week of ${escapeText(week)}</b>`];
        if (isValue(values.history)) lines.push(`Sales: ${fmt.int(values.history)}`);
        if (isValue(values.mean)) lines.push(`Platform: ${fmt.num(values.mean)}`);
        if (interval && isValue(values.low)) lines.push(`${interval.label} interval: ${fmt.num(values.low)} – ${fmt.num(values.high)}`);
        if (isValue(values.partner)) lines.push(`Partner: ${fmt.num(values.partner)}`);
        if (isValue(values.consensus)) lines.push(`Consensus: ${fmt.num(values.consensus)}${values.overridden ? " (overridden)" : ""}`);
        for (const event of events) {
          if (fmt.date(event.start_date) <= addDays(week, 6) && fmt.date(event.end_date) >= week) lines.push(`◆ ${escapeText(event.name)}`);
        }
        return lines.join("<br>");
      },
    },
    xAxis: { type: "time" },
    yAxis: { type: "value", name: "units / week", axisLabel: { formatter: compactNumber } },
    dataZoom: [
      { type: "inside", startValue: firstShown, endValue: last },
      { type: "slider", startValue: firstShown, endValue: last, bottom: 16 },
    ],
    series,
  }, true);
}

/** The local calendar day of a timestamp (ECharts reads "2026-11-02" as local midnight). */
function localDay(stamp) {
  const date = new Date(stamp);
  const pad = (number) => String(number).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function addDays(isoDay, days) {
  const date = new Date(`${isoDay}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

const isValue = (value) => value !== null && value !== undefined && !Number.isNaN(value);

function weeksTable(forecast, partner, consensus) {
  const interval = intervalOf(forecast);
  const partnerByWeek = new Map(partner.map((row) => [fmt.date(row.ds), row.units]));
  const consensusByWeek = new Map(consensus.map((row) => [fmt.date(row.ds), row]));
  const rows = [...forecast].sort((left, right) => String(left.ds).localeCompare(String(right.ds)));
  return table([
    { label: "Week", value: (row) => fmt.date(row.ds) },
    { label: "Platform", value: (row) => fmt.num(row.mean), num: true },
    { label: interval ? `${interval.label} interval` : "Interval", value: (row) => (interval ? `${fmt.num(row[interval.low])} – ${fmt.num(row[interval.high])}` : "–"), num: true },
    { label: "Partner", value: (row) => fmt.num(partnerByWeek.get(fmt.date(row.ds))), num: true },
    { label: "Consensus", value: (row) => { const cell = consensusByWeek.get(fmt.date(row.ds)); return cell ? fmt.num(cell.consensus) : "–"; }, num: true },
    { label: "Overridden", value: (row) => { const cell = consensusByWeek.get(fmt.date(row.ds)); return cell && cell.overridden ? "yes" : ""; } },
  ], rows, { empty: "No forecast weeks." });
}

function uploadPanel(session, onUploaded) {
  const panel = el("section", { class: "panel", id: "upload-panel" }, el("h2", {}, "Submit the partner forecast"));
  if (!session.can("submit_forecast")) {
    panel.appendChild(el("p", { class: "hint" }, "Your role cannot submit forecasts; the partner's planners and the platform's administrators can."));
    return panel;
  }
  const file = el("input", { type: "file", id: "upload-file", accept: ".csv,.parquet" });
  const result = el("div", { id: "upload-result" });
  let partner = null;
  if (session.isPlatform) {
    partner = select([...session.partners.values()].map((row) => [row.partner_id, row.name]), { id: "upload-partner", label: "Partner" });
  }
  const button = el("button", { type: "submit", class: "primary", id: "upload-button" }, "Upload forecast");
  const form = el("form", { class: "controls", onsubmit: async (event) => {
    event.preventDefault();
    const chosen = file.files && file.files[0];
    if (!chosen) {
      notice(result, "error", "Choose a CSV or Parquet file first.");
      return;
    }
    button.disabled = true;
    notice(result, "info", `Uploading ${chosen.name}…`);
    try {
      const done = await api(`/partner-forecasts${query({ filename: chosen.name, partner_id: partner ? partner.value : "" })}`,
        { method: "POST", raw: chosen });
      showOk(result, el("strong", {}, "Forecast accepted: "),
        `${fmt.int(done.rows)} rows for ${fmt.int(done.skus)} SKUs over ${fmt.int(done.weeks)} weeks (${fmt.date(done.first_week)} to ${fmt.date(done.last_week)}); ${fmt.int(done.replaced)} replaced earlier values.`);
      onUploaded();
    } catch (error) {
      showError(result, error);
    } finally {
      button.disabled = false;
    }
  } },
  partner ? field("Partner", partner) : null, field("File", file), button);
  panel.append(
    el("p", { class: "hint" }, "A CSV or Parquet file with columns sku_id, channel_id, ds (the Monday of each week) and units. A file with any problem is refused whole; every problem is listed."),
    form, result);
  return panel;
}
