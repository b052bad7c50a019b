"""The channel's long-lived parts: the Twilio client and the agent-reply forwarder.

`start(app)` runs in the app's lifespan, after the event bus is in place; the
forwarder listens on the console topic and sends agents' replies to WhatsApp
conversations through Twilio's REST API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from api.events.bus import CONSOLE, EventBus
from api.twilio.client import TwilioClient, TwilioError
from domain.config import get_settings
from domain.db import session_scope
from domain.whatsapp import service as whatsapp_service
from policy.masking import mask_phone

from . import formatting
from .speech import Transcriber, transcribe, transcriber_for

logger = logging.getLogger(__name__)
RESUBSCRIBE_SECONDS = 1.0


@dataclass
class WhatsAppRuntime:
    """What the webhook and the forwarder share for the life of the app."""

    client: TwilioClient
    bus: EventBus
    transcriber: Transcriber = transcribe
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start forwarding agents' replies."""
        self._task = asyncio.create_task(self._forward(), name="whatsapp-agent-replies")

    async def stop(self) -> None:
        """Stop forwarding and close the Twilio client."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.aclose()

    async def _forward(self) -> None:
        """Listen to the console topic for ever, coming back after a broken subscription."""
        while True:
            try:
                async with self.bus.subscribe(CONSOLE) as events:
                    async for event in events:
                        if _is_whatsapp_agent_reply(event):
                            await self._deliver_safely(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("WhatsApp forwarder lost the event bus; subscribing again")
                await asyncio.sleep(RESUBSCRIBE_SECONDS)

    async def _deliver_safely(self, event: dict[str, Any]) -> None:
        """Deliver one reply; a failure is logged and never stops the forwarder."""
        try:
            await deliver_agent_reply(
                client=self.client,
                bus=self.bus,
                message_id=int(event["id"]),
                address=str(event["conversation_id"]),
                text=str(event.get("text") or ""),
            )
        except Exception:
            logger.exception("agent reply to WhatsApp failed")


def _is_whatsapp_agent_reply(event: dict[str, Any]) -> bool:
    """Tell whether a console event is an agent's message to a WhatsApp conversation."""
    return (
        event.get("type") == "message"
        and event.get("author") == "agent"
        and event.get("direction") == "out"
        and isinstance(event.get("id"), int)
        and str(event.get("conversation_id", "")).startswith(f"{whatsapp_service.CHANNEL}:")
        # A template is sent by the console itself, through Twilio's Content API.
        and not event.get("template")
    )


async def deliver_agent_reply(
    *, client: TwilioClient, bus: EventBus, message_id: int, address: str, text: str
) -> list[str]:
    """Send an agent's reply through Twilio, or tell the console why it may not go out."""

    def claim() -> whatsapp_service.Delivery | None:
        with session_scope() as db_session:
            return whatsapp_service.claim_agent_message(
                db_session=db_session, message_id=message_id, address=address
            )

    delivery = await asyncio.to_thread(claim)
    if delivery is None:
        return []  # the debtor's channel already took it (an inbound answer, another gateway)
    if delivery.refused:
        await _alert(bus, delivery.refused, address, message_id, delivery)
        return []
    sids: list[str] = []
    try:
        for body in formatting.split_text(text):
            sids.append(await client.send_message(from_=delivery.from_, to=address, body=body))
    except TwilioError as exc:
        error = exc.message
        logger.warning("Twilio refused an agent reply to %s: %s", mask_phone(address), exc.message)

        def release() -> None:
            with session_scope() as db_session:
                whatsapp_service.release_agent_message(
                    db_session=db_session, message_id=message_id, address=address, error=error
                )

        await asyncio.to_thread(release)
        await _alert(bus, "whatsapp_send_failed", address, message_id, delivery, error)
        return sids

    def sent() -> None:
        with session_scope() as db_session:
            whatsapp_service.record_agent_message_sent(
                db_session=db_session, message_id=message_id, address=address, sids=sids
            )

    await asyncio.to_thread(sent)
    return sids


async def _alert(
    bus: EventBus,
    reason: str,
    address: str,
    message_id: int,
    delivery: whatsapp_service.Delivery,
    detail: str | None = None,
) -> None:
    """Tell the console that an agent's reply did not reach the debtor, and why."""
    event: dict[str, Any] = {
        "type": "alert",
        "reason": reason,
        "conversation_id": address,
        "message_id": message_id,
        "channel": whatsapp_service.CHANNEL,
        "last_inbound_at": (
            delivery.last_inbound_at.isoformat() if delivery.last_inbound_at else None
        ),
        # The reply stays undelivered: the debtor's next message brings it along.
        "delivered": False,
    }
    if detail:
        event["detail"] = detail
    await bus.publish(CONSOLE, event)


def start(app: FastAPI) -> WhatsAppRuntime:
    """Create the Twilio client and start the forwarder on the app's bus."""
    settings = get_settings()
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    runtime = WhatsAppRuntime(
        client=TwilioClient(
            api_base=settings.twilio_api_base,
            account_sid=settings.twilio_account_sid,
            auth_token=token,
        ),
        bus=app.state.bus,
        transcriber=transcriber_for(getattr(app.state, "stt", None)),
    )
    runtime.start()
    return runtime
