// Audit: who wrote what, when (a brand: the writes on its own data), newest first.

import { api, query } from "../api.js";
import { el, fill, fmt, table } from "../dom.js";
import { guard } from "../feedback.js";

const PAGE_SIZE = 50;

export async function renderAudit(root, session) {
  const status = el("div", { class: "page-status" });
  const listPlace = el("div", { id: "audit-list" });
  const reload = el("button", { type: "button", onclick: () => load() }, "Refresh");
  fill(root, el("section", { class: "panel" },
    el("div", { class: "panel-head" }, el("h2", {}, "Audit trail"), reload),
    el("p", { class: "hint" }, "Every write through the API, with its author and details; the latest 50."),
    status, listPlace));
  const load = async () => {
    const data = await guard(status, () => api(`/audit${query({ page_size: PAGE_SIZE })}`));
    if (!data) return;
    fill(status);
    fill(listPlace, table([
      { label: "When", value: (row) => fmt.datetime(row.at) },
      { label: "Who", value: (row) => row.user_id },
      { label: "Side", value: (row) => session.partnerName(row.partner_id) },
      { label: "Action", value: (row) => row.action },
      { label: "On", value: (row) => el("span", { class: "code" }, row.target || "") },
      { label: "Details", value: (row) => el("span", { class: "code" }, row.detail || "") },
    ], data.items, { empty: "Nothing written yet." }));
  };
  await load();
}
