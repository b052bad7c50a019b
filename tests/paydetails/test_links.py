"""Signed, expiring payment links: what a token grants, and that nothing else opens."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from domain.config import Settings
from domain.paydetails import links

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
KEY = links.link_key(Settings(secret_key="a-test-secret-of-enough-length-0123456789"))  # type: ignore[arg-type]


def qr_link(**changes: object) -> links.Link:
    values: dict[str, object] = {
        "purpose": "qr",
        "promise_id": 42,
        "language": "de",
        "block": 0,
        "expires": NOW + timedelta(days=30),
    }
    values.update(changes)
    return links.Link(**values)  # type: ignore[arg-type]


def test_a_token_grants_what_it_was_made_for_until_it_expires() -> None:
    link = qr_link(language="en", block=1)
    token = links.make_token(KEY, link)
    assert len(token) == 58 and re.fullmatch(r"[a-z2-7]+", token)
    assert links.read_token(KEY, token.upper(), purpose="qr", now=NOW) is None
    assert links.read_token(KEY, token, purpose="qr", now=NOW) == link
    last_second = link.expires - timedelta(seconds=1)
    assert links.read_token(KEY, token, purpose="qr", now=last_second) == link
    assert links.read_token(KEY, token, purpose="qr", now=link.expires) is None
    assert links.read_token(KEY, token, purpose="qr", now=NOW + timedelta(days=365)) is None


def test_a_token_opens_only_its_own_purpose() -> None:
    token = links.make_token(KEY, qr_link())
    assert links.read_token(KEY, token, purpose="agreement", now=NOW) is None
    agreement = links.make_token(KEY, qr_link(purpose="agreement"))
    assert links.read_token(KEY, agreement, purpose="qr", now=NOW) is None
    assert links.read_token(KEY, agreement, purpose="agreement", now=NOW) is not None


def _flip(token: str, index: int) -> str:
    raw = bytearray(base64.b32decode(token.upper() + "=" * (-len(token) % 8)))
    raw[index] ^= 0x01
    return base64.b32encode(bytes(raw)).decode().rstrip("=").lower()


@pytest.mark.parametrize("index", range(36))
def test_any_changed_bit_makes_a_token_worthless(index: int) -> None:
    # Another promise id, a later expiry, another block: each is a forgery.
    token = links.make_token(KEY, qr_link())
    assert links.read_token(KEY, _flip(token, index), purpose="qr", now=NOW) is None


def test_a_token_made_with_another_key_is_refused() -> None:
    other = links.link_key(Settings(secret_key="another-secret-of-enough-length-9876543210"))  # type: ignore[arg-type]
    token = links.make_token(other, qr_link())
    assert links.read_token(KEY, token, purpose="qr", now=NOW) is None


@pytest.mark.parametrize(
    "junk",
    ["", "x", "not-base32!", "aaaa", "a" * 58, "a" * 500, "ä" * 58, "../../etc/passwd", "%00"],
)
def test_junk_is_no_token(junk: str) -> None:
    assert links.read_token(KEY, junk, purpose="qr", now=NOW) is None


def test_the_links_key_is_derived_not_the_secret_itself() -> None:
    secret = "a-test-secret-of-enough-length-0123456789"
    assert secret.encode() not in KEY and len(KEY) == 32


def test_urls_are_absolute_on_the_public_url() -> None:
    settings = Settings(public_url="https://quitt.example/")  # type: ignore[arg-type]
    assert links.qr_url(settings, "T") == "https://quitt.example/pay/qr/T.png"
    assert links.agreement_url(settings, "T", "pdf") == "https://quitt.example/pay/agreement/T.pdf"
