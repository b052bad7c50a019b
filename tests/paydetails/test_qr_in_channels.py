"""The QR code of a confirmation as the web chat replays it and the console lists it."""

from __future__ import annotations

from datetime import UTC, datetime

from api.channels.widget import to_bot_uttered
from api.channels.widget import transcript_turn as _transcript_turn
from api.dialogue.agents import message_view
from domain.conversations.models import Message

QR = "http://127.0.0.1:8000/pay/qr/" + "a" * 58 + ".png"


def test_the_web_chat_shows_an_image_turn_live_and_after_a_reload() -> None:
    live = to_bot_uttered({"recipient_id": "web:1", "image": QR})
    assert live == {"attachment": {"type": "image", "payload": {"src": QR}}}
    replayed = _transcript_turn("bot", "", None, QR)
    assert replayed["attachment"] == {"type": "image", "payload": {"src": QR}}
    assert "attachment" not in _transcript_turn("bot", "Hallo", None)


def test_the_console_gets_a_bot_turns_image() -> None:
    message = Message(
        id=7,
        conversation_id="web:1",
        direction="out",
        author="bot",
        text="",
        data={"image": QR},
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
    )
    assert message_view(message)["image"] == QR
    message.data = {"buttons": None}
    assert "image" not in message_view(message)
