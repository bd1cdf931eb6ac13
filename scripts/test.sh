#!/usr/bin/env bash
# Every test of the project: unit tests, black-box tests of the binary against the stub
# provider, flow tests through fakes, the end-to-end suite against node-oidc-provider with
# headless Chromium, and the demo (the README's first command, so it stays true).
# Extra arguments go to `cargo test` (e.g. scripts/test.sh refresh).
#
# The e2e suite's peers are installed here when missing: `npm ci` in tests/e2e, Authlib in a
# virtualenv (target/e2e-venv), and Debian's chromium when running as root. Under CI (CI=true) a peer that cannot be had is a failure;
# elsewhere the e2e tests report themselves ignored, with the reason.
set -euo pipefail
CI=${CI:-}
cd "$(dirname "$0")/.."

in_ci() { case "${CI,,}" in "" | false | 0) return 1 ;; *) return 0 ;; esac; }

# Returns 0 with the e2e peers in place, or sets `missing` to why not and returns 1.
missing=""
prepare_e2e() {
  if ! command -v node > /dev/null; then
    missing="Node.js is not installed"
    return 1
  fi
  local modules=tests/e2e/node_modules
  if [ ! -f "$modules/.package-lock.json" ] \
    || [ tests/e2e/package-lock.json -nt "$modules/.package-lock.json" ]; then
    echo "== npm ci (tests/e2e)"
    if ! command -v npm > /dev/null; then
      missing="npm is not installed, and tests/e2e needs npm ci"
      return 1
    fi
    if ! (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error); then
      missing="npm ci failed in tests/e2e"
      return 1
    fi
  fi
  # Authlib (the password and JWT bearer grants' server) in a virtualenv of its own, made
  # again when tests/e2e/requirements.txt changes.
  local venv=target/e2e-venv
  if [ -z "${E2E_PYTHON:-}" ] && { [ ! -f "$venv/.installed" ] \
    || [ tests/e2e/requirements.txt -nt "$venv/.installed" ]; }; then
    echo "== pip install (tests/e2e/requirements.txt into $venv)"
    if ! python3 -m venv "$venv" > /dev/null 2>&1; then
      if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
          --no-install-recommends python3-venv > /dev/null || true
      fi
      if ! python3 -m venv "$venv"; then
        missing="cannot make a Python virtualenv (python3 -m venv; Debian: python3-venv)"
        return 1
      fi
    fi
    if ! "$venv/bin/pip" install -q --disable-pip-version-check -r tests/e2e/requirements.txt; then
      missing="pip could not install tests/e2e/requirements.txt"
      return 1
    fi
    touch "$venv/.installed"
  fi
  local chromium=${CHROMIUM:-/usr/bin/chromium}
  if [ ! -x "$chromium" ]; then
    if [ "$chromium" != /usr/bin/chromium ]; then
      missing="CHROMIUM=$chromium is not an executable"
      return 1
    fi
    if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
      missing="Chromium is not at $chromium; install Debian's with:"
      missing+=" sudo apt-get install -y --no-install-recommends chromium"
      return 1
    fi
    echo "== apt-get install chromium"
    # A fresh machine may still be running its own apt jobs: wait for the lock.
    local wait=(-o DPkg::Lock::Timeout=300)
    if ! { apt-get "${wait[@]}" update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -qq \
        --no-install-recommends chromium > /dev/null; }; then
      missing="apt-get could not install chromium"
      return 1
    fi
  fi
}

if ! prepare_e2e; then
  if in_ci; then
    echo "e2e: CI is set and the suite cannot run: $missing" >&2
    exit 1
  fi
  echo "e2e: the end-to-end tests will be skipped: $missing" >&2
fi

# strace, for the test that counts the reads of .unito.json (one read per decision).
if ! command -v strace > /dev/null && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "== apt-get install strace"
  wait=(-o DPkg::Lock::Timeout=300)
  DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -qq --no-install-recommends \
    strace > /dev/null 2>&1 \
    || { apt-get "${wait[@]}" update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get "${wait[@]}" install -y -qq --no-install-recommends strace > /dev/null; } \
    || echo "strace could not be installed" >&2
fi

cargo test --all-targets --locked "$@"
if [ $# -eq 0 ]; then
  # The README's first command, `cargo run --release -- demo` (cargo's --locked and --quiet
  # aside), as a machine without a display runs it; its throw-away folder lands in $dir.
  echo "== cargo run --release -- demo"
  log=$(mktemp)
  dir=$(mktemp -d)
  if env -u DISPLAY -u WAYLAND_DISPLAY TMPDIR="$dir" \
    cargo run --release --locked --quiet -- demo > "$log" 2>&1; then
    echo "demo: ok"
  else
    cat "$log"
    echo "demo: FAILED" >&2
    rm -rf "$log" "$dir"
    exit 1
  fi
  rm -rf "$log" "$dir"
  # The npm packages, installed from their tarballs and run through the launcher, with the
  # release binary the demo just built.
  if command -v npm > /dev/null; then
    echo "== npm/test.sh"
    bash npm/test.sh target/release/integration-cli
  elif in_ci; then
    echo "npm/test.sh: CI is set and npm is not installed" >&2
    exit 1
  else
    echo "npm/test.sh: skipped, npm is not installed" >&2
  fi
fi
