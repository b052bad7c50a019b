"""The demo page and the channel's pure parts, without the stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.channels.widget import to_bot_uttered, valid_session_id
from api.main import create_app
from api.web import texts
from api.web.views import WIDGET_BUNDLE, page_language


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """Return a client of the app (no lifespan: the page needs no Rasa)."""
    yield TestClient(create_app())


@pytest.mark.parametrize(
    ("query", "accept", "language", "title"),
    [
        ("", None, "de", "Offene Rechnung? Jetzt Lösung finden"),
        ("?lang=en", None, "en", "Unpaid bill? Find a solution now"),
        ("", "en-GB,en;q=0.9,de;q=0.5", "en", "Unpaid bill? Find a solution now"),
        ("?lang=de", "en-GB", "de", "Offene Rechnung? Jetzt Lösung finden"),
        ("?lang=fr", "fr-FR", "de", "Offene Rechnung? Jetzt Lösung finden"),
    ],
)
def test_page_speaks_the_chosen_language(
    client: TestClient, query: str, accept: str | None, language: str, title: str
) -> None:
    """`?lang=` wins over the browser's languages; German is the default."""
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get(f"/{query}", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-language"] == language
    assert f'<html lang="{language}">' in response.text
    assert f'<h1 id="hero-title">{title}</h1>' in response.text
    assert f'data-lang="{language}"' in response.text
    assert "$" not in response.text  # every placeholder filled


def test_page_loads_nothing_from_elsewhere(client: TestClient) -> None:
    """The page, its script and the widget come from the gateway; CSP says so."""
    response = client.get("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "https://" not in response.text.split("<body>")[0]
    assert client.get("/web/static/page.js").status_code == 200
    assert client.get("/web/static/page.css").headers["content-type"].startswith("text/css")
    assert client.get("/web/static/../views.py").status_code == 404
    assert client.get("/web/static/index.html").status_code == 404


@pytest.mark.skipif(not WIDGET_BUNDLE.exists(), reason="run scripts/install-web.sh")
def test_widget_bundle_is_served_from_node_modules(client: TestClient) -> None:
    """The installed rasa-webchat bundle is served as JavaScript."""
    response = client.get("/web/vendor/rasa-webchat.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "WebChat" in response.text[:2000]


def test_both_languages_have_every_text() -> None:
    """The catalogue loads and German and English have the same keys."""
    assert texts.catalogue()["de"].keys() == texts.catalogue()["en"].keys()
    assert texts.text("xx", "hero_cta") == texts.text("de", "hero_cta")
    assert page_language(None, None) == "de"


@pytest.mark.parametrize(
    ("reply", "uttered"),
    [
        ({"recipient_id": "web:x", "text": "Hallo"}, {"text": "Hallo"}),
        (
            {"text": "Soll ich?", "buttons": [{"title": "Ja", "payload": "/affirm"}]},
            {
                "text": "Soll ich?",
                "quick_replies": [{"content_type": "text", "title": "Ja", "payload": "/affirm"}],
            },
        ),
        (
            {"text": "Hi", "custom": {"author": "agent"}},
            {"text": "Hi", "metadata": {"custom": {"author": "agent"}}},
        ),
        ({"buttons": [{"title": "Ja"}, "junk"], "text": ""}, {}),
        (
            {"image": "https://x/y.png"},
            {"attachment": {"type": "image", "payload": {"src": "https://x/y.png"}}},
        ),
    ],
)
def test_bot_turns_become_bot_uttered(reply: dict[str, object], uttered: dict[str, object]) -> None:
    """Rasa REST-shaped turns map onto the socket.io channel's payloads."""
    assert to_bot_uttered(reply) == uttered


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("0123456789abcdef0123456789abcdef", True),
        ("abc-DEF_0123456789", True),
        ("short", False),
        ("a" * 65, False),
        ("../../../../etc/passwd", False),
        (None, False),
        (42, False),
    ],
)
def test_only_ids_the_server_could_issue_are_accepted(value: object, valid: bool) -> None:
    """A session id is the conversation's credential: no short or strange ids."""
    assert (valid_session_id(value) is not None) is valid
