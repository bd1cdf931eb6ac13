#!/usr/bin/env bash
# The npm packages as a developer with Node.js and no Rust meets them: the release binary
# (argument, default target/release/integration-cli) packed into this machine's platform
# package, both packages `npm pack`ed and installed from the tarballs into a throw-away
# project, then run through the launcher: --version, an exit code passed through, signals
# passed on (SIGTERM, and SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM reported as 128 + N), a whole demo; again installed with --ignore-scripts; and the messages for a
# platform with no package and for a missing platform package. scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/integration-cli}
[ -x "$bin" ] || { echo "npm/test.sh: no binary at $bin (cargo build --release)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

check() { # check WHAT: say it passed; the caller's `||` says it failed
  echo "npm: ok: $1"
}
die() {
  echo "npm: FAILED: $1" >&2
  exit 1
}

key=$(node -e '
  const { platforms } = require("./npm/platforms.json");
  const r = process.report.getReport();
  const libc = process.platform === "linux" ? (r.header.glibcVersionRuntime ? "glibc" : "musl") : undefined;
  const p = platforms.find((p) => p.os === process.platform && p.cpu === process.arch && (!p.libc || p.libc === libc));
  if (!p) process.exit(1);
  console.log(p.key);
') || die "this machine's platform is not in npm/platforms.json"
version=$(node npm/pack.mjs --out "$work/pkg" --platform "$key" --binary "$bin")
for dir in integration-cli-rs "integration-cli-rs-$key"; do
  (cd "$work/pkg/$dir" && npm pack --silent --pack-destination "$work" > /dev/null)
done
main="$work/integration-cli-rs-$version.tgz"
platform="$work/integration-cli-rs-$key-$version.tgz"
[ -f "$main" ] && [ -f "$platform" ] || die "npm pack did not make both tarballs"
check "packed $key $version"

install() { # install DIR NPM-ARGS...: a throw-away project with the packages in it
  local app=$1
  shift
  mkdir -p "$app"
  (cd "$app" && echo '{"name": "throw-away-connector", "private": true}' > package.json \
    && npm install --no-audit --no-fund --loglevel=error "$@" > "$app.log" 2>&1) \
    || { cat "$app.log" >&2; die "npm install $*"; }
}
run() { # run DIR ARGS...: the launcher, as npx finds it
  local app=$1
  shift
  (cd "$app" && npx --no-install integration-cli-rs "$@")
}

install "$work/app" "$main" "$platform"
[ "$(run "$work/app" --version)" = "integration-cli $version" ] || die "--version through npx"
check "npx integration-cli-rs --version"

code=0
run "$work/app" oauth2 --port not-a-port 2> /dev/null || code=$?
[ "$code" = 2 ] || die "the usage error's exit code came back as $code, not 2"
check "exit codes pass through"

# The sandbox through the launcher, in the background: sets $launcher and $binary.
start_sandbox() { # start_sandbox NAME
  local out="$work/$1.out"
  # No core file from SIGQUIT in anyone's folder.
  (cd "$work/app" && ulimit -c 0 && exec node node_modules/.bin/integration-cli-rs sandbox --port 0 \
    > "$out" 2>&1) &
  launcher=$!
  pids+=("$launcher")
  for _ in $(seq 100); do grep -qs "http://127.0.0.1" "$out" && break; sleep 0.1; done
  grep -q "http://127.0.0.1" "$out" || die "the sandbox did not start: $(cat "$out")"
  binary=$(pgrep -P "$launcher") || die "no binary under the launcher"
  pids+=("$binary")
}
ended() { # ended: sets $code, the launcher's exit status as the shell reports it
  code=0
  wait "$launcher" 2> /dev/null || code=$?
}

# A signal to the launcher reaches the binary: the sandbox stops as on Ctrl-C.
start_sandbox sandbox
kill -TERM "$launcher"
ended
[ "$code" = 0 ] || die "the sandbox stopped by SIGTERM through the launcher exited $code"
kill -0 "$binary" 2> /dev/null && die "the binary outlived its launcher"
check "signals pass on"

# The others a supervisor or a person may send: passed on too, never leaving the binary
# behind, and its death by the signal reported as a shell reports it (128 + N). Node would
# open its inspector on SIGUSR1 if the launcher did not take it.
for signal in QUIT USR1 USR2 ALRM; do
  start_sandbox "sandbox-$signal"
  kill "-$signal" "$launcher"
  ended
  want=$((128 + $(kill -l "$signal")))
  [ "$code" = "$want" ] || die "SIG$signal to the launcher: exit $code, not $want"
  kill -0 "$binary" 2> /dev/null && die "SIG$signal to the launcher left the binary running"
  grep -q "Debugger listening" "$work/sandbox-$signal.out" && die "SIG$signal opened Node's inspector"
done
check "SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM pass on, reported as 128 + N"

# The binary itself ended by a signal: the launcher ends as it did.
start_sandbox sandbox-killed
kill -USR1 "$binary"
ended
[ "$code" = $((128 + $(kill -l USR1))) ] || die "a binary killed by SIGUSR1 came back as exit $code"
grep -q "Debugger listening" "$work/sandbox-killed.out" && die "Node opened its inspector"
check "a binary killed by a signal is reported as 128 + N"

env -u DISPLAY -u WAYLAND_DISPLAY TMPDIR="$work" \
  bash -c "cd '$work/app' && npx --no-install integration-cli-rs demo --headless --dir '$work/demo'" \
  > "$work/demo.log" 2>&1 || { cat "$work/demo.log" >&2; die "demo through the launcher"; }
check "a whole demo through the launcher"

install "$work/no-scripts" --ignore-scripts "$main" "$platform"
[ "$(run "$work/no-scripts" --version)" = "integration-cli $version" ] || die "--ignore-scripts"
check "installed with --ignore-scripts"

out=$(INTEGRATION_CLI_RS_PLATFORM=sunos-sparc run "$work/app" --version 2>&1) && die "sunos ran"
for needle in "no prebuilt binary for sunos-sparc" "linux-x64-gnu" "win32-x64" "cargo"; do
  [[ $out == *"$needle"* ]] || die "the unsupported-platform message lacks \"$needle\": $out"
done
check "a platform with no package is told what there is, and the cargo fallback"

install "$work/no-optional" --omit=optional "$main"
out=$(run "$work/no-optional" --version 2>&1) && die "ran without its platform package"
[[ $out == *"integration-cli-rs-$key is not installed"* ]] || die "missing package message: $out"
check "a missing platform package is named"
