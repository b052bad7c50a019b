"""Password hashing (argon2), JWT access tokens and the login rate limiter."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from domain.config import Settings, get_settings
from domain.db.columns import utcnow
from domain.errors import RateLimited, Unauthorized

ALGORITHM = "HS256"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    """Return the argon2 password hasher."""
    return PasswordHash((Argon2Hasher(),))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Return a hash to verify against when the email is unknown, so timing stays flat."""
    return _hasher().hash("quitt-timing-equaliser")


def hash_password(password: str) -> str:
    """Hash a password with argon2."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password against a hash (or against a dummy hash to keep timing flat)."""
    if password_hash is None:
        _hasher().verify(password, _dummy_hash())
        return False
    return _hasher().verify(password, password_hash)


@dataclass(frozen=True)
class TokenClaims:
    """What a valid access token says."""

    agent_id: int
    role: str


def create_access_token(
    *, agent_id: int, role: str, settings: Settings | None = None, now: datetime | None = None
) -> str:
    """Issue a signed HS256 access token for an agent."""
    settings = settings or get_settings()
    issued = now or utcnow()
    payload = {
        "sub": str(agent_id),
        "role": role,
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(minutes=settings.access_token_minutes)).timestamp()),
    }
    return jwt.encode(payload, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def decode_access_token(token: str, *, settings: Settings | None = None) -> TokenClaims:
    """Verify a token's signature and expiry; raise Unauthorized otherwise."""
    settings = settings or get_settings()
    try:
        payload = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
        return TokenClaims(agent_id=int(payload["sub"]), role=str(payload.get("role", "agent")))
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise Unauthorized("invalid token") from None


class LoginRateLimiter:
    """Allow `limit` attempts per key in a sliding `window` of seconds (in-process)."""

    def __init__(
        self,
        *,
        limit: int = 5,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._attempts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count one attempt for `key`; raise RateLimited once the limit is used up."""
        now = self._clock()
        with self._lock:
            attempts = self._attempts.setdefault(key, deque())
            while attempts and attempts[0] <= now - self.window:
                attempts.popleft()
            if len(attempts) >= self.limit:
                retry_after = max(1, int(attempts[0] + self.window - now + 0.999))
                raise RateLimited("too many login attempts, try again later", retry_after)
            attempts.append(now)
            # Keep memory bounded: forget keys whose window has passed.
            if len(self._attempts) > 10_000:
                self._attempts = {
                    k: v for k, v in self._attempts.items() if v and v[-1] > now - self.window
                }

    def reset(self, key: str) -> None:
        """Forget the attempts for `key` (after a successful login)."""
        with self._lock:
            self._attempts.pop(key, None)
