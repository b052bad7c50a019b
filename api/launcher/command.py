"""`quitt run`: start the stack from the settings and keep it up until Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from api.cli import Subparsers
from api.launcher.stack import Stack
from domain.config import get_settings


def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    stack = Stack(
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        host=settings.host,
        gateway_port=settings.port,
        rasa_port=settings.rasa_port,
        action_port=settings.action_port,
        model=settings.model_path,
        rasa_replicas=settings.rasa_replicas,
        action_replicas=settings.action_replicas,
    )
    problem = settings.rest_channel_problem()
    if problem is not None:
        print(f"quitt: {problem}", file=sys.stderr)
        return 2
    if stack.rasa_replicas > 1 and not settings.redis_url:
        print(
            "quitt: several Rasa replicas need QUITT_REDIS_URL (the shared lock store)",
            file=sys.stderr,
        )
        return 2
    stack.start()
    try:
        stack.wait_ready()
    except (RuntimeError, TimeoutError) as exc:
        stack.stop()
        print(f"quitt: {exc}", file=sys.stderr)
        return 1
    print(
        f"Quitt is up: http://{settings.host}:{settings.port}  "
        f"({stack.rasa_replicas} Rasa, {stack.action_replicas} action servers; "
        "docs: /docs, Ctrl-C stops)"
    )
    return stack.watch()


def register(subparsers: Subparsers) -> None:
    """Add `quitt run`."""
    parser = subparsers.add_parser("run", help="start Rasa, the action server and the gateway")
    parser.set_defaults(handler=_run)
