"""The agent console in a real browser (Debian's Chromium driven by Playwright) on the real stack.

A debtor escalates through the REST channel; the agent logs in, takes the
conversation, replies, sees the debtor's next message arrive live and hands
back; the debtor then talks to the bot again. A screenshot of the console is
kept in `artifacts/console.png`.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from tests.integration.conftest import AGENT_EMAIL, AGENT_PASSWORD, Gateway
from tests.support.browser import ARTIFACTS, browser, needs_chromium, page

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# The console's browser fixtures; the WhatsApp and KPI browser tests take them from here.
pytestmark = needs_chromium
__all__ = ["ARTIFACTS", "browser", "page", "pytestmark"]


def handoff_of(gateway: Gateway, who: str, state: str) -> dict[str, Any] | None:
    """Return the sender's handoff in a state, if any."""
    found = [h for h in gateway.handoffs(state) if h["sender"] == who]
    return found[-1] if found else None


def test_agent_takes_replies_sees_live_message_and_hands_back(
    gateway: Gateway, browser: Browser, page: Page
) -> None:
    """Run the whole handoff loop through the console in Chromium."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    who = f"console-{uuid.uuid4().hex[:10]}"

    # The debtor proves who they are, then asks for a person.
    gateway.texts(who, "Hallo")
    gateway.texts(who, "260000117")
    gateway.texts(who, "14.03.1987")
    gateway.texts(who, "Ich möchte mit einem Mitarbeiter sprechen")
    handoff = handoff_of(gateway, who, "queued")
    assert handoff is not None and handoff["reason"] == "human_request"
    assert gateway.say(who, "Hallo? Ist da jemand?") == []  # queued: the bot stays silent

    try:
        page.goto(f"{gateway.base_url}/console")
        page.fill("#login-email", AGENT_EMAIL)
        page.fill("#login-password", AGENT_PASSWORD)
        page.click("#login-button")
        expect(page.locator("#live-status")).to_have_text("Live")

        entry = page.locator(f'.queue-item[data-conversation="{who}"]')
        expect(entry).to_contain_text("Wunsch nach Mitarbeiter")
        expect(entry).to_contain_text("Wartend")
        entry.click()
        expect(page.locator("#conv-title")).to_contain_text(who)
        transcript = page.locator("#transcript")
        expect(transcript.locator(".msg-debtor").last).to_contain_text("Ist da jemand?")
        expect(transcript.locator(".msg-bot").first).to_be_visible()  # bot turns included
        expect(page.locator("#claim-body")).to_contain_text("475,68 €")
        expect(page.locator("#claim-body")).to_contain_text("412,50 €")
        expect(page.locator("#reply-text")).to_be_disabled()

        # Take it, and answer with Ctrl+Enter.
        page.click("#take-button")
        expect(page.locator("#conv-meta")).to_contain_text("Übernommen")
        reply = page.locator("#reply-text")
        expect(reply).to_be_enabled()
        page.select_option("#canned-select", "greeting")
        expect(reply).to_have_value(re.compile(r"^Guten Tag, hier ist \[Name\]"))
        reply.fill("Guten Tag, hier ist Frau Schmidt. Wie kann ich Ihnen helfen?")
        reply.press("Control+Enter")
        expect(transcript.locator(".msg-agent").last).to_contain_text("Frau Schmidt")
        expect(reply).to_have_value("")

        # A private note stays in the console.
        page.fill("#note-text", "Möchte vermutlich Raten vereinbaren.")
        page.click("#note-button")
        expect(page.locator("#notes-list")).to_contain_text("Raten vereinbaren")

        # The debtor's next REST call carries the agent's reply first, marked as a person's.
        page.evaluate("window.__consoleNotReloaded = true")
        answer = gateway.say(who, "Ja, ich bin noch da. Kann ich in Raten zahlen?")
        assert answer, "the agent's reply was not delivered"
        assert answer[0]["text"] == "Guten Tag, hier ist Frau Schmidt. Wie kann ich Ihnen helfen?"
        assert answer[0].get("custom") == {"author": "agent"}
        assert all(m.get("custom") == {"author": "agent"} for m in answer)  # no bot turn

        # That message appears in the open conversation without a reload.
        live = transcript.locator(".msg-debtor").last
        expect(live).to_contain_text("Kann ich in Raten zahlen?")
        assert page.evaluate("window.__consoleNotReloaded === true")
        page.screenshot(path=str(ARTIFACTS / "console.png"))

        # The shortcut list opens with "?".
        page.locator("#transcript").click()
        page.keyboard.press("?")
        expect(page.locator("#help-dialog")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("#help-dialog")).to_be_hidden()

        # Hand back with Alt+B.
        page.keyboard.press("Alt+b")
        expect(page.locator("#conv-meta")).to_contain_text("Geschlossen")
        expect(page.locator(f'.queue-item[data-conversation="{who}"]')).to_have_count(0)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "console-failure.png"))
        raise

    closed = handoff_of(gateway, who, "closed")
    assert closed is not None and closed["id"] == handoff["id"]
    assert handoff_of(gateway, who, "queued") is None
    assert handoff_of(gateway, who, "assigned") is None

    # Back with the bot: it answers again.
    again = gateway.say(who, "Hallo, ich möchte in Raten zahlen")
    bot_turns = [m for m in again if m.get("text") and m.get("custom") != {"author": "agent"}]
    assert bot_turns, f"the bot did not answer after the hand-back: {again!r}"


def test_invalid_session_goes_back_to_login(gateway: Gateway, page: Page) -> None:
    """A token the API refuses sends the agent back to the login form with a message."""
    from playwright.sync_api import expect

    page.goto(f"{gateway.base_url}/console")
    page.evaluate("sessionStorage.setItem('quitt.console.token', 'expired-or-forged')")
    page.reload()
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#login-message")).to_contain_text("Sitzung")
    expect(page.locator("#app-view")).to_be_hidden()
