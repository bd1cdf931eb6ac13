#!/usr/bin/env node
// Fills the npm packages for a release, ready for `npm pack` or `npm publish`:
//
//   node npm/pack.mjs --out DIR [--platform KEY --binary PATH]...
//
// writes DIR/integration-cli-rs (the launcher, its version and its optionalDependencies at
// that exact version, one per platform in npm/platforms.json) and, for each --platform,
// DIR/integration-cli-rs-KEY holding that binary, with `os`, `cpu` and `libc` set. The
// version is Cargo.toml's. Publish the platform packages first, then the main one.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);

function version() {
  const cargo = readFileSync(path.join(root, 'Cargo.toml'), 'utf8');
  const pkg = cargo.split(/^\[/m).find((s) => s.startsWith('package]'));
  const found = pkg && pkg.match(/^version\s*=\s*"([^"]+)"/m);
  if (!found) throw new Error('no version in Cargo.toml [package]');
  return found[1];
}

function parse(argv) {
  const opts = { out: undefined, platforms: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--out') opts.out = value;
    else if (flag === '--platform') opts.platforms.push({ key: value });
    else if (flag === '--binary' && opts.platforms.length) opts.platforms.at(-1).binary = value;
    else throw new Error(`unexpected argument ${flag} (see the top of npm/pack.mjs)`);
    i += 1;
  }
  if (!opts.out) throw new Error('--out DIR is required');
  return opts;
}

const write = (file, text) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
};

const opts = parse(process.argv.slice(2));
const v = version();
const { platforms } = JSON.parse(readFileSync(path.join(here, 'platforms.json'), 'utf8'));

const main = JSON.parse(readFileSync(path.join(here, 'integration-cli-rs/package.json'), 'utf8'));
main.version = v;
main.optionalDependencies = Object.fromEntries(
  platforms.map((p) => [`integration-cli-rs-${p.key}`, v]),
);
const mainDir = path.join(opts.out, 'integration-cli-rs');
write(path.join(mainDir, 'package.json'), `${JSON.stringify(main, null, 2)}\n`);
write(path.join(mainDir, 'platforms.json'), readFileSync(path.join(here, 'platforms.json')));
const launcher = path.join(mainDir, 'bin/integration-cli-rs.js');
write(launcher, readFileSync(path.join(here, 'integration-cli-rs/bin/integration-cli-rs.js')));
chmodSync(launcher, 0o755);
write(path.join(mainDir, 'README.md'), readFileSync(path.join(root, 'README.md')));

for (const wanted of opts.platforms) {
  const p = platforms.find((x) => x.key === wanted.key);
  if (!p) throw new Error(`unknown platform ${wanted.key} (npm/platforms.json lists them)`);
  if (!wanted.binary) throw new Error(`--platform ${wanted.key} needs --binary PATH`);
  const name = `integration-cli-rs-${p.key}`;
  const exe = p.os === 'win32' ? 'integration-cli.exe' : 'integration-cli';
  const dir = path.join(opts.out, name);
  const pkg = {
    name,
    version: v,
    description: `The integration-cli binary for ${p.key} (installed by integration-cli-rs)`,
    license: main.license,
    os: [p.os],
    cpu: [p.cpu],
    ...(p.libc ? { libc: [p.libc] } : {}),
    files: [`bin/${exe}`],
    preferUnplugged: true,
  };
  write(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  const readme = readFileSync(path.join(here, 'platform/README.md'), 'utf8')
    .replaceAll('{{key}}', p.key)
    .replaceAll('{{target}}', p.target);
  write(path.join(dir, 'README.md'), readme);
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  copyFileSync(wanted.binary, path.join(dir, 'bin', exe));
  chmodSync(path.join(dir, 'bin', exe), 0o755);
}
process.stdout.write(`${v}\n`);
