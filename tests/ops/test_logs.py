"""Logs: JSON lines on stdout, one access line per request, the request id on every line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import issue_key, make_settings
from tests.ops.support import (
    access_lines,
    app_records,
    client_for,
    events,
    log_records,
    running_app,
    sqlite_url,
)

ACCESS_FIELDS = {"request_id", "method", "route", "status", "duration_ms", "client_ip", "principal"}


async def test_each_request_logs_exactly_one_access_line_with_its_facts(
    tmp_path: Path, app_stdout: pytest.CaptureFixture[str]
) -> None:
    async with running_app(make_settings(sqlite_url(tmp_path), log_level="INFO")) as app:
        key = await issue_key(app, "accountant", "compta-bot")
        async with client_for(app, key, peer=("203.0.113.7", 5555)) as http:
            ok = await http.get("/api/v1/ledgers/main", headers={"X-Request-ID": "acc-1"})
            missing = await http.get("/api/v1/ledgers/absent", headers={"X-Request-ID": "acc-2"})
            created = await http.post(
                "/api/v1/ledgers/main/accounts",
                json={"number": "411777", "name": "Client Z"},
                headers={"X-Request-ID": "acc-3"},
            )
    assert (ok.status_code, missing.status_code, created.status_code) == (200, 404, 201)

    records = app_records(app_stdout.readouterr().out)
    expected = [
        ("acc-1", "GET", "/api/v1/ledgers/{ledger}", 200),
        ("acc-2", "GET", "/api/v1/ledgers/{ledger}", 404),
        ("acc-3", "POST", "/api/v1/ledgers/{ledger}/accounts", 201),
    ]
    for request_id, method, route, status in expected:
        lines = access_lines(records, request_id)
        assert len(lines) == 1, lines
        line = lines[0]
        assert line.keys() >= ACCESS_FIELDS, line
        assert (line["method"], line["route"], line["status"]) == (method, route, status)
        assert isinstance(line["duration_ms"], int | float)
        assert line["duration_ms"] >= 0
        assert line["client_ip"] == "203.0.113.7"
        assert line["principal"] == "compta-bot"


async def test_an_anonymous_request_is_logged_without_a_principal(
    tmp_path: Path, app_stdout: pytest.CaptureFixture[str]
) -> None:
    async with (
        running_app(make_settings(sqlite_url(tmp_path), log_level="INFO")) as app,
        client_for(app, peer=("198.51.100.9", 1)) as http,
    ):
        refused = await http.get("/api/v1/ledgers", headers={"X-Request-ID": "anon-1"})
        probe = await http.get("/api/v1/healthz", headers={"X-Request-ID": "anon-2"})
    assert (refused.status_code, probe.status_code) == (401, 200)

    records = app_records(app_stdout.readouterr().out)
    for request_id, route, status in [
        ("anon-1", "/api/v1/ledgers", 401),
        ("anon-2", "/api/v1/healthz", 200),
    ]:
        (line,) = access_lines(records, request_id)
        assert line["principal"] is None
        assert line["route"] == route
        assert line["status"] == status
        assert line["client_ip"] == "198.51.100.9"


async def test_every_log_line_of_a_request_carries_its_request_id(
    tmp_path: Path, app_stdout: pytest.CaptureFixture[str]
) -> None:
    async with running_app(make_settings(sqlite_url(tmp_path), log_level="INFO")) as app:
        viewer = await issue_key(app, "viewer", "viewer")
        async with client_for(app, viewer) as http:
            await http.post(
                "/api/v1/ledgers",
                json={"code": "x1", "name": "X"},
                headers={"X-Request-ID": "sec-1"},
            )
            await http.get(
                "/api/v1/ledgers", headers={"Authorization": "Bearer nope", "X-Request-ID": "sec-2"}
            )

    records = app_records(app_stdout.readouterr().out)
    (authz,) = events(records, "authz_fail")
    (authn,) = events(records, "authn_fail")
    assert authz["request_id"] == "sec-1"
    assert authz["principal"] == "viewer"
    assert authz["ip"] == "127.0.0.1"
    assert authn["request_id"] == "sec-2"
    assert authn["ip"] == "127.0.0.1"
    assert authn["reason"] == "invalid"
    for request_id in ("sec-1", "sec-2"):
        lines = [r for r in records if r.get("request_id") == request_id]
        assert len(lines) == 2, lines  # the security event and the access line


async def test_a_route_that_matched_nothing_is_not_logged_as_its_raw_path_label(
    tmp_path: Path, app_stdout: pytest.CaptureFixture[str]
) -> None:
    async with (
        running_app(make_settings(sqlite_url(tmp_path), log_level="INFO")) as app,
        client_for(app) as http,
    ):
        await http.get("/wp-admin/setup-config.php", headers={"X-Request-ID": "scan-1"})

    (line,) = access_lines(app_records(app_stdout.readouterr().out), "scan-1")
    assert line["status"] == 404
    assert line["route"] != "/wp-admin/setup-config.php"


async def test_every_line_on_stdout_is_a_json_object(
    tmp_path: Path, app_stdout: pytest.CaptureFixture[str]
) -> None:
    async with running_app(make_settings(sqlite_url(tmp_path), log_level="DEBUG")) as app:
        key = await issue_key(app, "admin")
        async with client_for(app, key) as http:
            await http.get("/api/v1/ledgers")
            await http.post(
                "/api/v1/ledgers", content=b"{", headers={"Content-Type": "application/json"}
            )
            await http.get("/metrics")

    out = app_stdout.readouterr().out
    records = log_records(out)  # fails on any line that is not JSON
    assert len(records) >= 4
    assert all({"event", "level", "timestamp"} <= r.keys() for r in records)


async def test_console_format_is_for_humans(
    tmp_path: Path, app_stdout: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(sqlite_url(tmp_path), log_level="INFO", log_format="console")
    async with running_app(settings) as app, client_for(app) as http:
        await http.get("/api/v1/healthz", headers={"X-Request-ID": "human-1"})

    lines = [line for line in app_stdout.readouterr().out.splitlines() if "human-1" in line]
    assert lines
    for line in lines:
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)
    assert any("/api/v1/healthz" in line for line in lines)
