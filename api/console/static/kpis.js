/* Quitt console: the KPI panel (an ES module; nothing from a CDN).
 *
 * Numbers come from GET /api/kpis (each one defined in api/kpis/service.py and
 * api/kpis/series.py) through console.js's authenticated fetch (window.quittConsole).
 * Tiles show the period's totals; kpi-charts.js draws the charts with Chart.js. Labels
 * in German and English (labels.js, the DE | EN switch in the panel's head).
 */

import { render, clear } from "./kpi-charts.js";
import { language, languageSwitch, money, percent, t, terms } from "./labels.js";
import { closeOthers, el, isoDay, daysBefore } from "./panels.js";

const FIELDS = ["kpi-from", "kpi-to", "kpi-bucket", "kpi-channel", "kpi-language", "kpi-creditor"];

let panel = null;
let last = null;

const app = () => window.quittConsole;

function tiles(data) {
  const list = [
    ["conversations", t("conversations"), String(data.conversations)],
    ["verified", t("verified"), String(data.verified)],
    ["promises", t("promises"), String(data.promises.total)],
    ["containment", t("containment"), percent(data.rates.containment)],
    ["kept-rate", t("keptRate"), percent(data.rates.kept)],
    ["broken-rate", t("brokenRate"), percent(data.rates.broken)],
    ["handoffs", t("handoffs"), String(data.handoffs.total)],
  ];
  // The period's money per currency: the first one as `promised`/`received`, others suffixed.
  data.amounts.forEach((a, n) => {
    const suffix = n ? `-${a.currency}` : "";
    list.push(
      [`promised${suffix}`, t("promised"), money(a.promised, a.currency)],
      [`received${suffix}`, t("received"), money(a.received, a.currency)],
    );
  });
  return list.map(([key, label, value]) =>
    el("div", { className: "kpi-tile", "data-kpi": key }, [
      el("span", { className: "kpi-tile-value", text: value }),
      el("span", { className: "kpi-tile-label", text: label }),
    ]));
}

function field(label, control) {
  return el("label", {}, [label, control]);
}

function options(select, map, first) {
  select.append(el("option", { value: "", text: first }));
  for (const [value, text] of Object.entries(map)) select.append(el("option", { value, text }));
  return select;
}

function build() {
  const today = new Date();
  const from = el("input", { id: "kpi-from", type: "date", value: isoDay(daysBefore(today, 29)), required: "" });
  const to = el("input", { id: "kpi-to", type: "date", value: isoDay(today), required: "" });
  const bucket = el("select", { id: "kpi-bucket" }, [
    el("option", { value: "", text: "auto" }),
    ...["day", "week", "month"].map((value) => el("option", { value, text: t(value) })),
  ]);
  const channel = options(el("select", { id: "kpi-channel" }), terms("channels"), t("all"));
  const lang = options(el("select", { id: "kpi-language" }), terms("languages"), t("all"));
  const creditor = el("input", { id: "kpi-creditor", type: "text", placeholder: t("creditorHint"), maxlength: "64" });
  const quick = el("div", { className: "kpi-quick" }, [["7", "quick7"], ["30", "quick30"], ["90", "quick90"], ["month", "quickMonth"]]
    .map(([value, key]) => el("button", { type: "button", "data-range": value, text: t(key) })));
  const form = el("form", { id: "kpi-form", className: "kpi-form" }, [
    field(t("from"), from),
    field(t("to"), to),
    quick,
    field(t("bucket"), bucket),
    field(t("channel"), channel),
    field(t("language"), lang),
    field(t("creditor"), creditor),
    el("button", { id: "kpi-show", type: "submit", className: "primary", text: t("show") }),
    el("button", { id: "kpi-csv", type: "button", text: t("csv") }),
  ]);
  const section = el("section", { id: "kpi-panel", className: "kpi-panel", lang: language(), "aria-label": t("kpis"), hidden: "" }, [
    el("div", { className: "kpi-head" }, [
      el("h2", { text: t("kpis") }),
      languageSwitch(),
      el("button", { id: "kpi-close", type: "button", className: "ghost", text: t("back") }),
    ]),
    form,
    el("p", { id: "kpi-status", className: "kpi-status", role: "status", "aria-live": "polite" }),
    el("div", { id: "kpi-tiles", className: "kpi-tiles" }),
    el("div", { id: "kpi-charts", className: "kpi-charts" }),
  ]);
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  quick.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    const range = button && button.dataset.range;
    if (!range) return;
    const now = new Date();
    to.value = isoDay(now);
    from.value = range === "month"
      ? isoDay(new Date(now.getFullYear(), now.getMonth(), 1))
      : isoDay(daysBefore(now, Number(range) - 1));
    load();
  });
  section.querySelector("#kpi-close").addEventListener("click", close);
  section.querySelector("#kpi-csv").addEventListener("click", exportCsv);
  document.getElementById("app-view").append(section);
  return section;
}

function query(extra) {
  const params = new URLSearchParams();
  const value = (id) => document.getElementById(id).value.trim();
  params.set("from", value("kpi-from"));
  params.set("to", value("kpi-to"));
  for (const [name, id] of [["bucket", "kpi-bucket"], ["channel", "kpi-channel"], ["language", "kpi-language"], ["creditor", "kpi-creditor"]]) {
    if (value(id)) params.set(name, value(id));
  }
  for (const [name, v] of Object.entries(extra || {})) params.set(name, v);
  return params.toString();
}

function status(message, isError) {
  const node = document.getElementById("kpi-status");
  node.textContent = message || "";
  node.className = isError ? "kpi-status error" : "kpi-status";
}

function show(data) {
  document.getElementById("kpi-tiles").replaceChildren(...tiles(data));
  render(document.getElementById("kpi-charts"), data);
  status(t("period", data.period, t(data.bucket)));
  panel.dataset.bucket = data.bucket;
}

async function load() {
  status(t("loading"));
  let data;
  try {
    data = await app().api(`/api/kpis?${query()}`);
  } catch (err) {
    if (err && err.status === 401) return;
    status(err && err.status === 400 ? err.message : app().explain(err), true);
    return;
  }
  last = data;
  show(data);
}

async function exportCsv() {
  // One row per bucket: the bucket chosen, else the one the server picked for the period.
  const bucket = document.getElementById("kpi-bucket").value || panel.dataset.bucket || "day";
  try {
    const url = await app().fetchBlob(`/api/kpis.csv?${query({ bucket })}`);
    const link = el("a", { href: url, download: `quitt-kpis-${document.getElementById("kpi-from").value}-by-${bucket}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (err) {
    if (err && err.status !== 401) status(app().explain(err), true);
  }
}

/* The agent switched the language: the panel is built again, its inputs and numbers kept. */
function relabel() {
  if (!panel) return;
  const values = Object.fromEntries(FIELDS.map((id) => [id, document.getElementById(id).value]));
  const hidden = panel.hidden;
  clear();
  panel.remove();
  panel = build();
  for (const [id, value] of Object.entries(values)) document.getElementById(id).value = value;
  panel.hidden = hidden;
  if (last && !hidden) show(last);
}

function open() {
  closeOthers("kpis");
  panel = panel || build();
  panel.hidden = false;
  document.getElementById("app-view").classList.add("kpi-open");
  document.getElementById("kpi-button").setAttribute("aria-pressed", "true");
  load();
}

function close() {
  if (!panel || panel.hidden) return;
  panel.hidden = true;
  clear();
  document.getElementById("app-view").classList.remove("kpi-open");
  document.getElementById("kpi-button").setAttribute("aria-pressed", "false");
}

function init() {
  const button = document.getElementById("kpi-button");
  if (!button || !app()) return;
  button.addEventListener("click", () => (panel && !panel.hidden ? close() : open()));
  document.addEventListener("quitt:panel", (event) => { if (event.detail !== "kpis") close(); });
  document.addEventListener("quitt:language", relabel);
}

init();
