"""The console's WhatsApp side in a real browser (Debian's Chromium driven by Playwright).

A WhatsApp debtor sends photos; the agent sees them listed, opens one, and sees
the alert arrive live. Then the 24-hour window closes: the free-text box is shut
and the agent sends the approved template instead, which the Twilio stand-in
records with its ContentSid. The debtor answers and free text works again. A
screenshot is kept in `artifacts/console-whatsapp.png`.

The gateway runs in this process (uvicorn in a thread) against a migrated SQLite
file and the stand-in. No Rasa is needed: a held conversation never reaches the
bot, and the handoff is opened directly. The console's clock is pinned to a
moment within contact hours (templates are refused on Sundays and at night).
"""

from __future__ import annotations

import json
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn

from api.console.dependencies import request_time
from api.db.migrate import upgrade
from api.main import create_app
from domain.agents import service as agents_service
from domain.config import get_settings
from domain.db import session_scope
from domain.db.core import get_engine
from domain.handoffs import service as handoffs_service
from domain.whatsapp.models import WhatsAppContact
from tests.integration import test_console_browser as console_browser
from tests.support.stack import _free_port
from tests.support.twilio_standin import TwilioStandIn, running_standin, sign, webhook_form
from tests.whatsapp.helpers import WEBHOOK, allowed_moment

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Debian's Chromium as the console browser test launches it (same skip rules in and out of CI).
pytestmark = console_browser.pytestmark
browser = console_browser.browser
page = console_browser.page
ARTIFACTS = console_browser.ARTIFACTS
DEBTOR = "whatsapp:+4917688899900"
OURS = "whatsapp:+4930123456789"
EMAIL = "wa-agent@quitt.test"
PASSWORD = "correct-horse-battery"
DE_SID = "HX00000000000000000000000000000de1"


def _png(width: int = 240, height: int = 150) -> bytes:
    """Return a real (striped) PNG, so the browser can decode and show it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    stripes = (b"\x2f\x5d\x9e", b"\xe8\xef\xf9")
    rows = b"".join(
        b"\x00" + b"".join(stripes[(x // 20 + y // 20) % 2] for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png()


def _clear_caches() -> None:
    """Forget the cached settings and engine, so the next use reads this test's."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


@dataclass
class WhatsAppGateway:
    """The running gateway, the stand-in and a way to post signed webhooks."""

    base_url: str
    standin: TwilioStandIn

    def webhook(self, **fields: object) -> None:
        """Post a WhatsApp webhook signed as Twilio would."""
        form = webhook_form(address=DEBTOR, our_address=OURS, **fields)  # type: ignore[arg-type]
        signature = sign(f"{self.base_url}{WEBHOOK}", form)
        response = httpx.post(
            f"{self.base_url}{WEBHOOK}",
            data=form,
            headers={"X-Twilio-Signature": signature},
            timeout=30,
        )
        assert response.status_code == 200, response.text

    def photo(self) -> None:
        """Send a photo from the debtor."""
        url, message_sid = self.standin.add_media(PNG, "image/png")
        self.webhook(message_sid=message_sid, media=[(url, "image/png")])


@pytest.fixture
def wa_gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[WhatsAppGateway, datetime]]:
    """Run the gateway in-process on a free port, with Twilio played by the stand-in."""
    url = f"sqlite:///{tmp_path / 'quitt.db'}"
    upgrade(url)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with running_standin() as standin:
        for key, value in {
            "QUITT_DATABASE_URL": url,
            "QUITT_ENVIRONMENT": "test",
            "QUITT_SENTIMENT_BACKEND": "off",
            "QUITT_PUBLIC_URL": base_url,
            "QUITT_TWILIO_ACCOUNT_SID": standin.account_sid,
            "QUITT_TWILIO_AUTH_TOKEN": standin.auth_token,
            "QUITT_TWILIO_API_BASE": standin.base_url,
        }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("QUITT_REDIS_URL", raising=False)
        _clear_caches()
        with session_scope() as db_session:
            agents_service.create_agent(
                db_session=db_session, email=EMAIL, password=PASSWORD, role="agent"
            )
        app = create_app()
        moment = allowed_moment()
        app.dependency_overrides[request_time] = lambda: moment
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, name="wa-gateway", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.05)
        try:
            yield WhatsAppGateway(base_url, standin), moment
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            _clear_caches()


def test_agent_sees_attachments_and_alerts_and_sends_a_template(
    wa_gateway: tuple[WhatsAppGateway, datetime], browser: Browser, page: Page
) -> None:
    """Run attachments, a live alert, the closed window and the template through Chromium."""
    from playwright.sync_api import expect

    gateway, moment = wa_gateway
    ARTIFACTS.mkdir(exist_ok=True)
    gateway.photo()
    with session_scope() as db_session:
        handoffs_service.open_handoff(
            db_session=db_session, conversation_id=DEBTOR, channel="whatsapp", reason="dispute"
        )

    try:
        page.goto(f"{gateway.base_url}/console")
        page.fill("#login-email", EMAIL)
        page.fill("#login-password", PASSWORD)
        page.click("#login-button")
        expect(page.locator("#live-status")).to_have_text("Live")
        page.locator(f'.queue-item[data-conversation="{DEBTOR}"]').click()
        page.click("#take-button")
        expect(page.locator("#conv-meta")).to_contain_text("Übernommen")

        # The photo is listed; opening it fetches it through the gateway.
        attachments = page.locator("#attachments-list")
        expect(attachments.locator(".attachment")).to_have_count(1)
        expect(attachments).to_contain_text("Bild")
        expect(attachments).to_contain_text("image/png")
        attachments.locator(".attachment-show").first.click()
        image = attachments.locator("img.attachment-image")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.naturalWidth") == 240
        assert image.get_attribute("src", timeout=1000).startswith("blob:")  # type: ignore[union-attr]

        # A second photo arrives while the agent looks: a live alert, no reload.
        page.evaluate("window.__notReloaded = true")
        gateway.photo()
        expect(page.locator("#toast")).to_contain_text("Anhang erhalten")
        expect(attachments.locator(".attachment")).to_have_count(2)
        expect(page.locator("#alerts-list .alert-whatsapp_attachment")).to_have_count(2)
        assert page.evaluate("window.__notReloaded === true")

        # A day passes without an answer: the window is closed (the console's clock is pinned).
        with session_scope() as db_session:
            contact = db_session.get(WhatsAppContact, DEBTOR)
            assert contact is not None
            contact.last_inbound_at = moment - timedelta(hours=25)
        page.locator(f'.queue-item[data-conversation="{DEBTOR}"]').click()
        window = page.locator("#wa-window")
        expect(window).to_be_visible()
        expect(window).to_contain_text("24-Stunden-Fenster")
        expect(page.locator("#reply-text")).to_be_disabled()
        template = window.locator('.wa-template[data-template="reengagement"]')
        expect(template).to_contain_text("Bitte um Rückmeldung")
        expect(template).to_contain_text("Quitt Inkasso GmbH")
        template.locator("button").click()
        expect(page.locator("#transcript .msg-agent").last).to_contain_text("Freigegebene Vorlage")
        expect(window).to_contain_text("Warten Sie auf die Antwort")
        attachments.locator(".attachment-show").first.click()
        expect(attachments.locator("img.attachment-image")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "console-whatsapp.png"))
        (sent,) = gateway.standin.messages_to(DEBTOR)
        assert sent["ContentSid"] == DE_SID and "Body" not in sent
        assert json.loads(sent["ContentVariables"]) == {"1": "Quitt Inkasso GmbH"}

        # The debtor answers: the window reopens and free text goes out again.
        gateway.webhook(body="Ja, worum geht es?")
        expect(page.locator("#transcript .msg-debtor").last).to_contain_text("worum geht es")
        reply = page.locator("#reply-text")
        expect(reply).to_be_enabled()
        expect(window).to_be_hidden()
        reply.fill("Guten Tag, es geht um Ihre Nachricht von gestern.")
        reply.press("Control+Enter")
        expect(reply).to_have_value("")
        sent_texts = gateway.standin.wait_for_messages(DEBTOR, 2)
        assert sent_texts[-1]["Body"] == "Guten Tag, es geht um Ihre Nachricht von gestern."
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "console-whatsapp-failure.png"))
        raise
