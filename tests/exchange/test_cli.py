"""`grandlivre export fec|beancount|csv` and `grandlivre import fec|csv`, run as real processes
on a SQLite file: the same files as the API's, and the same all-or-nothing imports."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import issue_key, make_settings
from tests.entry.helpers import url
from tests.exchange.fec_checker import assert_valid_fec
from tests.exchange.support import Y2025, books
from tests.exchange.test_fec_import import empty_ledger, entries_of, export
from tests.ops.support import client_for, run_cli, running_app, sqlite_url
from tests.sealer.support import seal


async def _api_files(database: str) -> tuple[str, dict[str, str], dict[str, bytes]]:
    """Books made through the API; an empty ledger beside them for each import (the CSV's
    with the books' third parties, which a CSV does not open); the API's exports."""
    async with running_app(make_settings(database)) as app:
        key = await issue_key(app, "admin", "exporter")
        async with client_for(app, key) as http:
            source = await books(http)
            await seal(app)
            target = {"fec": await empty_ledger(http), "csv": await empty_ledger(http)}
            for body in (
                {"code": "DUPONT", "name": "Dupont & Fils", "kind": "customer"},
                {"code": "MARTIN", "name": "Martin Frères", "kind": "supplier"},
            ):
                made = await http.post(url(target["csv"], "third-parties"), json=body)
                assert made.status_code == 201, made.text
            files = {
                "fec": await export(http, source, 2025),
                "beancount": (await http.get(url(source, "exports", "beancount"))).content,
                "csv": (
                    await http.get(
                        url(source, "exports", "entries"),
                        params={"from": "2025-01-01", "to": "2025-12-31"},
                    )
                ).content,
            }
    return source, target, files


async def _entries(database: str, ledger: str) -> list[dict[str, object]]:
    async with running_app(make_settings(database)) as app:
        key = await issue_key(app, "viewer", "reader")
        async with client_for(app, key) as http:
            return await entries_of(http, ledger)


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def _save(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _leftovers(directory: Path) -> list[str]:
    """What a refused or finished export left half-written: nothing."""
    return sorted(p.name for p in directory.iterdir() if p.suffix == ".part" or p.stem == "never")


async def test_the_exports_are_the_files_the_api_serves(tmp_path: Path) -> None:
    database = sqlite_url(tmp_path)
    source, _, files = await _api_files(database)

    fec = tmp_path / "out.txt"
    done = run_cli(
        "export", "fec", "--ledger", source, "--year", "2025", "-o", str(fec),
        database_url=database, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _bytes(fec) == files["fec"]
    assert "732829320FEC20251231.txt" in done.stderr
    assert_valid_fec("732829320FEC20251231.txt", files["fec"], **Y2025)
    assert _leftovers(tmp_path) == []

    beancount = run_cli("export", "beancount", "-l", source, database_url=database, cwd=tmp_path)
    assert beancount.returncode == 0, beancount.stderr
    assert beancount.stdout.encode() == files["beancount"]

    entries = tmp_path / "entries.csv"
    done = run_cli(
        "export", "csv", "-l", source, "--from", "2025-01-01", "--to", "2025-12-31",
        "-o", str(entries), database_url=database, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _bytes(entries) == files["csv"]


async def test_an_export_is_refused_with_what_the_api_would_say(tmp_path: Path) -> None:
    database = sqlite_url(tmp_path)
    source, _, _ = await _api_files(database)
    out = tmp_path / "never.txt"
    refusals = [
        (["export", "fec", "-l", "nosuch", "--year", "2025", "-o", str(out)], "Ledger not found"),
        (["export", "fec", "-l", source, "--year", "2031", "-o", str(out)], "not found"),
        (["export", "fec", "-l", source, "--year", "2025", "--separator", ";"], "pipe, tab"),
        (["export", "csv", "-l", source, "--from", "2025-1-1"], "YYYY-MM-DD"),
        (["export", "csv", "-l", source, "--from", "2025-12-31", "--to", "2025-01-01"], "after"),
    ]
    for args, said in refusals:
        done = run_cli(*args, database_url=database, cwd=tmp_path)
        assert done.returncode != 0, args
        assert said in done.stderr, (args, done.stderr)
        assert _leftovers(tmp_path) == []


async def test_a_fec_is_imported_by_the_cli_after_a_dry_run(tmp_path: Path) -> None:
    database = sqlite_url(tmp_path)
    _, targets, files = await _api_files(database)
    target = targets["fec"]
    fec = _save(tmp_path / "732829320FEC20251231.txt", files["fec"])

    rehearsal = run_cli(
        "import", "fec", "-l", target, str(fec), "--dry-run", database_url=database, cwd=tmp_path
    )
    assert rehearsal.returncode == 0, rehearsal.stderr
    said = json.loads(rehearsal.stdout)
    assert (said["dry_run"], said["entries"], said["lines"]) == (True, 5, 11)
    assert await _entries(database, target) == []

    done = run_cli("import", "fec", "-l", target, str(fec), database_url=database, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["dry_run"], report["entries"]) == (False, 5)
    assert sorted(report["third_parties_created"]) == ["DUPONT", "MARTIN"]
    assert len(await _entries(database, target)) == 5

    # The ledger has entries now: a second import is refused and adds nothing.
    again = run_cli("import", "fec", "-l", target, str(fec), database_url=database, cwd=tmp_path)
    assert again.returncode == 1
    assert "Ledger not empty" in again.stderr
    assert len(await _entries(database, target)) == 5


async def test_a_refused_csv_lists_every_line_and_imports_nothing(tmp_path: Path) -> None:
    database = sqlite_url(tmp_path)
    _, targets, files = await _api_files(database)
    target = targets["csv"]
    rows = files["csv"].decode("utf-8-sig").splitlines()
    # Line 2 unbalances its entry; line 5 names an account the chart does not have.
    broken = list(rows)
    first = broken[1].split(";")
    assert first[9] == "1200,00", first  # the invoice's debit on 411000
    first[9] = "1200,01"
    broken[1] = ";".join(first)
    fields = broken[4].split(";")
    fields[6] = "999999"
    broken[4] = ";".join(fields)
    bad = _save(tmp_path / "bad.csv", ("\n".join(broken) + "\n").encode())

    refused = run_cli("import", "csv", "-l", target, str(bad), database_url=database, cwd=tmp_path)
    assert refused.returncode == 1
    assert "Import refused" in refused.stderr
    listed = [line for line in refused.stderr.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in listed] == ["line 2", "line 5"], refused.stderr
    assert await _entries(database, target) == []

    good = _save(tmp_path / "good.csv", files["csv"])
    done = run_cli("import", "csv", "-l", target, str(good), database_url=database, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    in_file = len({row.split(";")[0] for row in rows[1:]})  # the validated entries, not the draft
    assert json.loads(done.stdout)["entries"] == in_file == 5
    assert len(await _entries(database, target)) == in_file


async def test_a_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    database = sqlite_url(tmp_path)
    _, targets, _ = await _api_files(database)
    target = targets["csv"]
    latin = _save(tmp_path / "latin.csv", "entry;journal\né".encode("latin-1"))
    done = run_cli("import", "csv", "-l", target, str(latin), database_url=database, cwd=tmp_path)
    assert done.returncode == 1
    assert "not utf-8 text" in done.stderr, done.stderr
    missing = run_cli(
        "import", "fec", "-l", target, str(tmp_path / "nowhere.txt"),
        database_url=database, cwd=tmp_path,
    )  # fmt: skip
    assert missing.returncode == 2
