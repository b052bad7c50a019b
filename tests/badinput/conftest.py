"""Bad-input tests: `whatsapp`, one more gateway with WhatsApp on (shared with tests/faults)."""

from tests.badinput.processes import whatsapp  # noqa: F401  (a fixture)
