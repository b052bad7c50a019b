/* Quitt console: what the full-width panels (KPIs, payments) share: building elements,
 * dates for the period picker, and one panel open at a time (a `quitt:panel` event).
 */

export function el(tag, props, children) {
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

export function isoDay(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function daysBefore(d, days) {
  const copy = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  copy.setDate(copy.getDate() - days);
  return copy;
}

/* Tell the other panels that `name` opens: they close. */
export function closeOthers(name) {
  document.dispatchEvent(new CustomEvent("quitt:panel", { detail: name }));
}
