"""HTTP routes for ledgers, accounts and journals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.auth.deps import Accountant, Admin, Viewer
from grandlivre.db.tables import Account, Journal
from grandlivre.deps import ClockDep, IdsDep, StoreDep
from grandlivre.ledger import service
from grandlivre.ledger.operations import (
    CreateAccount,
    CreateJournal,
    CreateLedger,
    DeleteAccount,
    UpdateAccount,
    UpdateLedger,
)
from grandlivre.ledger.schemas import (
    AccountCreate,
    AccountRead,
    AccountUpdate,
    JournalCreate,
    JournalRead,
    LedgerCreate,
    LedgerRead,
    LedgerUpdate,
)
from grandlivre.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from grandlivre.params import Cursor, Limit
from grandlivre.schemas import PROBLEM_RESPONSES, Page, QueryFlag

router = APIRouter(
    prefix="/api/v1/ledgers", tags=["ledgers"], responses=PROBLEM_RESPONSES, dependencies=[Viewer]
)


def _next(kind: str, keys: list[str], limit: int) -> str | None:
    return encode_cursor(kind, [keys[-1]]) if len(keys) == limit else None


def _after(kind: str, cursor: str | None) -> str | None:
    return decode_cursor(kind, cursor, 1)[0] if cursor else None


@router.get("", response_model=Page[LedgerRead])
async def list_ledgers(
    store: StoreDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[LedgerRead]:
    """List ledgers by code."""
    after = _after("ledgers", cursor)
    rows = await store.read(lambda s: service.list_ledgers(s, after=after, limit=limit))
    return Page(
        items=[LedgerRead.of(r) for r in rows],
        next_cursor=_next("ledgers", [r.code for r in rows], limit),
    )


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=LedgerRead, dependencies=[Admin]
)
async def create_ledger(
    body: LedgerCreate, store: StoreDep, ids: IdsDep, clock: ClockDep, response: Response
) -> LedgerRead:
    """Create a ledger, with its first fiscal year and, unless `chart` is empty, the PCG chart
    and the default journals."""
    op = CreateLedger(
        id=ids.new(),
        code=body.code,
        title=body.name,
        currency=body.currency,
        chart=body.chart,
        now=clock.now(),
        fiscal_year_start=body.fiscal_year_start,
        fiscal_year_end=body.fiscal_year_end,
    )
    row = await store.execute(op)
    response.headers["Location"] = f"/api/v1/ledgers/{row.code}"
    return LedgerRead.of(row)


@router.get("/{ledger}", response_model=LedgerRead)
async def get_ledger(ledger: str, store: StoreDep) -> LedgerRead:
    """Read one ledger."""
    return LedgerRead.of(await store.read(lambda s: service.get_ledger(s, ledger)))


@router.patch("/{ledger}", response_model=LedgerRead, dependencies=[Admin])
async def update_ledger(ledger: str, body: LedgerUpdate, store: StoreDep) -> LedgerRead:
    """Rename a ledger, say whether lines on its collective accounts must name their third
    party, or set or clear (null) the company's SIREN."""
    op = UpdateLedger(
        ledger=ledger,
        title=body.name,
        third_party_required=body.third_party_required,
        sets_siren="siren" in body.model_fields_set,
        siren=body.siren,
    )
    return LedgerRead.of(await store.execute(op))


@router.get("/{ledger}/accounts", response_model=Page[AccountRead], response_model_by_alias=True)
async def list_accounts(
    ledger: str,
    store: StoreDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    prefix: Annotated[str | None, Query(pattern=r"^[0-9]{1,20}$")] = None,
    active: Annotated[QueryFlag | None, Query(description="Only active or inactive ones.")] = None,
) -> Page[AccountRead]:
    """List the chart of accounts by number; `prefix` keeps one class or group (e.g. 41)."""
    after = _after("accounts", cursor)

    async def unit(s: AsyncSession) -> list[Account]:
        row = await service.get_ledger(s, ledger)
        return list(
            await service.list_accounts(
                s, row, after=after, limit=limit, prefix=prefix, active=active
            )
        )

    rows = await store.read(unit)
    return Page(
        items=[AccountRead.of(r) for r in rows],
        next_cursor=_next("accounts", [r.number for r in rows], limit),
    )


@router.post(
    "/{ledger}/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountRead,
    response_model_by_alias=True,
    dependencies=[Accountant],
)
async def create_account(
    ledger: str,
    body: AccountCreate,
    store: StoreDep,
    ids: IdsDep,
    clock: ClockDep,
    response: Response,
) -> AccountRead:
    """Open an account."""
    op = CreateAccount(
        ledger=ledger, id=ids.new(), number=body.number, title=body.name, now=clock.now()
    )
    account = await store.execute(op)
    response.headers["Location"] = f"/api/v1/ledgers/{ledger}/accounts/{account.number}"
    return AccountRead.of(account)


@router.get("/{ledger}/accounts/{number}", response_model=AccountRead, response_model_by_alias=True)
async def get_account(ledger: str, number: str, store: StoreDep) -> AccountRead:
    """Read one account."""

    async def unit(s: AsyncSession) -> Account:
        return await service.get_account(s, await service.get_ledger(s, ledger), number)

    return AccountRead.of(await store.read(unit))


@router.patch(
    "/{ledger}/accounts/{number}",
    response_model=AccountRead,
    response_model_by_alias=True,
    dependencies=[Accountant],
)
async def update_account(
    ledger: str, number: str, body: AccountUpdate, store: StoreDep
) -> AccountRead:
    """Rename, deactivate (`"active": false`) or reactivate an account, or mark it
    collective."""
    op = UpdateAccount(
        ledger=ledger,
        number=number,
        title=body.name,
        active=body.active,
        collective=body.collective,
    )
    return AccountRead.of(await store.execute(op))


@router.delete(
    "/{ledger}/accounts/{number}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Accountant],
)
async def delete_account(ledger: str, number: str, store: StoreDep) -> Response:
    """Delete an account no entry uses (409 `account-in-use` otherwise: deactivate it)."""
    await store.execute(DeleteAccount(ledger=ledger, number=number))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{ledger}/journals", response_model=Page[JournalRead])
async def list_journals(
    ledger: str, store: StoreDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[JournalRead]:
    """List the ledger's journals by code."""
    after = _after("journals", cursor)

    async def unit(s: AsyncSession) -> list[Journal]:
        row = await service.get_ledger(s, ledger)
        return list(await service.list_journals(s, row, after=after, limit=limit))

    rows = await store.read(unit)
    return Page(
        items=[JournalRead.of(r) for r in rows],
        next_cursor=_next("journals", [r.code for r in rows], limit),
    )


@router.post(
    "/{ledger}/journals",
    status_code=status.HTTP_201_CREATED,
    response_model=JournalRead,
    dependencies=[Admin],
)
async def create_journal(
    ledger: str, body: JournalCreate, store: StoreDep, ids: IdsDep, clock: ClockDep
) -> JournalRead:
    """Open a journal."""
    op = CreateJournal(
        ledger=ledger, id=ids.new(), code=body.code, title=body.name, now=clock.now()
    )
    return JournalRead.of(await store.execute(op))
