#!/usr/bin/env bash
# Install Debian's espeak-ng: the tests and `make bench-voice` synthesise German and
# English debtor speech with it (voice notes, telephone audio). Only the distro package.
set -euo pipefail

ESPEAK=espeak-ng

if command -v "$ESPEAK" >/dev/null 2>&1; then
  echo "install-speech-tools: $ESPEAK is present ($("$ESPEAK" --version 2>/dev/null | head -n1 || echo 'version unknown'))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-speech-tools: $ESPEAK is missing and apt-get is not available;" \
       "install Debian's 'espeak-ng' package by hand" >&2
  exit 1
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "install-speech-tools: $ESPEAK is missing and installing it needs root" \
         "(run: sudo apt-get install -y --no-install-recommends espeak-ng)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# Another apt run (e.g. the Chromium install) may hold the lock: wait for it.
APT_OPTS=(-o DPkg::Lock::Timeout=300)
echo "install-speech-tools: $ESPEAK is missing; running apt-get update"
if ! "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -q; then
  echo "install-speech-tools: apt-get update failed (no network or no package mirror?)" >&2
  exit 1
fi
echo "install-speech-tools: installing Debian's espeak-ng package (no recommends)"
if ! "${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -q --no-install-recommends espeak-ng; then
  echo "install-speech-tools: apt-get install espeak-ng failed" >&2
  exit 1
fi
if ! command -v "$ESPEAK" >/dev/null 2>&1; then
  echo "install-speech-tools: the espeak-ng package installed, but $ESPEAK is not on the PATH" >&2
  exit 1
fi
echo "install-speech-tools: installed $("$ESPEAK" --version 2>/dev/null | head -n1 || echo "$ESPEAK")"
