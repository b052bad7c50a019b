"""`quitt payments import` and `quitt payments sweep` on a migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api import cli
from domain.config import get_settings
from domain.db import get_engine, session_scope
from domain.payments.models import Payment

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "payments"


@pytest.fixture
def database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_claims_path: Path
) -> Iterator[str]:
    """A migrated SQLite file with the demo claims."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("QUITT_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    assert cli.main(["db", "upgrade"]) == 0
    assert cli.main(["claims", "import", str(demo_claims_path)]) == 0
    yield url
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_import_twice_then_sweep(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    statement = str(FIXTURES / "camt053_001_02.xml")
    capsys.readouterr()
    assert cli.main(["payments", "import", statement, "--today", "2026-05-16"]) == 0
    first = capsys.readouterr()
    assert "camt.053.001.02: 3 credit(s) read, 3 imported (2 matched, 1 unmatched" in first.out
    assert "left out: 1 debit entry" in first.out
    assert cli.main(["payments", "import", statement, "--today", "2026-05-16"]) == 0
    second = capsys.readouterr()
    assert "0 imported" in second.out and "3 already imported" in second.out
    with session_scope() as db_session:
        assert db_session.scalar(select(func.count()).select_from(Payment)) == 3
    assert cli.main(["payments", "sweep", "--today", "2026-05-17"]) == 0
    assert capsys.readouterr().out.startswith("sweep 2026-05-17:")
    # Payer names and account numbers from the statement never reach the output.
    for shown in (first, second):
        text = shown.out + shown.err
        assert "Becker" not in text and "DE89" not in text and "Yilmaz" not in text


def test_a_malformed_statement_is_refused_with_one_message(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(
        "booking_date;amount;remittance;payer;transaction_id\n15.05.2026;1O,00;260000117;A;T1\n",
        encoding="utf-8",
    )
    assert cli.main(["payments", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "statement rejected, nothing imported" in err
    assert "row 2 (transaction_id T1): amount: not an amount: '1O,00'" in err
