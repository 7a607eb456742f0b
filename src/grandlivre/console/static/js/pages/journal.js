// The journal: entries by date, filtered by journal, status, account and dates (the filters
// live in the URL's fragment, so a filtered view can be bookmarked); ↑ ↓ and Enter move.
import { CSV, XLSX, all, api, boot, day, download, el, fill, ledger, ledgerPath, link, money, navRow, query, t,
  parseAmount, toDecimal } from "../core.js";

boot(async () => {
  const info = await ledger();
  const ids = ["journal", "status", "account", "from", "to"];
  const controls = Object.fromEntries(ids.map((id) => [id, document.getElementById(id)]));
  const journals = await all(ledgerPath("journals"));
  controls.journal.append(...journals.map((j) => el("option", { value: j.code }, `${j.code} · ${j.name}`)));
  const saved = new URLSearchParams(location.hash.slice(1));
  for (const id of ids) if (saved.get(id)) controls[id].value = saved.get(id);
  const rows = document.querySelector("#entries tbody");
  const prev = document.getElementById("prev");
  const next = document.getElementById("next");
  let cursors = [null];
  let at = 0;
  const filters = () => Object.fromEntries(ids.map((id) => [id, controls[id].value.trim()]));

  function total(entry) {
    let units = 0n;
    for (const line of entry.lines) if (line.debit) units += parseAmount(line.debit, info.decimals);
    return money(toDecimal(units, info.decimals), info.currency);
  }

  async function show() {
    const page = await api(ledgerPath("entries") + query({ ...filters(), limit: 50, cursor: cursors[at] }));
    fill(rows, page.items.length ? page.items.map((entry) => navRow(
      el("td", {}, el("a", { href: link(`/entries/${entry.id}`) }, day(entry.date))),
      el("td", {}, entry.journal), el("td", {}, entry.number ?? ""), el("td", {}, entry.label),
      el("td", {}, entry.reference || ""), el("td", { class: "num" }, total(entry)),
      el("td", {}, t(`status.${entry.status}`)),
    )) : el("tr", {}, el("td", { colspan: 7 }, t("journal.empty"))));
    cursors[at + 1] = page.next_cursor;
    prev.disabled = at === 0;
    next.disabled = !page.next_cursor;
  }
  document.getElementById("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams(Object.entries(filters()).filter(([, v]) => v));
    history.replaceState(null, "", `${location.pathname}${location.search}#${params}`);
    cursors = [null]; at = 0; show();
  });
  // A journal's report (its entries with their lines, and its totals) is the spreadsheet.
  const buttons = [...document.querySelectorAll("[data-download]")];
  const allowDownload = () => {
    for (const button of buttons) button.disabled = !controls.journal.value;
    document.getElementById("download-help").hidden = Boolean(controls.journal.value);
  };
  controls.journal.addEventListener("change", allowDownload);
  allowDownload();
  for (const button of buttons) {
    button.addEventListener("click", () => {
      const csv = button.dataset.download === "csv";
      const code = controls.journal.value;
      download(ledgerPath(`journals/${encodeURIComponent(code)}/report`)
        + query({ from: controls.from.value, to: controls.to.value }), csv ? CSV : XLSX,
      `journal-${code}.${csv ? "csv" : "xlsx"}`);
    });
  }
  prev.addEventListener("click", () => { at -= 1; show(); });
  next.addEventListener("click", () => { at += 1; show(); });
  await show();
});
