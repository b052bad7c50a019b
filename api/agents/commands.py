"""`quitt agents create --email E --password P [--role agent|supervisor]`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from domain.agents import service as agent_service
from domain.agents.models import AGENT_ROLES
from domain.db import session_scope


def _create(args: argparse.Namespace) -> int:
    """Create a console user."""
    with session_scope() as db_session:
        agent = agent_service.create_agent(
            db_session=db_session, email=args.email, password=args.password, role=args.role
        )
        print(f"created {agent.role} {agent.email} (id {agent.id})", file=sys.stderr)
    return 0


def register(subparsers: Any) -> None:
    """Add the `agents` subcommands."""
    agents = subparsers.add_parser("agents", help="console users")
    actions = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a console user")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--role", choices=AGENT_ROLES, default="agent")
    create.set_defaults(handler=_create)
