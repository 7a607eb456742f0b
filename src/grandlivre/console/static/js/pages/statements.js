// The balance sheet and the income statement of a fiscal year, each line with the year
// before, and their CSV and XLSX downloads.
import { CSV, XLSX, all, api, boot, download, el, fill, ledger, ledgerPath, money, query, t } from "../core.js";

boot(async () => {
  const info = await ledger();
  const cur = info.currency;
  const year = document.getElementById("fiscal_year");
  const years = await all(ledgerPath("fiscal-years"));
  if (!years.length) { year.append(el("option", { value: "" }, t("statements.no_year"))); return; }
  year.append(...years.map((y) => el("option", { value: y.year }, `${y.year} (${t(`status.${y.status}`)})`)));
  const open = years.filter((y) => y.status === "open");
  year.value = String((open[0] || years[years.length - 1]).year);
  const head = (...names) => el("tr", {}, names.map((n, i) => el("th", { scope: "col", class: i ? "num" : null }, n)));
  const amount = (value) => el("td", { class: "num" }, value === null ? t("common.none") : money(value, cur));

  async function show() {
    const params = query({ fiscal_year: year.value });
    const [sheet, income] = await Promise.all([
      api(ledgerPath("reports/balance-sheet") + params), api(ledgerPath("reports/income-statement") + params)]);
    const n = String(sheet.fiscal_year.year);
    const previous = sheet.previous ? String(sheet.previous.year) : t("col.previous");
    fill(document.querySelector("#actif thead"), head("", `${t("col.gross")} ${n}`, t("col.depreciation"), `${t("col.net")} ${n}`, `${t("col.net")} ${previous}`));
    const actif = [];
    for (const section of sheet.actif.sections) {
      actif.push(el("tr", { class: "section" }, el("th", { scope: "rowgroup", colspan: 5 }, section.label)));
      for (const line of section.lines) {
        actif.push(el("tr", {}, el("th", { scope: "row" }, line.label), amount(line.gross), amount(line.depreciation), amount(line.net), amount(line.previous_net)));
      }
      actif.push(el("tr", { class: "subtotal" }, el("th", { scope: "row" }, section.label), amount(section.total.gross), amount(section.total.depreciation), amount(section.total.net), amount(section.total.previous_net)));
    }
    const total = sheet.actif.total;
    actif.push(el("tr", { class: "total" }, el("th", { scope: "row" }, t("statements.actif")), amount(total.gross), amount(total.depreciation), amount(total.net), amount(total.previous_net)));
    fill(document.querySelector("#actif tbody"), actif);
    const amountRows = (sections, totalRow) => {
      const rows = [];
      for (const section of sections) {
        rows.push(el("tr", { class: "section" }, el("th", { scope: "rowgroup", colspan: 3 }, section.label)));
        for (const line of section.lines) rows.push(el("tr", {}, el("th", { scope: "row" }, line.label), amount(line.amount), amount(line.previous)));
        rows.push(el("tr", { class: "subtotal" }, el("th", { scope: "row" }, section.label), amount(section.total.amount), amount(section.total.previous)));
      }
      if (totalRow) rows.push(el("tr", { class: "total" }, el("th", { scope: "row" }, totalRow[0]), amount(totalRow[1].amount), amount(totalRow[1].previous)));
      return rows;
    };
    fill(document.querySelector("#passif thead"), head("", n, previous));
    fill(document.querySelector("#passif tbody"), amountRows(sheet.passif.sections, [t("statements.passif"), sheet.passif.total]));
    fill(document.querySelector("#income thead"), head("", n, previous));
    const incomeRows = amountRows(income.sections, null);
    for (const result of income.results) {
      incomeRows.push(el("tr", { class: result.code === "RESULTAT" ? "total" : "subtotal" },
        el("th", { scope: "row" }, result.label), amount(result.amount), amount(result.previous)));
    }
    fill(document.querySelector("#income tbody"), incomeRows);
  }
  year.addEventListener("change", show);
  document.getElementById("filters").addEventListener("submit", (event) => { event.preventDefault(); show(); });
  for (const button of document.querySelectorAll("[data-download]")) {
    button.addEventListener("click", () => {
      const csv = button.dataset.download === "csv";
      const report = button.dataset.report;
      download(ledgerPath(`reports/${report}`) + query({ fiscal_year: year.value }), csv ? CSV : XLSX,
        `${report}-${year.value}.${csv ? "csv" : "xlsx"}`);
    });
  }
  await show();
});
