"""The aged balance of customers and suppliers, and the open items as of a day, with figures
worked out by hand, as JSON, CSV and XLSX, on both databases."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl

from grandlivre.tabular import XLSX
from tests.conftest import assert_problem
from tests.entry.helpers import credit, debit, url
from tests.lettering.helpers import (
    invoice,
    key,
    line,
    make_party,
    match,
    named,
    open_items,
    payment,
    post,
    purchase,
    settlement,
)

AS_OF = "2026-06-30"
BANDS = ("not_due", "0-30", "31-60", "61-90", "over_90", "total")


def bands(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(row[band] for band in BANDS)


async def books(client: httpx.AsyncClient, ledger: str) -> dict[str, Any]:
    """Customers and a supplier with items of every age as of 2026-06-30."""
    await make_party(client, ledger, "DUPONT")  # 30 days, the default
    await make_party(client, ledger, "DURAND", payment_terms_days=60)
    await make_party(client, ledger, "LEROY")
    await make_party(client, ledger, "MARTIN", "supplier", payment_terms_days=45)
    made: dict[str, Any] = {}
    # DUPONT: one invoice in each band (due 30 days after its date).
    made["not_due"] = await invoice(client, ledger, "DUPONT", "1000.00", date="2026-06-20")
    made["0-30"] = await invoice(client, ledger, "DUPONT", "700.00", date="2026-05-25")
    made["31-60"] = await invoice(client, ledger, "DUPONT", "300.00", date="2026-04-20")
    made["61-90"] = await invoice(client, ledger, "DUPONT", "400.00", date="2026-03-15")
    made["over_90"] = await invoice(client, ledger, "DUPONT", "500.00", date="2026-01-10")
    # A partly paid invoice: both lines stay open (they do not sum to zero); the payment is
    # due on its own date, 102 days before as_of.
    made["partly"] = await invoice(client, ledger, "DUPONT", "1200.00", date="2026-02-01")
    made["part"] = await payment(client, ledger, "DUPONT", "500.00", date="2026-03-20")
    # Paid in full and matched on 2026-07-02: still open as of 2026-06-30.
    made["late"] = await invoice(client, ledger, "DUPONT", "250.00", date="2026-06-01")
    made["late_paid"] = await payment(client, ledger, "DUPONT", "250.00", date="2026-06-28")
    late = [line(made["late"], 0), line(made["late_paid"], 1)]
    assert (await match(client, ledger, late, date="2026-07-02")).status_code == 201
    # Paid and matched before as_of: closed.
    made["closed"] = await invoice(client, ledger, "DUPONT", "90.00", date="2026-05-01")
    made["closed_paid"] = await payment(client, ledger, "DUPONT", "90.00", date="2026-05-20")
    closed = [line(made["closed"], 0), line(made["closed_paid"], 1)]
    assert (await match(client, ledger, closed)).status_code == 201
    # Left out: dated after as_of, a draft, a line naming no third party.
    await invoice(client, ledger, "DUPONT", "999.00", date="2026-07-10")
    await invoice(client, ledger, "DUPONT", "888.00", date="2026-06-10", status="draft")
    await invoice(client, ledger, None, "777.00", date="2026-06-10")
    # DURAND's 60 days put an invoice 71 days old in 0-30.
    made["durand"] = await invoice(client, ledger, "DURAND", "100.00", date="2026-04-20")
    # LEROY has nothing open.
    leroy = await invoice(client, ledger, "LEROY", "40.00", date="2026-06-02")
    leroy_paid = await payment(client, ledger, "LEROY", "40.00", date="2026-06-03")
    assert (await match(client, ledger, [line(leroy, 0), line(leroy_paid, 1)])).is_success
    # MARTIN, a supplier (45 days): what we owe is credit − debit.
    made["bought"] = await purchase(client, ledger, "MARTIN", "600.00", date="2026-05-01")
    made["settled"] = await settlement(client, ledger, "MARTIN", "100.00", date="2026-06-10")
    return made


async def test_the_aged_balance_puts_each_open_item_in_its_band(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await books(client, ledger)
    path = url(ledger, "reports", "aged-balance")
    response = await client.get(path, params={"kind": "customer", "as_of": AS_OF})
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["kind"], report["as_of"]) == ("customer", AS_OF)
    assert [
        (r["third_party"], r["name"], r["account"], r["payment_terms_days"])
        for r in report["items"]
    ] == [("DUPONT", "Tiers DUPONT", "411000", 30), ("DURAND", "Tiers DURAND", "411000", 60)]
    dupont, durand = report["items"]
    # not due: 1000 + the 250 matched only later; 0-30: 700 − its 250 payment (2 days);
    # over 90: 500 + 1200 − the 500 paid on it.
    assert bands(dupont) == ("1250.00", "450.00", "300.00", "400.00", "1200.00", "3600.00")
    assert bands(durand) == ("0.00", "100.00", "0.00", "0.00", "0.00", "100.00")
    assert bands(report["totals"]) == (
        "1250.00",
        "550.00",
        "300.00",
        "400.00",
        "1200.00",
        "3700.00",
    )

    suppliers = await client.get(path, params={"kind": "supplier", "as_of": AS_OF})
    (martin,) = suppliers.json()["items"]
    assert (martin["third_party"], martin["account"]) == ("MARTIN", "401000")
    # 600 due 2026-06-15 and the 100 paid on 2026-06-10: both 0-30.
    assert bands(martin) == ("0.00", "500.00", "0.00", "0.00", "0.00", "500.00")

    # A few days on, the match of 2026-07-02 closes its lines, and the July invoice is in.
    later = await client.get(path, params={"kind": "customer", "as_of": "2026-07-12"})
    assert bands(later.json()["items"][0]) == (
        "1999.00",
        "700.00",
        "300.00",
        "400.00",
        "1200.00",
        "4599.00",
    )
    # The balance of the open items is what the third party's balance says.
    balance = await client.get(
        url(ledger, "third-parties", "DUPONT", "balance"), params={"as_of": AS_OF}
    )
    assert balance.json()["balance"] == "3600.00"


async def test_the_aged_balance_asks_for_a_kind_and_ages_at_today_by_default(
    client: httpx.AsyncClient, ledger: str
) -> None:
    path = url(ledger, "reports", "aged-balance")
    for params in ({}, {"kind": "other"}, {"kind": "customer", "as_of": "2026-13-01"}):
        response = await client.get(path, params=params)
        assert response.status_code == 422, response.text
    before = datetime.now(ZoneInfo("Europe/Paris")).date()
    report = (await client.get(path, params={"kind": "supplier"})).json()
    after = datetime.now(ZoneInfo("Europe/Paris")).date()
    assert date.fromisoformat(report["as_of"]) in (before, after)
    assert report["items"] == []
    assert bands(report["totals"]) == ("0.00",) * 6
    nowhere = await client.get(url("nope", "reports", "aged-balance"), params={"kind": "customer"})
    assert_problem(nowhere, 404, "ledger-not-found")


async def test_open_items_are_taken_as_of_a_day_and_for_one_third_party(
    client: httpx.AsyncClient, ledger: str
) -> None:
    made = await books(client, ledger)
    as_of = await open_items(client, ledger, as_of=AS_OF, third_party="DUPONT")
    assert as_of == [
        key(made["over_90"], 0),
        key(made["partly"], 0),
        key(made["61-90"], 0),
        key(made["part"], 1),
        key(made["31-60"], 0),
        key(made["0-30"], 0),
        key(made["late"], 0),
        key(made["not_due"], 0),
        key(made["late_paid"], 1),
    ]
    now = await open_items(client, ledger, third_party="DUPONT")
    assert key(made["late"], 0) not in now
    assert len(now) == 8  # the July invoice is in, the late match's two lines are out
    assert await open_items(client, ledger, "401000") == [
        key(made["bought"], 1),
        key(made["settled"], 0),
    ]
    unknown = await client.get(
        url(ledger, "accounts", "411000", "open-items"), params={"third_party": "NOBODY"}
    )
    assert_problem(unknown, 404, "third-party-not-found")
    missing = await client.get(url(ledger, "accounts", "999999", "open-items"))
    assert_problem(missing, 404, "account-not-found")
    page = (
        await client.get(url(ledger, "accounts", "401000", "open-items"), params={"limit": 1})
    ).json()
    assert page["items"][0] == {
        "entry_id": made["bought"]["id"],
        "position": 1,
        "date": "2026-05-01",
        "journal": "AC",
        "label": "Achat",
        "reference": None,
        "debit": None,
        "credit": "600.00",
        "third_party": "MARTIN",
    }
    assert page["next_cursor"]
    other_list = await client.get(
        url(ledger, "accounts", "411000", "matches"), params={"cursor": page["next_cursor"]}
    )
    assert_problem(other_list, 422, "invalid-cursor")


async def test_the_reports_answer_as_csv_and_xlsx(client: httpx.AsyncClient, ledger: str) -> None:
    await books(client, ledger)
    path = url(ledger, "reports", "aged-balance")
    params = {"kind": "customer", "as_of": AS_OF}
    response = await client.get(path, params=params, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "aged-balance-" in response.headers["content-disposition"]
    rows = response.content.decode("utf-8-sig").split("\r\n")
    assert rows[0] == (
        "Tiers;Nom;Compte;Délai (jours);Non échu;0-30 jours;31-60 jours;61-90 jours;"
        "Plus de 90 jours;Total"
    )
    assert rows[1] == "DUPONT;Tiers DUPONT;411000;30;1250,00;450,00;300,00;400,00;1200,00;3600,00"
    assert rows[3] == "Total;;;;1250,00;550,00;300,00;400,00;1200,00;3700,00"

    workbook = await client.get(path, params=params, headers={"Accept": XLSX})
    assert workbook.status_code == 200, workbook.text
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[2][:4] == ["DURAND", "Tiers DURAND", "411000", 60]
    assert Decimal(str(cells[3][-1])) == Decimal("3700")

    items = url(ledger, "accounts", "411000", "open-items")
    first = await client.get(
        items, params={"as_of": AS_OF, "limit": 2}, headers={"Accept": "text/csv"}
    )
    assert first.status_code == 200, first.text
    lines = first.content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Date;Journal;Pièce;Libellé;Tiers;Débit;Crédit;Écriture;Ligne"
    assert lines[1].startswith("10/01/2026;VE;F-2026-01-10;Pièce;DUPONT;500,00;;")
    assert len([row for row in lines if row]) == 3
    assert 'rel="next"' in first.headers["link"]
    following = first.headers["link"].split(">")[0].removeprefix("<")
    rest = await client.get(following, headers={"Accept": "text/csv"})
    assert rest.content.decode("utf-8-sig").split("\r\n")[1].startswith("15/03/2026;VE;")


async def test_a_supplier_invoice_is_matched_with_its_settlements(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await make_party(client, ledger, "MARTIN", "supplier")
    bought = await purchase(client, ledger, "MARTIN", "600.00", date="2026-05-01")
    first = await settlement(client, ledger, "MARTIN", "100.00", date="2026-05-10")
    second = await settlement(client, ledger, "MARTIN", "500.00", date="2026-05-31")
    response = await match(
        client,
        ledger,
        [line(bought, 1), line(first, 0), line(second, 0)],
        "401000",
        third_party="MARTIN",
    )
    assert response.status_code == 201, response.text
    assert (response.json()["code"], response.json()["date"]) == ("A", "2026-05-31")
    report = await client.get(
        url(ledger, "reports", "aged-balance"), params={"kind": "supplier", "as_of": "2026-06-30"}
    )
    assert report.json()["items"] == []
    # A line on 401000 naming no third party is matched on its own terms.
    lines = [debit("607000", "10.00"), credit("401000", "10.00")]
    loose = await post(client, ledger, lines, date="2026-06-01", journal="AC")
    lines = [named(debit("401000", "10.00"), None), credit("512000", "10.00")]
    paid = await post(client, ledger, lines, date="2026-06-02", journal="BQ")
    plain = await match(client, ledger, [line(loose, 1), line(paid, 0)], "401000")
    assert (plain.json()["code"], plain.json()["third_party"]) == ("B", None)
