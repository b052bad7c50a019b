"""The blind bench's paths, personas and limits, and its error."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLIND_DIR = ROOT / "tests" / "blind"
DOMAIN_CORE = ROOT / "bot" / "domain" / "core.yml"
DEMO_CLAIMS = ROOT / "data" / "demo_claims.json"
MODEL = ROOT / "models" / "quitt.tar.gz"
RESULTS_DIR = ROOT / "results" / "judgement"
LOG_DIR = RESULTS_DIR / "logs"

LANGUAGES = ("de", "en")
SPLITS = ("dev", "sealed")
NO_HANDOFF = "none"
OUTCOMES = ("promise", "handoff", "none")
# The demo debtors the conversation authors were briefed with (data/demo_claims.json).
PERSONAS: dict[str, tuple[str, ...]] = {
    "jana": ("260000117",),
    "murat": ("260000125",),
    "thomas": ("260000133",),
    "emily": ("260000141",),
    "sabine": ("260000158", "260000166"),
    "daniel": ("260000174",),
}
# Single messages run on a clone of one ordinary debtor of the item's language.
MESSAGE_PERSONAS = {"de": "jana", "en": "emily"}
# Clones get 9-digit references from here on (the demo claims start with 26).
FIRST_REFERENCE = 700_000_001
# CONTRACT §4: Telefonseelsorge in German, Samaritans or 988 in English.
HELP_LINES: dict[str, tuple[str, ...]] = {"de": ("0800 111 0 111",), "en": ("116 123", "988")}
# A turn holding one of these is the identity check; before it, no claim detail may show.
PROOF_PLACEHOLDERS = ("{dob}", "{dob_en}", "{postcode}")
BENCH_AGENT_EMAIL = "bench@quitt.test"
BENCH_AGENT_PASSWORD = "bench-judgement-agent"
HTTP_TIMEOUT = 120.0
DEFAULT_WORKERS = 4


class BenchError(RuntimeError):
    """A precondition of the benchmark failed."""
