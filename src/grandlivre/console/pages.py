"""The console's pages: server-rendered shells that read and write through the public API.

A page holds no data of the books and needs no key: its scripts fetch everything from
`/api/v1/...` with the key the sign-in page left in the tab's sessionStorage, so the console
can do nothing a client of the API could not, and the HTML routes stay out of the OpenAPI
document (the API's contract). Pages are French unless `?lang=en`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from grandlivre.console.assets import StaticAssets
from grandlivre.console.i18n import DEFAULT_LANG, Lang, translator

ASSETS = StaticAssets()
TEMPLATES = Environment(
    loader=PackageLoader("grandlivre.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# The page is rebuilt by each release (its static URLs change with it): never cached stale.
PAGE_HEADERS = {"Cache-Control": "no-cache"}

LangParam = Annotated[Lang | None, Query(description="Language of the page: fr or en.")]
AccountNumber = Annotated[str, Path(pattern=r"^[0-9]{1,20}$")]

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def page(path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a page: GET, and HEAD as the 405's `Allow` promises (uvicorn sends no body)."""
    return router.api_route(path, methods=["GET", "HEAD"])


def href_for(lang: Lang) -> Callable[[str], str]:
    """Return the function that makes a console link keep the page's language."""

    def href(path: str) -> str:
        if lang == DEFAULT_LANG:
            return path
        return f"{path}{'&' if '?' in path else '?'}lang={lang}"

    return href


def render(
    template: str,
    *,
    page: str,
    lang: Lang | None,
    path: str,
    script: str | None = None,
    data: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page of the console in its language."""
    chosen: Lang = lang or DEFAULT_LANG
    messages = translator(chosen)
    other: Lang = "en" if chosen == "fr" else "fr"

    def t(key: str) -> str:
        return messages.get(key, key)

    body = TEMPLATES.get_template(template).render(
        lang=chosen,
        other_lang=other,
        other_lang_href=href_for(other)(path),
        page=page,
        script=script or page,
        data=data or {},
        t=t,
        messages=messages,
        href=href_for(chosen),
        static=ASSETS.url,
    )
    return HTMLResponse(body, headers=PAGE_HEADERS)


@page("/")
async def home(lang: LangParam = None) -> HTMLResponse:
    """The chart of accounts, the console's first page."""
    return render("accounts.html", page="accounts", lang=lang, path="/")


@page("/signin")
async def signin(lang: LangParam = None) -> HTMLResponse:
    """The sign-in page: the API key goes to sessionStorage, nowhere else."""
    return render("signin.html", page="signin", lang=lang, path="/signin")


@page("/accounts/{number}")
async def account(number: AccountNumber, lang: LangParam = None) -> HTMLResponse:
    """One account: its general ledger with running balance, and its balance over time."""
    return render(
        "account.html",
        page="account",
        lang=lang,
        path=f"/accounts/{number}",
        data={"number": number},
    )


@page("/accounts/{number}/lettering")
async def lettering(number: AccountNumber, lang: LangParam = None) -> HTMLResponse:
    """Lettrage of an account: match open lines that net to zero, unmatch."""
    return render(
        "lettering.html",
        page="lettering",
        lang=lang,
        path=f"/accounts/{number}/lettering",
        data={"number": number},
    )


@page("/journal")
async def journal(lang: LangParam = None) -> HTMLResponse:
    """The entries, filtered by journal, status, account and dates."""
    return render("journal.html", page="journal", lang=lang, path="/journal")


@page("/entries/new")
async def new_entry(lang: LangParam = None) -> HTMLResponse:
    """The entry form."""
    return render("entry.html", page="entry-new", script="entry", lang=lang, path="/entries/new")


@page("/entries/{entry_id}")
async def entry(entry_id: uuid.UUID, lang: LangParam = None) -> HTMLResponse:
    """One entry: a draft in the form (edit, validate, delete), a posted one with its seal."""
    return render(
        "entry.html",
        page="entry",
        lang=lang,
        path=f"/entries/{entry_id}",
        data={"entry": str(entry_id)},
    )


@page("/fragments/entry-line")
async def entry_line(lang: LangParam = None) -> HTMLResponse:
    """One empty line of the entry form (htmx appends it)."""
    messages = translator(lang or DEFAULT_LANG)
    body = TEMPLATES.get_template("line.html").render(t=lambda key: messages.get(key, key))
    return HTMLResponse(body, headers=PAGE_HEADERS)


@page("/trial-balance")
async def trial_balance(lang: LangParam = None) -> HTMLResponse:
    """The trial balance (balance générale)."""
    return render("trial_balance.html", page="trial-balance", lang=lang, path="/trial-balance")


@page("/statements")
async def statements(lang: LangParam = None) -> HTMLResponse:
    """The balance sheet and income statement of a fiscal year, with the year before."""
    return render("statements.html", page="statements", lang=lang, path="/statements")


@page("/third-parties")
async def third_parties(lang: LangParam = None) -> HTMLResponse:
    """The third parties with their balances."""
    return render("third_parties.html", page="third-parties", lang=lang, path="/third-parties")


@page("/fiscal-years")
async def fiscal_years(lang: LangParam = None) -> HTMLResponse:
    """The fiscal years: FEC downloads, closing (dry run first)."""
    return render("fiscal_years.html", page="fiscal-years", lang=lang, path="/fiscal-years")


@page("/status")
async def status(lang: LangParam = None) -> HTMLResponse:
    """The operator's status page; it refreshes itself."""
    return render("status.html", page="status", lang=lang, path="/status")
