"""Agent table."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import Boolean, CheckConstraint, String, true
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base
from domain.db.columns import UTCDateTime, check_in, utcnow

AGENT_ROLES: Final = ("agent", "supervisor")


class Agent(Base):
    """A console user; email stored lower-cased."""

    __tablename__ = "agents"
    __table_args__ = (CheckConstraint(check_in("role", AGENT_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent", server_default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
