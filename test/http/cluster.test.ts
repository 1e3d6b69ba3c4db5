/**
 * Several server processes on one port (CARNET_WORKERS, PostgreSQL only), through the real
 * `carnet serve`: the workers share the port and the database (a holder's token minted once is
 * honoured by every worker, and requests on new connections reach more than one of them), a worker
 * that dies is started again while the others keep serving, SIGTERM stops them all, and SQLite
 * refuses to start with several workers.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../net.ts';
import { localPgAdminUrl, pgAnswers, scratchPgDatabase } from '../../src/store/testing.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CARNET = join(ROOT, 'bin', 'carnet.js');
const PG_ADMIN = localPgAdminUrl();
const INS = '279035121518989';
const OID = '1.2.250.1.213.1.4.10';

const cleanEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', ...extra };
  return env;
};

/** The pids of a process's children (Linux /proc). */
const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function start(env: NodeJS.ProcessEnv, port: number) {
  const child: ChildProcess = spawn(process.execPath, [CARNET, 'serve', '--host', '127.0.0.1', '--port', String(port), '--no-demo'], {
    cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

test('SQLite refuses several workers, with the reason', async () => {
  const data = mkdtempSync(join(tmpdir(), 'carnet-cluster-'));
  try {
    const port = await freePort();
    const s = start(cleanEnv({ CARNET_DATA: data, CARNET_WORKERS: '2' }), port);
    assert.equal(await s.exited, 1);
    assert.match(s.out(), /CARNET_WORKERS=2 needs PostgreSQL/);
    const bad = start(cleanEnv({ CARNET_DATA: data, CARNET_WORKERS: 'many' }), port);
    assert.notEqual(await bad.exited, 0);
    assert.match(bad.out(), /CARNET_WORKERS must be a whole number/);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('two workers on PostgreSQL', async (t) => {
  if (!(await pgAnswers(PG_ADMIN))) {
    t.skip(`no PostgreSQL answers at ${new URL(PG_ADMIN).host} (.ci/run has one): several workers need it`);
    return;
  }
  const scratch = await scratchPgDatabase(PG_ADMIN);
  const url = scratch.url;
  const data = mkdtempSync(join(tmpdir(), 'carnet-cluster-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = cleanEnv({ CARNET_DATA: data, DATABASE_URL: url, CARNET_WORKERS: '2', CARNET_BASE_URL: base });
  const server = start(env, port);
  try {
    await until('the workers to serve', () => /Carnet is serving on .*2 worker processes/.test(server.out()));
    const pid = server.child.pid!;
    const workers = await until('two workers', () => childrenOf(pid).length === 2 && childrenOf(pid));
    // the start-up lines are printed once, not once per worker
    assert.equal(server.out().match(/Carnet is serving on/g)?.length, 1);
    assert.ok(existsSync(join(data, 'signing-key.json')), 'the primary made the signing key before forking');

    // a record and a holder token, made by the CLI against the same database and key
    const cli = (...args: string[]) => spawnSync(process.execPath, [CARNET, ...args], { cwd: ROOT, env: cleanEnv({ CARNET_DATA: data, DATABASE_URL: url, CARNET_BASE_URL: base }), encoding: 'utf8' });
    const added = cli('patient', 'add', '--ins', INS, '--oid', OID, '--family', 'DUPONT', '--given', 'Jeanne', '--sex', 'F', '--birth-date', '1979-03-15', '--activate');
    assert.equal(added.status, 0, added.stderr);
    const minted = cli('token', '--as', `holder:${INS}`);
    assert.equal(minted.status, 0, minted.stderr);
    const token = minted.stdout.trim();

    // every request on a new connection: the primary hands connections round-robin to the workers
    const ask = () => fetch(`${base}/fhir/DocumentReference?patient.identifier=${encodeURIComponent(`urn:oid:${OID}|${INS}`)}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', connection: 'close' },
    });
    for (let i = 0; i < 12; i++) {
      const r = await ask();
      const body = await r.text();
      assert.equal(r.status, 200, body);
      assert.equal(JSON.parse(body).resourceType, 'Bundle');
    }
    const pids = new Set(server.out().split('\n').filter((l) => l.startsWith('{') && l.includes('/fhir/DocumentReference')).map((l) => JSON.parse(l).pid));
    assert.deepEqual([...pids].sort(), [...workers].sort(), 'both workers answered');

    // a worker killed: the other keeps serving, and a new one takes its place
    process.kill(workers[0], 'SIGKILL');
    // once the primary has seen the death (a connection handed over at that very moment is lost),
    // the other worker answers while the replacement starts
    await until('the primary to see the worker die', () => /Carnet worker 1 stopped \(SIGKILL\); starting it again/.test(server.out()));
    const r = await ask();
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    const renewed = await until('a new worker', () => {
      const now = childrenOf(pid);
      return now.length === 2 && !now.includes(workers[0]) && now;
    });
    assert.ok(renewed.includes(workers[1]));
    await until('the new worker to serve', async () => {
      for (let i = 0; i < 6; i++) await (await ask()).arrayBuffer();
      const last = server.out().split('\n').filter((l) => l.startsWith('{') && l.includes('/fhir/DocumentReference')).map((l) => JSON.parse(l).pid);
      return last.includes(renewed.find((p) => p !== workers[1]));
    });

    // SIGTERM stops everything
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    for (const w of renewed) assert.ok(!existsSync(`/proc/${w}`) || /\bZ\b/.test(readFileSync(`/proc/${w}/stat`, 'utf8').split(' ')[2]), `worker ${w} stopped`);
  } finally {
    if (server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    rmSync(data, { recursive: true, force: true });
    await scratch.drop();
  }
});
