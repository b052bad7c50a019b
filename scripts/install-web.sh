#!/usr/bin/env bash
# Install the website chat widget (rasa-webchat) and the console's chart library
# (Chart.js) from the npm registry, exactly as web/package-lock.json pins them. The
# gateway serves their prebuilt bundles from web/node_modules; nothing is fetched
# from a CDN at run time.
# Runs `npm ci` only when web/node_modules is missing or older than the lock file.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$ROOT/web"
BUNDLES=("$WEB/node_modules/rasa-webchat/lib/index.js" "$WEB/node_modules/chart.js/dist/chart.umd.min.js")
STAMP="$WEB/node_modules/.quitt-lock.sha256"

lock_hash() {
  sha256sum "$WEB/package.json" "$WEB/package-lock.json" | sha256sum | cut -d' ' -f1
}

all_bundles() {
  local bundle
  for bundle in "${BUNDLES[@]}"; do [[ -f "$bundle" ]] || return 1; done
}

if all_bundles && [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(lock_hash)" ]]; then
  echo "install-web: rasa-webchat and chart.js are installed and match web/package-lock.json"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-web: npm is not installed, so the chat widget cannot be installed." >&2
  echo "install-web: install Node.js and npm (Debian: apt-get install -y nodejs npm), then run $0 again." >&2
  exit 1
fi

echo "install-web: npm ci in web/ (rasa-webchat and chart.js as pinned in package-lock.json)"
# Scripts stay off: the package ships a prebuilt bundle, and nothing needs to run at install.
(cd "$WEB" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

for bundle in "${BUNDLES[@]}"; do
  if [[ ! -f "$bundle" ]]; then
    echo "install-web: npm ci finished but $bundle is missing" >&2
    exit 1
  fi
done
lock_hash > "$STAMP"
version() { node -p "require('$WEB/node_modules/$1/package.json').version" 2>/dev/null || echo '?'; }
echo "install-web: rasa-webchat $(version rasa-webchat), chart.js $(version chart.js) ready"
