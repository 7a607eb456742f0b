"""Entries as CSV: the export a spreadsheet opens, and the import that reads it back, all of a
file or nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import assert_problem
from tests.entry.helpers import new_ledger, url
from tests.exchange.support import books

HEADER = (
    "entry;journal;date;document_date;label;reference;account;third_party;line_label;debit;credit"
)


async def export(client: httpx.AsyncClient, ledger: str, **params: str) -> str:
    response = await client.get(url(ledger, "exports", "entries"), params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    return response.content.decode("utf-8-sig")


async def send(client: httpx.AsyncClient, ledger: str, text: str, **params: str) -> httpx.Response:
    return await client.post(
        url(ledger, "imports", "csv"),
        content=text.encode("utf-8"),
        params=params,
        headers={"Content-Type": "text/csv"},
    )


async def fresh(client: httpx.AsyncClient, *parties: tuple[str, str, str]) -> str:
    code = f"v{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code, fiscal_year_start="2025-01-01")
    for party, name, kind in parties:
        body = {"code": party, "name": name, "kind": kind}
        assert (await client.post(url(code, "third-parties"), json=body)).status_code == 201
    return code


async def trial_balance(client: httpx.AsyncClient, ledger: str) -> Any:
    return (await client.get(url(ledger, "trial-balance"))).json()


async def entries_of(client: httpx.AsyncClient, ledger: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await client.get(url(ledger, "entries"))).json()["items"]
    return items


PARTIES = (("DUPONT", "Dupont & Fils", "customer"), ("MARTIN", "Martin Frères", "supplier"))


async def test_the_entries_export_reads_back_into_the_same_books(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    source = await books(client)
    text = await export(client, source)
    rows = text.split("\r\n")
    assert rows[0] == HEADER
    invoice = [r for r in rows if ";F-001;" in r]
    assert invoice[0].split(";")[1:] == [
        "VE",
        "10/03/2025",
        "09/03/2025",
        "Facture F-001 — œuvre d’art",
        "F-001",
        "411000",
        "DUPONT",
        "",
        "1200,00",
        "",
    ]
    assert invoice[1].split(";")[-3:] == ["Vente", "", "1000,00"]
    assert len(rows) == 1 + 11 + 1  # header, 11 lines, the last line's end

    target = await fresh(client, *PARTIES)
    response = await send(client, target, text)
    assert response.status_code == 201, response.text
    assert (response.json()["entries"], response.json()["lines"]) == (5, 11)
    tb_source, tb_target = await trial_balance(client, source), await trial_balance(client, target)
    assert tb_target["items"] == tb_source["items"]
    # Read back, the target exports the same rows but for the entry ids.
    again = (await export(client, target)).split("\r\n")
    assert [r.split(";", 1)[1] for r in again[1:-1]] == [r.split(";", 1)[1] for r in rows[1:-1]]


async def test_an_entries_export_takes_a_range(app: FastAPI, client: httpx.AsyncClient) -> None:
    source = await books(client)
    text = await export(client, source, **{"from": "2025-04-01", "to": "2025-05-31"})
    dates = {row.split(";")[2] for row in text.split("\r\n")[1:-1]}
    assert dates == {"02/04/2025", "20/05/2025"}
    response = await client.get(
        url(source, "exports", "entries"), params={"from": "2025-05-01", "to": "2025-04-01"}
    )
    assert_problem(response, 422, "invalid-date-range")


def csv_file(*rows: str) -> str:
    return "\r\n".join([HEADER, *rows]) + "\r\n"


async def test_a_file_with_a_bad_row_is_refused_whole_with_every_row(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    target = await fresh(client, *PARTIES)
    text = csv_file(
        "e1;VE;10/03/2025;;Facture;F-1;411000;DUPONT;;100,00;",  # 2
        "e1;VE;10/03/2025;;Facture;F-1;706000;;;;100,00",  # 3
        "e2;VE;31/02/2025;;Facture;F-2;411000;;;5,00;",  # 4: no 31 February
        "e2;VE;28/02/2025;;Facture;F-2;706000;;;;5.00",  # 5: a point
        "e3;OD;2025-03-01;;Virement;;512000;;;10,00;10,00",  # 6: both sides
        "e4;OD;2025-03-01;;Virement;;512000;;;10,00;",  # 7
        "e4;OD;2025-03-02;;Virement;;580000;;;;10,00",  # 8: another date than line 7
    )
    body = assert_problem(await send(client, target, text), 422, "import-refused")
    assert [p["line"] for p in body["problems"]] == [4, 5, 6, 8]
    assert "date" in body["problems"][3]["reason"]
    # Once every row reads, what posting checks is named by each entry's first row.
    text = csv_file(
        "e1;VE;10/03/2025;;Facture;F-1;411000;DUPONT;;100,00;",  # 2
        "e1;VE;10/03/2025;;Facture;F-1;706000;;;;99,00",  # 3: unbalanced
        "e2;OD;01/03/2025;;Virement;;512000;;;10,00;",  # 4
        "e2;OD;01/03/2025;;Virement;;999999;;;;10,00",  # 5: no such account
        "e3;OD;01/03/2025;;Virement;;512000;;;1,00;",  # 6
        "e3;OD;01/03/2025;;Virement;;580000;;;;1,00",  # 7: fine
    )
    body = assert_problem(await send(client, target, text), 422, "import-refused")
    assert [p["line"] for p in body["problems"]] == [2, 4]
    assert "999999" in body["problems"][1]["reason"]
    assert await entries_of(client, target) == []
    assert_problem(await send(client, target, "journal;date\r\n"), 422, "import-refused")


async def test_a_dry_run_posts_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    target = await fresh(client)
    text = csv_file(
        "a;OD;01/03/2025;;Virement interne;VI-1;512000;;;1,00;",
        "a;OD;01/03/2025;;Virement interne;VI-1;580000;;Transit;;1,00",
    )
    response = await send(client, target, text, dry_run="true")
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True
    assert await entries_of(client, target) == []
    response = await send(client, target, text)
    assert response.status_code == 201, response.text
    (entry,) = await entries_of(client, target)
    assert (entry["reference"], entry["lines"][1]["label"]) == ("VI-1", "Transit")
