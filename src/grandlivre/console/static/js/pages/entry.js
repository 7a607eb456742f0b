// The entry form (new entry, or a draft to edit, validate or delete), and a posted entry's
// page with its number, validation date, hash and reversal.
import { Problem, all, api, boot, clearAlert, clearFieldErrors, day, el, fill, instant, ledger,
  ledgerPath, link, markField, money, moneyUnits, parseAmount, say, session, showProblem, t,
  toDecimal } from "../core.js";

const form = document.getElementById("entry");
const lines = document.getElementById("lines");
let decimals = 2;
let currency = "EUR";

function newLine() {
  const row = document.getElementById("line-template").content.firstElementChild.cloneNode(true);
  lines.append(row);
  return row;
}

/** Read the form's lines: their amounts in minor units and what is wrong with them. */
function readLines() {
  const read = [];
  for (const row of lines.querySelectorAll("tr.line")) {
    const value = (name) => row.querySelector(`[name="${name}"]`).value.trim();
    const debitText = value("debit");
    const creditText = value("credit");
    const blank = !value("account") && !debitText && !creditText && !value("label");
    if (blank) { delete row.dataset.index; continue; }
    row.dataset.index = String(read.length);
    read.push({ row, account: value("account"), third_party: value("third_party"),
      label: value("label"), debitText, creditText,
      debit: parseAmount(debitText, decimals), credit: parseAmount(creditText, decimals) });
  }
  return read;
}

/** Recompute the totals and the difference; allow submitting only a balanced entry. */
function update() {
  const read = readLines();
  let debit = 0n;
  let credit = 0n;
  let problem = null;
  let unreadable = "";
  for (const line of read) {
    for (const [side, text] of [["debit", line.debitText], ["credit", line.creditText]]) {
      const error = line.row.querySelector(`[data-error="${side}"]`);
      const input = line.row.querySelector(`[name="${side}"]`);
      if (line[side] === null) {
        error.textContent = t("entry.bad_amount", { value: text });
        input.setAttribute("aria-invalid", "true");
        if (!problem) { problem = "amount"; unreadable = text; }
      } else {
        error.textContent = "";
        input.removeAttribute("aria-invalid");
      }
    }
    if (line.debit > 0n && line.credit > 0n) problem = problem || "both";
    debit += line.debit || 0n;
    credit += line.credit || 0n;
  }
  document.getElementById("total-debit").textContent = moneyUnits(debit, decimals, currency);
  document.getElementById("total-credit").textContent = moneyUnits(credit, decimals, currency);
  const balance = document.getElementById("balance");
  const difference = debit - credit;
  let message;
  if (problem === "amount") message = t("entry.bad_amount", { value: unreadable });
  else if (problem === "both") message = t("entry.both_sides");
  else if (read.length < 2) message = t("entry.too_few");
  else if (difference !== 0n) {
    message = t("entry.unbalanced", { amount: moneyUnits(difference < 0n ? -difference : difference, decimals, currency) });
  } else message = t("entry.balanced");
  const ready = !problem && read.length >= 2 && difference === 0n && debit > 0n;
  balance.textContent = message;
  balance.className = `balance ${ready ? "ok" : "off"}`;
  for (const id of ["post", "save-draft"]) document.getElementById(id).disabled = !ready;
  return read;
}

function body(status) {
  const value = (id) => document.getElementById(id).value.trim();
  const entry = {
    journal: value("journal"), date: value("date"), label: value("label"),
    lines: readLines().map((line) => {
      const out = { account: line.account };
      if (line.debit > 0n) out.debit = toDecimal(line.debit, decimals);
      else out.credit = toDecimal(line.credit, decimals);
      if (line.label) out.label = line.label;
      if (line.third_party) out.third_party = line.third_party;
      return out;
    }),
  };
  if (value("document_date")) entry.document_date = value("document_date");
  if (value("reference")) entry.reference = value("reference");
  else if (status === null) entry.reference = null;
  if (status) entry.status = status;
  return entry;
}

/** Put a domain problem (unknown account, unbalanced...) next to the lines it concerns. */
function placeProblem(error) {
  showProblem(error, form);
  if (!(error instanceof Problem)) return;
  const problem = error.body;
  const rows = [...lines.querySelectorAll("tr.line[data-index]")];
  const mark = (index, name) => markField(form, ["lines", String(index), name], problem.detail);
  if (Array.isArray(problem.accounts)) {
    rows.forEach((row, index) => {
      const account = row.querySelector('[name="account"]').value.trim();
      if (problem.accounts.includes(account)) mark(index, "account");
    });
  } else if (Array.isArray(problem.third_parties)) {
    rows.forEach((row, index) => {
      const party = row.querySelector('[name="third_party"]').value.trim();
      if (problem.third_parties.includes(party)) mark(index, "third_party");
    });
  } else if (Number.isInteger(problem.line)) {
    mark(problem.line, problem.type === "third-party-required" ? "third_party" : "account");
  } else if (problem.type === "unknown-journal") {
    markField(form, ["journal"], problem.detail);
  } else if (["no-fiscal-year", "fiscal-year-closed", "period-locked", "invalid-date"].includes(problem.type)
    && !(problem.errors || []).length) {
    markField(form, ["date"], problem.detail);
  } else if (problem.type === "unbalanced-entry") {
    markField(form, ["lines"], problem.detail);
  }
}

async function loadChoices() {
  const [journals, accounts, parties] = await Promise.all([
    all(ledgerPath("journals")), all(ledgerPath("accounts"), { active: true }),
    all(ledgerPath("third-parties")),
  ]);
  fill(document.getElementById("journal"), journals.map((j) => el("option", { value: j.code }, `${j.code} · ${j.name}`)));
  fill(document.getElementById("gl-accounts"), accounts.map((a) => el("option", { value: a.number }, a.name)));
  fill(document.getElementById("gl-parties"), parties.map((p) => el("option", { value: p.code }, `${p.name} (${p.account})`)));
}

function showPosted(entry) {
  document.getElementById("posted").hidden = false;
  form.hidden = true;
  document.getElementById("title").textContent = `${t("entry.title")} ${entry.journal} ${entry.number ?? ""} · ${entry.label}`;
  const fact = (term, value) => (value === null || value === undefined || value === "" ? [] : [el("dt", {}, term), el("dd", {}, value)]);
  const pending = el("em", {}, t("entry.not_sealed"));
  const ref = (id) => el("a", { href: link(`/entries/${id}`) }, id);
  fill(document.getElementById("posted-facts"),
    fact(t("col.status"), t(`status.${entry.status}`)),
    fact(t("col.journal"), entry.journal), fact(t("col.date"), day(entry.date)),
    fact(t("entry.document_date"), day(entry.document_date)),
    fact(t("col.label"), entry.label), fact(t("col.reference"), entry.reference),
    fact(t("col.fiscal_year"), String(entry.fiscal_year)),
    fact(t("entry.number"), entry.number ?? pending),
    fact(t("entry.validated_at"), instant(entry.validated_at)),
    fact(t("entry.hash"), entry.hash ? el("code", { class: "hash" }, entry.hash) : pending.cloneNode(true)),
    fact(t("entry.seq"), entry.seq === null ? null : String(entry.seq)),
    fact(t("entry.origin"), entry.origin),
    fact(t("entry.reverses"), entry.reverses && ref(entry.reverses)),
    fact(t("entry.reversed_by"), entry.reversed_by && ref(entry.reversed_by)));
  fill(document.querySelector("#posted-lines tbody"), entry.lines.map((line) => el("tr", {},
    el("td", {}, el("a", { href: link(`/accounts/${line.account}`) }, line.account)),
    el("td", {}, line.third_party || ""), el("td", {}, line.label || ""),
    el("td", { class: "num" }, money(line.debit, currency)), el("td", { class: "num" }, money(line.credit, currency)))));
  const reverse = document.getElementById("reverse");
  reverse.hidden = Boolean(entry.reversed_by || entry.reverses || entry.role);
  reverse.onclick = async () => {
    if (!confirm(t("entry.reverse_confirm"))) return;
    try {
      const reversal = await api(ledgerPath(`entries/${entry.id}/reverse`), {
        method: "POST", body: {}, headers: { "Idempotency-Key": crypto.randomUUID() } });
      location.assign(link(`/entries/${reversal.id}`));
    } catch (error) { showProblem(error); }
  };
  if (entry.hash === null && entry.status === "posted") {
    // The sealer numbers and chains an entry within about a probe interval.
    setTimeout(async () => showPosted(await api(ledgerPath(`entries/${entry.id}`))), 1500);
  }
}

function fillForm(entry) {
  for (const id of ["journal", "date", "label", "reference"]) document.getElementById(id).value = entry[id] ?? "";
  document.getElementById("document_date").value = entry.document_date === entry.date ? "" : entry.document_date ?? "";
  lines.replaceChildren();
  for (const line of entry.lines) {
    const row = newLine();
    for (const name of ["account", "third_party", "label", "debit", "credit"]) {
      row.querySelector(`[name="${name}"]`).value = line[name] ?? "";
    }
  }
  newLine();
}

boot(async () => {
  const info = await ledger();
  decimals = info.decimals;
  currency = info.currency;
  const entryId = document.body.dataset.entry;
  let entry = null;
  if (entryId) {
    entry = await api(ledgerPath(`entries/${entryId}`));
    if (entry.status !== "draft" || !session.may("accountant")) {
      if (entry.status === "draft") {
        document.getElementById("draft-note").hidden = false;
      }
      showPosted(entry);
      return;
    }
  } else if (!session.may("accountant")) {
    say(t("role.viewer"), "error");
    return;
  }
  form.hidden = false;
  await loadChoices();
  // Today where the accountant is, not in UTC.
  const today = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  document.getElementById("date").value = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
  if (entry) {
    document.getElementById("title").textContent = `${t("status.draft")} · ${entry.label}`;
    document.getElementById("draft-note").hidden = false;
    fillForm(entry);
    document.getElementById("save-draft").textContent = t("entry.save_changes");
    document.getElementById("post").hidden = true;
    for (const id of ["validate", "delete"]) document.getElementById(id).hidden = false;
  }
  form.addEventListener("input", update);
  form.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-remove-line]");
    if (remove && lines.querySelectorAll("tr.line").length > 2) { remove.closest("tr").remove(); update(); }
  });
  document.body.addEventListener("htmx:afterSwap", () => update());
  document.getElementById("add-line").addEventListener("click", () => {
    // Without htmx (not loaded yet, or blocked) the button still adds a line.
    if (!window.htmx) newLine();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearAlert();
    clearFieldErrors(form);
    if (!update().length) return;
    const status = event.submitter?.value === "draft" ? "draft" : "validated";
    try {
      let saved;
      if (entry) {
        saved = await api(ledgerPath(`entries/${entry.id}`), { method: "PATCH", body: body(null) });
      } else {
        saved = await api(ledgerPath("entries"), { method: "POST", body: body(status),
          headers: { "Idempotency-Key": form.dataset.idempotency ||= crypto.randomUUID() } });
      }
      sessionStorage.setItem("gl.flash", t(saved.status === "draft" ? "entry.saved_draft" : "entry.posted"));
      location.assign(link(`/entries/${saved.id}`));
    } catch (error) {
      // A refused post left no trace of its key: the corrected one may use it again.
      placeProblem(error);
    }
  });
  document.getElementById("validate").addEventListener("click", async () => {
    clearAlert();
    clearFieldErrors(form);
    try {
      const saved = await api(ledgerPath(`entries/${entry.id}/validate`), { method: "POST" });
      sessionStorage.setItem("gl.flash", t("entry.posted"));
      location.assign(link(`/entries/${saved.id}`));
    } catch (error) { placeProblem(error); }
  });
  document.getElementById("delete").addEventListener("click", async () => {
    if (!confirm(t("entry.delete_confirm"))) return;
    try {
      await api(ledgerPath(`entries/${entry.id}`), { method: "DELETE" });
      location.assign(link("/journal"));
    } catch (error) { showProblem(error); }
  });
  update();
  document.getElementById(entry ? "label" : "journal").focus();
});

const flash = sessionStorage.getItem("gl.flash");
if (flash) {
  sessionStorage.removeItem("gl.flash");
  say(flash, "ok");
}
