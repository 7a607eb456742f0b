"""An API key never reaches a log: not when created, used, mistyped or revoked."""

from __future__ import annotations

from pathlib import Path

import pytest

from grandlivre.auth.service import hash_key
from tests.conftest import issue_key, make_settings
from tests.ops.support import app_records, client_for, events, running_app, sqlite_url


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_keys_never_appear_in_the_logs(
    tmp_path: Path, app_stdout: pytest.CaptureFixture[str], level: str
) -> None:
    settings = make_settings(sqlite_url(tmp_path), log_level=level)
    async with running_app(settings) as app:
        admin_key = await issue_key(app, "admin", "root")
        async with client_for(app, admin_key) as admin, client_for(app) as anon:
            created = await admin.post("/api/v1/keys", json={"name": "secret-holder"})
            assert created.status_code == 201
            key, key_id = created.json()["key"], created.json()["id"]
            headers = {"Authorization": f"Bearer {key}"}
            assert (await anon.get("/api/v1/ledgers", headers=headers)).status_code == 200
            mistyped = {"Authorization": f"Bearer {key[:-2]}"}
            assert (await anon.get("/api/v1/ledgers", headers=mistyped)).status_code == 401
            basic = {"Authorization": f"Basic {key}"}
            assert (await anon.get("/api/v1/ledgers", headers=basic)).status_code == 401
            assert (await admin.delete(f"/api/v1/keys/{key_id}")).status_code == 200
            assert (await anon.get("/api/v1/ledgers", headers=headers)).status_code == 401

    output = app_stdout.readouterr()
    logs = output.out + output.err
    records = app_records(output.out)
    assert events(records, "authn_token_created"), "key creation was not logged at all"
    assert events(records, "authn_token_revoked")
    failures = events(records, "authn_fail")
    assert {r["reason"] for r in failures} >= {"invalid", "malformed", "revoked"}
    for secret in (key, admin_key, key[:-2], key[3:]):
        assert secret not in logs
    if level == "INFO":
        # At DEBUG, the database driver's own logger prints query parameters, hashes included.
        assert hash_key(key) not in logs
        assert hash_key(admin_key) not in logs
    created_event = events(records, "authn_token_created")[0]
    assert created_event["key_id"] == key_id
    assert key.startswith(created_event["prefix"])
