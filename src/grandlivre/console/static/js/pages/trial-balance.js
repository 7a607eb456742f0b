// The trial balance (balance générale) over a fiscal year or dates, with class subtotals,
// and its CSV and XLSX downloads.
import { CSV, XLSX, all, api, boot, download, el, fill, ledger, ledgerPath, link, money, navRow,
  query, t } from "../core.js";

boot(async () => {
  const info = await ledger();
  const cur = info.currency;
  const year = document.getElementById("fiscal_year");
  const from = document.getElementById("from");
  const to = document.getElementById("to");
  const drafts = document.getElementById("drafts");
  const years = await all(ledgerPath("fiscal-years"));
  year.append(...years.map((y) => el("option", { value: y.year }, `${y.year} (${t(`status.${y.status}`)})`)));
  const open = years.filter((y) => y.status === "open");
  if (open.length) year.value = String(open[0].year);
  const filters = () => (year.value ? { fiscal_year: year.value, include_drafts: drafts.checked }
    : { from: from.value, to: to.value, include_drafts: drafts.checked });
  const amounts = (row) => ["opening", "debit", "credit", "closing"].map((f) => el("td", { class: "num" }, money(row[f], cur)));

  async function show() {
    const report = await api(ledgerPath("trial-balance") + query(filters()));
    const body = [];
    for (const klass of report.classes) {
      for (const item of report.items.filter((i) => i.account.startsWith(String(klass.class)))) {
        body.push(navRow(el("td", {}, el("a", { href: link(`/accounts/${item.account}`) }, item.account)),
          el("td", {}, item.name), ...amounts(item)));
      }
      body.push(el("tr", { class: "subtotal" }, el("th", { scope: "row", colspan: 2 },
        `${t("trial-balance.class", { n: klass.class })} · ${klass.name}`), ...amounts(klass)));
    }
    fill(document.querySelector("#trial tbody"), body.length ? body
      : el("tr", {}, el("td", { colspan: 6 }, t("trial-balance.empty"))));
    fill(document.querySelector("#trial tfoot"), el("tr", {},
      el("th", { scope: "row", colspan: 3 }, t("trial-balance.totals")),
      el("td", { class: "num" }, money(report.totals.debit, cur)),
      el("td", { class: "num" }, money(report.totals.credit, cur)), el("td", {})));
  }
  document.getElementById("filters").addEventListener("submit", (event) => { event.preventDefault(); show(); });
  year.addEventListener("change", show);
  for (const button of document.querySelectorAll("[data-download]")) {
    button.addEventListener("click", () => {
      const csv = button.dataset.download === "csv";
      download(ledgerPath("trial-balance") + query(filters()), csv ? CSV : XLSX, `balance.${csv ? "csv" : "xlsx"}`);
    });
  }
  await show();
});
