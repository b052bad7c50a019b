#!/usr/bin/env bash
# Run the rasa CLI of the Rasa runtime with the repo on PYTHONPATH (for nlu/ components).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0
exec .venv-rasa/bin/rasa "$@"
