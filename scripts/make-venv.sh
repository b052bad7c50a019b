#!/usr/bin/env bash
# Create or refresh one of Quitt's two runtimes.
#   scripts/make-venv.sh app   -> .venv       (Python 3.11: gateway, actions, policy, tests)
#   scripts/make-venv.sh rasa  -> .venv-rasa  (Python 3.10: the Rasa 3.6 server and nlu/ components)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: make-venv.sh app|rasa}

find_python() {
  local want=$1 candidates=()
  candidates+=("python$want")
  if command -v pyenv >/dev/null 2>&1; then
    local p; p=$(pyenv prefix "$want" 2>/dev/null | head -n1 || true)
    [ -n "$p" ] && candidates+=("$p/bin/python")
  fi
  candidates+=(/root/.pyenv/versions/"$want".*/bin/python "$HOME"/.pyenv/versions/"$want".*/bin/python)
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c "import sys; sys.exit(0 if sys.version.startswith('$want.') else 1)" 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

case "$kind" in
  app)
    py=$(find_python 3.11) || { echo "error: Python 3.11 not found (PATH, pyenv, /root/.pyenv/versions/3.11.*). Install it and retry." >&2; exit 1; }
    [ -x .venv/bin/python ] || "$py" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    # torch would otherwise resolve to a CUDA build; the CPU wheel is pinned where the
    # app runtime needs it (later issues: sentiment, Whisper).
    .venv/bin/python -m pip install -q -e '.[dev]'
    touch .venv/.installed
    ;;
  rasa)
    py=$(find_python 3.10) || { echo "error: Python 3.10 not found (PATH, pyenv, /root/.pyenv/versions/3.10.13). rasa 3.6 needs Python >=3.8,<3.11." >&2; exit 1; }
    [ -x .venv-rasa/bin/python ] || "$py" -m venv .venv-rasa
    .venv-rasa/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv-rasa/bin/python -m pip install -q -r requirements/rasa.txt
    touch .venv-rasa/.installed
    ;;
  *) echo "usage: make-venv.sh app|rasa" >&2; exit 2 ;;
esac
