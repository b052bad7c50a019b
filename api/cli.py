"""The `quitt` command line: a parser that any module can add subcommands to.

A module that wants its own subcommand (e.g. `quitt run`) defines
`register(subparsers)`, which adds a parser and sets `handler=` to a function
`(args) -> int`, and is listed in `COMMAND_MODULES` (or calls `register_command`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from api.db.migrate import alembic_config
from domain.config import get_settings
from domain.db import get_engine
from domain.errors import QuittError

Subparsers = Any  # argparse._SubParsersAction, which has no public name
Registrar = Callable[[Subparsers], None]

# Modules with a `register(subparsers)` function, in help order.
COMMAND_MODULES: list[str] = [
    "api.db.commands",
    "api.claims.commands",
    "api.payments.commands",
    "api.reminders.commands",
    "api.agents.commands",
    "api.privacy.commands",
    "api.launcher",
]
_registrars: list[Registrar] = []


def register_command(registrar: Registrar) -> Registrar:
    """Add a subcommand registrar (usable as a decorator)."""
    _registrars.append(registrar)
    return registrar


def build_parser() -> argparse.ArgumentParser:
    """Build the `quitt` parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="quitt", description="Quitt debtor assistant")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(subparsers)
    for registrar in _registrars:
        registrar(subparsers)
    return parser


def fail(message: str, code: int = 1) -> int:
    """Print an error on stderr and return the exit code."""
    print(f"quitt: error: {message}", file=sys.stderr)
    return code


def schema_problem() -> str | None:
    """Say in one line why the configured database cannot serve Quitt, or None if it can.

    A database that was never migrated (or is behind this version's migrations) fails
    deep inside a command with "no such table"; this names the cause and the cure.
    """
    where = make_url(get_settings().database_url).render_as_string(hide_password=True)
    try:
        with get_engine().connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa_exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"cannot use the database {where}: {reason}"
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    if not current:
        return f"the database {where} was never migrated: run `quitt db upgrade`"
    if current != heads:
        return (
            f"the database {where} is at revision {', '.join(sorted(current))}, this version "
            f"needs {', '.join(sorted(heads))}: run `quitt db upgrade`"
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `quitt` command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except QuittError as exc:
        code = fail(exc.message)
        details = getattr(exc, "errors", [])
        if len(details) > 1 or (details and details[0] != exc.message):
            for line in details:
                print(f"  {line}", file=sys.stderr)
        return code
    except (sa_exc.OperationalError, sa_exc.ProgrammingError):
        # Most often a database that was never migrated: one line, not a traceback.
        problem = schema_problem()
        if problem is None:
            raise
        return fail(problem)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
