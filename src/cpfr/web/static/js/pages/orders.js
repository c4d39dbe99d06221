// Inventory & orders: today's proposed purchase orders and transfers (edit the quantity, release),
// the stock-out and overstock risks, and a SKU's order forecast.

import { all, api, query } from "../api.js";
import { chartOn, COLORS, compactNumber } from "../charts.js";
import { badge, el, field, fill, fmt, select, table } from "../dom.js";
import { guard, showError, showOk } from "../feedback.js";

const PAGE_SIZE = 25;

export async function renderOrders(root, session) {
  const status = el("div", { class: "page-status" });
  const kind = select([["", "Purchases and transfers"], ["purchase", "Purchases"], ["transfer", "Transfers"]], { id: "order-kind", label: "Kind" });
  const skuFilter = select([["", "All products"], ...flatOptions(session)], { id: "order-sku", label: "Product" });
  const listPlace = el("div", { id: "order-list" });
  const pager = el("div", { class: "pager" });
  const risksPlace = el("div", { id: "risk-list", class: "scroll" });
  const forecastSku = el("span");
  const chartNode = el("div", { class: "chart", id: "order-chart" });
  const networkSummary = el("div", { class: "page-status" });
  const networkChart = el("div", { class: "chart", id: "network-chart" });
  const networkPlace = el("div", { id: "network-list" });
  let page = 1;
  fill(root,
    el("section", { class: "panel" },
      el("h2", {}, "Today's proposed orders and transfers"),
      el("p", { class: "hint" }, session.can("edit_orders")
        ? "Change a quantity and save it, or release the order; a released order can no longer change."
        : "Your role can read the orders but not change them."),
      el("div", { class: "controls" }, field("Kind", kind), field("Product", skuFilter)),
      status, listPlace, pager),
    el("div", { class: "split even" },
      el("section", { class: "panel" }, el("h2", {}, "Stock cover risks"),
        el("p", { class: "hint" }, "Products whose network stock covers too few or too many weeks of forecast."), risksPlace),
      el("section", { class: "panel" }, el("h2", {}, "Order forecast"),
        el("div", { class: "controls" }, field("Product", forecastSku)), chartNode)),
    el("section", { class: "panel", id: "network-panel" },
      el("h2", {}, "Warehouse network: which SKUs each front warehouse should stock"),
      el("p", { class: "hint" }, "Daily parcel, handling and holding cost of today's FDC placement against the optimised one (local parcels where they pay for the stock they need)."),
      networkSummary, networkChart, networkPlace));

  const load = async () => {
    const data = await guard(status, () => api(`/network-orders${query({ kind: kind.value, sku_id: skuFilter.value, page, page_size: PAGE_SIZE })}`));
    if (!data) return;
    fill(status);
    fill(listPlace, ordersTable(data.items, session, status, load));
    const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
    fill(pager,
      el("button", { type: "button", disabled: page <= 1, onclick: () => { page -= 1; load(); } }, "‹ Previous"),
      el("span", {}, `Page ${page} of ${pages} · ${fmt.int(data.total)} orders`),
      el("button", { type: "button", disabled: page >= pages, onclick: () => { page += 1; load(); } }, "Next ›"));
  };
  kind.addEventListener("change", () => { page = 1; load(); });
  skuFilter.addEventListener("change", () => { page = 1; load(); });
  await load();

  const risks = await guard(risksPlace, async () => {
    const [low, high] = await Promise.all([
      all("/exceptions", { reason: "STOCKOUT_RISK" }), all("/exceptions", { reason: "OVERSTOCK_RISK" }),
    ]);
    return [...low, ...high].sort((left, right) => (right.value_yuan || 0) - (left.value_yuan || 0));
  });
  if (risks) {
    fill(risksPlace, table([
      ...(session.isPlatform ? [{ label: "Partner", value: (row) => session.partnerName(row.partner_id) }] : []),
      { label: "Risk", value: (row) => badge(row.reason === "STOCKOUT_RISK" ? "stock-out" : "overstock", row.reason === "STOCKOUT_RISK" ? "bad" : "warn") },
      { label: "Product", value: (row) => row.product || session.productName(row.sku_id) },
      { label: "Cover", value: (row) => row.detail || "" },
      { label: "At stake", value: (row) => fmt.yuan(row.value_yuan), num: true },
    ], risks, { empty: "No stock cover risk in the latest plan run.", onSelect: (row) => { skuChoice.value = row.sku_id; drawOrderForecast(); } }));
  }

  const plan = (await guard(forecastSku, () => all("/order-forecast"))) || [];
  const skus = [...new Set(plan.map((row) => row.sku_id))];
  const skuChoice = select(session.productOptions(skus), { id: "order-forecast-sku", label: "Product" });
  if (risks && risks.length && skus.includes(risks[0].sku_id)) skuChoice.value = risks[0].sku_id;
  fill(forecastSku, skuChoice);
  const drawOrderForecast = () => {
    const rows = plan.filter((row) => row.sku_id === skuChoice.value).sort((left, right) => String(left.ds).localeCompare(String(right.ds)));
    const weeks = rows.map((row) => fmt.date(row.ds));
    const line = (name, column, color, dashed) => ({ name, type: "line", data: rows.map((row) => row[column]), color, lineStyle: dashed ? { type: "dashed" } : undefined });
    chartOn(chartNode).setOption({
      animation: false,
      grid: { left: 60, right: 20, top: 40, bottom: 60 },
      legend: { top: 0 },
      tooltip: { trigger: "axis", valueFormatter: (value) => fmt.num(value) },
      xAxis: { type: "category", data: weeks },
      yAxis: { type: "value", name: "units", axisLabel: { formatter: compactNumber } },
      dataZoom: [{ type: "inside" }, { type: "slider", bottom: 8 }],
      series: [
        { name: "Order", type: "bar", data: rows.map((row) => row.order), color: COLORS.partner },
        line("Demand", "demand", COLORS.history),
        line("Order-up-to", "order_up_to", COLORS.platform, true),
        line("Position", "position", COLORS.consensus),
      ],
    }, true);
  };
  skuChoice.addEventListener("change", drawOrderForecast);
  if (skus.length) drawOrderForecast();

  const network = await guard(networkSummary, () => api("/network/placement"));
  if (network) drawNetwork(network, networkSummary, networkChart, networkPlace);
}

function drawNetwork(network, summary, chartNode, place) {
  const change = network.cost_now_yuan ? (network.cost_planned_yuan - network.cost_now_yuan) / network.cost_now_yuan : 0;
  fill(summary, el("p", {},
    `Cost a day: ${fmt.yuan(network.cost_now_yuan)} today → ${fmt.yuan(network.cost_planned_yuan)} planned (${fmt.signedPct(change)}); `
    + `the fastest-SKUs-first rule: ${fmt.yuan(network.greedy_cost_yuan)}. Solved ${network.method}, proven gap ${fmt.pct(network.gap, 2)}.`));
  const regions = network.regions || [];
  chartOn(chartNode).setOption({
    animation: false,
    grid: { left: 70, right: 20, top: 40, bottom: 40 },
    legend: { top: 0 },
    tooltip: { trigger: "axis", valueFormatter: (value) => fmt.yuan(value) },
    xAxis: { type: "category", data: regions.map((row) => row.fdc) },
    yAxis: { type: "value", name: "¥ a day", axisLabel: { formatter: compactNumber } },
    series: [
      { name: "Today", type: "bar", data: regions.map((row) => row.cost_now_yuan), color: COLORS.history },
      { name: "Planned", type: "bar", data: regions.map((row) => row.cost_planned_yuan), color: COLORS.consensus },
    ],
  }, true);
  fill(place, table([
    { label: "Region", value: (row) => row.region },
    { label: "FDC", value: (row) => row.fdc },
    { label: "SKUs today → planned", value: (row) => `${fmt.int(row.skus_now)} → ${fmt.int(row.skus_planned)}`, num: true },
    { label: "Shipped locally", value: (row) => `${fmt.pct(row.local_share_now, 0)} → ${fmt.pct(row.local_share_planned, 0)}`, num: true },
    { label: "Space used", value: (row) => fmt.pct(row.capacity_used, 0), num: true },
    { label: "Saving a day", value: (row) => fmt.yuan(row.saving_yuan), num: true },
  ], regions, { empty: "No FDC in the store." }));
}

function flatOptions(session) {
  const options = session.productOptions();
  return Array.isArray(options) ? options : Object.values(options).flat();
}

function ordersTable(rows, session, status, reload) {
  const editable = session.can("edit_orders");
  const route = (row) => (row.kind === "transfer" ? `${row.from_site_id} → ${row.to_site_id}` : `supplier → ${row.to_site_id}`);
  return table([
    { label: "Order", value: (row) => el("span", { class: "code" }, row.order_id) },
    { label: "Kind", value: (row) => badge(row.kind) },
    ...(session.isPlatform ? [{ label: "Partner", value: (row) => session.partnerName(row.partner_id) }] : []),
    { label: "Product", value: (row) => el("span", { title: row.sku_id }, session.productName(row.sku_id)) },
    { label: "Route", value: route },
    { label: "Due", value: (row) => fmt.date(row.due_date) },
    { label: "Position", value: (row) => fmt.int(row.position), num: true },
    { label: "Proposed", value: (row) => fmt.int(row.proposed_quantity), num: true },
    { label: "Quantity", value: (row) => quantityCell(row, editable, status, reload), num: true },
  ], rows, { empty: "No proposed order matches (a plan run without network orders proposes none: `cpfr plan --network`)." });
}

function quantityCell(row, editable, status, reload) {
  if (row.released) return el("span", { class: "released" }, `${fmt.int(row.quantity)} · released`);
  if (!editable) return fmt.int(row.quantity);
  const input = el("input", { type: "number", min: 0, step: 1, value: String(row.quantity), class: "qty", "aria-label": `Quantity of ${row.order_id}` });
  const send = (body, message) => async () => {
    try {
      await api(`/network-orders/${encodeURIComponent(row.order_id)}`, { method: "PATCH", body });
      await reload();
      showOk(status, message);
    } catch (error) {
      showError(status, error);
    }
  };
  return el("span", { class: "order-edit" }, input,
    el("button", { type: "button", onclick: (event) => send({ quantity: Number(input.value) }, `${row.order_id}: quantity set to ${fmt.int(Number(input.value))}.`)(event) }, "Save"),
    el("button", { type: "button", class: "primary", onclick: (event) => send({ quantity: Number(input.value), released: true }, `${row.order_id} released.`)(event) }, "Release"));
}
