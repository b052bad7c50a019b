"""The settings a launcher hands its children: what it read itself, nothing else."""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values


def quitt_settings_environment(env_file: Path | None = None) -> dict[str, str]:
    """Return every `QUITT_` setting this process was given, as environment variables.

    Read the way `Settings` reads them: `.env` in the working directory, then the
    environment, which wins. Names are upper-cased (pydantic-settings matches them
    case-insensitively), so a child reads exactly what the launcher read.
    """
    path = env_file if env_file is not None else Path.cwd() / ".env"
    found: dict[str, str] = {}
    if path.is_file():
        for key, value in dotenv_values(path).items():
            if key.upper().startswith("QUITT_") and value is not None:
                found[key.upper()] = value
    for key, value in os.environ.items():
        if key.upper().startswith("QUITT_"):
            found[key.upper()] = value
    return found
