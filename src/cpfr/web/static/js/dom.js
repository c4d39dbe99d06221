// DOM helpers. Data only ever enters the page as text (textContent, attribute values): never as HTML.

/**
 * Build an element: el("td", {class: "num", onclick: fn}, "text", otherNode).
 * Strings become text nodes; null/undefined/false children are skipped; arrays are flattened.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "value") node.value = value;
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/** Replace a node's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/**
 * A table: columns are {label, value(row) -> string|Node, num?: true, title?}.
 * `onSelect(row, tr)` makes rows clickable (and keyboard-selectable); `rowAttrs(row)` gives a row's attributes.
 */
export function table(columns, rows, { onSelect, empty = "Nothing to show.", rowClass, rowAttrs } = {}) {
  if (!rows.length) return el("p", { class: "empty" }, empty);
  const head = el("tr", {}, columns.map((column) =>
    el("th", { class: column.num ? "num" : null, scope: "col", title: column.title }, column.label)));
  const body = rows.map((row) => {
    const tr = el("tr", { ...(rowAttrs ? rowAttrs(row) : {}), class: rowClass ? rowClass(row) : null },
      columns.map((column) => el("td", { class: column.num ? "num" : null }, column.value(row))));
    if (onSelect) {
      tr.classList.add("clickable");
      tr.tabIndex = 0;
      const choose = () => {
        for (const other of tr.parentNode.children) other.classList.remove("selected");
        tr.classList.add("selected");
        onSelect(row, tr);
      };
      tr.addEventListener("click", choose);
      tr.addEventListener("keydown", (event) => { if (event.key === "Enter") choose(); });
    }
    return tr;
  });
  return el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, head), el("tbody", {}, body)));
}

/** A <select> of [value, label] pairs (or {group: [[value, label], ...]} for optgroups). */
export function select(options, { value, onchange, id, label } = {}) {
  const node = el("select", { id, "aria-label": label, onchange });
  const add = (parent, pairs) => {
    for (const [optionValue, optionLabel] of pairs) parent.appendChild(el("option", { value: optionValue }, optionLabel));
  };
  if (Array.isArray(options)) add(node, options);
  else for (const [group, pairs] of Object.entries(options)) {
    const optgroup = el("optgroup", { label: group });
    add(optgroup, pairs);
    node.appendChild(optgroup);
  }
  if (value !== undefined) node.value = value;
  return node;
}

/** A labelled form field. */
export function field(label, control, hint) {
  return el("label", { class: "field" }, el("span", { class: "field-label" }, label), control,
    hint ? el("span", { class: "hint" }, hint) : null);
}

/** A status message ("ok", "error", "info") in `place`. */
export function notice(place, kind, ...children) {
  return fill(place, el("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, children));
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });

const missing = (value) => value === null || value === undefined || Number.isNaN(value);

export const fmt = {
  int: (value) => (missing(value) ? "–" : integer.format(value)),
  num: (value) => (missing(value) ? "–" : decimal.format(value)),
  pct: (value, digits = 1) => (missing(value) ? "–" : `${(value * 100).toFixed(digits)}%`),
  signedPct: (value) => (missing(value) ? "–" : `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%`),
  /** Yuan, compact: ¥1.23 bn, ¥45.6 m, ¥7,890. */
  yuan: (value) => {
    if (missing(value)) return "–";
    const size = Math.abs(value);
    const sign = value < 0 ? "−" : "";
    if (size >= 1e9) return `${sign}¥${(size / 1e9).toFixed(2)} bn`;
    if (size >= 1e6) return `${sign}¥${(size / 1e6).toFixed(1)} m`;
    return `${sign}¥${integer.format(size)}`;
  },
  /** A value in the metric's unit: yuan for GMV, units otherwise. */
  metric: (value, metric) => (metric && metric.includes("yuan") ? fmt.yuan(value) : `${fmt.int(value)} units`),
  date: (value) => (value ? String(value).slice(0, 10) : "–"),
  datetime: (value) => (value ? String(value).replace("T", " ").slice(0, 19) : "–"),
};

/** A small progress bar (share 0..1+) with its label. */
export function bar(share, label) {
  const width = Math.max(0, Math.min(1, share || 0)) * 100;
  return el("span", { class: "bar", title: label },
    el("span", { class: "bar-fill", style: `width:${width.toFixed(1)}%` }), el("span", { class: "bar-label" }, label));
}

/** A pill showing a code (reasons, statuses, kinds). */
export function badge(text, kind) {
  return el("span", { class: `badge ${kind || String(text).toLowerCase()}` }, String(text).replaceAll("_", " "));
}
