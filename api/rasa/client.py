"""Talk to the Rasa server over its REST channel; Rasa stays behind the gateway."""

from __future__ import annotations

from typing import Any

import httpx

from api.errors import QuittError


class RasaUnavailable(QuittError):
    """Rasa did not answer in time or answered with an error."""

    status_code = 503


class RasaClient:
    """A pooled HTTP client for one Rasa server."""

    def __init__(self, base_url: str, *, timeout: float = 30.0, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    def _params(self) -> dict[str, str] | None:
        return {"token": self._token} if self._token else None

    async def _post(self, path: str, body: Any, *, api: bool = False) -> Any:
        """POST JSON to Rasa; any failure becomes RasaUnavailable with what went wrong."""
        try:
            response = await self._http.post(
                path, json=body, params=self._params() if api else None
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(
                f"the dialogue engine is unreachable ({type(exc).__name__})"
            ) from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"the dialogue engine answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise RasaUnavailable("the dialogue engine answered something unexpected") from exc

    async def send(
        self, *, sender: str, text: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send one debtor message and return Rasa's bot messages."""
        payload = {"sender": sender, "message": text, "metadata": metadata}
        body = await self._post("/webhooks/rest/webhook", payload)
        if not isinstance(body, list):
            raise RasaUnavailable("the dialogue engine answered something unexpected")
        return [m for m in body if isinstance(m, dict)]

    async def append_events(self, *, sender: str, events: list[dict[str, Any]]) -> None:
        """Append events to a conversation's tracker (Rasa's HTTP API)."""
        await self._post(f"/conversations/{sender}/tracker/events", events, api=True)

    async def trigger_intent(
        self, *, sender: str, intent: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Make the bot act on an intent the gateway decided on; return its messages."""
        body = {"name": intent, "entities": {}, "metadata": metadata or {}}
        answer = await self._post(f"/conversations/{sender}/trigger_intent", body, api=True)
        messages = answer.get("messages") if isinstance(answer, dict) else None
        return [m for m in messages or [] if isinstance(m, dict)]

    async def healthy(self) -> bool:
        """Return whether Rasa is up with a model loaded."""
        try:
            response = await self._http.get("/status", params=self._params(), timeout=5.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json().get("model_file"))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
