"""The FEC import: how a company arrives from other software, all of its year or nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from grandlivre.exchange import importer
from tests.conftest import assert_problem
from tests.entry.helpers import credit, debit, new_ledger, url, walk
from tests.exchange.fec_checker import FEC_COLUMNS, assert_valid_fec
from tests.exchange.support import SIREN, Y2025, books, party, post
from tests.sealer.support import seal


async def export(client: httpx.AsyncClient, ledger: str, year: int) -> bytes:
    response = await client.get(url(ledger, "exports", "fec"), params={"fiscal_year": str(year)})
    assert response.status_code == 200, response.text
    return response.content


async def empty_ledger(client: httpx.AsyncClient, start: str = "2025-01-01") -> str:
    code = f"i{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code, fiscal_year_start=start)
    assert (await client.patch(url(code), json={"siren": SIREN})).status_code == 200
    return code


async def send(
    client: httpx.AsyncClient, ledger: str, content: bytes, **params: str
) -> httpx.Response:
    return await client.post(
        url(ledger, "imports", "fec"),
        content=content,
        params=params,
        headers={"Content-Type": "text/plain; charset=iso-8859-15"},
    )


async def trial_balance(client: httpx.AsyncClient, ledger: str, **params: str) -> Any:
    response = await client.get(url(ledger, "trial-balance"), params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["items"], body["totals"]


async def entries_of(client: httpx.AsyncClient, ledger: str) -> list[dict[str, Any]]:
    response = await client.get(url(ledger, "entries"), params={"limit": "500"})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_export_import_export_gives_the_same_file_and_the_same_books(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    source = await books(client)
    await seal(app)
    original = await export(client, source, 2025)

    target = await empty_ledger(client)
    response = await send(client, target, original)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["dry_run"] is False
    assert (report["entries"], report["lines"]) == (5, 11)
    # The PCG chart had every account and journal; the third parties come from the file.
    assert report["accounts_created"] == []
    assert report["journals_created"] == []
    assert sorted(report["third_parties_created"]) == ["DUPONT", "MARTIN"]
    await seal(app)
    assert await export(client, target, 2025) == original
    range_2025 = {"from": "2025-01-01", "to": "2025-12-31"}
    assert await trial_balance(client, target, **range_2025) == await trial_balance(
        client, source, **range_2025
    )
    parties = (await client.get(url(target, "third-parties"))).json()["items"]
    assert {(p["code"], p["name"], p["account"]) for p in parties} == {
        ("DUPONT", "Dupont & Fils", "411000"),
        ("MARTIN", "Martin Frères", "401000"),
    }
    # Imported entries are validated on the file's ValidDate, numbered as in the file.
    entries = await entries_of(client, target)
    assert {e["status"] for e in entries} == {"posted"}
    assert sorted((e["journal"], e["number"]) for e in entries) == [
        ("AC", 1),
        ("BQ", 1),
        ("BQ", 2),
        ("OD", 1),
        ("VE", 1),
    ]


async def test_the_year_after_a_closing_comes_in_with_its_opening(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    source = await books(client)
    listed = await client.get(url(source, "entries"), params={"status": "draft"})
    for entry in listed.json()["items"]:
        await client.delete(url(source, "entries", entry["id"]))
    assert (await client.post(url(source, "fiscal-years", "2025", "close"))).status_code == 200
    await post(
        client,
        source,
        journal="VE",
        date="2026-02-01",
        label="Facture 2026",
        lines=[party(debit("411000", "60.00"), "DUPONT"), credit("706000", "60.00")],
    )
    await seal(app)
    original = await export(client, source, 2026)
    target = await empty_ledger(client, start="2026-01-01")
    response = await send(client, target, original)
    assert response.status_code == 201, response.text
    await seal(app)
    assert await export(client, target, 2026) == original
    range_2026 = {"from": "2026-01-01", "to": "2026-12-31"}
    assert await trial_balance(client, target, **range_2026) == await trial_balance(
        client, source, **range_2026
    )


async def test_a_dry_run_checks_everything_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    source = await books(client)
    await seal(app)
    original = await export(client, source, 2025)
    target = await empty_ledger(client)
    response = await send(client, target, original, dry_run="true")
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True
    assert response.json()["entries"] == 5
    assert await entries_of(client, target) == []
    assert (await client.get(url(target, "third-parties"))).json()["items"] == []
    # And then for real.
    assert (await send(client, target, original)).status_code == 201


def fec_text(rows: list[dict[str, str]]) -> bytes:
    lines = ["|".join(FEC_COLUMNS)] + ["|".join(row[c] for c in FEC_COLUMNS) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("iso-8859-15")


def row(**fields: str) -> dict[str, str]:
    base = dict.fromkeys(FEC_COLUMNS, "")
    base.update(
        JournalCode="VE",
        JournalLib="Ventes",
        EcritureNum="1",
        EcritureDate="20250110",
        PieceRef="F-1",
        PieceDate="20250110",
        EcritureLib="Facture",
        ValidDate="20250111",
        Debit="0,00",
        Credit="0,00",
    )
    base.update(fields)
    return base


async def test_what_the_chart_lacks_is_opened_from_the_file(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    target = await empty_ledger(client)
    content = fec_text(
        [
            row(
                JournalCode="VT",
                JournalLib="Ventes export",
                CompteNum="411000",
                CompteLib="Clients",
                CompAuxNum="C0042",
                CompAuxLib="Société Générale des Œufs",
                Debit="100,00",
            ),
            row(
                JournalCode="VT",
                JournalLib="Ventes export",
                CompteNum="706100",
                CompteLib="Ventes export hors UE",
                Credit="100,00",
            ),
            row(
                JournalCode="OD",
                JournalLib="Opérations diverses",
                EcritureNum="1",
                EcritureDate="20250201",
                PieceRef="OD-1",
                PieceDate="20250201",
                ValidDate="20250201",
                CompteNum="467100",
                CompteLib="Débiteurs divers",
                CompAuxNum="ASSOC",
                CompAuxLib="Associé",
                Debit="12,34",
            ),
            row(
                JournalCode="OD",
                JournalLib="Opérations diverses",
                EcritureNum="1",
                EcritureDate="20250201",
                PieceRef="OD-1",
                PieceDate="20250201",
                ValidDate="20250201",
                CompteNum="512000",
                CompteLib="Banques",
                Credit="12,34",
            ),
        ]
    )
    response = await send(client, target, content)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["journals_created"] == ["VT"]
    assert sorted(report["accounts_created"]) == ["467100", "706100"]
    assert report["collective_marked"] == ["467100"]
    assert sorted(report["third_parties_created"]) == ["ASSOC", "C0042"]
    account = (await client.get(url(target, "accounts", "706100"))).json()
    assert account["name"] == "Ventes export hors UE"
    customer = (await client.get(url(target, "third-parties", "C0042"))).json()
    assert (customer["name"], customer["kind"], customer["account"]) == (
        "Société Générale des Œufs",
        "customer",
        "411000",
    )
    other = (await client.get(url(target, "third-parties", "ASSOC"))).json()
    assert (other["kind"], other["account"]) == ("other", "467100")
    entries = await entries_of(client, target)
    validated = {e["journal"]: e["validated_at"] for e in entries}
    # ValidDate is a day in Paris: midnight there, 23:00 UTC the day before in winter.
    assert validated == {"VT": "2025-01-10T23:00:00Z", "OD": "2025-01-31T23:00:00Z"}


async def test_a_file_that_breaks_rules_is_refused_whole_with_every_line(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    target = await empty_ledger(client)
    rows = [
        row(CompteNum="411000", CompteLib="Clients", Debit="100,00"),  # line 2
        row(CompteNum="706000", CompteLib="Prestations", Credit="100,00"),  # line 3
        row(
            EcritureNum="2",
            EcritureDate="20251301",
            CompteNum="411000",
            CompteLib="Clients",
            Debit="5,00",
        ),  # line 4: no 13th month
        row(
            EcritureNum="2", CompteNum="706000", CompteLib="Prestations", Credit="5.00"
        ),  # line 5: a point
        row(EcritureNum="3", CompteNum="411000", CompteLib="Clients", Debit="10,00"),  # 6
        row(
            EcritureNum="3", CompteNum="706000", CompteLib="Prestations", Credit="9,00"
        ),  # line 7: entry 3 does not balance
        row(EcritureNum="4", CompteNum="9999", CompteLib="Hors plan", Debit="1,00"),  # 8
        row(
            EcritureNum="4",
            CompteNum="706000",
            CompteLib="Prestations",
            Credit="1,00",
            CompAuxNum="X",
        ),  # line 9: a code without its name
        row(
            EcritureNum="5", CompteNum="411000", CompteLib="Clients", Debit="1,00", Credit="1,00"
        ),  # line 10: both sides
        row(
            EcritureNum="5",
            CompteNum="706000",
            CompteLib="Prestations",
            Credit="1,00",
            Idevise="USD",
            Montantdevise="1,10",
        ),  # line 11: another currency
    ]
    before, _ = await walk(client, url(target, "accounts"), limit=500)
    response = await send(client, target, fec_text(rows))
    body = assert_problem(response, 422, "import-refused")
    lines = [p["line"] for p in body["problems"]]
    assert lines == [4, 5, 8, 9, 10, 11]
    assert "EcritureDate '20251301' is not a date AAAAMMJJ" in body["problems"][0]["reason"]
    assert body["count"] == 6
    # Line 7's imbalance shows once the lines can be read: fix the others, and it is named.
    fixed = [rows[i] for i in (0, 1, 4, 5)]
    response = await send(client, target, fec_text(fixed))
    body = assert_problem(response, 422, "import-refused")
    assert [p["line"] for p in body["problems"]] == [4]
    assert "differ" in body["problems"][0]["reason"]
    assert await entries_of(client, target) == []
    after, _ = await walk(client, url(target, "accounts"), limit=500)
    assert after == before


async def test_an_import_needs_an_empty_ledger_and_a_file(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    source = await books(client)
    await seal(app)
    original = await export(client, source, 2025)
    assert_problem(await send(client, source, original), 409, "ledger-not-empty")
    target = await empty_ledger(client)
    response = await client.post(
        url(target, "imports", "fec"),
        content=original,
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 415, "unsupported-media-type")
    response = await client.post(
        url(target, "imports", "fec"), content=original, headers={"Content-Type": "image/png"}
    )
    assert_problem(response, 415, "unsupported-media-type")
    body = assert_problem(
        await send(client, target, b"JournalCode;JournalLib\r\n"), 422, "import-refused"
    )
    assert body["problems"][0]["line"] == 1
    body = assert_problem(
        await send(client, target, original.decode("iso-8859-15").encode("utf-8")),
        422,
        "import-refused",
    )
    assert body["problems"][0]["line"] == 0
    assert await entries_of(client, target) == []


async def test_lettering_goes_out_as_ecriturelet_and_comes_back_as_matches(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    source = await books(client)
    invoice = next(e for e in await entries_of(client, source) if e["reference"] == "F-001")
    payment = await post(
        client,
        source,
        journal="BQ",
        date="2025-06-15",
        label="Règlement F-001",
        reference="VIR-2",
        lines=[debit("512000", "1200.00"), party(credit("411000", "1200.00"), "DUPONT")],
    )
    matched = await client.post(
        url(source, "accounts", "411000", "matches"),
        json={
            "lines": [
                {"entry_id": invoice["id"], "position": 0},
                {"entry_id": payment["id"], "position": 1},
            ]
        },
    )
    assert matched.status_code == 201, matched.text
    await seal(app)
    original = await export(client, source, 2025)
    rows = assert_valid_fec(f"{SIREN}FEC20251231.txt", original, **Y2025)
    lettered = [(r["PieceRef"], r["CompteNum"], r["EcritureLet"], r["DateLet"]) for r in rows]
    assert [row for row in lettered if row[2]] == [
        ("VIR-2", "411000", "A", "20250615"),
        ("F-001", "411000", "A", "20250615"),
    ]

    target = await empty_ledger(client)
    response = await send(client, target, original)
    assert response.status_code == 201, response.text
    assert response.json()["matches"] == 1
    await seal(app)
    assert await export(client, target, 2025) == original
    live = (await client.get(url(target, "accounts", "411000", "matches"))).json()["items"]
    assert [(m["code"], m["date"], len(m["lines"])) for m in live] == [("A", "2025-06-15", 2)]


async def test_lettering_that_does_not_balance_is_refused_with_its_lines(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    target = await empty_ledger(client)
    content = fec_text(
        [
            row(
                CompteNum="411000",
                CompteLib="Clients",
                CompAuxNum="C1",
                CompAuxLib="Client",
                Debit="100,00",
                EcritureLet="A",
                DateLet="20250120",
            ),
            row(CompteNum="706000", CompteLib="Prestations", Credit="100,00"),
            row(
                JournalCode="BQ",
                JournalLib="Banque",
                EcritureDate="20250120",
                PieceDate="20250120",
                ValidDate="20250120",
                CompteNum="512000",
                CompteLib="Banques",
                Debit="90,00",
            ),
            row(
                JournalCode="BQ",
                JournalLib="Banque",
                EcritureDate="20250120",
                PieceDate="20250120",
                ValidDate="20250120",
                CompteNum="411000",
                CompteLib="Clients",
                CompAuxNum="C1",
                CompAuxLib="Client",
                Credit="90,00",
                EcritureLet="A",
                DateLet="20250120",
            ),
        ]
    )
    body = assert_problem(await send(client, target, content), 422, "import-refused")
    # The lettered lines come first by journal (BQ) in the order entries are posted.
    assert [p["line"] for p in body["problems"]] == [5]
    assert "differ by 10.00" in body["problems"][0]["reason"]
    assert await entries_of(client, target) == []


async def test_an_import_checked_and_written_a_chunk_at_a_time_is_still_all_or_nothing(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Entries are checked and written CHUNK at a time in the import's one transaction; with
    # chunks of 2, the books' 5 entries take 3, and the round trip is the same.
    monkeypatch.setattr(importer, "CHUNK", 2)
    source = await books(client)
    await seal(app)
    original = await export(client, source, 2025)
    target = await empty_ledger(client)
    response = await send(client, target, original)
    assert response.status_code == 201, response.text
    await seal(app)
    assert await export(client, target, 2025) == original

    # Entries 2 and 5 of 6 do not balance: chunk 1 would pass and be written, chunk 3 fails;
    # both are named, and nothing stays written.
    refused = await empty_ledger(client)
    rows = []
    for number in range(1, 7):
        cents = 99 if number in (2, 5) else 100
        rows += [
            row(EcritureNum=str(number), CompteNum="411000", CompteLib="Clients", Debit="1,00"),
            row(
                EcritureNum=str(number),
                CompteNum="706000",
                CompteLib="Prestations",
                Credit=f"0,{cents}" if cents < 100 else "1,00",
            ),
        ]
    body = assert_problem(await send(client, refused, fec_text(rows)), 422, "import-refused")
    assert [p["line"] for p in body["problems"]] == [4, 10]
    assert {p["reason"] for p in body["problems"]} == {
        "debits (1.00) and credits (0.99) differ by 0.01"
    }
    assert await entries_of(client, refused) == []
    response = await client.get(url(refused, "trial-balance"))
    assert response.json()["items"] == []
