"""Who may do what: no key, a wrong key, a revoked key and a too-weak role are each refused."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import assert_problem, bearer, issue_key

API = "/api/v1"
ENTRY: dict[str, Any] = {
    "journal": "OD",
    "date": "2026-01-15",
    "label": "Écriture de test",
    "lines": [{"account": "512000", "debit": "10.00"}, {"account": "101000", "credit": "10.00"}],
}


def assert_unauthorized(response: httpx.Response) -> dict[str, Any]:
    """A 401 problem that tells the client how to authenticate."""
    body = assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    return body


async def list_keys(client: httpx.AsyncClient) -> tuple[list[dict[str, Any]], str]:
    """Every key the admin can list, page after page, and the raw text of every page."""
    items: list[dict[str, Any]] = []
    texts: list[str] = []
    params: dict[str, Any] = {"limit": 500}
    while True:
        response = await client.get(f"{API}/keys", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        texts.append(response.text)
        if not page["next_cursor"]:
            return items, "".join(texts)
        params["cursor"] = page["next_cursor"]


async def count_entries(client: httpx.AsyncClient, ledger: str) -> int:
    response = await client.get(f"{API}/ledgers/{ledger}/entries", params={"limit": 500})
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


async def test_a_request_without_a_key_gets_401_with_www_authenticate(
    anon_client: httpx.AsyncClient,
) -> None:
    body = assert_unauthorized(await anon_client.get(f"{API}/ledgers"))
    assert "Authorization: Bearer" in body["detail"]


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer gl_thisisnotakeythisisnotakeythisisnotakey00000",
        "Bearer " + "x" * 300,
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer    ",
        "gl_justthekey",
    ],
    ids=["unknown-key", "oversized", "basic-scheme", "no-token", "blank-token", "no-scheme"],
)
async def test_a_wrong_or_malformed_key_gets_401(
    anon_client: httpx.AsyncClient, authorization: str
) -> None:
    response = await anon_client.get(f"{API}/ledgers", headers={"Authorization": authorization})
    assert_unauthorized(response)


async def test_a_near_miss_of_a_real_key_gets_401(
    app: FastAPI, anon_client: httpx.AsyncClient
) -> None:
    key = await issue_key(app, "viewer", "near-miss")
    near = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert (await anon_client.get(f"{API}/ledgers", headers=bearer(key))).status_code == 200
    assert_unauthorized(await anon_client.get(f"{API}/ledgers", headers=bearer(near)))
    assert_unauthorized(await anon_client.get(f"{API}/ledgers", headers=bearer(key + "x")))


async def test_a_revoked_key_gets_401(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{API}/keys", json={"name": "to-revoke", "role": "viewer"})
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]
    assert (await client.get(f"{API}/ledgers", headers=bearer(key))).status_code == 200

    revoked = await client.delete(f"{API}/keys/{key_id}")

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    body = assert_unauthorized(await client.get(f"{API}/ledgers", headers=bearer(key)))
    assert "revoked" in body["detail"]
    listed = {k["id"]: k for k in (await list_keys(client))[0]}
    assert listed[key_id]["revoked_at"] is not None


async def test_revoking_a_revoked_key_changes_nothing(client: httpx.AsyncClient) -> None:
    key_id = (await client.post(f"{API}/keys", json={"name": "twice"})).json()["id"]
    first = await client.delete(f"{API}/keys/{key_id}")
    second = await client.delete(f"{API}/keys/{key_id}")
    assert first.status_code == second.status_code == 200
    assert first.json()["revoked_at"] == second.json()["revoked_at"]


async def test_revoking_an_unknown_key_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{API}/keys/{uuid.uuid4()}")
    assert_problem(response, 404, "key-not-found")


async def test_a_viewer_may_read_but_posting_an_entry_is_403(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    viewer = bearer(await issue_key(app, "viewer", "viewer"))
    assert (await client.get(f"{API}/ledgers/{ledger}", headers=viewer)).status_code == 200
    accounts = await client.get(f"{API}/ledgers/{ledger}/accounts", headers=viewer)
    assert accounts.status_code == 200
    before = await count_entries(client, ledger)

    response = await client.post(f"{API}/ledgers/{ledger}/entries", json=ENTRY, headers=viewer)

    body = assert_problem(response, 403, "forbidden")
    assert "viewer" in body["detail"]
    assert "www-authenticate" not in response.headers
    assert await count_entries(client, ledger) == before


async def test_a_viewer_cannot_open_an_account(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    viewer = bearer(await issue_key(app, "viewer", "viewer"))
    response = await client.post(
        f"{API}/ledgers/{ledger}/accounts",
        json={"number": "411900", "name": "Client X"},
        headers=viewer,
    )
    assert_problem(response, 403, "forbidden")


async def test_an_accountant_may_post_entries_and_open_accounts(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    accountant = bearer(await issue_key(app, "accountant", "accountant"))

    entry = await client.post(f"{API}/ledgers/{ledger}/entries", json=ENTRY, headers=accountant)
    account = await client.post(
        f"{API}/ledgers/{ledger}/accounts",
        json={"number": "411901", "name": "Client Y"},
        headers=accountant,
    )

    assert entry.status_code == 201, entry.text
    assert account.status_code == 201, account.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/ledgers", {"code": "acct-denied", "name": "Nope"}),
        ("PATCH", "/ledgers/{ledger}", {"name": "Renamed"}),
        ("POST", "/ledgers/{ledger}/journals", {"code": "ZZ", "name": "Nope"}),
        ("POST", "/keys", {"name": "nope", "role": "admin"}),
        ("GET", "/keys", None),
        ("DELETE", "/keys/" + str(uuid.UUID(int=1)), None),
    ],
    ids=["create-ledger", "rename-ledger", "create-journal", "create-key", "list-keys", "revoke"],
)
async def test_an_accountant_cannot_administer(
    app: FastAPI,
    client: httpx.AsyncClient,
    ledger: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    accountant = bearer(await issue_key(app, "accountant", "accountant"))
    response = await client.request(
        method, API + path.format(ledger=ledger), json=body, headers=accountant
    )
    assert_problem(response, 403, "forbidden")
    assert (await client.get(f"{API}/ledgers/acct-denied")).status_code == 404
    journals = (await client.get(f"{API}/ledgers/{ledger}/journals")).json()["items"]
    assert "ZZ" not in {j["code"] for j in journals}


async def test_an_admin_may_create_ledgers_journals_and_keys(
    app: FastAPI, anon_client: httpx.AsyncClient
) -> None:
    admin = bearer(await issue_key(app, "admin", "second-admin"))
    code = f"a{uuid.uuid4().hex[:10]}"

    ledger = await anon_client.post(
        f"{API}/ledgers", json={"code": code, "name": "Admin's"}, headers=admin
    )
    journal = await anon_client.post(
        f"{API}/ledgers/{code}/journals", json={"code": "EX", "name": "Export"}, headers=admin
    )
    key = await anon_client.post(f"{API}/keys", json={"name": "by-admin"}, headers=admin)
    keys = await anon_client.get(f"{API}/keys", headers=admin)

    assert ledger.status_code == 201, ledger.text
    assert journal.status_code == 201, journal.text
    assert key.status_code == 201, key.text
    assert keys.status_code == 200, keys.text


@pytest.mark.parametrize("path", ["/api/v1/healthz", "/readyz", "/metrics"])
async def test_probes_and_metrics_need_no_key(anon_client: httpx.AsyncClient, path: str) -> None:
    response = await anon_client.get(path)
    assert response.status_code == 200, response.text


async def test_a_created_key_is_shown_once_and_never_listed(client: httpx.AsyncClient) -> None:
    from grandlivre.auth.service import hash_key

    created = await client.post(f"{API}/keys", json={"name": "shown-once", "role": "accountant"})

    assert created.status_code == 201, created.text
    body = created.json()
    key = body["key"]
    assert key.startswith("gl_")
    assert len(key) >= 40
    assert body["role"] == "accountant"
    assert body["name"] == "shown-once"
    assert key.startswith(body["prefix"])
    keys, text = await list_keys(client)
    assert body["id"] in {k["id"] for k in keys}
    assert key not in text
    assert hash_key(key) not in text
    assert all("key" not in k and "key_hash" not in k for k in keys)


async def test_two_keys_are_never_the_same(client: httpx.AsyncClient) -> None:
    keys = {
        (await client.post(f"{API}/keys", json={"name": f"k{i}"})).json()["key"] for i in range(5)
    }
    assert len(keys) == 5


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "role": "superuser"},
        {"name": ""},
        {"role": "viewer"},
        {"name": "x", "key": "gl_chosen_by_client"},
    ],
    ids=["unknown-role", "empty-name", "no-name", "client-chosen-key"],
)
async def test_an_invalid_key_request_is_422(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert_problem(await client.post(f"{API}/keys", json=body), 422, "validation-error")


@pytest.mark.parametrize("role", ["viewer", "accountant", "admin"])
async def test_a_key_learns_who_it_is_from_me(
    anon_client: httpx.AsyncClient, client: httpx.AsyncClient, role: str
) -> None:
    created = await client.post(f"{API}/keys", json={"name": f"me-{role}", "role": role})
    assert created.status_code == 201, created.text
    key = created.json()
    response = await anon_client.get(f"{API}/me", headers=bearer(key["key"]))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": key["id"],
        "name": f"me-{role}",
        "role": role,
        "prefix": key["prefix"],
    }
    assert key["key"] not in response.text
    assert_unauthorized(await anon_client.get(f"{API}/me"))
    assert_problem(await client.delete(f"{API}/me"), 405, "method-not-allowed")
    assert (await client.delete(f"{API}/keys/{key['id']}")).status_code == 200
    assert_unauthorized(await anon_client.get(f"{API}/me", headers=bearer(key["key"])))
