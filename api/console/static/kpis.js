/* Quitt console: the KPI panel. Plain JavaScript, no chart library, nothing from a CDN.
 *
 * Numbers come from GET /api/kpis (each one defined in api/kpis/service.py) through
 * console.js's authenticated fetch (window.quittConsole); the charts are small SVG bar
 * charts drawn here. Amounts stay decimal strings: they are formatted as text, and
 * turned into numbers only for a bar's length.
 */
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const KINDS = {
    full: "Vollzahlung",
    settlement: "Vergleich",
    instalment_plan: "Ratenplan",
    deferral: "Stundung",
  };
  const STATUSES = { pending: "offen", kept: "eingehalten", broken: "gebrochen" };
  const CHANNELS = { web: "Web-Chat", rest: "REST / Website", whatsapp: "WhatsApp", voice: "Telefon" };
  const LANGUAGES = { de: "Deutsch", en: "Englisch" };
  const QUICK = [["7", "7 Tage"], ["30", "30 Tage"], ["90", "90 Tage"], ["month", "Dieser Monat"]];
  // Bar chart geometry (SVG user units; the SVG scales to its box).
  const WIDTH = 520;
  const LABEL_W = 190;
  const VALUE_W = 92;
  const ROW_H = 28;
  const BAR_H = 16;

  let panel = null;

  const console_ = () => window.quittConsole;

  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function isoDay(d) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }

  function daysBefore(d, days) {
    const copy = new Date(d.getFullYear(), d.getMonth(), d.getDate());
    copy.setDate(copy.getDate() - days);
    return copy;
  }

  function percent(rate) {
    if (rate === null || rate === undefined) return "–";
    // "0.4286" -> "42,9 %": rounded once, from the decimal string.
    const value = Math.round(Number(rate) * 1000) / 10;
    return `${value.toLocaleString("de-DE", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`;
  }

  function money(amount, currency) {
    return console_().formatMoney(amount, currency);
  }

  // ---------------------------------------------------------------- charts

  /* Horizontal bars: items are {key, label, value (number), shown (text), cls}. */
  function barChart(id, caption, items) {
    const figure = el("figure", { className: "kpi-chart", "data-chart": id }, [
      el("figcaption", { text: caption }),
    ]);
    if (!items.length) {
      figure.append(el("p", { className: "kpi-empty", text: "Keine Daten im Zeitraum." }));
      return figure;
    }
    const max = Math.max(...items.map((item) => item.value), 0);
    const track = WIDTH - LABEL_W - VALUE_W;
    const height = items.length * ROW_H + 4;
    const chart = svg("svg", {
      viewBox: `0 0 ${WIDTH} ${height}`,
      role: "img",
      "aria-label": `${caption}: ${items.map((i) => `${i.label} ${i.shown}`).join(", ")}`,
    });
    items.forEach((item, row) => {
      const y = row * ROW_H + 4;
      const length = max > 0 ? Math.max(item.value > 0 ? 2 : 0, (item.value / max) * track) : 0;
      const group = svg("g", { class: "kpi-bar", "data-key": item.key });
      group.append(svg("title", {}, `${item.label}: ${item.shown}`));
      group.append(svg("text", { class: "kpi-bar-label", x: 0, y: y + BAR_H - 3 }, item.label));
      group.append(svg("rect", { class: "kpi-bar-track", x: LABEL_W, y, width: track, height: BAR_H, rx: 3 }));
      group.append(svg("rect", {
        class: `kpi-bar-fill ${item.cls || ""}`.trim(), x: LABEL_W, y, width: length.toFixed(1), height: BAR_H, rx: 3,
      }));
      group.append(svg("text", {
        class: "kpi-bar-value", x: WIDTH - VALUE_W + 8, y: y + BAR_H - 3, "data-value": item.key,
      }, item.shown));
      chart.append(group);
    });
    figure.append(chart);
    return figure;
  }

  function counts(map, labels, cls) {
    return Object.keys(labels).map((key) => ({
      key,
      label: labels[key],
      value: map[key] || 0,
      shown: String(map[key] || 0),
      cls: cls ? `kpi-${key}` : "",
    }));
  }

  function charts(data) {
    const reasons = console_().reasons;
    const funnel = [
      ["conversations", "Gespräche"],
      ["verified", "Identität bestätigt"],
      ["settled", "Zusage erhalten"],
      ["contained", "ohne Mitarbeiter"],
    ].map(([key, label]) => ({ key, label, value: data[key], shown: String(data[key]) }));
    const amounts = [];
    for (const entry of data.amounts) {
      const suffix = data.amounts.length > 1 ? ` (${entry.currency})` : "";
      amounts.push(
        { key: `promised-${entry.currency}`, label: `Zugesagt${suffix}`, value: Number(entry.promised),
          shown: money(entry.promised, entry.currency), cls: "kpi-promised" },
        { key: `received-${entry.currency}`, label: `Eingegangen${suffix}`, value: Number(entry.received),
          shown: money(entry.received, entry.currency), cls: "kpi-received" },
      );
    }
    const handoffs = Object.keys(data.handoffs.by_reason).map((key) => ({
      key,
      label: reasons[key] || key,
      value: data.handoffs.by_reason[key],
      shown: String(data.handoffs.by_reason[key]),
    }));
    return [
      barChart("funnel", "Vom Gespräch zur Zusage", funnel),
      barChart("kinds", "Zusagen nach Art", counts(data.promises.by_kind, KINDS)),
      barChart("statuses", "Eingehalten und gebrochen", counts(data.promises.by_status, STATUSES, true)),
      barChart("amounts", "Zugesagt und eingegangen", amounts),
      barChart("handoffs", `Übergaben nach Grund (${data.handoffs.total})`, handoffs),
    ];
  }

  function tiles(data) {
    const list = [
      ["conversations", "Gespräche", String(data.conversations)],
      ["verified", "Identität bestätigt", String(data.verified)],
      ["promises", "Zusagen", String(data.promises.total)],
      ["containment", "Ohne Mitarbeiter erledigt", percent(data.rates.containment)],
      ["kept-rate", "Eingehalten", percent(data.rates.kept)],
      ["broken-rate", "Gebrochen", percent(data.rates.broken)],
      ["handoffs", "Übergaben", String(data.handoffs.total)],
    ];
    return list.map(([key, label, value]) =>
      el("div", { className: "kpi-tile", "data-kpi": key }, [
        el("span", { className: "kpi-tile-value", text: value }),
        el("span", { className: "kpi-tile-label", text: label }),
      ]));
  }

  // ---------------------------------------------------------------- panel

  function field(label, control) {
    return el("label", {}, [label, control]);
  }

  function options(select, map) {
    select.append(el("option", { value: "", text: "Alle" }));
    for (const [value, text] of Object.entries(map)) select.append(el("option", { value, text }));
    return select;
  }

  function build() {
    const today = new Date();
    const from = el("input", { id: "kpi-from", type: "date", value: isoDay(daysBefore(today, 29)), required: "" });
    const to = el("input", { id: "kpi-to", type: "date", value: isoDay(today), required: "" });
    const channel = options(el("select", { id: "kpi-channel" }), CHANNELS);
    const language = options(el("select", { id: "kpi-language" }), LANGUAGES);
    const creditor = el("input", { id: "kpi-creditor", type: "text", placeholder: "z. B. stadtwerke-musterstadt", maxlength: "64" });
    const quick = el("div", { className: "kpi-quick" }, QUICK.map(([value, text]) =>
      el("button", { type: "button", "data-range": value, text })));
    const form = el("form", { id: "kpi-form", className: "kpi-form" }, [
      field("Von", from),
      field("Bis", to),
      quick,
      field("Kanal", channel),
      field("Sprache", language),
      field("Gläubiger", creditor),
      el("button", { id: "kpi-show", type: "submit", className: "primary", text: "Anzeigen" }),
      el("button", { id: "kpi-csv", type: "button", text: "CSV exportieren" }),
    ]);
    const section = el("section", { id: "kpi-panel", className: "kpi-panel", "aria-label": "Kennzahlen", hidden: "" }, [
      el("div", { className: "kpi-head" }, [
        el("h2", { text: "Kennzahlen" }),
        el("button", { id: "kpi-close", type: "button", className: "ghost", text: "Zurück zur Warteschlange" }),
      ]),
      form,
      el("p", { id: "kpi-status", className: "kpi-status", role: "status", "aria-live": "polite" }),
      el("div", { id: "kpi-tiles", className: "kpi-tiles" }),
      el("div", { id: "kpi-charts", className: "kpi-charts" }),
    ]);
    form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
    quick.addEventListener("click", (event) => {
      const range = event.target.closest("button") && event.target.closest("button").dataset.range;
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

  function query() {
    const params = new URLSearchParams();
    const value = (id) => document.getElementById(id).value.trim();
    params.set("from", value("kpi-from"));
    params.set("to", value("kpi-to"));
    for (const [name, id] of [["channel", "kpi-channel"], ["language", "kpi-language"], ["creditor", "kpi-creditor"]]) {
      if (value(id)) params.set(name, value(id));
    }
    return params.toString();
  }

  function status(message, isError) {
    const node = document.getElementById("kpi-status");
    node.textContent = message || "";
    node.className = isError ? "kpi-status error" : "kpi-status";
  }

  async function load() {
    status("Lade Kennzahlen…");
    let data;
    try {
      data = await console_().api(`/api/kpis?${query()}`);
    } catch (err) {
      if (err && err.status === 401) return;
      status(err && err.status === 400 ? err.message : console_().explain(err), true);
      return;
    }
    document.getElementById("kpi-tiles").replaceChildren(...tiles(data));
    document.getElementById("kpi-charts").replaceChildren(...charts(data));
    const p = data.period;
    status(`Zeitraum ${p.from} bis ${p.to} (ganze Tage, ${p.timezone})`);
  }

  async function exportCsv() {
    try {
      const url = await console_().fetchBlob(`/api/kpis.csv?${query()}`);
      const link = el("a", { href: url, download: `quitt-kpis-${document.getElementById("kpi-from").value}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (err) {
      if (err && err.status !== 401) status(console_().explain(err), true);
    }
  }

  function open() {
    panel = panel || build();
    panel.hidden = false;
    document.getElementById("app-view").classList.add("kpi-open");
    document.getElementById("kpi-button").setAttribute("aria-pressed", "true");
    load();
  }

  function close() {
    if (!panel) return;
    panel.hidden = true;
    document.getElementById("app-view").classList.remove("kpi-open");
    document.getElementById("kpi-button").setAttribute("aria-pressed", "false");
  }

  function init() {
    const button = document.getElementById("kpi-button");
    if (!button || !window.quittConsole) return;
    button.addEventListener("click", () => (panel && !panel.hidden ? close() : open()));
  }

  document.addEventListener("DOMContentLoaded", init);
})();
