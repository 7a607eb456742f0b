// Lettrage of an account: choose open lines that net to zero and match them; unmatch.
import { all, api, boot, day, el, fill, ledger, ledgerPath, link, money, moneyUnits, parseAmount,
  query, say, session, showProblem, t } from "../core.js";

boot(async () => {
  const number = document.body.dataset.number;
  const info = await ledger();
  const cur = info.currency;
  const partySelect = document.getElementById("third_party");
  const matchButton = document.getElementById("match");
  const selection = document.getElementById("selection");
  const parties = (await all(ledgerPath("third-parties"))).filter((p) => p.account === number);
  partySelect.append(...parties.map((p) => el("option", { value: p.code }, `${p.code} · ${p.name}`)));
  const wanted = new URLSearchParams(location.hash.slice(1)).get("third_party");
  if (wanted && parties.some((p) => p.code === wanted)) partySelect.value = wanted;
  let items = [];

  function selected() {
    return [...document.querySelectorAll("#open tbody input:checked")].map((box) => items[Number(box.value)]);
  }

  function update() {
    const chosen = selected();
    let sum = 0n;
    for (const item of chosen) {
      sum += item.debit ? parseAmount(item.debit, info.decimals) : -parseAmount(item.credit, info.decimals);
    }
    const ready = chosen.length >= 2 && sum === 0n;
    selection.textContent = chosen.length === 0 ? ""
      : ready ? t("lettering.nets_to_zero", { n: chosen.length })
        : t("lettering.selected", { n: chosen.length, amount: moneyUnits(sum, info.decimals, cur) });
    selection.className = `balance ${ready ? "ok" : "off"}`;
    matchButton.disabled = !ready;
  }

  async function show() {
    const party = partySelect.value;
    items = await all(ledgerPath(`accounts/${number}/open-items`), { third_party: party });
    fill(document.querySelector("#open tbody"), items.length ? items.map((item, index) => {
      const id = `line-${index}`;
      return el("tr", {},
        el("td", {}, el("input", { type: "checkbox", id, value: index, disabled: !session.may("accountant"),
          "aria-label": `${t("lettering.select")} ${day(item.date)} ${item.label}` })),
        el("td", {}, el("label", { for: id }, day(item.date))), el("td", {}, item.journal),
        el("td", {}, el("a", { href: link(`/entries/${item.entry_id}`) }, item.label)),
        el("td", {}, item.reference || ""), el("td", {}, item.third_party || ""),
        el("td", { class: "num" }, money(item.debit, cur)), el("td", { class: "num" }, money(item.credit, cur)));
    }) : el("tr", {}, el("td", { colspan: 8 }, t("lettering.empty"))));
    const matches = await all(ledgerPath(`accounts/${number}/matches`));
    fill(document.querySelector("#matches tbody"), matches.filter((m) => !party || m.third_party === party).map((m) => el("tr", {},
      el("td", {}, m.code), el("td", {}, day(m.date)), el("td", {}, m.third_party || ""),
      el("td", { class: "num" }, money(m.amount, cur)),
      el("td", {}, m.lines.map((l) => `${day(l.date)} ${l.label}`).join(" · ")),
      el("td", {}, session.may("accountant") ? el("button", { type: "button", onclick: () => unmatch(m.code) },
        `${t("lettering.unmatch")} ${m.code}`) : null))));
    update();
  }

  async function unmatch(code) {
    try {
      await api(ledgerPath(`accounts/${number}/matches/${encodeURIComponent(code)}`), { method: "DELETE" });
      say(t("lettering.unmatched", { code }), "ok");
      await show();
    } catch (error) { showProblem(error); }
  }

  document.querySelector("#open tbody").addEventListener("change", update);
  partySelect.addEventListener("change", () => {
    history.replaceState(null, "", `${location.pathname}${location.search}${partySelect.value ? `#third_party=${partySelect.value}` : ""}`);
    show();
  });
  document.getElementById("filters").addEventListener("submit", (event) => { event.preventDefault(); show(); });
  matchButton.addEventListener("click", async () => {
    const chosen = selected();
    const body = { lines: chosen.map((item) => ({ entry_id: item.entry_id, position: item.position })) };
    const party = partySelect.value || chosen[0].third_party;
    if (party) body.third_party = party;
    try {
      const match = await api(ledgerPath(`accounts/${number}/matches`), { method: "POST", body });
      say(t("lettering.matched", { code: match.code }), "ok");
      await show();
    } catch (error) { showProblem(error); }
  });
  await show();
});
