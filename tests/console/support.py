"""Helpers for the console's browser tests: Debian's Chromium through Selenium, a served
Grand Livre, and waits on what a user sees.

The browser is Chromium headless (`--no-sandbox`: the tests run as root) driven by Debian's
chromedriver; `.ci/run` installs both when they are missing. Without them the browser tests
skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import bearer
from tests.ops.support import cli_env, create_key_with_cli, serving, sqlite_url

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 15
FISCAL_YEAR_START = "2026-01-01"
# The console makes several API calls a page; the tests are not about rate limits.
UNLIMITED = {"RATE_LIMIT": "1000000/minute", "RATE_LIMIT_ANONYMOUS": "1000000/minute"}


def require_chromium() -> None:
    """Skip without Chromium and its driver, except under CI=true where that fails."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if shutil.which(path) is None]
    if not missing:
        return
    why = f"{', '.join(missing)} missing (apt-get install chromium chromium-driver)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{why}; CI=true: the browser tests may not skip")
    pytest.skip(why)


@contextmanager
def chromium(downloads: Path) -> Iterator[WebDriver]:
    """A headless Chromium in French whose downloads land in `downloads`."""
    require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1200,900",
        "--lang=fr-FR",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "intl.accept_languages": "fr-FR,fr",
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@dataclass
class Console:
    """A served Grand Livre, keys of each role, and an API client to prepare the books."""

    base_url: str
    keys: dict[str, str]
    log: Path

    def api(self, role: str = "admin") -> httpx.Client:
        """A client of the served API with the key of `role`."""
        return httpx.Client(base_url=self.base_url, headers=bearer(self.keys[role]), timeout=15)

    def post_entry(self, entry: dict[str, Any], ledger: str = "main") -> dict[str, Any]:
        """Post an entry through the API (to prepare a scenario) and return it."""
        with self.api("accountant") as http:
            response = http.post(f"/api/v1/ledgers/{ledger}/entries", json=entry)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


@contextmanager
def served_console(directory: Path, **env: str) -> Iterator[Console]:
    """Serve Grand Livre on SQLite in `directory`, with a key of each role."""
    database_url = env.pop("DATABASE_URL", None) or sqlite_url(directory)
    admin = create_key_with_cli(database_url, directory, role="admin", name="console-admin")
    environment = cli_env(
        database_url,
        LOG_LEVEL="WARNING",
        SEED_FISCAL_YEAR_START=FISCAL_YEAR_START,
        **UNLIMITED,
        **env,
    )
    log = directory / "serve.log"
    with serving(environment, directory, log) as (base_url, _process):
        keys = {"admin": admin}
        with httpx.Client(base_url=base_url, headers=bearer(admin), timeout=15) as http:
            for role in ("accountant", "viewer"):
                response = http.post("/api/v1/keys", json={"name": f"console-{role}", "role": role})
                assert response.status_code == 201, response.text
                keys[role] = response.json()["key"]
        yield Console(base_url, keys, log)


def wait(driver: WebDriver, seconds: float = WAIT_SECONDS) -> WebDriverWait[WebDriver]:
    """An explicit wait of the test's patience."""
    return WebDriverWait(driver, seconds)


def shows(driver: WebDriver, text: str, css: str = "main", seconds: float = WAIT_SECONDS) -> None:
    """Wait until the element at `css` shows `text` (spaces of every width read as one)."""

    def present(d: WebDriver) -> bool:
        for element in d.find_elements(By.CSS_SELECTOR, css):
            try:
                if normalise(text) in normalise(element.text):
                    return True
            except Exception:  # the element was replaced while read: look again
                continue
        return False

    try:
        wait(driver, seconds).until(present)
    except TimeoutException:
        seen = " | ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, css))
        logs = "\n".join(str(e) for e in driver.get_log("browser"))
        pytest.fail(f"{text!r} never showed in {css!r}; it shows:\n{seen}\nbrowser log:\n{logs}")


def hides(driver: WebDriver, text: str, css: str, seconds: float = WAIT_SECONDS) -> None:
    """Wait until no element at `css` shows `text` any more."""

    def absent(d: WebDriver) -> bool:
        try:
            return all(
                normalise(text) not in normalise(e.text)
                for e in d.find_elements(By.CSS_SELECTOR, css)
            )
        except Exception:  # replaced while read: look again
            return False

    try:
        wait(driver, seconds).until(absent)
    except TimeoutException:
        pytest.fail(f"{text!r} still shows in {css!r}")


def normalise(text: str) -> str:
    """Read every kind of space (Intl's narrow no-break space in `1 234,56 €`) as a space."""
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def find(driver: WebDriver, css: str) -> WebElement:
    """Wait for an element to be visible and return it."""
    element: WebElement = wait(driver).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, css))
    )
    return element


def clickable(driver: WebDriver, css: str) -> WebElement:
    """Wait for an element to be enabled and visible and return it."""
    element: WebElement = wait(driver).until(ec.element_to_be_clickable((By.CSS_SELECTOR, css)))
    return element


def set_value(driver: WebDriver, element: WebElement, value: str) -> None:
    """Set a field's value as typing would, with its input event (date fields included,
    whose typed form depends on the browser's locale)."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
        element,
        value,
    )


def sign_in(driver: WebDriver, console: Console, role: str) -> None:
    """Sign in through the sign-in page with the key of `role`; wait for the first page."""
    driver.get(f"{console.base_url}/signin")
    key = find(driver, "#key")
    key.clear()
    key.send_keys(console.keys[role])
    driver.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
    shows(driver, "Plan comptable", "h1")
    shows(driver, "comptes", "#count")


def go(driver: WebDriver, console: Console, path: str) -> None:
    """Open a console page."""
    driver.get(f"{console.base_url}{path}")
