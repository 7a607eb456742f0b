"""`grandlivre keys create|list|revoke`, run as real processes on a SQLite file."""

from __future__ import annotations

import re
from pathlib import Path

from grandlivre.auth.service import hash_key
from tests.conftest import make_settings
from tests.ops.support import client_for, run_cli, running_app, sqlite_url

KEY_LINE = re.compile(r"^gl_[A-Za-z0-9_-]{40,}$")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def create(url: str, cwd: Path, name: str, role: str) -> tuple[str, str]:
    """Create a key with the CLI; return the key (last stdout line) and its id (from stderr)."""
    result = run_cli("keys", "create", "--name", name, "--role", role, database_url=url, cwd=cwd)
    assert result.returncode == 0, result.stderr
    key = result.stdout.splitlines()[-1]
    found = re.search(UUID, result.stderr)
    assert found, result.stderr
    return key, found.group(0)


async def test_keys_create_prints_the_key_alone_on_the_last_line_and_it_works(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path)

    result = run_cli(
        "keys", "create", "--name", "newcomer", "--role", "admin", database_url=url, cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    last = result.stdout.splitlines()[-1]
    assert KEY_LINE.match(last), result.stdout
    assert last == last.strip()
    async with running_app(make_settings(url)) as app, client_for(app, last) as http:
        assert (await http.get("/api/v1/keys")).status_code == 200
        created = await http.post("/api/v1/ledgers", json={"code": "cli", "name": "By CLI"})
        assert created.status_code == 201, created.text


async def test_keys_create_gives_the_role_asked_for(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    viewer, _ = create(url, tmp_path, "reader", "viewer")

    async with running_app(make_settings(url)) as app, client_for(app, viewer) as http:
        assert (await http.get("/api/v1/ledgers")).status_code == 200
        refused = await http.post("/api/v1/ledgers", json={"code": "no", "name": "No"})
        assert refused.status_code == 403


async def test_keys_create_refuses_an_unknown_role(tmp_path: Path) -> None:
    result = run_cli(
        "keys",
        "create",
        "--name",
        "x",
        "--role",
        "root",
        database_url=sqlite_url(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "gl_" not in result.stdout


async def test_keys_list_shows_every_key_but_never_a_key_itself(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    first, first_id = create(url, tmp_path, "alice-laptop", "admin")
    second, second_id = create(url, tmp_path, "export-job", "viewer")

    result = run_cli("keys", "list", database_url=url, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    for name, key_id in [("alice-laptop", first_id), ("export-job", second_id)]:
        assert name in result.stdout
        assert key_id in result.stdout
    for key in (first, second):
        assert key not in result.stdout + result.stderr
        assert hash_key(key) not in result.stdout + result.stderr
        assert key[:10] in result.stdout  # the public prefix, to recognise a key


async def test_keys_revoke_makes_the_key_fail_with_401(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    key, key_id = create(url, tmp_path, "leaked", "accountant")

    result = run_cli("keys", "revoke", key_id, database_url=url, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert key_id in result.stdout
    async with running_app(make_settings(url)) as app, client_for(app, key) as http:
        response = await http.get("/api/v1/ledgers")
        assert response.status_code == 401
        assert "revoked" in response.json()["detail"]
    listing = run_cli("keys", "list", database_url=url, cwd=tmp_path)
    row = next(line for line in listing.stdout.splitlines() if key_id in line)
    assert re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}.*\d{4}-\d{2}-\d{2}T", row), row


async def test_keys_revoke_of_an_unknown_id_fails_with_a_message(tmp_path: Path) -> None:
    result = run_cli(
        "keys",
        "revoke",
        "00000000-0000-0000-0000-000000000001",
        database_url=sqlite_url(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "00000000-0000-0000-0000-000000000001" in result.stderr
