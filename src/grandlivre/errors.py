"""Problem types and the one handler that renders them as RFC 9457 problem+json.

Every error a client can meet is a `DomainError` subclass carrying a stable `type` slug, a
title and an HTTP status. Services raise them; only `register_problem_handlers` turns them into
responses, so a problem looks the same whichever layer found it.

    DomainError
    ├── NotFound (404): LedgerNotFound, AccountNotFound, EntryNotFound, JournalNotFound,
    │                   KeyNotFound, FiscalYearNotFound, PeriodNotFound, ThirdPartyNotFound,
    │                   MatchNotFound
    ├── Conflict (409): LedgerExists, AccountExists, JournalExists, AlreadyReversed,
    │                   ReversalOfReversal, AccountInUse, FiscalYearExists,
    │                   FiscalYearNotNext, FiscalYearClosed, PeriodLocked, EntryIsDraft,
    │                   LineAlreadyMatched, MatchCodeInUse,
    │                   SirenRequired, LedgerNotEmpty, ...
    ├── Unprocessable (422): UnbalancedEntry, UnknownAccount, InactiveAccount, UnknownJournal,
    │                        InvalidAmount, InvalidDate, InvalidText, IdempotencyKeyReused,
    │                        InvalidCursor, NoFiscalYear, InvalidFiscalYear, EntriesRefused,
    │                        UnknownLine, DraftLine, MatchThirdPartyMismatch, UnbalancedMatch,
    │                        InvalidMatchDate,
    │                        DraftsRefused, InvalidIdentifier, ThirdPartyRequired,
    │                        ImportRefused, ...
    ├── Unauthorized (401), Forbidden (403), RateLimited (429)
    ├── FallbackReadOnly (503), DatabaseUnavailable (503), MirrorIncomplete (503)
    ├── MalformedRequest (400), NotAcceptable (406), PayloadTooLarge (413)
    └── EntryImmutable (405)
"""

from __future__ import annotations

from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

log = structlog.get_logger("grandlivre.errors")


class DomainError(Exception):
    """Base of every problem a client can be told about."""

    type: ClassVar[str] = "about:blank"
    title: ClassVar[str] = "Error"
    status: ClassVar[int] = 400

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class NotFound(DomainError):
    """Something named in the request does not exist."""

    type = "not-found"
    title = "Not found"
    status = 404


class LedgerNotFound(NotFound):
    """No ledger has that code."""

    type = "ledger-not-found"
    title = "Ledger not found"


class AccountNotFound(NotFound):
    """No account has that number in this ledger."""

    type = "account-not-found"
    title = "Account not found"


class JournalNotFound(NotFound):
    """No journal has that code in this ledger."""

    type = "journal-not-found"
    title = "Journal not found"


class EntryNotFound(NotFound):
    """No entry has that id in this ledger."""

    type = "entry-not-found"
    title = "Entry not found"


class Conflict(DomainError):
    """The request contradicts the current state of the books."""

    type = "conflict"
    title = "Conflict"
    status = 409


class LedgerExists(Conflict):
    """A ledger with that code exists already."""

    type = "ledger-exists"
    title = "Ledger already exists"


class AccountExists(Conflict):
    """An account with that number exists already in this ledger."""

    type = "account-exists"
    title = "Account already exists"


class JournalExists(Conflict):
    """A journal with that code exists already in this ledger."""

    type = "journal-exists"
    title = "Journal already exists"


class AccountInUse(Conflict):
    """An account that carries lines cannot be deleted, only deactivated."""

    type = "account-in-use"
    title = "Account in use"


class AlreadyReversed(Conflict):
    """The entry has been reversed already."""

    type = "already-reversed"
    title = "Entry already reversed"


class ReversalOfReversal(Conflict):
    """A reversal entry cannot itself be reversed; post a new entry instead."""

    type = "reversal-of-reversal"
    title = "A reversal cannot be reversed"


class ThirdPartyNotFound(NotFound):
    """The ledger has no third party with that code."""

    type = "third-party-not-found"
    title = "Third party not found"


class FiscalYearNotFound(NotFound):
    """The ledger has no fiscal year of that name."""

    type = "fiscal-year-not-found"
    title = "Fiscal year not found"


class PeriodNotFound(NotFound):
    """No fiscal year of the ledger covers that month."""

    type = "period-not-found"
    title = "Period not found"


class FiscalYearExists(Conflict):
    """The ledger has a fiscal year of that name already."""

    type = "fiscal-year-exists"
    title = "Fiscal year exists"


class FiscalYearNotNext(Conflict):
    """A fiscal year is asked for that is not the one after the ledger's last."""

    type = "fiscal-year-not-next"
    title = "Not the next fiscal year"


class FiscalYearClosed(Conflict):
    """The fiscal year is closed: nothing is posted in it, and its periods stay locked."""

    type = "fiscal-year-closed"
    title = "Fiscal year closed"


class PeriodLocked(Conflict):
    """The month is locked: it takes no new entries until an admin unlocks it."""

    type = "period-locked"
    title = "Period locked"


class ThirdPartyExists(Conflict):
    """A third party with this code exists already in the ledger."""

    type = "third-party-exists"
    title = "Third party exists"


class ClosingEntry(Conflict):
    """The entry was written by a fiscal year's closing: reopening the year undoes it."""

    type = "closing-entry"
    title = "Entry of a closing"


class PreviousYearOpen(Conflict):
    """A fiscal year is closed only once the one before it is."""

    type = "previous-year-open"
    title = "Previous fiscal year open"


class DraftsRemain(Conflict):
    """Drafts dated in the fiscal year: validate or delete them before closing it."""

    type = "drafts-remain"
    title = "Drafts remain"


class FiscalYearOpen(Conflict):
    """The fiscal year is open: there is nothing to reopen."""

    type = "fiscal-year-open"
    title = "Fiscal year open"


class NextYearInUse(Conflict):
    """The next fiscal year holds entries of its own (or is closed): the year stays closed."""

    type = "next-year-in-use"
    title = "Next fiscal year in use"


class EntryIsDraft(Conflict):
    """A draft is outside the books: it is edited or deleted, not reversed."""

    type = "entry-is-draft"
    title = "Entry is a draft"


class SirenRequired(Conflict):
    """The FEC file is named after the company's SIREN: set it on the ledger first."""

    type = "siren-required"
    title = "SIREN required"


class LedgerNotEmpty(Conflict):
    """A FEC is imported into a ledger with no entries: the books it brings start there."""

    type = "ledger-not-empty"
    title = "Ledger not empty"


class Unprocessable(DomainError):
    """The request is well-formed but breaks a bookkeeping rule."""

    type = "unprocessable"
    title = "Unprocessable request"
    status = 422


class ValidationFailed(Unprocessable):
    """The payload does not match the schema."""

    type = "validation-error"
    title = "Invalid request"


class UnbalancedEntry(Unprocessable):
    """The lines of an entry do not sum to zero."""

    type = "unbalanced-entry"
    title = "Unbalanced entry"


class UnknownAccount(Unprocessable):
    """A line names an account that does not exist in this ledger."""

    type = "unknown-account"
    title = "Unknown account"


class InactiveAccount(Unprocessable):
    """A line names an account that has been deactivated."""

    type = "inactive-account"
    title = "Inactive account"


class UnknownJournal(Unprocessable):
    """The entry names a journal that does not exist in this ledger."""

    type = "unknown-journal"
    title = "Unknown journal"


class InvalidAmount(Unprocessable):
    """An amount is not a positive decimal string exactly representable in the currency."""

    type = "invalid-amount"
    title = "Invalid amount"


class InvalidLine(Unprocessable):
    """A line has both or neither of debit and credit."""

    type = "invalid-line"
    title = "Invalid line"


class UnknownCurrency(Unprocessable):
    """The currency is not an ISO 4217 code this service knows the minor units of."""

    type = "unknown-currency"
    title = "Unknown currency"


class IdempotencyKeyReused(Unprocessable):
    """The Idempotency-Key was used before with a different request."""

    type = "idempotency-key-reused"
    title = "Idempotency key reused"


class InvalidCursor(Unprocessable):
    """The pagination cursor was not issued by this service for this list."""

    type = "invalid-cursor"
    title = "Invalid cursor"


class InvalidDateRange(Unprocessable):
    """`from` is after `to`."""

    type = "invalid-date-range"
    title = "Invalid date range"


class EntriesRefused(Unprocessable):
    """Entries of a batch break rules: none was posted; `entries` lists each by index."""

    type = "entries-refused"
    title = "Entries refused"


class ImportRefused(Unprocessable):
    """Lines of an imported file break rules: nothing was imported; `problems` lists each by
    its line number."""

    type = "import-refused"
    title = "Import refused"


class NotCollective(Unprocessable):
    """The account is not collective: no third party is attached to it or named on it."""

    type = "not-a-collective-account"
    title = "Not a collective account"


class UnknownThirdParty(Unprocessable):
    """Lines name third parties the ledger does not have."""

    type = "unknown-third-party"
    title = "Unknown third party"


class ThirdPartyMismatch(Unprocessable):
    """A line names a third party on another account than the party's collective one."""

    type = "third-party-account-mismatch"
    title = "Third party of another account"


class ThirdPartyRequired(Unprocessable):
    """The ledger requires every line on a collective account to name its third party."""

    type = "third-party-required"
    title = "Third party required"


class InvalidIdentifier(Unprocessable):
    """A SIREN or VAT number of the right shape whose check digits are wrong, or a French VAT
    number that does not hold the SIREN given with it."""

    type = "invalid-identifier"
    title = "Invalid company identifier"


class InvalidCollective(Unprocessable):
    """Only 42x to 46x accounts are marked collective or not; 401 and 411 always are."""

    type = "invalid-collective"
    title = "Account cannot be marked so"


class DraftsRefused(Unprocessable):
    """Drafts break rules at validation: none was validated; `entries` lists each by id."""

    type = "drafts-refused"
    title = "Drafts refused"


class NoFiscalYear(Unprocessable):
    """The entry's date falls in no fiscal year of the ledger."""

    type = "no-fiscal-year"
    title = "No fiscal year"


class InvalidFiscalYear(Unprocessable):
    """Bounds that no fiscal year may have."""

    type = "invalid-fiscal-year"
    title = "Invalid fiscal year"


class InvalidDate(Unprocessable):
    """A date is not a calendar day written YYYY-MM-DD (a number, a timestamp, 2026-02-30)."""

    type = "invalid-date"
    title = "Invalid date"


class InvalidText(Unprocessable):
    """Text holds a control, separator or bidirectional character, or nothing visible."""

    type = "invalid-text"
    title = "Invalid text"


class InvalidReversalDate(Unprocessable):
    """A reversal cannot be dated before the entry it reverses."""

    type = "invalid-reversal-date"
    title = "Invalid reversal date"


class MatchNotFound(NotFound):
    """The account has no live match with that code."""

    type = "match-not-found"
    title = "Match not found"


class LineAlreadyMatched(Conflict):
    """A line is matched already: unmatch its match first."""

    type = "line-already-matched"
    title = "Line already matched"


class MatchCodeInUse(Conflict):
    """A live match of the account holds that code already."""

    type = "match-code-in-use"
    title = "Match code in use"


class UnknownLine(Unprocessable):
    """A line named by a match is not a line of this account in this ledger."""

    type = "unknown-line"
    title = "Unknown line"


class DraftLine(Unprocessable):
    """A draft is outside the books: its lines are matched once it is validated."""

    type = "draft-line"
    title = "Line of a draft"


class MatchThirdPartyMismatch(Unprocessable):
    """The lines of a match name another third party than the match, or several."""

    type = "match-third-party-mismatch"
    title = "Lines of another third party"


class UnbalancedMatch(Unprocessable):
    """The lines of a match do not sum to zero."""

    type = "unbalanced-match"
    title = "Unbalanced match"


class InvalidMatchDate(Unprocessable):
    """A match cannot be dated before the latest of its lines."""

    type = "invalid-match-date"
    title = "Invalid match date"


class EntryImmutable(DomainError):
    """Posted entries are never changed or deleted; they are reversed."""

    type = "entry-immutable"
    title = "Posted entries are immutable"
    status = 405


class Unauthorized(DomainError):
    """No API key, or one that is unknown or revoked."""

    type = "unauthorized"
    title = "Unauthorized"
    status = 401


class Forbidden(DomainError):
    """The API key's role does not allow this request."""

    type = "forbidden"
    title = "Forbidden"
    status = 403


class KeyNotFound(NotFound):
    """No API key has that id."""

    type = "key-not-found"
    title = "API key not found"


class RateLimited(DomainError):
    """Too many requests from this key or address; retry after `retry_after_seconds`."""

    type = "rate-limited"
    title = "Too many requests"
    status = 429


class FallbackReadOnly(DomainError):
    """PostgreSQL is unreachable and FALLBACK_WRITES=reject: the service is read-only."""

    type = "fallback-read-only"
    title = "Read-only while the database is unreachable"
    status = 503


class PrimaryRequired(DomainError):
    """The write needs PostgreSQL itself (a closing reads the whole year): not on the
    fallback."""

    type = "primary-required"
    title = "Needs the primary database"
    status = 503


class DatabaseUnavailable(DomainError):
    """No database can take the request right now."""

    type = "database-unavailable"
    title = "Database unavailable"
    status = 503


class MirrorIncomplete(DomainError):
    """On a fallback whose mirror never completed a copy of PostgreSQL: an answer it cannot give.

    Reads, an API key the copy does not hold and a write naming an account, journal or entry
    it does not hold meet this: answering from a partial copy would tell a valid key it is
    unknown (401) or show books with entries missing. Writes it can check are still taken.
    """

    type = "mirror-incomplete"
    title = "The fallback copy of the books is incomplete"
    status = 503


class ReplayRowNotFound(NotFound):
    """No replay-journal row has that id."""

    type = "replay-row-not-found"
    title = "Replay journal row not found"


class ReplayRowNotConflict(Conflict):
    """Only a row in conflict can be retried or discarded."""

    type = "replay-row-not-in-conflict"
    title = "Replay journal row is not in conflict"


class MalformedRequest(DomainError):
    """The request cannot be read unambiguously: a body that is not valid UTF-8 JSON, nests too
    deep or names a member twice, or a header that may appear once given twice."""

    type = "malformed-request"
    title = "Malformed request"
    status = 400


class NotAcceptable(DomainError):
    """The Accept header admits none of the media types the route answers with."""

    type = "not-acceptable"
    title = "Not acceptable"
    status = 406


class PayloadTooLarge(DomainError):
    """The body is larger than MAX_BODY_BYTES."""

    type = "payload-too-large"
    title = "Payload too large"
    status = 413


_HTTP_TYPES: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
    503: ("service-unavailable", "Service unavailable"),
}


def request_id_of(request: Request) -> str | None:
    """Return the request id the request-id middleware gave this request, if any."""
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def problem_response(
    request: Request,
    *,
    type_: str,
    title: str,
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Render one RFC 9457 problem."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request_id_of(request),
    }
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def domain_problem(request: Request, exc: DomainError) -> JSONResponse:
    """Render a domain error as its problem, with its headers and extra members."""
    return problem_response(
        request,
        type_=exc.type,
        title=exc.title,
        status=exc.status,
        detail=exc.detail,
        headers=exc.headers,
        **exc.extra,
    )


# Which problem a payload error is, when it is more than a generic validation error: by the
# error's type, then (for the cursor, whose pattern is only a first check) by the field.
_BY_ERROR_TYPE: dict[str, type[DomainError]] = {
    "json_invalid": MalformedRequest,
    "invalid_amount": InvalidAmount,
    "invalid_line": InvalidLine,
    "invalid_date": InvalidDate,
    "invalid_text": InvalidText,
    "invalid_siren": InvalidIdentifier,
    "invalid_vat_number": InvalidIdentifier,
    "vat_siren_mismatch": InvalidIdentifier,
}


def _problem_of(err: dict[str, Any]) -> type[DomainError] | None:
    found = _BY_ERROR_TYPE.get(str(err.get("type", "")))
    if found is not None:
        return found
    loc = tuple(err.get("loc", ()))
    if loc == ("query", "cursor"):
        return InvalidCursor
    return None


def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = []
    problem: type[DomainError] | None = None
    for err in exc.errors():
        kind = str(err.get("type", ""))
        found = _problem_of(err)
        if found is MalformedRequest or (problem is None and found is not None):
            problem = found
        errors.append(
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": kind,
            }
        )
    problem = problem or ValidationFailed
    detail = "; ".join(f"{'/'.join(e['loc'][1:]) or 'body'}: {e['msg']}" for e in errors[:5])
    return problem_response(
        request,
        type_=problem.type,
        title=problem.title,
        status=problem.status,
        detail=detail or "invalid request",
        errors=errors,
    )


def allowed_methods(request: Request) -> list[str]:
    """Return the methods the OpenAPI document gives the path of the route that matched.

    The document is the contract: a method a route takes only to refuse it (PUT on a posted
    entry) is not in it, and is not advertised.
    """
    route = request.scope.get("route")
    template = getattr(route, "path_format", None)
    paths = request.app.openapi().get("paths", {})
    operations = paths.get(template, {}) if isinstance(template, str) else {}
    return sorted(method.upper() for method in operations if method != "parameters")


def _with_head(allow: str) -> list[str]:
    # A route kept out of the document (/metrics) takes HEAD wherever it takes GET.
    methods = {m.strip() for m in allow.split(",") if m.strip()}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def register_problem_handlers(app: FastAPI) -> None:
    """Render every error, expected or not, as problem+json."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_problem(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_, title = _HTTP_TYPES.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        if exc.status_code == 405:
            allowed = allowed_methods(request) or _with_head(headers.get("Allow", ""))
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        return problem_response(
            request,
            type_=type_,
            title=title,
            status=exc.status_code,
            detail=detail,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error=type(exc).__name__)
        return problem_response(
            request,
            type_="internal-error",
            title="Internal error",
            status=500,
            detail="an unexpected error occurred; quote the request_id when reporting it",
        )
