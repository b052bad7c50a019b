"""Run the Rasa CLI with one fix for speed: the action server's answers are validated once-compiled.

Rasa 3.6 checks every action server answer with `jsonschema.validate(result,
schema)`, which first validates the (large) events schema itself against its
meta-schema, on every call. Under load that was about half of a Rasa
replica's CPU (py-spy, `make bench-load --profile`): about 110 ms per action
call against 2 ms for the answer alone. `install()` swaps in the same check
with the schema checked once and its validator kept; the answer is validated
exactly as before and a bad one raises the same `ValidationError`.

    .venv-rasa/bin/python -m nlu.server run --enable-api ...   (what `quitt run` starts)
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _validator() -> Any:
    """Return the checked, compiled validator of Rasa's action server answer format."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Validate an action server answer the way Rasa does, with the validator built once."""
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    """Replace Rasa's per-call schema check of action answers with the compiled one."""
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def main() -> None:
    """Install the fix and hand over to Rasa's command line."""
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
