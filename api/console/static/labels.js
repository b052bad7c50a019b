/* Quitt console: the labels of the KPI and payments panels in German and English,
 * and the formats of their numbers (money from decimal strings, never through floats).
 *
 * The language is the agent's choice (the DE | EN switch in each panel), kept in
 * localStorage; German by default. A change is announced with a `quitt:language` event
 * so that every panel draws itself again.
 */

const KEY = "quitt.console.panelLanguage";
export const LANGUAGES = ["de", "en"];

const TEXTS = {
  de: {
    kpis: "Kennzahlen",
    back: "Zurück zur Warteschlange",
    from: "Von",
    to: "Bis",
    bucket: "Einteilung",
    day: "Tage",
    week: "Wochen",
    month: "Monate",
    channel: "Kanal",
    language: "Sprache",
    creditor: "Gläubiger",
    all: "Alle",
    show: "Anzeigen",
    csv: "CSV exportieren",
    creditorHint: "z. B. stadtwerke-musterstadt",
    quick7: "7 Tage",
    quick30: "30 Tage",
    quick90: "90 Tage",
    quickMonth: "Dieser Monat",
    loading: "Lade Kennzahlen…",
    period: (p, bucket) => `Zeitraum ${p.from} bis ${p.to} (ganze Tage, ${p.timezone}), nach ${bucket}`,
    noData: "Keine Daten im Zeitraum.",
    conversations: "Gespräche",
    verified: "Identität bestätigt",
    settled: "Zusage erhalten",
    contained: "Ohne Mitarbeiter erledigt",
    promises: "Zusagen",
    kept: "Eingehalten",
    broken: "Gebrochen",
    pending: "Offen",
    handoffs: "Übergaben",
    containment: "Ohne Mitarbeiter erledigt",
    keptRate: "Eingehalten",
    brokenRate: "Gebrochen",
    promised: "Zugesagt",
    received: "Eingegangen",
    chartFunnel: "Vom Kontakt zur eingehaltenen Zusage",
    chartActivity: "Gespräche, Zusagen und Übergaben im Verlauf",
    chartRates: "Quoten im Verlauf",
    chartAmounts: "Zugesagt und eingegangen im Verlauf",
    chartReasons: "Übergaben nach Grund",
    chartChannel: "Nach Kanal",
    chartLanguage: "Nach Sprache",
    chartCreditor: "Nach Gläubiger",
    payments: "Zahlungen",
    unmatchedTitle: "Nicht zugeordnete Zahlungen",
    unmatchedIntro: "Diese Zahlungseingänge konnte der Import keiner Forderung zuordnen. Ordnen Sie eine Zahlung einer Forderung zu: Sie wird sofort verbucht (älteste Rate zuerst).",
    unmatchedEmpty: "Keine offenen Zahlungen. Alles ist zugeordnet.",
    amount: "Betrag",
    bookedOn: "Buchungstag",
    payer: "Zahler",
    remittance: "Verwendungszweck",
    bankReference: "Bankreferenz",
    candidates: "Mögliche Forderungen",
    reference: "Aktenzeichen",
    assign: "Zuordnen",
    revealPayer: "Namen zeigen",
    hidePayer: "Namen verbergen",
    assigned: (amount, ref) => `${amount} der Forderung ${ref} zugeordnet.`,
    assignConflict: "Diese Zahlung ist schon zugeordnet.",
    assignUnknown: (ref) => `Keine Forderung mit dem Aktenzeichen ${ref}.`,
    loadingPayments: "Lade Zahlungen…",
    paymentsCount: (n) => (n === 1 ? "1 Zahlung wartet." : `${n} Zahlungen warten.`),
    viewLanguage: "Sprache der Ansicht",
  },
  en: {
    kpis: "KPIs",
    back: "Back to the queue",
    from: "From",
    to: "To",
    bucket: "Group by",
    day: "days",
    week: "weeks",
    month: "months",
    channel: "Channel",
    language: "Language",
    creditor: "Creditor",
    all: "All",
    show: "Show",
    csv: "Export CSV",
    creditorHint: "e.g. stadtwerke-musterstadt",
    quick7: "7 days",
    quick30: "30 days",
    quick90: "90 days",
    quickMonth: "This month",
    loading: "Loading KPIs…",
    period: (p, bucket) => `Period ${p.from} to ${p.to} (whole days, ${p.timezone}), by ${bucket}`,
    noData: "No data in the period.",
    conversations: "Conversations",
    verified: "Identity verified",
    settled: "Promise made",
    contained: "Settled without an agent",
    promises: "Promises",
    kept: "Kept",
    broken: "Broken",
    pending: "Pending",
    handoffs: "Handoffs",
    containment: "Settled without an agent",
    keptRate: "Kept",
    brokenRate: "Broken",
    promised: "Promised",
    received: "Received",
    chartFunnel: "From contact to a kept promise",
    chartActivity: "Conversations, promises and handoffs over time",
    chartRates: "Rates over time",
    chartAmounts: "Promised and received over time",
    chartReasons: "Handoffs by reason",
    chartChannel: "By channel",
    chartLanguage: "By language",
    chartCreditor: "By creditor",
    payments: "Payments",
    unmatchedTitle: "Unmatched payments",
    unmatchedIntro: "The import could not match these incoming payments to a claim. Assign a payment to a claim: it is allocated at once (oldest instalment first).",
    unmatchedEmpty: "No payments waiting. Everything is matched.",
    amount: "Amount",
    bookedOn: "Booking date",
    payer: "Payer",
    remittance: "Remittance text",
    bankReference: "Bank reference",
    candidates: "Possible claims",
    reference: "Claim reference",
    assign: "Assign",
    revealPayer: "Show name",
    hidePayer: "Hide name",
    assigned: (amount, ref) => `${amount} assigned to claim ${ref}.`,
    assignConflict: "This payment is already assigned.",
    assignUnknown: (ref) => `No claim with the reference ${ref}.`,
    loadingPayments: "Loading payments…",
    paymentsCount: (n) => (n === 1 ? "1 payment is waiting." : `${n} payments are waiting.`),
    viewLanguage: "Language of this view",
  },
};

const TERMS = {
  de: {
    channels: { web: "Web-Chat", rest: "REST / Website", whatsapp: "WhatsApp", voice: "Telefon" },
    languages: { de: "Deutsch", en: "Englisch" },
    reasons: {
      human_request: "Wunsch nach Mitarbeiter",
      negative_sentiment: "Negative Stimmung",
      dispute: "Widerspruch",
      insolvency: "Insolvenz",
      bereavement: "Trauerfall",
      vulnerability: "Besondere Lebenslage",
      crisis: "Krise",
      verification_locked: "Identitätsprüfung gesperrt",
      policy_limit: "Grenze der Regeln",
      bot_failure: "Bot kommt nicht weiter",
      broken_promise: "Zahlungszusage gebrochen",
    },
  },
  en: {
    channels: { web: "Web chat", rest: "REST / website", whatsapp: "WhatsApp", voice: "Phone" },
    languages: { de: "German", en: "English" },
    reasons: {
      human_request: "Asked for a person",
      negative_sentiment: "Negative sentiment",
      dispute: "Dispute",
      insolvency: "Insolvency",
      bereavement: "Bereavement",
      vulnerability: "Vulnerability",
      crisis: "Crisis",
      verification_locked: "Verification locked",
      policy_limit: "Beyond the policy",
      bot_failure: "Bot could not help",
      broken_promise: "Broken promise",
    },
  },
};

function stored() {
  try { return window.localStorage.getItem(KEY); } catch (err) { return null; }
}

let current = LANGUAGES.includes(stored()) ? stored() : "de";

export function language() {
  return current;
}

export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang) || lang === current) return;
  current = lang;
  try { window.localStorage.setItem(KEY, lang); } catch (err) { /* private mode: this page only */ }
  document.dispatchEvent(new CustomEvent("quitt:language", { detail: lang }));
}

/* A label (or a function making one, called with the arguments). */
export function t(key, ...args) {
  const text = TEXTS[current][key] ?? TEXTS.de[key] ?? key;
  return typeof text === "function" ? text(...args) : text;
}

export function term(group, key) {
  return TERMS[current][group][key] || key;
}

export function terms(group) {
  return TERMS[current][group];
}

/* "1234.5" -> "1.234,50 €" (de) or "€1,234.50" (en), from the decimal string. */
export function money(amount, currency) {
  const [whole, frac = "00"] = String(amount).split(".");
  const negative = whole.startsWith("-");
  const digits = negative ? whole.slice(1) : whole;
  const cents = (frac + "00").slice(0, 2);
  const symbol = currency === "EUR" ? "€" : currency || "";
  const sign = negative ? "−" : "";
  if (current === "en") {
    const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return symbol === "€" ? `${sign}€${grouped}.${cents}` : `${sign}${grouped}.${cents} ${symbol}`.trim();
  }
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  return `${sign}${grouped},${cents} ${symbol}`.trim();
}

/* "0.4286" -> "42,9 %" (de) or "42.9%" (en); null -> "–". */
export function percent(rate) {
  if (rate === null || rate === undefined) return "–";
  const value = Math.round(Number(rate) * 1000) / 10;
  const locale = current === "en" ? "en-GB" : "de-DE";
  const text = value.toLocaleString(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return current === "en" ? `${text}%` : `${text} %`;
}

/* "2026-03-01" -> "01.03.2026" (de) or "01/03/2026" (en). */
export function day(iso) {
  if (!iso) return "–";
  const [y, m, d] = iso.slice(0, 10).split("-");
  return current === "en" ? `${d}/${m}/${y}` : `${d}.${m}.${y}`;
}

/* A DE | EN switch for a panel's head. */
export function languageSwitch() {
  const box = document.createElement("div");
  box.className = "lang-switch";
  box.setAttribute("role", "group");
  const draw = () => {
    box.setAttribute("aria-label", t("viewLanguage"));
    box.replaceChildren(...LANGUAGES.map((lang) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = lang.toUpperCase();
      button.dataset.lang = lang;
      button.setAttribute("aria-pressed", String(lang === current));
      button.addEventListener("click", () => setLanguage(lang));
      return button;
    }));
  };
  draw();
  document.addEventListener("quitt:language", draw);
  return box;
}
