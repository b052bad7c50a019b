"""A confirmation's EPC QR code goes to WhatsApp as a media message in the TwiML answer."""

from __future__ import annotations

from xml.etree import ElementTree

from api.channels.whatsapp.formatting import media_urls, render
from api.channels.whatsapp.views import twiml

QR = "https://quitt.example/pay/qr/AQAAAAAAAAAAAAAB.png"


def test_images_become_media_messages_after_the_text() -> None:
    replies = [
        {"recipient_id": "whatsapp:+4915100000000", "text": "Vielen Dank! festgehalten."},
        {"recipient_id": "whatsapp:+4915100000000", "image": QR},
    ]
    bodies, _ = render(replies, "de")
    answer = ElementTree.fromstring(twiml(bodies, media_urls(replies)))
    messages = list(answer.iter("Message"))
    assert [m.text for m in messages] == ["Vielen Dank! festgehalten.", None]
    assert [media.text for media in messages[1].iter("Media")] == [QR]


def test_only_web_urls_are_sent_as_media() -> None:
    assert media_urls([{"image": "file:///etc/passwd"}, {"image": 3}, {"text": "x"}]) == []
    assert twiml(["Hallo"]) == twiml(["Hallo"], [])
