"""Third parties (auxiliary accounts) and the lines that name them, on both databases."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import assert_problem
from tests.entry.helpers import balances, credit, debit, new_ledger, snapshot, url, walk

# Real, valid identifiers (check digits included): a SIREN and the French VAT number built on it.
SIREN = "732829320"
VAT = "FR44732829320"


async def make_party(
    client: httpx.AsyncClient, ledger: str, code: str, kind: str = "customer", **extra: Any
) -> dict[str, Any]:
    body = {"code": code, "name": f"Tiers {code}", "kind": kind, **extra}
    response = await client.post(url(ledger, "third-parties"), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def post(
    client: httpx.AsyncClient, ledger: str, lines: list[dict[str, Any]], **extra: Any
) -> httpx.Response:
    body = {"journal": "VE", "date": "2026-03-10", "label": "Facture", "lines": lines, **extra}
    return await client.post(url(ledger, "entries"), json=body)


def sale(
    party: str | None, amount: str = "120.00", account: str = "411000"
) -> list[dict[str, Any]]:
    line = debit(account, amount)
    if party is not None:
        line["third_party"] = party
    return [line, credit("706000", amount)]


# -- the third parties themselves -------------------------------------------------------------


async def test_a_customer_goes_under_411000_and_a_supplier_under_401000(
    client: httpx.AsyncClient, ledger: str
) -> None:
    response = await client.post(
        url(ledger, "third-parties"),
        json={
            "code": "DUPONT",
            "name": "Dupont SARL",
            "kind": "customer",
            "siren": SIREN,
            "vat_number": VAT,
        },
    )
    assert response.status_code == 201, response.text
    customer = response.json()
    assert response.headers["location"] == f"/api/v1/ledgers/{ledger}/third-parties/DUPONT"
    assert {k: v for k, v in customer.items() if k != "created_at"} == {
        "code": "DUPONT",
        "name": "Dupont SARL",
        "kind": "customer",
        "account": "411000",
        "siren": SIREN,
        "vat_number": VAT,
        "payment_terms_days": 30,
    }
    supplier = await make_party(client, ledger, "MARTIN", "supplier")
    assert supplier["account"] == "401000"
    marked = await client.patch(url(ledger, "accounts", "421000"), json={"collective": True})
    assert marked.status_code == 200, marked.text
    staff = await make_party(client, ledger, "DURAND", "other", account="421000")
    assert staff["account"] == "421000"

    assert (await client.get(url(ledger, "third-parties", "DUPONT"))).json() == customer
    every, _ = await walk(client, url(ledger, "third-parties"), limit=2)
    assert [p["code"] for p in every] == ["DUPONT", "DURAND", "MARTIN"]
    suppliers, _ = await walk(client, url(ledger, "third-parties"), kind="supplier")
    assert [p["code"] for p in suppliers] == ["MARTIN"]


async def test_a_third_party_is_refused_when_ambiguous_or_invalid(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await make_party(client, ledger, "TAKEN")
    path = url(ledger, "third-parties")
    refusals = [
        (
            {"code": "BAD", "name": "x", "kind": "customer", "siren": "732829321"},
            422,
            "invalid-identifier",
        ),
        (
            {"code": "BAD", "name": "x", "kind": "customer", "siren": "732 829 320"},
            422,
            "validation-error",
        ),
        (
            {"code": "BAD", "name": "x", "kind": "customer", "vat_number": "FR00732829320"},
            422,
            "invalid-identifier",
        ),
        (
            {
                "code": "BAD",
                "name": "x",
                "kind": "customer",
                "siren": "552100554",
                "vat_number": VAT,
            },
            422,
            "invalid-identifier",
        ),
        ({"code": "BAD", "name": "x", "kind": "other"}, 422, "validation-error"),
        ({"code": "BAD", "name": "x", "kind": "client"}, 422, "validation-error"),
        ({"code": "bad", "name": "x", "kind": "customer"}, 422, "validation-error"),
        (
            {"code": "BAD", "name": "x", "kind": "customer", "account": None},
            422,
            "validation-error",
        ),
        (
            {"code": "BAD", "name": "x", "kind": "other", "account": "706000"},
            422,
            "not-a-collective-account",
        ),
        (
            {"code": "BAD", "name": "x", "kind": "other", "account": "467999"},
            422,
            "unknown-account",
        ),
        ({"code": "TAKEN", "name": "x", "kind": "customer"}, 409, "third-party-exists"),
    ]
    for body, status, type_ in refusals:
        assert_problem(await client.post(path, json=body), status, type_)
    codes = [p["code"] for p in (await walk(client, path))[0]]
    assert codes == ["TAKEN"]
    assert_problem(
        await client.get(url(ledger, "third-parties", "NOBODY")), 404, "third-party-not-found"
    )


async def test_a_third_party_is_renamed_and_its_identifiers_cleared(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await make_party(client, ledger, "DUPONT", siren=SIREN)
    path = url(ledger, "third-parties", "DUPONT")
    changed = await client.patch(path, json={"name": "Dupont & Fils", "siren": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["siren"]) == ("Dupont & Fils", None)
    assert (await client.get(path)).json() == changed.json()
    assert_problem(await client.patch(path, json={}), 422, "validation-error")
    assert_problem(await client.patch(path, json={"kind": "supplier"}), 422, "validation-error")


async def test_payment_terms_are_set_and_changed_from_0_to_365_days(
    client: httpx.AsyncClient, ledger: str
) -> None:
    net45 = await make_party(client, ledger, "NET45", payment_terms_days=45)
    cash = await make_party(client, ledger, "CASH", payment_terms_days=0)
    assert (net45["payment_terms_days"], cash["payment_terms_days"]) == (45, 0)
    path = url(ledger, "third-parties", "NET45")
    changed = await client.patch(path, json={"payment_terms_days": 60})
    assert changed.status_code == 200, changed.text
    assert changed.json()["payment_terms_days"] == 60
    assert (await client.get(path)).json() == changed.json()
    for bad in (-1, 366, "30", None, True, 30.5):
        assert_problem(
            await client.patch(path, json={"payment_terms_days": bad}), 422, "validation-error"
        )
        body = {"code": "BAD", "name": "x", "kind": "customer", "payment_terms_days": bad}
        assert_problem(
            await client.post(url(ledger, "third-parties"), json=body), 422, "validation-error"
        )
    assert (await client.get(path)).json()["payment_terms_days"] == 60
    assert_problem(
        await client.get(url(ledger, "third-parties", "BAD")), 404, "third-party-not-found"
    )


async def test_only_42x_to_46x_accounts_are_marked_collective(
    client: httpx.AsyncClient, ledger: str
) -> None:
    marked = await client.patch(url(ledger, "accounts", "467000"), json={"collective": True})
    assert marked.status_code == 200, marked.text
    assert marked.json()["collective"] is True
    await make_party(client, ledger, "ASSOC", "other", account="467000")
    unmark = await client.patch(url(ledger, "accounts", "467000"), json={"collective": False})
    assert_problem(unmark, 409, "account-in-use")
    for number, flag in (("706000", True), ("411000", False), ("512000", True)):
        response = await client.patch(url(ledger, "accounts", number), json={"collective": flag})
        assert_problem(response, 422, "invalid-collective")
    assert (await client.get(url(ledger, "accounts", "411000"))).json()["collective"] is True


# -- lines that name them ---------------------------------------------------------------------


async def test_a_line_on_a_collective_account_names_its_third_party(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await make_party(client, ledger, "DUPONT")
    posted = await post(client, ledger, sale("DUPONT"))
    assert posted.status_code == 201, posted.text
    assert [line["third_party"] for line in posted.json()["lines"]] == ["DUPONT", None]
    again = (await client.get(url(ledger, "entries", posted.json()["id"]))).json()
    assert again["lines"] == posted.json()["lines"]
    reversal = await client.post(url(ledger, "entries", posted.json()["id"], "reverse"))
    assert reversal.status_code == 201, reversal.text
    assert [line["third_party"] for line in reversal.json()["lines"]] == ["DUPONT", None]


async def test_a_line_naming_a_third_party_wrongly_is_refused(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await make_party(client, ledger, "DUPONT")
    await make_party(client, ledger, "MARTIN", "supplier")
    before = await snapshot(client, ledger)
    unknown = await post(client, ledger, sale("NOBODY"))
    assert assert_problem(unknown, 422, "unknown-third-party")["third_parties"] == ["NOBODY"]
    on_revenue = [debit("411000", "1.00"), {**credit("706000", "1.00"), "third_party": "DUPONT"}]
    problem = assert_problem(
        await post(client, ledger, on_revenue), 422, "not-a-collective-account"
    )
    assert problem["line"] == 1
    supplier_on_customers = await post(client, ledger, sale("MARTIN"))
    assert_problem(supplier_on_customers, 422, "third-party-account-mismatch")
    for bad in ("dupont", "", 12):
        lines = sale(None)
        lines[0]["third_party"] = bad
        assert_problem(await post(client, ledger, lines), 422, "validation-error")
    assert await snapshot(client, ledger) == before


async def test_a_ledger_may_require_the_third_party_on_collective_lines(
    client: httpx.AsyncClient,
) -> None:
    code = f"p{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    await make_party(client, code, "DUPONT")
    assert (await post(client, code, sale(None))).status_code == 201
    required = await client.patch(f"/api/v1/ledgers/{code}", json={"third_party_required": True})
    assert required.status_code == 200, required.text
    assert required.json()["third_party_required"] is True
    before = await snapshot(client, code)
    # Twice: the second time the one-statement path (PostgreSQL) knows the ledger already.
    for _ in range(2):
        refused = await post(client, code, sale(None))
        assert assert_problem(refused, 422, "third-party-required")["line"] == 0
    assert await snapshot(client, code) == before
    assert (await post(client, code, sale("DUPONT"))).status_code == 201
    # Lines on other accounts need none.
    cash = [debit("512000", "5.00"), credit("706000", "5.00")]
    assert (await post(client, code, cash, journal="BQ")).status_code == 201


# -- balances per third party -----------------------------------------------------------------


async def test_balances_per_third_party_sum_to_the_collective_account(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await make_party(client, ledger, "DUPONT")
    await make_party(client, ledger, "DURAND")
    for lines in (sale("DUPONT", "120.00"), sale("DURAND", "80.00"), sale(None, "10.00")):
        assert (await post(client, ledger, lines)).status_code == 201
    payment = [debit("512000", "50.00"), {**credit("411000", "50.00"), "third_party": "DUPONT"}]
    assert (await post(client, ledger, payment, journal="BQ", date="2026-04-02")).status_code == 201

    report = (await client.get(url(ledger, "third-party-balance"))).json()
    rows = {(r["account"], r["third_party"]): r["balance"] for r in report["items"]}
    assert rows == {
        ("411000", None): "10.00",
        ("411000", "DUPONT"): "70.00",
        ("411000", "DURAND"): "80.00",
    }
    assert (await balances(client, ledger))["411000"] == "160.00"
    march = (
        await client.get(url(ledger, "third-party-balance"), params={"to": "2026-03-31"})
    ).json()
    assert {r["third_party"]: r["balance"] for r in march["items"]}["DUPONT"] == "120.00"

    dupont = (await client.get(url(ledger, "third-parties", "DUPONT", "balance"))).json()
    assert (dupont["debit"], dupont["credit"], dupont["balance"]) == ("120.00", "50.00", "70.00")
    as_of = await client.get(
        url(ledger, "third-parties", "DUPONT", "balance"), params={"as_of": "2026-03-31"}
    )
    assert as_of.json()["balance"] == "120.00"

    gl = (
        await client.get(
            url(ledger, "accounts", "411000", "ledger"),
            params={"third_party": "DUPONT", "limit": 1},
        )
    ).json()
    assert [item["balance"] for item in gl["items"]] == ["120.00"]
    assert gl["closing_balance"] == "70.00"
    rest = (
        await client.get(
            url(ledger, "accounts", "411000", "ledger"),
            params={"third_party": "DUPONT", "cursor": gl["next_cursor"]},
        )
    ).json()
    assert [item["balance"] for item in rest["items"]] == ["70.00"]
    missing = await client.get(
        url(ledger, "accounts", "411000", "ledger"), params={"third_party": "NOBODY"}
    )
    assert_problem(missing, 404, "third-party-not-found")


PARTIES = ["A", "B", "C"]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from([*PARTIES, None]), st.integers(1, 10**6), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
async def test_the_third_parties_of_a_collective_account_sum_to_its_balance(
    client: httpx.AsyncClient, postings: list[tuple[str | None, int, bool]]
) -> None:
    code = f"p{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    for party in PARTIES:
        await make_party(client, code, party)
    expected: dict[str | None, int] = {}
    for party, cents, is_sale in postings:
        amount = f"{Decimal(cents).scaleb(-2):.2f}"
        line = debit("411000", amount) if is_sale else credit("411000", amount)
        if party is not None:
            line["third_party"] = party
        other = credit("706000", amount) if is_sale else debit("512000", amount)
        assert (await post(client, code, [line, other])).status_code == 201
        expected[party] = expected.get(party, 0) + (cents if is_sale else -cents)

    report = (await client.get(url(code, "third-party-balance"))).json()
    found = {r["third_party"]: round(Decimal(r["balance"]) * 100) for r in report["items"]}
    assert found == expected
    total = sum(expected.values())
    assert round(Decimal((await balances(client, code))["411000"]) * 100) == total
    assert round(Decimal(report["totals"]["balance"]) * 100) == total


async def test_an_account_with_third_parties_is_not_deleted(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await make_party(client, ledger, "KEPT")
    response = await client.delete(url(ledger, "accounts", "411000"))
    assert_problem(response, 409, "account-in-use")
    assert (await client.get(url(ledger, "third-parties", "KEPT"))).status_code == 200
