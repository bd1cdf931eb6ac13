#!/usr/bin/env bash
# A whole login and a refresh, on this machine only, with no account anywhere: builds
# integration-cli, starts the local stub provider, writes a throw-away .unito.json in a
# temporary folder, logs in (a scripted "browser" follows the redirect) and refreshes.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --bin integration-cli --example stub_provider
bin="$PWD/target/debug/integration-cli"
stub="$PWD/target/debug/examples/stub_provider"

work=$(mktemp -d)
exec 3> >("$stub" serve > "$work/provider-url")
stub_pid=$!
cleanup() {
  exec 3>&-                      # closing its stdin stops the provider
  kill "$stub_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 100); do [ -s "$work/provider-url" ] && break; sleep 0.05; done
url=$(cat "$work/provider-url")
[ -n "$url" ] || { echo "demo: the stub provider did not start" >&2; exit 1; }

cat > "$work/.unito.json" <<JSON
{
  "name": "demo-connector",
  "authorizations": [
    {
      "name": "demo",
      "method": "oauth2",
      "development": true,
      "oauth2": {
        "clientId": "fake-client-id",
        "clientSecret": "\${DEMO_CLIENT_SECRET}",
        "authorizationUrl": "$url/authorize",
        "tokenUrl": "$url/token",
        "grantType": "authorization_code",
        "scopes": [{ "name": "read" }, "write"]
      }
    }
  ],
  "testAccounts": { "development": {}, "compliance": {} }
}
JSON
export DEMO_CLIENT_SECRET=fake-client-secret-do-not-use-0123456789

echo "== 1. integration-cli oauth2 (no tokens yet: a browser login)"
(cd "$work" && BROWSER="$stub browse" "$bin" oauth2 --port 0)
echo
echo "== 2. integration-cli oauth2 again (a refresh token is stored: no browser)"
(cd "$work" && "$bin" oauth2)
echo
echo "== The test account in .unito.json now holds (tokens masked here):"
sed -E 's/("(accessToken|refreshToken|id_token)": ")([^"]{4})[^"]*"/\1\3…"/' "$work/.unito.json" \
  | sed -n '/"testAccounts"/,$p'
