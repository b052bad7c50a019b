"""What the rasa-webchat widget sends and gets: session ids, `bot_uttered` payloads, frames.

Pure helpers of the socket.io channel (`api.channels.socketio`), which holds the
sessions, rooms and the way of each message.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Final
from urllib.parse import urlsplit

from api.channels import dedup
from domain.config import get_settings

SENDER_PREFIX: Final = "web:"
# Ids the server issues are uuid4 hex (32); shorter ones would be guessable.
_SESSION_ID: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
BotUttered = dict[str, Any]


def sender_of(session_id: str) -> str:
    """Return the conversation sender id of a widget session."""
    return f"{SENDER_PREFIX}{session_id}"


def valid_session_id(value: object) -> str | None:
    """Return the session id a client sent if the server could have issued it, else None."""
    return value if isinstance(value, str) and _SESSION_ID.match(value) else None


def new_session_id() -> str:
    """Return a fresh, unguessable session id."""
    return uuid.uuid4().hex


def to_bot_uttered(reply: dict[str, Any]) -> BotUttered:
    """Turn a Rasa REST-shaped bot turn into the socket.io channel's `bot_uttered` payload.

    Buttons become `quick_replies` as Rasa's socket.io output sends them. rasa-webchat
    only renders `{text}` and `{text, quick_replies}` exactly, so everything else the
    gateway knows (custom data, the author) travels in `metadata`, which it strips.
    """
    message: BotUttered = {}
    text = reply.get("text")
    if isinstance(text, str) and text:
        message["text"] = text
    buttons = reply.get("buttons")
    if isinstance(buttons, list):
        quick_replies = [
            {"content_type": "text", "title": str(b["title"]), "payload": str(b["payload"])}
            for b in buttons
            if isinstance(b, dict) and b.get("title") and b.get("payload")
        ]
        if quick_replies:
            message["quick_replies"] = quick_replies
            message.setdefault("text", "")
    image = reply.get("image")
    if isinstance(image, str) and image and not message:
        message["attachment"] = {"type": "image", "payload": {"src": image}}
    custom = reply.get("custom")
    if isinstance(custom, dict) and custom:
        message["metadata"] = {"custom": custom}
    return message


def transcript_turn(author: str, text: str, buttons: Any, image: Any = None) -> BotUttered:
    """Return a stored outbound turn as a replayed `bot_uttered` payload."""
    message = to_bot_uttered({"text": text, "buttons": buttons, "image": image})
    message["metadata"] = {"custom": {"author": author}, "history": True}
    return message


def message_id(data: dict[str, Any]) -> str | None:
    """Return the client's id of a frame's message (frame or customData), if usable."""
    custom = data.get("customData")
    given = data.get("message_id")
    if given is None and isinstance(custom, dict):
        given = custom.get("message_id")
    if isinstance(given, str | int) and 0 < len(str(given)) <= dedup.MAX_MESSAGE_ID_CHARS:
        return str(given)
    return None


def client_ip(environ: dict[str, Any]) -> str | None:
    """Return the socket's peer address as the ASGI server saw it."""
    client = (environ.get("asgi.scope") or {}).get("client")
    return str(client[0]) if client else None


def allowed_origin(origin: str | None, environ: dict[str, Any]) -> bool:
    """Allow the gateway's own page and its public URL; refuse other origins."""
    if not origin:
        return True  # not a browser: no cross-origin question
    host = environ.get("HTTP_HOST", "")
    scheme = environ.get("wsgi.url_scheme", "http")
    public = urlsplit(get_settings().public_url)
    return origin in (f"{scheme}://{host}", f"{public.scheme}://{public.netloc}")
