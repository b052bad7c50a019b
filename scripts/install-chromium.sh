#!/usr/bin/env bash
# Install Debian's Chromium for the console's browser test; never a browser download.
# Playwright drives /usr/bin/chromium (executable_path), so only the distro package is needed.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
  echo "install-chromium: $CHROMIUM is present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: $CHROMIUM is missing and apt-get is not available;" \
       "install Debian's 'chromium' package by hand" >&2
  exit 1
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "install-chromium: $CHROMIUM is missing and installing it needs root" \
         "(run: sudo apt-get install -y --no-install-recommends chromium)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: $CHROMIUM is missing; running apt-get update"
if ! "${SUDO[@]}" apt-get update -q; then
  echo "install-chromium: apt-get update failed (no network or no package mirror?)" >&2
  exit 1
fi
echo "install-chromium: installing Debian's chromium package (no recommends)"
if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium; then
  echo "install-chromium: apt-get install chromium failed" >&2
  exit 1
fi
if [[ ! -x "$CHROMIUM" ]]; then
  echo "install-chromium: the chromium package installed, but $CHROMIUM is not there" >&2
  exit 1
fi
echo "install-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
