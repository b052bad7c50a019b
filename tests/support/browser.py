"""Debian's Chromium driven by Playwright, for the browser tests; never downloads a browser.

Without Chromium (scripts/install-chromium.sh) or Playwright a browser test is skipped
here and fails in CI (`tests.support.required`). `browser` and `page` are fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from domain.config import ROOT
from tests.support.required import missing, skip_unless_ci

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
# Chromium as the machine allows it: no sandbox (root in a container), no GPU, and no
# calls home (the network is closed; they would only fail and slow the start).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 20_000

# For a test module's `pytestmark`.
needs_chromium = skip_unless_ci(
    not CHROMIUM.exists(), f"{CHROMIUM} is missing: run scripts/install-chromium.sh"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Launch Debian's Chromium headless; never download a browser."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is missing: run scripts/install-chromium.sh first")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (a dev dependency): pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


def desktop_context(browser: Browser) -> BrowserContext:
    """Open a fresh context (its own sessionStorage), desktop-sized, German, with timeouts."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="de-DE")
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """Open a fresh browser context with a desktop-sized page."""
    context = desktop_context(browser)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()
