#!/usr/bin/env node
// Runs the integration-cli binary of the platform package npm installed beside this one
// (integration-cli-rs-<os>-<cpu>[-<libc>]), with this process's arguments and stdio, and
// ends as it ends: its exit code, or the signal that stopped it. No install script: npm picks
// the one platform package through its `os`, `cpu` and `libc` fields, so this works with
// --ignore-scripts and under pnpm's defaults.
//
// INTEGRATION_CLI_BINARY=/path/to/integration-cli runs that binary instead (a cargo build).
'use strict';

const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const { platforms } = require('../platforms.json');

/// The C library of a Linux system: musl has no glibc version in Node's report.
function libc() {
  if (process.platform !== 'linux') return undefined;
  try {
    const report = process.report && process.report.getReport();
    const header = report && (typeof report === 'string' ? JSON.parse(report) : report).header;
    return header && header.glibcVersionRuntime ? 'glibc' : 'musl';
  } catch {
    return 'glibc';
  }
}

function fail(message) {
  process.stderr.write(`integration-cli-rs: ${message}\n`);
  process.exit(1);
}

const fallback =
  'Build it with Rust instead: cargo install --locked --path . in a clone of the ' +
  'integration-cli repository; then run integration-cli, or point INTEGRATION_CLI_BINARY at it.';

function binary() {
  const given = process.env.INTEGRATION_CLI_BINARY;
  if (given) return given;
  // INTEGRATION_CLI_RS_PLATFORM pretends to be another platform (for testing this message).
  const [os, cpu, c] = (process.env.INTEGRATION_CLI_RS_PLATFORM || '').split('-');
  const here = {
    os: os || process.platform,
    cpu: cpu || process.arch,
    libc: c || (os ? undefined : libc()),
  };
  const found = platforms.find(
    (p) => p.os === here.os && p.cpu === here.cpu && (!p.libc || p.libc === here.libc),
  );
  if (!found) {
    const named = [here.os, here.cpu, here.libc].filter(Boolean).join('-');
    fail(
      `there is no prebuilt binary for ${named}. Prebuilt: ${platforms.map((p) => p.key).join(', ')}.\n` +
        fallback,
    );
  }
  const pkg = `integration-cli-rs-${found.key}`;
  const exe = found.os === 'win32' ? 'integration-cli.exe' : 'integration-cli';
  try {
    return require.resolve(`${pkg}/bin/${exe}`);
  } catch {
    fail(
      `the package ${pkg} is not installed (optional dependencies left out, or installed on ` +
        `another platform and copied here). Reinstall integration-cli-rs on this machine ` +
        `without --omit=optional.\n${fallback}`,
    );
  }
}

const program = binary();
const child = spawn(program, process.argv.slice(2), { stdio: 'inherit', windowsHide: false });

// Signals sent to this launcher (a `kill`, a terminal closing, a supervisor) reach the
// binary too, each one (a second Ctrl-C means "stop now"), so none leaves it orphaned. A
// Ctrl-C at a terminal reaches both already: the binary takes the same signal arriving
// twice within a moment as one. Listening to SIGUSR1 also keeps Node from opening its
// inspector on it. Windows has none of the POSIX-only ones.
const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'].concat(
  process.platform === 'win32' ? [] : ['SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM'],
);
const forward = (signal) => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
for (const signal of forwarded) process.on(signal, forward);

child.on('error', (e) => fail(`cannot run ${path.basename(program)}: ${e.message}\n${fallback}`));
child.on('exit', (code, signal) => {
  for (const s of forwarded) process.removeListener(s, forward);
  if (signal) {
    // End the same way, so a shell sees 128 + N as it would from the binary itself. A
    // signal that does not end Node (SIGUSR1 would open its inspector, SIGPIPE is ignored)
    // ends it with the code a shell reports for that signal instead.
    const code = 128 + (os.constants.signals[signal] || 0);
    if (signal === 'SIGUSR1') process.exit(code);
    setTimeout(() => process.exit(code), 500);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code === null ? 1 : code);
});
