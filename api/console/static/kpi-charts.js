/* Quitt console: the KPI charts, drawn with Chart.js (web/node_modules, served by the
 * gateway at /console/vendor/chart.js; nothing from a CDN).
 *
 * Each chart is a <figure data-chart="…"> with a <canvas> whose aria-label reads the
 * numbers out, so the charts say what they show without the picture. Amounts come as
 * decimal strings: they are shown as text from the strings (labels.js) and turned into
 * numbers only for the length of a bar.
 */

import { language, money, percent, t, term, terms } from "./labels.js";

const COLOURS = {
  conversations: "#2b5797",
  verified: "#4f81bd",
  settled: "#7fa7d9",
  promises: "#7fa7d9",
  kept: "#2f7d4f",
  broken: "#b4432f",
  pending: "#8a96a3",
  handoffs: "#c88a1a",
  promised: "#2b5797",
  received: "#2f7d4f",
  containment: "#6b4ea0",
};
const BREAKDOWN_KEYS = ["conversations", "promises", "kept", "broken", "handoffs"];

let drawn = [];

function Chart() {
  return window.Chart;
}

function figure(id, caption) {
  const node = document.createElement("figure");
  node.className = "kpi-chart";
  node.dataset.chart = id;
  const title = document.createElement("figcaption");
  title.textContent = caption;
  const box = document.createElement("div");
  box.className = "kpi-canvas";
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  box.append(canvas);
  node.append(title, box);
  return { node, canvas };
}

function describe(canvas, caption, lines) {
  canvas.setAttribute("aria-label", `${caption}: ${lines.join("; ")}`);
}

function bucketLabel(bucket) {
  return bucket.from === bucket.to ? bucket.from.slice(5) : `${bucket.from.slice(5)}–${bucket.to.slice(5)}`;
}

function baseOptions(extra) {
  return {
    animation: false,
    // Axis numbers in the labels' language: 1.600 (de) or 1,600 (en).
    locale: language() === "en" ? "en-GB" : "de-DE",
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { position: "bottom" } },
    ...extra,
  };
}

function draw(canvas, config) {
  const chart = new (Chart())(canvas, config);
  drawn.push(chart);
  return chart;
}

/* Contact -> verified -> promise -> kept, as bars of one colour each. */
function funnel(data) {
  const caption = t("chartFunnel");
  const { node, canvas } = figure("funnel", caption);
  const steps = [
    ["conversations", data.conversations],
    ["verified", data.verified],
    ["settled", data.settled],
    ["kept", data.promises.by_status.kept],
  ];
  describe(canvas, caption, steps.map(([key, value]) => `${t(key)} ${value}`));
  return [node, () => draw(canvas, {
    type: "bar",
    data: {
      labels: steps.map(([key]) => t(key)),
      datasets: [{
        label: caption,
        data: steps.map(([, value]) => value),
        backgroundColor: steps.map(([key]) => COLOURS[key]),
      }],
    },
    options: baseOptions({ indexAxis: "y", plugins: { legend: { display: false } } }),
  })];
}

function overTime(id, caption, series, keys, options) {
  const { node, canvas } = figure(id, caption);
  const labels = series.map(bucketLabel);
  describe(canvas, caption, keys.map((key) => `${t(key)} ${series.map((b) => b[key]).join(", ")}`));
  return [node, () => draw(canvas, {
    type: "line",
    data: {
      labels,
      datasets: keys.map((key) => ({
        label: t(key),
        data: series.map((b) => b[key]),
        borderColor: COLOURS[key],
        backgroundColor: COLOURS[key],
        tension: 0,
      })),
    },
    options: baseOptions({ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, ...options }),
  })];
}

function rates(series) {
  const caption = t("chartRates");
  const { node, canvas } = figure("rates", caption);
  const keys = [["containment", "containment"], ["kept", "keptRate"], ["broken", "brokenRate"]];
  describe(canvas, caption, keys.map(([key, label]) =>
    `${t(label)} ${series.map((b) => percent(b.rates[key])).join(", ")}`));
  return [node, () => draw(canvas, {
    type: "line",
    data: {
      labels: series.map(bucketLabel),
      datasets: keys.map(([key, label]) => ({
        label: t(label),
        // A bucket without a whole (no conversation, no promise) has no rate: a gap.
        data: series.map((b) => (b.rates[key] === null ? null : Math.round(Number(b.rates[key]) * 1000) / 10)),
        borderColor: COLOURS[key],
        backgroundColor: COLOURS[key],
        spanGaps: true,
      })),
    },
    options: baseOptions({
      scales: { y: { min: 0, max: 100, ticks: { callback: (v) => (language() === "en" ? `${v}%` : `${v} %`) } } },
      plugins: {
        legend: { position: "bottom" },
        tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${percent(c.raw === null ? null : c.raw / 100)}` } },
      },
    }),
  })];
}

function amountOf(bucket, currency, key) {
  const found = bucket.amounts.find((a) => a.currency === currency);
  return found ? found[key] : "0.00";
}

function amounts(series, totals) {
  const caption = t("chartAmounts");
  const { node, canvas } = figure("amounts", caption);
  const currencies = totals.map((a) => a.currency);
  const datasets = [];
  const lines = [];
  for (const currency of currencies) {
    const suffix = currencies.length > 1 ? ` (${currency})` : "";
    for (const key of ["promised", "received"]) {
      const texts = series.map((b) => amountOf(b, currency, key));
      lines.push(`${t(key)}${suffix} ${texts.map((v) => money(v, currency)).join(", ")}`);
      datasets.push({
        label: `${t(key)}${suffix}`,
        data: texts.map(Number),
        texts,
        currency,
        backgroundColor: COLOURS[key],
      });
    }
  }
  describe(canvas, caption, lines);
  return [node, () => draw(canvas, {
    type: "bar",
    data: { labels: series.map(bucketLabel), datasets },
    options: baseOptions({
      scales: { y: { beginAtZero: true } },
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            label: (c) => `${c.dataset.label}: ${money(c.dataset.texts[c.dataIndex], c.dataset.currency)}`,
          },
        },
      },
    }),
  })];
}

function reasons(data) {
  const caption = `${t("chartReasons")} (${data.handoffs.total})`;
  const { node, canvas } = figure("handoffs", caption);
  const keys = Object.keys(data.handoffs.by_reason);
  describe(canvas, caption, keys.map((key) => `${term("reasons", key)} ${data.handoffs.by_reason[key]}`));
  return [node, () => draw(canvas, {
    type: "bar",
    data: {
      labels: keys.map((key) => term("reasons", key)),
      datasets: [{ label: t("handoffs"), data: keys.map((key) => data.handoffs.by_reason[key]), backgroundColor: COLOURS.handoffs }],
    },
    options: baseOptions({
      indexAxis: "y",
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
    }),
  })];
}

/* One group of bars per channel, language or creditor. */
function breakdown(id, caption, slices, name) {
  const keys = Object.keys(slices);
  const { node, canvas } = figure(id, caption);
  describe(canvas, caption, keys.map((key) =>
    `${name(key)}: ${BREAKDOWN_KEYS.map((k) => `${t(k)} ${slices[key][k]}`).join(", ")}`));
  return [node, () => draw(canvas, {
    type: "bar",
    data: {
      labels: keys.map(name),
      datasets: BREAKDOWN_KEYS.map((k) => ({
        label: t(k),
        data: keys.map((key) => slices[key][k]),
        backgroundColor: COLOURS[k],
      })),
    },
    options: baseOptions({ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
  })];
}

/* Replace the charts in `container` with those of a `GET /api/kpis` answer. */
export function render(container, data) {
  clear();
  if (!Chart()) {
    const note = document.createElement("p");
    note.className = "kpi-empty";
    note.textContent = "Chart.js is not installed: run scripts/install-web.sh";
    container.replaceChildren(note);
    return;
  }
  const series = data.series;
  const parts = [
    funnel(data),
    overTime("activity", t("chartActivity"), series, ["conversations", "verified", "promises", "kept", "broken", "handoffs"]),
    rates(series),
    amounts(series, data.amounts),
    reasons(data),
    breakdown("by-channel", t("chartChannel"), data.by_channel, (key) => term("channels", key)),
    breakdown("by-language", t("chartLanguage"), data.by_language, (key) => terms("languages")[key] || key),
    breakdown("by-creditor", t("chartCreditor"), data.by_creditor, (key) => data.by_creditor[key].name || key),
  ];
  container.replaceChildren(...parts.map(([node]) => node));
  for (const [, start] of parts) start();
}

export function clear() {
  for (const chart of drawn) chart.destroy();
  drawn = [];
}
