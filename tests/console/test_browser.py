"""The console in a real browser, against a really served Grand Livre (SQLite).

One server and one Chromium for the module; the scenarios build on the same books in the
order they are written, as an accountant's day would: sign in, post an invoice through the
form (an unbalanced one is refused there, an unknown account is shown on its line), find it
in the journal and the trial balance, save and validate a draft, reverse an entry, letter an
invoice with its payment, download the FEC. Each assertion is about what the page shows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from tests.console.support import (
    Console,
    chromium,
    clickable,
    find,
    go,
    hides,
    served_console,
    set_value,
    shows,
    sign_in,
    wait,
)

pytestmark = pytest.mark.slow

INVOICE = "Facture F-2026-001"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A served Grand Livre with a customer, DUPONT, and a SIREN for its FEC."""
    with served_console(tmp_path_factory.mktemp("console")) as served, served.api() as http:
        response = http.patch("/api/v1/ledgers/main", json={"siren": "732829320"})
        assert response.status_code == 200, response.text
        response = http.post(
            "/api/v1/ledgers/main/third-parties",
            json={"code": "DUPONT", "name": "Dupont SARL", "kind": "customer"},
        )
        assert response.status_code == 201, response.text
        yield served


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[WebDriver]:
    with chromium(downloads) as driver:
        yield driver


def wait_for_file(directory: Path, name: str, encoding: str = "utf-8") -> str:
    """Wait for a download to be saved whole, and return its text."""
    target = directory / name
    deadline = time.monotonic() + 15
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # a file system event, not a page: nothing to wait on explicitly
    assert target.exists(), sorted(p.name for p in directory.iterdir())
    return target.read_bytes().decode(encoding)


def line(driver: WebDriver, index: int, **fields: str) -> None:
    """Type into the fields of the form's line `index` (adding lines as needed)."""
    while len(driver.find_elements(By.CSS_SELECTOR, "#lines tr.line")) <= index:
        count = len(driver.find_elements(By.CSS_SELECTOR, "#lines tr.line"))
        driver.find_element(By.ID, "add-line").click()
        wait(driver).until(
            lambda d, n=count: len(d.find_elements(By.CSS_SELECTOR, "#lines tr.line")) > n
        )
    row = driver.find_elements(By.CSS_SELECTOR, "#lines tr.line")[index]
    for name, value in fields.items():
        field = row.find_element(By.CSS_SELECTOR, f"[name={name}]")
        field.clear()
        field.send_keys(value)


def open_form(driver: WebDriver, console: Console, journal: str, day: str, label: str) -> None:
    """Open the entry form and fill its heading fields."""
    go(driver, console, "/entries/new")
    wait(driver).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f"#journal option[value='{journal}']")
    )
    driver.find_element(By.CSS_SELECTOR, f"#journal option[value='{journal}']").click()
    set_value(driver, driver.find_element(By.ID, "date"), day)
    driver.find_element(By.ID, "label").send_keys(label)


def test_sign_in_refuses_a_wrong_key_and_shows_the_role(
    browser: WebDriver, console: Console
) -> None:
    go(browser, console, "/signin")
    find(browser, "#key").send_keys("gl_not-a-key")
    browser.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
    shows(browser, "Cette clé est refusée", "#key-error")
    assert browser.execute_script("return sessionStorage.getItem('gl.key')") is None

    sign_in(browser, console, "viewer")
    shows(browser, "lecture seule", "#gl-role")
    shows(browser, "411000", "#accounts")
    # The key is in this tab's session storage, never in a cookie or the address.
    assert (
        browser.execute_script("return sessionStorage.getItem('gl.key')") == console.keys["viewer"]
    )
    assert browser.get_cookies() == []
    assert console.keys["viewer"] not in browser.current_url


def test_a_viewer_is_offered_no_write_control(browser: WebDriver, console: Console) -> None:
    sign_in(browser, console, "viewer")
    nav = browser.find_element(By.CSS_SELECTOR, "header nav")
    assert "Nouvelle écriture" not in nav.text
    assert "Plan comptable" in nav.text
    go(browser, console, "/entries/new")
    shows(browser, "lecture seule", "#gl-alert")
    assert not browser.find_element(By.ID, "entry").is_displayed()


def test_the_chart_of_accounts_is_searched_by_number_and_name_and_filtered_by_class(
    browser: WebDriver, console: Console
) -> None:
    sign_in(browser, console, "accountant")
    shows(browser, "comptable", "#gl-role")
    # "/" focuses the search field.
    browser.find_element(By.TAG_NAME, "body").send_keys("/")
    assert browser.switch_to.active_element.get_attribute("id") == "q"
    browser.switch_to.active_element.send_keys("4457")
    shows(browser, "445710", "#accounts")
    hides(browser, "411000", "#accounts")
    search = browser.find_element(By.ID, "q")
    set_value(browser, search, "")
    search.send_keys("ventes de marchandises")
    shows(browser, "707", "#accounts")
    set_value(browser, search, "")
    browser.find_element(By.CSS_SELECTOR, "#class option[value='5']").click()
    hides(browser, "411000", "#accounts")
    shows(browser, "512000", "#accounts")


def test_an_entry_is_posted_through_the_form_and_an_unbalanced_one_cannot_be(
    browser: WebDriver, console: Console
) -> None:
    sign_in(browser, console, "accountant")
    # "n" opens a new entry.
    browser.find_element(By.TAG_NAME, "body").send_keys("n")
    shows(browser, "Nouvelle écriture", "h1")
    open_form(browser, console, "VE", "2026-03-10", INVOICE)
    browser.find_element(By.ID, "reference").send_keys("F-2026-001")
    line(browser, 0, account="411000", third_party="DUPONT", debit="1 200,00")
    line(browser, 1, account="706000", credit="1000")
    line(browser, 2, account="445710", credit="150")
    shows(browser, "Déséquilibrée : reste 50,00 € à répartir", "#balance")
    shows(browser, "1 200,00 €", "#total-debit")
    shows(browser, "1 150,00 €", "#total-credit")
    assert not browser.find_element(By.ID, "post").is_enabled()
    assert not browser.find_element(By.ID, "save-draft").is_enabled()

    # Balanced, but on an account the chart lacks: the API's problem shows on that line.
    line(browser, 2, account="445799", credit="200")
    shows(browser, "Équilibrée", "#balance")
    clickable(browser, "#post").click()
    shows(browser, "445799", "#lines tr.line:nth-child(3) [data-error=account]")
    shows(browser, "445799", "#gl-alert")

    line(browser, 2, account="445710")
    clickable(browser, "#post").click()
    shows(browser, "Validée", "#posted-facts")
    shows(browser, INVOICE, "h1")
    # The sealer numbers and chains it within about a second; the page shows both.
    shows(browser, "Numéro 1", "#posted-facts")
    facts = browser.find_element(By.ID, "posted-facts").text
    assert re.search(r"\b[0-9a-f]{64}\b", facts), facts
    assert "Validée le" in facts
    shows(browser, "1 200,00 €", "#posted-lines")
    shows(browser, "DUPONT", "#posted-lines")


def test_the_entry_is_in_the_journal_and_the_trial_balance(
    browser: WebDriver, console: Console, downloads: Path
) -> None:
    sign_in(browser, console, "viewer")
    go(browser, console, "/journal")
    shows(browser, INVOICE, "#entries")
    shows(browser, "10/03/2026", "#entries")
    shows(browser, "1 200,00 €", "#entries")
    # The arrows move through the entries, Enter opens the one in focus.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_DOWN)
    focused = browser.switch_to.active_element
    assert focused.tag_name == "tr"
    assert INVOICE in focused.text
    focused.send_keys(Keys.ENTER)
    shows(browser, INVOICE, "h1")

    go(browser, console, "/trial-balance")
    shows(browser, "706000", "#trial")
    row = browser.find_element(By.XPATH, "//table[@id='trial']//tr[td/a[text()='706000']]")
    assert "1 000,00 €" in row.text.replace("\u202f", " ")
    shows(browser, "Classe 7", "#trial")
    shows(browser, "1 200,00 €", "#trial tfoot")
    # Downloaded with the key (fetched, then saved): the CSV of the same balance.
    clickable(browser, "[data-download=csv]").click()
    csv = wait_for_file(downloads, "balance-generale-main-2026-01-01-2026-12-31.csv")
    assert "706000" in csv


def test_a_draft_is_saved_then_validated(browser: WebDriver, console: Console) -> None:
    sign_in(browser, console, "accountant")
    open_form(browser, console, "OD", "2026-03-15", "Régularisation à valider")
    line(browser, 0, account="606100", debit="80")
    line(browser, 1, account="401000", credit="80")
    clickable(browser, "#save-draft").click()
    shows(browser, "Brouillon enregistré", "#gl-alert")
    shows(browser, "Brouillon", "h1")
    assert browser.find_element(By.ID, "validate").is_displayed()
    assert not browser.find_element(By.ID, "post").is_displayed()
    # A draft is edited in the same form: here its amount, on both lines.
    line(browser, 0, debit="90")
    shows(browser, "reste 10,00", "#balance")
    line(browser, 1, credit="90")
    clickable(browser, "#save-draft").click()
    shows(browser, "Brouillon enregistré", "#gl-alert")
    shows(browser, "90,00 €", "#total-debit")

    go(browser, console, "/journal#status=draft")
    shows(browser, "Régularisation à valider", "#entries")
    browser.find_element(By.LINK_TEXT, "15/03/2026").click()
    clickable(browser, "#validate").click()
    shows(browser, "Écriture validée", "#gl-alert")
    shows(browser, "Validée", "#posted-facts")
    shows(browser, "Numéro 1", "#posted-facts")  # the first of journal OD


def test_a_posted_entry_is_reversed_from_its_page(browser: WebDriver, console: Console) -> None:
    posted = console.post_entry(
        {
            "journal": "OD",
            "date": "2026-04-02",
            "label": "Erreur de saisie",
            "lines": [
                {"account": "606300", "debit": "12.00"},
                {"account": "401000", "credit": "12.00"},
            ],
        }
    )
    sign_in(browser, console, "accountant")
    go(browser, console, f"/entries/{posted['id']}")
    clickable(browser, "#reverse").click()
    wait(browser).until(ec.alert_is_present()).accept()
    shows(browser, "Extourne de Erreur de saisie", "h1")
    shows(browser, posted["id"], "#posted-facts")
    assert not browser.find_element(By.ID, "reverse").is_displayed()


def test_an_invoice_is_lettered_with_its_payment_then_unlettered(
    browser: WebDriver, console: Console
) -> None:
    console.post_entry(
        {
            "journal": "BQ",
            "date": "2026-04-10",
            "label": "Règlement F-2026-001",
            "lines": [
                {"account": "512000", "debit": "1200.00"},
                {"account": "411000", "credit": "1200.00", "third_party": "DUPONT"},
            ],
        }
    )
    sign_in(browser, console, "accountant")
    go(browser, console, "/third-parties")
    shows(browser, "Dupont SARL", "#parties")
    browser.find_element(By.LINK_TEXT, "DUPONT").click()
    shows(browser, "Lettrage · 411000", "h1")
    wait(browser).until(
        lambda d: d.find_element(By.ID, "third_party").get_attribute("value") == "DUPONT"
    )
    shows(browser, "Règlement F-2026-001", "#open")
    shows(browser, INVOICE, "#open")
    match = browser.find_element(By.ID, "match")
    assert not match.is_enabled()
    browser.find_element(By.XPATH, "//tr[td/a[text()='" + INVOICE + "']]//input").click()
    shows(browser, "écart 1 200,00 €", "#selection")
    assert not match.is_enabled()
    browser.find_element(By.XPATH, "//tr[td/a[text()='Règlement F-2026-001']]//input").click()
    shows(browser, "soldées", "#selection")
    clickable(browser, "#match").click()
    shows(browser, "Lettrage A posé", "#gl-alert")
    shows(browser, "Aucune ligne ouverte", "#open")
    shows(browser, "1 200,00 €", "#matches")

    clickable(browser, "#matches button").click()
    shows(browser, "Lettrage A retiré", "#gl-alert")
    shows(browser, INVOICE, "#open")


def test_the_fec_of_a_fiscal_year_is_downloaded(
    browser: WebDriver, console: Console, downloads: Path
) -> None:
    sign_in(browser, console, "viewer")
    go(browser, console, "/fiscal-years")
    shows(browser, "2026", "#years")
    assert "Clôturer" not in browser.find_element(By.ID, "years").text  # admins only
    clickable(browser, "#years button").click()
    text = wait_for_file(downloads, "732829320FEC20261231.txt", "iso-8859-15")
    assert text.startswith("JournalCode|JournalLib|EcritureNum"), text[:200]
    assert "F-2026-001" in text


def test_the_closing_is_a_dry_run_first(browser: WebDriver, console: Console) -> None:
    sign_in(browser, console, "admin")
    go(browser, console, "/fiscal-years")
    clickable(browser, "#years button:nth-of-type(2)").click()
    shows(browser, "Clôture de l'exercice 2026 (simulation)", "#closing")
    shows(browser, "Résultat", "#closing-facts")
    shows(browser, "120000", "#closing-entries")
    browser.find_element(By.ID, "cancel-close").click()
    assert not browser.find_element(By.ID, "closing").is_displayed()
    with console.api() as http:
        year = http.get("/api/v1/ledgers/main/fiscal-years/2026").json()
    assert year["status"] == "open"  # the dry run wrote nothing


def test_pages_switch_to_english_and_keep_it(browser: WebDriver, console: Console) -> None:
    sign_in(browser, console, "viewer")
    browser.find_element(By.CSS_SELECTOR, "header .lang").click()
    shows(browser, "Chart of accounts", "h1")
    browser.find_element(By.LINK_TEXT, "Journal").click()
    shows(browser, INVOICE, "#entries")
    shows(browser, "2026-03-10", "#entries")
    shows(browser, "€1,200.00", "#entries")
    assert "lang=en" in browser.current_url


def test_the_status_chart_opens_on_the_minutes_before(browser: WebDriver, console: Console) -> None:
    # The service samples its counters every 10 s; once it holds two samples, a status page
    # just opened draws the rate between them before its own first refresh adds any.
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline:
        with console.api() as http:
            body = http.get("/metrics", headers={"Accept": "application/json"}).json()
        if len(body["history"]) >= 2:
            break
        time.sleep(0.5)
    assert len(body["history"]) >= 2, body["history"]
    go(browser, console, "/status")
    find(browser, "#chart canvas")
    points = int(browser.find_element(By.ID, "chart").get_attribute("data-points") or 0)
    assert points >= 1
    shows(browser, "dernières minutes", "main")
