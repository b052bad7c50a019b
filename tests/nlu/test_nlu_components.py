"""Run the Rasa components in the Rasa runtime (Python 3.10, rasa 3.6) via a subprocess.

The app runtime has no rasa, so the test starts the Rasa interpreter named by
QUITT_RASA_PYTHON (default: .venv-rasa/bin/python under the repo root).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.support.required import missing

REPO_ROOT = Path(__file__).resolve().parents[2]

# Instantiates both components the way Rasa's graph does (create + default config) and
# prints the entities of one processed message as JSON on the last line.
SCRIPT = """
import json, sys, tempfile
from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from nlu.components import AmountDateExtractor, LanguageIdentifier

storage = LocalModelStorage(Path(tempfile.mkdtemp()))
context = ExecutionContext(GraphSchema({}), "test")
components = [
    cls.create(cls.get_default_config(), storage, Resource(cls.__name__), context)
    for cls in (LanguageIdentifier, AmountDateExtractor)
]
results = {}
for text in sys.argv[1:]:
    messages = [Message.build(text=text)]
    for component in components:
        messages = component.process(messages)
    results[text] = messages[0].get("entities", [])
print(json.dumps(results))
"""

SENTENCE = "Ich kann höchstens 50 € im Monat, ab nächsten Freitag"


def _rasa_python() -> Path | None:
    """Locate the Rasa runtime's interpreter; skip (or fail in CI) when it is absent."""
    path = Path(os.environ.get("QUITT_RASA_PYTHON", REPO_ROOT / ".venv-rasa" / "bin" / "python"))
    if path.exists():
        return path
    missing(f"Rasa runtime not found at {path}; set QUITT_RASA_PYTHON to its python")


def _run(*texts: str) -> dict[str, list[dict[str, object]]]:
    """Process texts through both components in the Rasa runtime."""
    python = _rasa_python()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    completed = subprocess.run(
        [str(python), "-c", SCRIPT, *texts],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    result: dict[str, list[dict[str, object]]] = json.loads(
        completed.stdout.strip().splitlines()[-1]
    )
    return result


def test_components_in_rasa_runtime() -> None:
    """Both components add language, amount and date, and keep the language on "ok"."""
    results = _run(SENTENCE, "ok", "1")
    entities = results[SENTENCE]
    by_name = {e["entity"]: e for e in entities}
    assert by_name["language"]["value"] == "de"
    assert by_name["language"]["extractor"] == "LanguageIdentifier"
    assert (by_name["language"]["start"], by_name["language"]["end"]) == (0, len(SENTENCE))
    assert by_name["amount"]["value"] == "50.00"
    assert by_name["amount"]["extractor"] == "AmountDateExtractor"
    assert isinstance(by_name["date"]["value"], str)
    assert len(by_name["date"]["value"]) == 10  # ISO date
    amount = by_name["amount"]
    assert SENTENCE[int(str(amount["start"])) : int(str(amount["end"]))] == "50 €"
    # Without evidence neither a language nor an amount ("1" is a menu choice).
    assert results["ok"] == []
    assert results["1"] == []
