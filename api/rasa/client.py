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

    async def send(
        self, *, sender: str, text: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send one debtor message and return Rasa's bot messages."""
        payload = {"sender": sender, "message": text, "metadata": metadata}
        try:
            response = await self._http.post("/webhooks/rest/webhook", json=payload)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(
                f"the dialogue engine is unreachable ({type(exc).__name__})"
            ) from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"the dialogue engine answered HTTP {response.status_code}")
        body = response.json()
        if not isinstance(body, list):
            raise RasaUnavailable("the dialogue engine answered something unexpected")
        return [m for m in body if isinstance(m, dict)]

    async def healthy(self) -> bool:
        """Return whether Rasa is up with a model loaded."""
        params = {"token": self._token} if self._token else None
        try:
            response = await self._http.get("/status", params=params, timeout=5.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json().get("model_file"))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
