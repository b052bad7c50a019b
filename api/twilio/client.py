"""Twilio's REST API, as far as the WhatsApp channel needs it: send a message, fetch media.

Requests go to `QUITT_TWILIO_API_BASE`, so a local stand-in can take Twilio's place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

import httpx

API_VERSION: Final = "2010-04-01"
# WhatsApp's own ceiling for media (documents reach 100 MB, but we take no more than this).
MAX_MEDIA_BYTES: Final = 16 * 1024 * 1024


class TwilioError(Exception):
    """Twilio refused a request or could not be reached."""

    def __init__(self, message: str, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Media:
    """A downloaded media file."""

    content: bytes
    content_type: str


class TwilioClient:
    """A small async client of Twilio's REST API with the account's basic-auth credentials."""

    def __init__(
        self,
        *,
        api_base: str,
        account_sid: str | None,
        auth_token: str | None,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.account_sid = account_sid
        self._token = auth_token
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    @property
    def configured(self) -> bool:
        """Tell whether the account's credentials are set."""
        return bool(self.account_sid and self._token)

    def _auth(self) -> tuple[str, str]:
        """Return the basic-auth pair or raise when the account is not configured."""
        if not self.account_sid or not self._token:
            raise TwilioError("QUITT_TWILIO_ACCOUNT_SID and QUITT_TWILIO_AUTH_TOKEN are not set")
        return self.account_sid, self._token

    async def send_message(self, *, from_: str, to: str, body: str) -> str:
        """Create an outbound free-text message and return its sid."""
        return await self._create_message({"From": from_, "To": to, "Body": body})

    async def send_template(
        self, *, from_: str, to: str, content_sid: str, content_variables: str
    ) -> str:
        """Send an approved template (Content API: no Body) and return the message sid."""
        return await self._create_message(
            {
                "From": from_,
                "To": to,
                "ContentSid": content_sid,
                "ContentVariables": content_variables,
            }
        )

    async def _create_message(self, form: dict[str, str]) -> str:
        """POST to the account's Messages resource and return the new message's sid."""
        auth = self._auth()
        url = f"{self.api_base}/{API_VERSION}/Accounts/{auth[0]}/Messages.json"
        try:
            response = await self._http.post(url, data=form, auth=auth)
        except httpx.HTTPError as exc:
            raise TwilioError(f"Twilio unreachable: {type(exc).__name__}") from exc
        if response.status_code not in (200, 201):
            raise _error(response)
        sid = response.json().get("sid")
        if not isinstance(sid, str):
            raise TwilioError("Twilio answered without a message sid", response.status_code)
        return sid

    def _own_media_url(self, url: str) -> bool:
        """Tell whether a MediaUrl names a media file of this account on the API base."""
        prefix = f"{self.api_base}/{API_VERSION}/Accounts/{self.account_sid}/Messages/"
        if not url.startswith(prefix) or any(c in url for c in "?#\\"):
            return False
        segments = unquote(url[len(prefix) :]).split("/")
        return all(segment not in ("", ".", "..") for segment in segments)

    async def download(self, url: str) -> Media:
        """Fetch a media file of an inbound message (only from the configured API base)."""
        auth = self._auth()
        # Never hand the account's credentials to a host other than Twilio's, nor to a
        # path outside the account's own messages ("../" or its encodings included).
        if not self._own_media_url(url):
            raise TwilioError("media URL outside the account's Twilio media refused")
        try:
            # Twilio answers with a redirect to its CDN; httpx drops the credentials
            # when the redirect leaves the host.
            async with self._http.stream("GET", url, auth=auth, follow_redirects=True) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise _error(response)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_MEDIA_BYTES:
                        raise TwilioError("media file too large", response.status_code)
                    chunks.append(chunk)
                content_type = response.headers.get("content-type", "application/octet-stream")
        except httpx.HTTPError as exc:
            raise TwilioError(f"Twilio unreachable: {type(exc).__name__}") from exc
        return Media(b"".join(chunks), content_type.split(";")[0].strip())

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()


def _error(response: httpx.Response) -> TwilioError:
    """Build an error from Twilio's JSON error body (code, message) when there is one."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = body.get("code")
    message = str(body.get("message") or f"HTTP {response.status_code}")
    return TwilioError(message, response.status_code, code if isinstance(code, int) else None)
