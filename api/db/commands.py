"""`quitt db upgrade`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.db import migrate


def _upgrade(args: argparse.Namespace) -> int:
    """Migrate the configured database to the newest schema."""
    migrate.upgrade(args.url, args.revision)
    print(f"database migrated to {args.revision}", file=sys.stderr)
    return 0


def register(subparsers: Any) -> None:
    """Add the `db` subcommands."""
    db = subparsers.add_parser("db", help="database schema")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="apply migrations (default: to head)")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.add_argument("--url", default=None, help="database URL (default: settings)")
    upgrade.set_defaults(handler=_upgrade)
