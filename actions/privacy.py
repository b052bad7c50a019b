"""A debtor asks what data Quitt holds about them, or to have it erased.

The request is recorded for an agent (api/privacy/requests.py), who answers it
after checking who asks; the debtor hears who the data controller is and how to
reach them. The bot goes on as before: verification, if it was under way, resumes.
"""

from __future__ import annotations

import asyncio
import re

from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.base import QuittAction
from actions.context import Turn
from actions.texts import say
from domain.config import get_settings
from domain.db import session_scope
from domain.privacy import requests as privacy_requests

_ERASURE = re.compile(
    r"l(ö|oe|o)sch|vergess|vergiss|entfern|delet|erase|erasure|remov|forget|forgotten|wipe|"
    r"get rid|art(ikel|icle)?\.?\s*17"
)
_ACCESS = re.compile(
    r"auskunft|welche (daten|informationen|persönlichen)|was (speichert|habt|wisst|haben)|"
    r"kopie|copy|access|dsar|art(ikel|icle)?\.?\s*15|what (data|info|personal|do you have|u got)|"
    r"which data|(see|know|tell me) what|on file|schick|send me"
)


def request_kinds(text: str) -> tuple[str, ...]:
    """Return what a request asks for: access, erasure or both (access when unclear)."""
    folded = text.casefold()
    erasure = bool(_ERASURE.search(folded))
    access = bool(_ACCESS.search(folded))
    if erasure and access:
        return ("access", "erasure")
    return ("erasure",) if erasure else ("access",)


def _record(kinds: tuple[str, ...], turn: Turn) -> None:
    """Record the requests (blocking; run in a worker thread)."""
    with session_scope() as db_session:
        for kind in kinds:
            privacy_requests.record(
                db_session=db_session,
                kind=kind,
                conversation_id=turn.sender_id,
                channel=turn.channel,
                language=turn.language,
            )


class ActionPrivacyRequest(QuittAction):
    """Records a request to see or erase one's data and names the data controller."""

    def name(self) -> str:
        """Name the action."""
        return "action_privacy_request"

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Record the request for an agent and say who answers it."""
        kinds = request_kinds(turn.text)
        await asyncio.to_thread(_record, kinds, turn)
        settings = get_settings()
        say(
            dispatcher,
            turn.domain,
            f"utter_privacy_request_{'_'.join(kinds)}",
            turn.language,
            controller=settings.data_controller,
            privacy_url=settings.privacy_url,
        )
        return []
