"""The console's KPI panel in a real browser (Debian's Chromium driven by Playwright).

The gateway runs in this process (uvicorn in a thread) on a migrated SQLite file seeded
with the March 2026 of tests/api/test_kpis.py: no Rasa is needed to read KPIs. An agent
logs in, opens the panel, picks March and sees the numbers as tiles and SVG bar charts,
filters by creditor, and gets a clear message for an empty period. A screenshot is kept
in `artifacts/console-kpis.png`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

from api.agents import service as agents_service
from api.config import ROOT, get_settings
from api.db import session_scope
from api.db.core import get_engine
from api.db.migrate import upgrade
from api.main import create_app
from tests.api.test_kpis import seed_march
from tests.integration import test_console_browser as console_browser
from tests.support.stack import _free_port

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Debian's Chromium as the console browser test launches it (same skip rules in and out of CI).
pytestmark = console_browser.pytestmark
browser = console_browser.browser
page = console_browser.page
ARTIFACTS = console_browser.ARTIFACTS
EMAIL = "kpi-agent@quitt.test"
PASSWORD = "correct-horse-battery"


def _clear_caches() -> None:
    """Forget the cached settings and engine, so the next use reads this test's."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def kpi_gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the gateway in-process on a free port over a database seeded with March 2026."""
    url = f"sqlite:///{tmp_path / 'quitt.db'}"
    upgrade(url)
    port = _free_port()
    for key, value in {
        "QUITT_DATABASE_URL": url,
        "QUITT_ENVIRONMENT": "test",
        "QUITT_SENTIMENT_BACKEND": "off",
        "QUITT_STT_BACKEND": "off",
        "QUITT_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("QUITT_REDIS_URL", raising=False)
    _clear_caches()
    demo = json.loads((ROOT / "data" / "demo_claims.json").read_text(encoding="utf-8"))
    with session_scope() as db_session:
        seed_march(db_session, demo)
        agents_service.create_agent(
            db_session=db_session, email=EMAIL, password=PASSWORD, role="agent"
        )
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="kpi-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        _clear_caches()


def show(page: Page, start: str, end: str, creditor: str = "") -> None:
    """Pick a period (and a creditor) in the panel and show it."""
    page.fill("#kpi-from", start)
    page.fill("#kpi-to", end)
    page.fill("#kpi-creditor", creditor)
    page.click("#kpi-show")


def test_an_agent_sees_the_month_s_kpis_as_charts(kpi_gateway: str, page: Page) -> None:
    """Log in, open the KPI panel, read March's numbers, filter, and meet a bad period."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.goto(f"{kpi_gateway}/console")
        page.fill("#login-email", EMAIL)
        page.fill("#login-password", PASSWORD)
        page.click("#login-button")
        expect(page.locator("#agent-label")).to_contain_text(EMAIL)

        page.click("#kpi-button")
        panel = page.locator("#kpi-panel")
        expect(panel).to_be_visible()
        expect(page.locator(".queue-pane")).to_be_hidden()
        show(page, "2026-03-01", "2026-03-31")
        expect(page.locator("#kpi-status")).to_contain_text("2026-03-01 bis 2026-03-31")

        tile = lambda key: page.locator(f'[data-kpi="{key}"] .kpi-tile-value')  # noqa: E731
        expect(tile("conversations")).to_have_text("7")
        expect(tile("verified")).to_have_text("6")
        expect(tile("promises")).to_have_text("4")
        expect(tile("containment")).to_have_text("42,9 %")
        expect(tile("kept-rate")).to_have_text("25,0 %")
        expect(tile("broken-rate")).to_have_text("25,0 %")
        expect(tile("handoffs")).to_have_text("4")

        def bar(chart: str, key: str) -> object:
            return page.locator(f'[data-chart="{chart}"] [data-value="{key}"]')

        expect(bar("funnel", "contained")).to_have_text("3")
        for kind in ("full", "settlement", "instalment_plan", "deferral"):
            expect(bar("kinds", kind)).to_have_text("1")
        expect(bar("statuses", "pending")).to_have_text("2")
        expect(bar("statuses", "kept")).to_have_text("1")
        expect(bar("statuses", "broken")).to_have_text("1")
        expect(bar("amounts", "promised-EUR")).to_have_text("2.360,77 €")
        expect(bar("amounts", "received-EUR")).to_have_text("1.592,11 €")
        expect(bar("handoffs", "broken_promise")).to_have_text("1")
        expect(bar("handoffs", "bereavement")).to_have_text("0")
        handoffs = page.locator('[data-chart="handoffs"]')
        expect(handoffs).to_contain_text("Zahlungszusage gebrochen")
        expect(handoffs.locator(".kpi-bar")).to_have_count(11)  # every reason, 0 or not
        # The bars are drawn to scale: the kept bar is as long as the broken one.
        kept = page.locator('[data-chart="statuses"] [data-key="kept"] .kpi-bar-fill')
        pending = page.locator('[data-chart="statuses"] [data-key="pending"] .kpi-bar-fill')
        kept_width = float(kept.get_attribute("width") or 0)
        assert float(pending.get_attribute("width") or 0) == pytest.approx(2 * kept_width)
        page.screenshot(path=str(ARTIFACTS / "console-kpis.png"), full_page=True)

        # One creditor: its own part of the plan over two creditors.
        show(page, "2026-03-01", "2026-03-31", creditor="modehaus-nord")
        expect(tile("conversations")).to_have_text("3")
        expect(bar("amounts", "promised-EUR")).to_have_text("370,00 €")
        expect(bar("amounts", "received-EUR")).to_have_text("50,00 €")

        # An empty period is refused with the server's words.
        show(page, "2026-03-31", "2026-03-01")
        expect(page.locator("#kpi-status")).to_contain_text(
            "from (2026-03-31) is after to (2026-03-01)"
        )

        # Back to the queue.
        page.click("#kpi-close")
        expect(panel).to_be_hidden()
        expect(page.locator(".queue-pane")).to_be_visible()
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "console-kpis-failure.png"), full_page=True)
        raise
