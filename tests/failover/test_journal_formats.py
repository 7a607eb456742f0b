"""The journaled form of every operation is a stored format: rows written by earlier versions
replay as they always did.

Each operation's JSON below is what the service wrote before operations were typed (a name and
a hand-built dict); the typed operations must read it, write it back byte for byte, and replay
it into PostgreSQL with the effect it always had.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.app import operations
from grandlivre.auth import service as auth_service
from grandlivre.exchange.fec import FEC_COLUMNS
from grandlivre.store import journal
from grandlivre.store.operations import decode
from grandlivre.store.store import ReplayStatus
from tests.failover.conftest import AppFactory
from tests.failover.support import wait_until
from tests.pgcluster import PrivateCluster

NOW = "2026-11-23T10:00:00.123456+00:00"
KEY = "gl_journal-format-test-key-0123456789abcdef"
IDS = {
    "ledger": "01a20ba4-0000-7000-8000-000000000001",
    "account": "01a20ba4-0000-7000-8000-000000000002",
    "closing": "01a20ba4-0000-7000-8000-000000000003",
    "journal": "01a20ba4-0000-7000-8000-000000000004",
    "entry": "01a20ba4-0000-7000-8000-000000000005",
    "keyed": "01a20ba4-0000-7000-8000-000000000006",
    "reversal": "01a20ba4-0000-7000-8000-000000000007",
    "key": "01a20ba4-0000-7000-8000-000000000008",
    "match": "01a20ba4-0000-7000-8000-0000000000a1",
    "match2": "01a20ba4-0000-7000-8000-0000000000a2",
    "batch1": "01a20ba4-0000-7000-8000-000000000009",
    "batch2": "01a20ba4-0000-7000-8000-00000000000a",
    "draft": "01a20ba4-0000-7000-8000-00000000000b",
    "draft2": "01a20ba4-0000-7000-8000-00000000000c",
    "year-closing": "01a20ba4-0000-7000-8000-00000000000d",
    "year-opening": "01a20ba4-0000-7000-8000-00000000000e",
    "import-ledger": "01a20ba4-0000-7000-8000-00000000000f",
    "import": "01a20ba4-0000-7000-8000-000000000010",
    "csv-import": "01a20ba4-0000-7000-8000-000000001000",
}
DRAFT_LINES = [
    {"account": "411000", "credit": None, "debit": "60.00", "label": None, "third_party": "FMT1"},
    {"account": "706000", "credit": "60.00", "debit": None, "label": None},
]
LINES = [
    {"account": "411900", "credit": None, "debit": "120.00", "label": "Client Format"},
    {"account": "706000", "credit": "100.00", "debit": None, "label": None},
    {"account": "445710", "credit": "20.00", "debit": None, "label": None},
]

# In replay order: each row may depend on the ones before it.
ROWS: list[tuple[str, dict[str, Any]]] = [
    (
        "ledger.create",
        {
            "chart": "pcg",
            "code": "fmt",
            "currency": "EUR",
            "id": IDS["ledger"],
            "name": "Format SAS",
            "now": NOW,
        },
    ),
    ("ledger.rename", {"ledger": "fmt", "name": "Format SA"}),
    (
        "account.create",
        {"id": IDS["account"], "ledger": "fmt", "name": "Client F", "now": NOW, "number": "411900"},
    ),
    (
        "account.update",
        {"active": None, "ledger": "fmt", "name": "Client Format", "number": "411900"},
    ),
    (
        "account.create",
        {"id": IDS["closing"], "ledger": "fmt", "name": "Erreur", "now": NOW, "number": "411901"},
    ),
    ("account.delete", {"ledger": "fmt", "number": "411901"}),
    (
        "journal.create",
        {"code": "VE2", "id": IDS["journal"], "ledger": "fmt", "name": "Ventes 2", "now": NOW},
    ),
    (
        "entry.post",
        {
            "draft": {
                "date": "2026-11-23",
                "journal": "VE2",
                "label": "Facture F-1",
                "lines": LINES,
                "reference": "F-1",
            },
            "entry_id": IDS["entry"],
            "idempotency": None,
            "ledger": "fmt",
            "now": NOW,
        },
    ),
    (
        "entry.post",
        {
            "draft": {
                "date": "2026-11-24",
                "journal": "VE2",
                "label": "Facture F-2",
                "lines": LINES,
                "reference": None,
            },
            "entry_id": IDS["keyed"],
            "idempotency": {"fingerprint": "f" * 64, "key": "order-2", "scope": "ledger:fmt"},
            "ledger": "fmt",
            "now": NOW,
        },
    ),
    (
        "entry.post_batch",
        {
            "entries": [
                {
                    "draft": {
                        "date": "2026-11-25",
                        "journal": "VE2",
                        "label": f"Facture F-{n}",
                        "lines": LINES,
                        "reference": f"F-{n}",
                    },
                    "entry_id": IDS[f"batch{n}"],
                }
                for n in (1, 2)
            ],
            "idempotency": None,
            "ledger": "fmt",
            "now": NOW,
        },
    ),
    (
        "entry.reverse",
        {
            "date": "2026-11-30",
            "entry_id": IDS["entry"],
            "idempotency": None,
            "label": None,
            "ledger": "fmt",
            "now": NOW,
            "reversal_id": IDS["reversal"],
        },
    ),
    (
        "key.issue",
        {
            "id": IDS["key"],
            "key_hash": auth_service.hash_key(KEY),
            "name": "format-viewer",
            "now": NOW,
            "prefix": auth_service.key_prefix(KEY),
            "role": "viewer",
        },
    ),
    ("key.revoke", {"id": IDS["key"], "now": NOW}),
    ("ledger.update", {"ledger": "fmt", "name": None, "third_party_required": False}),
    (
        "ledger.update",
        {"ledger": "fmt", "name": None, "siren": "732829320", "third_party_required": None},
    ),
    (
        "account.update",
        {"active": None, "collective": True, "ledger": "fmt", "name": None, "number": "467000"},
    ),
    (
        "third_party.create",
        {
            "account": None,
            "code": "FMT1",
            "kind": "customer",
            "ledger": "fmt",
            "name": "Client Fmt",
            "now": NOW,
            "siren": None,
            "vat_number": None,
        },
    ),
    (
        "third_party.update",
        {"changes": {"name": "Client Format 1"}, "code": "FMT1", "ledger": "fmt"},
    ),
    # Since payment terms: given on creation, and changed.
    (
        "third_party.create",
        {
            "account": None,
            "code": "FMT2",
            "kind": "supplier",
            "ledger": "fmt",
            "name": "Fournisseur Fmt",
            "now": NOW,
            "payment_terms_days": 45,
            "siren": None,
            "vat_number": None,
        },
    ),
    (
        "third_party.update",
        {"changes": {"payment_terms_days": 60}, "code": "FMT2", "ledger": "fmt"},
    ),
    # F-1 and its reversal matched on 411900 (the next code, the lines' date), unmatched, and
    # matched again under a code given.
    (
        "lettering.match",
        {
            "account": "411900",
            "code": None,
            "date": None,
            "ledger": "fmt",
            "lines": [
                {"entry_id": IDS["entry"], "position": 0},
                {"entry_id": IDS["reversal"], "position": 0},
            ],
            "match_id": IDS["match"],
            "now": NOW,
            "third_party": None,
        },
    ),
    (
        "lettering.unmatch",
        {"account": "411900", "code": "A", "ledger": "fmt", "match_id": IDS["match"], "now": NOW},
    ),
    (
        "lettering.match",
        {
            "account": "411900",
            "code": "K",
            "date": "2026-12-01",
            "ledger": "fmt",
            "lines": [
                {"entry_id": IDS["entry"], "position": 0},
                {"entry_id": IDS["reversal"], "position": 0},
            ],
            "match_id": IDS["match2"],
            "now": NOW,
            "third_party": None,
        },
    ),
    *(
        (
            "entry.post",
            {
                "draft": {
                    "date": "2026-11-26",
                    "journal": "VE2",
                    "label": "Brouillon",
                    "lines": DRAFT_LINES,
                    "reference": None,
                    "status": "draft",
                },
                "entry_id": IDS[name],
                "idempotency": None,
                "ledger": "fmt",
                "now": NOW,
            },
        )
        for name in ("draft", "draft2")
    ),
    (
        "entry.update_draft",
        {
            "changes": {"label": "Brouillon modifié"},
            "entry_id": IDS["draft"],
            "ledger": "fmt",
            "now": NOW,
        },
    ),
    ("entry.validate", {"entry_ids": [IDS["draft"]], "ledger": "fmt", "now": NOW}),
    ("entry.delete_draft", {"entry_id": IDS["draft2"], "ledger": "fmt"}),
    ("fiscal_year.open", {"ledger": "fmt", "now": NOW, "year": 2027}),
    ("period.lock", {"ledger": "fmt", "locked": True, "month": "2026-01-01", "now": NOW}),
    ("period.lock", {"ledger": "fmt", "locked": True, "month": "2026-02-01", "now": NOW}),
    ("period.lock", {"ledger": "fmt", "locked": False, "month": "2026-02-01", "now": NOW}),
    # Never journaled (refused on the fallback), but readable all the same.
    (
        "fiscal_year.close",
        {
            "closing_id": IDS["year-closing"],
            "ledger": "fmt",
            "now": NOW,
            "opening_id": IDS["year-opening"],
            "year": 2026,
        },
    ),
    ("fiscal_year.reopen", {"ledger": "fmt", "now": NOW, "year": 2026}),
    (
        "ledger.create",
        {
            "chart": "pcg",
            "code": "fmtimp",
            "currency": "EUR",
            "id": IDS["import-ledger"],
            "name": "Format import",
            "now": NOW,
        },
    ),
    (
        "exchange.import_fec",
        {
            "first_id": IDS["import"],
            "ledger": "fmtimp",
            "now": NOW,
            "text": "|".join(FEC_COLUMNS)
            + "\r\n"
            + "VE|Ventes|1|20260110|411000|Clients|FMTI|Client importé|F-9|20260110|Facture"
            "|50,00|0,00|||20260111||\r\n"
            + "VE|Ventes|1|20260110|706000|Prestations de services|||F-9|20260110|Facture"
            "|0,00|50,00|||20260111||\r\n",
        },
    ),
    (
        "exchange.import_csv",
        {
            "first_id": IDS["csv-import"],
            "ledger": "fmtimp",
            "now": NOW,
            "text": "entry;journal;date;document_date;label;reference;account;third_party;"
            "line_label;debit;credit\r\n"
            "a;OD;15/01/2026;;Virement;CSV-1;512000;;;7,00;\r\n"
            "a;OD;15/01/2026;;Virement;CSV-1;580000;;;;7,00\r\n",
        },
    ),
]


def _stored(args: dict[str, Any]) -> str:
    """The bytes a journal row holds (store/journal.py writes them so)."""
    return json.dumps(args, separators=(",", ":"), sort_keys=True)


def test_every_operation_has_a_stored_form_here() -> None:
    assert {name for name, _ in ROWS} == set(operations())


def test_every_stored_form_is_read_and_written_back_byte_for_byte() -> None:
    registry = operations()
    for name, args in ROWS:
        op = decode(registry[name], json.loads(_stored(args)))
        assert op.name == name
        assert _stored(op.to_json()) == _stored(args), name


async def test_rows_of_the_earlier_format_replay_with_their_effect(
    cluster: PrivateCluster, database: str, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(30), app_factory(cluster.url(database)) as app:
        store = app.state.store
        assert store.fallback is not None
        async with AsyncSession(store.fallback) as session, session.begin():
            for index, (name, args) in enumerate(ROWS):
                await journal.append(
                    session,
                    op_id=uuid.UUID(int=index + 1),
                    operation=name,
                    args=args,
                    now=app.state.clock.now(),
                )

        async def drained() -> ReplayStatus | None:
            status = await store.replay_status()
            return None if status is None or status.pending else status

        outcome = await wait_until(drained, within=20, what="the journal replayed")
        conflicts = await store.list_journal([journal.CONFLICT])
        assert outcome.conflicts == 0, [(r.operation, r.reason) for r in conflicts]
        assert outcome.applied == len(ROWS)

    ledger = await cluster.fetch(database, "SELECT id, name FROM ledgers WHERE code = 'fmt'")
    assert [(str(r["id"]), r["name"]) for r in ledger] == [(IDS["ledger"], "Format SA")]
    accounts = await cluster.fetch(
        database,
        "SELECT number, name, active FROM accounts WHERE ledger_id = $1 AND number LIKE '4119%'",
        ledger[0]["id"],
    )
    assert [(r["number"], r["name"], r["active"]) for r in accounts] == [
        ("411900", "Client Format", True)
    ]
    journals = await cluster.fetch(
        database, "SELECT id FROM journals WHERE code = 'VE2' AND ledger_id = $1", ledger[0]["id"]
    )
    assert [str(r["id"]) for r in journals] == [IDS["journal"]]
    entries = await cluster.fetch(
        database,
        "SELECT id, reverses_id, origin, entry_date::text AS day FROM entries "
        "WHERE ledger_id = $1 AND role IS NULL ORDER BY id",
        ledger[0]["id"],
    )
    assert [
        (str(r["id"]), r["reverses_id"] and str(r["reverses_id"]), r["day"]) for r in entries
    ] == [
        (IDS["entry"], None, "2026-11-23"),
        (IDS["keyed"], None, "2026-11-24"),
        (IDS["reversal"], IDS["entry"], "2026-11-30"),
        (IDS["batch1"], None, "2026-11-25"),
        (IDS["batch2"], None, "2026-11-25"),
        (IDS["draft"], None, "2026-11-26"),
    ]
    assert {r["origin"] for r in entries} == {"fallback"}
    roles = await cluster.fetch(
        database,
        "SELECT role, count(*) AS n FROM entries WHERE ledger_id = $1 AND role IS NOT NULL "
        "GROUP BY role ORDER BY role",
        ledger[0]["id"],
    )
    # The closing's two entries, and their reversals by the reopening.
    assert [(r["role"], r["n"]) for r in roles] == [("closing", 2), ("opening", 2)]
    drafted = await cluster.fetch(
        database,
        "SELECT e.label, e.status, e.validated_at, t.code, t.name "
        "FROM entries e JOIN entry_lines l ON l.entry_id = e.id AND l.position = 0 "
        "JOIN third_parties t ON t.id = l.third_party_id WHERE e.id = $1",
        uuid.UUID(IDS["draft"]),
    )
    assert [tuple(r.values()) for r in drafted] == [
        ("Brouillon modifié", "posted", datetime.fromisoformat(NOW), "FMT1", "Client Format 1")
    ]
    collective = await cluster.fetch(
        database,
        "SELECT collective FROM accounts WHERE ledger_id = $1 AND number = '467000'",
        ledger[0]["id"],
    )
    assert [r["collective"] for r in collective] == [True]
    terms = await cluster.fetch(
        database,
        "SELECT code, payment_terms_days FROM third_parties WHERE ledger_id = $1 ORDER BY code",
        ledger[0]["id"],
    )
    assert [(r["code"], r["payment_terms_days"]) for r in terms] == [("FMT1", 30), ("FMT2", 60)]
    matches = await cluster.fetch(
        database,
        "SELECT m.id, m.code, m.match_date::text AS day, m.unmatched_at IS NULL AS live, "
        "(SELECT count(*) FROM matched_lines l WHERE l.match_id = m.id) AS lines "
        "FROM matches m WHERE m.ledger_id = $1 ORDER BY m.id",
        ledger[0]["id"],
    )
    assert [(str(r["id"]), r["code"], r["day"], r["live"], r["lines"]) for r in matches] == [
        (IDS["match"], "A", "2026-11-30", False, 0),
        (IDS["match2"], "K", "2026-12-01", True, 2),
    ]
    keyed = await cluster.fetch(
        database, "SELECT status_code FROM idempotency_keys WHERE key = 'order-2'"
    )
    assert [r["status_code"] for r in keyed] == [201]
    keys = await cluster.fetch(
        database,
        "SELECT role, revoked_at IS NOT NULL AS revoked FROM api_keys WHERE id = $1",
        uuid.UUID(IDS["key"]),
    )
    assert [(r["role"], r["revoked"]) for r in keys] == [("viewer", True)]
    # A ledger journaled before fiscal years existed gets the calendar year of its `now`.
    years = await cluster.fetch(
        database,
        "SELECT year, start_date::text AS start, end_date::text AS end FROM fiscal_years "
        "WHERE ledger_id = $1 ORDER BY year",
        ledger[0]["id"],
    )
    assert [(r["year"], r["start"], r["end"]) for r in years] == [
        (2026, "2026-01-01", "2026-12-31"),
        (2027, "2027-01-01", "2027-12-31"),
    ]
    locked = await cluster.fetch(
        database,
        "SELECT month::text AS month FROM fiscal_periods "
        "WHERE ledger_id = $1 AND locked_at IS NOT NULL",
        ledger[0]["id"],
    )
    assert [r["month"] for r in locked] == ["2026-01-01"]
    imported = await cluster.fetch(
        database,
        "SELECT e.id, e.reference, e.validated_at, t.name FROM entries e "
        "JOIN ledgers g ON g.id = e.ledger_id AND g.code = 'fmtimp' "
        "JOIN entry_lines l ON l.entry_id = e.id AND l.position = 0 "
        "JOIN third_parties t ON t.id = l.third_party_id",
    )
    assert [(r["reference"], r["validated_at"].isoformat(), r["name"]) for r in imported] == [
        ("F-9", "2026-01-10T23:00:00+00:00", "Client importé")
    ]
    csv = await cluster.fetch(database, "SELECT id, origin FROM entries WHERE reference = 'CSV-1'")
    assert [(str(r["id"]), r["origin"]) for r in csv] == [(IDS["csv-import"], "fallback")]


async def test_a_row_whose_arguments_cannot_be_read_becomes_a_visible_conflict(
    cluster: PrivateCluster, database: str, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(30), app_factory(cluster.url(database)) as app:
        store = app.state.store
        assert store.fallback is not None
        async with AsyncSession(store.fallback) as session, session.begin():
            await journal.append(
                session,
                op_id=uuid.UUID(int=99),
                operation="entry.post",
                args={"ledger": "main", "entry_id": "not-a-uuid"},
                now=app.state.clock.now(),
            )

        async def settled() -> ReplayStatus | None:
            status = await store.replay_status()
            return None if status is None or status.pending else status

        outcome = await wait_until(settled, within=20, what="the row settled")
        assert outcome.conflicts == 1
        (row,) = await store.list_journal([journal.CONFLICT])
        assert row.conflict_type == "malformed-operation"
        assert "entry.post" in (row.reason or "")
