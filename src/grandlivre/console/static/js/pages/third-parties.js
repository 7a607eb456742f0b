// Third parties with their balances (from the balance auxiliaire) and a link to their open
// items on their collective account.
import { all, api, boot, el, fill, ledger, ledgerPath, link, money, navRow, t } from "../core.js";

boot(async () => {
  const info = await ledger();
  const [parties, balance] = await Promise.all([all(ledgerPath("third-parties")), api(ledgerPath("third-party-balance"))]);
  const balances = new Map(balance.items.filter((i) => i.third_party).map((i) => [`${i.account}/${i.third_party}`, i.closing]));
  fill(document.querySelector("#parties tbody"), parties.length ? parties.map((p) => navRow(
    el("td", {}, el("a", { href: `${link(`/accounts/${p.account}/lettering`)}#third_party=${encodeURIComponent(p.code)}` }, p.code)),
    el("td", {}, p.name),
    el("td", {}, t(`third-parties.${p.kind}`)), el("td", {}, el("a", { href: link(`/accounts/${p.account}`) }, p.account)),
    el("td", { class: "num" }, money(balances.get(`${p.account}/${p.code}`) ?? "0", info.currency)),
    el("td", {}, el("a", { href: `${link(`/accounts/${p.account}/lettering`)}#third_party=${encodeURIComponent(p.code)}` },
      t("lettering.title"))),
  )) : el("tr", {}, el("td", { colspan: 6 }, t("third-parties.empty"))));
});
