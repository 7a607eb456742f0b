"""The status page follows the storage: a served Grand Livre on a private PostgreSQL, which the
test stops (the page says fallback, since when, and the write it took waits for replay) and
starts again (the page is back on primary with nothing left to replay). The page refreshes
itself: nothing reloads it.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.console.support import (
    chromium,
    clickable,
    find,
    go,
    hides,
    served_console,
    shows,
    sign_in,
)
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster, can_run_private_cluster

pytestmark = pytest.mark.slow

# Probe fast, as tests/failover does: fallback within about a second, back within two.
FAST = {
    "PROBE_INTERVAL": "0.2",
    "PROBE_TIMEOUT": "0.5",
    "PROBE_FAILURES": "2",
    "PROBE_SUCCESSES": "2",
    "DB_CONNECT_TIMEOUT": "1.0",
    "DB_COMMAND_TIMEOUT": "2.0",
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    """A private PostgreSQL this module may stop and start (never the shared one)."""
    problem = can_run_private_cluster()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{problem} (CI=true: this test may not skip)")
        pytest.skip(problem)
    private = PrivateCluster()
    private.start()
    yield private
    private.destroy()


def wait_for_mirror(base_url: str) -> None:
    """Wait until the fallback mirror has completed a copy (a fallback without one refuses)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (
            httpx.get(f"{base_url}/api/v1/healthz", timeout=5).json()["mirror_lag_seconds"]
            is not None
        ):
            return
        time.sleep(0.2)  # polling the service's own probe: there is no event to wait on
    pytest.fail("the mirror never completed its first copy")


def test_the_status_page_shows_fallback_while_postgresql_is_down_and_primary_when_back(
    cluster: PrivateCluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory = tmp_path_factory.mktemp("status")
    name = asyncio.run(cluster.create_database(f"console_{uuid.uuid4().hex[:8]}"))
    env = {
        "DATABASE_URL": cluster.url(name),
        "FALLBACK_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'fallback.db'}",
        **FAST,
    }
    with served_console(directory, **env) as console, chromium(directory) as browser:
        wait_for_mirror(console.base_url)
        sign_in(browser, console, "admin")
        go(browser, console, "/status")
        shows(browser, "primaire (PostgreSQL)", "#mode")
        shows(browser, "Aucun conflit", "#conflicts-note")
        since = "dl#facts dd:nth-of-type(2)"
        assert find(browser, since).text == "—"

        cluster.stop()
        try:
            shows(browser, "secours (SQLite)", "#mode", seconds=30)
            assert find(browser, since).text != "—"
            console.post_entry(
                {
                    "journal": "OD",
                    "date": "2026-05-04",
                    "label": "Pendant la panne",
                    "lines": [
                        {"account": "606100", "debit": "5.00"},
                        {"account": "401000", "credit": "5.00"},
                    ],
                }
            )
            shows(browser, "Écritures à rejouer 1", "#facts", seconds=30)
        finally:
            cluster.start()
        shows(browser, "primaire (PostgreSQL)", "#mode", seconds=45)
        shows(browser, "Écritures à rejouer 0", "#facts")
        assert find(browser, since).text == "—"
        assert "Version" in browser.find_element(By.ID, "facts").text
        assert browser.find_elements(By.CSS_SELECTOR, "#chart canvas")


def test_an_admin_sees_replay_conflicts_with_their_reason_and_discards_one_retries_one(
    cluster: PrivateCluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory = tmp_path_factory.mktemp("conflict")
    name = asyncio.run(cluster.create_database(f"console_{uuid.uuid4().hex[:8]}"))
    proxy = LoopbackProxy("127.0.0.1", cluster.port).start()
    env = {
        "DATABASE_URL": cluster.url(name, port=proxy.port),
        "FALLBACK_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'fallback.db'}",
        **FAST,
    }
    try:
        with served_console(directory, **env) as console, chromium(directory) as browser:
            wait_for_mirror(console.base_url)
            sign_in(browser, console, "admin")
            go(browser, console, "/status")
            shows(browser, "Aucun conflit", "#conflicts-note")
            # The service loses PostgreSQL (which goes on running) and takes a write meanwhile.
            proxy.cut()
            shows(browser, "secours (SQLite)", "#mode", seconds=30)
            for label, amount in (
                ("Achat sur un compte fermé depuis", "7.00"),
                ("Achat à rejouer une fois le compte rouvert", "9.00"),
            ):
                console.post_entry(
                    {
                        "journal": "OD",
                        "date": "2026-05-06",
                        "label": label,
                        "lines": [
                            {"account": "606100", "debit": amount},
                            {"account": "401000", "credit": amount},
                        ],
                    }
                )
            # Meanwhile its account is deactivated on PostgreSQL: the replay will refuse it.
            asyncio.run(
                cluster.fetch(name, "UPDATE accounts SET active = false WHERE number = '606100'")
            )
            proxy.restore()
            shows(browser, "primaire (PostgreSQL)", "#mode", seconds=45)
            shows(browser, "inactive-account", "#conflicts", seconds=30)
            shows(browser, "606100", "#conflicts")
            shows(browser, "Conflits de rejeu 2", "#facts", seconds=30)

            clickable(browser, "#conflicts button.danger").click()  # no reason yet: refused
            assert browser.switch_to.active_element.get_attribute("aria-invalid") == "true"
            browser.switch_to.active_element.send_keys("ressaisie à la main")
            clickable(browser, "#conflicts button.danger").click()
            shows(browser, "Conflits de rejeu 1", "#facts")

            # The account is open again: the other write is retried from the page, and lands.
            asyncio.run(
                cluster.fetch(name, "UPDATE accounts SET active = true WHERE number = '606100'")
            )
            find(browser, "#conflicts input").send_keys("compte rouvert")
            clickable(browser, "#conflicts button:not(.danger)").click()
            shows(browser, "Aucun conflit", "#conflicts-note", seconds=30)
            shows(browser, "Conflits de rejeu 0", "#facts")
            hides(browser, "inactive-account", "#conflicts")
            labels = asyncio.run(
                cluster.fetch(name, "SELECT label FROM entries WHERE label LIKE 'Achat%'")
            )
            assert [row[0] for row in labels] == ["Achat à rejouer une fois le compte rouvert"]
    finally:
        proxy.stop()
