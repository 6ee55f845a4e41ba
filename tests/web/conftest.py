"""The console's browser rig: Debian's chromium driven by Playwright's async API on the test's
own event loop, beside the real engine of the API rig (``tests/dialer/api/conftest.py``: the
embedded PostgreSQL, the simulated PBX over TCP, the HTTP API on a free port).

The simulated world runs at 0.3 of real time here (the API tests' 0.1 is too quick for a
person, and for a browser to see a call connected): a ``+100...`` customer rings 0.3 s and
talks 2.4 s, a ``+300...`` one never answers. Screenshots of the main screens go to a
temporary folder, or, with ``DIALER_UPDATE_SCREENSHOTS=1``, to ``docs/screenshots/`` (the
README shows them): a test run does not rewrite tracked files unless asked to.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.dialer.api.conftest import PASSWORD, Rig, rig_on

CHROMIUM = "/usr/bin/chromium"  # Debian's: no browser download is possible (.ci/run installs it)
SHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("DIALER_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "dialer-screenshots"
)
TIME_SCALE = 0.3
TIMEOUT_MS = 20_000  # a shared machine under load: generous, and only ever waited out on failure
expect.set_options(timeout=TIMEOUT_MS)


@dataclass
class Console:
    rig: Rig
    browser: Browser

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rig.port}/"

    async def page(self, locale: str = "en-US") -> Page:
        """A fresh browser context (its own session) on the console's page."""
        context = await self.browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(self.url)
        return page

    async def sign_in(self, page: Page, name: str) -> None:
        await page.fill("#login-name", name)
        await page.fill("#login-password", PASSWORD)
        await page.click("#login-submit")
        await page.wait_for_selector("#sign-out")

    async def open_screen(self, page: Page, screen: str) -> None:
        """Open a screen from the header: its own link, or its group's menu first (main.js)."""
        link = f"a[href='#/{screen}']"
        if not await page.locator(f"header nav {link}").is_visible():
            await page.locator("header nav details.menu", has=page.locator(link)).locator("summary").click()
        await page.locator(f"header nav {link}").click()

    async def shot(self, page: Page, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def api_dsn(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture
async def console(api_dsn: str, tmp_path: Any) -> AsyncIterator[Console]:
    async with rig_on(api_dsn, tmp_path, time_scale=TIME_SCALE) as rig, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield Console(rig, browser)
        finally:
            await browser.close()
