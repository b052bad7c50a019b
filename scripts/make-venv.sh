#!/usr/bin/env bash
# Create or refresh one of Quitt's two runtimes, exactly as the lock files pin them
# (with hashes; nothing is resolved here: `make lock` re-resolves on purpose).
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

# --no-deps: the lock lists every package, so pip never resolves (and a lock that
# misses one fails loudly at import time in the tests, not silently here).
# (These machines' pip config names local index folders that may be missing: pip
# warns once per package; those lines are dropped, everything else is shown.)
locked() {
  "$1" -m pip install -q --require-hashes --no-deps -r "$2" \
    2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
}

case "$kind" in
  app)
    py=$(find_python 3.11) || { echo "error: Python 3.11 not found (PATH, pyenv, /root/.pyenv/versions/3.11.*). Install it and retry." >&2; exit 1; }
    [ -x .venv/bin/python ] || "$py" -m venv .venv
    # torch is locked as its CPU wheel (2.13.0+cpu): on these machines pip finds it in
    # /opt/wheels (pip's find-links); elsewhere set PIP_FIND_LINKS to PyTorch's CPU index.
    locked .venv/bin/python requirements/build.lock
    locked .venv/bin/python requirements/app.lock
    .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
    .venv/bin/python -m pip check
    touch .venv/.installed
    ;;
  rasa)
    py=$(find_python 3.10) || { echo "error: Python 3.10 not found (PATH, pyenv, /root/.pyenv/versions/3.10.13). rasa 3.6 needs Python >=3.8,<3.11." >&2; exit 1; }
    [ -x .venv-rasa/bin/python ] || "$py" -m venv .venv-rasa
    locked .venv-rasa/bin/python requirements/rasa.lock
    touch .venv-rasa/.installed
    ;;
  *) echo "usage: make-venv.sh app|rasa" >&2; exit 2 ;;
esac
