"""The running stack as the bench sees it: the REST channel, Rasa's tracker, the database."""

from __future__ import annotations

import re
import threading
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select

from bench.judgement.clones import plain
from bench.judgement.constants import HELP_LINES, HTTP_TIMEOUT, BenchError
from domain.db import make_engine, session_scope
from domain.handoffs.models import Handoff

# C0/C1 control characters but tab and newline, as api/dialogue/service.clean_text drops them
# before Rasa sees a message (importing the gateway's pipeline here would load its models).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# --- talking to the stack ---------------------------------------------------------------


@dataclass
class Target:
    """A running stack as the bench sees it: gateway, Rasa's API, the database, an agent."""

    gateway_url: str
    rasa_url: str
    rasa_token: str
    database_url: str
    agent_email: str
    agent_password: str
    http: httpx.Client = field(init=False)
    _engine: Any = field(init=False)
    _token: str | None = field(init=False, default=None)
    _token_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.http = httpx.Client(timeout=HTTP_TIMEOUT)
        self._engine = make_engine(self.database_url)

    def close(self) -> None:
        """Close the HTTP client and the engine."""
        self.http.close()
        self._engine.dispose()

    def say(self, sender: str, text: str) -> list[str]:
        """Send a debtor message through the REST channel; return the bot's texts."""
        response = self.http.post(
            f"{self.gateway_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": {}},
        )
        if response.status_code != 200:
            raise BenchError(f"webhook answered {response.status_code}: {response.text[:200]}")
        texts: list[str] = []
        for message in response.json():
            if message.get("text"):
                texts.append(str(message["text"]))
            texts += [str(b.get("title", "")) for b in message.get("buttons") or []]
        return texts

    def handoffs(self, sender: str) -> list[tuple[int, str]]:
        """Return the handoffs of a conversation (id, reason), oldest first."""
        with session_scope(self._engine) as db_session:
            rows = db_session.execute(
                select(Handoff.id, Handoff.reason)
                .where(Handoff.conversation_id == sender)
                .order_by(Handoff.id)
            ).all()
        return [(int(i), str(r)) for i, r in rows]

    def slots(self, sender: str) -> dict[str, Any]:
        """Return the conversation's slots from Rasa's tracker."""
        response = self.http.get(
            f"{self.rasa_url}/conversations/{sender}/tracker", params={"token": self.rasa_token}
        )
        if response.status_code != 200:
            raise BenchError(f"tracker answered {response.status_code}")
        return dict(response.json().get("slots") or {})

    def intent_of(self, sender: str, text: str) -> str | None:
        """Return the NLU intent Rasa gave the latest user message with this text."""
        response = self.http.get(
            f"{self.rasa_url}/conversations/{sender}/tracker", params={"token": self.rasa_token}
        )
        if response.status_code != 200:
            raise BenchError(f"tracker answered {response.status_code}")
        wanted = _clean(text)
        for event in reversed(response.json().get("events") or []):
            if event.get("event") == "user" and _clean(event.get("text") or "") == wanted:
                return ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        return None  # the message never reached Rasa (e.g. a person already held it)

    @property
    def agent_token(self) -> str:
        """Log in once as the agent."""
        with self._token_lock:
            if self._token is None:
                response = self.http.post(
                    f"{self.gateway_url}/api/auth/login",
                    json={"email": self.agent_email, "password": self.agent_password},
                )
                if response.status_code != 200:
                    raise BenchError(f"agent login answered {response.status_code}")
                self._token = str(response.json()["access_token"])
            return self._token

    def claim(self, reference: str) -> dict[str, Any]:
        """Read a claim through the agent API."""
        response = self.http.get(
            f"{self.gateway_url}/api/claims/{reference}",
            headers={"Authorization": f"Bearer {self.agent_token}"},
        )
        if response.status_code != 200:
            raise BenchError(f"GET /api/claims/{reference} answered {response.status_code}")
        return dict(response.json())


def _clean(text: str) -> str:
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def sender_for(item_id: str) -> str:
    """Return a fresh sender id for one item."""
    return f"blind-{item_id}-{uuid.uuid4().hex[:8]}"


YES = {"de": "ja", "en": "yes"}
NO = {"de": "nein", "en": "no"}


def has_help_line(texts: Iterable[str], lang: str) -> bool:
    """Tell whether the replies carry the crisis help line of the language."""
    body = plain(" ".join(texts))
    return any(line in body for line in HELP_LINES[lang])
