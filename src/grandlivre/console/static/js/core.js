// The console's shared module: the session (key, role, ledger), the API client, formats, DOM
// helpers, problems next to their fields, downloads and keyboard shortcuts.
//
// The API key lives in sessionStorage only: this tab, gone when it closes; never a cookie
// (a cookie would ride along on every request, a CSRF risk) and never a URL (URLs end up in
// logs and histories). Every call sends it as `Authorization: Bearer`.

const KEY = "gl.key";
const ROLE = "gl.role";
const LEDGER = "gl.ledger";
const ROLES = ["viewer", "accountant", "admin"];

export const lang = document.documentElement.lang === "en" ? "en" : "fr";
const messages = JSON.parse(document.getElementById("gl-messages").textContent);

/** The message `key` in the page's language, with `{name}` placeholders filled. */
export function t(key, values = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  get role() { return sessionStorage.getItem(ROLE) || "viewer"; },
  get ledger() { return sessionStorage.getItem(LEDGER) || "main"; },
  set ledger(code) { sessionStorage.setItem(LEDGER, code); },
  start(key, role, ledger) {
    sessionStorage.setItem(KEY, key);
    sessionStorage.setItem(ROLE, role);
    sessionStorage.setItem(LEDGER, ledger);
  },
  end() { for (const name of [KEY, ROLE, LEDGER]) sessionStorage.removeItem(name); },
  /** Whether the signed-in key's role is `role` or stronger. */
  may(role) { return ROLES.indexOf(this.role) >= ROLES.indexOf(role); },
};

/** A link inside the console that keeps the page's language. */
export function link(path) {
  if (lang === "fr") return path;
  return `${path}${path.includes("?") ? "&" : "?"}lang=${lang}`;
}

/** An RFC 9457 problem the API answered (or a network failure, status 0). */
export class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** The path of a ledger's resource: ledgerPath("accounts") is /api/v1/ledgers/main/accounts. */
export function ledgerPath(rest = "") {
  return `/api/v1/ledgers/${encodeURIComponent(session.ledger)}${rest ? "/" + rest : ""}`;
}

/** Build a query string from the non-empty values of an object. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "" && value !== false) {
      search.set(name, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Call the API; resolve to the parsed JSON (or the Response, for `raw`), throw a Problem. */
export async function api(path, { method = "GET", body, accept = "application/json",
  headers = {}, raw = false, auth = true } = {}) {
  const sent = { Accept: accept, ...headers };
  if (auth && session.key) sent.Authorization = `Bearer ${session.key}`;
  if (body !== undefined) sent["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store",
    });
  } catch {
    throw new Problem(0, { title: t("problem.network"), detail: t("problem.network") });
  }
  if (!response.ok) {
    let problem = { title: `HTTP ${response.status}` };
    try { problem = await response.json(); } catch { /* not JSON: keep the status */ }
    if (response.status === 401 && auth && document.body.dataset.page !== "signin") {
      session.end();
      location.assign(link("/signin"));
    }
    throw new Problem(response.status, problem);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/** Every item of a paginated list, following `next_cursor` (at most `max` items). */
export async function all(path, params = {}, max = 5000) {
  const items = [];
  let cursor = null;
  do {
    const page = await api(path + query({ ...params, limit: 500, cursor }));
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

// ---- money: decimal strings <-> integers of minor units (BigInt), never floats ----

/** Parse what a user typed ("1 234,56", "1234.56") into minor units; null if unreadable. */
export function parseAmount(text, decimals = 2) {
  const cleaned = String(text).replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
  if (cleaned === "") return 0n;
  const match = /^(\d{1,16})(?:\.(\d{0,12}))?$/.exec(cleaned);
  if (!match) return null;
  const fraction = (match[2] || "").padEnd(decimals, "0");
  if (fraction.length > decimals && /[1-9]/.test(fraction.slice(decimals))) return null;
  return BigInt(match[1] + fraction.slice(0, decimals));
}

/** Minor units as the API's decimal string ("1234.56"), without sign. */
export function toDecimal(units, decimals = 2) {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(decimals + 1, "0");
  const text = decimals ? `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}` : digits;
  return negative ? `-${text}` : text;
}

const currencies = new Map();

/** Format an API amount ("-1234.56") for reading: "-1 234,56 €" in French. */
export function money(value, currency = "EUR") {
  if (value === null || value === undefined || value === "") return "";
  const key = `${lang}:${currency}`;
  if (!currencies.has(key)) {
    currencies.set(key, new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-GB",
      { style: "currency", currency }));
  }
  // A string is formatted as the exact decimal it is (Intl.NumberFormat v3): no float.
  return currencies.get(key).format(String(value));
}

/** Format minor units for reading. */
export function moneyUnits(units, decimals = 2, currency = "EUR") {
  return money(toDecimal(units, decimals), currency);
}

/** A calendar day "2026-11-23" as "23/11/2026" in French, as it is in English. */
export function day(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-");
  return lang === "fr" ? `${d}/${m}/${y}` : `${y}-${m}-${d}`;
}

/** An instant "2026-11-24T03:40:41Z" in the reader's time zone. */
export function instant(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang === "fr" ? "fr-FR" : "en-GB",
    { dateStyle: "short", timeStyle: "medium" }).format(new Date(iso));
}

// ---- DOM ----

/** Make an element: el("td", {class: "num"}, "text", child). Text is never parsed as HTML. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replace the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

/** Show a message in the page's alert area (`kind`: "error" or "ok"); nothing clears it. */
export function say(text, kind = "ok") {
  const alert = document.getElementById("gl-alert");
  alert.className = `alert ${kind}`;
  fill(alert, text);
  alert.hidden = false;
}

export function clearAlert() {
  const alert = document.getElementById("gl-alert");
  alert.hidden = true;
  fill(alert);
}

/** Show a problem: in the alert area, and next to each field its `errors` locate. */
export function showProblem(error, form = null) {
  if (!(error instanceof Problem)) {
    console.error(error);
    say(String(error), "error");
    return;
  }
  const body = error.body;
  const parts = [body.title && body.detail && body.title !== body.detail
    ? `${body.title}${lang === "fr" ? " : " : ": "}${body.detail}` : (body.detail || body.title)];
  if (body.request_id) parts.push(t("problem.request_id", { id: body.request_id }));
  say(parts.join(" — "), "error");
  if (!form) return;
  for (const item of body.errors || []) {
    const loc = (item.loc || []).filter((part) => part !== "body");
    markField(form, loc, item.msg || body.detail);
  }
}

/** Put a message next to the field a problem's location names, and mark it invalid. */
export function markField(form, loc, message) {
  let target = null;
  if (loc[0] === "lines" && loc.length >= 2 && /^\d+$/.test(String(loc[1]))) {
    // The index of a line as sent: blank rows of the form are not sent.
    const row = form.querySelector(`tr.line[data-index="${Number(loc[1])}"]`);
    const name = loc[2] && !/^\d+$/.test(String(loc[2])) ? loc[2] : "debit";
    if (row) target = row.querySelector(`[data-error="${name}"]`) || row.querySelector("[data-error]");
  } else if (loc.length) {
    target = form.querySelector(`[data-error-for="${loc[0]}"]`);
  }
  if (!target) return false;
  target.textContent = message;
  const input = target.parentElement.querySelector("input, select")
    || document.getElementById(String(loc[0]));
  if (input) input.setAttribute("aria-invalid", "true");
  return true;
}

export function clearFieldErrors(form) {
  for (const node of form.querySelectorAll("[data-error], [data-error-for]")) node.textContent = "";
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

// ---- downloads: fetched with the key, saved as a Blob (the key is never in a URL) ----

export async function download(path, accept, fallbackName) {
  try {
    const response = await api(path, { accept, raw: true });
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    const name = match ? decodeURIComponent(match[1]) : fallbackName;
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const anchor = el("a", { href: url, download: name });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    showProblem(error);
  }
}

export const CSV = "text/csv";
export const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

// ---- keyboard: "/" focuses search, "n" opens a new entry, arrows move through a list ----

function isTyping(target) {
  return target instanceof HTMLElement
    && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target)) return;
  if (event.key === "/") {
    const search = document.querySelector("[data-search]");
    if (search) { event.preventDefault(); search.focus(); }
  } else if (event.key === "n" && session.key && session.may("accountant")) {
    event.preventDefault();
    location.assign(link("/entries/new"));
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    const rows = [...document.querySelectorAll("tbody[data-nav] tr[tabindex]")];
    if (!rows.length) return;
    event.preventDefault();
    const at = rows.indexOf(document.activeElement);
    const next = event.key === "ArrowDown" ? Math.min(at + 1, rows.length - 1)
      : at < 0 ? 0 : Math.max(at - 1, 0);
    rows[next].focus();
  } else if (event.key === "Enter" && event.target instanceof HTMLTableRowElement) {
    const anchor = event.target.querySelector("a[href]");
    if (anchor) { event.preventDefault(); anchor.click(); }
  }
});

/** A table row that the arrow keys reach and Enter opens (through its first link). */
export function navRow(...cells) {
  return el("tr", { tabindex: "0" }, ...cells);
}

// ---- the page shell ----

let ledgerInfo = null;

/** The ledger's own record (currency, decimals), fetched once per page. */
export async function ledger() {
  if (!ledgerInfo) ledgerInfo = await api(ledgerPath());
  return ledgerInfo;
}

/** Start a page: send a visitor without a key to sign in, show what the role allows. */
export async function boot(run, { needsKey = true } = {}) {
  if (needsKey && !session.key) {
    location.replace(link("/signin"));
    return;
  }
  if (session.key) {
    for (const node of document.querySelectorAll("[data-signed-in]")) node.hidden = false;
    for (const node of document.querySelectorAll("[data-needs-role]")) {
      node.hidden = !session.may(node.dataset.needsRole);
    }
    const role = document.getElementById("gl-role");
    if (role) role.textContent = t(`role.${session.role}`);
    document.getElementById("gl-signout")?.addEventListener("click", () => {
      session.end();
      location.assign(link("/signin"));
    });
    const select = document.getElementById("gl-ledger");
    if (select) {
      select.append(el("option", { value: session.ledger, selected: true }, session.ledger));
      all("/api/v1/ledgers").then((ledgers) => {
        fill(select, ledgers.map((l) => el("option", { value: l.code, selected: l.code === session.ledger },
          `${l.code} · ${l.name}`)));
      }).catch(() => {});
      select.addEventListener("change", () => { session.ledger = select.value; location.reload(); });
    }
  }
  try {
    await run();
  } catch (error) {
    showProblem(error);
  }
}
