/* Quitt console: the panel of unmatched payments (an ES module; nothing from a CDN).
 *
 * Lists GET /api/payments/unmatched: amount (from its decimal string, in the agent's
 * language), booking date, the payer's name masked ("E*** M***", shown on request),
 * remittance text, the bank's reference and the claims matching considered. An agent
 * assigns a payment to a claim by its reference (POST /api/payments/{id}/assign): it is
 * allocated at once, oldest instalment first, and audited with the agent's id.
 */

import { day, language, languageSwitch, money, t } from "./labels.js";
import { closeOthers, el } from "./panels.js";

let panel = null;
let payments = [];

const app = () => window.quittConsole;

function status(message, isError) {
  const node = document.getElementById("payments-status");
  node.textContent = message || "";
  node.className = isError ? "payments-status error" : "payments-status";
}

function payerCell(payment) {
  if (!payment.payer) return el("td", { className: "payer", text: "–" });
  const name = el("span", { className: "payer-name", text: payment.payer_masked });
  const button = el("button", { type: "button", className: "link reveal", "aria-pressed": "false", text: t("revealPayer") });
  button.addEventListener("click", () => {
    const shown = button.getAttribute("aria-pressed") === "true";
    name.textContent = shown ? payment.payer_masked : payment.payer;
    button.textContent = shown ? t("revealPayer") : t("hidePayer");
    button.setAttribute("aria-pressed", String(!shown));
  });
  return el("td", { className: "payer" }, [name, " ", button]);
}

function assignForm(payment) {
  const id = `assign-${payment.id}`;
  const input = el("input", {
    id,
    name: "reference",
    type: "text",
    required: "",
    maxlength: "40",
    pattern: "\\s*[A-Za-z0-9_\\-]+\\s*",
    autocomplete: "off",
    list: payment.candidates.length ? `${id}-candidates` : null,
    value: payment.candidates.length === 1 ? payment.candidates[0] : null,
    "aria-label": t("reference"),
  });
  const form = el("form", { className: "assign-form" }, [
    input,
    el("button", { type: "submit", className: "primary", text: t("assign") }),
  ]);
  if (payment.candidates.length) {
    form.append(el("datalist", { id: `${id}-candidates` },
      payment.candidates.map((ref) => el("option", { value: ref }))));
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    assign(payment, input.value.trim(), form);
  });
  return form;
}

function row(payment) {
  return el("tr", { "data-payment": String(payment.id) }, [
    el("td", { className: "amount", text: money(payment.amount, payment.currency) }),
    el("td", { text: day(payment.booked_on) }),
    payerCell(payment),
    el("td", { className: "remittance", text: payment.remittance || "–" }),
    el("td", { className: "bank-ref", text: payment.transaction_id }),
    el("td", { text: payment.candidates.join(", ") || "–" }),
    el("td", {}, [assignForm(payment)]),
  ]);
}

function table() {
  const head = ["amount", "bookedOn", "payer", "remittance", "bankReference", "candidates", "reference"];
  return el("table", { id: "payments-table", className: "payments-table" }, [
    el("thead", {}, [el("tr", {}, head.map((key) => el("th", { scope: "col", text: t(key) })))]),
    el("tbody", {}, payments.map(row)),
  ]);
}

function draw() {
  const body = document.getElementById("payments-body");
  if (!payments.length) {
    body.replaceChildren(el("p", { id: "payments-empty", className: "empty", text: t("unmatchedEmpty") }));
    return;
  }
  body.replaceChildren(el("p", { className: "muted", text: t("paymentsCount", payments.length) }), table());
}

async function load() {
  status(t("loadingPayments"));
  try {
    payments = await app().api("/api/payments/unmatched");
  } catch (err) {
    if (err && err.status !== 401) status(app().explain(err), true);
    return;
  }
  status("");
  draw();
}

async function assign(payment, reference, form) {
  if (!reference) return;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const booked = await app().api(`/api/payments/${payment.id}/assign`, { method: "POST", body: { reference } });
    payments = payments.filter((p) => p.id !== payment.id);
    draw();
    status(t("assigned", money(booked.amount, booked.currency), booked.claim_reference));
  } catch (err) {
    button.disabled = false;
    if (!err || err.status === 401) return;
    if (err.status === 409) {
      status(t("assignConflict"), true);
      await load();
      status(t("assignConflict"), true);
    } else if (err.status === 404 && /^claim /.test(err.message)) {
      status(t("assignUnknown", reference), true);
    } else {
      status(err.message || app().explain(err), true);
    }
  }
}

function build() {
  const section = el("section", { id: "payments-panel", className: "payments-panel", lang: language(), "aria-label": t("unmatchedTitle"), hidden: "" }, [
    el("div", { className: "kpi-head" }, [
      el("h2", { text: t("unmatchedTitle") }),
      languageSwitch(),
      el("button", { id: "payments-close", type: "button", className: "ghost", text: t("back") }),
    ]),
    el("p", { className: "payments-intro", text: t("unmatchedIntro") }),
    el("p", { id: "payments-status", className: "payments-status", role: "status", "aria-live": "polite" }),
    el("div", { id: "payments-body" }),
  ]);
  section.querySelector("#payments-close").addEventListener("click", close);
  document.getElementById("app-view").append(section);
  return section;
}

function open() {
  closeOthers("payments");
  panel = panel || build();
  panel.hidden = false;
  document.getElementById("app-view").classList.add("kpi-open");
  document.getElementById("payments-button").setAttribute("aria-pressed", "true");
  load();
}

function close() {
  if (!panel || panel.hidden) return;
  panel.hidden = true;
  document.getElementById("app-view").classList.remove("kpi-open");
  document.getElementById("payments-button").setAttribute("aria-pressed", "false");
}

/* The agent switched the language: the panel is built again from the payments held. */
function relabel() {
  if (!panel) return;
  const hidden = panel.hidden;
  const message = document.getElementById("payments-status").textContent;
  panel.remove();
  panel = build();
  panel.hidden = hidden;
  document.getElementById("payments-status").textContent = message;
  draw();
}

function init() {
  const button = document.getElementById("payments-button");
  if (!button || !app()) return;
  button.addEventListener("click", () => (panel && !panel.hidden ? close() : open()));
  document.addEventListener("quitt:panel", (event) => { if (event.detail !== "payments") close(); });
  document.addEventListener("quitt:language", relabel);
}

init();
