#!/usr/bin/env node
// `npm start` runs this first: builds the portal (web/dist) when it is missing or older than its
// sources, so that `npm install && npm start` works on a fresh machine.
import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const web = import.meta.dirname;
const index = join(web, 'dist', 'index.html');

function newest(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = 0;
  for (const name of readdirSync(p)) m = Math.max(m, newest(join(p, name)));
  return m;
}

const sources = ['src', 'public', 'index.html', 'vite.config.ts'].map((f) => join(web, f)).filter(existsSync);
const fresh = () => existsSync(index) && statSync(index).mtimeMs >= Math.max(...sources.map(newest));
const force = process.argv.includes('--force');
if (!force && fresh()) process.exit(0);

// one build at a time (test files run in parallel may all ask for it): the others wait for it
const lock = join(web, '.build.lock');
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
for (;;) {
  try {
    closeSync(openSync(lock, 'wx'));
    break;
  } catch {
    // a lock older than 2 minutes is a crashed build's
    if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { force: true });
    sleep(200);
  }
}
try {
  if (force || !fresh()) build();
} finally {
  rmSync(lock, { force: true });
}

function build() {
  console.log(existsSync(index) ? 'portal sources changed: building web/dist…' : 'building the portal (web/dist)…');
  const r = spawnSync(process.execPath, [join(web, '..', 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(web, 'vite.config.ts'), '--logLevel', 'warn'], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
