"""`quitt run` as `make run` starts it: settings given only as environment variables.

The README tells an operator to export QUITT_TWILIO_ACCOUNT_SID, QUITT_TWILIO_AUTH_TOKEN
and QUITT_PUBLIC_URL and run the stack. Every child (gateway, actions, Rasa) must get
them (CONTRACT §1): here a signed WhatsApp message and a signed call are answered by a
stack whose working directory holds no `.env`, and `.env` settings reach the children
just the same.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.launcher import quitt_settings_environment
from domain.config import ROOT
from tests.support.stack import _free_port, seeded_sqlite, trained_model
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, sign, webhook_form
from tests.support.twilio_voice_standin import Document, call_sid

pytestmark = pytest.mark.integration


def test_dotenv_and_environment_reach_the_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "QUITT_TWILIO_AUTH_TOKEN=from-dotenv\n"
        "quitt_voice_queue=lowercase-in-dotenv\n"
        "QUITT_PUBLIC_URL=https://dotenv.example\n"
        "UNRELATED=not-a-setting\n"
    )
    monkeypatch.setenv("QUITT_PUBLIC_URL", "https://environment.example")
    monkeypatch.setenv("QUITT_STT_BEAM_SIZE", "3")
    found = quitt_settings_environment(env_file)
    assert found["QUITT_TWILIO_AUTH_TOKEN"] == "from-dotenv"
    assert found["QUITT_VOICE_QUEUE"] == "lowercase-in-dotenv"
    # The environment wins over .env, as it does for Settings.
    assert found["QUITT_PUBLIC_URL"] == "https://environment.example"
    assert found["QUITT_STT_BEAM_SIZE"] == "3"
    assert "UNRELATED" not in found


@pytest.fixture(scope="module")
def quitt_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `quitt run` with Twilio settings in its environment only; yield its URL."""
    trained_model()
    workdir = tmp_path_factory.mktemp("quitt-run")
    url = seeded_sqlite(workdir)
    port = _free_port()
    public_url = f"https://quitt-{port}.example.org"
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("QUITT_")}
    env.update(
        QUITT_ENVIRONMENT="test",
        QUITT_DATABASE_URL=url,
        QUITT_PORT=str(port),
        QUITT_RASA_PORT=str(_free_port()),
        QUITT_ACTION_PORT=str(_free_port()),
        QUITT_PUBLIC_URL=public_url,
        QUITT_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        QUITT_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        # No Twilio REST calls are made here; an unreachable base keeps it that way.
        QUITT_TWILIO_API_BASE="http://127.0.0.1:9",
    )
    log = (workdir / "quitt-run.log").open("wb")
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "quitt"), "run"],
        cwd=workdir,  # no .env here: the environment alone must do
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert process.poll() is None, (workdir / "quitt-run.log").read_text()
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            pytest.fail("quitt run did not become healthy in 300 s")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        tail = (workdir / "quitt-run.log").read_text(errors="replace")[-3000:]
        print(f"\n--- quitt run (tail) ---\n{tail}", file=sys.stderr)


def _public(base: str) -> str:
    port = base.rsplit(":", 1)[1]
    return f"https://quitt-{port}.example.org"


def test_a_signed_whatsapp_message_is_answered(quitt_run: str) -> None:
    form = webhook_form(address="whatsapp:+4917600000001", body="Hallo")
    signature = sign(f"{_public(quitt_run)}/twilio/whatsapp", form)
    response = httpx.post(
        f"{quitt_run}/twilio/whatsapp",
        data=form,
        headers={"X-Twilio-Signature": signature},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert "automatisiert" in response.text and "Aktenzeichen" in response.text


def test_a_signed_call_is_answered(quitt_run: str) -> None:
    form = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid(),
        "CallStatus": "ringing",
        "Called": "+4930123456789",
        "Caller": "+4917600000002",
        "Direction": "inbound",
        "From": "+4917600000002",
        "To": "+4930123456789",
    }
    signature = sign(f"{_public(quitt_run)}/twilio/voice", form)
    response = httpx.post(
        f"{quitt_run}/twilio/voice",
        data=form,
        headers={"X-Twilio-Signature": signature},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    document = Document.parse(response.text)
    assert document.turn is not None and document.says, response.text


def test_a_forged_signature_is_still_refused(quitt_run: str) -> None:
    form = webhook_form(address="whatsapp:+4917600000003", body="Hallo")
    forged = sign(f"{_public(quitt_run)}/twilio/whatsapp", form, token="not-the-token")
    response = httpx.post(
        f"{quitt_run}/twilio/whatsapp", data=form, headers={"X-Twilio-Signature": forged}
    )
    assert response.status_code == 403
