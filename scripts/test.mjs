#!/usr/bin/env node
// Runs the test files with Node's own test runner (TypeScript through tsx).
//   node scripts/test.mjs                 every *.test.ts under src/ and test/
//   node scripts/test.mjs --suite store   only the store, audit and service suites (the ones
//                                         .ci/run replays on PostgreSQL with DATABASE_URL set)
//   node scripts/test.mjs path/a.test.ts  the named files
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const suiteIdx = args.indexOf('--suite');
const suite = suiteIdx >= 0 ? args[suiteIdx + 1] : undefined;
const named = args.filter((a, i) => !a.startsWith('--') && (suiteIdx < 0 || i !== suiteIdx + 1));

/** Folders whose tests talk to the database: they run on both engines. */
const STORE_SUITES = ['src/store', 'src/audit', 'src/services', 'src/crypto'];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

let files;
if (named.length) files = named;
else {
  const dirs = suite === 'store' ? STORE_SUITES : ['src', 'test'];
  files = dirs.flatMap((d) => { try { return walk(join(root, d), []); } catch { return []; } }).sort();
}
if (!files.length) { console.error('no test files found'); process.exit(1); }

const engine = process.env.DATABASE_URL ? 'postgresql' : 'sqlite';
console.log(`# carnet tests: ${files.length} files, engine ${engine}`);
const r = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=2', ...files,
], { stdio: 'inherit', cwd: root, env: { ...process.env, CARNET_TEST_ENGINE: engine } });
process.exit(r.status ?? 1);
