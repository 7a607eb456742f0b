"""The balance sheet and the income statement, read as an accountant reads them, on both
databases: a worked example with figures computed by hand, the same figures in CSV and XLSX,
and the invariants (totals equal, one result, the previous column) on random books."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal
from typing import Any

import httpx
import openpyxl
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grandlivre.ledger.chart import pcg_accounts
from grandlivre.statement import layout
from grandlivre.tabular import XLSX
from tests.conftest import assert_problem, bearer, issue_key
from tests.entry.helpers import credit, debit, new_ledger, open_year, post_entry, url
from tests.sealer.support import seal

BALANCE_SHEET = "reports/balance-sheet"
INCOME_STATEMENT = "reports/income-statement"


async def read(
    client: httpx.AsyncClient, ledger: str, report: str, year: int, **headers: str
) -> httpx.Response:
    response = await client.get(
        url(ledger, report), params={"fiscal_year": str(year)}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response


async def balance_sheet(client: httpx.AsyncClient, ledger: str, year: int) -> dict[str, Any]:
    body: dict[str, Any] = (await read(client, ledger, BALANCE_SHEET, year)).json()
    return body


async def income_statement(client: httpx.AsyncClient, ledger: str, year: int) -> dict[str, Any]:
    body: dict[str, Any] = (await read(client, ledger, INCOME_STATEMENT, year)).json()
    return body


def lines(part: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every line of a side of the balance sheet, or of the income statement, by code."""
    return {line["code"]: line for section in part["sections"] for line in section["lines"]}


def totals(part: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The subtotal of every section, by the section's code."""
    return {section["code"]: section["total"] for section in part["sections"]}


def actif_figures(sheet: dict[str, Any]) -> dict[str, tuple[str, str, str, str | None]]:
    """The actif's lines that are not all zero: (gross, depreciation, net, previous_net)."""
    return {
        code: (line["gross"], line["depreciation"], line["net"], line["previous_net"])
        for code, line in lines(sheet["actif"]).items()
        if {line["gross"], line["depreciation"], line["previous_net"]} - {"0.00", None}
    }


def amounts(part: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """The passif's (or income statement's) lines that are not all zero: (amount, previous)."""
    return {
        code: (line["amount"], line["previous"])
        for code, line in lines(part).items()
        if {line["amount"], line["previous"]} - {"0.00", None}
    }


# What the chart holds of classes 1 to 5 that no line takes: title accounts (18, 28, 29, 48,
# 49, 52, 58 themselves), comptes de liaison (18x), instruments de trésorerie (52x), virements
# internes (58x), and a cash account in credit (53).
UNPLACED = {"18", "181", "186", "187", "188", "28", "29", "48", "488", "49", "52", "521", "522"}
UNPLACED |= {"523", "524", "58", "580000"}


def test_every_account_of_the_chart_has_one_line_of_its_kind() -> None:
    kinds = {line.code: s.kind for s in layout.INCOME_STATEMENT for line in s.lines}
    actif = {line.code for s in layout.ACTIF for line in s.lines}
    for number, _ in pcg_accounts():
        for balance in (1, -1):
            if number[0] in "67":
                where = layout.place(layout.INCOME_INDEX, number, balance)
                assert where is not None, number
                assert kinds[where.line] == ("charges" if number[0] == "6" else "produits")
            elif number[0] in "12345":
                where = layout.place(layout.SHEET_INDEX, number, balance)
                if where is None:
                    assert number in UNPLACED | ({"53", "530000"} if balance < 0 else set())
                elif where.column == "less":
                    assert where.line in actif, number


def test_the_longest_prefix_and_the_sign_decide_the_line() -> None:
    def line(number: str, balance: int) -> str | None:
        where = layout.place(layout.SHEET_INDEX, number, balance)
        return None if where is None else where.line

    assert (line("409100", 1), line("409100", -1)) == ("AC-AVANCES", "DT-FOURNISSEURS")
    assert (line("401000", 1), line("401000", -1)) == ("AC-CREANCES", "DT-FOURNISSEURS")
    assert (line("411000", 1), line("411000", -1)) == ("AC-CLIENTS", "DT-AUTRES")
    assert (line("419100", -1), line("445710", -1)) == ("DT-AVANCES", "DT-FISCALES")
    assert (line("512000", 1), line("512000", -1)) == ("AC-DISPO", "DT-EDC")
    assert (line("269", -1), line("261", 1), line("476", -1)) == ("DT-AUTRES", "AI-FIN", "AR-ECA")
    assert (line("164000", -1), line("1688", -1), line("169", 1)) == (
        "DT-EDC",
        "DT-EDFD",
        "AR-PRIMES",
    )
    assert layout.place(layout.SHEET_INDEX, "281830", -1) == layout.Placement("AI-CORP", "less")


async def worked_example(client: httpx.AsyncClient) -> str:
    """A company's first year, 2026: capital 10,000, a loan of 20,000, a computer bought for
    6,000 (VAT 1,200) and depreciated by 1,200, sales of 10,000 (VAT 2,000) half paid,
    purchases of 4,000 (VAT 800) of which 3,000 paid from a second, overdrawn, account, and
    300 of interest."""
    code = f"s{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    for journal, day, entry_lines in (
        ("BQ", "2026-01-02", [debit("512000", "10000.00"), credit("101000", "10000.00")]),
        ("BQ", "2026-01-10", [debit("512000", "20000.00"), credit("164000", "20000.00")]),
        (
            "AC",
            "2026-01-15",
            [
                debit("218300", "6000.00"),
                debit("445620", "1200.00"),
                credit("404000", "7200.00"),
            ],
        ),
        ("BQ", "2026-02-01", [debit("404000", "7200.00"), credit("512000", "7200.00")]),
        (
            "VE",
            "2026-03-10",
            [
                debit("411000", "12000.00"),
                credit("706000", "10000.00"),
                credit("445710", "2000.00"),
            ],
        ),
        (
            "AC",
            "2026-03-15",
            [debit("607000", "4000.00"), debit("445660", "800.00"), credit("401000", "4800.00")],
        ),
        ("BQ", "2026-04-10", [debit("512000", "6000.00"), credit("411000", "6000.00")]),
        ("BQ", "2026-05-01", [debit("401000", "3000.00"), credit("5121", "3000.00")]),
        ("OD", "2026-12-31", [debit("681100", "1200.00"), credit("281830", "1200.00")]),
        ("BQ", "2026-12-31", [debit("661100", "300.00"), credit("512000", "300.00")]),
    ):
        await post_entry(client, code, entry_lines, journal=journal, date=day)
    return code


EXAMPLE_ACTIF = {
    "AI-CORP": ("6000.00", "1200.00", "4800.00", None),
    "AC-CLIENTS": ("6000.00", "0.00", "6000.00", None),
    "AC-CREANCES": ("2000.00", "0.00", "2000.00", None),  # VAT deductible, 445620 and 445660
    "AC-DISPO": ("28500.00", "0.00", "28500.00", None),
}
EXAMPLE_PASSIF = {
    "CP-CAPITAL": ("10000.00", None),
    "CP-RESULTAT": ("4500.00", None),
    "DT-EDC": ("23000.00", None),  # the loan, and the overdrawn account
    "DT-FOURNISSEURS": ("1800.00", None),
    "DT-FISCALES": ("2000.00", None),  # VAT collected
}
EXAMPLE_INCOME = {
    "PE-PRODUCTION": ("10000.00", None),
    "CE-MARCHANDISES": ("4000.00", None),
    "CE-DOTATIONS": ("1200.00", None),
    "CF-INTERETS": ("300.00", None),
}
EXAMPLE_RESULTS = {
    "RESULTAT-EXPLOITATION": "4800.00",
    "RESULTAT-FINANCIER": "-300.00",
    "RESULTAT-COURANT": "4500.00",
    "RESULTAT-EXCEPTIONNEL": "0.00",
    "TOTAL-PRODUITS": "10000.00",
    "TOTAL-CHARGES": "5500.00",
    "RESULTAT": "4500.00",
}


async def test_the_worked_example_reads_as_computed_by_hand(client: httpx.AsyncClient) -> None:
    ledger = await worked_example(client)
    sheet = await balance_sheet(client, ledger, 2026)
    assert sheet["ledger"] == ledger
    assert sheet["fiscal_year"] == {
        "year": 2026,
        "start": "2026-01-01",
        "end": "2026-12-31",
        "status": "open",
    }
    assert sheet["previous"] is None

    assert actif_figures(sheet) == EXAMPLE_ACTIF
    actif = lines(sheet["actif"])
    assert actif["AI-CORP"]["label"] == "Immobilisations corporelles"
    assert actif["AI-CORP"]["accounts"] == ["218300", "281830"]
    assert actif["AC-CLIENTS"]["label"] == "Créances clients et comptes rattachés"
    assert actif["AC-CREANCES"]["accounts"] == ["445620", "445660"]
    assert actif["AC-DISPO"]["label"] == "Disponibilités"
    assert actif["AC-DISPO"]["accounts"] == ["512000"]
    assert totals(sheet["actif"])["AI"] == {
        "gross": "6000.00",
        "depreciation": "1200.00",
        "net": "4800.00",
        "previous_net": None,
    }
    assert totals(sheet["actif"])["AC"]["net"] == "36500.00"
    assert sheet["actif"]["total"] == {
        "gross": "42500.00",
        "depreciation": "1200.00",
        "net": "41300.00",
        "previous_net": None,
    }

    assert amounts(sheet["passif"]) == EXAMPLE_PASSIF
    passif = lines(sheet["passif"])
    assert passif["CP-RESULTAT"]["label"] == "Résultat de l'exercice (bénéfice ou perte)"
    assert passif["DT-EDC"]["label"] == "Emprunts et dettes auprès des établissements de crédit"
    assert passif["DT-EDC"]["accounts"] == ["164000", "5121"]
    assert passif["DT-FISCALES"]["accounts"] == ["445710"]
    assert totals(sheet["passif"])["CP"] == {"amount": "14500.00", "previous": None}
    assert totals(sheet["passif"])["DT"] == {"amount": "26800.00", "previous": None}
    assert sheet["passif"]["total"] == {"amount": "41300.00", "previous": None}
    assert [s["label"] for s in sheet["actif"]["sections"]][1:3] == [
        "Actif immobilisé",
        "Actif circulant",
    ]

    income = await income_statement(client, ledger, 2026)
    assert amounts(income) == EXAMPLE_INCOME
    assert lines(income)["CE-MARCHANDISES"]["label"] == "Achats de marchandises"
    assert {r["code"]: r["amount"] for r in income["results"]} == EXAMPLE_RESULTS
    assert income["result"] == {
        "code": "RESULTAT",
        "label": "Bénéfice ou perte",
        "amount": "4500.00",
        "previous": None,
    }
    sections = {s["code"]: (s["kind"], s["total"]["amount"]) for s in income["sections"]}
    assert sections["PE"] == ("produits", "10000.00")
    assert sections["CE"] == ("charges", "5200.00")
    assert sections["CF"] == ("charges", "300.00")


async def test_a_closed_year_keeps_its_statements_and_the_next_shows_them_as_previous(
    client: httpx.AsyncClient,
) -> None:
    ledger = await worked_example(client)
    before = (
        await balance_sheet(client, ledger, 2026),
        await income_statement(client, ledger, 2026),
    )
    closing = await client.post(url(ledger, "fiscal-years", "2026", "close"))
    assert closing.status_code == 200, closing.text
    sheet = await balance_sheet(client, ledger, 2026)
    income = await income_statement(client, ledger, 2026)
    assert sheet["fiscal_year"]["status"] == "closed"
    assert (sheet["actif"], sheet["passif"]) == (before[0]["actif"], before[0]["passif"])
    assert income["sections"] == before[1]["sections"]
    assert income["result"]["amount"] == "4500.00"

    # The general meeting puts 10 % of the profit in the legal reserve, the rest carried.
    await post_entry(
        client,
        ledger,
        [debit("120000", "4500.00"), credit("106100", "450.00"), credit("110000", "4050.00")],
        date="2027-06-30",
    )
    following = await balance_sheet(client, ledger, 2027)
    assert following["previous"]["year"] == 2026
    assert actif_figures(following) == {
        code: (gross, depreciation, net, net)
        for code, (gross, depreciation, net, _) in EXAMPLE_ACTIF.items()
    }
    assert amounts(following["passif"]) == {
        "CP-CAPITAL": ("10000.00", "10000.00"),
        "CP-RESERVES": ("450.00", "0.00"),
        "CP-REPORT": ("4050.00", "0.00"),
        "CP-RESULTAT": ("0.00", "4500.00"),
        "DT-EDC": ("23000.00", "23000.00"),
        "DT-FOURNISSEURS": ("1800.00", "1800.00"),
        "DT-FISCALES": ("2000.00", "2000.00"),
    }
    assert following["passif"]["total"] == {"amount": "41300.00", "previous": "41300.00"}
    assert following["actif"]["total"]["previous_net"] == "41300.00"
    income = await income_statement(client, ledger, 2027)
    assert amounts(income) == {
        code: ("0.00", amount) for code, (amount, _) in EXAMPLE_INCOME.items()
    }
    assert income["result"] == {
        "code": "RESULTAT",
        "label": "Bénéfice ou perte",
        "amount": "0.00",
        "previous": "4500.00",
    }


async def test_a_year_after_an_open_one_carries_its_balances_and_its_result(
    client: httpx.AsyncClient,
) -> None:
    ledger = await worked_example(client)
    await open_year(client, ledger, 2027)
    await post_entry(
        client, ledger, [debit("512000", "100.00"), credit("706000", "100.00")], date="2027-02-01"
    )
    sheet = await balance_sheet(client, ledger, 2027)
    passif = amounts(sheet["passif"])
    assert passif["CP-RESULTAT"] == ("100.00", "4500.00")
    # 2026 is not closed: its result has not gone through 120/129, it is shown apart.
    assert passif["CP-ANTERIEURS"] == ("4500.00", "0.00")
    assert lines(sheet["passif"])["CP-ANTERIEURS"]["label"] == (
        "Résultats antérieurs en instance d'affectation"
    )
    assert lines(sheet["actif"])["AC-DISPO"]["net"] == "28600.00"
    assert sheet["actif"]["total"] == {
        "gross": "42600.00",
        "depreciation": "1200.00",
        "net": "41400.00",
        "previous_net": "41300.00",
    }
    assert sheet["passif"]["total"] == {"amount": "41400.00", "previous": "41300.00"}
    income = await income_statement(client, ledger, 2027)
    assert amounts(income)["PE-PRODUCTION"] == ("100.00", "10000.00")


async def test_the_csv_and_the_xlsx_carry_the_same_figures(client: httpx.AsyncClient) -> None:
    ledger = await worked_example(client)
    response = await read(client, ledger, BALANCE_SHEET, 2026, accept="text/csv")
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="bilan-{ledger}-2026.csv"'
    assert response.content.startswith("\ufeff".encode())
    rows = [row.split(";") for row in response.content.decode("utf-8-sig").splitlines()]
    assert rows[0] == [
        "Partie",
        "Code",
        "Libellé",
        "Brut",
        "Amortissements et dépréciations",
        "Exercice 2026",
        "Exercice précédent",
    ]
    by_code = {row[1]: row for row in rows[1:]}
    assert by_code["AI-CORP"] == [
        "Actif",
        "AI-CORP",
        "Immobilisations corporelles",
        "6000,00",
        "1200,00",
        "4800,00",
        "",
    ]
    assert by_code["ACTIF"][3:6] == ["42500,00", "1200,00", "41300,00"]
    assert by_code["DT-EDC"] == [
        "Passif",
        "DT-EDC",
        "Emprunts et dettes auprès des établissements de crédit",
        "",
        "",
        "23000,00",
        "",
    ]
    assert by_code["PASSIF"][5] == "41300,00"
    for code, (gross, depreciation, net, _) in EXAMPLE_ACTIF.items():
        assert by_code[code][3:6] == [x.replace(".", ",") for x in (gross, depreciation, net)]
    for code, (amount, _) in EXAMPLE_PASSIF.items():
        assert by_code[code][5] == amount.replace(".", ",")

    xlsx = await read(client, ledger, BALANCE_SHEET, 2026, accept=XLSX)
    assert xlsx.headers["content-type"] == XLSX
    assert 'filename="bilan-' in xlsx.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "Bilan 2026"
    cells = {row[1]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    for code, (gross, depreciation, net, _) in EXAMPLE_ACTIF.items():
        assert cells[code][3:6] == (Decimal(gross), Decimal(depreciation), Decimal(net))
        assert cells[code][6] is None
    for code, (amount, _) in EXAMPLE_PASSIF.items():
        assert cells[code][5] == Decimal(amount)
    assert cells["ACTIF"][5] == cells["PASSIF"][5] == Decimal("41300.00")

    csv = await read(client, ledger, INCOME_STATEMENT, 2026, accept="text/csv")
    assert csv.headers["content-disposition"] == (
        f'attachment; filename="compte-de-resultat-{ledger}-2026.csv"'
    )
    rows = [row.split(";") for row in csv.content.decode("utf-8-sig").splitlines()]
    assert rows[0] == ["Code", "Libellé", "Exercice 2026", "Exercice précédent"]
    codes = [row[0] for row in rows[1:]]
    # The subtotals read where the PCG's table puts them.
    assert codes.index("RESULTAT-EXPLOITATION") == codes.index("CE") + 1
    assert codes[-1] == "RESULTAT"
    income_rows = {row[0]: row[1:] for row in rows[1:]}
    for code, (amount, _) in EXAMPLE_INCOME.items():
        assert income_rows[code][1:] == [amount.replace(".", ","), ""]
    for code, amount in EXAMPLE_RESULTS.items():
        assert income_rows[code][1] == amount.replace(".", ",")
    assert income_rows["RESULTAT"] == ["Bénéfice ou perte", "4500,00", ""]

    xlsx = await read(client, ledger, INCOME_STATEMENT, 2026, accept=XLSX)
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.active is not None
    cells = {row[0]: row for row in book.active.iter_rows(min_row=2, values_only=True)}
    for code, (amount, _) in EXAMPLE_INCOME.items():
        assert cells[code][2] == Decimal(amount)
    assert cells["RESULTAT"][2:] == (Decimal("4500.00"), None)


async def test_drafts_never_count(client: httpx.AsyncClient, ledger: str) -> None:
    await post_entry(client, ledger, [debit("512000", "50.00"), credit("706000", "50.00")])
    draft = {
        "journal": "OD",
        "date": "2026-03-01",
        "label": "Brouillon",
        "status": "draft",
        "lines": [debit("512000", "999.00"), credit("706000", "999.00")],
    }
    made = await client.post(url(ledger, "entries"), json=draft)
    assert made.status_code == 201, made.text
    sheet = await balance_sheet(client, ledger, 2026)
    assert lines(sheet["actif"])["AC-DISPO"]["net"] == "50.00"
    assert lines(sheet["passif"])["CP-RESULTAT"]["amount"] == "50.00"
    income = await income_statement(client, ledger, 2026)
    assert income["result"]["amount"] == "50.00"


async def test_what_the_layout_does_not_place_goes_to_a_catch_all_line(
    client: httpx.AsyncClient, ledger: str
) -> None:
    # A cash account in credit, and an entry that mixes off-balance-sheet class 8 with the
    # books: neither has a line of its own, and neither unbalances the sheet.
    await post_entry(client, ledger, [debit("512000", "70.00"), credit("530000", "70.00")])
    await post_entry(client, ledger, [debit("801", "25.00"), credit("101000", "25.00")])
    sheet = await balance_sheet(client, ledger, 2026)
    actif, passif = lines(sheet["actif"]), lines(sheet["passif"])
    assert (actif["AX-AUTRES"]["net"], actif["AX-AUTRES"]["accounts"]) == ("25.00", ["801"])
    assert (passif["PX-AUTRES"]["amount"], passif["PX-AUTRES"]["accounts"]) == (
        "70.00",
        ["530000"],
    )
    assert sheet["actif"]["total"]["net"] == sheet["passif"]["total"]["amount"] == "95.00"


async def test_an_unknown_or_malformed_fiscal_year_is_refused(
    client: httpx.AsyncClient, ledger: str
) -> None:
    for report in (BALANCE_SHEET, INCOME_STATEMENT):
        path = url(ledger, report)
        assert_problem(
            await client.get(path, params={"fiscal_year": "2031"}), 404, "fiscal-year-not-found"
        )
        assert_problem(
            await client.get(path, params={"fiscal_year": "2025"}), 404, "fiscal-year-not-found"
        )
        for bad in ("2026.0", "deux", "+2026", " 2026", "1800"):
            assert_problem(
                await client.get(path, params={"fiscal_year": bad}), 422, "validation-error"
            )
        assert_problem(await client.get(path), 422, "validation-error")
        assert_problem(
            await client.get(url("nope", report), params={"fiscal_year": "2026"}),
            404,
            "ledger-not-found",
        )


async def test_a_viewer_key_reads_the_statements(
    app: FastAPI, anon_client: httpx.AsyncClient, ledger: str
) -> None:
    key = await issue_key(app, "viewer", "statements-viewer")
    for report in (BALANCE_SHEET, INCOME_STATEMENT):
        path, params = url(ledger, report), {"fiscal_year": "2026"}
        response = await anon_client.get(path, params=params, headers=bearer(key))
        assert response.status_code == 200, response.text
        assert_problem(await anon_client.get(path, params=params), 401, "unauthorized")


# Accounts of the seeded chart, of every class 1 to 7, among them the ones whose side depends
# on their balance (40, 41, 42-47, 51), depreciation accounts and the result's 120/129.
ACCOUNTS = [
    "101000", "104", "106100", "109", "110000", "119000", "120000", "129000", "131", "145",
    "151", "164000", "1688", "169", "201", "2154", "218300", "231", "261", "269", "279",
    "280500", "281830", "2961", "31", "391", "401000", "404000", "409100", "411000", "419100",
    "421000", "431000", "445660", "445710", "455000", "467000", "476", "477", "481", "486000",
    "487000", "491", "4951", "503", "512000", "5121", "519", "530000", "590",
    "601000", "603100", "6037", "607000", "613200", "625100", "635100", "641100", "645100",
    "651", "661100", "666000", "678000", "681100", "686", "687", "691", "695000",
    "701000", "706000", "707000", "7097", "713", "721", "741000", "758000", "761000",
    "766000", "778000", "781100", "786", "787",
]  # fmt: skip

MOVES = st.lists(
    st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(ACCOUNTS), st.integers(1, 10**7)),
    max_size=6,
)


def figures(sheet: dict[str, Any], income: dict[str, Any]) -> dict[str, Any]:
    """Every amount a reader sees in the year's statements, by line, without the accounts."""
    return {
        "actif": {
            c: (x["gross"], x["depreciation"], x["net"]) for c, x in lines(sheet["actif"]).items()
        },
        "passif": {c: x["amount"] for c, x in lines(sheet["passif"]).items()},
        "income": {c: x["amount"] for c, x in lines(income).items()},
        "results": {r["code"]: r["amount"] for r in income["results"]},
    }


def previous_figures(sheet: dict[str, Any], income: dict[str, Any]) -> dict[str, Any]:
    """The previous year's column of the statements, in the shape of `figures`' nets."""
    return {
        "actif": {c: x["previous_net"] for c, x in lines(sheet["actif"]).items()},
        "passif": {c: x["previous"] for c, x in lines(sheet["passif"]).items()},
        "income": {c: x["previous"] for c, x in lines(income).items()},
        "results": {r["code"]: r["previous"] for r in income["results"]},
    }


def assert_consistent(sheet: dict[str, Any], income: dict[str, Any]) -> None:
    assert sheet["actif"]["total"]["net"] == sheet["passif"]["total"]["amount"]
    assert sheet["actif"]["total"]["previous_net"] == sheet["passif"]["total"]["previous"]
    result = lines(sheet["passif"])["CP-RESULTAT"]
    assert income["result"]["amount"] == result["amount"]
    assert income["result"]["previous"] == result["previous"]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(MOVES, MOVES, st.booleans(), st.booleans())
async def test_totals_are_equal_and_the_result_is_one_on_random_books(
    app: FastAPI,
    client: httpx.AsyncClient,
    year_moves: list[tuple[str, str, int]],
    next_moves: list[tuple[str, str, int]],
    sealed: bool,
    closed_first: bool,
) -> None:
    code = f"p{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    await open_year(client, code, 2027)
    for day, moves in (("2026-06-30", year_moves), ("2027-03-31", next_moves)):
        for debited, credited, cents in moves:
            if debited != credited:
                amount = f"{Decimal(cents).scaleb(-2):.2f}"
                await post_entry(
                    client, code, [debit(debited, amount), credit(credited, amount)], date=day
                )
    if closed_first:
        closing = await client.post(url(code, "fiscal-years", "2026", "close"))
        assert closing.status_code == 200, closing.text
    if sealed:
        await seal(app)

    async def statements(year: int) -> tuple[dict[str, Any], dict[str, Any]]:
        sheet, income = (
            await balance_sheet(client, code, year),
            await income_statement(client, code, year),
        )
        assert_consistent(sheet, income)
        return sheet, income

    first, following = await statements(2026), await statements(2027)
    assert previous_figures(*first) == {
        part: dict.fromkeys(amounts, None) for part, amounts in figures(*first).items()
    }
    nets = figures(*first)
    nets["actif"] = {c: net for c, (_, _, net) in nets["actif"].items()}
    assert previous_figures(*following) == nets
    if closed_first:
        return
    # Closing 2026 changes neither year's statements: it only books 2026's result in 120/129,
    # which 2027 reads from its opening entry where it read 2026's classes 6 and 7 before.
    closing = await client.post(url(code, "fiscal-years", "2026", "close"))
    assert closing.status_code == 200, closing.text
    assert figures(*await statements(2026)) == figures(*first)
    assert figures(*await statements(2027)) == figures(*following)
