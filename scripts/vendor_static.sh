#!/usr/bin/env bash
# Vendor pinned front-end libraries from the npm registry into static/vendor/.
#
# The site never loads anything from a CDN at run time: every browser library it
# uses is copied here, at an exact version, together with its LICENSE file.
#
#   Pins:     scripts/vendor/package.json (exact versions, plus a "vendor" map of
#             which files of each package to copy) and scripts/vendor/package-lock.json
#   Output:   static/vendor/<dir>/...   and   static/vendor/MANIFEST.txt
#             (package@version + npm integrity, then sha256 of each copied file)
#
# Usage:
#   scripts/vendor_static.sh          install the pins in a temp dir (npm ci), copy the
#                                     files, rewrite MANIFEST.txt, verify. Idempotent.
#   scripts/vendor_static.sh --check  offline: verify static/vendor/ against MANIFEST.txt
#                                     and the pins in package.json; no network, no writes.
#
# If npm cannot reach the registry but static/vendor/ already matches MANIFEST.txt
# and the pins, the default mode warns and exits 0 (nothing to do).
#
# To bump a library: edit the exact version in scripts/vendor/package.json, run
#   (cd scripts/vendor && npm install --package-lock-only --ignore-scripts)
# then this script, and commit package.json, package-lock.json and static/vendor/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PINS_DIR="$ROOT/scripts/vendor"
OUT_DIR="$ROOT/static/vendor"
MANIFEST="$OUT_DIR/MANIFEST.txt"

mode="vendor"
case "${1:-}" in
  "") ;;
  --check) mode="check" ;;
  -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

log() { printf 'vendor_static: %s\n' "$*"; }
die() { printf 'vendor_static: ERROR: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "node is required"
[[ -f "$PINS_DIR/package.json" ]] || die "missing $PINS_DIR/package.json"
[[ -f "$PINS_DIR/package-lock.json" ]] || die "missing $PINS_DIR/package-lock.json"

# The helper does all file work in node (no sha256sum/jq dependency).
#   node helper.js pins   <pins_dir>
#   node helper.js verify <pins_dir> <out_dir>
#   node helper.js stage  <pins_dir> <node_modules> <stage_dir>
#   node helper.js install <pins_dir> <stage_dir> <out_dir>
read -r -d '' HELPER <<'JS' || true
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const [cmd, ...args] = process.argv.slice(1);
const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const fail = (msg) => { console.error('vendor_static: ERROR: ' + msg); process.exit(1); };
const EXACT = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

function loadPins(pinsDir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(pinsDir, 'package.json'), 'utf8'));
  const lock = JSON.parse(fs.readFileSync(path.join(pinsDir, 'package-lock.json'), 'utf8'));
  const deps = pkg.dependencies || {};
  const vendor = pkg.vendor || {};
  const dirs = new Set();
  const pins = [];
  for (const name of Object.keys(vendor)) {
    const version = deps[name];
    if (!version) fail(`"vendor" lists ${name} but "dependencies" does not`);
    if (!EXACT.test(version)) fail(`${name} must be pinned to an exact version, got "${version}"`);
    const locked = (lock.packages || {})['node_modules/' + name];
    if (!locked || locked.version !== version) {
      fail(`package-lock.json has ${name}@${locked ? locked.version : '(none)'}, package.json pins ${version}; ` +
           'run: (cd scripts/vendor && npm install --package-lock-only --ignore-scripts)');
    }
    const spec = vendor[name];
    const dir = spec.dir;
    if (!dir || dir.includes('/') || dir.startsWith('.') || dir === 'MANIFEST.txt') fail(`bad dir for ${name}: ${dir}`);
    if (dirs.has(dir)) fail(`dir ${dir} used twice`);
    dirs.add(dir);
    pins.push({ name, version, integrity: locked.integrity || '', dir, files: spec.files || [] });
  }
  for (const name of Object.keys(deps)) if (!vendor[name]) fail(`dependency ${name} has no "vendor" entry`);
  return pins;
}

function parseManifest(file) {
  const entries = new Map();   // "dir/file" -> sha256
  const packages = new Map();  // name -> version
  let current = null;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    let m;
    if ((m = /^(\S+)@(\S+)\s/.exec(line + ' ')) && !line.startsWith(' ')) {
      current = m[1]; packages.set(m[1], m[2]);
    } else if ((m = /^\s+([0-9a-f]{64})\s+(\S+)/.exec(line)) && current) {
      entries.set(m[2], m[1]);
    } else {
      fail(`unparseable MANIFEST line: ${line}`);
    }
  }
  return { entries, packages };
}

function listFiles(dir, base = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, base), { withFileTypes: true })) {
    const rel = base ? base + '/' + e.name : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, rel)); else out.push(rel);
  }
  return out;
}

if (cmd === 'verify') {
  // Exit 0 if out_dir matches MANIFEST.txt and MANIFEST.txt matches the pins; 1 otherwise.
  const [pinsDir, outDir] = args;
  const pins = loadPins(pinsDir);
  const manifest = path.join(outDir, 'MANIFEST.txt');
  const problems = [];
  if (!fs.existsSync(manifest)) {
    problems.push('no MANIFEST.txt');
  } else {
    const { entries, packages } = parseManifest(manifest);
    for (const p of pins) {
      if (packages.get(p.name) !== p.version) {
        problems.push(`MANIFEST has ${p.name}@${packages.get(p.name) || '(none)'}, pinned ${p.version}`);
      }
      const dirPath = path.join(outDir, p.dir);
      const listed = [...entries.keys()].filter((k) => k.startsWith(p.dir + '/'));
      if (listed.length === 0) problems.push(`MANIFEST lists no files for ${p.name}`);
      if (fs.existsSync(dirPath)) {
        for (const f of listFiles(dirPath)) {
          if (!entries.has(p.dir + '/' + f)) problems.push(`unexpected file ${p.dir}/${f}`);
        }
      }
    }
    for (const name of packages.keys()) {
      if (!pins.some((p) => p.name === name)) problems.push(`MANIFEST lists ${name}, which is no longer pinned`);
    }
    for (const [rel, want] of entries) {
      const f = path.join(outDir, rel);
      if (!fs.existsSync(f)) { problems.push(`missing ${rel}`); continue; }
      if (sha256(f) !== want) problems.push(`sha256 mismatch ${rel}`);
    }
  }
  for (const p of problems) console.log('  - ' + p);
  process.exit(problems.length ? 1 : 0);
}

if (cmd === 'pins') {
  for (const p of loadPins(args[0])) console.log(`  ${p.name}@${p.version} -> static/vendor/${p.dir}/`);
  process.exit(0);
}

if (cmd === 'stage') {
  // Copy the listed files out of node_modules into stage_dir/<dir>/ and write stage_dir/MANIFEST.txt.
  const [pinsDir, nodeModules, stageDir] = args;
  const pins = loadPins(pinsDir);
  const lines = [
    '# static/vendor/MANIFEST.txt: generated by scripts/vendor_static.sh; do not edit by hand.',
    '# Pins: scripts/vendor/package.json + scripts/vendor/package-lock.json (npm registry).',
    '# <package>@<version>  <npm tarball integrity>',
    '#   <sha256>  <path under static/vendor/>  <- <path inside the npm package>',
    '',
  ];
  for (const p of pins) {
    const pkgDir = path.join(nodeModules, p.name);
    const installed = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
    if (installed !== p.version) fail(`npm installed ${p.name}@${installed}, pinned ${p.version}`);
    lines.push(`${p.name}@${p.version}  ${p.integrity}`.trimEnd());
    fs.mkdirSync(path.join(stageDir, p.dir), { recursive: true });
    for (const f of p.files) {
      const candidates = Array.isArray(f.from) ? f.from : [f.from];
      const from = candidates.find((c) => fs.existsSync(path.join(pkgDir, c)));
      if (!from) fail(`${p.name}@${p.version} has none of: ${candidates.join(', ')}`);
      const to = f.to || path.basename(from);
      const dest = path.join(stageDir, p.dir, to);
      fs.copyFileSync(path.join(pkgDir, from), dest);
      fs.chmodSync(dest, 0o644);
      lines.push(`  ${sha256(dest)}  ${p.dir}/${to}  <- ${from}`);
    }
    lines.push('');
  }
  fs.writeFileSync(path.join(stageDir, 'MANIFEST.txt'), lines.join('\n'));
  process.exit(0);
}

if (cmd === 'install') {
  // Replace each managed dir under out_dir with the staged one; report per-file changes.
  const [pinsDir, stageDir, outDir] = args;
  const pins = loadPins(pinsDir);
  fs.mkdirSync(outDir, { recursive: true });
  const old = fs.existsSync(path.join(outDir, 'MANIFEST.txt'))
    ? parseManifest(path.join(outDir, 'MANIFEST.txt')).entries : new Map();
  const fresh = parseManifest(path.join(stageDir, 'MANIFEST.txt')).entries;
  for (const [rel, hash] of fresh) {
    const prev = fs.existsSync(path.join(outDir, rel)) ? sha256(path.join(outDir, rel)) : null;
    const state = prev === null ? 'added' : prev === hash ? 'unchanged' : 'updated';
    const size = fs.statSync(path.join(stageDir, rel)).size;
    console.log(`  ${state.padEnd(9)} static/vendor/${rel} (${size} bytes)`);
  }
  for (const rel of old.keys()) if (!fresh.has(rel)) console.log(`  removed   static/vendor/${rel}`);
  for (const p of pins) {
    const target = path.join(outDir, p.dir);
    fs.rmSync(target, { recursive: true, force: true });
    fs.cpSync(path.join(stageDir, p.dir), target, { recursive: true });
  }
  // Dirs of packages that were unpinned since the last run (listed in the old manifest only).
  const managed = new Set(pins.map((p) => p.dir));
  for (const rel of old.keys()) {
    const d = rel.split('/')[0];
    if (!managed.has(d) && fs.existsSync(path.join(outDir, d))) {
      fs.rmSync(path.join(outDir, d), { recursive: true, force: true });
      managed.add(d);
    }
  }
  fs.copyFileSync(path.join(stageDir, 'MANIFEST.txt'), path.join(outDir, 'MANIFEST.txt'));
  for (const e of fs.readdirSync(outDir)) {
    if (e !== 'MANIFEST.txt' && !managed.has(e)) {
      console.log(`  note: static/vendor/${e} is not managed by this script (left alone)`);
    }
  }
  process.exit(0);
}

fail('unknown helper command ' + cmd);
JS

helper() { node -e "$HELPER" -- "$@"; }

if [[ "$mode" == "check" ]]; then
  log "checking static/vendor/ against MANIFEST.txt and scripts/vendor/package.json (offline)"
  if helper verify "$PINS_DIR" "$OUT_DIR"; then
    log "OK: static/vendor/ matches the manifest and the pins"
    exit 0
  fi
  die "static/vendor/ is out of date; run scripts/vendor_static.sh"
fi

command -v npm >/dev/null || die "npm is required"
log "pins (scripts/vendor/package.json + package-lock.json):"
helper pins "$PINS_DIR"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/vendor_static.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/npm" "$TMP/stage"
cp "$PINS_DIR/package.json" "$PINS_DIR/package-lock.json" "$TMP/npm/"

log "installing pinned packages in $TMP/npm (npm ci --ignore-scripts; lockfile integrity is enforced)"
if ! (cd "$TMP/npm" && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline \
        --loglevel=error --update-notifier=false >"$TMP/npm.log" 2>&1); then
  grep -v 'Unknown user config' "$TMP/npm.log" >&2 || true
  log "npm ci failed; checking whether static/vendor/ is already up to date"
  if helper verify "$PINS_DIR" "$OUT_DIR"; then
    log "WARNING: could not reach the npm registry, but static/vendor/ already matches the pins; nothing to do"
    exit 0
  fi
  die "npm ci failed and static/vendor/ does not match the pins"
fi

log "copying files into static/vendor/"
helper stage "$PINS_DIR" "$TMP/npm/node_modules" "$TMP/stage"
helper install "$PINS_DIR" "$TMP/stage" "$OUT_DIR"

helper verify "$PINS_DIR" "$OUT_DIR" || die "verification after copy failed"
log "wrote static/vendor/MANIFEST.txt:"
grep -v '^#' "$MANIFEST" | sed '/^$/d; s/^/  /'
log "done: $(du -sh "$OUT_DIR" | cut -f1) in static/vendor/"
