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

from api.errors import QuittError

Subparsers = Any  # argparse._SubParsersAction, which has no public name
Registrar = Callable[[Subparsers], None]

# Modules with a `register(subparsers)` function, in help order.
COMMAND_MODULES: list[str] = [
    "api.db.commands",
    "api.claims.commands",
    "api.agents.commands",
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
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
