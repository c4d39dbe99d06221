// Exceptions: the ranked queue, one exception's evidence and notes, comment / resolve, and a consensus
// proposal (a brand's planner) or override (the platform's planners) for its SKU, channel and week.

import { all, api, query } from "../api.js";
import { badge, el, field, fill, fmt, notice, select, table } from "../dom.js";
import { guard, showError, showOk } from "../feedback.js";

const REASONS = ["DISCREPANCY", "PROMOTION_MISMATCH", "ACCURACY_DROP", "STOCKOUT_RISK", "OVERSTOCK_RISK"];
const PAGE_SIZE = 25;

export async function renderExceptions(root, session) {
  const status = el("div", { class: "page-status" });
  const reason = select([["", "All reasons"], ...REASONS.map((code) => [code, code.replace("_", " ").toLowerCase()])],
    { id: "exception-reason", label: "Reason" });
  const state = select([["", "Open and resolved"], ["open", "Open"], ["resolved", "Resolved"]], { id: "exception-status", label: "Status", value: "open" });
  const listPlace = el("div", { id: "exception-list" });
  const pager = el("div", { class: "pager" });
  const detail = el("section", { class: "panel detail", id: "exception-detail" },
    el("p", { class: "empty" }, "Choose an exception to see its evidence."));
  let page = 1;
  fill(root, el("div", { class: "split" },
    el("section", { class: "panel" },
      el("h2", {}, "Exception queue"),
      el("p", { class: "hint" }, "Ranked by the value at stake (units × list price). Click a row for its evidence."),
      el("div", { class: "controls" }, field("Reason", reason), field("Status", state)),
      status, listPlace, pager),
    detail));

  const load = async (keep) => {
    const data = await guard(status, () => api(`/exceptions${query({ reason: reason.value, status: state.value, page, page_size: PAGE_SIZE })}`));
    if (!data) return;
    fill(status);
    fill(listPlace, table([
      { label: "#", value: (row) => String(row.rank), num: true },
      ...(session.isPlatform ? [{ label: "Partner", value: (row) => session.partnerName(row.partner_id) }] : []),
      { label: "Reason", value: (row) => badge(row.reason) },
      { label: "Product", value: (row) => el("span", { title: row.sku_id }, row.product || session.productName(row.sku_id)) },
      { label: "Channel", value: (row) => session.channelName(row.channel_id) },
      { label: "Week", value: (row) => fmt.date(row.ds), num: true },
      { label: "Difference", value: (row) => fmt.int(row.difference), num: true },
      { label: "At stake", value: (row) => fmt.yuan(row.value_yuan), num: true },
      { label: "Status", value: (row) => badge(row.status) },
      { label: "Notes", value: (row) => String(row.notes), num: true },
    ], data.items, {
      empty: "No exception matches.",
      onSelect: (row) => openException(detail, session, row.exception_id, () => load(true)),
      rowClass: (row) => (keep && row.exception_id === detail.dataset.exceptionId ? "selected" : null),
      rowAttrs: (row) => ({ dataset: { exceptionId: row.exception_id } }),
    }));
    const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
    fill(pager,
      el("button", { type: "button", disabled: page <= 1, onclick: () => { page -= 1; load(); } }, "‹ Previous"),
      el("span", {}, `Page ${page} of ${pages} · ${fmt.int(data.total)} exceptions`),
      el("button", { type: "button", disabled: page >= pages, onclick: () => { page += 1; load(); } }, "Next ›"));
  };
  reason.addEventListener("change", () => { page = 1; load(); });
  state.addEventListener("change", () => { page = 1; load(); });
  await load();
}

async function openException(detail, session, exceptionId, onChange) {
  detail.dataset.exceptionId = exceptionId;
  notice(detail, "info", "Loading…");
  let found;
  try {
    found = await api(`/exceptions/${encodeURIComponent(exceptionId)}`);
  } catch (error) {
    showError(detail, error);
    return;
  }
  const reopen = () => openException(detail, session, exceptionId, onChange);
  fill(detail,
    el("div", { class: "panel-head" },
      el("h2", {}, `#${found.rank} `, badge(found.reason), " ", found.product || session.productName(found.sku_id)),
      badge(found.status)),
    el("p", { class: "detail-text" }, found.detail || ""),
    evidence(found, session),
    notesPanel(found, session, reopen, onChange),
    consensusPanel(found, session, onChange));
}

function evidence(found, session) {
  const item = (label, value) => [el("dt", {}, label), el("dd", {}, value)];
  return el("dl", { class: "evidence" },
    item("Partner", session.partnerName(found.partner_id)),
    item("Product", session.productLabel(found.sku_id)),
    item("Channel", session.channelName(found.channel_id)),
    item("Week of", fmt.date(found.ds)),
    item("Platform forecast", fmt.num(found.platform_units)),
    item("Partner forecast", fmt.num(found.partner_units)),
    item("Difference", fmt.num(found.difference)),
    item("z-score", found.z_score === null || found.z_score === undefined ? "–" : Number(found.z_score).toFixed(2)),
    item("Value at stake", fmt.yuan(found.value_yuan)));
}

function notesPanel(found, session, reopen, onChange) {
  const notes = found.notes && Array.isArray(found.notes) ? found.notes : [];
  const thread = notes.length
    ? el("ol", { class: "notes", id: "exception-notes" }, notes.map((note) => el("li", {},
      el("span", { class: "note-meta" }, `${fmt.datetime(note.at)} · ${note.user_id} · ${note.kind}`),
      el("span", { class: "note-text" }, note.text))))
    : el("p", { class: "empty", id: "exception-notes" }, "No notes yet.");
  const section = el("div", { class: "subpanel" }, el("h3", {}, "Notes"), thread);
  if (!session.can("comment")) return section;
  const text = el("textarea", { id: "note-text", rows: 3, maxlength: 4000, placeholder: "What did you find, or how was it resolved?" });
  const result = el("div");
  const send = (kind) => async () => {
    if (!text.value.trim()) {
      notice(result, "error", "Write the note first.");
      return;
    }
    try {
      await api(`/exceptions/${encodeURIComponent(found.exception_id)}/${kind}`, { method: "POST", body: { text: text.value } });
      await reopen();
      onChange();
    } catch (error) {
      showError(result, error);
    }
  };
  section.append(text, el("div", { class: "controls" },
    el("button", { type: "button", id: "note-comment", onclick: send("comments") }, "Comment"),
    found.status === "resolved"
      ? el("button", { type: "button", id: "note-reopen", onclick: send("reopen") }, "Reopen")
      : el("button", { type: "button", id: "note-resolve", class: "primary", onclick: send("resolve") }, "Resolve")),
  result);
  return section;
}

function consensusPanel(found, session, onChange) {
  const action = session.can("override") ? "override" : session.can("propose") ? "propose" : null;
  const section = el("div", { class: "subpanel", id: "consensus-panel" }, el("h3", {}, "Consensus for this SKU"));
  if (!action) {
    section.appendChild(el("p", { class: "hint" }, "Your role can read the consensus but not change it."));
    return section;
  }
  const channels = [...session.channels.keys()];
  const channel = select(channels.map((id) => [id, session.channelName(id)]), { id: "consensus-channel", label: "Channel", value: found.channel_id || channels[0] });
  const weekPlace = el("span");
  const units = el("input", { type: "number", id: "consensus-units", min: 0, step: "any", required: true });
  const why = el("textarea", { id: "consensus-why", rows: 2, maxlength: 2000, required: true, placeholder: "Reason (required): what do you know that the numbers do not?" });
  const result = el("div", { id: "consensus-result" });
  let week = null;
  let cells = [];
  const loadWeeks = async () => {
    const rows = await guard(result, () => all("/consensus", { sku_id: found.sku_id, channel_id: channel.value }));
    if (!rows) return;
    cells = rows.sort((left, right) => String(left.ds).localeCompare(String(right.ds)));
    if (!cells.length) {
      fill(weekPlace, el("em", {}, "no consensus weeks for this channel"));
      week = null;
      return;
    }
    const wanted = fmt.date(found.ds);
    week = select(cells.map((row) => [fmt.date(row.ds), `${fmt.date(row.ds)} · now ${fmt.num(row.consensus)}${row.overridden ? " (overridden)" : ""}`]),
      { id: "consensus-week", label: "Week", value: cells.some((row) => fmt.date(row.ds) === wanted) ? wanted : fmt.date(cells[0].ds) });
    const prefill = () => {
      const cell = cells.find((row) => fmt.date(row.ds) === week.value);
      units.value = cell ? String(Math.round(cell.consensus * 10) / 10) : "";
    };
    week.addEventListener("change", prefill);
    prefill();
    fill(weekPlace, week);
  };
  channel.addEventListener("change", loadWeeks);
  const label = action === "override" ? "Override consensus" : "Propose consensus";
  const form = el("form", { class: "consensus-form", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    if (!week) {
      notice(result, "error", "There is no consensus week to change for this channel.");
      return;
    }
    if (!why.value.trim()) {
      notice(result, "error", "A reason is required.");
      return;
    }
    const body = { sku_id: found.sku_id, channel_id: channel.value, ds: week.value, units: Number(units.value), why: why.value };
    try {
      const done = await api(action === "override" ? "/consensus/overrides" : "/consensus/proposals", { method: "POST", body });
      showOk(result, action === "override"
        ? `Consensus for the week of ${fmt.date(done.ds)} set from ${fmt.num(done.old_units)} to ${fmt.num(done.new_units)}.`
        : `Proposal of ${fmt.num(done.units)} units for the week of ${fmt.date(done.ds)} sent to the platform.`);
      why.value = "";
      if (action === "override") await loadWeeks();
      onChange();
    } catch (error) {
      showError(result, error);
    }
  } },
  el("div", { class: "controls" }, field("Channel", channel), field("Week", weekPlace), field("Units", units)),
  field("Reason", why),
  el("button", { type: "submit", class: "primary", id: "consensus-submit" }, label));
  section.append(
    el("p", { class: "hint" }, action === "override"
      ? "Overrides apply at once and are kept in the audit trail with your reason."
      : "The platform's planners see your proposal and accept it by overriding."),
    form, result);
  loadWeeks();
  return section;
}
