// ECharts (vendored, loaded as the global `echarts`): one chart per container, resized with the window and tabs.

const charts = new Set();

export const COLORS = {
  history: "#334155",
  platform: "#2563eb",
  band: "rgba(37, 99, 235, 0.22)",
  partner: "#ea580c",
  consensus: "#16a34a",
  loss: "#dc2626",
  gain: "#16a34a",
  total: "#64748b",
  event: "rgba(234, 179, 8, 0.16)",
  subsidy: "rgba(234, 179, 8, 0.05)",
};

/** Return the chart of `node`, made on first use. */
export function chartOn(node) {
  const existing = window.echarts.getInstanceByDom(node);
  if (existing) return existing;
  const chart = window.echarts.init(node, null, { renderer: "canvas" });
  charts.add(chart);
  return chart;
}

/** Resize every chart (after a tab shows, or the window changes). */
export function resizeCharts() {
  for (const chart of charts) {
    if (chart.isDisposed()) charts.delete(chart);
    else chart.resize();
  }
}

/** Forget every chart (on sign-out). */
export function disposeCharts() {
  for (const chart of charts) if (!chart.isDisposed()) chart.dispose();
  charts.clear();
}

window.addEventListener("resize", resizeCharts);

export const compactNumber = (value) => {
  const size = Math.abs(value);
  if (size >= 1e9) return `${(value / 1e9).toFixed(1)} bn`;
  if (size >= 1e6) return `${(value / 1e6).toFixed(1)} m`;
  if (size >= 1e4) return `${(value / 1e3).toFixed(0)} k`;
  return String(Math.round(value * 100) / 100);
};
