"""The `quitt` command line on a throw-away SQLite database."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api import cli
from domain.agents.models import Agent
from domain.claims.models import Claim
from domain.config import get_settings
from domain.db import get_engine, session_scope


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the settings at a fresh SQLite file for one test."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("QUITT_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield url
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def _claims() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Claim)) or 0


def test_upgrade_import_and_agents(
    database: str, demo_claims_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["db", "upgrade"]) == 0
    assert cli.main(["claims", "import", str(demo_claims_path)]) == 0
    assert "claims: 10 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert cli.main(["claims", "import", str(demo_claims_path)]) == 0
    assert "claims: 0 created, 0 updated, 10 unchanged" in capsys.readouterr().out
    assert cli.main(["claims", "import", "--if-empty", str(demo_claims_path)]) == 0
    assert "nothing imported" in capsys.readouterr().err
    assert _claims() == 10

    assert (
        cli.main(
            [
                "agents",
                "create",
                "--email",
                "S@Q.de",
                "--password",
                "0123456789",
                "--role",
                "supervisor",
            ]
        )
        == 0
    )
    assert cli.main(["agents", "create", "--email", "s@q.de", "--password", "0123456789"]) == 1
    assert "already exists" in capsys.readouterr().err
    with session_scope() as session:
        agent = session.scalar(select(Agent))
        assert agent is not None and (agent.email, agent.role) == ("s@q.de", "supervisor")


def test_broken_file_is_refused_with_exit_code_1(
    database: str, tmp_path: Path, demo_claims_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["db", "upgrade"]) == 0
    data: dict[str, Any] = json.loads(demo_claims_path.read_text(encoding="utf-8"))
    data["claims"][3]["principal"] = "12,x"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    assert cli.main(["claims", "import", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "claims[3] (reference 260000141): principal: not a decimal amount: '12,x'" in err
    assert _claims() == 0

    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    assert cli.main(["claims", "import", str(garbage)]) == 1
    assert "malformed JSON" in capsys.readouterr().err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main([])
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        cli.main(["agents", "create", "--email", "x@y.de"])
    assert caught.value.code == 2


def test_other_modules_can_register_subcommands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def register(subparsers: Any) -> None:
        hello = subparsers.add_parser("hello")
        hello.set_defaults(handler=lambda args: print("hi") or 0)

    monkeypatch.setattr(cli, "_registrars", [register])
    assert isinstance(cli.build_parser(), argparse.ArgumentParser)
    assert cli.main(["hello"]) == 0
    assert capsys.readouterr().out == "hi\n"
