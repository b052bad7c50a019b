"""`quitt privacy export | erase | retention` on a SQLite file with Rasa's tracker beside it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from api import cli
from domain.audit import service as audit_service
from domain.config import ROOT, get_settings
from domain.conversations import service as conversations_service
from domain.db import get_engine, make_engine, session_scope

JANA = "260000117"
SENDER = "cli-jana"
OTHER = "cli-someone-else"


def _use(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUITT_DATABASE_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A migrated SQLite file with the demo claims, Jana's chat and Rasa's tracker."""
    _use(f"sqlite:///{tmp_path / 'quitt.db'}", monkeypatch)
    assert cli.main(["db", "upgrade"]) == 0
    assert cli.main(["claims", "import", str(ROOT / "data" / "demo_claims.json")]) == 0
    with session_scope() as db_session:
        conversations_service.get_or_create(db_session=db_session, sender_id=SENDER, channel="rest")
        conversations_service.mark_verified(
            db_session=db_session, sender_id=SENDER, claim_reference=JANA, debtor_id=1
        )
        conversations_service.add_message(
            db_session=db_session, sender_id=SENDER, direction="in", author="debtor",
            text="Hier ist Jana Becker, bitte alles löschen",
        )  # fmt: skip
    tracker = make_engine(f"sqlite:///{tmp_path / 'rasa-tracker.db'}")
    with tracker.begin() as conn:
        conn.execute(
            text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, data TEXT)")
        )
        for sender, said in ((SENDER, "260000117"), (SENDER, "14.03.1987"), (OTHER, "hallo")):
            conn.execute(
                text("INSERT INTO events (sender_id, data) VALUES (:s, :d)"),
                {"s": sender, "d": json.dumps({"event": "user", "text": said})},
            )
    tracker.dispose()
    yield tmp_path
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def _tracker_senders(folder: Path) -> list[str]:
    engine = make_engine(f"sqlite:///{folder / 'rasa-tracker.db'}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT sender_id FROM events ORDER BY id")).scalars())
    finally:
        engine.dispose()


def test_export_writes_the_person_and_audits_it(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = database / "jana.json"
    assert cli.main(["privacy", "export", "--reference", JANA, "--out", str(out)]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["debtor"]["date_of_birth"] == "1987-03-14"  # unmasked: it is for her
    assert [c["id"] for c in document["conversations"]] == [SENDER]
    assert f"written to {out}" in capsys.readouterr().err
    with session_scope() as db_session:
        (opened,) = audit_service.list_events(db_session=db_session, kind="privacy_export_opened")
        assert opened.data == {"debtor_id": 1, "actor": "cli", "masked": False}

    assert cli.main(["privacy", "export", "--debtor-id", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["debtor"]["name"] == "Jana Becker"
    assert cli.main(["privacy", "export", "--debtor-id", "999"]) == 1
    assert "no debtor with id 999" in capsys.readouterr().err


def test_erase_refuses_an_open_claim_then_force_erases_and_scans(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["privacy", "erase", "--reference", JANA]) == 1
    err = capsys.readouterr().err
    assert "cannot be erased yet" in err and f"claim {JANA} is open, not paid" in err

    assert cli.main(["privacy", "erase", "--reference", JANA, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "nothing changed" in out and "conversations to anonymise: 1 (1 messages" in out

    assert cli.main(["privacy", "erase", "--reference", JANA, "--force", "--scan"]) == 0
    out = capsys.readouterr().out
    assert "erased debtor 1, now erased:" in out
    assert f"forced past:\n  claim {JANA} is open, not paid" in out
    assert "scan: no name, phone, e-mail or date of birth of theirs left anywhere" in out
    assert _tracker_senders(database) == [OTHER]  # Rasa's copy of her chat went too

    assert cli.main(["privacy", "erase", "--reference", JANA, "--force"]) == 1
    assert "was erased on" in capsys.readouterr().err


def test_retention_dry_run_and_run(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with session_scope() as db_session:
        paid = text("UPDATE claims SET status = 'paid' WHERE reference = :r")
        db_session.execute(paid, {"r": JANA})
    args = ["privacy", "retention", "--now", "2099-01-01"]
    assert cli.main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dry run: would anonymise 1 transcript(s)")
    assert f"{SENDER}: 1 messages ({JANA}; 90 days" in out
    assert cli.main(args) == 0
    assert capsys.readouterr().out.startswith("anonymised 1 transcript(s)")
    assert _tracker_senders(database) == [OTHER]
    assert cli.main(args) == 0
    assert capsys.readouterr().out.startswith("anonymised 0 transcript(s)")
