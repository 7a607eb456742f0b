"""The console's pages and files without a browser: both languages, sizes, caching, CSP, labels.

In-process (httpx over ASGI) against an app on SQLite: fast, and run on every `make test`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from grandlivre.console import i18n
from grandlivre.console.headers import CONSOLE_CSP
from grandlivre.console.pages import ASSETS
from tests.conftest import make_settings
from tests.ops.support import client_for, running_app, sqlite_url

ENTRY_ID = "01a20ba4-370b-710c-81bc-b25fe2afb721"
PAGES = {
    "/": ("Plan comptable", "Chart of accounts"),
    "/signin": ("Connexion", "Sign in"),
    "/accounts/411000": ("Compte", "Account"),
    "/accounts/411000/lettering": ("Lettrage", "Lettering"),
    "/journal": ("Journal", "Journal"),
    "/entries/new": ("Nouvelle écriture", "New entry"),
    f"/entries/{ENTRY_ID}": ("Écriture", "Entry"),
    "/trial-balance": ("Balance", "Trial balance"),
    "/statements": ("États financiers", "Financial statements"),
    "/third-parties": ("Tiers", "Third parties"),
    "/fiscal-years": ("Exercices", "Fiscal years"),
    "/status": ("État du service", "Service status"),
}
FIRST_PAGE_MAX_BYTES = 100_000
CONSOLE = Path(__file__).parents[2] / "src" / "grandlivre" / "console"


@pytest.fixture(scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    settings = make_settings(sqlite_url(tmp_path_factory.mktemp("pages")))
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_every_page_renders_in_both_languages_without_a_key(
    http: httpx.AsyncClient, path: str, lang: str
) -> None:
    response = await http.get(path, params={"lang": lang} if lang == "en" else None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in response.text
    title = PAGES[path][0 if lang == "fr" else 1]
    assert f"<title>{title}" in response.text
    # The other language is one link away, and links keep the page's language.
    if lang == "en":
        assert 'href="/journal?lang=en"' in response.text or path == "/signin"
        assert ">Français</a>" in response.text
    else:
        assert ">English</a>" in response.text


async def test_a_page_has_the_consoles_policy_and_only_that_one(http: httpx.AsyncClient) -> None:
    response = await http.get("/journal")
    assert response.headers.get_list("content-security-policy") == [CONSOLE_CSP.decode()]
    assert "'unsafe-inline'" not in CONSOLE_CSP.decode()
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-cache"
    api = await http.get("/api/v1/healthz")
    assert api.headers.get_list("content-security-policy") == [
        "default-src 'none'; frame-ancestors 'none'"
    ]


async def test_a_page_answers_head_as_get(http: httpx.AsyncClient) -> None:
    response = await http.head("/journal")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert (await http.post("/journal")).headers["allow"] == "GET, HEAD"


async def test_an_unknown_language_or_parameter_is_refused(http: httpx.AsyncClient) -> None:
    assert (await http.get("/journal", params={"lang": "de"})).status_code == 422
    assert (await http.get("/journal", params={"key": "gl_x"})).status_code == 422


class Resources(HTMLParser):
    """The stylesheets and scripts a page loads, and the form controls and their labels."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if (tag == "link" and a.get("rel") == "stylesheet") or (tag == "script" and a.get("src")):
            self.urls.append(str(a.get("href") or a.get("src")))
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(str(a["for"]))
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append({**a, "_in_label": "yes" if self.in_label else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1


def imports_of(script: str) -> list[str]:
    """The modules a module imports, relative to it."""
    return re.findall(r'^\s*(?:import|export)[^"\']*from\s+["\']([^"\']+)["\']', script, re.M)


async def transferred(http: httpx.AsyncClient, url: str) -> tuple[int, httpx.Response]:
    """The bytes a browser would receive for `url` (gzip accepted): body as sent, and head."""
    response = await http.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, url
    head = sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 20
    return head + response.num_bytes_downloaded, response


@pytest.mark.parametrize("path", ["/", "/signin", "/entries/new", "/status"])
async def test_a_first_visit_transfers_under_100_kb(http: httpx.AsyncClient, path: str) -> None:
    total, page = await transferred(http, path)
    parser = Resources()
    parser.feed(page.text)
    pending = list(parser.urls)
    seen: set[str] = set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        size, response = await transferred(http, url)
        total += size
        if url.endswith(".js"):
            base = url.rsplit("/", 1)[0]
            for module in imports_of(response.text):
                pending.append(str(httpx.URL(f"{base}/").join(module)))
    assert any(url.endswith("core.js") for url in seen), seen
    assert total < FIRST_PAGE_MAX_BYTES, (total, sorted(seen))


async def test_static_files_are_cached_for_a_year_under_their_version(
    http: httpx.AsyncClient,
) -> None:
    url = ASSETS.url("js/core.js")
    assert url.startswith(f"/static/{ASSETS.version}/")
    response = await http.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "export async function api" in response.text
    plain = await http.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == response.content
    # An older page's URL still gets the file, but not for keeps.
    stale = await http.get(url.replace(ASSETS.version, "000000000000"))
    assert stale.status_code == 200
    assert stale.headers["cache-control"] == "no-cache"
    assert (await http.get(f"/static/{ASSETS.version}/../pages.py")).status_code == 404
    assert (await http.get(f"/static/{ASSETS.version}/js/nothing.js")).status_code == 404
    assert (await http.post(url)).status_code == 405
    head = await http.head(url)
    assert head.status_code == 200
    assert head.content == b""


async def test_the_version_changes_with_any_file() -> None:
    from grandlivre.console.assets import Asset, version_of

    one = {"a.js": Asset(b"1", None, "text/javascript")}
    two = {"a.js": Asset(b"2", None, "text/javascript")}
    assert version_of(one) != version_of(two)


async def test_console_pages_stay_out_of_the_api_contract(http: httpx.AsyncClient) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert all(path.startswith(("/api/", "/readyz", "/metrics")) for path in paths), paths


@pytest.mark.parametrize("path", PAGES)
async def test_every_control_has_a_label(http: httpx.AsyncClient, path: str) -> None:
    parser = Resources()
    parser.feed((await http.get(path)).text)
    for control in parser.controls:
        labelled = (
            control.get("_in_label")
            or control.get("aria-label")
            or (control.get("id") and control["id"] in parser.label_for)
        )
        assert labelled, (path, control)


async def test_the_entry_line_fragment_is_one_row_of_the_form(http: httpx.AsyncClient) -> None:
    response = await http.get("/fragments/entry-line", params={"lang": "en"})
    assert response.status_code == 200
    assert response.text.count("<tr") == 1
    assert "Debit" in response.text
    assert 'name="account"' in response.text


def test_both_languages_have_the_same_messages() -> None:
    assert set(i18n.FR) == set(i18n.EN)
    assert all(i18n.FR.values())
    assert all(i18n.EN.values())


def test_every_message_the_pages_name_exists() -> None:
    used: set[str] = set()
    for template in (CONSOLE / "templates").glob("*.html"):
        used.update(re.findall(r't\(\s*"([a-z0-9_.-]+)"', template.read_text()))
        used.update(re.findall(r"t\(\s*'([a-z0-9_.-]+)'", template.read_text()))
    for script in (CONSOLE / "static" / "js").rglob("*.js"):
        used.update(re.findall(r'\bt\(\s*"([a-z0-9_.-]+)"', script.read_text()))
    used = {key for key in used if not key.endswith(".")}  # "class." ~ n: built, not named
    assert len(used) > 100
    assert used <= set(i18n.FR), sorted(used - set(i18n.FR))


def luminance(colour: str) -> float:
    """The relative luminance of a #rrggbb colour (WCAG 2)."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, two: str) -> float:
    """The WCAG contrast ratio of two colours."""
    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_colours_meet_wcag_aa_contrast() -> None:
    css = (CONSOLE / "static" / "console.css").read_text()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))
    for text in ("ink", "muted", "accent", "ok", "bad"):
        assert contrast(colours[text], colours["paper"]) >= 4.5, text
        assert contrast(colours[text], colours["band"]) >= 4.5, text
    assert contrast("#ffffff", colours["header"]) >= 4.5  # the header's links
    assert contrast(colours["focus"], colours["paper"]) >= 3  # a focus ring is not text
    assert contrast(colours["focus-dark"], colours["header"]) >= 3
