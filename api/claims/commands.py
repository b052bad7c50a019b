"""`quitt claims import PATH [--if-empty]`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.claims import service as claim_service
from api.db import session_scope


def _import(args: argparse.Namespace) -> int:
    """Import a `quitt-claims/1` file and print what changed."""
    with session_scope() as db_session:
        if args.if_empty and claim_service.count_claims(db_session=db_session) > 0:
            print("claims already present; nothing imported (--if-empty)", file=sys.stderr)
            return 0
        report = claim_service.import_file(db_session=db_session, path=args.path)
    print(report)
    return 0


def register(subparsers: Any) -> None:
    """Add the `claims` subcommands."""
    claims = subparsers.add_parser("claims", help="claims data")
    actions = claims.add_subparsers(dest="claims_command", metavar="ACTION", required=True)
    importer = actions.add_parser("import", help="import a quitt-claims/1 JSON file")
    importer.add_argument("path", help="path of the JSON file")
    importer.add_argument(
        "--if-empty", action="store_true", help="import only when no claims are stored yet"
    )
    importer.set_defaults(handler=_import)
