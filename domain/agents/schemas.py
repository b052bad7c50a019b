"""Log-in request and answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class LoginIn(BaseModel):
    """Credentials of a console user."""

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    """A bearer token for the console API."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
