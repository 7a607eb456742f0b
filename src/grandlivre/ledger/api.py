"""HTTP routes for ledgers, accounts and journals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.auth.deps import Accountant, Admin, Viewer
from grandlivre.db.tables import Account, Journal, Ledger
from grandlivre.deps import ClockDep, IdsDep, StoreDep
from grandlivre.ledger import service
from grandlivre.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from grandlivre.schemas import PROBLEM_RESPONSES, Name, Page, ShortName, WriteModel
from grandlivre.store import AlreadyApplied, OpContext, Operation, Registry

router = APIRouter(
    prefix="/api/v1/ledgers", tags=["ledgers"], responses=PROBLEM_RESPONSES, dependencies=[Viewer]
)

LedgerCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
AccountNumber = Annotated[str, StringConstraints(pattern=r"^[1-8][0-9]{1,19}$")]
JournalCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,8}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class LedgerCreate(WriteModel):
    """A new ledger."""

    code: LedgerCode = Field(examples=["acme"])
    name: Name = Field(examples=["ACME SAS"])
    currency: Currency = "EUR"
    chart: Literal["pcg", "empty"] = "pcg"


class LedgerUpdate(WriteModel):
    """Fields of a ledger that may change."""

    name: Name


class LedgerRead(BaseModel):
    """A ledger."""

    code: str
    name: str
    currency: str
    decimals: int
    created_at: datetime

    @classmethod
    def of(cls, row: Ledger) -> LedgerRead:
        """Build from a row."""
        return cls(
            code=row.code,
            name=row.name,
            currency=row.currency,
            decimals=row.decimals,
            created_at=row.created_at,
        )


class AccountCreate(WriteModel):
    """A new account; its class is the first digit of its number."""

    number: AccountNumber = Field(examples=["411100"])
    name: Name = Field(examples=["Client Dupont"])


class AccountUpdate(WriteModel):
    """Rename, deactivate or reactivate an account."""

    name: Name | None = None
    active: bool | None = None


class AccountRead(BaseModel):
    """An account of the chart."""

    number: str
    name: str
    class_: int = Field(alias="class", serialization_alias="class")
    active: bool

    @classmethod
    def of(cls, row: Account) -> AccountRead:
        """Build from a row."""
        return cls.model_validate(
            {
                "number": row.number,
                "name": row.name,
                "class": service.account_class(row.number),
                "active": row.active,
            }
        )


class JournalCreate(WriteModel):
    """A new journal."""

    code: JournalCode = Field(examples=["VE2"])
    name: ShortName = Field(examples=["Ventes export"])


class JournalRead(BaseModel):
    """A journal."""

    code: str
    name: str

    @classmethod
    def of(cls, row: Journal) -> JournalRead:
        """Build from a row."""
        return cls(code=row.code, name=row.name)


def _next(kind: str, keys: list[str], limit: int) -> str | None:
    return encode_cursor(kind, [keys[-1]]) if len(keys) == limit else None


def _after(kind: str, cursor: str | None) -> str | None:
    return decode_cursor(kind, cursor, 1)[0] if cursor else None


@router.get("", response_model=Page[LedgerRead])
async def list_ledgers(
    store: StoreDep, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
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
    """Create a ledger, with the PCG chart and the default journals unless `chart` is empty."""
    args = {"id": str(ids.new()), "now": clock.now().isoformat(), **body.model_dump()}
    row: Ledger = await store.execute("ledger.create", args)
    response.headers["Location"] = f"/api/v1/ledgers/{row.code}"
    return LedgerRead.of(row)


@router.get("/{ledger}", response_model=LedgerRead)
async def get_ledger(ledger: str, store: StoreDep) -> LedgerRead:
    """Read one ledger."""
    return LedgerRead.of(await store.read(lambda s: service.get_ledger(s, ledger)))


@router.patch("/{ledger}", response_model=LedgerRead, dependencies=[Admin])
async def update_ledger(ledger: str, body: LedgerUpdate, store: StoreDep) -> LedgerRead:
    """Rename a ledger."""
    return LedgerRead.of(
        await store.execute("ledger.rename", {"ledger": ledger, "name": body.name})
    )


@router.get("/{ledger}/accounts", response_model=Page[AccountRead], response_model_by_alias=True)
async def list_accounts(
    ledger: str,
    store: StoreDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
    prefix: Annotated[str | None, Query(pattern=r"^[0-9]{1,20}$")] = None,
    active: bool | None = None,
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

    args = {
        "ledger": ledger,
        "id": str(ids.new()),
        "number": body.number,
        "name": body.name,
        "now": clock.now().isoformat(),
    }
    account: Account = await store.execute("account.create", args)
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
    """Rename, deactivate (`"active": false`) or reactivate an account."""

    args = {"ledger": ledger, "number": number, "name": body.name, "active": body.active}
    return AccountRead.of(await store.execute("account.update", args))


@router.delete(
    "/{ledger}/accounts/{number}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Accountant],
)
async def delete_account(ledger: str, number: str, store: StoreDep) -> Response:
    """Delete an account no entry uses (409 `account-in-use` otherwise: deactivate it)."""

    await store.execute("account.delete", {"ledger": ledger, "number": number})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{ledger}/journals", response_model=Page[JournalRead])
async def list_journals(
    ledger: str, store: StoreDep, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
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

    args = {
        "ledger": ledger,
        "id": str(ids.new()),
        "code": body.code,
        "name": body.name,
        "now": clock.now().isoformat(),
    }
    return JournalRead.of(await store.execute("journal.create", args))


# -- replayable operations (see grandlivre/store/operations.py) -------------------------------


def _now(args: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(args["now"])


async def _create_ledger(s: AsyncSession, args: dict[str, Any], ctx: OpContext) -> Ledger:
    ledger_id = uuid.UUID(args["id"])
    if ctx.replaying and await service.ledger_exists(s, ledger_id):
        raise AlreadyApplied(ledger_id)
    spec = service.LedgerSpec(
        code=args["code"], name=args["name"], currency=args["currency"], chart=args["chart"]
    )
    return await service.create_ledger(s, spec, ledger_id=ledger_id, now=_now(args))


async def _rename_ledger(s: AsyncSession, args: dict[str, Any], ctx: OpContext) -> Ledger:
    return await service.rename_ledger(s, args["ledger"], args["name"])


async def _create_account(s: AsyncSession, args: dict[str, Any], ctx: OpContext) -> Account:
    account_id = uuid.UUID(args["id"])
    if ctx.replaying and await service.account_exists(s, account_id):
        raise AlreadyApplied(account_id)
    row = await service.get_ledger(s, args["ledger"])
    return await service.create_account(
        s, row, args["number"], args["name"], account_id=account_id, now=_now(args)
    )


async def _update_account(s: AsyncSession, args: dict[str, Any], ctx: OpContext) -> Account:
    row = await service.get_ledger(s, args["ledger"])
    return await service.update_account(
        s, row, args["number"], name=args["name"], active=args["active"]
    )


async def _delete_account(s: AsyncSession, args: dict[str, Any], ctx: OpContext) -> None:
    row = await service.get_ledger(s, args["ledger"])
    if ctx.replaying and not await service.account_number_exists(s, row, args["number"]):
        raise AlreadyApplied(args["number"])
    await service.delete_account(s, row, args["number"])


async def _create_journal(s: AsyncSession, args: dict[str, Any], ctx: OpContext) -> Journal:
    journal_id = uuid.UUID(args["id"])
    if ctx.replaying and await service.journal_exists(s, journal_id):
        raise AlreadyApplied(journal_id)
    row = await service.get_ledger(s, args["ledger"])
    return await service.create_journal(
        s, row, args["code"], args["name"], journal_id=journal_id, now=_now(args)
    )


OPERATIONS: Registry = {
    op.name: op
    for op in (
        Operation("ledger.create", _create_ledger),
        Operation("ledger.rename", _rename_ledger),
        Operation("account.create", _create_account),
        Operation("account.update", _update_account),
        Operation("account.delete", _delete_account),
        Operation("journal.create", _create_journal),
    )
}
