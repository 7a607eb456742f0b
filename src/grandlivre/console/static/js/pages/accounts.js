// The chart of accounts: every account, searched by number or name, filtered by class.
import { all, boot, el, fill, ledgerPath, link, navRow, t } from "../core.js";

function normalise(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

boot(async () => {
  const body = document.querySelector("#accounts tbody");
  const count = document.getElementById("count");
  const search = document.getElementById("q");
  const klass = document.getElementById("class");
  const inactive = document.getElementById("inactive");
  count.textContent = t("common.loading");
  const accounts = await all(ledgerPath("accounts"));
  for (const account of accounts) account.key = normalise(`${account.number} ${account.name}`);

  function render() {
    const words = normalise(search.value.trim()).split(/\s+/).filter(Boolean);
    const shown = accounts.filter((a) =>
      (inactive.checked || a.active)
      && (!klass.value || String(a.class) === klass.value)
      && words.every((w) => (/^\d+$/.test(w) ? a.number.startsWith(w) || a.key.includes(w) : a.key.includes(w))));
    count.textContent = t("accounts.count", { n: shown.length });
    fill(body, shown.slice(0, 1000).map((a) => navRow(
      el("td", {}, el("a", { href: link(`/accounts/${a.number}`) }, a.number)),
      el("td", {}, a.name),
      el("td", {}, `${a.class} · ${t(`class.${a.class}`)}`),
      el("td", {}, t(a.active ? "status.active" : "status.inactive")),
    )));
  }
  for (const control of [search, klass, inactive]) {
    control.addEventListener("input", render);
    control.addEventListener("change", render);
  }
  document.getElementById("filters").addEventListener("submit", (e) => e.preventDefault());
  render();
});
