// One account: its facts, its general ledger (cursor pages, running balance), its balance
// over time as a chart, CSV/XLSX downloads.
import { CSV, XLSX, api, boot, day, download, el, fill, ledger, ledgerPath, link, money,
  navRow, query, t } from "../core.js";

boot(async () => {
  const number = document.body.dataset.number;
  const info = await ledger();
  const cur = info.currency;
  const account = await api(ledgerPath(`accounts/${number}`));
  document.getElementById("title").textContent = `${account.number} · ${account.name}`;
  document.title = `${account.number} · ${account.name} · Grand Livre`;
  const balance = await api(ledgerPath(`accounts/${number}/balance`));
  const facts = document.getElementById("facts");
  const fact = (term, value) => [el("dt", {}, term), el("dd", {}, value)];
  fill(facts, fact(t("accounts.class"), `${account.class} · ${t(`class.${account.class}`)}`),
    fact(t("col.status"), t(account.active ? "status.active" : "status.inactive")),
    fact(t("col.debit"), money(balance.debit, cur)), fact(t("col.credit"), money(balance.credit, cur)),
    fact(t("col.balance"), money(balance.balance, cur)),
    account.collective ? fact(t("account.collective"), t("status.yes")) : []);
  const letteringLink = document.getElementById("lettering-link");
  letteringLink.hidden = !(account.collective || String(account.number).startsWith("4"));

  const from = document.getElementById("from");
  const to = document.getElementById("to");
  const drafts = document.getElementById("drafts");
  const rows = document.querySelector("#movements tbody");
  const prev = document.getElementById("prev");
  const next = document.getElementById("next");
  const cursors = [null];
  let at = 0;
  const filters = () => ({ from: from.value, to: to.value, include_drafts: drafts.checked });

  async function show() {
    const page = await api(ledgerPath(`accounts/${number}/ledger`)
      + query({ ...filters(), limit: 50, cursor: cursors[at] }));
    document.getElementById("closing").textContent = money(page.closing_balance, cur);
    fill(rows, page.items.length ? page.items.map((m) => navRow(
      el("td", {}, el("a", { href: link(`/entries/${m.entry_id}`) }, day(m.date))),
      el("td", {}, m.journal), el("td", {}, m.label), el("td", {}, m.reference || ""),
      el("td", { class: "num" }, money(m.debit, cur)), el("td", { class: "num" }, money(m.credit, cur)),
      el("td", { class: "num" }, money(m.balance, cur)),
    )) : el("tr", {}, el("td", { colspan: 7 }, t("account.no_lines"))));
    cursors[at + 1] = page.next_cursor;
    prev.disabled = at === 0;
    next.disabled = !page.next_cursor;
  }
  prev.addEventListener("click", () => { at -= 1; show(); });
  next.addEventListener("click", () => { at += 1; show(); });
  document.getElementById("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    cursors.length = 1; at = 0; show(); chart();
  });
  for (const button of document.querySelectorAll("[data-download]")) {
    button.addEventListener("click", () => {
      const csv = button.dataset.download === "csv";
      download(ledgerPath(`accounts/${number}/ledger`) + query(filters()), csv ? CSV : XLSX,
        `grand-livre-${number}.${csv ? "csv" : "xlsx"}`);
    });
  }

  let plot = null;
  async function chart() {
    const box = document.getElementById("chart");
    // The whole range, page by page (up to 5,000 lines): the last balance of each day.
    const byDay = new Map();
    let cursor = null;
    let seen = 0;
    do {
      const page = await api(ledgerPath(`accounts/${number}/ledger`)
        + query({ ...filters(), limit: 500, cursor }));
      for (const m of page.items) byDay.set(m.date, Number(m.balance));
      seen += page.items.length;
      cursor = page.next_cursor;
    } while (cursor && seen < 5000);
    const days = [...byDay.keys()];
    const xs = days.map((d) => Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / 1000);
    const ys = [...byDay.values()];
    plot?.destroy();
    if (!window.uPlot || xs.length === 0) { fill(box, el("p", {}, t("account.no_lines"))); return; }
    fill(box);
    plot = new window.uPlot({
      width: Math.min(box.clientWidth || 800, 900), height: 220,
      scales: { x: { time: true } },
      axes: [{ stroke: "#1f2933", values: (u, splits) => splits.map((s) => day(new Date(s * 1000).toISOString())) },
        { stroke: "#1f2933", size: 90, values: (u, splits) => splits.map((n) => money(String(n), cur)) }],
      series: [{ label: t("col.date"), value: (u, v) => (v == null ? "" : day(new Date(v * 1000).toISOString())) },
        { label: t("col.balance"), stroke: "#0b5cad", width: 2, fill: "rgba(11,92,173,0.08)",
          // A balance holds from one movement to the next: a step, not a slope.
          paths: window.uPlot.paths.stepped({ align: 1 }),
          value: (u, v) => (v == null ? "" : money(String(v), cur)) }],
    }, [xs, ys], box);
  }
  await show();
  // Charted after the table (uPlot is loaded with `defer`, so it is there by now).
  await chart();
});
