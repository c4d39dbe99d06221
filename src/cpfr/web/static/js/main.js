// The dashboard's shell: sign-in with an API key, who is signed in, tabs that render their page on first view.

import { key } from "./api.js";
import { disposeCharts, resizeCharts } from "./charts.js";
import { el, fill } from "./dom.js";
import { showError } from "./feedback.js";
import { renderAlliance } from "./pages/alliance.js";
import { renderAudit } from "./pages/audit.js";
import { renderExceptions } from "./pages/exceptions.js";
import { renderForecasts } from "./pages/forecasts.js";
import { renderKpis } from "./pages/kpis.js";
import { renderLevers } from "./pages/levers.js";
import { renderOrders } from "./pages/orders.js";
import { Session } from "./session.js";

const PAGES = [
  { id: "alliance", title: "Alliance", render: renderAlliance },
  { id: "forecasts", title: "Forecasts", render: renderForecasts },
  { id: "exceptions", title: "Exceptions", render: renderExceptions },
  { id: "orders", title: "Inventory & orders", render: renderOrders },
  { id: "kpis", title: "KPIs", render: renderKpis },
  { id: "levers", title: "Trade-in & C2M", render: renderLevers },
  { id: "audit", title: "Audit", render: renderAudit },
];

const ROLE_NAMES = {
  platform_admin: "platform administrator",
  platform_planner: "platform planner",
  partner_planner: "partner planner",
  partner_viewer: "partner viewer",
};

const login = document.getElementById("login");
const app = document.getElementById("app");
const loginError = document.getElementById("login-error");
const who = document.getElementById("who");
const tabs = document.getElementById("tabs");
const main = document.getElementById("pages");

let session = null;
let rendered = new Map();

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("api-key");
  const value = input.value.trim();
  if (!value) return;
  key.set(value);
  input.value = "";
  await start();
});

document.getElementById("logout").addEventListener("click", () => {
  key.clear();
  session = null;
  disposeCharts();
  rendered = new Map();
  fill(main);
  fill(tabs);
  fill(who);
  signedIn(false);
  fill(loginError);
  history.replaceState(null, "", "#");
  document.getElementById("api-key").focus();
});

async function start() {
  if (!key.get()) {
    signedIn(false);
    return;
  }
  try {
    session = await Session.open();
  } catch (error) {
    key.clear();
    showError(loginError, error);
    signedIn(false);
    return;
  }
  fill(loginError);
  const me = session.me;
  fill(who,
    el("span", { class: "who-user", id: "who-user" }, me.user),
    el("span", { class: "who-side", id: "who-side" }, session.isPlatform ? "platform" : session.partnerName(me.partner_id)),
    el("span", { class: "who-role", id: "who-role" }, ROLE_NAMES[me.role] || me.role));
  fill(tabs, PAGES.map((page) => el("a", {
    href: `#${page.id}`, class: "tab", role: "tab", id: `tab-${page.id}`, dataset: { page: page.id },
  }, page.title)));
  fill(main, PAGES.map((page) => el("div", { class: "page", id: `page-${page.id}`, role: "tabpanel", hidden: true })));
  signedIn(true);
  await show(currentPage());
}

function signedIn(yes) {
  login.hidden = yes;
  app.hidden = !yes;
  document.body.classList.toggle("signed-out", !yes);
}

function currentPage() {
  const wanted = location.hash.slice(1);
  return PAGES.some((page) => page.id === wanted) ? wanted : PAGES[0].id;
}

async function show(pageId) {
  if (!session) return;
  for (const page of PAGES) {
    const selected = page.id === pageId;
    document.getElementById(`page-${page.id}`).hidden = !selected;
    const tab = document.getElementById(`tab-${page.id}`);
    tab.classList.toggle("active", selected);
    tab.setAttribute("aria-selected", String(selected));
  }
  const root = document.getElementById(`page-${pageId}`);
  if (!rendered.has(pageId)) {
    const page = PAGES.find((item) => item.id === pageId);
    root.dataset.state = "loading";
    const done = page.render(root, session)
      .catch((error) => showError(root, error))
      .finally(() => { root.dataset.state = "ready"; resizeCharts(); });
    rendered.set(pageId, done);
    await done;
  } else {
    resizeCharts();
  }
}

window.addEventListener("hashchange", () => show(currentPage()));
start();
