"""HTTP routes for third parties (auxiliary accounts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import JSONResponse

from grandlivre.auth.deps import Accountant, Viewer
from grandlivre.deps import ClockDep, StoreDep
from grandlivre.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from grandlivre.params import Cursor, Limit
from grandlivre.party import service
from grandlivre.party.operations import CreateThirdParty, UpdateThirdParty
from grandlivre.party.schemas import (
    CODE_PATTERN,
    Kind,
    ThirdPartyCreate,
    ThirdPartyRead,
    ThirdPartyUpdate,
)
from grandlivre.schemas import PROBLEM_RESPONSES, Page

router = APIRouter(
    prefix="/api/v1/ledgers",
    tags=["third parties"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Viewer],
)

CodePath = Annotated[str, Path(pattern=CODE_PATTERN, description="The third party's code.")]
KindFilter = Annotated[Kind | None, Query(description="Only third parties of this kind.")]


@router.get("/{ledger}/third-parties", response_model=Page[ThirdPartyRead])
async def list_third_parties(
    ledger: str,
    store: StoreDep,
    kind: KindFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ThirdPartyRead]:
    """List the ledger's third parties by code."""
    after = decode_cursor("third-parties", cursor, 1)[0] if cursor else None
    views = await store.read(
        lambda s: service.list_parties(s, ledger, kind=kind, after=after, limit=limit)
    )
    next_cursor = encode_cursor("third-parties", [views[-1].code]) if len(views) == limit else None
    return Page(items=[ThirdPartyRead.of(v) for v in views], next_cursor=next_cursor)


@router.post(
    "/{ledger}/third-parties",
    status_code=status.HTTP_201_CREATED,
    response_model=ThirdPartyRead,
    dependencies=[Accountant],
)
async def create_third_party(
    ledger: str, body: ThirdPartyCreate, store: StoreDep, clock: ClockDep
) -> JSONResponse:
    """Open a third party under a collective account (411000 for a customer and 401000 for
    a supplier unless told otherwise)."""
    op = CreateThirdParty(ledger=ledger, spec=body.to_spec(), now=clock.now())
    view = await store.execute(op)
    return JSONResponse(
        ThirdPartyRead.of(view).model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/api/v1/ledgers/{ledger}/third-parties/{view.code}"},
    )


@router.get("/{ledger}/third-parties/{code}", response_model=ThirdPartyRead)
async def get_third_party(ledger: str, code: CodePath, store: StoreDep) -> ThirdPartyRead:
    """Read one third party."""
    return ThirdPartyRead.of(await store.read(lambda s: service.get_party(s, ledger, code)))


@router.patch(
    "/{ledger}/third-parties/{code}", response_model=ThirdPartyRead, dependencies=[Accountant]
)
async def update_third_party(
    ledger: str, code: CodePath, body: ThirdPartyUpdate, store: StoreDep
) -> ThirdPartyRead:
    """Rename a third party, change or clear its SIREN or VAT number, or change its payment
    terms."""
    op = UpdateThirdParty(ledger=ledger, code=code, changes=body.to_changes())
    return ThirdPartyRead.of(await store.execute(op))
