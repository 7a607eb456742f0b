"""Regenerate the console's screenshots: `.venv/bin/python -m tests.console.screenshots`.

They go to docs/console/. Serves Grand Livre on a fresh SQLite file, posts a few months of a
small company's entries through the API, then photographs the main pages in headless Chromium
(French). With `pngquant` on PATH (Debian package pngquant) the PNGs are reduced to a
64-colour palette, which keeps them small enough to commit.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.console.support import (
    Console,
    chromium,
    find,
    go,
    served_console,
    set_value,
    shows,
    sign_in,
)

OUT = Path(__file__).parents[2] / "docs" / "console"


def entry(
    journal: str,
    day: str,
    label: str,
    *lines: tuple[str, str, str],
    reference: str | None = None,
    party: str | None = None,
) -> dict[str, Any]:
    """An entry of (account, side, amount) lines; `party` goes on its customer line."""
    body: dict[str, Any] = {"journal": journal, "date": day, "label": label, "lines": []}
    for account, side, amount in lines:
        line = {"account": account, side: amount}
        if party and account.startswith("411"):
            line["third_party"] = party
        body["lines"].append(line)
    if reference:
        body["reference"] = reference
    return body


def seed(console: Console) -> None:
    """A small company's first months: sales, purchases, payments."""
    with console.api() as http:
        http.patch(
            "/api/v1/ledgers/main", json={"siren": "732829320", "name": "Atelier Dupuis SARL"}
        )
        for code, name in (("DUPONT", "Dupont SARL"), ("MARTIN", "Martin & Fils")):
            http.post(
                "/api/v1/ledgers/main/third-parties",
                json={"code": code, "name": name, "kind": "customer"},
            )
    entries = [
        entry(
            "BQ",
            "2026-01-05",
            "Apport en capital",
            ("512000", "debit", "20000.00"),
            ("101000", "credit", "20000.00"),
        ),
        entry(
            "AC",
            "2026-01-12",
            "Loyer janvier",
            ("613200", "debit", "1500.00"),
            ("445660", "debit", "300.00"),
            ("401000", "credit", "1800.00"),
            reference="L-2026-01",
        ),
        entry(
            "VE",
            "2026-02-10",
            "Facture F-2026-001",
            ("411000", "debit", "1200.00"),
            ("706000", "credit", "1000.00"),
            ("445710", "credit", "200.00"),
            reference="F-2026-001",
            party="DUPONT",
        ),
        entry(
            "VE",
            "2026-02-24",
            "Facture F-2026-002",
            ("411000", "debit", "3600.00"),
            ("706000", "credit", "3000.00"),
            ("445710", "credit", "600.00"),
            reference="F-2026-002",
            party="MARTIN",
        ),
        entry(
            "BQ",
            "2026-03-08",
            "Règlement F-2026-001",
            ("512000", "debit", "1200.00"),
            ("411000", "credit", "1200.00"),
            reference="F-2026-001",
            party="DUPONT",
        ),
        entry(
            "AC",
            "2026-03-15",
            "Fournitures de bureau",
            ("606400", "debit", "250.00"),
            ("445660", "debit", "50.00"),
            ("401000", "credit", "300.00"),
            reference="A-2026-014",
        ),
        entry(
            "VE",
            "2026-04-02",
            "Facture F-2026-003",
            ("411000", "debit", "2400.00"),
            ("706000", "credit", "2000.00"),
            ("445710", "credit", "400.00"),
            reference="F-2026-003",
            party="DUPONT",
        ),
        entry(
            "BQ",
            "2026-04-20",
            "Règlement fournisseur",
            ("401000", "debit", "1800.00"),
            ("512000", "credit", "1800.00"),
        ),
        entry(
            "BQ",
            "2026-05-11",
            "Règlement F-2026-002",
            ("512000", "debit", "3600.00"),
            ("411000", "credit", "3600.00"),
            reference="F-2026-002",
            party="MARTIN",
        ),
    ]
    for item in entries:
        console.post_entry(item)


def shoot(driver: WebDriver, name: str) -> None:
    """Save the visible page as docs/console/<name>.png, palette-reduced when possible."""
    target = OUT / f"{name}.png"
    driver.save_screenshot(str(target))
    pngquant = shutil.which("pngquant")
    if pngquant:
        subprocess.run(
            [pngquant, "--force", "--skip-if-larger", "--output", str(target), "64", str(target)],
            check=False,
        )
    print(f"{target.relative_to(OUT.parents[1])}: {target.stat().st_size // 1024} KiB")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        served_console(Path(tmp)) as console,
        chromium(Path(tmp)) as driver,
    ):
        driver.set_window_size(1200, 820)
        seed(console)
        sign_in(driver, console, "admin")
        shoot(driver, "accounts")
        go(driver, console, "/accounts/411000")
        shows(driver, "Règlement F-2026-002", "#movements")
        find(driver, "#chart canvas")
        shoot(driver, "account")
        go(driver, console, "/journal")
        shows(driver, "Facture F-2026-003", "#entries")
        driver.find_element(By.TAG_NAME, "body").send_keys("\ue015")  # ArrowDown: a row in focus
        shoot(driver, "journal")
        go(driver, console, "/entries/new")
        find(driver, "#journal option[value='VE']").click()
        set_value(driver, driver.find_element(By.ID, "date"), "2026-05-20")
        driver.find_element(By.ID, "label").send_keys("Facture F-2026-004")
        rows = driver.find_elements(By.CSS_SELECTOR, "#lines tr.line")
        for row, (account, side, amount) in zip(
            rows, [("411000", "debit", "960"), ("706000", "credit", "800")], strict=True
        ):
            row.find_element(By.CSS_SELECTOR, "[name=account]").send_keys(account)
            row.find_element(By.CSS_SELECTOR, f"[name={side}]").send_keys(amount)
        shows(driver, "reste 160,00", "#balance")
        shoot(driver, "entry")
        go(driver, console, "/trial-balance")
        shows(driver, "706000", "#trial")
        shoot(driver, "trial-balance")
        go(driver, console, "/statements")
        shows(driver, "Bénéfice", "#income")
        shoot(driver, "statements")
        go(driver, console, "/accounts/411000/lettering")
        shows(driver, "Facture F-2026-003", "#open")
        shoot(driver, "lettering")
        go(driver, console, "/status")
        shows(driver, "Actualisé", "#refreshed")
        with httpx.Client(base_url=console.base_url) as http:
            for _ in range(5):  # a few refreshes with some traffic, so the chart has a line
                for _ in range(30):
                    http.get("/api/v1/healthz")
                time.sleep(3)  # a script, not a test: the page refreshes every three seconds
        shoot(driver, "status")


if __name__ == "__main__":
    sys.exit(main())
