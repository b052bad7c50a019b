/* Quitt console: plain JavaScript, no build step, nothing from a CDN.
 *
 * The page holds no data of its own: everything comes from /api/console with the
 * bearer token kept in sessionStorage, and live events come over /api/console/ws
 * (the token goes in the first frame, never in the URL).
 */
(function () {
  "use strict";

  const TOKEN_KEY = "quitt.console.token";
  const SELECTED_KEY = "quitt.console.selected";
  const QUEUE_POLL_MS = 30000;

  const REASONS = {
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
  };
  const STATES = { queued: "Wartend", assigned: "Übernommen", closed: "Geschlossen", bot: "Beim Bot" };
  const SENTIMENTS = {
    negative_angry: "verärgert",
    negative_distressed: "belastet",
    neutral: "neutral",
    positive: "positiv",
  };
  const CHANNELS = { rest: "Web", web: "Web", socketio: "Web-Chat", whatsapp: "WhatsApp", voice: "Telefon" };
  const AUTHORS = { debtor: "Person", bot: "Bot", agent: "Mitarbeiter", system: "System" };
  const CLAIM_STATUS = { open: "offen", disputed: "bestritten", insolvency: "Insolvenz", paid: "bezahlt" };
  const PROMISE_KIND = {
    full: "Vollzahlung",
    settlement: "Vergleich",
    instalment_plan: "Ratenplan",
    deferral: "Stundung",
  };
  const PROMISE_STATUS = { pending: "offen", kept: "eingehalten", broken: "gebrochen", cancelled: "storniert" };
  const OUTCOMES = {
    handed_back: "an den Bot zurückgegeben",
    payment_arranged: "Zahlung vereinbart",
    instalment_plan_agreed: "Ratenplan vereinbart",
    dispute_recorded: "Widerspruch aufgenommen",
    referred_to_debt_advice: "an Schuldnerberatung verwiesen",
    vulnerability_support: "besondere Lebenslage – Forderung ruht",
    no_response: "keine Antwort",
    other: "Sonstiges",
  };
  const DISPUTE_STATUS = { open: "offen", resolved: "geklärt", rejected: "abgelehnt", upheld: "berechtigt" };
  const ALERTS = {
    whatsapp_attachment: "Anhang erhalten",
    whatsapp_opted_out: "Per STOPP abgemeldet – keine Nachrichten mehr",
    whatsapp_opted_in: "Per START wieder angemeldet",
    whatsapp_window_closed: "24-Stunden-Fenster geschlossen – Freitext nicht gesendet",
    whatsapp_send_failed: "Senden über WhatsApp fehlgeschlagen",
    whatsapp_no_contact: "Kein WhatsApp-Kontakt",
    whatsapp_template_sent: "Vorlage gesendet",
    whatsapp_window_open: "Vorlage nicht gesendet: Fenster offen",
    whatsapp_template_awaiting_answer: "Vorlage nicht gesendet: Antwort steht aus",
    outside_contact_hours: "Vorlage nicht gesendet: außerhalb der Kontaktzeiten",
    crisis: "Krisensignal – Krisenhilfe wurde gesendet",
  };
  // Alerts the server lists itself in the conversation view (the rest are only live).
  const STORED_ALERTS = new Set(Object.keys(ALERTS).filter((k) => k !== "crisis"));
  const URGENT_ALERTS = new Set(["whatsapp_window_closed", "whatsapp_send_failed", "whatsapp_opted_out", "crisis"]);
  const REFUSALS = {
    whatsapp_window_closed: "Das 24-Stunden-Fenster von WhatsApp ist geschlossen: Freitext ist nicht möglich. Senden Sie die freigegebene Vorlage.",
    whatsapp_opted_out: "Die Person hat WhatsApp abbestellt (STOPP); es darf nichts mehr gesendet werden.",
    whatsapp_no_contact: "Diese WhatsApp-Nummer hat uns nie geschrieben; es kann nichts gesendet werden.",
    whatsapp_window_open: "Das 24-Stunden-Fenster ist offen: Schreiben Sie eine normale Antwort.",
    whatsapp_template_awaiting_answer: "Die Vorlage ist schon gesendet; warten Sie auf die Antwort.",
    outside_contact_hours: "Außerhalb der Kontaktzeiten des Gläubigers; die Vorlage kann später gesendet werden.",
  };
  const ATTACHMENT_KINDS = { image: "Bild", document: "Dokument", voice: "Sprachnachricht" };

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    me: null,
    queue: [],
    selectedId: null,
    detail: null,
    messageIds: new Set(),
    noteIds: new Set(),
    canned: {},
    ws: null,
    wsRetry: 0,
    wsTimer: null,
    queueTimer: null,
    pollTimer: null,
    busy: false,
    liveAlerts: [],
    blobUrls: [],
    windowTimer: null,
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- helpers

  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "text") node.textContent = value;
        else if (key === "className") node.className = value;
        else if (key === "dataset") Object.assign(node.dataset, value);
        else node.setAttribute(key, value === true ? "" : value);
      }
    }
    for (const child of children || []) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function label(map, key) {
    return (key && map[key]) || key || "–";
  }

  function formatMoney(amount, currency) {
    // Amounts arrive as decimal strings; format them without going through floats.
    const [whole, frac = "00"] = String(amount).split(".");
    const negative = whole.startsWith("-");
    const digits = negative ? whole.slice(1) : whole;
    const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    const symbol = currency === "EUR" ? "€" : currency || "";
    return `${negative ? "−" : ""}${grouped},${(frac + "00").slice(0, 2)} ${symbol}`.trim();
  }

  function formatDate(iso) {
    if (!iso) return "–";
    const d = new Date(iso.length === 10 ? iso + "T00:00:00" : iso);
    return d.toLocaleDateString("de-DE", { day: "2-digit", month: "2-digit", year: "numeric" });
  }

  function formatTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    const today = new Date();
    const time = d.toLocaleTimeString("de-DE", { hour: "2-digit", minute: "2-digit" });
    return d.toDateString() === today.toDateString() ? time : `${formatDate(iso)} ${time}`;
  }

  function formatWaiting(seconds) {
    if (seconds < 60) return "wartet < 1 Min.";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `wartet ${minutes} Min.`;
    const hours = Math.floor(minutes / 60);
    return `wartet ${hours} Std. ${minutes % 60} Min.`;
  }

  function sentimentChip(reading) {
    if (!reading || typeof reading !== "object") {
      return el("span", { className: "chip chip-none", title: "Keine Stimmungsmessung", text: "Stimmung –" });
    }
    const key = String(reading.label || "").replace(/-/g, "_");
    const score = typeof reading.score === "number" ? ` ${reading.score.toFixed(2)}` : "";
    return el("span", {
      className: `chip chip-${key || "none"}`,
      title: `Stimmung: ${label(SENTIMENTS, key)}${score}`,
      text: `${label(SENTIMENTS, key)}${score}`,
    });
  }

  function stateBadge(value) {
    return el("span", { className: `badge badge-${value}`, text: label(STATES, value) });
  }

  let toastTimer = null;
  function toast(message, isError) {
    const node = $("toast");
    node.textContent = message;
    node.className = isError ? "toast error" : "toast";
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { node.hidden = true; }, isError ? 6000 : 2500);
  }

  function isTyping(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT");
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, detail, reason) {
      super(detail);
      this.status = status;
      this.reason = reason || null;
    }
  }

  async function api(path, options) {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method: opts.method || "GET",
        headers,
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      });
    } catch (err) {
      throw new ApiError(0, "Der Server ist nicht erreichbar.");
    }
    if (response.status === 401) {
      logout("Ihre Sitzung ist abgelaufen oder ungültig. Bitte melden Sie sich erneut an.");
      throw new ApiError(401, "nicht angemeldet");
    }
    let body = null;
    try { body = await response.json(); } catch (err) { body = null; }
    if (!response.ok) {
      throw new ApiError(response.status, (body && body.detail) || `HTTP ${response.status}`, body && body.reason);
    }
    return body;
  }

  // A debtor's file, fetched with the token (an <img src> could not send it).
  async function fetchBlob(path) {
    let response;
    try {
      response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
    } catch (err) {
      throw new ApiError(0, "Der Server ist nicht erreichbar.");
    }
    if (response.status === 401) {
      logout("Ihre Sitzung ist abgelaufen oder ungültig. Bitte melden Sie sich erneut an.");
      throw new ApiError(401, "nicht angemeldet");
    }
    if (!response.ok) {
      let body = null;
      try { body = await response.json(); } catch (err) { body = null; }
      throw new ApiError(response.status, (body && body.detail) || `HTTP ${response.status}`);
    }
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    state.blobUrls.push(url);
    return url;
  }

  function explain(err) {
    if (!(err instanceof ApiError)) return String(err && err.message ? err.message : err);
    if (err.reason && REFUSALS[err.reason]) return REFUSALS[err.reason];
    switch (err.status) {
      case 409: return "Das ging nicht: Der Status des Gesprächs hat sich geändert (z. B. schon übernommen).";
      case 403: return "Dieses Gespräch betreut eine andere Person.";
      case 404: return "Das Gespräch gibt es nicht mehr.";
      case 422: return "Bitte die Eingabe prüfen.";
      case 502: return `WhatsApp (Twilio) hat abgelehnt: ${err.message}`;
      case 503: return "Der Bot ist gerade nicht erreichbar. Bitte gleich noch einmal versuchen.";
      default: return err.message;
    }
  }

  function report(err) {
    if (err instanceof ApiError && err.status === 401) return;
    toast(explain(err), true);
  }

  // ---------------------------------------------------------------- login

  function showLogin(message) {
    $("app-view").hidden = true;
    $("login-view").hidden = false;
    const note = $("login-message");
    note.hidden = !message;
    note.textContent = message || "";
    $("login-password").value = "";
    (($("login-email").value && $("login-password")) || $("login-email")).focus();
  }

  function logout(message) {
    state.token = null;
    state.me = null;
    sessionStorage.removeItem(TOKEN_KEY);
    closeSocket();
    clearInterval(state.pollTimer);
    showLogin(message);
  }

  async function onLogin(event) {
    event.preventDefault();
    const button = $("login-button");
    button.disabled = true;
    try {
      const response = await fetch("/api/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ email: $("login-email").value.trim(), password: $("login-password").value }),
      });
      if (response.status === 429) {
        const wait = response.headers.get("Retry-After");
        showLogin(`Zu viele Anmeldeversuche. Bitte ${wait ? `in ${wait} Sekunden` : "später"} erneut versuchen.`);
        return;
      }
      if (!response.ok) {
        showLogin("E-Mail oder Passwort ist falsch.");
        return;
      }
      const body = await response.json();
      state.token = body.access_token;
      sessionStorage.setItem(TOKEN_KEY, state.token);
      await start();
    } catch (err) {
      showLogin("Der Server ist nicht erreichbar.");
    } finally {
      button.disabled = false;
    }
  }

  async function start() {
    try {
      state.me = await api("/api/console/me");
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) showLogin(explain(err));
      return;
    }
    $("agent-label").textContent =
      `${state.me.email} · ${state.me.role === "supervisor" ? "Supervisor" : "Mitarbeiter"}`;
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    connectSocket();
    await loadQueue();
    const remembered = Number(sessionStorage.getItem(SELECTED_KEY));
    if (remembered) await select(remembered, { quiet: true });
    clearInterval(state.pollTimer);
    // Waiting times move on their own; refresh them now and then.
    state.pollTimer = setInterval(() => { if (state.token) loadQueue(); }, QUEUE_POLL_MS);
  }

  // ---------------------------------------------------------------- queue

  async function loadQueue() {
    try {
      state.queue = await api("/api/console/queue");
    } catch (err) {
      report(err);
      return;
    }
    renderQueue();
  }

  function scheduleQueueRefresh() {
    clearTimeout(state.queueTimer);
    state.queueTimer = setTimeout(loadQueue, 250);
  }

  function holderText(item) {
    if (item.state !== "assigned") return null;
    if (state.me && item.assigned_agent_id === state.me.id) return "bei Ihnen";
    return `bei Mitarbeiter #${item.assigned_agent_id}`;
  }

  function renderQueue() {
    const list = $("queue-list");
    list.replaceChildren();
    for (const item of state.queue) {
      const button = el("button", {
        type: "button",
        className: `queue-item${item.id === state.selectedId ? " selected" : ""}`,
        dataset: { id: String(item.id), conversation: item.conversation_id },
        "aria-current": item.id === state.selectedId ? "true" : null,
      }, [
        el("div", { className: "queue-row" }, [
          el("span", { className: "queue-reason", text: label(REASONS, item.reason) }),
          stateBadge(item.state),
        ]),
        el("div", { className: "queue-meta" }, [
          el("span", { text: formatWaiting(item.waiting_seconds) }),
          el("span", { text: label(CHANNELS, item.channel) }),
          el("span", { text: (item.language || "de").toUpperCase() }),
          item.claim_reference ? el("span", { text: `Az. ${item.claim_reference}` }) : null,
          holderText(item) ? el("span", { text: holderText(item) }) : null,
        ]),
        el("div", { className: "queue-row" }, [
          el("span", { className: "muted small", text: item.conversation_id }),
          sentimentChip(item.sentiment),
        ]),
      ]);
      button.addEventListener("click", () => select(item.id));
      list.append(el("li", null, [button]));
    }
    $("queue-count").textContent = String(state.queue.length);
    $("queue-empty").hidden = state.queue.length > 0;
  }

  // ---------------------------------------------------------------- conversation

  async function select(handoffId, options) {
    let detail;
    try {
      detail = await api(`/api/console/handoffs/${handoffId}`);
    } catch (err) {
      if (!(options && options.quiet)) report(err);
      sessionStorage.removeItem(SELECTED_KEY);
      return;
    }
    const switched = state.selectedId !== handoffId;
    if (switched) state.liveAlerts = [];
    state.selectedId = handoffId;
    state.detail = detail;
    sessionStorage.setItem(SELECTED_KEY, String(handoffId));
    renderQueue();
    renderConversation(switched);
    loadCanned(detail.handoff.language || "de");
  }

  async function reloadSelected() {
    if (state.selectedId) await select(state.selectedId, { quiet: true });
  }

  function holding() {
    const h = state.detail && state.detail.handoff;
    if (!h || h.state !== "assigned" || !state.me) return false;
    return h.assigned_agent_id === state.me.id || state.me.role === "supervisor";
  }

  function renderConversation(switched) {
    const detail = state.detail;
    const h = detail.handoff;
    $("no-selection").hidden = true;
    $("conversation").hidden = false;
    $("conv-title").textContent = `${label(REASONS, h.reason)} · ${h.conversation_id}`;
    $("conv-meta").replaceChildren(...[
      stateBadge(h.state),
      el("span", { text: label(CHANNELS, h.channel) }),
      el("span", { text: `Sprache ${(h.language || "de").toUpperCase()}` }),
      el("span", { text: h.state === "closed" ? `geschlossen ${formatTime(h.closed_at)}` : formatWaiting(h.waiting_seconds) }),
      h.assigned_agent_id ? el("span", { text: h.assigned_agent_id === (state.me && state.me.id) ? "bei Ihnen" : `bei Mitarbeiter #${h.assigned_agent_id}` }) : null,
      h.outcome ? el("span", { text: `Ergebnis: ${label(OUTCOMES, h.outcome)}` }) : null,
    ].filter(Boolean));

    const transcript = $("transcript");
    transcript.replaceChildren();
    state.messageIds = new Set();
    for (const message of detail.transcript) appendMessage(message, false);
    transcript.scrollTop = transcript.scrollHeight;

    renderClaim(detail.claim);
    renderStatement(h.statement);
    renderAlerts();
    renderAttachments(detail.attachments || []);
    state.noteIds = new Set();
    $("notes-list").replaceChildren();
    for (const note of detail.notes) appendNote(note);
    updateControls();
    if (switched) $("reply-text").value = "";
  }

  function updateControls() {
    const h = state.detail && state.detail.handoff;
    const mine = holding();
    const wa = state.detail && state.detail.whatsapp;
    // WhatsApp takes free text only within 24 hours of the debtor's last message.
    const blocked = Boolean(wa && (!wa.window_open || wa.opted_out));
    $("take-button").disabled = !h || h.state !== "queued";
    $("handback-button").disabled = !mine;
    $("close-button").disabled = !mine;
    $("close-outcome").disabled = !mine;
    $("reply-text").disabled = !mine || blocked;
    $("reply-button").disabled = !mine || blocked;
    $("canned-select").disabled = !mine || blocked;
    let hint = "";
    if (h && h.state === "queued") hint = "Übernehmen Sie das Gespräch, um zu antworten.";
    else if (h && h.state === "assigned" && !mine) hint = "Eine andere Person betreut dieses Gespräch.";
    else if (h && h.state === "closed") hint = "Dieses Gespräch ist abgeschlossen.";
    else if (blocked) hint = "Freitext ist über WhatsApp gerade nicht möglich.";
    $("reply-state").textContent = hint;
    renderWhatsApp(mine);
  }

  function renderWhatsApp(mine) {
    const box = $("wa-window");
    const wa = state.detail && state.detail.whatsapp;
    const h = state.detail && state.detail.handoff;
    // Show the window closing when it does, without waiting for another event.
    clearTimeout(state.windowTimer);
    if (wa && wa.window_open && wa.window_closes_at) {
      const delay = new Date(wa.window_closes_at).getTime() - Date.now() + 1000;
      if (delay > 0 && delay < 2147483647) state.windowTimer = setTimeout(reloadSelected, delay);
    }
    if (!wa || !h || h.state === "closed" || (wa.window_open && !wa.opted_out)) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    $("wa-window-text").textContent = wa.opted_out
      ? "Die Person hat WhatsApp abbestellt (STOPP). Es dürfen keine Nachrichten mehr gesendet werden."
      : `Das 24-Stunden-Fenster von WhatsApp ist seit ${formatTime(wa.window_closes_at)} geschlossen. ` +
        "Freitext ist nicht möglich, nur eine freigegebene Vorlage. Sobald die Person antwortet, " +
        "können Sie wieder frei schreiben.";
    let note = "";
    if (wa.opted_out) note = "";
    else if (!wa.templates.length) note = "Keine Vorlage eingerichtet (templates.yml).";
    else if (!mine) note = "Übernehmen Sie das Gespräch, um die Vorlage zu senden.";
    else if (wa.template_awaiting_answer) note = "Die Vorlage ist gesendet. Warten Sie auf die Antwort der Person.";
    else if (!wa.contact_allowed) note = `Außerhalb der Kontaktzeiten – möglich ab ${formatTime(wa.next_contact_at)}.`;
    $("wa-template-note").textContent = note;
    const list = $("wa-templates");
    list.replaceChildren();
    if (wa.opted_out) return;
    for (const template of wa.templates) {
      const button = el("button", {
        type: "button",
        className: "primary template-send",
        dataset: { template: template.name },
        disabled: Boolean(note) || !mine,
        text: "Vorlage senden",
      });
      button.addEventListener("click", () => sendTemplate(template.name));
      list.append(el("li", { className: "wa-template", dataset: { template: template.name } }, [
        el("p", {
          className: "wa-template-label",
          text: `Freigegebene Vorlage „${template.title}“ (${template.language.toUpperCase()})`,
        }),
        el("blockquote", { className: "wa-template-text", text: template.text }),
        button,
      ]));
    }
  }

  // ---------------------------------------------------------------- alerts and attachments

  function alertItem(alert) {
    return el("li", { className: `alert alert-${alert.reason}`, dataset: { reason: alert.reason } }, [
      el("span", { className: "alert-label", text: label(ALERTS, alert.reason) }),
      el("time", { datetime: alert.at, text: formatTime(alert.at) }),
      alert.detail ? el("span", { className: "alert-detail", text: alert.detail }) : null,
    ]);
  }

  function renderAlerts() {
    const stored = (state.detail && state.detail.alerts) || [];
    const all = stored.concat(state.liveAlerts).sort((a, b) => String(b.at).localeCompare(String(a.at)));
    $("alerts-list").replaceChildren(...all.map(alertItem));
    $("alerts-card").hidden = all.length === 0;
  }

  function formatSize(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1).replace(".", ",")} MB`;
  }

  function revokeBlobs() {
    for (const url of state.blobUrls) URL.revokeObjectURL(url);
    state.blobUrls = [];
  }

  function renderAttachments(items) {
    revokeBlobs();
    const list = $("attachments-list");
    list.replaceChildren();
    $("attachments-card").hidden = items.length === 0;
    for (const item of items.slice().reverse()) {
      const preview = el("div", { className: "attachment-preview" });
      const show = el("button", { type: "button", className: "attachment-show", text: item.kind === "document" ? "Öffnen" : "Anzeigen" });
      const save = el("button", { type: "button", className: "attachment-save", text: "Herunterladen" });
      show.addEventListener("click", () => showAttachment(item, preview));
      save.addEventListener("click", () => saveAttachment(item));
      const facts = [item.content_type, item.size_bytes ? formatSize(item.size_bytes) : null].filter(Boolean).join(" · ");
      list.append(el("li", { className: `attachment attachment-${item.kind}`, dataset: { id: String(item.id), kind: item.kind } }, [
        el("div", { className: "attachment-head" }, [
          el("span", { className: "attachment-kind", text: label(ATTACHMENT_KINDS, item.kind) }),
          el("time", { datetime: item.created_at, text: formatTime(item.created_at) }),
        ]),
        el("div", { className: "attachment-facts", text: facts }),
        item.kind === "voice"
          ? el("p", { className: "attachment-transcript", text: item.transcript ? `Abschrift: „${item.transcript}“` : "Keine Abschrift." })
          : null,
        preview,
        el("div", { className: "attachment-actions" }, [show, save]),
      ]));
    }
  }

  async function showAttachment(item, preview) {
    try {
      const url = await fetchBlob(item.url);
      if (item.kind === "image") {
        preview.replaceChildren(el("img", { src: url, alt: `Bild vom ${formatTime(item.created_at)}`, className: "attachment-image" }));
      } else if (item.kind === "voice") {
        preview.replaceChildren(el("audio", { src: url, controls: true }));
      } else {
        window.open(url, "_blank", "noopener");
      }
    } catch (err) {
      report(err);
    }
  }

  async function saveAttachment(item) {
    try {
      const url = await fetchBlob(item.url);
      const link = el("a", { href: url, download: `anhang-${item.id}` });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (err) {
      report(err);
    }
  }

  function showAttachmentById(id) {
    const node = $("attachments-list").querySelector(`[data-id="${id}"]`);
    if (!node) return;
    node.scrollIntoView({ block: "nearest" });
    const button = node.querySelector(".attachment-show");
    if (button) button.click();
  }

  // The EPC QR code of a confirmation, from this gateway (its path only, whatever public URL
  // the debtor was given).
  function paymentCode(image) {
    if (typeof image !== "string") return null;
    let path;
    try { path = new URL(image, window.location.href).pathname; } catch (err) { return null; }
    if (!path.startsWith("/pay/qr/")) return null;
    return el("img", { src: path, alt: "GiroCode (QR-Code der Zahlungsdaten)", className: "msg-qr" });
  }

  function appendMessage(message, fresh) {
    if (state.messageIds.has(message.id)) return;
    state.messageIds.add(message.id);
    const author = message.author || "system";
    const mine = author === "agent" && state.me && message.agent_id === state.me.id;
    const head = el("div", { className: "msg-head" }, [
      el("span", { className: "msg-author", text: mine ? "Sie" : label(AUTHORS, author) }),
      el("time", { datetime: message.created_at, text: formatTime(message.created_at) }),
      author === "debtor" ? sentimentChip(message.sentiment) : null,
    ]);
    const buttons = Array.isArray(message.buttons) && message.buttons.length
      ? el("div", { className: "msg-buttons", text: `Optionen: ${message.buttons.map((b) => b.title || b.payload).join(" · ")}` })
      : null;
    const template = message.template
      ? el("div", { className: "msg-template", text: `Freigegebene Vorlage „${message.template.title || message.template.name}“ (${String(message.template.language || "").toUpperCase()})` })
      : null;
    const files = Array.isArray(message.attachment_ids) && message.attachment_ids.length
      ? el("div", { className: "msg-attachments" }, message.attachment_ids.map((id) => {
        const button = el("button", { type: "button", className: "link", text: `Anhang #${id} ansehen` });
        button.addEventListener("click", () => showAttachmentById(id));
        return button;
      }))
      : null;
    const qr = paymentCode(message.image);
    const item = el("li", {
      className: `msg msg-${author}${fresh ? " fresh" : ""}`,
      dataset: { id: String(message.id), author },
    }, [head, template, el("div", { className: "msg-text", text: message.text || "" }), buttons, files, qr]);
    const transcript = $("transcript");
    const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 120;
    transcript.append(item);
    if (fresh && nearBottom) transcript.scrollTop = transcript.scrollHeight;
  }

  function appendNote(note) {
    if (state.noteIds.has(note.id)) return;
    state.noteIds.add(note.id);
    const who = state.me && note.agent_id === state.me.id ? "Sie" : `Mitarbeiter #${note.agent_id}`;
    $("notes-list").append(el("li", null, [
      el("span", { className: "note-meta", text: `${who} · ${formatTime(note.created_at)}` }),
      note.text,
    ]));
  }

  function renderClaim(claim) {
    const body = $("claim-body");
    if (!claim) {
      body.replaceChildren(el("p", { className: "muted", text: "Identität nicht bestätigt – keine Forderungsdaten." }));
      return;
    }
    const money = (v) => formatMoney(v, claim.currency);
    const rows = [
      ["Aktenzeichen", claim.reference],
      ["Gläubiger", claim.creditor],
      ["Person", claim.debtor_name],
      ["Betreff", claim.subject],
      ["Fällig seit", formatDate(claim.due_date)],
      ["Status", label(CLAIM_STATUS, claim.status)],
      ["Hauptforderung", money(claim.principal)],
      ["Zinsen", money(claim.interest)],
      ["Gebühren", money(claim.fees)],
    ];
    const grid = el("dl", { className: "claim-grid" });
    for (const [term, value] of rows) grid.append(el("dt", { text: term }), el("dd", { text: value }));
    grid.append(el("dt", { className: "total", text: "Gesamt" }), el("dd", { className: "total", text: money(claim.total) }));

    const promises = el("ul", { className: "plain-list" });
    for (const p of claim.promises) {
      const plan = p.instalments && p.instalments.length ? `, ${p.instalments.length} Raten` : "";
      promises.append(el("li", {
        text: `${label(PROMISE_KIND, p.kind)}: ${money(p.amount)} ab ${formatDate(p.due_date)}${plan} – ${label(PROMISE_STATUS, p.status)}`,
      }));
    }
    if (!claim.promises.length) promises.append(el("li", { className: "muted", text: "Keine" }));

    const disputes = el("ul", { className: "plain-list" });
    for (const d of claim.disputes) {
      disputes.append(el("li", { text: `${formatDate(d.created_at)}: ${d.reason_text} – ${label(DISPUTE_STATUS, d.status)}` }));
    }
    if (!claim.disputes.length) disputes.append(el("li", { className: "muted", text: "Keine" }));

    body.replaceChildren(
      grid,
      el("p", { className: "claim-sub", text: "Zusagen" }), promises,
      el("p", { className: "claim-sub", text: "Widersprüche" }), disputes,
    );
  }

  // The bot's affordability statement (a policy_limit handoff): the debtor's own figures
  // and the protected income under § 850c ZPO with its table date, below the claim.
  const OUTGOING_LABELS = {
    rent: "Miete mit Nebenkosten",
    energy: "Strom und Heizung",
    food: "Lebensmittel und Haushalt",
    transport: "Fahrtkosten",
    other_debts: "Andere Raten",
  };

  function renderStatement(statement) {
    if (!statement || statement.kind !== "affordability") return;
    const money = (v) => formatMoney(v, statement.currency || "EUR");
    const protectedIncome = statement.protected_income || {};
    const rows = [["Nettoeinkommen", money(statement.net_income)]];
    for (const [key, title] of Object.entries(OUTGOING_LABELS)) {
      rows.push([title, money((statement.outgoings || {})[key] || "0")]);
    }
    rows.push(
      ["Ausgaben gesamt", money(statement.outgoings_total)],
      ["Bleibt im Monat", money(statement.left)],
      ["Unterhaltspflichten", String(statement.dependants)],
      [`Pfändungsfreigrenze (${protectedIncome.law || "§ 850c ZPO"}, Stand ${formatDate(protectedIncome.valid_from)})`,
        money(protectedIncome.amount)],
      ["Über der Freigrenze", money(statement.above_protected)],
      ["Leistbar im Monat", money(statement.affordable)],
      ["Kleinste Rate laut Richtlinie", money(statement.minimum_instalment)],
    );
    const grid = el("dl", { className: "claim-grid statement-grid" });
    for (const [term, value] of rows) grid.append(el("dt", { text: term }), el("dd", { text: value }));
    const parts = [el("p", { className: "claim-sub", text: `Haushaltsrechnung vom ${formatDate(statement.checked_on)} (Angaben der Person)` }), grid];
    if (protectedIncome.stale) {
      parts.push(el("p", { className: "muted", text: `Tabelle ${protectedIncome.announcement} gilt nur bis ${formatDate(protectedIncome.valid_until)}: aktuellen Wert prüfen.` }));
    }
    $("claim-body").append(...parts);
  }

  async function loadCanned(language) {
    if (!state.canned[language]) {
      try {
        state.canned[language] = await api(`/api/console/canned?language=${encodeURIComponent(language)}`);
      } catch (err) {
        report(err);
        return;
      }
    }
    const select = $("canned-select");
    select.replaceChildren(el("option", { value: "", text: `Textbaustein einfügen (${language.toUpperCase()})…` }));
    for (const reply of state.canned[language]) {
      select.append(el("option", { value: reply.id, text: reply.title }));
    }
    select.dataset.language = language;
  }

  function onCanned() {
    const select = $("canned-select");
    const replies = state.canned[select.dataset.language] || [];
    const reply = replies.find((r) => r.id === select.value);
    select.value = "";
    if (!reply) return;
    const box = $("reply-text");
    box.value = box.value ? `${box.value.trimEnd()}\n${reply.text}` : reply.text;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  // ---------------------------------------------------------------- actions

  async function act(fn) {
    if (state.busy) return;
    state.busy = true;
    try {
      await fn();
    } catch (err) {
      report(err);
      await reloadSelected();
    } finally {
      state.busy = false;
    }
  }

  function take() {
    const h = state.detail && state.detail.handoff;
    if (!h || h.state !== "queued") return;
    act(async () => {
      await api(`/api/console/handoffs/${h.id}/take`, { method: "POST" });
      toast("Gespräch übernommen.");
      await reloadSelected();
      scheduleQueueRefresh();
      $("reply-text").focus();
    });
  }

  function sendReply() {
    const h = state.detail && state.detail.handoff;
    const box = $("reply-text");
    const text = box.value.trim();
    if (!h || !holding() || !text) return;
    act(async () => {
      const message = await api(`/api/console/handoffs/${h.id}/reply`, { method: "POST", body: { text } });
      box.value = "";
      appendMessage(message, true);
      $("transcript").scrollTop = $("transcript").scrollHeight;
    });
  }

  function sendTemplate(name) {
    const h = state.detail && state.detail.handoff;
    if (!h || !holding()) return;
    act(async () => {
      const message = await api(`/api/console/handoffs/${h.id}/whatsapp/template`, { method: "POST", body: { template: name } });
      appendMessage(message, true);
      toast("Vorlage gesendet.");
      await reloadSelected();
    });
  }

  function handBack() {
    const h = state.detail && state.detail.handoff;
    if (!h || !holding()) return;
    act(async () => {
      await api(`/api/console/handoffs/${h.id}/handback`, { method: "POST" });
      toast("An den Bot zurückgegeben.");
      await reloadSelected();
      scheduleQueueRefresh();
    });
  }

  function closeHandoff(event) {
    event.preventDefault();
    const h = state.detail && state.detail.handoff;
    const outcome = $("close-outcome").value;
    if (!h || !holding()) return;
    if (!outcome) {
      toast("Bitte zuerst ein Ergebnis wählen.", true);
      $("close-outcome").focus();
      return;
    }
    act(async () => {
      await api(`/api/console/handoffs/${h.id}/close`, { method: "POST", body: { outcome } });
      $("close-outcome").value = "";
      toast("Gespräch geschlossen.");
      await reloadSelected();
      scheduleQueueRefresh();
    });
  }

  function addNote(event) {
    event.preventDefault();
    const h = state.detail && state.detail.handoff;
    const box = $("note-text");
    const text = box.value.trim();
    if (!h || !text) return;
    act(async () => {
      const note = await api(`/api/console/handoffs/${h.id}/notes`, { method: "POST", body: { text } });
      box.value = "";
      appendNote(note);
    });
  }

  function moveSelection(step) {
    if (!state.queue.length) return;
    const index = state.queue.findIndex((item) => item.id === state.selectedId);
    const next = state.queue[(index + step + state.queue.length) % state.queue.length];
    if (next) select(next.id);
  }

  // ---------------------------------------------------------------- live updates

  function setLive(on, text) {
    const node = $("live-status");
    node.className = `live ${on ? "live-on" : "live-off"}`;
    node.textContent = text;
  }

  function closeSocket() {
    clearTimeout(state.wsTimer);
    if (state.ws) {
      const ws = state.ws;
      state.ws = null;
      ws.onclose = null;
      ws.close(1000, "logout");
    }
  }

  function connectSocket() {
    closeSocket();
    if (!state.token) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/console/ws`);
    state.ws = ws;
    setLive(false, "Verbinde…");
    ws.onopen = () => ws.send(JSON.stringify({ token: state.token }));
    ws.onmessage = (msg) => {
      let event;
      try { event = JSON.parse(msg.data); } catch (err) { return; }
      onEvent(event);
    };
    ws.onclose = (ev) => {
      if (state.ws !== ws) return;
      state.ws = null;
      if (ev.code === 4401) {
        logout("Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.");
        return;
      }
      setLive(false, "Getrennt – verbinde neu…");
      const delay = Math.min(15000, 1000 * 2 ** state.wsRetry);
      state.wsRetry += 1;
      state.wsTimer = setTimeout(connectSocket, delay);
    };
  }

  function onEvent(event) {
    switch (event.type) {
      case "ready": {
        const reconnected = state.wsRetry > 0;
        state.wsRetry = 0;
        setLive(true, "Live");
        if (reconnected) {
          // Events may have been missed while the socket was down.
          loadQueue();
          reloadSelected();
        }
        break;
      }
      case "ping":
        if (state.ws) state.ws.send(JSON.stringify({ type: "pong" }));
        break;
      case "message": {
        const current = state.detail && state.detail.handoff.conversation_id === event.conversation_id;
        if (current) appendMessage(event, true);
        const wa = current && state.detail.whatsapp;
        // The debtor's message reopens WhatsApp's window: show the reply box again.
        if (wa && event.author === "debtor" && !wa.window_open && !state.busy) reloadSelected();
        if (event.author === "debtor" || !state.queue.some((i) => i.conversation_id === event.conversation_id)) {
          scheduleQueueRefresh();
        }
        break;
      }
      case "note":
        if (state.selectedId === event.handoff_id) appendNote(event);
        break;
      case "alert":
        onAlert(event);
        break;
      default:
        if (String(event.type || "").startsWith("handoff_")) {
          scheduleQueueRefresh();
          if (state.selectedId === event.handoff_id && !state.busy) reloadSelected();
        }
    }
  }

  function onAlert(event) {
    const detail = state.detail;
    const current = Boolean(detail) && (
      (event.handoff_id && event.handoff_id === state.selectedId) ||
      (event.conversation_id && event.conversation_id === detail.handoff.conversation_id)
    );
    const where = current ? "" : ` (${event.conversation_id || `Gespräch #${event.handoff_id}`})`;
    toast(`${label(ALERTS, event.reason)}${where}`, URGENT_ALERTS.has(event.reason));
    if (!current) return;
    if (!STORED_ALERTS.has(event.reason)) {
      state.liveAlerts.push({ reason: event.reason, at: new Date().toISOString(), detail: event.detail || null });
      renderAlerts();
    }
    // The server's view has the alert, the new attachments and the window's state.
    if (!state.busy) reloadSelected();
  }

  // ---------------------------------------------------------------- keyboard

  function onKey(event) {
    if ($("app-view").hidden) return;
    const dialog = $("help-dialog");
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      if (event.code === "KeyT") { event.preventDefault(); take(); return; }
      if (event.code === "KeyB") { event.preventDefault(); handBack(); return; }
      if (event.code === "ArrowDown") { event.preventDefault(); moveSelection(1); return; }
      if (event.code === "ArrowUp") { event.preventDefault(); moveSelection(-1); return; }
    }
    if (event.key === "?" && !isTyping(event.target) && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      if (dialog.open) dialog.close(); else dialog.showModal();
    }
  }

  function onReplyKey(event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      sendReply();
    }
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    $("login-form").addEventListener("submit", onLogin);
    $("logout-button").addEventListener("click", () => logout("Sie haben sich abgemeldet."));
    $("help-button").addEventListener("click", () => $("help-dialog").showModal());
    $("take-button").addEventListener("click", take);
    $("handback-button").addEventListener("click", handBack);
    $("close-form").addEventListener("submit", closeHandoff);
    $("reply-form").addEventListener("submit", (event) => { event.preventDefault(); sendReply(); });
    $("reply-text").addEventListener("keydown", onReplyKey);
    $("canned-select").addEventListener("change", onCanned);
    $("note-form").addEventListener("submit", addNote);
    document.addEventListener("keydown", onKey);
    if (state.token) start(); else showLogin();
  }

  // The KPI panel (kpis.js) borrows the authenticated fetch, the labels and the money format.
  window.quittConsole = { api, fetchBlob, explain, formatMoney, reasons: REASONS };

  document.addEventListener("DOMContentLoaded", init);
})();
