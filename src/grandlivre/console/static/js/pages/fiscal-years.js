// Fiscal years: the FEC of each, and the closing of an open one (a dry run first, shown in
// full, then the real closing once confirmed).
import { all, api, boot, day, download, el, fill, instant, ledger, ledgerPath, money, navRow,
  query, say, session, showProblem, t } from "../core.js";

boot(async () => {
  const info = await ledger();
  const cur = info.currency;
  const panel = document.getElementById("closing");
  let closingYear = null;

  function entryTable(title, entry) {
    if (!entry.lines.length) return el("p", {}, `${title} : ${t("fiscal.nothing")}`);
    return el("table", { class: "data" }, el("caption", {}, `${title} · ${entry.journal} · ${day(entry.date)}`),
      el("thead", {}, el("tr", {}, [t("col.account"), t("col.third_party"), t("col.debit"), t("col.credit")].map((n, i) =>
        el("th", { scope: "col", class: i > 1 ? "num" : null }, n)))),
      el("tbody", {}, entry.lines.map((l) => el("tr", {}, el("td", {}, l.account), el("td", {}, l.third_party || ""),
        el("td", { class: "num" }, money(l.debit, cur)), el("td", { class: "num" }, money(l.credit, cur))))));
  }

  async function dryRun(year) {
    try {
      const plan = await api(ledgerPath(`fiscal-years/${year}/close`) + query({ dry_run: true }), { method: "POST" });
      closingYear = year;
      document.getElementById("closing-title").textContent = t("fiscal.close_title", { year });
      fill(document.getElementById("closing-facts"), el("dt", {}, t("fiscal.result")), el("dd", {}, money(plan.result, cur)));
      fill(document.getElementById("closing-entries"), entryTable(t("fiscal.closing_entry"), plan.closing),
        entryTable(t("fiscal.opening_entry"), plan.opening));
      panel.hidden = false;
      document.getElementById("confirm-close").focus();
    } catch (error) { showProblem(error); }
  }

  document.getElementById("confirm-close").addEventListener("click", async () => {
    try {
      await api(ledgerPath(`fiscal-years/${closingYear}/close`) + query({ dry_run: false }), { method: "POST" });
      panel.hidden = true;
      say(t("fiscal.closed", { year: closingYear }), "ok");
      await show();
    } catch (error) { showProblem(error); }
  });
  document.getElementById("cancel-close").addEventListener("click", () => { panel.hidden = true; });

  async function show() {
    const years = await all(ledgerPath("fiscal-years"));
    fill(document.querySelector("#years tbody"), years.map((y) => navRow(
      el("td", {}, String(y.year)), el("td", {}, day(y.start)), el("td", {}, day(y.end)),
      el("td", {}, y.status === "closed" ? `${t("status.closed")} (${instant(y.closed_at)})` : t("status.open")),
      el("td", { class: "actions" },
        el("button", { type: "button", onclick: () => download(ledgerPath("exports/fec") + query({ fiscal_year: y.year }),
          "text/plain", `FEC-${y.year}.txt`) }, `${t("download.fec")} ${y.year}`),
        y.status === "open" && session.may("admin")
          ? el("button", { type: "button", onclick: () => dryRun(y.year) }, `${t("fiscal.close")} ${y.year}`) : null),
    )));
  }
  await show();
});
