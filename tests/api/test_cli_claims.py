"""`quitt claims import` for CSV, --dry-run, and databases that were never migrated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api import cli
from api.db.migrate import upgrade
from domain.claims.models import Claim
from domain.config import get_settings
from domain.db import get_engine, session_scope
from tests.support.postgres import fresh_schema

CSV = (
    "reference;creditor;subject;due_date;principal;interest;fees;debtor_name;date_of_birth;"
    "postcode;phone\r\n"
    "1001;stadtwerke;Strom Q1;30.04.2026;412,50;9,18;54,00;Jürgen Müller;14.03.1987;20249;"
    "+4915112345678\r\n"
    "1002;stadtwerke;Strom Q2;31.07.2026;398,10;0;0;Jürgen Müller;14.03.1987;20249;"
    "+4917099887766\r\n"
)
CREDITORS = "id;name;address\r\nstadtwerke;Stadtwerke Süd GmbH;Hafenstraße 12, Hamburg\r\n"


def _use(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the settings (and the engine) at `url`."""
    monkeypatch.setenv("QUITT_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite file that nobody migrated yet."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    _use(url, monkeypatch)
    yield url
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """A German claims CSV (Windows-1252) and its creditors."""
    claims = tmp_path / "claims.csv"
    claims.write_bytes(CSV.encode("cp1252"))
    creditors = tmp_path / "creditors.csv"
    creditors.write_bytes(CREDITORS.encode("cp1252"))
    return claims, creditors


def _claims() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Claim)) or 0


def test_csv_import_dry_run_then_import(
    database: str, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    claims, creditors = files
    assert cli.main(["db", "upgrade"]) == 0
    capsys.readouterr()

    args = ["claims", "import", str(claims), "--creditors", str(creditors)]
    assert cli.main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dry run: validated only, nothing written\n")
    assert "claims: 2 created, 0 updated, 0 unchanged" in out
    assert "warnings: 1\n  row 3 (reference 1002): debtor: same name and date of birth" in out
    assert _claims() == 0

    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "debtors: 1 created, 0 updated, 0 unchanged" in out
    assert "claims: 2 created, 0 updated, 0 unchanged" in out
    assert cli.main(args) == 0
    assert "claims: 0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert _claims() == 2


def test_a_bad_csv_row_exits_1_naming_row_and_field(
    database: str, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    claims, creditors = files
    assert cli.main(["db", "upgrade"]) == 0
    claims.write_bytes(CSV.replace("398,10", "398,1x").encode("cp1252"))
    assert cli.main(["claims", "import", str(claims), "--creditors", str(creditors)]) == 1
    err = capsys.readouterr().err
    assert "row 3 (reference 1002): principal: not a decimal amount: '398,1x'" in err
    assert _claims() == 0


@pytest.mark.parametrize(
    "args",
    [
        ["claims", "import", "CLAIMS"],
        ["claims", "import", "--if-empty", "CLAIMS"],
        ["claims", "import", "--dry-run", "CLAIMS", "--creditors", "CREDITORS"],
        ["agents", "create", "--email", "a@quitt.example", "--password", "0123456789"],
    ],
)
def test_a_database_never_migrated_is_named_in_one_line(
    database: str,
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
) -> None:
    claims, creditors = files
    args = [
        str(claims) if a == "CLAIMS" else str(creditors) if a == "CREDITORS" else a for a in args
    ]

    assert cli.main(args) == 1

    err = capsys.readouterr().err
    assert (
        err == f"quitt: error: the database {database} was never migrated: run `quitt db upgrade`\n"
    )


def test_a_database_behind_the_migrations_is_named(database: str) -> None:
    upgrade(database, "0001")
    problem = cli.schema_problem()
    assert problem is not None
    assert problem.startswith(f"the database {database} is at revision 0001, this version needs ")
    assert problem.endswith(": run `quitt db upgrade`")
    upgrade(database)
    assert cli.schema_problem() is None


@pytest.fixture
def empty_postgres_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the settings at a fresh, empty PostgreSQL schema; drop it afterwards."""
    with fresh_schema("quitt_never_migrated") as url:
        _use(url, monkeypatch)
        try:
            yield url
        finally:
            get_engine().dispose()
            get_settings.cache_clear()
            get_engine.cache_clear()


@pytest.mark.postgres
def test_a_postgresql_database_never_migrated_is_named_in_one_line(
    empty_postgres_schema: str, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    claims, creditors = files
    assert cli.main(["claims", "import", str(claims), "--creditors", str(creditors)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("quitt: error: the database postgresql+psycopg://")
    assert err.endswith("was never migrated: run `quitt db upgrade`\n")
