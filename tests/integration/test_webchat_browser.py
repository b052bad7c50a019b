"""The website chat in a real browser (Debian's Chromium driven by Playwright) on the real stack.

A debtor opens the creditor's page, opens the rasa-webchat widget, proves who
they are, agrees an instalment plan by clicking buttons and typing, reloads the
page and still sees the conversation, asks for a person and receives the
agent's reply (sent through the console API) live. Screenshots are kept in
`artifacts/webchat-*.png`.

It agrees a plan on claim 260000117, after `test_conversations.py` (same stack,
earlier in file order) has counted that claim's plans.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from api.web.views import WIDGET_BUNDLE
from tests.integration.conftest import Gateway
from tests.support.browser import ARTIFACTS, CHROMIUM, browser, desktop_context
from tests.support.required import missing, skip_unless_ci

__all__ = ["browser"]  # a fixture

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

MISSING = [
    why
    for why, there in (
        (f"{CHROMIUM} (scripts/install-chromium.sh)", CHROMIUM.exists()),
        (f"{WIDGET_BUNDLE} (scripts/install-web.sh)", WIDGET_BUNDLE.exists()),
    )
    if not there
]

pytestmark = skip_unless_ci(bool(MISSING), f"missing: {', '.join(MISSING)}")


@pytest.fixture(scope="module")
def chat_browser(browser: Browser) -> Browser:
    """Return the browser once the chat widget's bundle is there too."""
    if MISSING:
        missing(f"missing: {', '.join(MISSING)}")
    return browser


@pytest.fixture
def page(chat_browser: Browser) -> Iterator[Page]:
    """Open a fresh context (its own sessionStorage) with a desktop-sized page."""
    context = desktop_context(chat_browser)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def send(page: Page, text: str) -> None:
    """Type a message into the widget and send it with Enter."""
    box = page.locator(".rw-new-message")
    box.fill(text)
    box.press("Enter")


def bot(page: Page) -> Locator:
    """Return the widget's bot (and agent) messages."""
    return page.locator(".rw-messages-container .rw-response")


def click_reply(page: Page, title: str) -> None:
    """Click the newest quick-reply button with this title."""
    page.locator(".rw-replies .rw-reply", has_text=title).last.click()


def session_id(page: Page) -> str:
    """Return the widget's session id from its sessionStorage."""
    value: Any = page.evaluate("JSON.parse(sessionStorage.getItem('chat_session')).session_id")
    assert isinstance(value, str) and value
    return value


def test_debtor_verifies_agrees_a_plan_reloads_and_gets_an_agent_reply(
    gateway: Gateway, page: Page
) -> None:
    """Run the whole website-chat journey in Chromium."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.goto(f"{gateway.base_url}/")
        expect(page.locator("h1")).to_have_text("Offene Rechnung? Jetzt Lösung finden")
        expect(page.locator("#lang-de")).to_have_attribute("aria-current", "true")
        expect(page.locator(".rw-launcher")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "webchat-page.png"))

        # The widget opens and the bot discloses that it is automated, in German.
        page.click("#start-chat")
        expect(page.locator(".rw-conversation-container")).to_be_visible()
        expect(bot(page).first).to_contain_text("automatisierter digitaler Assistent")
        expect(bot(page).last).to_contain_text("Aktenzeichen")

        # Identity check by typing; the typing dots show while the answer is on its way.
        send(page, "260000117")
        expect(page.locator(".rw-typing-indication").first).to_be_attached()
        expect(bot(page).last).to_contain_text("Geburtsdatum")
        send(page, "14.03.1987")
        expect(page.locator(".rw-messages-container")).to_contain_text("475,68")
        expect(bot(page).last).to_contain_text("Wie möchten Sie die Forderung begleichen?")

        # Buttons render as buttons; the plan is agreed by clicking and typing.
        replies = page.locator(".rw-replies .rw-reply")
        expect(replies.filter(has_text="In Raten")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "webchat-buttons.png"))
        click_reply(page, "In Raten")
        expect(page.locator(".rw-client").last).to_contain_text("In Raten")
        expect(bot(page).last).to_contain_text("Soll ich das verbindlich so festhalten?")
        expect(page.locator(".rw-messages-container")).to_contain_text("6 Monatsraten")
        send(page, "Ich kann 50 € im Monat zahlen")
        expect(page.locator(".rw-messages-container")).to_contain_text("10 Monatsraten")
        expect(bot(page).last).to_contain_text("Soll ich das verbindlich so festhalten?")
        click_reply(page, "Ja, festhalten")
        # The confirmation, the payment details, the QR code and last the agreement's link.
        expect(bot(page).last).to_contain_text("Ratenzahlungsvereinbarung")
        expect(page.locator(".rw-messages-container")).to_contain_text("festgehalten")
        expect(page.locator(".rw-messages-container")).to_contain_text("DE89 3704 0044")
        qr = page.locator(".rw-messages-container img[src*='/pay/qr/']")
        expect(qr).to_have_count(1)
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=qr.element_handle()
        )
        page.screenshot(path=str(ARTIFACTS / "webchat-plan.png"))
        before = session_id(page)
        shown = bot(page).count()

        # A reload keeps the session and shows the conversation once (nothing replayed twice).
        page.reload()
        expect(page.locator(".rw-launcher")).to_be_visible()
        if not page.locator(".rw-conversation-container").is_visible():
            page.click(".rw-launcher")
        expect(page.locator(".rw-messages-container")).to_contain_text("Ich kann 50 € im Monat")
        expect(bot(page).last).to_contain_text("Ratenzahlungsvereinbarung")
        expect(page.locator(".rw-messages-container img[src*='/pay/qr/']")).to_have_count(1)
        page.wait_for_timeout(1000)
        assert bot(page).count() == shown
        assert session_id(page) == before
        page.screenshot(path=str(ARTIFACTS / "webchat-reload.png"))

        # A person takes over; their reply arrives live in the widget.
        send(page, "Ich möchte bitte mit einem Mitarbeiter sprechen")
        sender = f"web:{before}"
        expect(bot(page).last).to_contain_text("Mitarbeit")
        found = [h for h in gateway.handoffs("queued") if h["sender"] == sender]
        assert found, f"no queued handoff for {sender}"
        headers = {"Authorization": f"Bearer {gateway.token}"}
        handoff_id = found[-1]["id"]
        taken = gateway.http.post(f"/api/console/handoffs/{handoff_id}/take", headers=headers)
        assert taken.status_code == 200, taken.text
        answer = "Guten Tag, hier ist Frau Schmidt vom Forderungsmanagement."
        sent = gateway.http.post(
            f"/api/console/handoffs/{handoff_id}/reply", json={"text": answer}, headers=headers
        )
        assert sent.status_code == 200, sent.text
        expect(bot(page).last).to_have_text(answer)
        page.screenshot(path=str(ARTIFACTS / "webchat-agent.png"))
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "webchat-failure.png"))
        raise


def test_page_switches_to_english_and_the_bot_answers_in_english(
    gateway: Gateway, page: Page
) -> None:
    """The language switch changes the page and the widget's language for the bot."""
    from playwright.sync_api import expect

    page.goto(f"{gateway.base_url}/")
    page.click("#lang-en")
    expect(page.locator("h1")).to_have_text("Unpaid bill? Find a solution now")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click("#start-chat")
    expect(bot(page).first).to_contain_text("automated")
    expect(bot(page).last).to_contain_text("claim reference")
    expect(page.locator(".rw-new-message")).to_have_attribute("placeholder", "Type a message …")
    page.screenshot(path=str(ARTIFACTS / "webchat-english.png"))
