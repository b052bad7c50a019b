"""Twilio's Calls resource, as far as the voice line needs it: update a live call's TwiML.

Requests go to `QUITT_TWILIO_API_BASE`, so a local stand-in can take Twilio's place.
"""

from __future__ import annotations

from typing import Final

import httpx

API_VERSION: Final = "2010-04-01"


class CallUpdateFailed(Exception):
    """Twilio refused a call update or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class CallsClient:
    """A small async client of Twilio's Calls resource with the account's basic auth."""

    def __init__(
        self,
        *,
        api_base: str,
        account_sid: str | None,
        auth_token: str | None,
        timeout: float = 10.0,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.account_sid = account_sid
        self._token = auth_token
        self._http = httpx.AsyncClient(timeout=timeout)

    async def update(self, call_sid: str, twiml: str) -> None:
        """Replace what a live call is doing with new TwiML (`POST …/Calls/{sid}.json`)."""
        if not self.account_sid or not self._token:
            raise CallUpdateFailed(
                "QUITT_TWILIO_ACCOUNT_SID and QUITT_TWILIO_AUTH_TOKEN are not set"
            )
        url = f"{self.api_base}/{API_VERSION}/Accounts/{self.account_sid}/Calls/{call_sid}.json"
        try:
            response = await self._http.post(
                url, data={"Twiml": twiml}, auth=(self.account_sid, self._token)
            )
        except httpx.HTTPError as exc:
            raise CallUpdateFailed(f"Twilio unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            try:
                message = str(response.json().get("message") or "")
            except ValueError:
                message = ""
            raise CallUpdateFailed(message or f"HTTP {response.status_code}", response.status_code)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()
